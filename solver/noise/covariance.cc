#include "solver/noise/covariance.h"

namespace ldsgd {

Covariance Covariance::Isotropic(int dimension, double sigma) {
  Covariance c;
  c.kind_ = Kind::kIsotropic;
  c.dimension_ = dimension;
  c.sigma_ = sigma;
  c.constant_ = Eigen::MatrixXd::Identity(dimension, dimension) * (sigma * sigma);
  return c;
}

Covariance Covariance::Constant(const Eigen::MatrixXd& sigma) {
  Covariance c;
  c.kind_ = Kind::kConstant;
  c.dimension_ = static_cast<int>(sigma.rows());
  c.constant_ = sigma;
  return c;
}

Covariance Covariance::StateDependent(ExpressionGraph& graph,
                                      const std::vector<ExpressionGraph::Node>& entries) {
  Covariance c;
  c.kind_ = Kind::kStateDependent;
  c.dimension_ = graph.num_variables();
  const int d = c.dimension_;
  std::vector<ExpressionGraph::Node> all = entries;
  for (int k = 0; k < d; ++k) {
    for (int e = 0; e < d * d; ++e) all.push_back(graph.Derivative(entries[e], k));
  }
  c.entries_ = graph.Compile(entries);
  c.entries_and_jacobian_ = graph.Compile(all);
  return c;
}

Covariance Covariance::Minibatch(std::shared_ptr<const FiniteSum> samples, int batch_size) {
  Covariance c;
  c.kind_ = Kind::kMinibatch;
  c.dimension_ = samples->dimension();
  c.samples_ = std::move(samples);
  c.batch_size_ = batch_size;
  return c;
}

Eigen::MatrixXd MinibatchCovarianceOf(const Eigen::MatrixXd& g, int batch_size) {
  const Eigen::MatrixXd r = g.colwise() - g.rowwise().mean();
  return r * r.transpose() / (static_cast<double>(g.cols()) * batch_size);
}

Eigen::MatrixXd MinibatchCovariance(const FiniteSum& samples, int batch_size, const double* x,
                                    std::vector<Eigen::MatrixXd>* dsigma) {
  // With r_k = g_k - mean: Sigma = sum_k r_k r_k^T / (n b), and dSigma/dx_j = sum_k (h_kj r_k^T +
  // r_k h_kj^T) / (n b), h_kj the column j of Hess f_k (the mean's derivative drops out because
  // sum_k r_k = 0).
  const int n = samples.size(), d = samples.dimension();
  Eigen::MatrixXd g, h;
  samples.Gradients(x, &g, dsigma != nullptr ? &h : nullptr);
  const Eigen::MatrixXd sigma = MinibatchCovarianceOf(g, batch_size);
  if (dsigma == nullptr) return sigma;
  const Eigen::MatrixXd r = g.colwise() - g.rowwise().mean();
  const double scale = static_cast<double>(n) * batch_size;
  dsigma->assign(d, Eigen::MatrixXd::Zero(d, d));
  for (int k = 0; k < n; ++k) {
    for (int j = 0; j < d; ++j) {
      const Eigen::MatrixXd outer = h.col(k * d + j) * r.col(k).transpose();
      (*dsigma)[j] += (outer + outer.transpose()) / scale;
    }
  }
  return sigma;
}

Eigen::MatrixXd Covariance::At(const double* x) const {
  if (is_constant()) return constant_;
  if (kind_ == Kind::kMinibatch) return MinibatchCovariance(*samples_, batch_size_, x);
  const int d = dimension_;
  Eigen::MatrixXd s(d, d);
  std::vector<double> work(entries_.workspace_size());
  // Row-major outputs into a column-major matrix: Sigma is symmetric, so this is the same matrix.
  entries_.Evaluate(x, s.data(), work.data());
  return s;
}

Eigen::MatrixXd Covariance::At(const double* x, std::vector<Eigen::MatrixXd>* dsigma) const {
  const int d = dimension_;
  dsigma->assign(d, Eigen::MatrixXd::Zero(d, d));
  if (is_constant()) return constant_;
  if (kind_ == Kind::kMinibatch) return MinibatchCovariance(*samples_, batch_size_, x, dsigma);
  std::vector<double> out(entries_and_jacobian_.num_outputs());
  std::vector<double> work(entries_and_jacobian_.workspace_size());
  entries_and_jacobian_.Evaluate(x, out.data(), work.data());
  Eigen::MatrixXd s = Eigen::Map<const Eigen::MatrixXd>(out.data(), d, d);
  for (int k = 0; k < d; ++k) {
    (*dsigma)[k] = Eigen::Map<const Eigen::MatrixXd>(out.data() + d * d * (k + 1), d, d);
  }
  return s;
}

}  // namespace ldsgd
