#include "solver/simulation/simulator.h"

#include <algorithm>
#include <atomic>
#include <bit>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <limits>
#include <memory>
#include <mutex>
#include <sstream>

#include "solver/landscape/basins.h"
#include "solver/numerics/low_discrepancy.h"
#include "solver/simulation/neighbourhoods.h"
#include "solver/numerics/distributed.h"
#include "solver/numerics/parallel.h"
#include "solver/numerics/progress.h"
#include "solver/noise/sgd_noise.h"

namespace ldsgd {
namespace {

// Chains per block: at most kMaxBlock (the stride of the block arrays; 64 also matches the
// expression engine's batch), and no fewer than kMinBlock when more blocks are made to keep every
// thread busy (small blocks vectorize worse).
constexpr int kMaxBlock = 64;
constexpr int kMinBlock = 16;
// Steps between progress updates of a block.
constexpr long kProgressInterval = 1024;


}  // namespace

// What a lane carries from one round to the next (SimulationRun::Advance).
struct LaneState {
  Eigen::VectorXd x, sum, sum_squares;
  int region = -1, near = 0, last = -1;
  long run_start = 0, entry = 0;
  bool active = true;
};

template <class Archive>
void Serialize(Archive& a, LaneState& l) {
  a(l.x, l.sum, l.sum_squares, l.region, l.near, l.last, l.run_start, l.entry, l.active);
}

namespace {

// Everything a block needs, shared read-only by the workers.
struct Context {
  const SimulationOptions& options;
  const SgdNoise& noise;
  const Neighbourhoods& neighbourhoods;
  const BasinClassifier* basins;  // null when basin_interval == 0
  int dimension = 0, num_components = 0;
  Eigen::VectorXd centre, bound;        // divergence box: |x_i - centre_i| <= bound_i
  std::vector<Eigen::VectorXd> starts;  // start of chain c is starts[c % size]
};

// The per-lane state of a block of chains, structure-of-arrays with stride kMaxBlock.
class BlockRunner {
 public:
  BlockRunner(const Context& ctx, int first_chain, int count, std::vector<SimulationChain>* out,
              std::vector<LaneState>* lanes, Progress* progress)
      : ctx_(ctx),
        o_(ctx.options),
        d_(ctx.dimension),
        k_(ctx.num_components),
        first_(first_chain),
        n_(count),
        out_(*out),
        lanes_(*lanes),
        progress_(*progress) {}

  // Steps x_from -> x_to. From 0 the chains start afresh; otherwise they resume from the lane
  // states the previous round saved, so that rounds [0, a) and [a, b) give exactly [0, b).
  void Run(long from, long to) {
    if (from == 0) {
      Initialize();
    } else {
      Load();
    }
    const double eta = o_.step_size;
    for (long t = from; t < to; ++t) {
      const long s = t + 1;  // the step producing x_s
      const ChainBlock block{static_cast<std::uint32_t>(first_), n_, kMaxBlock,
                             static_cast<std::uint64_t>(t), x_};
      ctx_.noise.StochasticGradient(block, g_, failed_, &scratch_);
      // One pass per coordinate: record x_t (the moments run a step behind, so a chain that
      // diverges at step s has exactly x_{burn_in+1} .. x_{s-1} in them), move to x_s, and flag
      // lanes outside the divergence box or not finite (NaN fails the comparison). Flags are
      // doubles with a reduction on their bits: these loops vectorize, bool or int flags set from
      // double comparisons do not.
      std::fill(bad_, bad_ + n_, 0.0);
      const bool record = t > o_.burn_in;
      for (int i = 0; i < d_; ++i) {
        const double c = ctx_.centre[i], b = ctx_.bound[i];
        double* __restrict xi = x_ + i * kMaxBlock;
        const double* __restrict gi = g_ + i * kMaxBlock;
        if (record) {
          double* __restrict si = sum_ + i * kMaxBlock;
          double* __restrict qi = sum_squares_ + i * kMaxBlock;
          for (int l = 0; l < n_; ++l) {
            const double now = xi[l], next = now - eta * gi[l];
            si[l] += now;
            qi[l] += now * now;
            xi[l] = next;
            bad_[l] = std::fabs(next - c) <= b ? bad_[l] : 1.0;
          }
        } else {
          for (int l = 0; l < n_; ++l) {
            const double next = xi[l] - eta * gi[l];
            xi[l] = next;
            bad_[l] = std::fabs(next - c) <= b ? bad_[l] : 1.0;
          }
        }
      }
      std::uint64_t any_bad = 0;
      for (int l = 0; l < n_; ++l) any_bad |= std::bit_cast<std::uint64_t>(bad_[l]);
      std::uint8_t any_failed = 0;
      for (int l = 0; l < n_; ++l) any_failed |= static_cast<std::uint8_t>(failed_[l]);
      std::copy(region_, region_ + n_, previous_);
      const bool moved = ctx_.neighbourhoods.Update(n_, x_, kMaxBlock, region_, near_);
      if (moved || any_bad != 0 || any_failed != 0) HandleEvents(s);
      if (ctx_.basins != nullptr && s > o_.burn_in && (s - o_.burn_in) % o_.basin_interval == 0) {
        ClassifyBasins();
      }
      if ((t - from + 1) % kProgressInterval == 0) progress_.Add(static_cast<double>(kProgressInterval) * n_);
    }
    progress_.Add(static_cast<double>((to - from) % kProgressInterval) * n_);
    Save();
  }

