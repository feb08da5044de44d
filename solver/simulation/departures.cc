#include "solver/simulation/departures.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <memory>
#include <sstream>

#include <boost/math/distributions/students_t.hpp>

#include "solver/noise/sgd_noise.h"
#include "solver/numerics/distributed.h"
#include "solver/numerics/parallel.h"
#include "solver/simulation/lane_stepper.h"

namespace ldsgd {
namespace {

// Chains per block: small enough that a handful of chains still makes several blocks for the
// threads, large enough that the noise's batch evaluation pays.
constexpr int kDepartureBlock = 16;
// Stream of the departure chains' Philox key (splitting uses other streams of the same seed).
constexpr std::uint64_t kDepartureStream = 0x64657061;  // "depa"

// One chain's tally.
struct ChainTally {
  std::vector<Eigen::VectorXd> points;
  long departures = 0, successes = 0, others = 0, diverged = 0, loops = 0;
  double loop_sum = 0.0;
  long steps = 0;
  bool complete = false;
};

template <class Archive>
void Serialize(Archive& a, ChainTally& t) {
  a(t.points, t.departures, t.successes, t.others, t.diverged, t.loops, t.loop_sum, t.steps, t.complete);
}

// Per lane: where it is in the departure / excursion cycle.
struct LaneCycle {
  bool outside = false;        // on an excursion
  long last_departure = -1;    // step of the last departure whose loop may still close
  bool loop_open = false;      // that departure's excursion returned to A
};

class DepartureBlock {
 public:
  DepartureBlock(const Problem& problem, const RareEventSets& sets, const DepartureOptions& o,
                 const SgdNoise& noise, long quota, long keep)
      : sets_(sets), o_(o), stepper_(problem, noise, o.step_size, o.divergence_factor), quota_(quota), keep_(keep),
        d_(stepper_.dimension()) {}

  void Run(int first_chain, int count, ChainTally* tally) {
    std::vector<double> x(static_cast<std::size_t>(d_) * kLaneBlock, 0.0);
    std::vector<LaneCycle> cycle(count);
    for (int l = 0; l < count; ++l) Restart(x.data(), l);
    bool bad[kLaneBlock];
    double point[kMaxDim];
    int done = 0;
    for (long t = 0; t < o_.max_steps_per_chain && done < count; ++t) {
      stepper_.Step(static_cast<std::uint32_t>(first_chain), count, static_cast<std::uint64_t>(t), x.data(), bad);
      const long s = t + 1;
      for (int l = 0; l < count; ++l) {
        ChainTally& c = tally[l];
        if (c.complete) continue;
        c.steps = s;
        if (bad[l]) {
          if (cycle[l].outside) ++c.diverged;
          cycle[l] = LaneCycle{};
          Restart(x.data(), l);
          continue;
        }
        for (int i = 0; i < d_; ++i) point[i] = x[i * kLaneBlock + l];
        if (Advance(s, point, &cycle[l], &c)) Restart(x.data(), l);
        if (c.departures >= quota_) {
          c.complete = true;
          ++done;
        }
      }
    }
  }

 private:
  static constexpr int kMaxDim = 4096;

  void Restart(double* x, int l) const {
    for (int i = 0; i < d_; ++i) x[i * kLaneBlock + l] = sets_.start.centre[i];
  }

  // The chain is at `point` after step s. Returns whether it ended in a target or another
  // stopping set, and must restart at A's centre.
  bool Advance(long s, const double* point, LaneCycle* cy, ChainTally* c) const {
    const Region region = sets_.Locate(point);
    if (!cy->outside) {
      if (region == Region::kStart) return false;
      // A departure: it closes the loop of the previous one if that excursion came back.
      const bool counts = s > o_.burn_in;
      if (counts) {
        ++c->departures;
        if (static_cast<long>(c->points.size()) < keep_) c->points.emplace_back(Eigen::Map<const Eigen::VectorXd>(point, d_));
        if (cy->loop_open) {
          ++c->loops;
          c->loop_sum += static_cast<double>(s - cy->last_departure);
        }
      }
      cy->outside = true;
      cy->loop_open = false;
      cy->last_departure = counts ? s : -1;
    }
    switch (region) {
      case Region::kStart:
        cy->outside = false;
        cy->loop_open = cy->last_departure >= 0;
        return false;
      case Region::kTarget:
        if (cy->last_departure >= 0) ++c->successes;
        break;
      case Region::kOther:
        if (cy->last_departure >= 0) ++c->others;
        break;
      case Region::kNone:
        return false;
    }
    *cy = LaneCycle{};
    return true;
  }

