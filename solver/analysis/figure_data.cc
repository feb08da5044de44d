#include "solver/analysis/figure_data.h"

#include <algorithm>
#include <cmath>
#include <set>
#include <utility>
#include <vector>

#include <Eigen/SVD>

#include "solver/action/geometric_action.h"
#include "solver/theory/stability.h"

namespace ldsgd {
namespace {

nlohmann::json Finite(double v) { return std::isfinite(v) ? nlohmann::json(v) : nlohmann::json(nullptr); }

std::vector<double> Linspace(double a, double b, int n) {
  std::vector<double> out(n);
  for (int k = 0; k < n; ++k) out[k] = a + (b - a) * k / (n - 1);
  return out;
}

// f over origin + u a + v b on the grid u x v (rows: v).
nlohmann::json PlaneValues(const Objective& f, const Eigen::VectorXd& origin, const Eigen::VectorXd& a,
                           const Eigen::VectorXd& b, const std::vector<double>& u, const std::vector<double>& v) {
  nlohmann::json rows = nlohmann::json::array();
  for (double y : v) {
    nlohmann::json row = nlohmann::json::array();
    for (double x : u) row.push_back(Finite(f.Value(origin + x * a + y * b)));
    rows.push_back(std::move(row));
  }
  return rows;
}

// The points the figures draw: components (every sampled point) and path nodes.
Eigen::MatrixXd DrawnPoints(const Analysis& a) {
  std::vector<Eigen::VectorXd> pts;
  for (const CriticalComponent& c : a.components) {
    for (const Eigen::VectorXd& p : c.points) pts.push_back(p);
  }
  for (const TransitionPath& p : a.costs.paths) {
    for (Eigen::Index k = 0; k < p.nodes.rows(); ++k) pts.push_back(p.nodes.row(k).transpose());
  }
  Eigen::MatrixXd m(pts.size(), pts.empty() ? 0 : pts.front().size());
  for (std::size_t k = 0; k < pts.size(); ++k) m.row(k) = pts[k].transpose();
  return m;
}

nlohmann::json Grid(const Problem& problem, const Analysis& a) {
  const Objective& f = *problem.objective;
  const Eigen::VectorXd& lo = problem.domain.lower;
  const Eigen::VectorXd& hi = problem.domain.upper;
  const int d = static_cast<int>(lo.size());
  if (d == 1) {
    const std::vector<double> x = Linspace(lo[0], hi[0], kFigureGrid1D);
    nlohmann::json values = nlohmann::json::array();
    for (double v : x) values.push_back(Finite(f.Value(Eigen::VectorXd::Constant(1, v))));
    return {{"kind", "line"}, {"x", x}, {"f", values}};
  }
  if (d == 2) {
    const std::vector<double> x = Linspace(lo[0], hi[0], kFigureGrid2D), y = Linspace(lo[1], hi[1], kFigureGrid2D);
    return {{"kind", "box"}, {"x", x}, {"y", y},
            {"f", PlaneValues(f, Eigen::Vector2d(0, 0), Eigen::Vector2d(1, 0), Eigen::Vector2d(0, 1), x, y)}};
  }
  // d >= 3: the plane through the mean of the drawn points spanned by their two principal axes.
  const Eigen::MatrixXd pts = DrawnPoints(a);
  if (pts.rows() < 1) return {{"kind", "none"}, {"why", "no components to place a plane through"}};
  const Eigen::VectorXd mean = pts.colwise().mean().transpose();
  const Eigen::MatrixXd centred = pts.rowwise() - mean.transpose();
  const Eigen::JacobiSVD<Eigen::MatrixXd> svd(centred, Eigen::ComputeThinV);
  Eigen::VectorXd axis_a = Eigen::VectorXd::Unit(d, 0), axis_b = Eigen::VectorXd::Unit(d, 1);
  const Eigen::VectorXd s = svd.singularValues();
  if (s.size() >= 1 && s[0] > 0) axis_a = svd.matrixV().col(0);
  if (s.size() >= 2 && s[1] > 0) axis_b = svd.matrixV().col(1);
  const double total = s.squaredNorm();
  const double held = total > 0 ? (s.head(std::min<Eigen::Index>(2, s.size())).squaredNorm()) / total : 1.0;
  double umin = 0, umax = 0, vmin = 0, vmax = 0;
  for (Eigen::Index k = 0; k < centred.rows(); ++k) {
    const double u = centred.row(k).dot(axis_a), v = centred.row(k).dot(axis_b);
    umin = std::min(umin, u), umax = std::max(umax, u), vmin = std::min(vmin, v), vmax = std::max(vmax, v);
  }
  // A margin of a quarter of the extent (at least 0.5) so that the wells around the points show.
  const double pu = std::max(0.25 * (umax - umin), 0.5), pv = std::max(0.25 * (vmax - vmin), 0.5);
  const std::vector<double> u = Linspace(umin - pu, umax + pu, kFigureGrid2D), v = Linspace(vmin - pv, vmax + pv, kFigureGrid2D);
  return {{"kind", "plane"},
          {"origin", std::vector<double>(mean.data(), mean.data() + d)},
          {"axes", {std::vector<double>(axis_a.data(), axis_a.data() + d), std::vector<double>(axis_b.data(), axis_b.data() + d)}},
          {"explained", held},
          {"u", u},
          {"v", v},
          {"f", PlaneValues(f, mean, axis_a, axis_b, u, v)}};
}

// The edges of the ground states' optimal trees, each once.
std::vector<std::pair<int, int>> TreeEdges(const Analysis& a) {
  std::set<std::pair<int, int>> edges;
  for (int g : a.energies.ground_states) {
    const std::vector<int>& tree = a.energies.trees[g];
    for (std::size_t j = 0; j < tree.size(); ++j) {
      if (tree[j] >= 0) edges.insert({static_cast<int>(j), tree[j]});
    }
  }
  return {edges.begin(), edges.end()};
}

nlohmann::json Profiles(const Problem& problem, const Analysis& a) {
  nlohmann::json out = nlohmann::json::array();
  const ProblemGeometry geometry(problem);
  for (const auto& [i, j] : TreeEdges(a)) {
    const TransitionPath& p = a.costs.path(i, j);
    if (p.nodes.rows() < 1) continue;
    const int d = static_cast<int>(p.nodes.cols());
    std::vector<double> s = {0.0}, f = {problem.objective->Value(p.nodes.row(0).transpose())}, action = {0.0};
    std::vector<double> mid(d), step(d);
    for (Eigen::Index k = 1; k < p.nodes.rows(); ++k) {
      for (int c = 0; c < d; ++c) {
        mid[c] = 0.5 * (p.nodes(k - 1, c) + p.nodes(k, c));
        step[c] = p.nodes(k, c) - p.nodes(k - 1, c);
      }
      const double length = (p.nodes.row(k) - p.nodes.row(k - 1)).norm();
      const double cost = geometry.ok() && length > 0 ? geometry.geometry().Cost(mid.data(), step.data()) : 0.0;
      s.push_back(s.back() + length);
      f.push_back(problem.objective->Value(p.nodes.row(k).transpose()));
      action.push_back(action.back() + cost);
    }
    nlohmann::json act = nlohmann::json::array();
    for (double v : action) act.push_back(Finite(v));
    out.push_back({{"from", i}, {"to", j}, {"cost", Finite(a.costs.costs(i, j))}, {"s", s}, {"f", f}, {"action", act}});
  }
  return out;
}

// Non-isolated components as the sets they are: every sampled point.
nlohmann::json Sets(const Analysis& a) {
  nlohmann::json out = nlohmann::json::array();
  for (const CriticalComponent& c : a.components) {
    if (c.isolated) continue;
    nlohmann::json points = nlohmann::json::array();
    for (const Eigen::VectorXd& p : c.points) points.push_back(std::vector<double>(p.data(), p.data() + p.size()));
    out.push_back({{"id", c.id}, {"points", points}});
  }
  return out;
}

}  // namespace

nlohmann::json FigureData(const Problem& problem, const Analysis& analysis) {
  const Eigen::VectorXd& lo = problem.domain.lower;
  const Eigen::VectorXd& hi = problem.domain.upper;
  return {{"dimension", lo.size()},
          {"sets", Sets(analysis)},
          {"lower", std::vector<double>(lo.data(), lo.data() + lo.size())},
          {"upper", std::vector<double>(hi.data(), hi.data() + hi.size())},
          {"grid", Grid(problem, analysis)},
          {"profiles", Profiles(problem, analysis)}};
}

nlohmann::json StabilityFigureData(const Problem& problem, const Analysis& a, int threads) {
  double top = a.predictions.stability_bound;
  for (double eta : problem.step_sizes) top = std::isfinite(top) ? std::max(top, eta) : eta;
  if (!std::isfinite(top) || !(top > 0)) top = 1.0;
  StepSizeRange range;
  range.to = 2 * top;
  range.from = range.to / 100;
  range.points = 100;
  StabilityOptions o;
  o.lyapunov.threads = threads;
  const StabilitySweep sweep = StabilityAnalyzer(o).Sweep(problem, a.components, range);
  if (!sweep.status.ok()) return {{"applies", false}, {"message", sweep.status.message()}};
  return ToJson(sweep, o.vanishing_noise_tolerance);
}

}  // namespace ldsgd
