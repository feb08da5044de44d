// The checks of `verify` at small step sizes, where direct simulation never sees a transition
// (THEORY.md section 11, docs/VERIFICATION.md "Rare-event checks"): transition rates measured by
// adaptive multilevel splitting (rates.h) at three step sizes with B/eta from kRareMinRatio to
// twice that, where the leading order is accurate:
//  - exit~[i]: the slope of ln(eta x mean exit time from U_i) against 1/eta, predicted min_j B_ij;
//  - rate~[i->j] for the optimal trees' edges out of minima: the slope of -ln(rate of the embedded
//    chain of visits, per unit time) against 1/eta, predicted B_ij;
//  - energy~[i]: the energies rebuilt from those slopes (the tree formula on the measured costs),
//    predicted E_i - E_ground, when every edge was measured.
// Splitting resolves a rare event only as a product of conditional probabilities each above
// about 1/N; in discrete time a step that climbs against the drift at x needs a noise of
// g(x) = (grad f . t) / sqrt(t^T Sigma t) standard deviations along the path's tangent t, an
// event of probability Phi(-g) whatever eta is. For isotropic Gaussian noise and finite sums the
// splitting is importance-sampled (kRareTilt, lane_stepper.h): the noise mean follows the reversed
// gradient flow along the path, or the sample indices are drawn from the finite sum's exponential
// tilt, which makes climbing as likely as falling. For other noise (anisotropic or state-dependent
// covariances), where g exceeds kMaxUphillSigmas on the path the check is inconclusive and says
// so, instead of running a sampler that cannot converge.
#ifndef LDSGD_SOLVER_THEORY_RARE_EVENT_CHECKS_H_
#define LDSGD_SOLVER_THEORY_RARE_EVENT_CHECKS_H_

#include <cstdint>
#include <utility>
#include <vector>

#include <Eigen/Core>

#include "solver/action/transition_costs.h"
#include "solver/landscape/critical_points.h"
#include "solver/problem/problem.h"
#include "solver/theory/verifier.h"

namespace ldsgd {

// B/eta at the largest step size of a rare-event check; the smallest is at twice this. The measured
// slopes on THEORY.md cases 1 and 6 (docs/VERIFICATION.md) are within 1% of B from here on, and
// splitting costs grow like (B/eta)^2, so larger ratios buy little accuracy for much time.
inline constexpr double kRareMinRatio = 50.0;
// eta lambda at the largest step size, lambda over the components the path joins: the discrete
// chain is close to its small-eta limit (its exponent's second-order term is O((eta lambda)^2)).
inline constexpr double kRareDiscrete = 0.25;
// Uphill steps of more noise standard deviations than this are beyond splitting (header comment).
inline constexpr double kMaxUphillSigmas = 3.0;
// The importance-sampling tilt for isotropic Gaussian noise: the full reversal along the path.
inline constexpr double kRareTilt = 1.0;
// Allowance on a slope, per unit of the largest step size: the exponent of the rate carries
// next-order terms a + b eta + c eta^2 (prefactor, discrete corrections), whose effect on a slope
// over [eta_max / 2, eta_max] is below b eta_max / 2 + ...; measured |shift| <= 2 eta on cases 1
// and 6 at B/eta >= 25 (docs/VERIFICATION.md), allowed with a margin of 1.5.
inline constexpr double kRareSlopeAllowance = 3.0;
// Plus this fraction of B: at B/eta of 1e4 to 1e6 (steep landscapes, where eta lambda <= 1/4 forces
// tiny steps) the second-order terms of the discrete chain's exponent still shift slopes by up to
// 7e-4 B (Mueller-Brown's exit of B, docs/VERIFICATION.md), far above 3 eta_max there.
inline constexpr double kRareRelativeAllowance = 1e-3;

struct RareEventCheckOptions {
  double budget_seconds = 60.0;
  std::uint64_t seed = 0;
  int num_threads = 0;
  int replicas = 100;
  int runs = 16;
  bool progress = false;
};

// Weighted least squares slope of y on x and its standard error (weights 1 / se^2).
std::pair<double, double> WeightedSlope(const std::vector<double>& x, const std::vector<double>& y,
                                        const std::vector<double>& se);

// `paths` from the analysis of the same components (the reaction coordinates); `costs` and
// `energies` are the predictions checked (possibly scaled); `minima`: whose exits to check.
std::vector<VerifyCheck> RareEventChecks(const Problem& problem, const std::vector<CriticalComponent>& components,
                                         const TransitionCosts& paths, const Eigen::MatrixXd& costs,
                                         const Eigen::VectorXd& energies, const std::vector<int>& minima,
                                         const RareEventCheckOptions& options);

// The largest g(x) (header comment) over the path's nodes, for the problem's noise.
double UphillSigmas(const Problem& problem, const Eigen::MatrixXd& nodes);

}  // namespace ldsgd

#endif  // LDSGD_SOLVER_THEORY_RARE_EVENT_CHECKS_H_
