// The discretized geometric (time-free) Freidlin-Wentzell action for Gaussian noise
// (THEORY.md section 3):
//
//   c(x, u) = |u|_M |g|_M + <u, g>_M,   g = grad f(x),  M = Sigma(x)^{-1},
//   S[phi] ~ sum_k c(m_k, phi_{k+1} - phi_k),  m_k = (phi_k + phi_{k+1}) / 2  (midpoint rule).
//
// c is 1-homogeneous in u, so one segment's cost is c at its midpoint applied to the whole step.
// For Ceres, each segment contributes a residual vector r with |r|^2 = c:
//
//   y = C^{-1} u, z = C^{-1} g (Sigma = C C^T),  a = |y| = |u|_M,  b = |z| = |g|_M,
//   r = sqrt(a b / 2) (y / a + z / b)   =>   |r|^2 = a b + y.z = c(x, u).
//
// This is THEORY.md's 1/2 |u||w| |u/|u| - w/|w||^2 with w = -g, written in whitened coordinates.
//
// Finite-sum noise (finite_sum_cost.h) has no such closed form; c and its exact derivatives come
// from the inner convex solve, and the residual is r = sqrt(c / |e|^2) e with e = u/|u| - w/|w|
// (Euclidean): |r|^2 = c, and r is smooth wherever c > 0 (c vanishes, to second order in the
// angle, only along w, like the Gaussian cost).
#ifndef LDSGD_SOLVER_ACTION_GEOMETRIC_ACTION_H_
#define LDSGD_SOLVER_ACTION_GEOMETRIC_ACTION_H_

#include <cmath>
#include <memory>
#include <string>
#include <type_traits>
#include <vector>

#include <Eigen/Core>
#include <ceres/jet.h>

#include "solver/noise/covariance.h"
#include "solver/noise/finite_sum_cost.h"
#include "solver/noise/noise.h"
#include "solver/objective/objective.h"
#include "solver/problem/problem.h"

namespace ldsgd {

// The noise geometry: what c(x, .) needs, for Gaussian noise (precomputing the whitening of a
// constant covariance once) or for the exact finite-sum cost.
class NoiseGeometry {
 public:
  NoiseGeometry(const Objective& f, const Covariance& sigma);
  NoiseGeometry(const Objective& f, const FiniteSumCost& finite_sum);
  int dimension() const { return d_; }
  const Objective& objective() const { return f_; }
  bool is_finite_sum() const { return finite_sum_ != nullptr; }

  // c(x, u), plain doubles. Returns NaN where Sigma(x) is not positive definite or the finite-sum
  // solve failed, +inf where finite-sum noise cannot move along u.
  double Cost(const double* x, const double* u) const;

  // Sigma(x) by the one definition (Noise::Classify); the finite sum has no covariance to factor.
  Definiteness DefinitenessAt(const double* x) const;

  // The segment residual r(a, b) with |r|^2 = c((a+b)/2, b-a), for T = double or ceres::Jet.
  // Derivatives are exact: the Jet parts of grad f and Sigma at the midpoint are lifted from the
  // Hessian and dSigma/dx (chain rule), the rest is differentiated by the Jets themselves.
  // Returns false where Sigma is not positive definite, or the finite-sum cost is infinite or its
  // solve failed (Ceres then rejects the step).
  // `warm` (finite sums only, optional): the segment's previous inner solution, read and updated.
  template <typename T>
  bool SegmentResidual(const T* a, const T* b, T* r,
                       FiniteSumCost::WarmStart* warm = nullptr) const;

 private:
  template <typename T>
  bool FiniteSumResidual(const T* a, const T* b, T* r, FiniteSumCost::WarmStart* warm) const;

