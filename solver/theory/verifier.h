// Verification of the large-deviation predictions by simulation of SGD itself (THEORY.md sections
// 6 and 7, docs/VERIFICATION.md): at three or more step sizes, the occupations of the minima's
// neighbourhoods and their exit times against the energies and the exit costs, with 95% intervals
// from batch means over chains. The chains are extended in rounds (SimulationRun: identical to one
// long run) until every check has the transitions it needs or the time budget is spent.
//
// Checks, each "pass", "fail", "inconclusive" or "skipped" (outside its regime), each judged with
// an allowance for finite-eta corrections that follows from where it is measured (B/eta):
//  - arrhenius[i]: the slope of log(mu_i / mu_ground) against 1/eta, predicted -(E_i - E_ground);
//  - laplace[i] @ eta (isotropic Gaussian noise): the mass of the basin of attraction of minimum i
//    among the minima (states classified every BasinInterval steps, basins.h), predicted by the
//    Laplace-corrected formula; applied only where its expansion holds;
//  - exit[i]: the slope of log(mean exit time from U_i) against 1/eta, predicted min_j B_ij;
//  - reference[i] @ eta (d <= 2): the simulated basin mass against the exact stationary law of the
//    chain on a grid (grid_reference.h): a check of the simulation itself;
//  - collapse[i] @ eta (vanishing noise, collapse_check.h).
// A check is inconclusive, never "pass", when the chains did not mix: fewer than
// target_transitions transitions out of a neighbourhood it uses at some step size, an empty
// neighbourhood in some batch, or diverged chains; it then says how long it would need.
#ifndef LDSGD_SOLVER_THEORY_VERIFIER_H_
#define LDSGD_SOLVER_THEORY_VERIFIER_H_

#include <array>
#include <cstdint>
#include <limits>
#include <string>
#include <utility>
#include <vector>

#include <Eigen/Core>

#include "solver/io/enum_names.h"
#include "solver/io/status.h"
#include "solver/action/transition_costs.h"
#include "solver/theory/assumptions.h"
#include "solver/landscape/critical_points.h"
#include "solver/theory/predictions.h"
#include "solver/problem/problem.h"
#include "solver/simulation/simulator.h"
#include "solver/theory/grid_reference.h"

