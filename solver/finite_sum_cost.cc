#include "solver/finite_sum_cost.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include <Eigen/Cholesky>

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
// Bracket widening and the scan for a first multiplier with a maximizer.
constexpr double kWiden = 4.0;
// The multipliers with a maximizer form an interval (u / mu in the interior of conv{-g_k}); when
// 0 is outside that hull the interval is bounded and may be narrow, so the scan is fine-grained.
constexpr double kScanFactor = 1.25;
constexpr int kScanSteps = 400;

// G(phi) = log mean_k exp(-<phi, g_k>), its gradient -E_p g and Hessian Cov_p(g), p the tilted
// weights; the largest exponent is factored out.
struct LogMeanExp {
  double value = 0.0;
  Eigen::VectorXd gradient;
  Eigen::MatrixXd hessian;
  Eigen::VectorXd weights;
};

void EvaluateG(const Eigen::MatrixXd& g, const Eigen::VectorXd& phi, bool second, LogMeanExp* out) {
  const int n = static_cast<int>(g.cols());
  Eigen::VectorXd s = -(g.transpose() * phi);
  const double top = s.maxCoeff();
  out->weights = (s.array() - top).exp().matrix();
  const double total = out->weights.sum();
  out->value = top + std::log(total / n);
  out->weights /= total;
  const Eigen::VectorXd mean = g * out->weights;
  out->gradient = -mean;
  if (second) {
    out->hessian = g * out->weights.asDiagonal() * g.transpose() - mean * mean.transpose();
  }
}

}  // namespace

FiniteSumCost::FiniteSumCost(std::vector<std::shared_ptr<const Objective>> terms, int batch_size,
                             Options options)
    : terms_(std::move(terms)),
      batch_(batch_size),
      d_(terms_.empty() ? 0 : terms_.front()->dimension()),
      options_(options) {}

FiniteSumCost::Status FiniteSumCost::SupportFunction(const Eigen::MatrixXd& g,
                                                     const Eigen::VectorXd& u, double* value,
                                                     Eigen::VectorXd* phi, double* mu,
                                                     Eigen::VectorXd* weights,
                                                     int* outer_iterations,
                                                     int* inner_iterations) const {
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

  // Start: the Gaussian approximation G ~ -<phi, mean> + phi^T C phi / 2 (closed form, see header),
  // with C regularized where the samples do not span R^d.
  Eigen::MatrixXd cov = (g.colwise() - mean) * (g.colwise() - mean).transpose() /
                        static_cast<double>(g.cols());
  cov.diagonal().array() += 1e-12 * (cov.trace() / d + gscale * gscale);
  const Eigen::LLT<Eigen::MatrixXd> llt(cov);
  const Eigen::VectorXd cu = llt.solve(u), cm = llt.solve(mean);
  double m = std::sqrt(std::max(u.dot(cu), 0.0) / std::max(mean.dot(cm), 1e-300));
  if (!(m > 0.0) || !std::isfinite(m)) m = unorm / mean.norm();
  Eigen::VectorXd start = cm + cu / m;

  LogMeanExp e;
  // The result at the multiplier `at` with maximizer `at_x` (e holds its G).
  auto accept = [&](double at, const Eigen::VectorXd& at_x) {
    *value = std::max(0.0, u.dot(at_x));  // >= <u, 0> = 0; a rounding below it is 0
    *phi = at_x;
    *mu = at;
    *weights = e.weights;
    return Status::kFinite;
  };
  // The inner maximizer of <u, phi> - mu G(phi) from `x`; false when it does not exist (or Newton
  // cannot find it). On success x holds it and e its G.
  auto inner = [&](double mu_value, Eigen::VectorXd& x) -> bool {
    EvaluateG(g, x, true, &e);
    double objective = u.dot(x) - mu_value * e.value;
    // The gradient u - mu grad G cannot be resolved below the rounding of mu grad G (near a
    // critical point mu ~ |u| / |grad f| is large and the two terms cancel).
    const double floor = options_.tolerance * unorm + kRoundingFloor * mu_value * gscale;
    for (int it = 0; it < options_.max_inner_iterations; ++it) {
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
      if (x.norm() * gscale > kUnboundedExponent) return false;
      if (!moved) return (u - mu_value * e.gradient).norm() <= 1e3 * floor;
    }
    return false;
  };

  // Find a multiplier with a maximizer, scanning outwards from the Gaussian one.
  Eigen::VectorXd x = start;
  double current = m;
  bool ok = inner(current, x);
  for (int k = 1; !ok && k <= kScanSteps; ++k) {
    for (double factor : {std::pow(kScanFactor, k), std::pow(kScanFactor, -k)}) {
      current = m * factor;
      x = start;
      ok = inner(current, x);
      if (ok) break;
    }
  }
  if (!ok) return Status::kInfinite;  // u / mu is outside the hull for every mu: u is not in the cone

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
    if (std::abs(gv) <= std::max(options_.tolerance, g_floor) || narrow) return accept(current, x);
    if (gv > 0) {
      lo = current;
    } else {
      hi = current;
      x_hi = x;
    }
    // Newton on mu: dG/dmu = -u^T (Hess G)^-1 u / mu^3.
    const Eigen::LDLT<Eigen::MatrixXd> h(e.hessian);
    const double slope = -u.dot(h.solve(u)) / (current * current * current);
    double next = current - gv / slope;
    if (std::abs(next - current) <= 1e-15 * current && std::abs(gv) <= kStalledConstraint) {
      return accept(current, x);
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
  return Status::kFailure;
}

FiniteSumCost::Evaluation FiniteSumCost::Evaluate(const double* x, const double* u,
                                                  bool derivatives) const {
  Evaluation out;
  const int n = num_terms(), d = d_;
  Eigen::MatrixXd g(d, n);
  std::vector<Eigen::MatrixXd> h;
  if (derivatives) h.assign(n, Eigen::MatrixXd(d, d));
  for (int k = 0; k < n; ++k) {
    if (derivatives) {
      terms_[k]->Hessian(x, g.col(k).data(), h[k].data());
    } else {
      terms_[k]->Gradient(x, g.col(k).data());
    }
  }
  const Eigen::Map<const Eigen::VectorXd> uv(u, d);
  double value = 0.0, mu = 0.0;
  Eigen::VectorXd phi, weights;
  out.status = SupportFunction(g, uv, &value, &phi, &mu, &weights, &out.outer_iterations,
                               &out.inner_iterations);
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
    Eigen::VectorXd hp = Eigen::VectorXd::Zero(d);
    for (int k = 0; k < n; ++k) {
      if (weights[k] != 0.0) hp += weights[k] * (h[k] * phi);
    }
    out.dcdx = batch_ * mu * hp;
  }
  return out;
}

}  // namespace ldsgd