  const Objective& f_;
  const Covariance* sigma_ = nullptr;          // Gaussian noise
  const FiniteSumCost* finite_sum_ = nullptr;  // finite-sum noise
  int d_;
  Eigen::MatrixXd constant_whitening_;  // C^{-1} for a constant covariance
};

namespace internal {

inline double ValueOf(double x) { return x; }
template <int N>
double ValueOf(const ceres::Jet<double, N>& x) {
  return x.a;
}

// A function value v with known partial derivatives dv/dx_k at x, as a T: for Jets, the chain rule
// dv = sum_k dv/dx_k dx_k gives its derivative part.
inline double Lift(double v, const double* /*dvdx*/, const double* /*x*/, int /*d*/) { return v; }
template <int N>
ceres::Jet<double, N> Lift(double v, const double* dvdx, const ceres::Jet<double, N>* x, int d) {
  ceres::Jet<double, N> out(v);
  for (int k = 0; k < d; ++k) out.v += dvdx[k] * x[k].v;
  return out;
}

}  // namespace internal

template <typename T>
bool NoiseGeometry::FiniteSumResidual(const T* a, const T* b, T* r,
                                      FiniteSumCost::WarmStart* warm) const {
  using std::sqrt;
  const int d = d_;
  std::vector<T> m(d), u(d), g(d);
  std::vector<double> mv(d), uv(d);
  for (int i = 0; i < d; ++i) {
    m[i] = (a[i] + b[i]) * 0.5;
    u[i] = b[i] - a[i];
    mv[i] = internal::ValueOf(m[i]);
    uv[i] = internal::ValueOf(u[i]);
  }
  constexpr bool kDerivatives = !std::is_same_v<T, double>;
  const FiniteSumCost::Evaluation e =
      finite_sum_->Evaluate(mv.data(), uv.data(), kDerivatives, warm);
  if (e.status != FiniteSumCost::Status::kFinite) return false;
  T c(e.cost);
  if constexpr (kDerivatives) {
    for (int i = 0; i < d; ++i) c.v += e.dcdx[i] * m[i].v + e.dcdu[i] * u[i].v;
  }
  // grad f and Hess f at the midpoint from the samples the cost already evaluated.
  for (int i = 0; i < d; ++i) {
    if constexpr (kDerivatives) {
      g[i] = internal::Lift(e.mean_gradient[i], e.mean_hessian.data() + i * d, m.data(), d);
    } else {
      g[i] = e.mean_gradient[i];
    }
  }
  T uu(0.0), gg(0.0);
  for (int i = 0; i < d; ++i) {
    uu += u[i] * u[i];
    gg += g[i] * g[i];
  }
  if (!(e.cost > 0.0) || !(internal::ValueOf(uu) > 0.0) || !(internal::ValueOf(gg) > 0.0)) {
    for (int i = 0; i < d; ++i) r[i] = T(0.0);
    return true;
  }
  const T un = sqrt(uu), gn = sqrt(gg);
  T ee(0.0);
  for (int i = 0; i < d; ++i) {
    r[i] = u[i] / un + g[i] / gn;  // u/|u| - w/|w| with w = -g
    ee += r[i] * r[i];
  }
  const T scale = sqrt(c / ee);
  for (int i = 0; i < d; ++i) r[i] *= scale;
  return true;
}

template <typename T>
bool NoiseGeometry::SegmentResidual(const T* a, const T* b, T* r,
                                    FiniteSumCost::WarmStart* warm) const {
  using std::sqrt;
  if (finite_sum_ != nullptr) return FiniteSumResidual(a, b, r, warm);
  const Covariance& sigma = *sigma_;
  const int d = d_;
  std::vector<T> m(d), u(d), g(d), y(d), z(d);
  std::vector<double> mv(d), gv(d), h(d * d);
  for (int i = 0; i < d; ++i) {
    m[i] = (a[i] + b[i]) * 0.5;
    u[i] = b[i] - a[i];
    mv[i] = internal::ValueOf(m[i]);
  }
  if constexpr (std::is_same_v<T, double>) {
    f_.Gradient(mv.data(), gv.data());  // no derivatives wanted: skip the Hessian
  } else {
    f_.Hessian(mv.data(), gv.data(), h.data());
  }
  for (int i = 0; i < d; ++i) g[i] = internal::Lift(gv[i], &h[i * d], m.data(), d);

  if (sigma.kind() == Covariance::Kind::kIsotropic) {
    const double inv = 1.0 / sigma.sigma();
    for (int i = 0; i < d; ++i) {
      y[i] = u[i] * inv;
      z[i] = g[i] * inv;
    }
  } else if (sigma.kind() == Covariance::Kind::kConstant) {
    for (int i = 0; i < d; ++i) {
      y[i] = T(0.0);
      z[i] = T(0.0);
      for (int k = 0; k <= i; ++k) {
        y[i] += constant_whitening_(i, k) * u[k];
        z[i] += constant_whitening_(i, k) * g[k];
      }
    }
  } else {
    // Sigma(m) with its exact derivatives, then a Cholesky factorization in T and forward solves.
    std::vector<Eigen::MatrixXd> ds(d, Eigen::MatrixXd::Zero(d, d));
    const Eigen::MatrixXd sv =
        std::is_same_v<T, double> ? sigma.At(mv.data()) : sigma.At(mv.data(), &ds);
    std::vector<T> s(d * d), c(d * d, T(0.0));
    std::vector<double> dsdx(d);
    for (int i = 0; i < d; ++i) {
      for (int j = 0; j < d; ++j) {
        for (int k = 0; k < d; ++k) dsdx[k] = ds[k](i, j);
        s[i * d + j] = internal::Lift(sv(i, j), dsdx.data(), m.data(), d);
      }
    }
    for (int j = 0; j < d; ++j) {
      T diag = s[j * d + j];
      for (int k = 0; k < j; ++k) diag -= c[j * d + k] * c[j * d + k];
      if (!(internal::ValueOf(diag) > 0.0)) return false;  // Sigma(m) not positive definite
      c[j * d + j] = sqrt(diag);
      for (int i = j + 1; i < d; ++i) {
        T v = s[i * d + j];
        for (int k = 0; k < j; ++k) v -= c[i * d + k] * c[j * d + k];
        c[i * d + j] = v / c[j * d + j];
      }
    }
    for (int i = 0; i < d; ++i) {
      T yi = u[i], zi = g[i];
      for (int k = 0; k < i; ++k) {
        yi -= c[i * d + k] * y[k];
        zi -= c[i * d + k] * z[k];
      }
      y[i] = yi / c[i * d + i];
      z[i] = zi / c[i * d + i];
    }
  }

  T yy(0.0), zz(0.0);
  for (int i = 0; i < d; ++i) {
    yy += y[i] * y[i];
    zz += z[i] * z[i];
  }
  // A segment of zero length, or a midpoint exactly at a critical point, costs exactly 0; the
  // general formula would divide 0 by 0 there.
  if (!(internal::ValueOf(yy) > 0.0) || !(internal::ValueOf(zz) > 0.0)) {
    for (int i = 0; i < d; ++i) r[i] = T(0.0);
    return true;
  }
  const T an = sqrt(yy), bn = sqrt(zz);
  const T scale = sqrt(an * bn * 0.5);
  for (int i = 0; i < d; ++i) r[i] = scale * (y[i] / an + z[i] / bn);
  return true;
}

// The geometry of a problem's noise model, owning what it refers to: Gaussian noise, a finite sum's
// exact minibatch cost, or its Gaussian approximation (covariance cov_k(g_k) / b).
class ProblemGeometry {
 public:
  // On a problem without a usable noise model, ok() is false and error() says why.
  explicit ProblemGeometry(const Problem& problem);
  bool ok() const { return geometry_ != nullptr; }
  const std::string& error() const { return error_; }
  const NoiseGeometry& geometry() const { return *geometry_; }

 private:
  std::unique_ptr<NoiseGeometry> geometry_;
  std::string error_;
};

// The discretized action of a path (nodes as rows of a (N+1) x d matrix): the sum of segment costs.
// +inf where Sigma fails to be positive definite at some midpoint.
double DiscreteAction(const NoiseGeometry& geometry, const Eigen::MatrixXd& nodes);

// The first node or segment midpoint of the path where Sigma is not a covariance (indefinite, or not
// finite), if any. Where it is only singular (positive semi-definite: the noise vanishes in some
// direction) the assumption checks report it; the path's cost is still defined off that point.
bool FindNonPositiveDefinite(const NoiseGeometry& geometry, const Eigen::MatrixXd& nodes,
                             Eigen::VectorXd* where);

}  // namespace ldsgd

#endif  // LDSGD_SOLVER_ACTION_GEOMETRIC_ACTION_H_
