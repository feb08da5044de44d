#include "solver/objective/objective.h"

#include <vector>

namespace ldsgd {

void Objective::GradientBatch(int count, const double* x, int stride, double* gradient) const {
  const int d = dimension();
  std::vector<double> point(d), grad(d);
  for (int k = 0; k < count; ++k) {
    for (int i = 0; i < d; ++i) point[i] = x[i * stride + k];
    Gradient(point.data(), grad.data());
    for (int i = 0; i < d; ++i) gradient[i * stride + k] = grad[i];
  }
}

Eigen::VectorXd Objective::Gradient(const Eigen::VectorXd& x) const {
  Eigen::VectorXd g(dimension());
  Gradient(x.data(), g.data());
  return g;
}

Eigen::MatrixXd Objective::Hessian(const Eigen::VectorXd& x) const {
  const int d = dimension();
  Eigen::VectorXd g(d);
  // Row-major storage of a symmetric matrix equals its column-major storage.
  Eigen::MatrixXd h(d, d);
  Hessian(x.data(), g.data(), h.data());
  return h;
}

}  // namespace ldsgd
