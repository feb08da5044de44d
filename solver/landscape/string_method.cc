#include "solver/landscape/string_method.h"

#include <algorithm>
#include <cmath>

#include <Eigen/Eigenvalues>

namespace ldsgd {
namespace {

// Iterations between refreshes of the step size (a Hessian eigenvalue sweep over the images).
constexpr int kRefresh = 500;

// The largest |Hessian eigenvalue| over the nodes: the explicit step's stability bound.
double LargestCurvature(const Objective& f, const Eigen::MatrixXd& nodes) {
  const int d = static_cast<int>(nodes.cols());
  Eigen::VectorXd g(d);
  Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor> h(d, d);
  double lambda = 0.0;
  for (Eigen::Index k = 0; k < nodes.rows(); ++k) {
    const Eigen::VectorXd x = nodes.row(k).transpose();
    f.Hessian(x.data(), g.data(), h.data());
    const Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> eig(h, Eigen::EigenvaluesOnly);
    lambda = std::max(lambda, eig.eigenvalues().cwiseAbs().maxCoeff());
  }
  return lambda;
}

// Interior local maxima of f along the string.
std::vector<int> Maxima(const Eigen::VectorXd& values) {
  std::vector<int> out;
  for (Eigen::Index k = 1; k + 1 < values.size(); ++k) {
    if (values[k] > values[k - 1] && values[k] >= values[k + 1]) out.push_back(static_cast<int>(k));
  }
  return out;
}

// Redistributes nodes first+1 .. last-1 evenly in arc length between the fixed nodes first and last.
void Redistribute(Eigen::MatrixXd& nodes, int first, int last) {
  const int n = last - first;
  if (n < 2) return;
  std::vector<double> s(n + 1, 0.0);
  for (int k = 1; k <= n; ++k) s[k] = s[k - 1] + (nodes.row(first + k) - nodes.row(first + k - 1)).norm();
  if (!(s[n] > 0)) return;
  const Eigen::MatrixXd old = nodes.middleRows(first, n + 1);
  int seg = 0;
  for (int k = 1; k < n; ++k) {
    const double target = s[n] * k / n;
    while (seg + 1 < n && s[seg + 1] < target) ++seg;
    const double len = s[seg + 1] - s[seg];
    const double t = len > 0 ? (target - s[seg]) / len : 0.0;
    nodes.row(first + k) = (1 - t) * old.row(seg) + t * old.row(seg + 1);
  }
}

}  // namespace

StringResult RunString(const Objective& f, const Eigen::VectorXd& a, const Eigen::VectorXd& b,
                       const StringOptions& o) {
  const int n = std::max(3, o.images), d = static_cast<int>(a.size());
  StringResult out;
  out.nodes.resize(n, d);
  for (int k = 0; k < n; ++k) out.nodes.row(k) = (a + (b - a) * (static_cast<double>(k) / (n - 1))).transpose();
  // dt = 1 / the largest curvature, refreshed every kRefresh iterations as the string moves into
  // stiffer regions; and no image moves more than half the spacing in one step (a flat line, where
  // every curvature vanishes, would otherwise make dt huge).
  const double spacing = (b - a).norm() / (n - 1);
  double dt = 1.0 / std::max(LargestCurvature(f, out.nodes), 1e-300);
  const int warm_up = static_cast<int>(o.warm_up_fraction * o.iterations);
  // f at the nodes (the ends are fixed: once) and the gradients of the interior ones, from one
  // gradient call per node and iteration.
  Eigen::VectorXd values(n);
  Eigen::MatrixXd gradients(n, d);
  values[0] = f.Value(a.data());
  values[n - 1] = f.Value(b.data());
  std::vector<int> climbing;
  for (int it = 0; it < o.iterations; ++it) {
    if (it > 0 && it % kRefresh == 0) dt = 1.0 / std::max(LargestCurvature(f, out.nodes), 1e-300);
    const Eigen::MatrixXd before = out.nodes;
    for (int k = 1; k + 1 < n; ++k) {
      const Eigen::VectorXd x = before.row(k).transpose();
      Eigen::VectorXd g(d);
      values[k] = f.Gradient(x.data(), g.data());
      gradients.row(k) = g.transpose();
    }
    climbing = it >= warm_up ? Maxima(values) : std::vector<int>();
    for (int k = 1; k + 1 < n; ++k) {
      Eigen::VectorXd g = gradients.row(k).transpose();
      if (std::find(climbing.begin(), climbing.end(), k) != climbing.end()) {
        Eigen::VectorXd tau = (before.row(k + 1) - before.row(k - 1)).transpose();
        if (tau.norm() > 0) tau.normalize();
        g -= 2.0 * g.dot(tau) * tau;
      }
      const double move = dt * g.norm();
      out.nodes.row(k) -= (move > 0.5 * spacing ? 0.5 * spacing / g.norm() : dt) * g.transpose();
    }
    int first = 0;
    for (int c : climbing) Redistribute(out.nodes, first, c), first = c;
    Redistribute(out.nodes, first, n - 1);
    double length = 0.0;
    for (int k = 1; k < n; ++k) length += (out.nodes.row(k) - out.nodes.row(k - 1)).norm();
    out.iterations = it + 1;
    const double moved = (out.nodes - before).rowwise().norm().maxCoeff();
    if (it >= warm_up && moved <= o.tolerance * length) {
      out.converged = true;
      break;
    }
  }
  for (int k = 1; k + 1 < n; ++k) {
    const Eigen::VectorXd x = out.nodes.row(k).transpose();
    values[k] = f.Value(x.data());
  }
  for (int c : Maxima(values)) out.climbers.push_back(out.nodes.row(c).transpose());
  return out;
}

}  // namespace ldsgd
