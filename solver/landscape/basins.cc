#include "solver/landscape/basins.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "solver/simulation/neighbourhoods.h"

namespace ldsgd {
namespace {

// Longest move of one descent step, as a fraction of the smallest capture radius, and the longest
// step length as a multiple of 1 / (largest curvature at a minimum). Armijo alone only asks f to
// decrease: a long step from a steep wall can land beyond a saddle, in another basin with lower f.
// Short steps follow the flow (explicit Euler), so the basin is the flow's.
constexpr double kMoveFraction = 0.1;
constexpr double kMaxStepMultiple = 2.0;
// Armijo sufficient-decrease constant and backtracking factor of the line search.
constexpr double kArmijo = 1e-4;
constexpr double kBacktrack = 0.5;
constexpr int kMaxBacktracks = 60;

}  // namespace

BasinClassifier::BasinClassifier(const Objective& f,
                                 const std::vector<CriticalComponent>& components,
                                 Options options)
    : f_(f), components_(components), options_(options) {
  const int p = static_cast<int>(components.size());
  const Eigen::MatrixXd distance = ComponentDistances(components);
  rho_.assign(p, 0.0);
  depth_.assign(p, -1.0);
  double curvature = 0.0;
  for (int i = 0; i < p; ++i) {
    const CriticalComponent& c = components[i];
    if (c.type != CriticalType::kMinimum) continue;
    has_minima_ = true;
    double nearest = distance.row(i).minCoeff();
    if (!std::isfinite(nearest)) nearest = 1.0;  // a lone minimum: every stall near it is it
    rho_[i] = kCaptureFraction * nearest;
    if (c.hessian_eigenvalues.size() > 0) {
      curvature = std::max(curvature, c.hessian_eigenvalues.cwiseAbs().maxCoeff());
      const double lambda = c.hessian_eigenvalues.minCoeff();
      if (c.isolated && lambda > 0) depth_[i] = 0.5 * lambda * (rho_[i] / 2) * (rho_[i] / 2);
    }
  }
  initial_step_ = curvature > 0 ? 1.0 / curvature : 1.0;
  double smallest_rho = std::numeric_limits<double>::infinity();
  for (double r : rho_) {
    if (r > 0) smallest_rho = std::min(smallest_rho, r);
  }
  max_move_ = kMoveFraction * (std::isfinite(smallest_rho) ? smallest_rho : 1.0);
  gradient_stop_ = options_.gradient_tolerance * (1.0 + curvature);
}

int BasinClassifier::Captured(const Eigen::VectorXd& raw, double fx) const {
  const Eigen::VectorXd x = Canonical(raw);
  for (std::size_t i = 0; i < components_.size(); ++i) {
    if (depth_[i] < 0 || fx - components_[i].f > depth_[i]) continue;
    if ((x - components_[i].point).squaredNorm() <= rho_[i] * rho_[i]) return static_cast<int>(i);
  }
  return -1;
}

Eigen::VectorXd BasinClassifier::Canonical(Eigen::VectorXd x) const {
  if (options_.canonicalize) options_.canonicalize(x.data());
  return x;
}

int BasinClassifier::Nearby(const Eigen::VectorXd& raw) const {
  const Eigen::VectorXd x = Canonical(raw);
  for (std::size_t i = 0; i < components_.size(); ++i) {
    if (rho_[i] <= 0) continue;
    const CriticalComponent& c = components_[i];
    const double r2 = rho_[i] * rho_[i];
    if ((x - c.point).squaredNorm() <= r2) return static_cast<int>(i);
    for (const Eigen::VectorXd& q : c.points) {
      if ((x - q).squaredNorm() <= r2) return static_cast<int>(i);
    }
  }
  return -1;
}

int BasinClassifier::Classify(const double* start) const {
  if (!has_minima_) return -1;
  const int d = f_.dimension();
  Eigen::VectorXd x = Eigen::Map<const Eigen::VectorXd>(start, d), g(d), trial(d);
  double fx = f_.Gradient(x.data(), g.data());
  double step = initial_step_;
  for (int it = 0; it < options_.max_iterations; ++it) {
    if (!std::isfinite(fx) || !g.allFinite()) return -1;
    const int captured = Captured(x, fx);
    if (captured >= 0) return captured;
    const double g2 = g.squaredNorm();
    if (std::sqrt(g2) <= gradient_stop_) return Nearby(x);
    // Armijo backtracking from twice the last accepted step (steps grow back after a hard stretch),
    // within the caps above.
    step = std::min({2 * step, kMaxStepMultiple * initial_step_, max_move_ / std::sqrt(g2)});
    bool accepted = false;
    for (int b = 0; b < kMaxBacktracks; ++b) {
      trial = x - step * g;
      const double ft = f_.Value(trial.data());
      if (ft <= fx - kArmijo * step * g2) {
        accepted = true;
        break;
      }
      step *= kBacktrack;
    }
    if (!accepted) return Nearby(x);  // no decrease possible in floating point: stalled
    x = trial;
    fx = f_.Gradient(x.data(), g.data());
  }
  return -1;
}

}  // namespace ldsgd
