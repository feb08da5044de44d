#include "solver/noise/finite_sum_cost.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include <Eigen/Cholesky>

#include "solver/noise/covariance.h"

namespace ldsgd {
namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
// The inner problem has no maximizer when u / mu is outside the interior of conv{-g_k}: Newton then
// drives phi off to infinity, with the tilted weights collapsing on a face of the hull. |phi| times
// the largest sample gradient beyond this counts as "no maximizer" (exp(-500) ~ 1e-217: the weights
// off the face are below any double's resolution long before).
constexpr double kUnboundedExponent = 500.0;
// Rounding of mu grad G, relative to mu max_k |g_k| (a few dozen units in the last place).
constexpr double kRoundingFloor = 64 * std::numeric_limits<double>::epsilon();
// Below this relative gradient, Newton steps are taken in full (the quadratic-convergence region).
constexpr double kFullStepGradient = 1e-6;
// Rounding allowance of G(phi) in ulps of 1 + |phi| max_k |g_k| (see the outer loop).
constexpr double kConstraintUlps = 1000.0;
// G(phi) is accurate to a few 1e-16 only; once the multiplier stops moving, |G| below this is the
// best the arithmetic gives (the value then carries a relative error ~ mu |G| / value).
constexpr double kStalledConstraint = 1e-11;
// Bracket widening (also in the search for a first multiplier with a maximizer).
constexpr double kWiden = 4.0;
// The search for a first multiplier with a maximizer (see FindMultiplier): its cuts, and the
// relative width below which their interval counts as empty (u on the boundary of the cone).
constexpr int kCutSteps = 200;
constexpr double kEmptyInterval = 1e-13;

// G(phi) = log mean_k exp(-<phi, g_k>), its gradient -E_p g and Hessian Cov_p(g), p the tilted
// weights; the largest exponent is factored out. Plain loops: d is small and n up to 1e5, where
// Eigen's general products on a d x n matrix spend more in setup than in arithmetic. The Hessian is
// accumulated centred (two passes), so it keeps its accuracy when the mean is large against the
// spread.
struct LogMeanExp {
  double value = 0.0;
  Eigen::VectorXd gradient;
  Eigen::MatrixXd hessian;
  Eigen::VectorXd weights;
};

void EvaluateG(const Eigen::MatrixXd& g, const Eigen::VectorXd& phi, bool second, LogMeanExp* out) {
  const int n = static_cast<int>(g.cols()), d = static_cast<int>(g.rows());
  const double* gk = g.data();
  out->weights.resize(n);
  double* w = out->weights.data();
  double top = -kInf;
  for (int k = 0; k < n; ++k) {
    double s = 0.0;
    for (int i = 0; i < d; ++i) s -= gk[k * d + i] * phi[i];
    w[k] = s;
    top = std::max(top, s);
  }
  double total = 0.0;
  for (int k = 0; k < n; ++k) {
    w[k] = std::exp(w[k] - top);
    total += w[k];
  }
  out->value = top + std::log(total / n);
  const double inv = 1.0 / total;
  out->gradient.setZero(d);
  double* mean = out->gradient.data();  // E_p g, negated below
  for (int k = 0; k < n; ++k) {
    w[k] *= inv;
    for (int i = 0; i < d; ++i) mean[i] += w[k] * gk[k * d + i];
  }
  if (!second) {
    out->gradient = -out->gradient;
    return;
  }
  out->hessian.setZero(d, d);
  double* h = out->hessian.data();
  const double* m = mean;
  for (int k = 0; k < n; ++k) {
    if (w[k] == 0.0) continue;
    const double* r = gk + k * d;
    for (int j = 0; j < d; ++j) {
      const double wr = w[k] * (r[j] - m[j]);
      for (int i = j; i < d; ++i) h[j * d + i] += wr * (r[i] - m[i]);
    }
  }
  out->gradient = -out->gradient;
  for (int j = 0; j < d; ++j) {
    for (int i = j + 1; i < d; ++i) h[i * d + j] = h[j * d + i];
  }
}

// Joint Newton on the optimality conditions u = mu grad G(phi), G(phi) = 0, from (phi, mu): a
// step solves the bordered system [mu Hess G, grad G; grad G^T, 0] (dphi, dmu) = (u - mu grad G,
// -G), backtracked on the residual norm. Converges quadratically from a nearby solution; returns
// false (the caller then runs the robust nested solve) when it does not converge within a few
// steps, leaves mu > 0, or meets a singular Hessian. Convergence: the same tests as the nested
// solve's (`grad_floor` on the first condition, `constraint_floor` on G, the latter scaled by the
// rounding of G at the current phi).
bool JointNewton(const Eigen::MatrixXd& g, const Eigen::VectorXd& u, double gscale,
                 double grad_floor, double tolerance, Eigen::VectorXd* phi, double* mu,
                 LogMeanExp* e, int* iterations) {
  constexpr int kMaxSteps = 12;
  const double unorm = u.norm();
  EvaluateG(g, *phi, true, e);
  auto floors_met = [&](const Eigen::VectorXd& r1, double gv, const Eigen::VectorXd& x, double m) {
    const double g_floor = kConstraintUlps * std::numeric_limits<double>::epsilon() *
                           (1.0 + x.norm() * gscale);
    return r1.norm() <= grad_floor + kRoundingFloor * m * gscale &&
           std::abs(gv) <= std::max(tolerance, g_floor);
  };
  // Residual measured relative to |u| (first block) and in units of G (second).
  auto merit = [&](const Eigen::VectorXd& r1, double gv) { return r1.norm() / unorm + std::abs(gv); };
  Eigen::VectorXd r1 = u - *mu * e->gradient;
  double current = merit(r1, e->value);
  LogMeanExp et;  // the trial point's G (kept across steps: no allocation per trial)
  for (int it = 0; it < kMaxSteps; ++it) {
    ++*iterations;
    if (floors_met(r1, e->value, *phi, *mu)) return true;
    const Eigen::LDLT<Eigen::MatrixXd> h(*mu * e->hessian);
    if (h.info() != Eigen::Success || !(h.vectorD().minCoeff() > 0.0)) return false;
    const Eigen::VectorXd hr = h.solve(r1), hg = h.solve(e->gradient);
    const double schur = e->gradient.dot(hg);
    if (!(schur > 0.0)) return false;
    const double dmu = (e->gradient.dot(hr) + e->value) / schur;
    const Eigen::VectorXd dphi = hr - dmu * hg;
    if (!dphi.allFinite() || !std::isfinite(dmu)) return false;
    bool moved = false;
    for (double t = 1.0; t >= 1.0 / 64; t *= 0.5) {
      const double m = *mu + t * dmu;
      if (!(m > 0.0)) continue;
      const Eigen::VectorXd x = *phi + t * dphi;
      EvaluateG(g, x, true, &et);
      const Eigen::VectorXd rt = u - m * et.gradient;
      const double mt = merit(rt, et.value);
      if (std::isfinite(mt) && (mt < current || floors_met(rt, et.value, x, m))) {
        *phi = x;
        *mu = m;
        std::swap(*e, et);
        r1 = rt;
        current = mt;
        moved = true;
        break;
      }
    }
    if (!moved) return floors_met(r1, e->value, *phi, *mu);
  }
  return floors_met(r1, e->value, *phi, *mu);
}


// Start: the Gaussian approximation G ~ -<phi, mean> + phi^T C phi / 2 (closed form, see header),
// with C regularized where the samples do not span R^d. Returns the multiplier, *start its maximizer.
double GaussianStart(const Eigen::MatrixXd& g, const Eigen::VectorXd& u, const Eigen::VectorXd& mean,
                     double gscale, Eigen::VectorXd* start) {
  const int d = static_cast<int>(g.rows());
  Eigen::MatrixXd cov = MinibatchCovarianceOf(g, 1);
  cov.diagonal().array() += 1e-12 * (cov.trace() / d + gscale * gscale);
  const Eigen::LLT<Eigen::MatrixXd> llt(cov);
  const Eigen::VectorXd cu = llt.solve(u), cm = llt.solve(mean);
  double m = std::sqrt(std::max(u.dot(cu), 0.0) / std::max(mean.dot(cm), 1e-300));
  if (!(m > 0.0) || !std::isfinite(m)) m = u.norm() / mean.norm();
  *start = cm + cu / m;
  return m;
}

// A multiplier whose inner maximizer exists, *current the first one tried; *x its maximizer. False
// when none exists. Those multipliers are the mu with u / mu in the interior of conv{-g_k}, an
// interval that may be narrow (when 0 is outside the hull), so it is localized by cuts rather than
// scanned: any direction v bounds it by <u, v> <= mu sigma(v), sigma(v) = max_k <-g_k, v> the
// hull's support function, and a failed inner solve drifts off along a v that separates u / mu
// from the hull, i.e. one whose cut excludes the tried mu. A v with <u, v> > 0 >= sigma(v) is a
// recession direction of {G <= 0} along which <u, phi> grows: no multiplier, h(u) = inf. When the
// cut does not exclude the tried mu (the inner solve failed otherwise), the sign of G at its last
// iterate picks the side (G grows without bound below the interval, falls without bound above).
template <typename Inner>
bool FindMultiplier(Inner& inner, const Eigen::MatrixXd& g, const Eigen::VectorXd& u,
                    const Eigen::VectorXd& start, const LogMeanExp& e, double* current,
                    Eigen::VectorXd* x) {
  double lo = 0.0, hi = kInf, m = *current;
  for (int it = 0; it < kCutSteps; ++it) {
    *x = start;
    if (inner(m, *x)) {
      *current = m;
      return true;
    }
    const double norm = x->norm();
    if (std::isfinite(norm) && norm > 0.0) {
      const Eigen::VectorXd v = *x / norm;
      const double a = u.dot(v), s = (g.transpose() * v).minCoeff() * -1.0;
      if (a > 0.0 && s <= 0.0) return false;
      if (s > 0.0) lo = std::max(lo, a / s);
      if (s < 0.0) hi = std::min(hi, a / s);
    }
    if (lo < m && m < hi) (e.value > 0.0 ? lo : hi) = m;
    if (!(lo < hi * (1.0 - kEmptyInterval))) return false;
    m = lo == 0.0 ? hi / kWiden : (std::isfinite(hi) ? std::sqrt(lo * hi) : lo * kWiden);
  }
  return false;
}

// The inner maximizer of <u, phi> - mu G(phi) from `x`; false when it does not exist (or Newton
// cannot find it). On success x holds it and e its G.
bool InnerMaximize(const Eigen::MatrixXd& g, const Eigen::VectorXd& u, double mu_value, double gscale,
                   const FiniteSumCost::Options& o, Eigen::VectorXd& x, LogMeanExp& e,
                   int* inner_iterations) {
  const double unorm = u.norm();
  EvaluateG(g, x, true, &e);
  double objective = u.dot(x) - mu_value * e.value;
  // The gradient u - mu grad G cannot be resolved below the rounding of mu grad G (near a
  // critical point mu ~ |u| / |grad f| is large and the two terms cancel).
  const double floor = o.tolerance * unorm + kRoundingFloor * mu_value * gscale;
  for (int it = 0; it < o.max_inner_iterations; ++it) {
    ++*inner_iterations;
    const Eigen::VectorXd grad = u - mu_value * e.gradient;
    if (grad.norm() <= floor) return true;
    const Eigen::LDLT<Eigen::MatrixXd> h(mu_value * e.hessian);
    if (h.info() != Eigen::Success) return false;
    const Eigen::VectorXd step = h.solve(grad);
    if (!step.allFinite()) return false;
    // Near the maximizer the full step is taken: there the objective's rounding (1e-16 of its
    // size) hides the gain of a step that still shrinks the gradient quadratically.
    if (grad.norm() <= kFullStepGradient * unorm) {
      x += step;
      EvaluateG(g, x, true, &e);
      objective = u.dot(x) - mu_value * e.value;
      continue;
    }
    // Backtracking on the concave objective (Newton's step is an ascent direction).
    double t = 1.0;
    bool moved = false;
    for (int b = 0; b < 60; ++b) {
      const Eigen::VectorXd trial = x + t * step;
      LogMeanExp et;
      EvaluateG(g, trial, true, &et);
      const double o = u.dot(trial) - mu_value * et.value;
      if (std::isfinite(o) && o >= objective) {
        x = trial;
        e = std::move(et);
        moved = o > objective || t * step.norm() <= 1e-15 * (1.0 + x.norm());
        objective = o;
        break;
      }
      t *= 0.5;
    }
    // Far out, and along a direction v that separates u / mu from conv{-g_k} (<u, v> > mu max_k
    // <-g_k, v>): no maximizer. Far out otherwise, it may still exist (u / mu near the hull's edge).
    if (x.norm() * gscale > kUnboundedExponent &&
        u.dot(x) > mu_value * (g.transpose() * x).minCoeff() * -1.0) {
      return false;
    }
    if (!moved) return (u - mu_value * e.gradient).norm() <= 1e3 * floor;
  }
  return false;
}

}  // namespace

