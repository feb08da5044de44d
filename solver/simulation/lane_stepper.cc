#include "solver/simulation/lane_stepper.h"

#include <algorithm>
#include <cmath>

#include "solver/noise/finite_sum_cost.h"

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
      failed_(kLaneBlock) {
  point_.resize(d_);
  tangent_.resize(d_);
  phi_.resize(d_);
  if (problem.noise.is_finite_sum() && problem.samples) {
    samples_ = problem.samples.get();
    batch_ = problem.noise.batch_size();
  }
}

void LaneStepper::SetTilt(double theta, const PathCoordinate* path, PhiloxKey key, double tube) {
  theta_ = (sigma_ > 0 || samples_ != nullptr) && path != nullptr ? theta : 0.0;
  tube_ = tube;
  path_ = path;
  key_ = key;
  if (theta_ != 0.0 && samples_ != nullptr) TableMomentum();
}

void LaneStepper::TableMomentum() {
  const int d = d_;
  momentum_.setZero(kMomentumNodes + 1, d);
  const FiniteSumCost cost(nullptr, batch_);
  Eigen::VectorXd x(d), t(d), phi(d), weights;
  for (int m = 0; m <= kMomentumNodes; ++m) {
    path_->PointAt(static_cast<double>(m) / kMomentumNodes, x.data(), t.data());
    samples_->Gradients(x.data(), &sample_gradients_);
    double value = 0.0, mu = 0.0;
    int outer = 0, inner = 0;
    const FiniteSumCost::Status status =
        cost.SupportFunction(sample_gradients_, t, &value, &phi, &mu, &weights, &outer, &inner);
    // Infinite (no sample moves along t) or unsolved: no tilt there, SGD's own draws.
    if (status == FiniteSumCost::Status::kFinite && phi.allFinite()) momentum_.row(m) = theta_ * phi.transpose();
  }
}

void LaneStepper::TiltedSampleStep(std::uint32_t id, std::uint64_t step, const double* point, int l,
                                   double* log_weight) {
  Eigen::MatrixXd& g = sample_gradients_;
  samples_->Gradients(point, &g);
  double distance = 0.0;
  const double xi = path_->Project(point, &distance) * kMomentumNodes;
  const int m = std::min(kMomentumNodes - 1, static_cast<int>(xi));
  const double frac = xi - m;
  const int n = static_cast<int>(g.cols());
  // e_k = -<phi, g_k>, phi interpolated between the tabled nodes m and m + 1 (0 off the tube:
  // uniform draws, weight 1).
  Eigen::VectorXd& e = exponent_;
  e.resize(n);
  const double inside = distance <= tube_ ? 1.0 : 0.0;
  for (int i = 0; i < d_; ++i) phi_[i] = inside * ((1 - frac) * momentum_(m, i) + frac * momentum_(m + 1, i));
  for (int k = 0; k < n; ++k) {
    double s = 0.0;
    for (int i = 0; i < d_; ++i) s -= g(i, k) * phi_[i];
    e[k] = s;
  }
  // q_k = exp(e_k) / Z, as a cumulative distribution (scaled by the largest exponent).
  const double top = e.maxCoeff();
  double z = 0.0;
  std::vector<double>& cumulative = cumulative_;
  cumulative.resize(n);
  for (int k = 0; k < n; ++k) cumulative[k] = (z += std::exp(e[k] - top));
  for (int k = 0; k < n; ++k) cumulative[k] /= z;
  Eigen::VectorXd& sum = draw_sum_;
  sum.setZero(d_);
  for (int j = 0; j < batch_; ++j) {
    const auto w = PhiloxBlock(key_, id, step, static_cast<std::uint32_t>(j));
    const double u = ((static_cast<std::uint64_t>(w[0]) << 21) ^ w[1]) * 0x1.0p-53;
    const int k = std::min<int>(n - 1, static_cast<int>(std::upper_bound(cumulative.begin(), cumulative.end(), u) -
                                                        cumulative.begin()));
    sum += g.col(k);
    *log_weight += std::log(z / n) - (e[k] - top);  // log(1 / (n q_k))
  }
  sum /= batch_;
  for (int i = 0; i < d_; ++i) g_[i * kLaneBlock + l] = sum[i];
}

void LaneStepper::Step(std::uint32_t first_id, int count, std::uint64_t step, double* x, bool* bad,
                       double* log_weight) {
  if (theta_ == 0.0) return Step(first_id, count, step, x, bad);
  if (samples_ != nullptr) {
    for (int l = 0; l < count; ++l) {
      bad[l] = false;
      for (int i = 0; i < d_; ++i) point_[i] = x[i * kLaneBlock + l];
      TiltedSampleStep(first_id + static_cast<std::uint32_t>(l), step, point_.data(), l, log_weight + l);
    }
    return Move(count, x, bad);
  }
  std::fill(failed_.begin(), failed_.end(), NoiseFailure::kNone);
  const ChainBlock block{first_id, count, kLaneBlock, step, x};
  noise_.StochasticGradient(block, g_.data(), failed_.data(), &scratch_);
  objective_.GradientBatch(count, x, kLaneBlock, grad_.data());
  const double s2 = sigma_ * sigma_;
  std::vector<double>& point = point_;
  std::vector<double>& t = tangent_;
  for (int l = 0; l < count; ++l) {
    bad[l] = failed_[l] != NoiseFailure::kNone;
    for (int i = 0; i < d_; ++i) point[i] = x[i * kLaneBlock + l];
    double distance = 0.0;
    path_->Tangent(point.data(), t.data(), &distance);
    if (!(distance <= tube_)) continue;  // off the tube: SGD's own noise
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
