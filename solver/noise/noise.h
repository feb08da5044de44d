// The noise Z of SGD (THEORY.md section 1), as every stage of the pipeline asks about it: which
// model it is, its covariance at x and whether that is positive definite (one definition, one
// tolerance), and the objects that evaluate its conjugate cost (action/) and sample it
// (sgd_noise.h). Stages ask this interface; none re-derives the model from the problem file.
//
// Models: Gaussian with covariance Sigma(x) (sigma^2 I, constant, or state-dependent), or a finite
// sum sampled b terms at a time with replacement, either exactly (the cost of its cumulant,
// finite_sum_cost.h) or through its Gaussian approximation (Gaussian noise with the exact minibatch
// covariance cov_k(g_k(x)) / b).
#ifndef LDSGD_SOLVER_NOISE_NOISE_H_
#define LDSGD_SOLVER_NOISE_NOISE_H_

#include <array>
#include <memory>
#include <utility>

#include <Eigen/Core>

#include "solver/io/enum_names.h"
#include "solver/noise/covariance.h"
#include "solver/noise/finite_sum_cost.h"
#include "solver/objective/finite_sum.h"

namespace ldsgd {

enum class NoiseType { kGaussian, kFiniteSum };
template <>
struct EnumNames<NoiseType> {
  static constexpr std::array<std::pair<NoiseType, const char*>, 2> kNames = {{
      {NoiseType::kGaussian, "gaussian"},
      {NoiseType::kFiniteSum, "finite_sum"},
  }};
};

// How a finite sum's noise enters the costs and the simulation (problem files: "approximation").
enum class NoiseApproximation { kExact, kGaussian };
template <>
struct EnumNames<NoiseApproximation> {
  static constexpr std::array<std::pair<NoiseApproximation, const char*>, 2> kNames = {{
      {NoiseApproximation::kExact, "exact"},
      {NoiseApproximation::kGaussian, "gaussian"},
  }};
};

// Positive definiteness of cov Z(x), judged one way everywhere: eigenvalues against the scale
// max |eigenvalue| + |grad f(x)|^2 (the size of a step's two parts).
enum class Definiteness {
  kPositive,    // smallest eigenvalue > kRelativeEigenvalueFloor * scale
  kSingular,    // positive semi-definite to rounding: an eigenvalue within the floor of 0
  kIndefinite,  // an eigenvalue below -kRelativeEigenvalueFloor * scale: not a covariance
  kNotFinite,   // a non-finite entry (or gradient)
};
template <>
struct EnumNames<Definiteness> {
  static constexpr std::array<std::pair<Definiteness, const char*>, 4> kNames = {{
      {Definiteness::kPositive, "positive"},
      {Definiteness::kSingular, "singular"},
      {Definiteness::kIndefinite, "indefinite"},
      {Definiteness::kNotFinite, "not_finite"},
  }};
};

class Noise {
 public:
  // Below this fraction of the scale an eigenvalue is zero to rounding: double precision resolves
  // ~1e-16 relative, and the covariances we build (sums of outer products, expressions) carry a
  // few thousand roundings at most.
  static constexpr double kRelativeEigenvalueFloor = 1e-12;

  Noise() = default;  // no model; a parsed Problem always has one
  static Noise Gaussian(std::shared_ptr<const Covariance> covariance);
  static Noise FiniteSum(std::shared_ptr<const ldsgd::FiniteSum> samples, int batch_size,
                         NoiseApproximation approximation);

  NoiseType type() const { return type_; }
  NoiseApproximation approximation() const { return approximation_; }
  bool is_finite_sum() const { return type_ == NoiseType::kFiniteSum; }
  // The exact finite-sum model: no Gaussian covariance; the cost is the cumulant's conjugate.
  bool is_exact_finite_sum() const { return is_finite_sum() && approximation_ == NoiseApproximation::kExact; }
  int batch_size() const { return batch_size_; }  // 0 for Gaussian noise
  const std::shared_ptr<const ldsgd::FiniteSum>& samples() const { return samples_; }
  // The Gaussian covariance Sigma(x): of Gaussian noise, or the minibatch covariance of a finite
  // sum's Gaussian approximation; null for the exact finite sum.
  const std::shared_ptr<const Covariance>& covariance() const { return covariance_; }
  // The exact finite sum's cost c(x, u) = sup{<u, theta> : H(x, theta) <= 0}, the conjugate of its
  // cumulant (THEORY.md section 3); null for Gaussian models, whose cost is closed-form in Sigma.
  const std::shared_ptr<const FiniteSumCost>& conjugate_cost() const { return conjugate_cost_; }
  // Isotropic Gaussian noise sigma^2 I (where the energies are 2 f / sigma^2, THEORY.md section 5).
  bool is_isotropic() const;
  double sigma() const;  // of sigma^2 I; 0 otherwise

  // The same finite sum with the other treatment, or another batch size (comparisons, tests).
  Noise WithApproximation(NoiseApproximation approximation) const;
  Noise WithBatchSize(int batch_size) const;

  // cov Z(x), d x d: Sigma(x), or the minibatch covariance cov_k(g_k(x)) / b of a finite sum.
  Eigen::MatrixXd CovarianceAt(const double* x) const;
  // The one test of positive definiteness, on a covariance already at hand (`gradient` = grad f
  // at its point, setting the scale; empty for a constant covariance).
  static Definiteness Classify(const Eigen::MatrixXd& covariance, const Eigen::VectorXd& gradient);

 private:
  NoiseType type_ = NoiseType::kGaussian;
  NoiseApproximation approximation_ = NoiseApproximation::kExact;
  int batch_size_ = 0;
  std::shared_ptr<const ldsgd::FiniteSum> samples_;
  std::shared_ptr<const Covariance> covariance_;
  std::shared_ptr<const FiniteSumCost> conjugate_cost_;
};

}  // namespace ldsgd

#endif  // LDSGD_SOLVER_NOISE_NOISE_H_