FiniteSumCost::FiniteSumCost(std::shared_ptr<const FiniteSum> samples, int batch_size,
                             Options options)
    : samples_(std::move(samples)),
      batch_(batch_size),
      d_(samples_ ? samples_->dimension() : 0),
      options_(options) {}

FiniteSumCost::Status FiniteSumCost::SupportFunction(const Eigen::MatrixXd& g,
                                                     const Eigen::VectorXd& u, double* value,
                                                     Eigen::VectorXd* phi, double* mu,
                                                     Eigen::VectorXd* weights,
                                                     int* outer_iterations,
                                                     int* inner_iterations,
                                                     WarmStart* warm) const {
  const int d = static_cast<int>(g.rows());
  *outer_iterations = *inner_iterations = 0;
  const double unorm = u.norm();
  const Eigen::VectorXd mean = g.rowwise().mean();
  const double gscale = g.colwise().norm().maxCoeff();
  *phi = Eigen::VectorXd::Zero(d);
  *mu = 0.0;
  *weights = Eigen::VectorXd::Constant(g.cols(), 1.0 / static_cast<double>(g.cols()));
  // No move, or a midpoint where every sample gradient vanishes or averages to zero: the feasible
  // set is {G <= 0} with G >= 0 there (G convex, stationary at 0), i.e. {0} for a non-degenerate
  // spread: the cost is 0.
  if (!(unorm > 0.0) || !(gscale > 0.0) || !(mean.norm() > 0.0)) {
    *value = 0.0;
    return Status::kFinite;
  }

  LogMeanExp e;
  // The result at the multiplier `at` with maximizer `at_x` (e holds its G).
  auto accept = [&](double at, const Eigen::VectorXd& at_x) {
    *value = std::max(0.0, u.dot(at_x));  // >= <u, 0> = 0; a rounding below it is 0
    *phi = at_x;
    *mu = at;
    *weights = e.weights;
    if (warm != nullptr) {
      warm->valid = true;
      warm->phi = at_x;
      warm->mu = at / unorm;  // phi* depends on u's direction only, mu* is proportional to |u|
    }
    return Status::kFinite;
  };
  // Fast path: joint Newton from the warm start.
  if (warm != nullptr && warm->valid && warm->phi.size() == d && warm->mu > 0.0) {
    Eigen::VectorXd x = warm->phi;
    double m0 = warm->mu * unorm;
    if (JointNewton(g, u, gscale, options_.tolerance * unorm, options_.tolerance, &x, &m0, &e,
                    inner_iterations)) {
      return accept(m0, x);
    }
  }
  Eigen::VectorXd start;
  const double m = GaussianStart(g, u, mean, gscale, &start);

  auto inner = [&](double mu_value, Eigen::VectorXd& x) {
    return InnerMaximize(g, u, mu_value, gscale, options_, x, e, inner_iterations);
  };

  Eigen::VectorXd x;  // a first multiplier with a maximizer, from the Gaussian one
  double current = m;
  if (!FindMultiplier(inner, g, u, start, e, &current, &x)) return Status::kInfinite;

  // The outer loop's last resort: the joint Newton from (x0, m0); kFailure when it does not converge.
  auto polish = [&](Eigen::VectorXd x0, double m0) {
    const bool ok = JointNewton(g, u, gscale, options_.tolerance * unorm, options_.tolerance, &x0,
                                &m0, &e, inner_iterations);
    return ok ? accept(m0, x0) : Status::kFailure;
  };
  // Bracket [lo, hi] of the root of G(phi(mu)) (decreasing in mu): multipliers whose maximizer
  // had G > 0 (lo) and G < 0 (hi); lo = 0 and hi = inf while no such multiplier was seen.
  double lo = 0.0, hi = kInf;
  Eigen::VectorXd x_hi;  // the maximizer at hi, a warm start for multipliers above the root
  for (int it = 0; it < options_.max_outer_iterations; ++it) {
    ++*outer_iterations;
    const double gv = e.value;
    // G sums exponents of size |phi| max_k |g_k|: its rounding, with the inner solution's, is a
    // few hundred ulps of that; the value then errs by ~ mu |G|, 1e-12 of it or less.
    const double g_floor = kConstraintUlps * std::numeric_limits<double>::epsilon() *
                           (1.0 + x.norm() * gscale);
    const bool narrow = std::isfinite(hi) && lo > 0 && hi - lo <= 1e-14 * hi;
    if (std::abs(gv) <= std::max(options_.tolerance, g_floor)) return accept(current, x);
    // A bracket at the resolution of mu with G far from 0 (G(phi(mu)) can sweep many units there,
    // next to the interval's end): finish with the joint Newton from its feasible end.
    if (narrow) return polish(x_hi.size() == d ? x_hi : x, hi);
    if (gv > 0) {
      lo = current;
    } else {
      hi = current;
      x_hi = x;
    }
    // Newton on mu: dG/dmu = -u^T (Hess G)^-1 u / mu^3.
    const double slope = -u.dot(Eigen::LDLT<Eigen::MatrixXd>(e.hessian).solve(u)) / (current * current * current);
    double next = current - gv / slope;
    if (std::abs(next - current) <= 1e-15 * current) {
      // Newton on mu stalls where the inner maximizer no longer moves by a resolvable amount.
      return std::abs(gv) <= kStalledConstraint ? accept(current, x) : polish(x, current);
    }
    const bool bracketed = lo > 0.0 && std::isfinite(hi);
    if (!(next > lo && next < hi) || !std::isfinite(next)) {
      next = bracketed ? std::sqrt(lo * hi) : (gv > 0 ? current * kWiden : current / kWiden);
    }
    // Warm start from the nearer solved end.
    Eigen::VectorXd y = (gv > 0 || x_hi.size() == 0) ? x : x_hi;
    if (!inner(next, y)) {
      // No maximizer at `next`: the root lies between it and the last solved multiplier. Bisect
      // (geometrically) towards the solved side until a maximizer exists.
      bool found = false;
      double a = next, b = current;
      for (int k = 0; k < 200 && !found; ++k) {
        const double mid = std::sqrt(a * b);
        y = x;
        if (inner(mid, y)) {
          next = mid;
          found = true;
        } else {
          a = mid;
        }
        if (std::abs(a - b) <= 1e-15 * b) break;
      }
      if (!found) {
        // The multipliers with a maximizer end at `current` and G(phi) never became positive on
        // their side: the feasible set is unbounded along u.
        if (lo == 0.0 && gv < 0) return Status::kInfinite;
        return Status::kFailure;
      }
    }
    current = next;
    x = y;
  }
  return polish(x, current);
}