namespace ldsgd {

struct VerifyOptions {
  // Step sizes to keep (the user's or the problem file's); fewer than 3 are completed by the plan
  // (verify_plan.h), none = all chosen so that the needed transitions fit the budget.
  std::vector<double> step_sizes;
  // Wall-clock budget of the simulations, in seconds. The default, 2 minutes, is what a user
  // waits for an answer on the project machine (2 cores): 1e10 steps of a 1-D problem, enough to
  // see 200 transitions over a barrier of B/eta ~ 14 at three step sizes.
  double budget_seconds = 120.0;
  // Transitions out of every minimum a check uses, at every step size, before it is judged: 200
  // give an exit-time slope a relative standard error of about sqrt(2/200) / 3 (the plan's lever
  // of 3 e-folds), small enough next to the allowance for a 30% error to fail.
  long target_transitions = 200;
  // Experts: a fixed number of steps per chain (one round, no budget) and its burn-in
  // (-1: a tenth of the steps). 0 = rounds until the checks are decided or the budget is spent.
  long steps = 0;
  long burn_in = -1;
  int chains = 64;
  std::uint64_t seed = 0;
  int num_threads = 0;
  // Chains are grouped into this many batches; the spread of the batch estimates gives the 95%
  // interval (Student t with batches - 1 degrees of freedom).
  int batches = 16;
  // Compare with the exact stationary law of the chain on a grid (d <= 2, grid_reference.h).
  bool grid_reference = true;
  bool progress = false;
  Status Validate() const;
};

// The outcome of one check, and of a whole verification. "skipped": the check's prediction does
// not hold where it could be measured (outside its regime); it counts neither way.
enum class Verdict { kPass, kFail, kInconclusive, kSkipped };
template <>
struct EnumNames<Verdict> {
  static constexpr std::array<std::pair<Verdict, const char*>, 4> kNames = {{
      {Verdict::kPass, "pass"},
      {Verdict::kFail, "fail"},
      {Verdict::kInconclusive, "inconclusive"},
      {Verdict::kSkipped, "skipped"},
  }};
};

struct VerifyCheck {
  std::string name;
  double predicted = 0.0, measured = 0.0;
  double lower = 0.0, upper = 0.0;  // 95% interval of the measurement
  Verdict verdict = Verdict::kInconclusive;
  // Where the prediction holds and what that allows (docs/VERIFICATION.md): e.g. "leading order,
  // B/eta = 4.1 to 6.4: allowance 0.031".
  std::string regime;
  double allowance = 0.0;   // for finite-eta corrections, added to the 95% half-width
  long transitions = -1;    // fewest transitions out of a neighbourhood it uses, at a step size
  double steps = 0.0;       // SGD steps simulated for it (all chains and step sizes it uses)
  // Inconclusive for want of transitions: the steps per chain it would need (0 otherwise), and
  // the wall time that takes at the measured rate.
  double needed_steps_per_chain = 0.0;
  double needed_seconds = 0.0;
  std::string detail;  // why, in words a user can act on
  // "direct" (simulation of SGD as it runs) or "rare-event" (splitting, rare_event_checks.h).
  std::string method = "direct";
};

// At one step size (d <= 2): the exact basin masses of the minima from the grid reference, the
// leading-order masses (exp(-E_i/eta) normalized over the minima) and the Laplace masses, and the
// largest |predicted - exact| of each: the theory's own error, measured.
struct TheoryError {
  double step_size = 0.0;
  std::vector<int> minima;
  std::vector<double> exact, leading_order, laplace;  // laplace empty without Laplace masses
  double leading_order_error = 0.0, laplace_error = 0.0;
};

struct VerifyReport {
  std::vector<double> step_sizes;
  std::vector<bool> chosen_step_sizes;  // per step size: chosen by the plan
  bool automatic_step_sizes = false;    // all chosen
  std::vector<SimulationResult> simulations;  // one per step size
  std::vector<GridReference> references;      // per step size (d <= 2 with two minima or more)
  std::vector<TheoryError> theory_errors;     // per step size with a converged reference
  std::vector<VerifyCheck> checks;
  // The static assumption checks (assumptions.h), then one no_divergence check per step size.
  AssumptionReport assumptions;
  // "fail" if any check fails, else "inconclusive" if any is, if none was decided, or if an
  // assumption the predictions need fails (a passing comparison then proves nothing), else "pass".
  Verdict verdict = Verdict::kInconclusive;
  std::string verdict_reason;  // why inconclusive when the checks alone would pass
  Status status;  // kInvalidOptions, or the simulator's failure: then nothing else is set
  // How the run went (not in verify.json, which depends only on what was simulated).
  int rounds = 0;
  std::string ended_by;  // "decided", "budget" or "steps"
  double seconds = 0.0, steps_per_second = 0.0;
  double reference_seconds = 0.0, simulation_seconds = 0.0, rare_event_seconds = 0.0;
};

// `relative_energies` and `costs` come from the analysis of the same components (the predictions
// checked). With `paths` (the analysis' transition costs and minimum-action paths), the exits and
// tree edges that direct simulation cannot decide are measured by splitting at small step sizes
// (rare_event_checks.h), in the part of the budget the direct rounds leave (at least kRareShare
// of it when the plan says direct simulation cannot reach every exit).
VerifyReport Verify(const Problem& problem, const std::vector<CriticalComponent>& components,
                    const Eigen::MatrixXd& costs, const Eigen::VectorXd& relative_energies,
                    const VerifyOptions& options, const TransitionCosts* paths = nullptr);

// The regimes (docs/VERIFICATION.md "Regimes"). A leading-order slope is measured between step
// sizes where log(observable) = -E/eta + A(eta), A the log of the subexponential prefactor; the
// fitted slope against 1/eta is off by -dA/d(1/eta) = eta^2 A'(eta), about p eta for a prefactor
// ~ eta^p. Hence an absolute allowance (kPrefactorPower + a) eta_max, a = half the dimension gap of
// degenerate components; with it a 30% error in a quantity P is still a fail once P/eta >~ 4.
// kPrefactorPower is 1.3 times the largest deviation measured on the problems in data/
// (docs/VERIFICATION.md: at most 0.58 eta_max, statistical error included).
// Below kMetastable the wells are not metastable (an exit takes a few relaxation times): no check.
inline constexpr double kMetastable = 3.0;
inline constexpr double kPrefactorPower = 0.75;
// eta lambda_max above this (half the stability bound): the chain's variance near a minimum is
// more than twice Langevin's and the corrections to the exponent, O((eta lambda)^2) along the
// path, are not small (the ring: exit slope 3.17 against 2 at eta lambda_max = 1.1 to 1.4).
inline constexpr double kDiscreteRegime = 1.0;
// Checks judged at once fail, when every prediction is right, with at most this probability
// (Bonferroni over the checks).
inline constexpr double kFamilyRisk = 0.01;

// The share of the budget kept for rare-event checks when direct simulation cannot reach them.
inline constexpr double kRareShare = 0.6;

// Recorded steps between basin classifications at step size eta: ten relaxation times of the
// flattest well, 1 / (eta lambda_min) each.
long BasinInterval(const std::vector<CriticalComponent>& components, double eta);

// The overall verdict: fail if a check fails; else inconclusive if there is no check, if one is
// inconclusive, or if the first `energy_checks` checks (energies, exits: large-deviation
// predictions) exist while an assumption they need fails (then *reason says which); else pass.
Verdict OverallVerdict(const std::vector<VerifyCheck>& checks, std::size_t energy_checks,
                       const AssumptionReport& assumptions, std::string* reason);

// Two-sided 95% quantile of Student's t with `dof` degrees of freedom.
double StudentT95(int dof);
// Mean and 95% half-width (Student t) of batch values; NaN for fewer than two.
struct Interval {
  double mean = std::numeric_limits<double>::quiet_NaN(), half = mean;
};
Interval BatchInterval(const std::vector<double>& v);

}  // namespace ldsgd

#endif  // LDSGD_SOLVER_THEORY_VERIFIER_H_
