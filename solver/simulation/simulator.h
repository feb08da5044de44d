// Monte Carlo simulation of constant step-size SGD (THEORY.md sections 1 and 7): many independent
// chains x_{t+1} = x_t - eta G(x_t, w_t), with the noise of the problem (sgd_noise.h), measured in
// the neighbourhoods U_i of the critical components (neighbourhoods.h): occupation, last-visited
// transitions, exit times, divergence. Per chain and in total, so that a verifier can form batch
// means over chains.
//
// Reproducible: every random number is a function of (seed, chain, step, draw) only (Philox,
// philox_normals.h), chains never interact, and totals are summed in chain order; the result is
// bit-identical for any number of threads.
//
// Fast: chains run in structure-of-arrays blocks of up to 64; each step makes one GradientBatch
// call and one vectorized normal-generation pass per block, and the per-chain bookkeeping does
// scalar work only when a chain changes neighbourhood or diverges.
//
// Conventions. x_0 is the start; step t (1 <= t <= steps) produces x_t. The states x_t with
// burn_in < t <= steps are recorded (steps - burn_in per chain): occupation counts them. A chain
// "enters" U_j at step t when x_t is in U_j and the last neighbourhood it visited before was
// another one (or none). A transition i -> j is counted when the chain enters U_j at a recorded
// step with U_i last visited. The exit time of a sojourn in U_i is the number of steps from its
// entry (step e) to the entry into another neighbourhood; it is counted when e >= burn_in (with
// burn_in = 0 this includes the sojourn the chain starts in), and a sojourn entered at e >= burn_in
// that has not ended by the last step is counted as censored.
//
// Initial condition: chain c starts at the point of minimum c mod m (m minima, in component order,
// i.e. by increasing f); with no minimum, at the point c of the Kronecker sequence over the box
// (low_discrepancy.h); or at options.initial_points[c mod size] when given.
//
// Divergence: a chain diverges at the first step t where x_t is not finite, or leaves the box
// enlarged by divergence_factor around its centre (|x_i - centre_i| > factor * half-width_i), or
// where the noise cannot be sampled (a state-dependent covariance that is not SPD). It stops there;
// its record keeps what it measured up to step t - 1 and the reason, and it is counted in
// SimulationResult::diverged but excluded from every total.
#ifndef LDSGD_SOLVER_SIMULATION_SIMULATOR_H_
#define LDSGD_SOLVER_SIMULATION_SIMULATOR_H_

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <Eigen/Core>
#include <nlohmann/json.hpp>

#include "solver/io/enum_names.h"
#include "solver/landscape/critical_points.h"
#include "solver/problem/problem.h"

namespace ldsgd {

struct SimulationOptions {
  // eta, the constant step size. Required: must be positive.
  double step_size = 0;
  // SGD steps per chain, burn-in included.
  long steps = 100000;
  // Steps discarded before measuring (0 <= burn_in < steps).
  long burn_in = 10000;
  // Independent chains. More chains give better batch-mean intervals and more parallelism.
  int chains = 64;
  // Philox key: the same seed gives bit-identical results.
  std::uint64_t seed = 0;
  // Worker threads; 0 = all cores. Results are identical for any value.
  int num_threads = 0;
  // Neighbourhood radius per component; empty = the default rule of neighbourhoods.h
  // (3 stationary standard deviations at minima, capped at 0.45 of the distance to the nearest
  // other component so that neighbourhoods never overlap).
  std::vector<double> radius;
  // A chain diverges when it leaves the box enlarged by this factor around its centre, or hits
  // NaN/inf. Must be >= 1.
  double divergence_factor = 10;
  // Where chains start: chain c at initial_points[c mod size]; empty = spread over the minima.
  std::vector<Eigen::VectorXd> initial_points;
  // Keep each chain's final state (SimulationChain::final_state).
  bool record_final_states = false;
  // Keep each chain's exit times (ExitTimes::samples); otherwise only their count and moments.
  bool record_exit_times = false;
  // Every basin_interval recorded steps, classify the state by the basin of attraction of the
  // minima (basins.h) and count it in SimulationChain::basin_counts; 0 = off. Basin masses are
  // what the Laplace formula predicts (the balls hold different fractions of different wells).
  // Each classification is a gradient descent (tens of gradient evaluations), so an interval of
  // about the relaxation time 1 / (eta lambda_min) costs little and loses little information.
  long basin_interval = 0;
  // Progress bar with rate and time left on stderr (the CLI sets it when stderr is a terminal).
  bool progress = false;
};

enum class DivergenceReason { kNone, kNonFinite, kLeftDomain, kCovarianceNotPositiveDefinite };
inline constexpr int kNumDivergenceReasons = 4;
template <>
struct EnumNames<DivergenceReason> {
  static constexpr std::array<std::pair<DivergenceReason, const char*>, kNumDivergenceReasons> kNames = {{
      {DivergenceReason::kNone, "none"},
      {DivergenceReason::kNonFinite, "non_finite"},
      {DivergenceReason::kLeftDomain, "left_domain"},
      {DivergenceReason::kCovarianceNotPositiveDefinite, "covariance_not_spd"},
  }};
};

// Exit times from one neighbourhood, in steps.
struct ExitTimes {
  long count = 0;    // completed sojourns
  double sum = 0.0;  // of the exit times
  double sum_squares = 0.0;
  long min = 0, max = 0;      // 0 when count == 0
  long censored = 0;          // sojourns still running at the last step
  std::vector<long> samples;  // the exit times, with SimulationOptions::record_exit_times only

