#include "solver/action/point_costs.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include <Eigen/QR>

#include "solver/action/action_solver.h"
#include "solver/action/geometric_action.h"
#include "solver/action/spanning_path.h"
#include "solver/landscape/basins.h"

namespace ldsgd {
namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();
// As the analysis' coarse pass and split test (transition_costs.cc).
constexpr int kCoarseMaxRounds = 2;
constexpr int kCoarseMaxIterations = 50;
constexpr double kSplitReach = 1.5;
// Bent initial paths for finite sums in d >= 2 when no straight one is finite (as the analysis').
constexpr int kBentNormals = 2;
constexpr double kBendOffsets[] = {-1.0, -0.5, 0.5, 1.0};

Eigen::MatrixXd Polyline(const std::vector<Eigen::VectorXd>& points) {
  Eigen::MatrixXd m(points.size(), points.front().size());
  for (std::size_t k = 0; k < points.size(); ++k) m.row(static_cast<Eigen::Index>(k)) = points[k].transpose();
  return m;
}

// The component x sits on, or -1.
int SitsOn(const std::vector<CriticalComponent>& components, const Eigen::VectorXd& x) {
  for (int k = 0; k < static_cast<int>(components.size()); ++k) {
    for (const Eigen::VectorXd& q : components[k].points) {
      if ((q - x).norm() <= kAtComponent * (1 + q.norm())) return k;
    }
  }
  return -1;
}

// Whether an interior node of the path comes within kSplitReach segment lengths of a component
// other than `to` and `at` (the one the start sits on, or -1).
bool ThroughOther(const Eigen::MatrixXd& nodes, const std::vector<CriticalComponent>& components, int to, int at) {
  const int n = static_cast<int>(nodes.rows());
  double segment = 0.0;
  for (int k = 0; k + 1 < n; ++k) segment = std::max(segment, (nodes.row(k + 1) - nodes.row(k)).norm());
  for (int c = 0; c < static_cast<int>(components.size()); ++c) {
    if (c == to || c == at) continue;
    for (const Eigen::VectorXd& q : components[c].points) {
      for (int k = 1; k + 1 < n; ++k) {
        if ((nodes.row(k).transpose() - q).norm() <= kSplitReach * segment) return true;
      }
    }
  }
  return false;
}

ActionPath BestCoarse(const NoiseGeometry& geometry, const std::vector<Eigen::MatrixXd>& initial, const ActionSolver::Options& coarse) {
  ActionPath best;
  best.action = kInf;
  for (const Eigen::MatrixXd& path : initial) {
    ActionSolver::Summary summary;
    ActionPath p = ActionSolver(coarse).Solve(geometry, path, &summary);
    if (summary.ok() && p.action < best.action) best = std::move(p);
  }
  return best;
}

// Finite sums in d >= 2: a straight path may cross a region no sample step moves through (cost
// +inf) where a curved one does not: the chord bent along its normals, and a path pulled to where
// the sample gradients surround 0 (spanning_path.h), as the analysis tries (transition_costs.cc).
std::vector<Eigen::MatrixXd> BentPaths(const FiniteSum& samples, const Eigen::VectorXd& a, const Eigen::VectorXd& b) {
  std::vector<Eigen::MatrixXd> out;
  const Eigen::VectorXd chord = b - a;
  const Eigen::MatrixXd q = Eigen::HouseholderQR<Eigen::MatrixXd>(chord).householderQ();
  for (int n = 1; n < std::min<int>(kBentNormals + 1, static_cast<int>(q.cols())); ++n) {
    for (const double offset : kBendOffsets) out.push_back(Polyline({a, 0.5 * (a + b) + offset * chord.norm() * q.col(n), b}));
  }
  out.push_back(SpanningInitialPath(samples, a, b));
  return out;
}

// V(x, k): the best coarse initial path (straight, or through a saddle within the detour factor),
// refined; +inf when none is finite or the refined path runs through another component.
double DirectCost(const NoiseGeometry& geometry, const std::vector<CriticalComponent>& components,
                  const Eigen::VectorXd& x, int at, int k, const FiniteSum* bent, const TransitionCostSolver::Options& o) {
  const Eigen::VectorXd& y = components[k].point;
  std::vector<Eigen::MatrixXd> initial = {Polyline({x, y})};
  for (const CriticalComponent& s : components) {
    if (s.id == k || s.type != CriticalType::kSaddle) continue;
    if ((x - s.point).norm() + (s.point - y).norm() <= o.detour_factor * (x - y).norm()) initial.push_back(Polyline({x, s.point, y}));
  }
  ActionSolver::Options coarse = o.action;
  coarse.initial_segments = coarse.max_segments = o.coarse_segments;
  coarse.max_rounds = std::min(coarse.max_rounds, kCoarseMaxRounds);
  coarse.max_iterations = std::min(coarse.max_iterations, kCoarseMaxIterations);
  ActionPath best = BestCoarse(geometry, initial, coarse);
  if (!std::isfinite(best.action) && bent != nullptr) best = BestCoarse(geometry, BentPaths(*bent, x, y), coarse);
  if (!std::isfinite(best.action)) return kInf;
  ActionSolver::Options fine = o.action;
  fine.initial_segments = std::max(fine.initial_segments, o.coarse_segments);
  fine.max_segments = std::max(fine.max_segments, fine.initial_segments);
  ActionSolver::Summary summary;
  const ActionPath refined = ActionSolver(fine).Solve(geometry, best.nodes, &summary);
  if (!summary.ok() || ThroughOther(refined.nodes, components, k, at)) return kInf;
  return refined.action;
}

}  // namespace

