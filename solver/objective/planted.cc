#include "solver/objective/planted.h"

#include <cmath>

#include <Eigen/QR>

#include "solver/numerics/philox_normals.h"

namespace ldsgd {
namespace {

// Himmelblau's value, gradient and Hessian in (u, v) = (y_1, y_2).
double Himmelblau(double x, double y, double* g, double* h) {
  const double a = x * x + y - 11.0, b = x + y * y - 7.0;
  if (g != nullptr) {
    g[0] = 4.0 * x * a + 2.0 * b;
    g[1] = 2.0 * a + 4.0 * y * b;
  }
  if (h != nullptr) {
    h[0] = 12.0 * x * x + 4.0 * y - 42.0;
    h[1] = 4.0 * (x + y);
    h[2] = 12.0 * y * y + 4.0 * x - 26.0;
  }
  return a * a + b * b;
}

}  // namespace

Eigen::MatrixXd PlantedRotation(int d, std::uint64_t seed) {
  Eigen::MatrixXd g(d, d);
  const PhiloxKey key = KeyFromSeed(seed);
  for (int k = 0; k < d * d; k += 2) {
    double z0, z1;
    BoxMuller(PhiloxBlock(key, 0, static_cast<std::uint64_t>(k / 2), 2), &z0, &z1);  // draw 2: this stream
    g(k / d, k % d) = z0;
    if (k + 1 < d * d) g((k + 1) / d, (k + 1) % d) = z1;
  }
  const Eigen::HouseholderQR<Eigen::MatrixXd> qr(g);
  Eigen::MatrixXd q = qr.householderQ();
  const Eigen::MatrixXd r = qr.matrixQR().triangularView<Eigen::Upper>();
  for (int j = 0; j < d; ++j) {
    if (r(j, j) < 0) q.col(j) = -q.col(j);
  }
  return q;
}

Eigen::VectorXd PlantedCurvatures(int d, double c_min, double c_max) {
  const int m = d - 2;
  Eigen::VectorXd c(m);
  for (int k = 0; k < m; ++k) c[k] = m == 1 ? c_min : c_min * std::pow(c_max / c_min, static_cast<double>(k) / (m - 1));
  return c;
}

PlantedHimmelblau::PlantedHimmelblau(int d, std::uint64_t seed, double c_min, double c_max)
    : q_(PlantedRotation(d, seed)), c_(PlantedCurvatures(d, c_min, c_max)), seed_(seed) {
  quadratic_ = q_.bottomRows(c_.size()).transpose() * c_.asDiagonal() * q_.bottomRows(c_.size());
}

std::string PlantedHimmelblau::Describe() const {
  return "builtin planted_himmelblau (d = " + std::to_string(dimension()) + ", seed " + std::to_string(seed_) + ")";
}

double PlantedHimmelblau::Value(const double* x) const {
  const Eigen::VectorXd y = q_ * Eigen::Map<const Eigen::VectorXd>(x, dimension());
  return Himmelblau(y[0], y[1], nullptr, nullptr) + 0.5 * c_.dot(y.tail(c_.size()).cwiseAbs2());
}

double PlantedHimmelblau::Gradient(const double* x, double* gradient) const {
  const int d = dimension();
  Eigen::VectorXd y = q_ * Eigen::Map<const Eigen::VectorXd>(x, d);
  double gh[2];
  const double f = Himmelblau(y[0], y[1], gh, nullptr) + 0.5 * c_.dot(y.tail(c_.size()).cwiseAbs2());
  y.tail(c_.size()) = y.tail(c_.size()).cwiseProduct(c_);  // dy = grad in y
  y[0] = gh[0];
  y[1] = gh[1];
  Eigen::Map<Eigen::VectorXd>(gradient, d).noalias() = q_.transpose() * y;
  return f;
}

double PlantedHimmelblau::Hessian(const double* x, double* gradient, double* hessian) const {
  const int d = dimension();
  const Eigen::VectorXd y = q_ * Eigen::Map<const Eigen::VectorXd>(x, d);
  double hh[3];
  Himmelblau(y[0], y[1], nullptr, hh);
  // Q^T D Q with D = diag(H_2x2, c): the constant quadratic part plus a rank-2 term, O(d^2) (the
  // action solver asks for Hessians at every node of every path).
  Eigen::Matrix2d b;
  b << hh[0], hh[1], hh[1], hh[2];
  Eigen::Map<Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>>(hessian, d, d) =
      quadratic_ + q_.topRows(2).transpose() * b * q_.topRows(2);
  return Gradient(x, gradient);
}

Eigen::VectorXd PlantedHimmelblau::Plant(double y1, double y2) const {
  return q_.row(0).transpose() * y1 + q_.row(1).transpose() * y2;
}

}  // namespace ldsgd
