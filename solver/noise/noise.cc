#include "solver/noise/noise.h"

#include <Eigen/Eigenvalues>

namespace ldsgd {

Noise Noise::Gaussian(std::shared_ptr<const Covariance> covariance) {
  Noise n;
  n.type_ = NoiseType::kGaussian;
  n.covariance_ = std::move(covariance);
  return n;
}

Noise Noise::FiniteSum(std::shared_ptr<const ldsgd::FiniteSum> samples, int batch_size,
                       NoiseApproximation approximation) {
  Noise n;
  n.type_ = NoiseType::kFiniteSum;
  n.approximation_ = approximation;
  n.batch_size_ = batch_size;
  n.samples_ = std::move(samples);
  if (!n.samples_ || batch_size < 1) return n;  // Problem parsing never builds this
  // Built once for every stage: the approximation's covariance, or the exact model's cost.
  if (approximation == NoiseApproximation::kGaussian) {
    n.covariance_ = std::make_shared<Covariance>(Covariance::Minibatch(n.samples_, batch_size));
  } else {
    n.conjugate_cost_ = std::make_shared<FiniteSumCost>(n.samples_, batch_size);
  }
  return n;
}

bool Noise::is_isotropic() const {
  return type_ == NoiseType::kGaussian && covariance_ &&
         covariance_->kind() == Covariance::Kind::kIsotropic;
}

double Noise::sigma() const { return is_isotropic() ? covariance_->sigma() : 0.0; }

Noise Noise::WithApproximation(NoiseApproximation approximation) const {
  return FiniteSum(samples_, batch_size_, approximation);
}

Noise Noise::WithBatchSize(int batch_size) const {
  return FiniteSum(samples_, batch_size, approximation_);
}

Eigen::MatrixXd Noise::CovarianceAt(const double* x) const {
  if (is_exact_finite_sum()) return MinibatchCovariance(*samples_, batch_size_, x);
  return covariance_->At(x);
}

Definiteness Noise::Classify(const Eigen::MatrixXd& covariance, const Eigen::VectorXd& gradient) {
  if (!covariance.allFinite() || !gradient.allFinite()) return Definiteness::kNotFinite;
  const Eigen::VectorXd ev =
      Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd>(covariance, Eigen::EigenvaluesOnly).eigenvalues();
  const double scale = ev.cwiseAbs().maxCoeff() + gradient.squaredNorm();
  if (ev.minCoeff() > kRelativeEigenvalueFloor * scale && scale > 0) return Definiteness::kPositive;
  if (ev.minCoeff() < -kRelativeEigenvalueFloor * scale) return Definiteness::kIndefinite;
  return Definiteness::kSingular;
}

}  // namespace ldsgd
