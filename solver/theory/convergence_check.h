// `ldsgd convergence --verify`: the predicted exponent E(x) of the mean time to reach argmin f
// (convergence.h) against simulations of SGD itself, per start x: the slope of log(eta E_x tau)
// against 1/eta at three step sizes (THEORY.md section 10: log(eta E_x tau) = E(x)/eta + A(eta),
// A the log of a subexponential prefactor).
//
// - Direct: chains from x until they come within delta of argmin f (hitting_times.h), at step
//   sizes where E(x)/eta is at least kMetastable (the leading order's regime, verifier.cc) and
//   eta lambda_max <= 1 at the minima, spread for kLeverEFolds e-folds of the mean time.
// - Rare-event, where direct simulation cannot reach that regime in the budget: when the dominant
//   term is the well x falls into, d, and E(x) = E(d) = min_j B_dj (its cheapest exit is the
//   bottleneck; tilted double well, three-hump camel), E_x tau and the exit time of K_d share their
//   exponent, and the exit time is measured by splitting at B/eta = 50 to 100
//   (rare_event_checks.h). Otherwise the check is inconclusive and says what it would need.
//
// The verdict, as verify's: pass iff |slope - E(x)| <= the 95% half-width widened family-wise
// over the starts + the regime's allowance.
#ifndef LDSGD_SOLVER_THEORY_CONVERGENCE_CHECK_H_
#define LDSGD_SOLVER_THEORY_CONVERGENCE_CHECK_H_

#include <cstdint>
#include <vector>

#include "solver/theory/convergence.h"
#include "solver/theory/verifier.h"

namespace ldsgd {

// e-folds of the mean hitting time between the hottest and the coldest step size.
inline constexpr double kConvergenceLeverEFolds = 3.0;

struct ConvergenceCheckOptions {
  double budget_seconds = 120.0;
  int chains = 256;
  std::uint64_t seed = 0;
  int num_threads = 0;
  bool progress = false;
  Status Validate() const;
};

// One check per start, named "convergence[k]", method "direct" or "rare-event". `paths` are the
// analysis' transition costs with the restricted ones (convergence.h).
std::vector<VerifyCheck> ConvergenceChecks(const Problem& problem, const std::vector<CriticalComponent>& components,
                                           const TransitionCosts& paths, const ConvergenceReport& report,
                                           const ConvergenceCheckOptions& options);

}  // namespace ldsgd

#endif  // LDSGD_SOLVER_THEORY_CONVERGENCE_CHECK_H_
