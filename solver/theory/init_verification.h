// Verification from the training distribution (issue 18): SGD started as training starts, from
// draws of the problem's search.init, and the fraction of its iterates in each discovered minimum's
// basin of attraction (basins.h; up to symmetry for networks) against the predicted long-run
// weights exp(-E_i/eta) normalized over the minima, plus the fraction in no discovered basin.
//
// What is judged, and where (THEORY.md sections 5-6): at leading order the long-run law concentrates
// on the ground state; the weights of the others carry unknown O(1) prefactors. So the check is the
// ground state's share: with the energy gap Delta = min_{i != g} (E_i - E_g) and m minima, the
// stationary fraction in the basins of the g ground states (degenerate ones together) is at least
// 1 / (1 + (m - g) C exp(-Delta / eta) / g) for prefactor ratios up to C = kPrefactorAllowance. It is judged only where that bound is informative
// (Delta / eta >= kMinGapEfolds), only when the predictions are reliable (assumptions.h), and only
// once the chains had time to forget where they started: every minimum holding more than
// kNegligibleShare of the iterates must have been left for another component (a saddle on the way
// out, or another minimum) kMinExits times (transitions between neighbourhoods, simulator.h). Otherwise "inconclusive", saying why and, for too short a run, how many steps
// per chain would do.
#ifndef LDSGD_SOLVER_THEORY_INIT_VERIFICATION_H_
#define LDSGD_SOLVER_THEORY_INIT_VERIFICATION_H_

#include <cstdint>
#include <string>
#include <vector>

#include <Eigen/Core>
#include <nlohmann/json.hpp>

#include "solver/io/status.h"
#include "solver/landscape/critical_points.h"
#include "solver/problem/problem.h"
#include "solver/theory/assumptions.h"
#include "solver/theory/verifier.h"

namespace ldsgd {

inline constexpr double kPrefactorAllowance = 10.0;
inline constexpr double kMinGapEfolds = 3.0;
inline constexpr long kMinExits = 20;
inline constexpr double kNegligibleShare = 0.01;
// Energies this close (relative) are one degenerate ground level.
inline constexpr double kGroundTie = 1e-6;

struct InitVerificationOptions {
  double step_size = 0.0;  // required, > 0
  long steps = 20000;      // per chain, burn-in included
  long burn_in = -1;       // -1: half the steps (the law late in training is what is compared)
  int chains = 64;
  int classifications = 10;  // basin classifications per chain, evenly over the recorded steps
  int batches = 16;          // chain batches for the 95% intervals (Student t)
  std::uint64_t seed = 0;
  int num_threads = 0;
  bool progress = false;
  Status Validate() const;
  // `ldsgd verify --from-init`: the largest of the step sizes, the fixed steps and burn-in when
  // given (steps > 0), the chains, seed, threads and progress.
  static InitVerificationOptions From(const VerifyOptions& verify);
};

struct InitVerification {
  Status status;  // kNotRun until run
  double step_size = 0.0;
  long steps = 0, burn_in = 0;
  int chains = 0, diverged = 0;
  std::vector<int> minima;                      // component ids
  std::vector<double> predicted;  // exp(-E_i/eta) normalized over the minima; NaN without finite energies
  // Basin fractions among the iterates in some discovered basin, with 95% intervals.
  std::vector<double> measured, lower, upper;
  std::vector<long> exits;  // transitions from each minimum's neighbourhood to another component's
  double unclassified = 0.0;  // fraction of all classified iterates in no discovered basin
  std::vector<int> ground;                      // the ground states' component ids
  double ground_share = 0.0, ground_lower = 0.0, ground_upper = 0.0;  // their basin fraction, 95%
  double gap_efolds = 0.0;                      // Delta / eta
  double bound = 0.0;                           // least ground-state share the theory allows
  Verdict verdict = Verdict::kInconclusive;
  std::string reason;
  double needed_steps_per_chain = 0.0;  // for a run too short: steps that would give kMinExits
  std::string Report() const;
};

nlohmann::json ToJson(const InitVerification& v);

// `relative_energies` per component (the analysis'), `assumptions` the static checks.
InitVerification VerifyFromInit(const Problem& problem, const std::vector<CriticalComponent>& components,
                                const Eigen::VectorXd& relative_energies, const AssumptionReport& assumptions,
                                const InitVerificationOptions& options);

}  // namespace ldsgd

#endif  // LDSGD_SOLVER_THEORY_INIT_VERIFICATION_H_
