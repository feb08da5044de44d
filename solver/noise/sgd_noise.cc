#include "solver/noise/sgd_noise.h"

#include <algorithm>
#include <cmath>

#include <Eigen/Cholesky>

namespace ldsgd {
namespace {

// Normals for coordinates 0..d-1 of every lane, z[i * n + l], from draws 0..ceil(d/2)-1.
void BlockNormals(PhiloxKey key, const ChainBlock& block, int d, double* z) {
  const int n = block.count;
  for (int p = 0; 2 * p < d; ++p) {
    double* z0 = z + (2 * p) * n;
    if (2 * p + 1 < d) {
      PhiloxNormalsBlock(key, block.first_chain, n, block.step, static_cast<std::uint32_t>(p), z0,
                         z0 + n);
    } else {
      // Odd d: the pair's second normal is drawn and dropped (it lands past the used rows).
      PhiloxNormalsBlock(key, block.first_chain, n, block.step, static_cast<std::uint32_t>(p), z0,
                         z + d * n);
    }
  }
}

// In-place Cholesky of the row-major d x d matrix a (lower triangle used and written). Strict:
// false unless every pivot is positive and finite. Semi-definite: pivots at or below `tolerance`
// give a zero column (a PSD matrix with exact or rounding-level null directions), false only for
// pivots below -tolerance.
bool Cholesky(int d, double* a, bool semidefinite, double tolerance) {
  for (int j = 0; j < d; ++j) {
    double pivot = a[j * d + j];
    for (int k = 0; k < j; ++k) pivot -= a[j * d + k] * a[j * d + k];
    if (!std::isfinite(pivot)) return false;
    if (!(pivot > (semidefinite ? tolerance : 0.0))) {
      if (!semidefinite || pivot < -tolerance) return false;
      for (int i = j; i < d; ++i) a[i * d + j] = 0.0;
      continue;
    }
    const double root = std::sqrt(pivot);
    a[j * d + j] = root;
    for (int i = j + 1; i < d; ++i) {
      double v = a[i * d + j];
      for (int k = 0; k < j; ++k) v -= a[i * d + k] * a[j * d + k];
      a[i * d + j] = v / root;
    }
  }
  return true;
}

// g[., lane] += L z[., lane] for the row-major lower-triangular factor L (d x d) and the block's
// normals z (coordinate-major, n lanes): the Gaussian noise of one chain from its Cholesky factor.
void AddLowerTimesNormals(int d, const double* factor, const double* z, int n, int lane, double* g,
                          int stride) {
  for (int i = 0; i < d; ++i) {
    double v = 0.0;
    for (int j = 0; j <= i; ++j) v += factor[i * d + j] * z[j * n + lane];
    g[i * stride + lane] += v;
  }
}

double* Doubles(SgdNoise::Scratch* scratch, std::size_t size) {
  if (scratch->doubles.size() < size) scratch->doubles.resize(size);
  return scratch->doubles.data();
}

// Gaussian noise with a constant factor L of Sigma = L L^T: G = grad f + L z. The subclasses say
// how to add L z for the block's standard normals z (d per lane, coordinate-major).
class ConstantGaussianNoise : public SgdNoise {
 public:
  ConstantGaussianNoise(std::shared_ptr<const Objective> f, PhiloxKey key)
      : f_(std::move(f)), d_(f_->dimension()), key_(key) {}

  void StochasticGradient(const ChainBlock& block, double* g, NoiseFailure*,
                          Scratch* scratch) const final {
    const int n = block.count;
    f_->GradientBatch(n, block.x, block.stride, g);
    double* z = Doubles(scratch, static_cast<std::size_t>(d_ + 1) * n);
    BlockNormals(key_, block, d_, z);
    AddFactorTimes(z, n, block.stride, g);
  }

 protected:
  // g[i * stride + l] += (L z_l)_i for the n lanes.
  virtual void AddFactorTimes(const double* z, int n, int stride, double* g) const = 0;

  std::shared_ptr<const Objective> f_;
  int d_;
  PhiloxKey key_;
};

// Sigma = sigma^2 I: L = sigma I.
class IsotropicGaussianNoise final : public ConstantGaussianNoise {
 public:
  IsotropicGaussianNoise(std::shared_ptr<const Objective> f, double sigma, PhiloxKey key)
      : ConstantGaussianNoise(std::move(f), key), sigma_(sigma) {}

  std::string Describe() const override {
    return "isotropic gaussian, sigma = " + std::to_string(sigma_);
  }
  Eigen::MatrixXd CovarianceAt(const Eigen::VectorXd&) const override {
    return Eigen::MatrixXd::Identity(d_, d_) * (sigma_ * sigma_);
  }

 private:
  void AddFactorTimes(const double* z, int n, int stride, double* g) const override {
    for (int i = 0; i < d_; ++i) {
      double* __restrict gi = g + i * stride;
      const double* __restrict zi = z + i * n;
      for (int l = 0; l < n; ++l) gi[l] += sigma_ * zi[l];
    }
  }