  const RareEventSets& sets_;
  const DepartureOptions& o_;
  LaneStepper stepper_;
  long quota_, keep_;
  int d_;
};

// The 95% interval of the mean loop time, from per-chain loop means weighted by their loops
// (a ratio estimator: total time over total loops, with chains as batches).
void LoopInterval(const std::vector<ChainTally>& tally, DepartureSample* out) {
  double time = 0.0;
  long loops = 0;
  for (const ChainTally& c : tally) {
    time += c.loop_sum;
    loops += c.loops;
  }
  const double nan = std::numeric_limits<double>::quiet_NaN();
  out->loops = loops;
  out->loop_steps = loops > 0 ? time / loops : nan;
  out->loop_lower = out->loop_upper = nan;
  const int n = static_cast<int>(tally.size());
  if (loops == 0 || n < 2) return;
  const double mean_loops = static_cast<double>(loops) / n;
  double ss = 0.0;
  for (const ChainTally& c : tally) {
    const double r = (c.loop_sum - out->loop_steps * c.loops) / mean_loops;
    ss += r * r;
  }
  const double se = std::sqrt(ss / (n - 1) / n);
  const double t = boost::math::quantile(boost::math::complement(boost::math::students_t(n - 1), 0.025));
  out->loop_lower = out->loop_steps - t * se;
  out->loop_upper = out->loop_steps + t * se;
}

}  // namespace

std::uint64_t MixSeed(std::uint64_t seed, std::uint64_t stream) {
  std::uint64_t z = seed + 0x9E3779B97F4A7C15ULL * (stream + 1);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

Status DepartureOptions::Validate() const {
  std::ostringstream why;
  if (!(step_size > 0) || !std::isfinite(step_size)) why << "step_size = " << step_size << " (must be positive)";
  else if (departures < 1 || keep_points < 1) why << "departures = " << departures << ", keep_points = " << keep_points << " (both must be >= 1)";
  else if (chains < 1) why << "chains = " << chains << " (must be >= 1)";
  else if (burn_in < 0 || max_steps_per_chain <= burn_in) why << "burn_in = " << burn_in << ", max_steps_per_chain = " << max_steps_per_chain << " (0 <= burn_in < max_steps_per_chain)";
  else if (!(divergence_factor >= 1)) why << "divergence_factor = " << divergence_factor << " (must be >= 1)";
  else if (num_threads < 0) why << "num_threads = " << num_threads << " (must be >= 0)";
  else return Status::Ok();
  return Status(StatusCode::kInvalidOptions, "Invalid configuration. " + why.str());
}

DepartureSample SampleDepartures(const Problem& problem, const RareEventSets& sets,
                                 const DepartureOptions& o) {
  DepartureSample out;
  out.status = o.Validate();
  if (!out.status.ok()) return out;
  const int d = static_cast<int>(problem.domain.lower.size());
  if (std::string why = sets.Validate(d); !why.empty()) {
    out.status = Status(StatusCode::kInvalidInput, why);
    return out;
  }
  Status noise_status;
  std::unique_ptr<SgdNoise> noise = MakeSgdNoise(problem, MixSeed(o.seed, kDepartureStream), &noise_status);
  if (!noise) {
    out.status = noise_status;
    return out;
  }
  const long quota = (o.departures + o.chains - 1) / o.chains;
  std::vector<ChainTally> tally(o.chains);
  const int blocks = (o.chains + kDepartureBlock - 1) / kDepartureBlock;
  // The blocks are spread over the ranks of an MPI job; a chain's departures depend on its index alone.
  DistributedFor(
      blocks, o.num_threads,
      [&](int b) {
        const int first = b * kDepartureBlock;
        DepartureBlock block(problem, sets, o, *noise, quota, (o.keep_points + o.chains - 1) / o.chains);
        block.Run(first, std::min(kDepartureBlock, o.chains - first), tally.data() + first);
      },
      [&](auto& archive, int b) {
        for (int c = b * kDepartureBlock; c < std::min((b + 1) * kDepartureBlock, o.chains); ++c) archive(tally[c]);
      });
  out.complete = true;
  for (ChainTally& c : tally) {
    out.departures += c.departures;
    out.successes += c.successes;
    out.others += c.others;
    out.diverged += c.diverged;
    out.steps += static_cast<double>(c.steps);
    out.complete = out.complete && c.complete;
    for (Eigen::VectorXd& p : c.points) out.points.push_back(std::move(p));
  }
  LoopInterval(tally, &out);
  out.status = Status::Ok();
  if (out.departures == 0) {
    std::ostringstream s;
    s << "SGD never left the start set U_i (radius " << sets.start.radius << ") in "
      << o.max_steps_per_chain << " steps of each of " << o.chains << " chains at eta = " << o.step_size
      << ": the noise may vanish there (see `ldsgd stability`), or U_i is too large for this step size";
    out.status = Status(StatusCode::kNumericalIssue, s.str());
  }
  return out;
}

}  // namespace ldsgd
