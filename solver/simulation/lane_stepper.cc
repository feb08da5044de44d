#include "solver/simulation/lane_stepper.h"

#include <cmath>

namespace ldsgd {

LaneStepper::LaneStepper(const Problem& problem, const SgdNoise& noise, double step_size,
                         double divergence_factor)
    : noise_(noise),
      objective_(*problem.objective),
      sigma_(problem.noise.is_isotropic() ? problem.noise.sigma() : 0.0),
      grad_(static_cast<std::size_t>(problem.domain.lower.size()) * kLaneBlock),
      eta_(step_size),
      d_(static_cast<int>(problem.domain.lower.size())),
      centre_((problem.domain.lower + problem.domain.upper) / 2),
      bound_((problem.domain.upper - problem.domain.lower) / 2 * divergence_factor),
      g_(static_cast<std::size_t>(d_) * kLaneBlock),
      failed_(kLaneBlock) {}

void LaneStepper::SetTilt(double theta, const PathCoordinate* path) {
  theta_ = sigma_ > 0 && path != nullptr ? theta : 0.0;
  path_ = path;
}

void LaneStepper::Step(std::uint32_t first_id, int count, std::uint64_t step, double* x, bool* bad,
                       double* log_weight) {
  if (theta_ == 0.0) return Step(first_id, count, step, x, bad);
  std::fill(failed_.begin(), failed_.end(), NoiseFailure::kNone);
  const ChainBlock block{first_id, count, kLaneBlock, step, x};
  noise_.StochasticGradient(block, g_.data(), failed_.data(), &scratch_);
  objective_.GradientBatch(count, x, kLaneBlock, grad_.data());
  const double s2 = sigma_ * sigma_;
  std::vector<double> point(d_), t(d_);
  for (int l = 0; l < count; ++l) {
    bad[l] = failed_[l] != NoiseFailure::kNone;
    for (int i = 0; i < d_; ++i) point[i] = x[i * kLaneBlock + l];
    path_->Tangent(point.data(), t.data());
    double climb = 0.0;
    for (int i = 0; i < d_; ++i) climb += grad_[i * kLaneBlock + l] * t[i];
    if (!(climb > 0)) continue;  // downhill along the path: SGD's own noise
    double change = 0.0;
    for (int i = 0; i < d_; ++i) {
      double& g = g_[i * kLaneBlock + l];
      const double z = g - grad_[i * kLaneBlock + l], m = -2.0 * theta_ * climb * t[i];
      change -= (z * m + 0.5 * m * m) / s2;
      g += m;
    }
    log_weight[l] += change;
  }
  Move(count, x, bad);
}

void LaneStepper::Move(int count, double* x, bool* bad) const {
  for (int i = 0; i < d_; ++i) {
    double* xi = x + i * kLaneBlock;
    const double* gi = g_.data() + i * kLaneBlock;
    for (int l = 0; l < count; ++l) {
      xi[l] -= eta_ * gi[l];
      // NaN fails the comparison, so it counts as diverged.
      if (!(std::fabs(xi[l] - centre_[i]) <= bound_[i])) bad[l] = true;
    }
  }
}

void LaneStepper::Step(std::uint32_t first_id, int count, std::uint64_t step, double* x, bool* bad) {
  std::fill(failed_.begin(), failed_.end(), NoiseFailure::kNone);
  const ChainBlock block{first_id, count, kLaneBlock, step, x};
  noise_.StochasticGradient(block, g_.data(), failed_.data(), &scratch_);
  for (int l = 0; l < count; ++l) bad[l] = failed_[l] != NoiseFailure::kNone;
  Move(count, x, bad);
}

}  // namespace ldsgd
