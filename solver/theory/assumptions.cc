#include "solver/theory/assumptions.h"

#include <cmath>
#include <algorithm>
#include <cstdio>
#include <limits>

#include "solver/numerics/low_discrepancy.h"

namespace ldsgd {
namespace {

std::string Point(const Eigen::VectorXd& x) {
  std::string s = "(";
  for (int i = 0; i < x.size(); ++i) {
    char buffer[32];
    std::snprintf(buffer, sizeof buffer, "%.6g", x[i]);
    s += (i ? ", " : "") + std::string(buffer);
  }
  return s + ")";
}

std::string Component(const CriticalComponent& c) {
  return "component " + std::to_string(c.id) + " " + Point(c.point);
}

// Where a box-wide check failed: the first point and how many more.
std::string Where(const std::vector<Eigen::VectorXd>& failed) {
  if (failed.empty()) return "";
  std::string s = Point(failed.front());
  if (failed.size() > 1) s += " and " + std::to_string(failed.size() - 1) + " more sampled points";
  return s;
}

// The noise covariance at x (Sigma(x), or the minibatch covariance of a finite sum), judged by
// the one definition (Noise::Classify). A finite sum's samples are evaluated once for both.
Definiteness Classify(const Problem& p, const Eigen::VectorXd& x) {
  // A constant covariance is what it is everywhere: judged on its own scale, not against a drift
  // that may be huge somewhere (near a pole of f), which would call sigma = 1 "singular".
  if (p.noise.covariance() && p.noise.covariance()->is_constant()) {
    return Noise::Classify(p.noise.CovarianceAt(x.data()), Eigen::VectorXd());
  }
  if (p.noise.is_finite_sum()) {
    Eigen::MatrixXd samples;
    p.samples->Gradients(x.data(), &samples);
    return Noise::Classify(MinibatchCovarianceOf(samples, p.noise.batch_size()), samples.rowwise().mean());
  }
  return Noise::Classify(p.noise.CovarianceAt(x.data()), p.objective->Gradient(x));
}

Eigen::VectorXd BoxPoint(const Domain& box, long k) {
  const Eigen::VectorXd u = KroneckerPoint(static_cast<int>(box.lower.size()), k);
  return box.lower + u.cwiseProduct(box.upper - box.lower);
}

// Descent from the lowest box sample: Armijo steps on f, clamped to the box, until f stops
// decreasing or leaves every finite scale. Returns the last point.
constexpr int kDescentSteps = 400;
Eigen::VectorXd Descend(const Problem& p, Eigen::VectorXd x, double floor) {
  const Eigen::VectorXd width = p.domain.upper - p.domain.lower;
  double f = p.objective->Value(x.data());
  double t = 1e-3 * width.norm();  // a step length, adapted below
  for (int it = 0; it < kDescentSteps && std::isfinite(f) && f > floor; ++it) {
    const Eigen::VectorXd g = p.objective->Gradient(x);
    if (!g.allFinite() || g.norm() == 0.0) break;
    bool moved = false;
    for (int b = 0; b < 60 && !moved; ++b, t *= 0.5) {
      const Eigen::VectorXd y = (x - t * g / g.norm()).cwiseMax(p.domain.lower).cwiseMin(p.domain.upper);
      const double fy = p.objective->Value(y.data());
      if (std::isfinite(fy) && fy < f) {
        x = y;
        f = fy;
        moved = true;
      }
    }
    if (!moved) break;
    t *= 4.0;
  }
  return x;
}

// f bounded below on the box, its infimum at a critical point: no sampled point lower than every
// critical value. Where f increases outward on the box and has finitely many critical components,
// its infimum over the box is a critical value; a sample below all of them means a pole (f
// unbounded below), a minimum on the boundary, or a minimum the search missed. A descent from the
// lowest sample tells which, and where.
AssumptionCheck BoundedBelowCheck(const Problem& p, const std::vector<CriticalComponent>& components,
                                  int samples) {
  AssumptionCheck c{Assumption::kBoundedBelow, true, "", "", true};
  double lowest_critical = std::numeric_limits<double>::infinity(), top = -lowest_critical;
  for (const CriticalComponent& k : components) {
    lowest_critical = std::min(lowest_critical, k.f);
    top = std::max(top, k.f);
  }
  Eigen::VectorXd lowest;
  double f_lowest = std::numeric_limits<double>::infinity();
  for (long k = 0; k < samples; ++k) {
    const Eigen::VectorXd x = BoxPoint(p.domain, k);
    const double f = p.objective->Value(x.data());
    top = std::max(top, f);
    if (f < f_lowest) {
      f_lowest = f;
      lowest = x;
    }
  }
  // Rounding of f near its minimum, relative to its range over the box.
  const double range = std::isfinite(top - lowest_critical) ? top - lowest_critical : 1.0;
  const double slack = 1e-9 * (1.0 + std::abs(lowest_critical) + range);
  if (components.empty() || !(f_lowest < lowest_critical - slack)) {
    c.detail = "no sampled point of the box is below the lowest critical value";
    return c;
  }
  c.holds = false;
  // Unbounded: f falls a million ranges below the critical values.
  const double unbounded = lowest_critical - 1e6 * (1.0 + range);
  const Eigen::VectorXd x = Descend(p, lowest, unbounded);
  const double f = p.objective->Value(x.data());
  const Eigen::VectorXd width = p.domain.upper - p.domain.lower;
  const bool on_face = ((x - p.domain.lower).array() <= 1e-6 * width.array()).any() ||
                       ((p.domain.upper - x).array() <= 1e-6 * width.array()).any();
  c.where = Point(x);
  char value[32];
  std::snprintf(value, sizeof value, "%.6g", f);
  if (!std::isfinite(f) || f <= unbounded) {
    c.detail = "f is unbounded below there (a pole or a singularity: f = " + std::string(value) +
               "); SGD can fall into it and no long-run distribution exists";
  } else if (on_face) {
    c.detail = "f is lower on the box boundary (f = " + std::string(value) +
               ") than at every critical point: its infimum over the box is not a critical value";
  } else {
    c.detail = "f is lower there (f = " + std::string(value) +
               ") than at every critical point found: the critical search missed a minimum (more --starts?)";
  }
  return c;
}

}  // namespace

bool AssumptionReport::predictions_reliable() const {
  for (const AssumptionCheck& c : checks) {
    if (!c.holds && c.affects_predictions) return false;
  }
  return true;
}

std::string AssumptionReport::FailedSummary() const {
  std::string s;
  for (const AssumptionCheck& c : checks) {
    if (c.holds) continue;
    s += std::string(s.empty() ? "" : "; ") + ToString(c.name) + (c.where.empty() ? "" : " at " + c.where);
  }
  return s;
}

AssumptionReport CheckAssumptions(const Problem& problem,
                                  const std::vector<CriticalComponent>& components,
                                  const AssumptionOptions& options) {
  AssumptionReport report;
  const int d = problem.dimension();

  {
    AssumptionCheck c{Assumption::kNoisePositiveDefinite, true, "", "", true};
    std::vector<std::string> where;
    for (const CriticalComponent& k : components) {
      if (Classify(problem, k.point) != Definiteness::kPositive) where.push_back(Component(k));
    }
    c.holds = where.empty();
    for (const std::string& w : where) c.where += (c.where.empty() ? "" : "; ") + w;
    c.detail = c.holds ? "noise covariance positive definite at all " + std::to_string(components.size()) +
                             " components"
                       : "the noise vanishes in some direction there (for a finite sum: the sample "
                         "gradients do not span, e.g. all vanish); the large-deviation weights do not "
                         "apply to it: see `ldsgd stability` (THEORY.md section 8)";
    report.checks.push_back(c);
  }

  std::vector<Eigen::VectorXd> singular, infinite;
  for (long k = 0; k < options.box_samples; ++k) {
    const Eigen::VectorXd x = BoxPoint(problem.domain, k);
    const Definiteness def = Classify(problem, x);
    if (def == Definiteness::kSingular || def == Definiteness::kIndefinite) singular.push_back(x);
    if (def == Definiteness::kNotFinite) infinite.push_back(x);
  }
  const std::string sampled = std::to_string(options.box_samples) + " sampled points of the box";
  report.checks.push_back({Assumption::kNoisePositiveDefiniteInBox, singular.empty(), Where(singular),
                           singular.empty()
                               ? "noise covariance positive definite at " + sampled
                               : "noise covariance singular (to rounding) at " +
                                     std::to_string(singular.size()) + " of " + sampled +
                                     "; harmless unless a transition path crosses there",
                           false});
  report.checks.push_back({Assumption::kFiniteCumulant, infinite.empty(), Where(infinite),
                           infinite.empty()
                               ? "noise finite (sub-Gaussian) at " + sampled
                               : "noise covariance or gradient not finite at " +
                                     std::to_string(infinite.size()) + " of " + sampled +
                                     ": no finite cumulant, no large-deviation rates there",
                           true});

  {
    std::vector<Eigen::VectorXd> inward;
    for (long k = 0; k < options.box_samples; ++k) {
      // Face k mod 2d: coordinate i pinned to its lower (even) or upper (odd) bound.
      const int face = static_cast<int>(k % (2 * d)), i = face / 2;
      const bool upper = face % 2 == 1;
      Eigen::VectorXd x = BoxPoint(problem.domain, k);
      x[i] = upper ? problem.domain.upper[i] : problem.domain.lower[i];
      const Eigen::VectorXd g = problem.objective->Gradient(x);
      const double outward = upper ? g[i] : -g[i];
      // Or along the ray from the box's centre: SGD's drift -grad f then points back toward it
      // (|x - c|^2 decreases). A rotated landscape in a box (the planted problems, a network in
      // d = 100) has face points where the face normal says inward but the drift still returns.
      const double radial = (x - 0.5 * (problem.domain.lower + problem.domain.upper)).dot(g);
      if (!(outward > 0.0) && !(radial > 0.0)) inward.push_back(x);
    }
    const std::string faces = std::to_string(options.box_samples) + " sampled points of the box's faces";
    report.checks.push_back(
        {Assumption::kCoercive, inward.empty(), Where(inward),
         inward.empty() ? "f increases outward (along the face's normal or away from the box's centre) at " + faces
                        : "f does not increase outward at " + std::to_string(inward.size()) + " of " +
                              faces + ": SGD can drift out of the box (and diverge if f is not "
                                      "coercive); the analysis covers the box only",
         true});
  }

  {
    std::string where;
    for (const CriticalComponent& k : components) {
      if (k.touches_boundary) where += (where.empty() ? "" : "; ") + Component(k);
    }
    report.checks.push_back(
        {Assumption::kFiniteComponents, where.empty(), where,
         where.empty() ? std::to_string(components.size()) +
                             " critical components, all inside the box"
                       : "a critical component touches the box boundary: it may continue beyond "
                         "it (not compact, or truncated), and components outside the box are unknown",
         true});
  }
  report.checks.push_back(BoundedBelowCheck(problem, components, options.box_samples));
  return report;
}

AssumptionCheck DivergenceCheck(double eta, int diverged, int chains, bool rare) {
  char e[32];
  std::snprintf(e, sizeof e, "%.4g", eta);
  AssumptionCheck c{Assumption::kNoDivergence, diverged == 0, "", "", !rare};
  if (diverged == 0) {
    c.detail = "no chain diverged at eta = " + std::string(e);
  } else if (rare) {
    c.where = "simulation at eta = " + std::string(e);
    c.detail = std::to_string(diverged) + " of " + std::to_string(chains) +
               " chains escaped, far more rarely than the transitions measured: the others measure the "
               "quasi-stationary law (f grows faster than quadratically outside the box)";
  } else {
    c.where = "simulation at eta = " + std::string(e);
    c.detail = std::to_string(diverged) + " of " + std::to_string(chains) +
               " chains diverged: f is not coercive for SGD at this step size (or eta is above the "
               "stability bound)";
  }
  return c;
}

}  // namespace ldsgd