 private:
  SimulationChain& Record(int l) { return out_[first_ + l]; }

  // Recorded states among x_a .. x_b.
  long Recorded(long a, long b) const { return std::max(0L, b - std::max(a, o_.burn_in + 1) + 1); }

  // Closes the run of lane l in `region` (-1: outside) at step up_to.
  void AddOccupation(int l, int region, long up_to) {
    SimulationChain& r = Record(l);
    const long count = Recorded(run_start_[l], up_to);
    if (region >= 0) {
      r.occupation[region] += count;
    } else {
      r.outside += count;
    }
  }

  void Initialize() {
    std::fill(x_, x_ + kDataSize, 0.0);
    std::fill(sum_, sum_ + kDataSize, 0.0);
    std::fill(sum_squares_, sum_squares_ + kDataSize, 0.0);
    std::fill(failed_, failed_ + kMaxBlock, NoiseFailure::kNone);
    std::fill(near_, near_ + kMaxBlock, 0);
    for (int l = 0; l < n_; ++l) {
      const int chain = first_ + l;
      const Eigen::VectorXd& start = ctx_.starts[chain % ctx_.starts.size()];
      for (int i = 0; i < d_; ++i) x_[i * kMaxBlock + l] = start[i];
      SimulationChain& r = Record(l);
      r.start = start;
      r.occupation.assign(k_, 0);
      r.transitions.assign(static_cast<std::size_t>(k_) * k_, 0);
      r.exit_times.assign(k_, ExitTimes());
      if (ctx_.basins != nullptr) r.basin_counts.assign(k_, 0);
      active_[l] = true;
    }
    ctx_.neighbourhoods.LocateBatch(n_, x_, kMaxBlock, region_);
    for (int l = 0; l < n_; ++l) {
      Record(l).start_component = region_[l];
      last_[l] = region_[l];
      run_start_[l] = 0;
      entry_[l] = 0;
    }
  }

  void Restart(int l) {
    const Eigen::VectorXd& start = Record(l).start;
    for (int i = 0; i < d_; ++i) x_[i * kMaxBlock + l] = start[i];
  }

  void Snapshot(int l, SimulationChain* r) const {
    r->sum.resize(d_);
    r->sum_squares.resize(d_);
    for (int i = 0; i < d_; ++i) {
      r->sum[i] = sum_[i * kMaxBlock + l];
      r->sum_squares[i] = sum_squares_[i * kMaxBlock + l];
    }
  }

  void SaveFinalState(int l, SimulationChain* r) const {
    if (!o_.record_final_states) return;
    r->final_state.resize(d_);
    for (int i = 0; i < d_; ++i) r->final_state[i] = x_[i * kMaxBlock + l];
  }

  // The basin of each running chain's state (a scalar gradient descent per chain).
  void ClassifyBasins() {
    double point[kMaxDim];
    for (int l = 0; l < n_; ++l) {
      if (!active_[l]) continue;
      for (int i = 0; i < d_; ++i) point[i] = x_[i * kMaxBlock + l];
      const int basin = ctx_.basins->Classify(point);
      SimulationChain& r = Record(l);
      if (basin >= 0) {
        ++r.basin_counts[basin];
      } else {
        ++r.basin_unclassified;
      }
    }
  }