  double sigma_;
};

// A constant SPD Sigma with its lower Cholesky factor L.
class CholeskyGaussianNoise final : public ConstantGaussianNoise {
 public:
  CholeskyGaussianNoise(std::shared_ptr<const Objective> f, Eigen::MatrixXd sigma, Eigen::MatrixXd factor,
                        PhiloxKey key)
      : ConstantGaussianNoise(std::move(f), key), sigma_(std::move(sigma)), factor_(std::move(factor)) {}

  std::string Describe() const override { return "constant gaussian covariance"; }
  Eigen::MatrixXd CovarianceAt(const Eigen::VectorXd&) const override { return sigma_; }

 private:
  void AddFactorTimes(const double* z, int n, int stride, double* g) const override {
    for (int i = 0; i < d_; ++i) {
      double* __restrict gi = g + i * stride;
      for (int j = 0; j <= i; ++j) {
        const double lij = factor_(i, j);
        const double* __restrict zj = z + j * n;
        for (int l = 0; l < n; ++l) gi[l] += lij * zj[l];
      }
    }
  }

  Eigen::MatrixXd sigma_, factor_;
};

// Gaussian noise with Sigma(x): a Cholesky factor per lane and step; a lane where Sigma(x) is not
// SPD fails (the simulator stops that chain and reports it).
class StateDependentGaussianNoise final : public SgdNoise {
 public:
  StateDependentGaussianNoise(std::shared_ptr<const Objective> f,
                              std::shared_ptr<const Covariance> covariance, PhiloxKey key)
      : f_(std::move(f)), d_(f_->dimension()), covariance_(std::move(covariance)), key_(key) {}

  std::string Describe() const override { return "state-dependent gaussian covariance"; }
  Eigen::MatrixXd CovarianceAt(const Eigen::VectorXd& x) const override {
    return covariance_->At(x.data());
  }
  void StochasticGradient(const ChainBlock& block, double* g, NoiseFailure* failed,
                          Scratch* scratch) const override {
    const int n = block.count, s = block.stride, d = d_;
    f_->GradientBatch(n, block.x, s, g);
    double* z = Doubles(scratch, static_cast<std::size_t>(d + 1) * n + d + d * d);
    double* point = z + (d + 1) * n;
    double* factor = point + d;
    BlockNormals(key_, block, d, z);
    for (int l = 0; l < n; ++l) {
      for (int i = 0; i < d; ++i) point[i] = block.x[i * s + l];
      const Eigen::MatrixXd sigma = covariance_->At(point);
      // Column-major storage of a symmetric matrix is its row-major storage.
      std::copy(sigma.data(), sigma.data() + d * d, factor);
      if (!Cholesky(d, factor, /*semidefinite=*/false, 0.0)) {
        failed[l] = NoiseFailure::kCovarianceNotPositiveDefinite;
        continue;
      }
      AddLowerTimesNormals(d, factor, z, n, l, g, s);
    }
  }

 private:
  std::shared_ptr<const Objective> f_;
  int d_;
  std::shared_ptr<const Covariance> covariance_;
  PhiloxKey key_;
};

// Draws the minibatch indices of sample `sample` for every lane into idx[0..n): draw sample / 2,
// words (0, 1) for even samples and (2, 3) for odd ones.
void MinibatchIndices(PhiloxKey key, const ChainBlock& block, int sample, std::uint32_t terms,
                      std::uint32_t* idx, std::uint32_t* spare) {
  const std::uint32_t draw = static_cast<std::uint32_t>(sample / 2);
  if (sample % 2 == 0) {
    PhiloxIndicesBlock(key, block.first_chain, block.count, block.step, draw, terms, idx, spare);
  } else {
    PhiloxIndicesBlock(key, block.first_chain, block.count, block.step, draw, terms, spare, idx);
  }
}

// What both finite-sum noise models hold: the samples, the batch size and the key; the covariance
// of G - grad f is the minibatch covariance either way.
class MinibatchNoise : public SgdNoise {
 public:
  MinibatchNoise(std::shared_ptr<const FiniteSum> samples, int batch_size, PhiloxKey key,
                 std::string how)
      : samples_(std::move(samples)), d_(samples_->dimension()), batch_(batch_size), key_(key),
        how_(std::move(how)) {}

  std::string Describe() const override {
    return "finite sum, " + samples_->Describe() + ", batch " + std::to_string(batch_) + " (" + how_ + ")";
  }
  Eigen::MatrixXd CovarianceAt(const Eigen::VectorXd& x) const override {
    return MinibatchCovariance(*samples_, batch_, x);
  }

 protected:
  std::shared_ptr<const FiniteSum> samples_;
  int d_, batch_;
  PhiloxKey key_;

 private:
  std::string how_;
};

// Finite sum, exact minibatch sampling: G = (1/b) sum_{s<b} g_{k_s}(x), k_s uniform with
// replacement. Each of the b samples of a step is one AddSampleGradients call over the block, whose
// cost does not grow with the number of samples n (finite_sum.h).
class FiniteSumNoise final : public MinibatchNoise {
 public:
  FiniteSumNoise(std::shared_ptr<const FiniteSum> samples, int batch_size, PhiloxKey key)
      : MinibatchNoise(std::move(samples), batch_size, key, "exact minibatch sampling") {}