  // Every recorded step spent with U_i as the last neighbourhood visited (sojourns cut at the
  // burn-in and at the last step included), and the exits out of U_i at recorded steps. Their
  // ratio is the mean exit time without the bias of dropping long, censored sojourns (the
  // exponential MLE under right censoring): a run not much longer than an exit time completes
  // mostly the short sojourns, and the plain mean of completed ones is then too small.
  double at_risk = 0.0;
  long events = 0;

  double mean() const;      // NaN when count == 0
  double rate_mean() const;  // at_risk / events; NaN when events == 0
  void AddAtRisk(long steps, long exits);
  double variance() const;  // sample variance; NaN when count < 2
  void Add(long tau, bool keep_sample);
  void Merge(const ExitTimes& other);
};

// Their bytes, for the ranks of an MPI job (byte_archive.h).
template <class Archive>
void Serialize(Archive& a, ExitTimes& e) {
  a(e.count, e.sum, e.sum_squares, e.min, e.max, e.censored, e.samples, e.at_risk, e.events);
}

// What one chain measured.
struct SimulationChain {
  Eigen::VectorXd start;
  int start_component = -1;           // the component it started at, -1 if none
  long recorded_steps = 0;            // states recorded (steps - burn_in, fewer if it diverged)
  std::vector<long> occupation;       // recorded states in U_i, per component
  long outside = 0;                   // recorded states in no neighbourhood
  std::vector<long> transitions;      // K x K row-major: [i * K + j] counts i -> j
  std::vector<ExitTimes> exit_times;  // per component left
  // Per coordinate, over the recorded states: sums of x and of x^2.
  Eigen::VectorXd sum, sum_squares;
  bool diverged = false;
  long divergence_step = -1;
  DivergenceReason divergence_reason = DivergenceReason::kNone;
  Eigen::VectorXd final_state;  // x at the last step (or at divergence); record_final_states only
  // With basin_interval > 0: classified states per component (non-zero at minima only), and the
  // states the flow took to no minimum.
  std::vector<long> basin_counts;
  long basin_unclassified = 0;
};

template <class Archive>
void Serialize(Archive& a, SimulationChain& c) {
  a(c.start, c.start_component, c.recorded_steps, c.occupation, c.outside, c.transitions, c.exit_times, c.sum,
    c.sum_squares, c.diverged, c.divergence_step, c.divergence_reason, c.final_state, c.basin_counts,
    c.basin_unclassified);
}

struct SimulationResult {
  // The configuration that produced it.
  double step_size = 0.0;
  long steps = 0, burn_in = 0;
  int chains = 0;
  std::uint64_t seed = 0;
  std::vector<double> radius;  // the radii used, per component

  std::vector<SimulationChain> per_chain;

  // Divergence: chains and reasons (indexed by DivergenceReason).
  int diverged = 0;
  std::array<int, kNumDivergenceReasons> diverged_by_reason{};

