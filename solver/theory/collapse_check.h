// The verification where the noise vanishes (THEORY.md section 8, docs/VERIFICATION.md "Collapse"):
// at a critical point x* where every sample gradient vanishes, the energies do not apply; the
// prediction is the sign of the top Lyapunov exponent Lam (stability.h). Chains started within r0
// of x* either collapse onto it (Lam < 0: the fraction within `tolerance` of x* tends to 1) or
// leave (Lam > 0: it stays near 0).
//
// The horizon follows from the prediction: log|x_t - x*| is a random walk with drift Lam and
// per-step spread s, so a chain collapses by step T with probability Phi((|Lam_w| T - D)/(s sqrt T)),
// D = log(r0 / tolerance), Lam_w the weakest contraction in Lam's interval. T is the first horizon
// where that is >= 0.99 for every chain; then at least 90% of >= 500 chains collapse unless the
// prediction is wrong (a correct prediction fails with probability < 1e-10).
#ifndef LDSGD_SOLVER_THEORY_COLLAPSE_CHECK_H_
#define LDSGD_SOLVER_THEORY_COLLAPSE_CHECK_H_

#include <cstdint>
#include <vector>

#include "solver/landscape/critical_points.h"
#include "solver/problem/problem.h"
#include "solver/theory/lyapunov.h"

namespace ldsgd {

struct VerifyCheck;

struct CollapseOptions {
  std::uint64_t seed = 0;
  int num_threads = 0;
  int chains = 2000;
  double budget_steps = 4e9;  // SGD steps over all chains and step sizes at most
};

// Steps after which a chain started at distance r0 = exp(D) * tolerance is within tolerance of x*
// with probability >= 0.99, for a walk of drift lam_weak < 0 and per-step spread `spread`.
long CollapseHorizon(double lam_weak, double spread, double D);

// Per-step spread of log|d_t| for the linearized chain: from the Monte Carlo replicas when Lam was
// estimated (their spread times sqrt(steps)), else Popoviciu's bound (max - min)/2 over the
// one-step log-growths along the exact directions.
double LogGrowthSpread(const LyapunovResult& lyapunov, const std::vector<Eigen::MatrixXd>& hessians, double eta);

// collapse[i] @ eta for every vanishing-noise component and step size (none for other noise).
std::vector<VerifyCheck> CollapseChecks(const Problem& problem, const std::vector<CriticalComponent>& components,
                                        const std::vector<double>& step_sizes, const CollapseOptions& options);

}  // namespace ldsgd

#endif  // LDSGD_SOLVER_THEORY_COLLAPSE_CHECK_H_
