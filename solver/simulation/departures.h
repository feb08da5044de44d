// Departures from the start set A by direct simulation of SGD (THEORY.md section 11): the first
// half of a rare-event rate. Chains start at A's centre; a departure is the first state outside A
// after a stay in it, and the excursion that follows ends when the chain re-enters A (a loop), a
// target (a transition: the chain restarts at the centre), another stopping set or diverges (it
// restarts too). The departure states are the initial conditions of splitting (splitting.h), and
// the mean time between departures turns its probability into a rate:
//   rate(A -> B) = p / T_loop,   E[exit time] = T_loop (1/p - 1) + T_success,
// p the probability that an excursion reaches B before A, T_loop the mean time from a departure
// to the next one when the excursion returned (renewal argument: the excursions are independent
// given their departure states, which are drawn from the chain's own law of departures).
//
// Reproducible: chain c draws the random numbers of (key, c, step); chains never interact and
// totals are summed in chain order, so the sample is identical for any thread count.
#ifndef LDSGD_SOLVER_SIMULATION_DEPARTURES_H_
#define LDSGD_SOLVER_SIMULATION_DEPARTURES_H_

#include <cstdint>
#include <vector>

#include <Eigen/Core>

#include "solver/io/status.h"
#include "solver/problem/problem.h"
#include "solver/simulation/rare_event_sets.h"

namespace ldsgd {

struct DepartureOptions {
  double step_size = 0.0;
  // Departures to simulate over all chains (each chain its share, ceil(departures / chains)).
  long departures = 4096;
  // Departure states to keep (each chain keeps its first ceil(keep_points / chains)); the others
  // are counted only, so that a long direct estimate of p needs no memory.
  long keep_points = 4096;
  int chains = 64;
  // Steps of a chain before its departures count (relaxation from the centre).
  long burn_in = 0;
  // Most steps of one chain: a chain that has not recorded its share by then stops. No departure
  // at all is an error ("never leaves U_i"), never a hang.
  long max_steps_per_chain = 100000000;
  std::uint64_t seed = 0;
  int num_threads = 0;
  double divergence_factor = 10.0;
  Status Validate() const;
};

struct DepartureSample {
  Status status;  // kInvalidOptions / kInvalidInput: nothing else is set
  std::vector<Eigen::VectorXd> points;  // the kept departure states, chain by chain
  long departures = 0;
  long successes = 0;  // excursions that reached a target before A
  long others = 0;     // that reached another stopping set first
  long diverged = 0;   // that diverged
  long loops = 0;      // completed loops (departure -> return to A -> next departure)
  // Mean steps per loop and its 95% interval (chains as batches, Student t); NaN without loops.
  double loop_steps = 0.0, loop_lower = 0.0, loop_upper = 0.0;
  double steps = 0.0;  // SGD steps simulated
  bool complete = false;  // every chain recorded its share
};

DepartureSample SampleDepartures(const Problem& problem, const RareEventSets& sets,
                                 const DepartureOptions& options);

// A 64-bit mix (SplitMix64's finalizer) to derive independent Philox keys from one seed.
std::uint64_t MixSeed(std::uint64_t seed, std::uint64_t stream);

}  // namespace ldsgd

#endif  // LDSGD_SOLVER_SIMULATION_DEPARTURES_H_
