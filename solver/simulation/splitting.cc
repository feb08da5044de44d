#include "solver/simulation/splitting.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <memory>
#include <numeric>
#include <sstream>

#include <boost/math/distributions/chi_squared.hpp>
#include <boost/math/distributions/students_t.hpp>

#include "solver/noise/sgd_noise.h"
#include "solver/numerics/distributed.h"
#include "solver/numerics/parallel.h"
#include "solver/numerics/philox_normals.h"
#include "solver/simulation/departures.h"
#include "solver/simulation/lane_stepper.h"

namespace ldsgd {
namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();
// Philox streams of the runs: run m is MixSeed(seed, kRunStream + m).
constexpr std::uint64_t kRunStream = 0x616d7300;  // "ams"
// Streams of a finite sum's tilted index draws (lane_stepper.h), run m: kTiltStream + m.
constexpr std::uint64_t kTiltStream = 0x74696c00;  // "til"
// The reserved trajectory id of the survivor draws (trajectories are numbered from 0 up).
constexpr std::uint32_t kChoiceId = 0xFFFFFFFFu;
// Default k: a tenth of the replicas (resimulated together as one batch), at most one block.
constexpr int kKilledDivisor = 10;

// A replica: its record states (where the running maximum of xi rose), their scores and steps.
struct Replica {
  std::vector<double> states;  // d per record
  std::vector<double> scores;
  std::vector<long> at;        // step of each record, counted from the departure
  std::vector<double> log_weight;  // likelihood ratio up to each record (0 without tilt)
  long length = 0;             // steps to its stopping time
  bool in_target = false, diverged = false;
  bool stopped = false;        // its last record is in B, A or another set: nothing to simulate
  double level() const { return scores.back(); }
};

class Run {
 public:
  Run(const Problem& problem, const PathCoordinate& xi, const RareEventSets& sets,
      const std::vector<Eigen::VectorXd>& starts, const SplittingOptions& o, int killed, int index)
      : xi_(xi), sets_(sets), starts_(starts), o_(o), k_(killed), d_(xi.dimension()),
        key_(KeyFromSeed(MixSeed(o.seed, kRunStream + index))) {
    Status status;
    noise_ = MakeSgdNoise(problem, MixSeed(o.seed, kRunStream + index), &status);
    stepper_ = std::make_unique<LaneStepper>(problem, *noise_, o.step_size, o.divergence_factor);
    stepper_->SetTilt(o.tilt, &xi_, KeyFromSeed(MixSeed(o.seed, kTiltStream + index)), o.tilt_tube);
  }

  // Runs the algorithm; false with *error set when an excursion exceeded its step limit.
  bool Execute(SplittingRun* out, std::string* error) {
    const int n = o_.replicas;
    replicas_.assign(n, Replica{});
    std::vector<int> fresh(n);
    for (int r = 0; r < n; ++r) {
      const Eigen::VectorXd& x0 = starts_[Draw(0, r, starts_.size())];
      Begin(&replicas_[r], x0.data(), 0);
      fresh[r] = r;
    }
    if (!Simulate(fresh, error)) return false;
    double log_p = 0.0;
    std::vector<double> levels(n);
    for (long q = 1;; ++q) {
      for (int r = 0; r < n; ++r) levels[r] = replicas_[r].level();
      std::nth_element(levels.begin(), levels.begin() + (k_ - 1), levels.end());
      const double z = levels[k_ - 1];
      if (z >= kTargetScore) break;
      std::vector<int> killed, survivors;
      for (int r = 0; r < n; ++r) (replicas_[r].level() <= z ? killed : survivors).push_back(r);
      if (survivors.empty()) {
        out->extinct = true;
        out->log_probability = -kInf;
        extinct_bound_ = log_p;
        break;
      }
      log_p += std::log1p(-static_cast<double>(killed.size()) / n);
      for (std::size_t m = 0; m < killed.size(); ++m) {
        const int parent = survivors[Draw(q, static_cast<std::uint32_t>(m), survivors.size())];
        Branch(replicas_[parent], z, &replicas_[killed[m]]);
      }
      ++out->iterations;
      if (!Simulate(killed, error)) return false;
      if (o_.max_steps_per_run > 0 && steps_ > o_.max_steps_per_run) {
        out->steps = steps_;
        return true;  // incomplete
      }
    }
    out->complete = true;
    out->steps = steps_;
    out->diverged = diverged_;
    if (out->extinct) return true;
    double success = 0.0, top = -kInf;
    for (const Replica& r : replicas_) {
      if (!r.in_target) continue;
      ++out->reached;
      success += static_cast<double>(r.length);
      top = std::max(top, r.log_weight.back());
    }
    out->success_steps = out->reached > 0 ? success / out->reached : 0.0;
    double weights = 0.0;  // sum of the reached replicas' ratios, scaled by exp(-top)
    for (const Replica& r : replicas_) weights += r.in_target ? std::exp(r.log_weight.back() - top) : 0.0;
    out->log_probability = log_p + top + std::log(weights / n);
    return true;
  }

