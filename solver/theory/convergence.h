// The global convergence time of SGD (Azizian, Iutzeler, Malick and Mertikopoulos, ICML 2025;
// THEORY.md section 10): for SGD started at x, the expected number of steps to come within delta of
// argmin f satisfies exp((E(x) - eps) / eta) <= E_x tau <= exp((E(x) + eps) / eta) for small eta
// and delta, with
//
//   E(x) = max_{i not in K_0} [E(i) - B0(x, i)]_+,
//
// K_0 = argmin f (the global minimizers, not the ground states), B0 the restricted costs (routes
// that do not pass through K_0 before they arrive; transition_costs.h, point_costs.h) and E(i) the
// exponent of the mean hitting time of K_0 from K_i on the chain of restricted costs
// (graph/hitting_times.h). E(x) is not the depth of x's own well: SGD may first fall into a deeper
// well that it must then climb out of (docs/CONVERGENCE.md).
#ifndef LDSGD_SOLVER_THEORY_CONVERGENCE_H_
#define LDSGD_SOLVER_THEORY_CONVERGENCE_H_

#include <string>
#include <vector>

#include <Eigen/Core>
#include <nlohmann/json.hpp>

#include "graph/hitting_times.h"
#include "solver/action/point_costs.h"
#include "solver/action/transition_costs.h"
#include "solver/io/status.h"
#include "solver/landscape/critical_points.h"
#include "solver/problem/problem.h"

namespace ldsgd {

// delta by default: this fraction of the distance from K_0 to the nearest other component (the
// neighbourhood must hold the bottom of the global well and nothing else).
inline constexpr double kDeltaFraction = 0.1;

struct ConvergenceOptions {
  double delta = 0.0;  // the radius of the neighbourhood of argmin f; 0: kDeltaFraction of the gap
  TransitionCostSolver::Options costs;  // the direct paths from the starts (as the analysis')
  int num_threads = 0;                  // 0 = all cores; results do not depend on it
  Status Validate() const;
};

struct ConvergenceStart {
  Eigen::VectorXd point;
  PointCosts costs;       // flows_to, V(x, k), B0(x, i) (pruned: exact where they attain E(x))
  bool arrived = false;   // within delta of argmin f already: tau = 0
  double exponent = 0.0;  // E(x)
  int dominant = -1;      // the component whose term attains E(x) > 0 (the well that holds SGD up)
};

struct ConvergenceReport {
  std::vector<int> global_minima;   // K_0
  double delta = 0.0;
  Eigen::MatrixXd restricted;       // B0_ij
  HittingExponents exponents;       // E(i), E_0, E(i -/-> K_0)
  std::vector<ConvergenceStart> starts;
  Status status;
};

// `costs` must come from TransitionCostSolver with Options::restricted on `components`; the starts
// must be finite points of the problem's dimension (checked by the caller against the box).
ConvergenceReport AnalyzeConvergence(const Problem& problem, const std::vector<CriticalComponent>& components,
                                     const TransitionCosts& costs, const std::vector<Eigen::VectorXd>& starts,
                                     const ConvergenceOptions& options);

// `count` starts spread over the problem's box (the Kronecker sequence, low_discrepancy.h).
std::vector<Eigen::VectorXd> BoxStarts(const Problem& problem, int count);

// Empty when x is a start of the problem (its dimension, finite, inside the box); else why not.
std::string CheckStart(const Problem& problem, const Eigen::VectorXd& x);

// The starts of a CSV file whose columns are the problem's variables (any order, others ignored);
// throws InputError naming the file, the row and the column.
std::vector<Eigen::VectorXd> ReadStarts(const Problem& problem, const std::string& path);

// The distance from x to the nearest point of K_0.
double DistanceToGlobalMinima(const std::vector<CriticalComponent>& components, const std::vector<int>& global_minima,
                              const Eigen::VectorXd& x);

// convergence.json's body: {"global_minima", "delta", "restricted_costs" (null = +inf),
// "E_components" (E(i), 0 on K_0), "E_tree", "E_forest", "starts": [{"point", "flows_to", "E",
// "dominant" (null when E = 0), "arrived"}], "summary": {"starts",
// "fraction_zero", "E_quantiles" ([min, 25%, median, 75%, max])}}.
nlohmann::json ToJson(const ConvergenceReport& report);

}  // namespace ldsgd

#endif  // LDSGD_SOLVER_THEORY_CONVERGENCE_H_
