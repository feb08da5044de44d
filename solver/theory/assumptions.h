// Checks of the assumptions under which the large-deviation predictions hold (THEORY.md section
// 8): noise covariance positive definite, finite cumulant, coercivity, finitely many compact
// critical components inside the box. A failed check names where it fails and whether the
// predictions depend on it; `analyze` and `verify` report them and mark the predictions unreliable
// instead of printing them as if the theory applied.
#ifndef LDSGD_SOLVER_THEORY_ASSUMPTIONS_H_
#define LDSGD_SOLVER_THEORY_ASSUMPTIONS_H_

#include <array>
#include <string>
#include <utility>
#include <vector>

#include "solver/io/enum_names.h"
#include "solver/landscape/critical_points.h"
#include "solver/problem/problem.h"

namespace ldsgd {

// The assumptions checked (see CheckAssumptions), one spelling each for reports and JSON.
enum class Assumption {
  kNoisePositiveDefinite,
  kNoisePositiveDefiniteInBox,
  kFiniteCumulant,
  kCoercive,
  kFiniteComponents,
  kNoDivergence,
  kBoundedBelow,
};
template <>
struct EnumNames<Assumption> {
  static constexpr std::array<std::pair<Assumption, const char*>, 7> kNames = {{
      {Assumption::kNoisePositiveDefinite, "noise_positive_definite"},
      {Assumption::kNoisePositiveDefiniteInBox, "noise_positive_definite_in_box"},
      {Assumption::kFiniteCumulant, "finite_cumulant"},
      {Assumption::kCoercive, "coercive"},
      {Assumption::kFiniteComponents, "finite_components"},
      {Assumption::kNoDivergence, "no_divergence"},
      {Assumption::kBoundedBelow, "bounded_below"},
  }};
};

struct AssumptionCheck {
  Assumption name = Assumption::kNoisePositiveDefinite;
  bool holds = true;
  std::string where;   // "component 2 (0, 0)", "(2, -1.5) and 12 more box points", "" if it holds
  std::string detail;  // what was checked, and what failed
  // The energies and weights depend on it: a failure makes them unreliable.
  bool affects_predictions = true;
};

struct AssumptionOptions {
  // Points of a low-discrepancy sequence over the box (and as many on its faces) where the noise
  // and the outward slope of f are checked.
  int box_samples = 512;
  // Positive definiteness is judged by Noise::Classify (noise.h), the one definition.
};

struct AssumptionReport {
  std::vector<AssumptionCheck> checks;
  // No failed check affects the predictions.
  bool predictions_reliable() const;
  // "noise_positive_definite (component 0 (0)); coercive (...)": the failed checks, for messages.
  std::string FailedSummary() const;
};

// The static checks, in this order:
// - noise_positive_definite: Sigma(x) (the minibatch covariance for finite sums) positive definite
//   at every component; a component where it is not (all sample gradients vanish: THEORY.md
//   section 8) needs the stochastic-stability analysis (`ldsgd stability`) instead.
// - noise_positive_definite_in_box: the same at box_samples points of the box. Informational
//   (affects_predictions = false): a region no minimum-action path crosses does not matter, and a
//   path that does cross it fails in the cost solver.
// - finite_cumulant: the noise is finite (sub-Gaussian) at the box points: covariance entries or
//   sample gradients finite. Gaussian and finite-sum noise are sub-Gaussian wherever finite.
// - coercive: f increases outward at box_samples points of the box's faces (grad f . n > 0): SGD
//   is pushed back into the box rather than away to infinity.
// - finite_components: no critical component touches the box boundary (one that does may extend
//   beyond it: a non-compact set, or a truncated one).
// - bounded_below: no sampled box point is lower than every critical value; where one is, a
//   descent from it says where f is unbounded below (a pole), lower on the boundary, or has a
//   minimum the search missed.
AssumptionReport CheckAssumptions(const Problem& problem,
                                  const std::vector<CriticalComponent>& components,
                                  const AssumptionOptions& options = {});

// Simulation evidence (verify): chains that diverged at step size eta violate coercivity.
// `rare`: divergence is much rarer than the transitions measured (the verifier's criterion), so
// the predictions still describe the chains that stay: a note, not a failure of the predictions.
AssumptionCheck DivergenceCheck(double eta, int diverged, int chains, bool rare = false);

}  // namespace ldsgd

#endif  // LDSGD_SOLVER_THEORY_ASSUMPTIONS_H_
