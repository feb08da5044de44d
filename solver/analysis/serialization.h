// JSON forms of solver results, shared by every command and export (one spelling everywhere).
#ifndef LDSGD_SOLVER_ANALYSIS_SERIALIZATION_H_
#define LDSGD_SOLVER_ANALYSIS_SERIALIZATION_H_

#include <vector>

#include <Eigen/Core>
#include <nlohmann/json.hpp>

#include "solver/theory/assumptions.h"
#include "solver/theory/predictions.h"
#include "solver/landscape/critical_points.h"
#include "solver/action/transition_costs.h"

namespace ldsgd {

nlohmann::json ToJson(const Eigen::VectorXd& v);
// {"id", "type", "index", "point", "f", "hessian_eigenvalues", "size", "isolated",
//  "touches_boundary"}; non-isolated components also list their sampled "points".
nlohmann::json ToJson(const CriticalComponent& c);
nlohmann::json ToJson(const std::vector<CriticalComponent>& components);

// A number, or null for +infinity (JSON has no infinity; null = +inf throughout ldsgd's files).
nlohmann::json NumberOrNull(double v);
// A vector of NumberOrNull.
nlohmann::json VectorOrNulls(const Eigen::VectorXd& v);
// {"stability_bound", "step_sizes": [{"step_size", "stable", "log_weights", "weights",
//  "laplace_masses" (isotropic noise)}], "notes"}.
nlohmann::json ToJson(const Predictions& predictions);
// {"costs": [[..]] (null = +inf), "paths": [{"from", "to", "action", "error_estimate", "method",
//  "route", "nodes"}]}; add "components" separately.
nlohmann::json ToJson(const TransitionCosts& costs);
// [{"name", "holds", "where", "detail", "affects_predictions"}] (report.json's "assumptions").
nlohmann::json ToJson(const AssumptionReport& report);
// One path as CSV: a header "s,VAR1,VAR2,..." (s = arc length from the start), then the nodes.
std::string PathCsv(const TransitionPath& path, const std::vector<std::string>& variables);

}  // namespace ldsgd

#endif  // LDSGD_SOLVER_ANALYSIS_SERIALIZATION_H_