FiniteSumCost::Evaluation FiniteSumCost::Evaluate(const double* x, const double* u,
                                                  bool derivatives, WarmStart* warm) const {
  Evaluation out;
  const int n = num_terms(), d = d_;
  Eigen::MatrixXd g, h;
  samples_->Gradients(x, &g, derivatives ? &h : nullptr);
  out.mean_gradient = g.rowwise().mean();
  if (derivatives) out.mean_hessian = h.reshaped(d * d, n).rowwise().mean().reshaped(d, d);
  const Eigen::Map<const Eigen::VectorXd> uv(u, d);
  double value = 0.0, mu = 0.0;
  Eigen::VectorXd phi, weights;
  out.status = SupportFunction(g, uv, &value, &phi, &mu, &weights, &out.outer_iterations,
                               &out.inner_iterations, warm);
  if (out.status == Status::kInfinite) {
    out.cost = kInf;
    return out;
  }
  if (out.status == Status::kFailure) {
    out.cost = kNaN;
    return out;
  }
  out.cost = batch_ * value;
  if (derivatives) {
    out.dcdu = batch_ * phi;
    // sum_k p_k H_k phi = (sum_k p_k H_k) phi: one weighted sum of the Hessians, then one product.
    const Eigen::MatrixXd weighted = (h.reshaped(d * d, n) * weights).reshaped(d, d);
    out.dcdx = batch_ * mu * (weighted * phi);
  }
  return out;
}

}  // namespace ldsgd
