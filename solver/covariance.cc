#include "solver/covariance.h"

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

Eigen::MatrixXd Covariance::At(const double* x) const {
  if (is_constant()) return constant_;
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