  // Scalar bookkeeping of the lanes that changed neighbourhood, diverged or failed at step s.
  void HandleEvents(long s) {
    for (int l = 0; l < n_; ++l) {
      const bool failed = failed_[l] != NoiseFailure::kNone;
      const bool bad = bad_[l] != 0.0 || failed;
      failed_[l] = NoiseFailure::kNone;
      if (!active_[l]) {
        // A stopped chain's lane keeps running from its start, unrecorded.
        if (bad) Restart(l);
        continue;
      }
      if (bad) {
        Diverge(l, s, failed);
        continue;
      }
      const int to = region_[l];
      if (to == previous_[l]) continue;
      AddOccupation(l, previous_[l], s - 1);
      run_start_[l] = s;
      if (to < 0 || to == last_[l]) continue;
      const int from = last_[l];
      if (from >= 0) {
        SimulationChain& r = Record(l);
        if (s > o_.burn_in) ++r.transitions[static_cast<std::size_t>(from) * k_ + to];
        if (entry_[l] >= o_.burn_in) r.exit_times[from].Add(s - entry_[l], o_.record_exit_times);
        if (s > o_.burn_in) r.exit_times[from].AddAtRisk(s - std::max(entry_[l], o_.burn_in), 1);
      }
      last_[l] = to;
      entry_[l] = s;
    }
  }

  void Diverge(int l, long s, bool failed) {
    SimulationChain& r = Record(l);
    AddOccupation(l, previous_[l], s - 1);
    bool finite = true;
    for (int i = 0; i < d_; ++i) finite = finite && std::isfinite(x_[i * kMaxBlock + l]);
    r.diverged = true;
    r.divergence_step = s;
    r.divergence_reason = failed    ? DivergenceReason::kCovarianceNotPositiveDefinite
                          : !finite ? DivergenceReason::kNonFinite
                                    : DivergenceReason::kLeftDomain;
    r.recorded_steps = Recorded(1, s - 1);
    Snapshot(l, &r);
    SaveFinalState(l, &r);
    active_[l] = false;
    Restart(l);
  }

  // The lanes' state into / out of the per-chain LaneState (all of it: a resumed round must not
  // be able to tell that it was resumed).
  void Save() const {
    for (int l = 0; l < n_; ++l) {
      LaneState& lane = lanes_[first_ + l];
      lane.x.resize(d_);
      lane.sum.resize(d_);
      lane.sum_squares.resize(d_);
      for (int i = 0; i < d_; ++i) {
        lane.x[i] = x_[i * kMaxBlock + l];
        lane.sum[i] = sum_[i * kMaxBlock + l];
        lane.sum_squares[i] = sum_squares_[i * kMaxBlock + l];
      }
      lane.region = region_[l];
      lane.near = near_[l];
      lane.last = last_[l];
      lane.run_start = run_start_[l];
      lane.entry = entry_[l];
      lane.active = active_[l];
    }
  }

  void Load() {
    std::fill(x_, x_ + kDataSize, 0.0);
    std::fill(sum_, sum_ + kDataSize, 0.0);
    std::fill(sum_squares_, sum_squares_ + kDataSize, 0.0);
    std::fill(failed_, failed_ + kMaxBlock, NoiseFailure::kNone);
    for (int l = 0; l < n_; ++l) {
      const LaneState& lane = lanes_[first_ + l];
      for (int i = 0; i < d_; ++i) {
        x_[i * kMaxBlock + l] = lane.x[i];
        sum_[i * kMaxBlock + l] = lane.sum[i];
        sum_squares_[i * kMaxBlock + l] = lane.sum_squares[i];
      }
      region_[l] = lane.region;
      near_[l] = lane.near;
      last_[l] = lane.last;
      run_start_[l] = lane.run_start;
      entry_[l] = lane.entry;
      active_[l] = lane.active;
    }
  }

  static constexpr int kMaxDim = 64;
  static constexpr int kDataSize = kMaxDim * kMaxBlock;

  const Context& ctx_;
  const SimulationOptions& o_;
  const int d_, k_, first_, n_;
  std::vector<SimulationChain>& out_;
  std::vector<LaneState>& lanes_;
  Progress& progress_;
  SgdNoise::Scratch scratch_;