  // Totals over the chains that did not diverge, summed in chain order.
  long recorded_steps = 0;
  std::vector<double> occupation;              // fraction of recorded states in U_i
  double outside = 0.0;                        // fraction in no neighbourhood
  std::vector<std::vector<long>> transitions;  // [i][j]: i -> j
  std::vector<ExitTimes> exit_times;           // per component left
  Eigen::VectorXd mean, second_moment;         // per coordinate, E x_i and E x_i^2
  // With basin_interval > 0: the states classified, and per component the fraction of them in its
  // basin (empty when off); the rest were unclassified.
  long basin_interval = 0;
  long basin_samples = 0;
  std::vector<double> basin_occupation;
  double basin_unclassified = 0.0;
};

// {"step_size", "steps", "burn_in", "chains", "seed", "radius", "occupation", "outside",
//  "transitions", "diverged", "divergence_reasons": {reason: count}, "exit_times": [{"count",
//  "mean", "variance", "min", "max", "censored", "sum", "sum_squares"}], "mean",
//  "second_moment"}, with basin_interval > 0 also "basin_interval", "basin_samples",
//  "basin_occupation", "basin_unclassified", and with per_chain = true "per_chain": [{... the same per chain, with
//  "diverged", "divergence_step", "divergence_reason", "start", "final_state"}]. No timings.
nlohmann::json ToJson(const SimulationResult& result, bool per_chain);

class Simulator {
 public:
  using Options = SimulationOptions;

  struct Summary {
    Status status;  // kNotRun until Simulate() ran; kInvalidOptions: "Invalid configuration. ..."
    std::string noise;     // the noise model, described
    int num_components = -1;
    int chains = -1, diverged = -1;
    long steps_per_chain = -1;
    double total_steps = 0.0;  // SGD steps taken over all chains
    int num_threads = -1, num_blocks = -1;  // per rank
    int num_ranks = 1;                      // processes of the MPI job (cluster.h)
    double time_seconds = 0.0;
    double steps_per_second = 0.0;
    // The least number of transitions into or out of a minimum's neighbourhood (a mixing
    // diagnostic: small means the occupations are not yet evidence); -1 with no minima.
    long min_minimum_transitions = -1;
    std::string BriefReport() const;
    std::string FullReport() const;
  };

  explicit Simulator(Options options) : options_(std::move(options)) {}

  // Simulates the problem's SGD with the components' neighbourhoods. A configuration error (bad
  // options, radii, initial points, a noise model that cannot be built) returns an empty result
  // with a failed summary->status saying why; it never throws.
  SimulationResult Simulate(const Problem& problem,
                            const std::vector<CriticalComponent>& components,
                            Summary* summary) const;

 private:
  Options options_;
};

struct LaneState;

// A simulation extended in rounds: Advance(n) runs every chain on to n steps in all, and Result()
// is then bit-identical to Simulator::Simulate with options.steps = n, whatever the rounds before
// and the thread count (every random number is indexed by the global step; each lane's whole state
// is kept between rounds). The verifier extends its chains until its checks are decided.
// `problem` and `components` must outlive the run.
class SimulationRun {
 public:
  // options.steps is validated but otherwise unused: Advance says how far to run.
  SimulationRun(const Problem& problem, const std::vector<CriticalComponent>& components,
                SimulationOptions options);
  ~SimulationRun();
  SimulationRun(const SimulationRun&) = delete;
  SimulationRun& operator=(const SimulationRun&) = delete;

  // kInvalidOptions when the options, the radii or the noise model are invalid: nothing runs.
  const Status& status() const;
  // Runs on to `steps` steps per chain in all: steps > steps_done() and steps > burn_in.
  // `label` prefixes the progress bar (with options.progress).
  Status Advance(long steps, const std::string& label = "");
  long steps_done() const;
  // What the chains measured up to steps_done(), closed there (empty before the first Advance).
  SimulationResult Result() const;
  // The last Advance: its time and rate are of that round; total_steps of all rounds.
  const Simulator::Summary& summary() const;

 private:
  struct State;
  std::unique_ptr<State> state_;
};

}  // namespace ldsgd

#endif  // LDSGD_SOLVER_SIMULATION_SIMULATOR_H_