  double extinct_bound() const { return extinct_bound_; }

 private:
  // A uniform index in [0, n) from the reserved stream: (iteration, ordinal).
  std::size_t Draw(long iteration, std::uint32_t ordinal, std::size_t n) const {
    const auto w = PhiloxBlock(key_, kChoiceId, static_cast<std::uint64_t>(iteration), ordinal);
    const std::uint64_t word = (static_cast<std::uint64_t>(w[0]) << 32) | w[1];
    return ScaleToRange(word, static_cast<std::uint32_t>(n));
  }

  double Score(const double* x) const {
    return sets_.Locate(x) == Region::kTarget ? kTargetScore : xi_(x);
  }

  void Record(Replica* r, const double* x, double score, long step, double log_weight) const {
    r->states.insert(r->states.end(), x, x + d_);
    r->scores.push_back(score);
    r->at.push_back(step);
    r->log_weight.push_back(log_weight);
  }

  void Begin(Replica* r, const double* x, long step) const {
    *r = Replica{};
    Record(r, x, Score(x), step, 0.0);
    r->length = step;
    r->in_target = r->scores.back() >= kTargetScore;
    r->stopped = sets_.Locate(x) != Region::kNone;
  }

  // The child: the parent up to its first record above z, to be continued from there.
  void Branch(const Replica& parent, double z, Replica* child) const {
    const std::size_t m = static_cast<std::size_t>(
        std::upper_bound(parent.scores.begin(), parent.scores.end(), z) - parent.scores.begin());
    *child = Replica{};
    child->states.assign(parent.states.begin(), parent.states.begin() + (m + 1) * d_);
    child->scores.assign(parent.scores.begin(), parent.scores.begin() + m + 1);
    child->at.assign(parent.at.begin(), parent.at.begin() + m + 1);
    child->log_weight.assign(parent.log_weight.begin(), parent.log_weight.begin() + m + 1);
    child->length = child->at.back();
    child->in_target = child->scores.back() >= kTargetScore;
    // Only a departure state can be a record inside A or another set (later records are taken
    // outside them); a child branched there stops there too.
    child->stopped = sets_.Locate(child->states.data() + m * d_) != Region::kNone;
  }

  // Continues the given replicas from their last record to their stopping times, in blocks of
  // consecutive trajectory ids.
  bool Simulate(const std::vector<int>& which, std::string* error) {
    for (std::size_t first = 0; first < which.size(); first += kLaneBlock) {
      const int count = static_cast<int>(std::min<std::size_t>(kLaneBlock, which.size() - first));
      if (!SimulateBlock(which.data() + first, count, error)) return false;
    }
    return true;
  }

