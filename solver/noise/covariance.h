// The covariance Sigma(x) of Gaussian SGD noise: sigma^2 I, a constant SPD matrix, or a matrix of
// expressions of the variables (state-dependent), or the minibatch covariance of a finite sum
// (the Gaussian approximation of its noise), with exact derivatives.
#ifndef LDSGD_SOLVER_NOISE_COVARIANCE_H_
#define LDSGD_SOLVER_NOISE_COVARIANCE_H_

#include <memory>
#include <vector>

#include <Eigen/Core>

#include "solver/expression/expression.h"
#include "solver/objective/finite_sum.h"
#include "solver/objective/objective.h"

namespace ldsgd {

class Covariance {
 public:
  enum class Kind { kIsotropic, kConstant, kStateDependent, kMinibatch };

  static Covariance Isotropic(int dimension, double sigma);
  static Covariance Constant(const Eigen::MatrixXd& sigma);
  // entries: d*d nodes of `graph`, row-major, symmetric.
  static Covariance StateDependent(ExpressionGraph& graph,
                                   const std::vector<ExpressionGraph::Node>& entries);

  // cov_k(g_k(x)) / b over the terms f_k (sampling b terms uniformly with replacement); its
  // derivatives come from the terms' Hessians.
  static Covariance Minibatch(std::shared_ptr<const FiniteSum> samples, int batch_size);

  Kind kind() const { return kind_; }
  int dimension() const { return dimension_; }
  bool is_constant() const { return kind_ == Kind::kIsotropic || kind_ == Kind::kConstant; }
  // sigma of sigma^2 I (kIsotropic only).
  double sigma() const { return sigma_; }

  // Sigma(x), d x d.
  Eigen::MatrixXd At(const double* x) const;
  // Sigma(x) and its derivatives: dsigma[k] = d Sigma / d x_k (zero matrices when constant).
  Eigen::MatrixXd At(const double* x, std::vector<Eigen::MatrixXd>* dsigma) const;

 private:
  Kind kind_ = Kind::kIsotropic;
  int dimension_ = 0;
  double sigma_ = 0.0;
  Eigen::MatrixXd constant_;
  Program entries_;              // d*d outputs
  Program entries_and_jacobian_;  // d*d entries, then d*d*d derivatives (k-major)
  std::shared_ptr<const FiniteSum> samples_;  // kMinibatch
  int batch_size_ = 1;
};

// The minibatch covariance of a finite sum at x: (1/n) sum_k (g_k - m)(g_k - m)^T / b, m the mean
// gradient (sampling b of n terms uniformly with replacement), and with dsigma its derivatives
// dsigma[j] = d Sigma / d x_j from the terms' Hessians.
// The same from sample gradients already at hand: g is d x n, column k = g_k(x).
Eigen::MatrixXd MinibatchCovarianceOf(const Eigen::MatrixXd& g, int batch_size);
Eigen::MatrixXd MinibatchCovariance(const FiniteSum& samples, int batch_size, const double* x,
                                    std::vector<Eigen::MatrixXd>* dsigma = nullptr);
inline Eigen::MatrixXd MinibatchCovariance(const FiniteSum& samples, int batch_size,
                                           const Eigen::VectorXd& x) {
  return MinibatchCovariance(samples, batch_size, x.data());
}

}  // namespace ldsgd

#endif  // LDSGD_SOLVER_NOISE_COVARIANCE_H_
