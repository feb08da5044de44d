#include "solver/simulation/hitting_times.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <limits>
#include <memory>
#include <sstream>

#include <boost/math/distributions/students_t.hpp>

#include "solver/noise/sgd_noise.h"
#include "solver/numerics/distributed.h"
#include "solver/numerics/parallel.h"
#include "solver/simulation/departures.h"
#include "solver/simulation/lane_stepper.h"

namespace ldsgd {
namespace {

// The Philox stream of hitting-time chains ("hit").
constexpr std::uint64_t kHittingStream = 0x686974;
// Steps between looks at the clock.
constexpr long kClockInterval = 4096;

using Clock = std::chrono::steady_clock;

bool Inside(const std::vector<Ball>& targets, const double* x) {
  return std::any_of(targets.begin(), targets.end(), [&](const Ball& b) { return b.Contains(x); });
}

// Chains first .. first + count - 1 from the start until they arrive or reach the cap.
void RunBlock(const Problem& problem, const SgdNoise& noise, const Eigen::VectorXd& start, const std::vector<Ball>& targets,
              const HittingOptions& o, Clock::time_point deadline, int first, int count, long* times, double* steps) {
  LaneStepper stepper(problem, noise, o.step_size, o.divergence_factor);
  const int d = stepper.dimension();
  std::vector<double> x(static_cast<std::size_t>(d) * kLaneBlock), point(d);
  std::vector<char> active(count, 1);
  bool bad[kLaneBlock];
  for (int l = 0; l < count; ++l) {
    for (int i = 0; i < d; ++i) x[i * kLaneBlock + l] = start[i];
    times[l] = Inside(targets, start.data()) ? 0 : -1;
    active[l] = times[l] < 0;
  }
  for (long s = 0; s < o.max_steps; ++s) {
    if (o.seconds > 0 && s % kClockInterval == 0 && Clock::now() > deadline) return;
    int running = 0;
    for (int l = 0; l < count;) {  // step each maximal run of consecutive active lanes
      if (!active[l]) { ++l; continue; }
      int e = l;
      while (e < count && active[e]) ++e;
      stepper.Step(static_cast<std::uint32_t>(first + l), e - l, static_cast<std::uint64_t>(s), x.data() + l, bad + l);
      running += e - l;
      l = e;
    }
    if (running == 0) return;
    *steps += running;
    for (int l = 0; l < count; ++l) {
      if (!active[l]) continue;
      for (int i = 0; i < d; ++i) point[i] = x[i * kLaneBlock + l];
      if (bad[l]) times[l] = -2, active[l] = 0;
      else if (Inside(targets, point.data())) times[l] = s + 1, active[l] = 0;
    }
  }
}

}  // namespace

Status HittingOptions::Validate() const {
  std::ostringstream why;
  if (!(step_size > 0) || !std::isfinite(step_size)) why << "step_size = " << step_size << " (must be positive)";
  else if (chains < 2) why << "chains = " << chains << " (must be >= 2)";
  else if (max_steps < 1) why << "max_steps = " << max_steps << " (must be >= 1)";
  else if (num_threads < 0) why << "num_threads = " << num_threads << " (must be >= 0)";
  else if (!(divergence_factor >= 1)) why << "divergence_factor = " << divergence_factor << " (must be >= 1)";
  else if (!(seconds >= 0) || !std::isfinite(seconds)) why << "seconds = " << seconds << " (must be >= 0 and finite)";
  else return Status::Ok();
  return Status(StatusCode::kInvalidOptions, "Invalid configuration. " + why.str());
}

HittingSample SimulateHittingTimes(const Problem& problem, const Eigen::VectorXd& start,
                                   const std::vector<Ball>& targets, const HittingOptions& o) {
  HittingSample out;
  if (out.status = o.Validate(); !out.status.ok()) return out;
  if (start.size() != static_cast<Eigen::Index>(problem.domain.lower.size()) || !start.allFinite() || targets.empty()) {
    out.status = Status(StatusCode::kInvalidInput, "the start must be a finite point of the problem's dimension, and a target given");
    return out;
  }
  std::unique_ptr<SgdNoise> noise = MakeSgdNoise(problem, MixSeed(o.seed, kHittingStream), &out.status);
  if (!noise) return out;
  out.times.assign(o.chains, -1);
  const Clock::time_point deadline = Clock::now() + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(o.seconds));
  const int blocks = (o.chains + kLaneBlock - 1) / kLaneBlock;
  std::vector<double> steps(blocks, 0.0);
  // The blocks are spread over the ranks of an MPI job, each with the whole time allowance.
  DistributedFor(
      blocks, o.num_threads,
      [&](int b) {
        const int first = b * kLaneBlock;
        RunBlock(problem, *noise, start, targets, o, deadline, first, std::min(kLaneBlock, o.chains - first),
                 out.times.data() + first, &steps[b]);
      },
      [&](auto& archive, int b) {
        for (int c = b * kLaneBlock; c < std::min((b + 1) * kLaneBlock, o.chains); ++c) archive(out.times[c]);
        archive(steps[b]);
      });
  double sum = 0.0, ss = 0.0;
  long n = 0;
  for (long t : out.times) {
    out.censored += t == -1;
    out.diverged += t == -2;
    if (t >= 0) sum += static_cast<double>(t), ++n;
  }
  for (double s : steps) out.steps += s;
  const double nan = std::numeric_limits<double>::quiet_NaN();
  out.mean = n > 0 ? sum / n : nan;
  for (long t : out.times) ss += t >= 0 ? (t - out.mean) * (t - out.mean) : 0.0;
  out.lower = out.upper = nan;
  if (n >= 2) {
    const double half = boost::math::quantile(boost::math::complement(boost::math::students_t(n - 1), 0.025)) *
                        std::sqrt(ss / (n - 1) / n);
    out.lower = out.mean - half;
    out.upper = out.mean + half;
  }
  out.status = Status::Ok();
  return out;
}

}  // namespace ldsgd