  // Coordinates (d rows of kMaxBlock), gradients, running sums of x and x^2.
  std::vector<double> storage_ = std::vector<double>(4 * static_cast<std::size_t>(kDataSize));
  double* x_ = storage_.data();
  double* g_ = x_ + kDataSize;
  double* sum_ = g_ + kDataSize;
  double* sum_squares_ = sum_ + kDataSize;
  double bad_[kMaxBlock];  // 1 where x_s left the divergence box or is not finite, else 0
  NoiseFailure failed_[kMaxBlock];
  int region_[kMaxBlock];      // neighbourhood of x_s (-1 outside)
  int previous_[kMaxBlock];    // neighbourhood of x_{s-1}: the current run's
  int near_[kMaxBlock];        // Neighbourhoods::Update's memory of the nearest sampled point
  int last_[kMaxBlock];        // last neighbourhood visited (-1 none yet)
  long run_start_[kMaxBlock];  // first step of the current run
  long entry_[kMaxBlock];      // step the chain entered last_
  bool active_[kMaxBlock];
};

}  // namespace

double ExitTimes::mean() const {
  return count > 0 ? sum / static_cast<double>(count) : std::numeric_limits<double>::quiet_NaN();
}

double ExitTimes::variance() const {
  if (count < 2) return std::numeric_limits<double>::quiet_NaN();
  const double m = mean();
  return std::max(0.0, (sum_squares - count * m * m) / static_cast<double>(count - 1));
}

void ExitTimes::Add(long tau, bool keep_sample) {
  min = count == 0 ? tau : std::min(min, tau);
  max = count == 0 ? tau : std::max(max, tau);
  ++count;
  sum += static_cast<double>(tau);
  sum_squares += static_cast<double>(tau) * static_cast<double>(tau);
  if (keep_sample) samples.push_back(tau);
}

void ExitTimes::AddAtRisk(long steps, long exits) {
  at_risk += static_cast<double>(steps);
  events += exits;
}

double ExitTimes::rate_mean() const {
  return events > 0 ? at_risk / static_cast<double>(events) : std::numeric_limits<double>::quiet_NaN();
}

void ExitTimes::Merge(const ExitTimes& other) {
  at_risk += other.at_risk;
  events += other.events;
  if (other.count > 0) {
    min = count == 0 ? other.min : std::min(min, other.min);
    max = count == 0 ? other.max : std::max(max, other.max);
  }
  count += other.count;
  sum += other.sum;
  sum_squares += other.sum_squares;
  censored += other.censored;
  samples.insert(samples.end(), other.samples.begin(), other.samples.end());
}

namespace {

std::string Invalid(const std::string& field, const std::string& value,
                    const std::string& constraint) {
  return "Invalid configuration. Simulator::Options::" + field + " = " + value +
         ". Violated constraint: " + constraint;
}

std::string Str(double v) {
  std::ostringstream out;
  out.precision(10);
  out << v;
  return out.str();
}

std::string Validate(const SimulationOptions& o, const Problem& problem,
                     const std::vector<CriticalComponent>& components) {
  if (!(o.step_size > 0.0) || !std::isfinite(o.step_size)) {
    return Invalid("step_size", Str(o.step_size), "step_size > 0 and finite");
  }
  if (o.steps < 1) return Invalid("steps", std::to_string(o.steps), "steps >= 1");
  if (o.burn_in < 0 || o.burn_in >= o.steps) {
    return Invalid("burn_in", std::to_string(o.burn_in),
                   "0 <= burn_in < steps = " + std::to_string(o.steps));
  }
  if (o.chains < 1) return Invalid("chains", std::to_string(o.chains), "chains >= 1");
  if (o.num_threads < 0) {
    return Invalid("num_threads", std::to_string(o.num_threads), "num_threads >= 0");
  }
  if (!(o.divergence_factor >= 1.0) || !std::isfinite(o.divergence_factor)) {
    return Invalid("divergence_factor", Str(o.divergence_factor),
                   "divergence_factor >= 1 and finite");
  }
  const int d = problem.dimension();
  if (d < 1 || d > 64) {
    return "Invalid configuration. The problem has dimension " + std::to_string(d) +
           "; the simulator supports 1 to 64";
  }
  for (std::size_t i = 0; i < components.size(); ++i) {
    if (components[i].point.size() != d) {
      return "Invalid configuration. Component " + std::to_string(i) + " has dimension " +
             std::to_string(components[i].point.size()) + ", the problem " + std::to_string(d);
    }
  }
  for (std::size_t i = 0; i < o.initial_points.size(); ++i) {
    const Eigen::VectorXd& p = o.initial_points[i];
    if (p.size() != d || !p.allFinite()) {
      return Invalid("initial_points[" + std::to_string(i) + "]",
                     "(" + std::to_string(p.size()) + " coordinates)",
                     "a finite point of dimension " + std::to_string(d));
    }
  }
  if (o.basin_interval < 0) {
    return Invalid("basin_interval", std::to_string(o.basin_interval), "basin_interval >= 0");
  }
  if (!o.radius.empty()) {
    const std::string problem_with_radius = ValidateRadii(components, o.radius);
    if (!problem_with_radius.empty()) {
      return "Invalid configuration. Simulator::Options::radius: " + problem_with_radius;
    }
  }
  return "";
}

std::vector<Eigen::VectorXd> StartPoints(const SimulationOptions& o, const Problem& problem,
                                         const std::vector<CriticalComponent>& components) {
  if (!o.initial_points.empty()) return o.initial_points;
  std::vector<Eigen::VectorXd> starts;
  for (const CriticalComponent& c : components) {
    if (c.type == CriticalType::kMinimum) starts.push_back(c.point);
  }
  if (!starts.empty()) return starts;
  const Domain& box = problem.domain;
  for (long c = 0; c < o.chains; ++c) {
    const Eigen::VectorXd u = KroneckerPoint(problem.dimension(), c);
    starts.push_back(box.lower + (box.upper - box.lower).cwiseProduct(u));
  }
  return starts;
}

// Blocks of at most kMaxBlock chains, a multiple of the thread count where the chains allow it.
int NumBlocks(int chains, int threads) {
  const int needed = (chains + kMaxBlock - 1) / kMaxBlock;
  const int balanced = (needed + threads - 1) / threads * threads;
  const int smallest = std::max(needed, (chains + kMinBlock - 1) / kMinBlock);
  return std::max(1, std::min(balanced, smallest));
}

void Totals(SimulationResult* r, int d, int k) {
  r->occupation.assign(k, 0.0);
  r->transitions.assign(k, std::vector<long>(k, 0));
  r->exit_times.assign(k, ExitTimes());
  r->mean = Eigen::VectorXd::Zero(d);
  r->second_moment = Eigen::VectorXd::Zero(d);
  std::vector<long> occupation(k, 0), basins(k, 0);
  long outside = 0, unclassified = 0;
  for (const SimulationChain& c : r->per_chain) {
    if (c.diverged) {
      ++r->diverged;
      ++r->diverged_by_reason[static_cast<int>(c.divergence_reason)];
      continue;
    }
    r->recorded_steps += c.recorded_steps;
    for (int i = 0; i < k; ++i) {
      occupation[i] += c.occupation[i];
      for (int j = 0; j < k; ++j) r->transitions[i][j] += c.transitions[i * k + j];
      r->exit_times[i].Merge(c.exit_times[i]);
    }
    outside += c.outside;
    for (std::size_t i = 0; i < c.basin_counts.size(); ++i) basins[i] += c.basin_counts[i];
    unclassified += c.basin_unclassified;
    r->mean += c.sum;
    r->second_moment += c.sum_squares;
  }
  const double total = static_cast<double>(r->recorded_steps);
  const double nan = std::numeric_limits<double>::quiet_NaN();
  for (int i = 0; i < k; ++i) r->occupation[i] = total > 0 ? occupation[i] / total : nan;
  r->outside = total > 0 ? outside / total : nan;
  if (r->basin_interval > 0) {
    r->basin_samples = unclassified;
    for (long n : basins) r->basin_samples += n;
    const double samples = static_cast<double>(r->basin_samples);
    r->basin_occupation.assign(k, nan);
    for (int i = 0; i < k; ++i) r->basin_occupation[i] = samples > 0 ? basins[i] / samples : nan;
    r->basin_unclassified = samples > 0 ? unclassified / samples : nan;
  }
  r->mean = total > 0 ? Eigen::VectorXd(r->mean / total) : Eigen::VectorXd::Constant(d, nan);
  r->second_moment =
      total > 0 ? Eigen::VectorXd(r->second_moment / total) : Eigen::VectorXd::Constant(d, nan);
}

nlohmann::json ExitTimesJson(const ExitTimes& e, bool samples) {
  nlohmann::json j = {{"count", e.count},
                      {"mean", e.count > 0 ? nlohmann::json(e.mean()) : nlohmann::json()},
                      {"variance", e.count > 1 ? nlohmann::json(e.variance()) : nlohmann::json()},
                      {"min", e.min},
                      {"max", e.max},
                      {"censored", e.censored},
                      {"at_risk", e.at_risk},
                      {"events", e.events},
                      {"sum", e.sum},
                      {"sum_squares", e.sum_squares}};
  if (samples) j["samples"] = e.samples;
  return j;
}

nlohmann::json VectorJson(const Eigen::VectorXd& v) {
  nlohmann::json j = nlohmann::json::array();
  for (int i = 0; i < v.size(); ++i)
    j.push_back(std::isfinite(v[i]) ? nlohmann::json(v[i]) : nlohmann::json());
  return j;
}

nlohmann::json NumberJson(double v) {
  return std::isfinite(v) ? nlohmann::json(v) : nlohmann::json();
}

}  // namespace

nlohmann::json ToJson(const SimulationResult& result, bool per_chain) {
  const int k = static_cast<int>(result.radius.size());
  nlohmann::json occupation = nlohmann::json::array();
  for (double v : result.occupation) occupation.push_back(NumberJson(v));
  nlohmann::json exits = nlohmann::json::array();
  for (const ExitTimes& e : result.exit_times) exits.push_back(ExitTimesJson(e, false));
  nlohmann::json reasons = nlohmann::json::object();
  for (int r = 1; r < kNumDivergenceReasons; ++r)
    reasons[ToString(static_cast<DivergenceReason>(r))] = result.diverged_by_reason[r];
  nlohmann::json j = {{"step_size", result.step_size},
                      {"steps", result.steps},
                      {"burn_in", result.burn_in},
                      {"chains", result.chains},
                      {"seed", result.seed},
                      {"radius", result.radius},
                      {"recorded_steps", result.recorded_steps},
                      {"occupation", occupation},
                      {"outside", NumberJson(result.outside)},
                      {"transitions", result.transitions},
                      {"diverged", result.diverged},
                      {"divergence_reasons", reasons},
                      {"exit_times", exits},
                      {"mean", VectorJson(result.mean)},
                      {"second_moment", VectorJson(result.second_moment)}};
  if (result.basin_interval > 0) {
    nlohmann::json basins = nlohmann::json::array();
    for (double v : result.basin_occupation) basins.push_back(NumberJson(v));
    j["basin_interval"] = result.basin_interval;
    j["basin_samples"] = result.basin_samples;
    j["basin_occupation"] = basins;
    j["basin_unclassified"] = NumberJson(result.basin_unclassified);
  }
  if (!per_chain) return j;
  nlohmann::json chains = nlohmann::json::array();
  for (const SimulationChain& c : result.per_chain) {
    nlohmann::json transitions = nlohmann::json::array();
    for (int i = 0; i < k; ++i) {
      transitions.push_back(
          std::vector<long>(c.transitions.begin() + i * k, c.transitions.begin() + (i + 1) * k));
    }
    nlohmann::json chain_exits = nlohmann::json::array();
    for (const ExitTimes& e : c.exit_times)
      chain_exits.push_back(ExitTimesJson(e, !e.samples.empty()));
    nlohmann::json entry = {{"start", VectorJson(c.start)},
                            {"start_component", c.start_component},
                            {"recorded_steps", c.recorded_steps},
                            {"occupation", c.occupation},
                            {"outside", c.outside},
                            {"transitions", transitions},
                            {"exit_times", chain_exits},
                            {"sum", VectorJson(c.sum)},
                            {"sum_squares", VectorJson(c.sum_squares)},
                            {"diverged", c.diverged}};
    if (c.diverged) {
      entry["divergence_step"] = c.divergence_step;
      entry["divergence_reason"] = ToString(c.divergence_reason);
    }
    if (c.final_state.size() > 0) entry["final_state"] = VectorJson(c.final_state);
    if (!c.basin_counts.empty()) {
      entry["basin_counts"] = c.basin_counts;
      entry["basin_unclassified"] = c.basin_unclassified;
    }
    chains.push_back(entry);
  }
  j["per_chain"] = chains;
  return j;
}

namespace {

// The record of a chain as if the run ended at step `steps`: the open run's occupation, the
// running sojourn counted as censored, and the moments with x_steps added (they run a step behind;
// x_steps is recorded as burn_in < steps). A chain that diverged was closed when it did.
SimulationChain Closed(const SimulationChain& open, const LaneState& lane, const SimulationOptions& o,
                       long steps) {
  SimulationChain r = open;
  if (!lane.active) return r;
  const long recorded = std::max(0L, steps - std::max(lane.run_start, o.burn_in + 1) + 1);
  if (lane.region >= 0) {
    r.occupation[lane.region] += recorded;
  } else {
    r.outside += recorded;
  }
  if (lane.last >= 0 && lane.entry >= o.burn_in) ++r.exit_times[lane.last].censored;
  if (lane.last >= 0) r.exit_times[lane.last].AddAtRisk(steps - std::max(lane.entry, o.burn_in), 0);
  r.recorded_steps = steps - o.burn_in;
  r.sum = lane.sum + lane.x;
  r.sum_squares = lane.sum_squares + lane.x.cwiseAbs2();
  if (o.record_final_states) r.final_state = lane.x;
  return r;
}

}  // namespace

struct SimulationRun::State {
  SimulationOptions options;
  const Problem& problem;
  const std::vector<CriticalComponent>& components;
  Status status;
  std::unique_ptr<SgdNoise> noise;
  std::vector<double> radius;
  std::unique_ptr<Neighbourhoods> neighbourhoods;
  std::unique_ptr<BasinClassifier> basins;
  std::unique_ptr<Context> context;
  std::vector<SimulationChain> open;  // the chains' records, runs and sojourns still open
  std::vector<LaneState> lanes;
  long steps_done = 0;
  Simulator::Summary summary;
};

SimulationRun::SimulationRun(const Problem& problem, const std::vector<CriticalComponent>& components,
                             SimulationOptions options)
    : state_(std::make_unique<State>(State{std::move(options), problem, components})) {
  State& st = *state_;
  const SimulationOptions& o = st.options;
  if (std::string error = Validate(o, problem, components); !error.empty()) {
    st.status = Status(StatusCode::kInvalidOptions, error);
    return;
  }
  Status noise_status;
  st.noise = MakeSgdNoise(problem, o.seed, &noise_status);
  if (!st.noise) {
    st.status = Status(noise_status.code(), "Invalid configuration. " + noise_status.message());
    return;
  }
  st.radius = o.radius.empty() ? DefaultRadii(components, *problem.objective, *st.noise, problem.domain, o.step_size)
                               : o.radius;
  st.neighbourhoods = std::make_unique<Neighbourhoods>(components, st.radius);
  if (o.basin_interval > 0) {
    BasinClassifier::Options basin_options;
    if (const std::shared_ptr<const Network> net = problem.network; net != nullptr && net->SymmetryOrder() > 1) {
      basin_options.canonicalize = [net](double* x) { net->Canonicalize(x, Network::kCanonicalTolerance); };
    }
    st.basins = std::make_unique<BasinClassifier>(*problem.objective, components, basin_options);
  }
  const int d = problem.dimension(), k = static_cast<int>(components.size());
  st.context = std::make_unique<Context>(Context{o, *st.noise, *st.neighbourhoods, st.basins.get(), d, k, {}, {},
                                                 StartPoints(o, problem, components)});
  st.context->centre = (problem.domain.lower + problem.domain.upper) / 2;
  st.context->bound = (problem.domain.upper - problem.domain.lower) / 2 * o.divergence_factor;
  st.open.resize(o.chains);
  st.lanes.resize(o.chains);
  st.status = Status::Ok();
}

SimulationRun::~SimulationRun() = default;

const Status& SimulationRun::status() const { return state_->status; }
long SimulationRun::steps_done() const { return state_->steps_done; }
const Simulator::Summary& SimulationRun::summary() const { return state_->summary; }

Status SimulationRun::Advance(long steps, const std::string& label) {
  State& st = *state_;
  if (!st.status.ok()) return st.status;
  const SimulationOptions& o = st.options;
  if (steps <= st.steps_done || steps <= o.burn_in) {
    return Status(StatusCode::kInvalidOptions,
                  "Invalid configuration. SimulationRun::Advance(" + std::to_string(steps) +
                      "): steps > steps done (" + std::to_string(st.steps_done) + ") and > burn_in (" +
                      std::to_string(o.burn_in) + ")");
  }
  // The root's clock: the rate feeds the verifier's budget decisions, the same on every rank.
  const double start_time = Cluster::Get().Seconds();
  const int threads = ResolveThreads(o.num_threads);
  int blocks = 0;
  const long from = st.steps_done;
  Progress progress(o.progress, static_cast<double>(o.chains) * static_cast<double>(steps - from), "steps",
                    label);
  // A chain's path depends on its index alone, so any split of the chains over ranks and blocks
  // gives the same chains; every rank ends the round holding every chain's state.
  DistributedShares(
      o.chains,
      [&](Share mine) {
        blocks = NumBlocks(mine.count, threads);
        ParallelFor(blocks, threads, [&](int b) {
          const int begin = mine.first + static_cast<int>(static_cast<long>(mine.count) * b / blocks);
          const int end = mine.first + static_cast<int>(static_cast<long>(mine.count) * (b + 1) / blocks);
          BlockRunner(*st.context, begin, end - begin, &st.open, &st.lanes, &progress).Run(from, steps);
        });
      },
      [&](auto& archive, int c) { archive(st.open[c], st.lanes[c]); });
  progress.Finish();
  st.steps_done = steps;
  Simulator::Summary& summary = st.summary;
  summary = Simulator::Summary();
  summary.status = Status::Ok();
  summary.noise = st.noise->Describe();
  summary.num_components = static_cast<int>(st.components.size());
  summary.chains = o.chains;
  summary.steps_per_chain = steps;
  summary.num_threads = std::min(threads, blocks);
  summary.num_blocks = blocks;
  summary.num_ranks = Cluster::Get().size();
  summary.time_seconds = Cluster::Get().Seconds() - start_time;
  const double round_steps = static_cast<double>(o.chains) * static_cast<double>(steps - from);
  summary.steps_per_second = summary.time_seconds > 0 ? round_steps / summary.time_seconds : 0.0;
  summary.total_steps = static_cast<double>(o.chains) * static_cast<double>(steps);
  return Status::Ok();
}

SimulationResult SimulationRun::Result() const {
  const State& st = *state_;
  const SimulationOptions& o = st.options;
  SimulationResult result;
  if (!st.status.ok() || st.steps_done == 0) return result;
  result.step_size = o.step_size;
  result.steps = st.steps_done;
  result.burn_in = o.burn_in;
  result.chains = o.chains;
  result.seed = o.seed;
  result.radius = st.radius;
  result.basin_interval = o.basin_interval;
  result.per_chain.reserve(o.chains);
  for (int c = 0; c < o.chains; ++c) result.per_chain.push_back(Closed(st.open[c], st.lanes[c], o, st.steps_done));
  Totals(&result, st.problem.dimension(), static_cast<int>(st.components.size()));
  return result;
}

namespace {

// The least number of transitions into or out of a minimum's neighbourhood; -1 with no minima.
long FewestMinimumTransitions(const SimulationResult& result, const std::vector<CriticalComponent>& components) {
  long fewest = -1;
  const int k = static_cast<int>(components.size());
  for (int i = 0; i < k; ++i) {
    if (components[i].type != CriticalType::kMinimum) continue;
    long in = 0, out = 0;
    for (int j = 0; j < k; ++j) {
      in += result.transitions[j][i];
      out += result.transitions[i][j];
    }
    fewest = fewest < 0 ? std::min(in, out) : std::min(fewest, std::min(in, out));
  }
  return fewest;
}

}  // namespace

SimulationResult Simulator::Simulate(const Problem& problem,
                                     const std::vector<CriticalComponent>& components,
                                     Summary* summary) const {
  *summary = Summary();
  SimulationRun run(problem, components, options_);
  if (!run.status().ok()) {
    summary->status = run.status();
    return SimulationResult();
  }
  run.Advance(options_.steps);
  SimulationResult result = run.Result();
  *summary = run.summary();
  summary->diverged = result.diverged;
  summary->min_minimum_transitions = FewestMinimumTransitions(result, components);
  return result;
}

std::string Simulator::Summary::BriefReport() const {
  if (!status.ok()) return "Simulation not run: " + status.message();
  std::ostringstream out;
  out.precision(3);
  out << "Simulation: " << chains << " chains x " << steps_per_chain << " steps, " << diverged
      << " diverged; " << total_steps << " steps in " << time_seconds << " s (" << steps_per_second
      << " steps/s, ";
  if (num_ranks > 1) out << num_ranks << " ranks x ";
  out << num_threads << (num_threads == 1 ? " thread)" : " threads)");
  if (min_minimum_transitions >= 0) {
    out << "; fewest transitions at a minimum: " << min_minimum_transitions;
  }
  return out.str();
}

std::string Simulator::Summary::FullReport() const {
  if (!status.ok()) return "Simulation not run: " + status.message();
  std::ostringstream out;
  out.precision(4);
  out << "Simulation\n"
      << "  noise                    " << noise << "\n"
      << "  components               " << num_components << "\n"
      << "  chains                   " << chains << " (" << diverged << " diverged)\n"
      << "  steps per chain          " << steps_per_chain << "\n"
      << "  total steps              " << total_steps << "\n"
      << "  threads, blocks          " << num_threads << ", " << num_blocks << "\n"
      << "  time                     " << time_seconds << " s\n"
      << "  rate                     " << steps_per_second << " steps/s\n";
  out << "  fewest minimum transitions ";
  if (min_minimum_transitions >= 0) {
    out << min_minimum_transitions << "\n";
  } else {
    out << "(no minima)\n";
  }
  return out.str();
}

}  // namespace ldsgd
