// Verification of the large-deviation predictions by simulation of SGD itself (THEORY.md sections
// 6 and 7): at several step sizes, the occupations of the minima's neighbourhoods and their exit
// times against the energies and the exit costs, with 95% intervals from batch means over chains.
//
// Checks, each "pass", "fail" or "inconclusive":
//  - arrhenius[i]: the slope of log(mu_i / mu_ground) against 1/eta, predicted -(E_i - E_ground);
//  - laplace[i] @ eta (isotropic Gaussian noise): the mass of the basin of attraction of minimum i
//    among the minima (states classified every BasinInterval steps, basins.h), predicted by the
//    Laplace-corrected formula;
//  - exit[i]: the slope of log(mean exit time from U_i) against 1/eta, predicted min_j B_ij.
// A check is inconclusive, never "pass", when the chains did not mix: fewer than
// min_transitions transitions out of a neighbourhood it uses at some step size, an empty
// neighbourhood in some batch, or diverged chains.
#ifndef LDSGD_SOLVER_THEORY_VERIFIER_H_
#define LDSGD_SOLVER_THEORY_VERIFIER_H_

#include <array>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include <Eigen/Core>

#include "solver/io/enum_names.h"
#include "solver/io/status.h"
#include "solver/theory/assumptions.h"
#include "solver/landscape/critical_points.h"
#include "solver/theory/predictions.h"
#include "solver/problem/problem.h"
#include "solver/simulation/simulator.h"

namespace ldsgd {

struct VerifyOptions {
  // Step sizes; empty = automatic (at least 3, below half the stability bound 2/lambda_max and
  // large enough that the highest exit barrier of the minima is crossed ~min_transitions * 20 times
  // per chain budget).
  std::vector<double> step_sizes;
  long steps = 200000;   // per chain, burn-in included
  long burn_in = 20000;
  int chains = 64;
  std::uint64_t seed = 0;
  int num_threads = 0;
  // Chains are grouped into this many batches; the spread of the batch estimates gives the 95%
  // interval (Student t with batches - 1 degrees of freedom).
  int batches = 16;
  // A neighbourhood must be left at least this many times at every step size for checks using it.
  long min_transitions = 50;
  // Finite-eta corrections the leading-order theory does not describe, allowed on top of the
  // statistical interval: relative to the prediction. 10% keeps a 30% error in the energies a fail.
  double model_tolerance = 0.10;
  bool progress = false;
};

// The outcome of one check, and of a whole verification.
enum class Verdict { kPass, kFail, kInconclusive };
template <>
struct EnumNames<Verdict> {
  static constexpr std::array<std::pair<Verdict, const char*>, 3> kNames = {{
      {Verdict::kPass, "pass"},
      {Verdict::kFail, "fail"},
      {Verdict::kInconclusive, "inconclusive"},
  }};
};

struct VerifyCheck {
  std::string name;
  double predicted = 0.0, measured = 0.0;
  double lower = 0.0, upper = 0.0;  // 95% interval of the measurement
  Verdict verdict = Verdict::kInconclusive;
  std::string detail;               // why, in words
};

struct VerifyReport {
  std::vector<double> step_sizes;
  bool automatic_step_sizes = false;
  std::vector<SimulationResult> simulations;  // one per step size
  std::vector<VerifyCheck> checks;
  // The static assumption checks (assumptions.h), then one no_divergence check per step size.
  AssumptionReport assumptions;
  // "fail" if any check fails, else "inconclusive" if any is or if an assumption the predictions
  // need fails (a passing comparison then proves nothing about the theory), else "pass".
  Verdict verdict = Verdict::kInconclusive;
  std::string verdict_reason;  // why inconclusive when the checks alone would pass
  Status status;  // kInvalidOptions, or the simulator's failure: then nothing else is set
};

// `relative_energies` and `costs` come from the analysis of the same components.
VerifyReport Verify(const Problem& problem, const std::vector<CriticalComponent>& components,
                    const Eigen::MatrixXd& costs, const Eigen::VectorXd& relative_energies,
                    const VerifyOptions& options);

// The automatic step sizes (exposed for tests and reports).
std::vector<double> AutomaticStepSizes(const std::vector<CriticalComponent>& components,
                                       const Eigen::MatrixXd& costs, double stability_bound,
                                       const VerifyOptions& options);

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

}  // namespace ldsgd

#endif  // LDSGD_SOLVER_THEORY_VERIFIER_H_