  bool SimulateBlock(const int* which, int count, std::string* error) {
    const std::uint32_t first_id = next_id_;
    next_id_ += static_cast<std::uint32_t>(count);
    std::vector<double> x(static_cast<std::size_t>(d_) * kLaneBlock, 0.0);
    std::vector<char> active(count, 0);
    bool bad[kLaneBlock];
    double log_weight[kLaneBlock];
    for (int l = 0; l < count; ++l) {
      const Replica& r = replicas_[which[l]];
      const double* last = r.states.data() + (r.scores.size() - 1) * d_;
      for (int i = 0; i < d_; ++i) x[i * kLaneBlock + l] = last[i];
      log_weight[l] = r.log_weight.back();
      active[l] = r.stopped ? 0 : 1;
    }
    std::vector<double> point(d_);
    for (long s = 0;; ++s) {
      int running = 0;
      for (int l = 0; l < count;) {  // step each maximal run of consecutive active lanes
        if (!active[l]) { ++l; continue; }
        int e = l;
        while (e < count && active[e]) ++e;
        stepper_->Step(first_id + l, e - l, static_cast<std::uint64_t>(s), x.data() + l, bad + l, log_weight + l);
        running += e - l;
        l = e;
      }
      if (running == 0) return true;
      steps_ += running;
      for (int l = 0; l < count; ++l) {
        if (!active[l]) continue;
        Replica& r = replicas_[which[l]];
        ++r.length;
        if (bad[l]) {
          r.diverged = true;
          ++diverged_;
          active[l] = 0;
          continue;
        }
        for (int i = 0; i < d_; ++i) point[i] = x[i * kLaneBlock + l];
        const Region region = sets_.Locate(point.data());
        if (region == Region::kStart || region == Region::kOther) {
          active[l] = 0;
        } else if (region == Region::kTarget) {
          Record(&r, point.data(), kTargetScore, r.length, log_weight[l]);
          r.in_target = true;
          active[l] = 0;
        } else {
          const double score = xi_(point.data());
          if (score > r.level()) Record(&r, point.data(), score, r.length, log_weight[l]);
        }
        if (active[l] && s + 1 >= o_.max_trajectory_steps) {
          std::ostringstream why;
          why << "an excursion ran " << o_.max_trajectory_steps
              << " steps without returning to U_i or reaching U_j (at x = (" << Join(point) << "), eta = "
              << o_.step_size << "): the sets may not cover where the chain settles";
          *error = why.str();
          return false;
        }
      }
    }
  }

  static std::string Join(const std::vector<double>& v) {
    std::ostringstream s;
    for (std::size_t i = 0; i < v.size(); ++i) s << (i ? ", " : "") << v[i];
    return s.str();
  }

  const PathCoordinate& xi_;
  const RareEventSets& sets_;
  const std::vector<Eigen::VectorXd>& starts_;
  const SplittingOptions& o_;
  int k_, d_;
  PhiloxKey key_;
  std::unique_ptr<SgdNoise> noise_;
  std::unique_ptr<LaneStepper> stepper_;
  std::vector<Replica> replicas_;
  std::uint32_t next_id_ = 0;
  double steps_ = 0.0;
  long diverged_ = 0;
  double extinct_bound_ = 0.0;
};

double StudentQuantile(int dof) {
  return boost::math::quantile(boost::math::complement(boost::math::students_t(dof), 0.025));
}

// ln p and its interval from the runs (see the header).
void Combine(const std::vector<double>& extinct_bounds, SplittingResult* out) {
  const int m = static_cast<int>(out->runs.size());
  std::vector<double> logs;
  for (const SplittingRun& r : out->runs) logs.push_back(r.log_probability);
  const double t = StudentQuantile(m - 1);
  const double top = *std::max_element(logs.begin(), logs.end());
  if (top == -kInf) {  // all extinct
    out->log_probability = out->log_lower = -kInf;
    out->log_upper = *std::max_element(extinct_bounds.begin(), extinct_bounds.end());
    return;
  }
  const bool any_extinct = std::any_of(logs.begin(), logs.end(), [](double v) { return v == -kInf; });
  if (any_extinct) {  // plain mean of p_hat (scaled by exp(top)), delta-method interval
    double mean = 0.0, ss = 0.0;
    for (double v : logs) mean += std::exp(v - top) / m;
    for (double v : logs) ss += std::pow(std::exp(v - top) - mean, 2);
    const double se = std::sqrt(ss / (m - 1) / m);
    out->log_probability = top + std::log(mean);
    out->log_lower = mean - t * se > 0 ? top + std::log(mean - t * se) : -kInf;
    out->log_upper = top + std::log(mean + t * se);
    return;
  }
  const double mu = std::accumulate(logs.begin(), logs.end(), 0.0) / m;
  double s2 = 0.0;
  for (double v : logs) s2 += (v - mu) * (v - mu);
  s2 /= (m - 1);
  const double se = std::sqrt(s2 / m + s2 * s2 / (2.0 * (m - 1)));
  out->log_probability = std::min(0.0, mu + s2 / 2);
  out->log_lower = mu + s2 / 2 - t * se;
  out->log_upper = std::min(0.0, mu + s2 / 2 + t * se);
}

std::string ValidateStarts(const std::vector<Eigen::VectorXd>& starts, int d) {
  if (starts.empty()) return "there is no departure state to start from";
  for (std::size_t s = 0; s < starts.size(); ++s) {
    if (starts[s].size() != d || !starts[s].allFinite()) return "departure state " + std::to_string(s) + " is not a finite point of dimension " + std::to_string(d);
  }
  return "";
}

}  // namespace

