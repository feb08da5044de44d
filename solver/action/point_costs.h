// Restricted costs from an arbitrary point (THEORY.md section 10): B0(x, i), the least action of
// a path from the start x to K_i that does not pass through the global minima K_0 before it
// arrives. The mean time for SGD started at x to reach argmin f has exponent
// E(x) = max_{i not in K_0} [E(i) - B0(x, i)]_+ (solver/theory/convergence.h).
//
// B0(x, i) = min over first stops k not in K_0 of [V(x, k) + B0_ki], with V(x, k) the direct
// minimum action from x to K_k: 0 for the component the gradient flow from x reaches, else the
// string method from x (straight and through each saddle within the detour factor, refined like
// the analysis' direct pairs). A refined path that runs through another component is not direct
// (its value is that of the route through it, which the minimum over k finds; through K_0 it is
// not allowed at all), as in transition_costs.h.
#ifndef LDSGD_SOLVER_ACTION_POINT_COSTS_H_
#define LDSGD_SOLVER_ACTION_POINT_COSTS_H_

#include <vector>

#include <Eigen/Core>

#include "solver/action/transition_costs.h"
#include "solver/io/status.h"

namespace ldsgd {

struct PointCosts {
  // The component the gradient flow from x ends at (a minimum), or the component x sits on
  // (within kAtComponent of its point); -1 when the flow stalls elsewhere.
  int flows_to = -1;
  Eigen::VectorXd direct;      // V(x, k); +inf for K_0 and where no direct path was found
  Eigen::VectorXd restricted;  // B0(x, i); +inf for i in K_0
  int solved = 0;              // direct minimizations run
  Status status;
};

// A start this close to a component's point (relative to 1 + |point|) sits on it.
inline constexpr double kAtComponent = 1e-9;

// `costs` must come from a TransitionCostSolver run with Options::restricted on `components`.
// With `gain` (gain[k] = max_i [E(i) - B0_ki]_+, what reaching K_k can add to E(x)), only the
// direct costs that can change max_k [gain[k] - V(x, k)] = E(x) are solved, largest gain first: a
// k whose gain is at most the best term so far cannot raise it (V >= 0), and its V stays +inf.
// E(x) is exact either way; `restricted` is then exact only where it attains E(x).
PointCosts ComputePointCosts(const Problem& problem, const std::vector<CriticalComponent>& components,
                             const TransitionCosts& costs, const Eigen::VectorXd& x,
                             const TransitionCostSolver::Options& options, const Eigen::VectorXd* gain = nullptr);

}  // namespace ldsgd

#endif  // LDSGD_SOLVER_ACTION_POINT_COSTS_H_
