#include "solver/action/spanning_path.h"

#include <algorithm>
#include <cmath>

#include <Eigen/QR>

namespace ldsgd {

double SpanningDefect(const FiniteSum& samples, const Eigen::VectorXd& x, double margin,
                      int qp_iterations, Eigen::VectorXd* gradient) {
  const int n = samples.size(), d = samples.dimension();
  Eigen::MatrixXd g, h;
  samples.Gradients(x.data(), &g, gradient != nullptr ? &h : nullptr);
  // p = floor + (1 - n floor) q, q in the simplex: Frank-Wolfe on q for |G p|^2, exact line search.
  const double floor = margin / n, scale = 1.0 - margin;
  Eigen::VectorXd q = Eigen::VectorXd::Constant(n, 1.0 / n);
  const Eigen::VectorXd base = g.rowwise().sum() * floor;  // G (floor 1)
  Eigen::VectorXd v = base + scale * (g * q);               // G p
  for (int it = 0; it < qp_iterations; ++it) {
    const Eigen::VectorXd grad_q = scale * (g.transpose() * v);  // half the gradient of |v|^2
    Eigen::Index k;
    grad_q.minCoeff(&k);
    // Direction: vertex e_k - q; v moves by scale (g_k - G q).
    const Eigen::VectorXd dv = scale * (g.col(k) - g * q);
    const double dd = dv.squaredNorm();
    if (!(dd > 0.0)) break;
    const double gamma = std::clamp(-v.dot(dv) / dd, 0.0, 1.0);
    if (gamma == 0.0) break;
    q *= 1.0 - gamma;
    q[k] += gamma;
    v += gamma * dv;
  }
  if (gradient != nullptr) {
    // Envelope theorem: d|G(x) p*|^2 / dx = 2 sum_k p*_k Hess f_k (G p*).
    gradient->setZero(d);
    for (int k = 0; k < n; ++k) {
      const double pk = floor + scale * q[k];
      *gradient += 2.0 * pk * (h.middleCols(k * d, d) * v);
    }
  }
  return v.squaredNorm();
}

Eigen::MatrixXd SpanningInitialPath(const FiniteSum& samples, const Eigen::VectorXd& a,
                                    const Eigen::VectorXd& b, const SpanningPathOptions& o) {
  const int d = static_cast<int>(a.size()), m = std::max(2, o.segments);
  Eigen::MatrixXd nodes(m + 1, d);
  const Eigen::VectorXd chord = b - a;
  const double length = chord.norm();
  // The hyperplane normal to the chord: columns 1.. of the full QR of the chord.
  const Eigen::MatrixXd q = Eigen::HouseholderQR<Eigen::MatrixXd>(chord).householderQ();
  const Eigen::MatrixXd normal = q.rightCols(d - 1);
  for (int k = 0; k <= m; ++k) {
    Eigen::VectorXd x = a + chord * (static_cast<double>(k) / m);
    if (k > 0 && k < m) {
      Eigen::VectorXd grad;
      double psi = SpanningDefect(samples, x, o.margin, o.qp_iterations, &grad);
      double step = 0.1 * length;
      for (int it = 0; it < o.max_steps && psi > 0.0; ++it) {
        const Eigen::VectorXd dir = -(normal * (normal.transpose() * grad));
        const double dn = dir.norm();
        if (!(dn > 0.0)) break;
        bool moved = false;
        for (int back = 0; back < 30; ++back, step *= 0.5) {
          const Eigen::VectorXd y = x + (step / dn) * dir;
          Eigen::VectorXd gy;
          const double py = SpanningDefect(samples, y, o.margin, o.qp_iterations, &gy);
          if (py < psi) {
            x = y;
            psi = py;
            grad = gy;
            moved = true;
            step *= 2.0;
            break;
          }
        }
        if (!moved) break;
      }
    }
    nodes.row(k) = x.transpose();
  }
  return nodes;
}

}  // namespace ldsgd
