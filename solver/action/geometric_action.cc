#include "solver/action/geometric_action.h"

#include <cmath>
#include <limits>

#include <Eigen/Cholesky>

namespace ldsgd {

NoiseGeometry::NoiseGeometry(const Objective& f, const FiniteSumCost& finite_sum)
    : f_(f), finite_sum_(&finite_sum), d_(f.dimension()) {}

NoiseGeometry::NoiseGeometry(const Objective& f, const Covariance& sigma)
    : f_(f), sigma_(&sigma), d_(f.dimension()) {
  if (sigma.kind() == Covariance::Kind::kConstant) {
    // The covariance was checked positive definite when the problem was read.
    const Eigen::MatrixXd c = sigma.At(nullptr).llt().matrixL();
    constant_whitening_ = c.triangularView<Eigen::Lower>().solve(Eigen::MatrixXd::Identity(d_, d_));
  }
}

ProblemGeometry::ProblemGeometry(const Problem& problem) {
  if (problem.noise.type == NoiseType::kFiniteSum) {
    if (!problem.samples || problem.noise.batch_size < 1) {
      error_ = "finite_sum noise needs the terms of a sum objective and a batch size >= 1";
      return;
    }
    if (problem.noise.gaussian_approximation) {
      minibatch_ = std::make_unique<Covariance>(
          Covariance::Minibatch(problem.samples, problem.noise.batch_size));
      geometry_ = std::make_unique<NoiseGeometry>(*problem.objective, *minibatch_);
    } else {
      finite_sum_ = std::make_unique<FiniteSumCost>(problem.samples, problem.noise.batch_size);
      geometry_ = std::make_unique<NoiseGeometry>(*problem.objective, *finite_sum_);
    }
  } else if (problem.noise.covariance) {
    geometry_ = std::make_unique<NoiseGeometry>(*problem.objective, *problem.noise.covariance);
  } else {
    error_ = "the problem has no noise model";
  }
}

double NoiseGeometry::Cost(const double* x, const double* u) const {
  if (finite_sum_ != nullptr) return finite_sum_->Cost(x, u);
  // c(x, u) = |r|^2 for the segment from x - u/2 to x + u/2, whose midpoint is x.
  std::vector<double> a(d_), b(d_), r(d_);
  for (int i = 0; i < d_; ++i) {
    a[i] = x[i] - 0.5 * u[i];
    b[i] = x[i] + 0.5 * u[i];
  }
  if (!SegmentResidual(a.data(), b.data(), r.data())) return std::numeric_limits<double>::quiet_NaN();
  double c = 0.0;
  for (double v : r) c += v * v;
  return c;
}

bool NoiseGeometry::PositiveDefiniteAt(const double* x) const {
  if (finite_sum_ != nullptr) return true;  // no covariance to factor
  if (sigma_->is_constant()) return true;  // checked when the problem was read
  return sigma_->At(x).llt().info() == Eigen::Success;
}

bool FindNonPositiveDefinite(const NoiseGeometry& geometry, const Eigen::MatrixXd& nodes,
                             Eigen::VectorXd* where) {
  for (int k = 0; k < nodes.rows(); ++k) {
    for (int half = 0; half < 2; ++half) {
      if (half == 1 && k + 1 == nodes.rows()) break;
      const Eigen::VectorXd x = half == 0 ? Eigen::VectorXd(nodes.row(k).transpose())
                                          : Eigen::VectorXd(0.5 * (nodes.row(k) + nodes.row(k + 1)).transpose());
      if (!geometry.PositiveDefiniteAt(x.data())) {
        *where = x;
        return true;
      }
    }
  }
  return false;
}

double DiscreteAction(const NoiseGeometry& geometry, const Eigen::MatrixXd& nodes) {
  const int d = geometry.dimension();
  double total = 0.0;
  std::vector<double> a(d), b(d), r(d);
  if (geometry.is_finite_sum()) {
    // Summed directly (the residual form would square a square root); +inf stays +inf.
    std::vector<double> m(d), u(d);
    for (int k = 0; k + 1 < nodes.rows(); ++k) {
      for (int i = 0; i < d; ++i) {
        m[i] = 0.5 * (nodes(k, i) + nodes(k + 1, i));
        u[i] = nodes(k + 1, i) - nodes(k, i);
      }
      const double c = geometry.Cost(m.data(), u.data());
      if (std::isnan(c)) return std::numeric_limits<double>::infinity();
      total += c;
    }
    return total;
  }
  for (int k = 0; k + 1 < nodes.rows(); ++k) {
    for (int i = 0; i < d; ++i) {
      a[i] = nodes(k, i);
      b[i] = nodes(k + 1, i);
    }
    if (!geometry.SegmentResidual(a.data(), b.data(), r.data())) {
      return std::numeric_limits<double>::infinity();
    }
    for (double v : r) total += v * v;
  }
  return total;
}

}  // namespace ldsgd
