#include "solver/theory/assumptions.h"

#include <cmath>
#include <cstdio>

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
      if (!(outward > 0.0)) inward.push_back(x);
    }
    const std::string faces = std::to_string(options.box_samples) + " sampled points of the box's faces";
    report.checks.push_back(
        {Assumption::kCoercive, inward.empty(), Where(inward),
         inward.empty() ? "f increases outward at " + faces
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
  return report;
}

AssumptionCheck DivergenceCheck(double eta, int diverged, int chains) {
  char e[32];
  std::snprintf(e, sizeof e, "%.4g", eta);
  AssumptionCheck c{Assumption::kNoDivergence, diverged == 0, "", "", true};
  if (diverged == 0) {
    c.detail = "no chain diverged at eta = " + std::string(e);
  } else {
    c.where = "simulation at eta = " + std::string(e);
    c.detail = std::to_string(diverged) + " of " + std::to_string(chains) +
               " chains diverged: f is not coercive for SGD at this step size (or eta is above the "
               "stability bound)";
  }
  return c;
}

}  // namespace ldsgd