Status SplittingOptions::Validate() const {
  std::ostringstream why;
  if (!(step_size > 0) || !std::isfinite(step_size)) why << "step_size = " << step_size << " (must be positive)";
  else if (replicas < 2) why << "replicas = " << replicas << " (must be >= 2)";
  else if (runs < 2) why << "runs = " << runs << " (must be >= 2, for the interval)";
  else if (killed < 0 || killed >= replicas) why << "killed = " << killed << " (0 <= killed < replicas)";
  else if (max_trajectory_steps < 1) why << "max_trajectory_steps = " << max_trajectory_steps << " (must be >= 1)";
  else if (!(max_steps_per_run >= 0)) why << "max_steps_per_run = " << max_steps_per_run << " (must be >= 0)";
  else if (!(divergence_factor >= 1)) why << "divergence_factor = " << divergence_factor << " (must be >= 1)";
  else if (num_threads < 0) why << "num_threads = " << num_threads << " (must be >= 0)";
  else if (!(tilt >= 0 && tilt <= 1)) why << "tilt = " << tilt << " (0 <= tilt <= 1)";
  else if (!(tilt_tube > 0)) why << "tilt_tube = " << tilt_tube << " (must be positive)";
  else return Status::Ok();
  return Status(StatusCode::kInvalidOptions, "Invalid configuration. " + why.str());
}

SplittingResult RunSplitting(const Problem& problem, const PathCoordinate& xi, const RareEventSets& sets,
                             const std::vector<Eigen::VectorXd>& starts, const SplittingOptions& o) {
  SplittingResult out;
  out.status = o.Validate();
  if (!out.status.ok()) return out;
  const int d = static_cast<int>(problem.domain.lower.size());
  std::string why = sets.Validate(d);
  if (why.empty() && xi.dimension() != d) why = "the reaction coordinate's path has the wrong dimension";
  if (why.empty()) why = ValidateStarts(starts, d);
  if (why.empty() && o.tilt > 0 && !problem.noise.is_isotropic() && !problem.noise.is_finite_sum()) {
    why = "importance sampling (tilt) needs isotropic Gaussian noise or a finite sum";
  }
  if (!why.empty()) {
    out.status = Status(StatusCode::kInvalidInput, why);
    return out;
  }
  Status noise_status;
  if (!MakeSgdNoise(problem, o.seed, &noise_status)) {
    out.status = noise_status;
    return out;
  }
  out.replicas = o.replicas;
  out.killed = o.killed > 0 ? o.killed : std::min(kLaneBlock, (o.replicas + kKilledDivisor - 1) / kKilledDivisor);
  out.runs.assign(o.runs, SplittingRun{});
  std::vector<std::string> errors(o.runs);
  std::vector<double> bounds(o.runs, -kInf);
  // Run m's random numbers are keyed by (seed, m): the runs are spread over the ranks of an MPI job.
  DistributedFor(
      o.runs, o.num_threads,
      [&](int m) {
        Run run(problem, xi, sets, starts, o, out.killed, m);
        if (run.Execute(&out.runs[m], &errors[m]) && out.runs[m].extinct) bounds[m] = run.extinct_bound();
      },
      [&](auto& archive, int m) { archive(out.runs[m], errors[m], bounds[m]); });
  for (const std::string& e : errors) {
    if (!e.empty()) {
      out.status = Status(StatusCode::kNumericalIssue, e);
      return out;
    }
  }
  out.complete = true;
  double success = 0.0;
  int reached = 0;
  for (const SplittingRun& r : out.runs) {
    out.complete = out.complete && r.complete;
    out.steps += r.steps;
    out.iterations += r.iterations;
    out.diverged += r.diverged;
    success += r.success_steps * r.reached;
    reached += r.reached;
  }
  out.success_steps = reached > 0 ? success / reached : 0.0;
  if (out.complete) Combine(bounds, &out);
  out.status = Status::Ok();
  return out;
}

}  // namespace ldsgd
