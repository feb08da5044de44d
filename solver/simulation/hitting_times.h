// Hitting times of a set by direct simulation of SGD (THEORY.md section 10): chains start at x and
// run until they come within the target balls (argmin f's delta-neighbourhood), tau = the first
// step t with x_t inside. The sample of tau gives E_x tau with its 95% interval.
//
// Reproducible: chain c draws the random numbers of (key, c, step), so each hitting time is a
// function of (seed, c) alone, identical for any thread count and for a run with a larger cap or
// more time.
#ifndef LDSGD_SOLVER_SIMULATION_HITTING_TIMES_H_
#define LDSGD_SOLVER_SIMULATION_HITTING_TIMES_H_

#include <cstdint>
#include <vector>

#include <Eigen/Core>

#include "solver/io/status.h"
#include "solver/problem/problem.h"
#include "solver/simulation/rare_event_sets.h"

namespace ldsgd {

struct HittingOptions {
  double step_size = 0.0;
  int chains = 256;
  long max_steps = 10000000;  // per chain: a chain still outside then is censored
  // Wall-clock seconds from the call after which the chains still outside stop, censored (0: no
  // limit). A sample cut by it is incomplete: its numbers are not reported as a measurement.
  double seconds = 0.0;
  std::uint64_t seed = 0;
  int num_threads = 0;
  double divergence_factor = 10.0;
  Status Validate() const;
};

struct HittingSample {
  Status status;
  std::vector<long> times;  // per chain; -1 censored (not arrived within max_steps), -2 diverged
  long censored = 0, diverged = 0;
  // Mean hitting time over the arrived chains and its 95% interval (Student t); NaN if < 2.
  double mean = 0.0, lower = 0.0, upper = 0.0;
  double steps = 0.0;  // SGD steps simulated
  bool complete() const { return censored == 0 && diverged == 0; }
};

HittingSample SimulateHittingTimes(const Problem& problem, const Eigen::VectorXd& start,
                                   const std::vector<Ball>& targets, const HittingOptions& options);

}  // namespace ldsgd

#endif  // LDSGD_SOLVER_SIMULATION_HITTING_TIMES_H_
