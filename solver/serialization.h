// JSON forms of solver results, shared by every command and export (one spelling everywhere).
#ifndef LDSGD_SOLVER_SERIALIZATION_H_
#define LDSGD_SOLVER_SERIALIZATION_H_

#include <vector>

#include <Eigen/Core>
#include <nlohmann/json.hpp>

#include "solver/critical_points.h"

namespace ldsgd {

nlohmann::json ToJson(const Eigen::VectorXd& v);
// {"id", "type", "index", "point", "f", "hessian_eigenvalues", "size", "isolated",
//  "touches_boundary"}; non-isolated components also list their sampled "points".
nlohmann::json ToJson(const CriticalComponent& c);
nlohmann::json ToJson(const std::vector<CriticalComponent>& components);

}  // namespace ldsgd

#endif  // LDSGD_SOLVER_SERIALIZATION_H_