  void StochasticGradient(const ChainBlock& block, double* g, NoiseFailure*,
                          Scratch* scratch) const override {
    const int n = block.count, s = block.stride, d = d_;
    const std::uint32_t num_samples = static_cast<std::uint32_t>(samples_->size());
    if (scratch->indices.size() < static_cast<std::size_t>(2 * n)) scratch->indices.resize(2 * n);
    std::uint32_t* idx = scratch->indices.data();
    std::uint32_t* spare = idx + n;
    for (int i = 0; i < d; ++i) std::fill(g + i * s, g + i * s + n, 0.0);
    for (int sample = 0; sample < batch_; ++sample) {
      MinibatchIndices(key_, block, sample, num_samples, idx, spare);
      samples_->AddSampleGradients(n, idx, block.x, s, g);
    }
    if (batch_ > 1) {
      const double inv = 1.0 / batch_;
      for (int i = 0; i < d; ++i) {
        for (int l = 0; l < n; ++l) g[i * s + l] *= inv;
      }
    }
  }
};

// Finite sum, Gaussian approximation: G = m(x) + C(x)^{1/2} z, m the mean gradient and C the exact
// minibatch covariance; C is positive semi-definite (zero where all g_k agree), so its factor is
// the semi-definite Cholesky.
class FiniteSumGaussianNoise final : public MinibatchNoise {
 public:
  FiniteSumGaussianNoise(std::shared_ptr<const FiniteSum> samples, int batch_size, PhiloxKey key)
      : MinibatchNoise(std::move(samples), batch_size, key, "gaussian approximation") {}

  // Every sample's gradient at every lane: O(n) per step, inherent to the approximation (the
  // covariance depends on x through all samples).
  void StochasticGradient(const ChainBlock& block, double* g, NoiseFailure* failed,
                          Scratch* scratch) const override {
    const int n = block.count, s = block.stride, d = d_;
    double* z = Doubles(scratch, static_cast<std::size_t>(d + 1) * n + d * d);
    double* factor = z + (d + 1) * n;
    BlockNormals(key_, block, d, z);
    Eigen::VectorXd point(d);
    Eigen::MatrixXd samples;
    for (int l = 0; l < n; ++l) {
      for (int i = 0; i < d; ++i) point[i] = block.x[i * s + l];
      samples_->Gradients(point.data(), &samples);
      const Eigen::VectorXd mean = samples.rowwise().mean();
      const Eigen::MatrixXd c = MinibatchCovarianceOf(samples, batch_);
      for (int i = 0; i < d; ++i) g[i * s + l] = mean[i];
      // Column-major storage of a symmetric matrix is its row-major storage.
      std::copy(c.data(), c.data() + d * d, factor);
      // Rounding in the scatter is ~1e-16 of its trace: treat pivots below 1e-12 of it as zero.
      if (!Cholesky(d, factor, /*semidefinite=*/true, 1e-12 * c.trace())) {
        failed[l] = NoiseFailure::kCovarianceNotPositiveDefinite;
        continue;
      }
      AddLowerTimesNormals(d, factor, z, n, l, g, s);
    }
  }
};

}  // namespace

std::unique_ptr<SgdNoise> MakeSgdNoise(const Problem& problem, std::uint64_t seed,
                                       Status* status) {
  const PhiloxKey key = KeyFromSeed(seed);
  const Noise& noise = problem.noise;
  *status = Status::Ok();
  if (noise.is_finite_sum()) {
    if (!noise.samples() || noise.batch_size() < 1) {
      *status = Status(StatusCode::kInvalidInput, "finite-sum noise needs samples and a batch size >= 1");
      return nullptr;
    }
    if (!noise.is_exact_finite_sum()) {
      return std::make_unique<FiniteSumGaussianNoise>(noise.samples(), noise.batch_size(), key);
    }
    return std::make_unique<FiniteSumNoise>(noise.samples(), noise.batch_size(), key);
  }
  const Covariance& c = *noise.covariance();
  switch (c.kind()) {
    case Covariance::Kind::kIsotropic:
      return std::make_unique<IsotropicGaussianNoise>(problem.objective, c.sigma(), key);
    case Covariance::Kind::kConstant: {
      const Eigen::MatrixXd sigma = c.At(nullptr);
      const Eigen::LLT<Eigen::MatrixXd> llt(sigma);
      if (llt.info() != Eigen::Success) {
        *status = Status(StatusCode::kInvalidInput, "the constant noise covariance is not positive definite");
        return nullptr;
      }
      return std::make_unique<CholeskyGaussianNoise>(problem.objective, sigma, llt.matrixL(), key);
    }
    case Covariance::Kind::kStateDependent:
    case Covariance::Kind::kMinibatch:
      return std::make_unique<StateDependentGaussianNoise>(problem.objective, noise.covariance(),
                                                           key);
  }
  *status = Status(StatusCode::kInvalidInput, "unknown noise model");
  return nullptr;
}

}  // namespace ldsgd
