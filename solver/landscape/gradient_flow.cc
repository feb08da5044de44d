#include "solver/landscape/gradient_flow.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>

#include <Eigen/Eigenvalues>

#include "solver/action/action_solver.h"

namespace ldsgd {
namespace {

// Largest manifold whose directions are also mixed pairwise (the separable built-ins go to d = 8).
constexpr std::size_t kMixedDirections = 8;

struct Trajectory {
  int reached = -1;
  std::vector<Eigen::VectorXd> points;
  double length = 0.0;
};

// Follows dx/ds = sign * grad f / |grad f| (sign -1: descent) from x0 until it arrives at a
// component: immediately when it comes within `radius` of an attractor of the flow (a minimum for
// descent, a maximum for ascent); at any other component (a saddle reached along its stable or
// unstable manifold, as in separable landscapes) only when it stalls there or lingers within the
// radius for several radii of arc length, since passing near a saddle is not arriving at it.
Trajectory Follow(const Objective& f, const Domain& domain,
                  const std::vector<CriticalComponent>& components, const std::vector<bool>& attractor,
                  int source, Eigen::VectorXd x, double sign, double step, double radius,
                  double max_length) {
  const int d = f.dimension();
  Trajectory t;
  t.points.push_back(x);
  Eigen::VectorXd g(d), gm(d);
  auto direction = [&](const Eigen::VectorXd& p, Eigen::VectorXd& out) {
    f.Gradient(p.data(), out.data());
    const double n = out.norm();
    if (!(n > 0.0) || !std::isfinite(n)) return false;
    out *= sign / n;
    return true;
  };
  auto nearby = [&](const Eigen::VectorXd& p) {
    for (int c = 0; c < static_cast<int>(components.size()); ++c) {
      if (c == source) continue;
      for (const Eigen::VectorXd& q : components[c].points) {
        if ((q - p).norm() <= radius) return c;
      }
    }
    return -1;
  };
  auto arrive = [&](int c) {
    t.reached = c;
    t.points.push_back(components[c].point);
    return t;
  };
  const int linger = static_cast<int>(std::ceil(3.0 * radius / step));
  int near = -1, steps_near = 0;
  while (t.length < max_length) {
    const int c = nearby(x);
    if (c >= 0 && attractor[c]) return arrive(c);
    if (c >= 0 && c == near) {
      if (++steps_near >= linger) return arrive(c);
    } else {
      near = c;
      steps_near = 0;
    }
    if (!direction(x, g)) return c >= 0 ? arrive(c) : t;
    const Eigen::VectorXd mid = x + 0.5 * step * g;
    if (!direction(mid, gm)) return c >= 0 ? arrive(c) : t;
    x += step * gm;
    t.length += step;
    if (!domain.Contains(x)) return t;
    t.points.push_back(x);
  }
  return t;
}

}  // namespace

std::vector<FlowConnection> FindFlowConnections(const Objective& f, const Domain& domain,
                                                const std::vector<CriticalComponent>& components,
                                                const GradientFlowOptions& options) {
  const int d = f.dimension();
  const int p = static_cast<int>(components.size());
  const double diameter = (domain.upper - domain.lower).norm();
  double closest = std::numeric_limits<double>::infinity();
  for (int i = 0; i < p; ++i) {
    for (int j = i + 1; j < p; ++j) {
      for (const Eigen::VectorXd& a : components[i].points) {
        for (const Eigen::VectorXd& b : components[j].points) closest = std::min(closest, (a - b).norm());
      }
    }
  }
  const double radius = std::min(options.arrival_radius * diameter, 0.25 * closest);
  const double step = std::min(options.step * diameter, 0.2 * radius);
  const double offset = std::min(options.offset * diameter, 0.1 * radius);
  const double max_length = options.max_length * diameter;

  // Descent converges to minima, ascent to maxima (generically); other arrivals need lingering.
  std::vector<bool> minima(p), maxima(p);
  for (int c = 0; c < p; ++c) {
    minima[c] = components[c].type == CriticalType::kMinimum;
    maxima[c] = components[c].type == CriticalType::kMaximum;
  }

  std::map<std::pair<int, int>, Trajectory> best;
  auto record = [&](int from, int to, Trajectory t, bool reverse) {
    if (reverse) std::reverse(t.points.begin(), t.points.end());
    auto it = best.find({from, to});
    if (it == best.end() || t.length < it->second.length) best[{from, to}] = std::move(t);
  };

  for (int c = 0; c < p; ++c) {
    const CriticalComponent& comp = components[c];
    Eigen::VectorXd g(d);
    Eigen::MatrixXd h(d, d);
    f.Hessian(comp.point.data(), g.data(), h.data());
    const Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> eig(h);
    const double zero = 1e-9 * std::max(1.0, eig.eigenvalues().cwiseAbs().maxCoeff());
    for (double kind : {-1.0, 1.0}) {  // -1: unstable directions, descend; +1: stable, ascend
      std::vector<Eigen::VectorXd> basis;
      for (int e = 0; e < d; ++e) {
        const double lambda = eig.eigenvalues()[e];
        if ((kind < 0 && lambda < -zero) || (kind > 0 && lambda > zero)) {
          basis.push_back(eig.eigenvectors().col(e));
        }
      }
      // Ascent finds the components that flow down to c: none when no component lies above it.
      if (kind > 0 && !std::any_of(components.begin(), components.end(), [&](const CriticalComponent& o) { return o.f > comp.f; })) {
        continue;
      }
      // Directions: +-each eigenvector and, on manifolds of up to kMixedDirections dimensions,
      // +-(v_i +- v_j)/sqrt 2, which for a 2-D unstable manifold (a maximum in the plane) gives 8
      // evenly spread trajectories (in d = 100 the mixtures would be 2 10^4 per component).
      std::vector<Eigen::VectorXd> directions;
      for (std::size_t i = 0; i < basis.size(); ++i) {
        directions.push_back(basis[i]);
        directions.push_back(-basis[i]);
        for (std::size_t j = i + 1; j < basis.size() && basis.size() <= kMixedDirections; ++j) {
          for (double si : {1.0, -1.0}) {
            for (double sj : {1.0, -1.0}) directions.push_back((si * basis[i] + sj * basis[j]) / std::sqrt(2.0));
          }
        }
      }
      for (const Eigen::VectorXd& v : directions) {
        const Eigen::VectorXd x0 = comp.point + offset * v;
        if (!domain.Contains(x0)) continue;
        Trajectory t = Follow(f, domain, components, kind < 0 ? minima : maxima, c, x0, kind, step,
                              radius, max_length);
        if (t.reached < 0) continue;
        t.points.insert(t.points.begin(), comp.point);
        if (kind < 0) {
          record(c, t.reached, std::move(t), false);
        } else {
          const int from = t.reached;
          record(from, c, std::move(t), true);
        }
      }
    }
  }

  std::vector<FlowConnection> out;
  for (auto& [key, t] : best) {
    Eigen::MatrixXd poly(t.points.size(), d);
    for (std::size_t k = 0; k < t.points.size(); ++k) poly.row(k) = t.points[k].transpose();
    FlowConnection c;
    c.from = key.first;
    c.to = key.second;
    c.path = ActionSolver::Resample(poly, std::max(1, options.path_nodes - 1));
    out.push_back(std::move(c));
  }
  return out;
}

}  // namespace ldsgd
