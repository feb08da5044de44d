// Transition rates of the SGD chain between critical components, measured where direct
// simulation never sees a transition (THEORY.md section 11):
//   rate(i -> j) = (rate of departures from A_i) x P(reach U_j before A_i),
// the departures and the time between them by direct simulation (departures.h), the probability
// by adaptive multilevel splitting (splitting.h) with the progress along the minimum-action path
// of the analysis as reaction coordinate (path_coordinate.h).
//
// Sets, at step size eta (neighbourhoods.h's radii r_k, the simulator's U_k):
//  - A_i: the ball of radius r_i / 3 around K_i's point, one stationary standard deviation of the
//    linearized chain, so that the chain leaves it every few relaxation times;
//  - the target: U_j (a pair i -> j) or every U_k, k != i (the exit from i);
//  - the other stopping sets: U_k for the remaining k != i (a pair: the chain reached another
//    component first, which is not a direct i -> j transition).
// A pair's rate is that of the embedded chain of visits (P(next component visited is j)), whose
// exponent is the cost of paths that avoid the other components; an exit's is the total exit rate,
// exponent min_j B_ij. The mean exit time follows from the renewal identity of departures.h.
#ifndef LDSGD_SOLVER_THEORY_RATES_H_
#define LDSGD_SOLVER_THEORY_RATES_H_

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "solver/action/transition_costs.h"
#include "solver/io/status.h"
#include "solver/landscape/critical_points.h"
#include "solver/problem/problem.h"
#include "solver/simulation/departures.h"
#include "solver/simulation/splitting.h"

namespace ldsgd {

// A_i's radius as a fraction of U_i's (neighbourhoods.h: 3 stationary standard deviations).
inline constexpr double kStartRadiusFraction = 1.0 / 3.0;
// The importance sampling tilts only within a tube around the path (SplittingOptions::tilt_tube)
// of radius max(kTiltTubeRadii A_i radii, kTiltTubeLength x the path's length). Wide enough that
// a replica climbing under the tilt stays inside: it fluctuates across the path on the scale of
// the chain's stationary spread (one A_i radius at K_i; more where the path's transverse curvature
// is smaller, at a saddle), which is small against the path where B/eta is large (Mueller-Brown,
// B/eta up to 7e6, needs the length term: with three radii alone its replicas left the tube near
// the saddles and the splitting crawled). Narrow enough to exclude the points whose foot jumps
// between the branches of a curved path, where the tilt can hold a replica (the robust
// regression's U-shaped path: its trap lies 0.18 path lengths away, docs/VERIFICATION.md).
inline constexpr double kTiltTubeRadii = 3.0;
inline constexpr double kTiltTubeLength = 0.1;
// Relaxation times 1 / (eta lambda_min) before departures count, from the point of K_i.
inline constexpr double kDepartureBurnIn = 3.0;
// A path must start within this many radii of A_i's centre and end within this many of U_j's
// (the action solver's paths start and end at the components' points; more means it was cut).
inline constexpr double kPathEndTolerance = 1.0;

// to = -1: the exit from `from` (to any other component).
struct RatePair {
  int from = -1, to = -1;
};

struct RateOptions {
  int replicas = 100;      // N per splitting run
  int runs = 16;           // independent splitting runs
  long departures = 4096;  // recorded departures (initial states and loop time)
  int chains = 64;         // departure chains
  long max_steps_per_chain = 2000000;  // departure chains: no departure in this many is an error
  double max_splitting_steps = 0.0;    // per splitting run; 0 = no cap
  // Importance sampling inside the splitting (splitting.h, lane_stepper.h; isotropic Gaussian
  // noise or a finite sum): 0 = plain splitting, 1 = the full optimal tilt along the path.
  double tilt = 0.0;
  std::uint64_t seed = 0;
  int num_threads = 0;
  Status Validate() const;
};

// One pair at one step size. Logarithms are natural; rates per SGD step, times in steps.
struct RateEstimate {
  Status status;  // not ok: why this pair could not be measured (the rest is unset)
  RatePair pair;
  int path_to = -1;  // the component whose minimum-action path gives the reaction coordinate
  double step_size = 0.0;
  double start_radius = 0.0;
  DepartureSample departures;  // points dropped after use
  SplittingResult splitting;
  // ln P(reach the target before A_i | departure), with its 95% interval (from splitting).
  double log_probability = 0.0, log_probability_lower = 0.0, log_probability_upper = 0.0;
  // Direct estimate of the same probability from the departure chains: successes / departures
  // (Wilson 95% interval); informative only where successes are many.
  double direct_probability = 0.0, direct_lower = 0.0, direct_upper = 0.0;
  double log_rate = 0.0, log_rate_lower = 0.0, log_rate_upper = 0.0;
  double log_exit_steps = 0.0, log_exit_lower = 0.0, log_exit_upper = 0.0;
  bool complete = false;  // the splitting runs all finished (else no estimate)
  double steps = 0.0;     // SGD steps, departures and splitting
  double seconds = 0.0;
};

// The component whose minimum-action path guides the exit from i: the cheapest finite B_ik (the
// first on ties), -1 when every B_ik is +inf.
int CheapestExit(const Eigen::MatrixXd& costs, int i);

// The rate of `pair` at step size eta. `costs` must hold the paths of the analysis of the same
// components. Problems with a pair (same component, out of range, no finite-cost path, a path
// that is cut short or not finite, an empty target) come back as a failed status naming them.
RateEstimate MeasureRate(const Problem& problem, const std::vector<CriticalComponent>& components,
                         const TransitionCosts& costs, RatePair pair, double step_size,
                         const RateOptions& options);

// {"from", "to" (null: exit), "path_to", "step_size", "start_radius", "departures", "loops",
// "loop_steps", "loop_interval", "direct": {"successes", "probability", "interval"},
// "log_probability", "log_probability_interval", "probability" (0 when it underflows), "log_rate",
// "log_rate_interval", "log_exit_steps", "log_exit_interval", "splitting": {"replicas", "killed",
// "runs", "iterations", "steps", "diverged", "log_probability_per_run"}, "steps"}. No timings.
nlohmann::json ToJson(const RateEstimate& estimate);

}  // namespace ldsgd

#endif  // LDSGD_SOLVER_THEORY_RATES_H_
