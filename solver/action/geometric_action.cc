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
  const Noise& noise = problem.noise;
  if (noise.conjugate_cost()) {
    geometry_ = std::make_unique<NoiseGeometry>(*problem.objective, *noise.conjugate_cost());
  } else if (noise.covariance()) {
    geometry_ = std::make_unique<NoiseGeometry>(*problem.objective, *noise.covariance());
  } else {
    error_ = "finite_sum noise needs the terms of a sum objective and a batch size >= 1";
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

Definiteness NoiseGeometry::DefinitenessAt(const double* x) const {
  if (finite_sum_ != nullptr) return Definiteness::kPositive;  // no covariance to factor
  if (sigma_->is_constant()) return Definiteness::kPositive;  // checked when the problem was read
  return Noise::Classify(sigma_->At(x), f_.Gradient(Eigen::Map<const Eigen::VectorXd>(x, d_)));
}

bool FindNonPositiveDefinite(const NoiseGeometry& geometry, const Eigen::MatrixXd& nodes,
                             Eigen::VectorXd* where) {
  for (int k = 0; k < nodes.rows(); ++k) {
    for (int half = 0; half < 2; ++half) {
      if (half == 1 && k + 1 == nodes.rows()) break;
      const Eigen::VectorXd x = half == 0 ? Eigen::VectorXd(nodes.row(k).transpose())
                                          : Eigen::VectorXd(0.5 * (nodes.row(k) + nodes.row(k + 1)).transpose());
      const Definiteness d = geometry.DefinitenessAt(x.data());
      if (d == Definiteness::kIndefinite || d == Definiteness::kNotFinite) {
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