PointCosts ComputePointCosts(const Problem& problem, const std::vector<CriticalComponent>& components,
                             const TransitionCosts& costs, const Eigen::VectorXd& x,
                             const TransitionCostSolver::Options& options, const Eigen::VectorXd* gain) {
  PointCosts out;
  const int p = static_cast<int>(components.size());
  if (costs.restricted.rows() != p) {
    out.status = Status(StatusCode::kInvalidOptions, "the transition costs were computed without the restricted costs");
    return out;
  }
  const ProblemGeometry geometry(problem);
  if (!geometry.ok()) {
    out.status = Status(StatusCode::kInvalidInput, geometry.error());
    return out;
  }
  std::vector<bool> global(p, false);
  for (int g : costs.global_minima) global[g] = true;
  const int at = SitsOn(components, x);
  out.flows_to = at;
  if (out.flows_to < 0) out.flows_to = BasinClassifier(*problem.objective, components).Classify(x);
  const FiniteSum* bent = geometry.geometry().is_finite_sum() && problem.dimension() >= 2 ? problem.samples.get() : nullptr;
  out.direct = Eigen::VectorXd::Constant(p, kInf);
  std::vector<int> order;
  for (int k = 0; k < p; ++k) {
    if (!global[k]) order.push_back(k);
  }
  // Largest gain first (ties: lowest id), so that the pruning below stops early.
  if (gain != nullptr) std::stable_sort(order.begin(), order.end(), [&](int a, int b) { return (*gain)[a] > (*gain)[b]; });
  double best = 0.0;
  if (out.flows_to >= 0 && !global[out.flows_to]) {
    out.direct[out.flows_to] = 0.0;
    if (gain != nullptr) best = (*gain)[out.flows_to];
  }
  for (int k : order) {
    if (k == out.flows_to) continue;
    if (gain != nullptr && !((*gain)[k] > best)) break;
    out.direct[k] = DirectCost(geometry.geometry(), components, x, at, k, bent, options);
    ++out.solved;
    if (gain != nullptr && std::isfinite(out.direct[k])) best = std::max(best, (*gain)[k] - out.direct[k]);
  }
  out.restricted = Eigen::VectorXd::Constant(p, kInf);
  for (int i = 0; i < p; ++i) {
    if (global[i]) continue;
    for (int k = 0; k < p; ++k) {
      if (!global[k]) out.restricted[i] = std::min(out.restricted[i], out.direct[k] + costs.restricted(k, i));
    }
  }
  out.status = Status::Ok();
  return out;
}

}  // namespace ldsgd
