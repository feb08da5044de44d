#include "solver/action/transition_costs.h"

#include <Eigen/QR>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <limits>
#include <map>
#include <memory>
#include <sstream>

#include <boost/graph/adjacency_list.hpp>
#include <boost/graph/floyd_warshall_shortest.hpp>

#include "solver/numerics/parallel.h"
#include "solver/action/spanning_path.h"

namespace ldsgd {
namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

// Shortest-path closure of a cost matrix (+inf = no edge) with Boost.Graph's Floyd-Warshall.
// GCC 12 reports a false -Wmaybe-uninitialized inside Boost's edge iterators here.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
Eigen::MatrixXd Closure(const Eigen::MatrixXd& edges) {
  using Graph = boost::adjacency_list<boost::vecS, boost::vecS, boost::directedS, boost::no_property,
                                      boost::property<boost::edge_weight_t, double>>;
  const int p = static_cast<int>(edges.rows());
  Graph g(p);
  for (int i = 0; i < p; ++i) {
    for (int j = 0; j < p; ++j) {
      if (i != j && std::isfinite(edges(i, j))) boost::add_edge(i, j, edges(i, j), g);
    }
  }
  std::vector<std::vector<double>> d(p, std::vector<double>(p));
  boost::floyd_warshall_all_pairs_shortest_paths(
      g, d, boost::distance_inf(kInf).distance_zero(0.0));
  Eigen::MatrixXd out(p, p);
  for (int i = 0; i < p; ++i) {
    for (int j = 0; j < p; ++j) out(i, j) = i == j ? 0.0 : d[i][j];
  }
  return out;
}
#pragma GCC diagnostic pop

bool Near(double a, double b) {
  return std::abs(a - b) <= 1e-12 * std::max({1.0, std::abs(a), std::abs(b)});
}

// The route i -> ... -> j realizing closed(i, j) through edges(): the last hop k -> j is an edge
// with closed(i, k) + edges(k, j) = closed(i, j); lowest k first, for determinism.
std::vector<int> Route(const Eigen::MatrixXd& edges, const Eigen::MatrixXd& closed, int i, int j) {
  std::vector<int> reversed = {j};
  std::vector<bool> seen(edges.rows(), false);
  seen[j] = true;
  int current = j;
  while (current != i) {
    int hop = -1;
    if (std::isfinite(edges(i, current)) && Near(edges(i, current), closed(i, current))) {
      hop = i;
    } else {
      for (int k = 0; k < edges.rows(); ++k) {
        if (k == i || seen[k] || !std::isfinite(edges(k, current))) continue;
        if (Near(closed(i, k) + edges(k, current), closed(i, current))) {
          hop = k;
          break;
        }
      }
    }
    if (hop < 0) return {};  // cannot happen for a consistent closure
    seen[hop] = true;
    reversed.push_back(hop);
    current = hop;
  }
  return {reversed.rbegin(), reversed.rend()};
}

Eigen::MatrixXd Polyline(std::initializer_list<Eigen::VectorXd> points) {
  Eigen::MatrixXd m(points.size(), points.begin()->size());
  int k = 0;
  for (const Eigen::VectorXd& p : points) m.row(k++) = p.transpose();
  return m;
}

// The closest pair of sample points of two components: the natural ends of an initial path
// (a non-isolated component is an infimum over all its points; zero-cost travel along it is free).
std::pair<Eigen::VectorXd, Eigen::VectorXd> Ends(const CriticalComponent& a, const CriticalComponent& b) {
  std::pair<Eigen::VectorXd, Eigen::VectorXd> best{a.point, b.point};
  double dist = (a.point - b.point).norm();
  for (const Eigen::VectorXd& x : a.points) {
    for (const Eigen::VectorXd& y : b.points) {
      if ((x - y).norm() < dist) {
        dist = (x - y).norm();
        best = {x, y};
      }
    }
  }
  return best;
}

struct Job {
  int from, to;
  Eigen::MatrixXd initial;
  ActionPath result;
  ActionSolver::Summary summary;
};

// Whether an interior node of the job's path comes within `reach` segment lengths of a point of a
// component other than its ends: the discrete path then runs through that critical point.
bool PassesThroughOther(const Job& job, const std::vector<CriticalComponent>& components,
                        double reach) {
  const Eigen::MatrixXd& nodes = job.result.nodes;
  const int n = static_cast<int>(nodes.rows());
  double segment = 0.0;
  for (int k = 0; k + 1 < n; ++k) segment = std::max(segment, (nodes.row(k + 1) - nodes.row(k)).norm());
  const double radius = reach * segment;
  for (int c = 0; c < static_cast<int>(components.size()); ++c) {
    if (c == job.from || c == job.to) continue;
    for (const Eigen::VectorXd& point : components[c].points) {
      for (int k = 1; k + 1 < n; ++k) {
        if ((nodes.row(k).transpose() - point).norm() <= radius) return true;
      }
    }
  }
  return false;
}

}  // namespace

const char* ToString(CostMethod method) {
  switch (method) {
    case CostMethod::kGradientFlow: return "gradient_flow";
    case CostMethod::kDirect: return "direct";
    case CostMethod::kClosure: return "closure";
  }
  return "unknown";
}

const TransitionPath& TransitionCosts::path(int from, int to) const {
  const int p = static_cast<int>(costs.rows());
  const int index = from * (p - 1) + (to < from ? to : to - 1);
  return paths.at(index);
}

TransitionCosts TransitionCostSolver::Solve(const Problem& problem,
                                            const std::vector<CriticalComponent>& components,
                                            Summary* summary) const {
  const auto t0 = std::chrono::steady_clock::now();
  Summary local;
  Summary& s = summary != nullptr ? *summary : local;
  s = Summary();
  TransitionCosts out;
  const int p = static_cast<int>(components.size());
  s.components = p;
  const ProblemGeometry problem_geometry(problem);
  if (!problem_geometry.ok()) {
    s.error = problem_geometry.error();
    return out;
  }
  if (options_.coarse_segments < 2 || !(options_.prune_margin >= 0) || !(options_.detour_factor >= 1)) {
    s.error = "Invalid configuration. Violated constraint: coarse_segments >= 2, prune_margin >= 0, "
              "detour_factor >= 1";
    return out;
  }
  const NoiseGeometry& geometry = problem_geometry.geometry();
  const Options& o = options_;
  for (const CriticalComponent& c : components) {
    if (!geometry.PositiveDefiniteAt(c.point.data())) {
      std::ostringstream message;
      message << "the noise covariance is not positive definite at component " << c.id << " (";
      for (int i = 0; i < c.point.size(); ++i) message << (i ? ", " : "") << c.point[i];
      message << ")";
      s.error = message.str();
      s.not_positive_definite_at = c.point;
      return out;
    }
  }

  // 1. Zero-cost pairs by gradient flow.
  std::map<std::pair<int, int>, Eigen::MatrixXd> flow;
  for (FlowConnection& c : FindFlowConnections(*problem.objective, problem.domain, components, o.flow)) {
    flow[{c.from, c.to}] = std::move(c.path);
  }
  s.flow_pairs = static_cast<int>(flow.size());

  // 2. Coarse pass over every other pair and initial path.
  std::vector<Job> coarse;
  for (int i = 0; i < p; ++i) {
    for (int j = 0; j < p; ++j) {
      if (i == j || flow.count({i, j})) continue;
      const auto [a, b] = Ends(components[i], components[j]);
      coarse.push_back({i, j, Polyline({a, b}), {}, {}});
      for (int k = 0; k < p; ++k) {
        const CriticalComponent& saddle = components[k];
        if (k == i || k == j || saddle.type != CriticalType::kSaddle) continue;
        const Eigen::VectorXd& x = saddle.point;
        if ((a - x).norm() + (x - b).norm() <= o.detour_factor * (a - b).norm()) {
          coarse.push_back({i, j, Polyline({a, x, b}), {}, {}});
        }
      }
    }
  }
  ActionSolver::Options coarse_options = o.action;
  coarse_options.initial_segments = coarse_options.max_segments = o.coarse_segments;
  // The coarse pass only ranks routes (to 2%): two rounds of a few dozen iterations suffice.
  coarse_options.max_rounds = std::min(coarse_options.max_rounds, 2);
  coarse_options.max_iterations = std::min(coarse_options.max_iterations, 50);
  const ActionSolver coarse_solver(coarse_options);
  ParallelFor(static_cast<int>(coarse.size()), o.num_threads, [&](int n) {
    coarse[n].result = coarse_solver.Solve(geometry, coarse[n].initial, &coarse[n].summary);
  });
  // Finite sums in d >= 2: a pair whose every initial path crosses a region the sample steps cannot
  // move through (cost +inf) may still be joined by a curved path. Try bent initial paths through
  // the chord's midpoint displaced by 1/2 and 1 chord length along the normal directions (at most
  // two of them); a pair that stays infinite is reported +inf but not certified.
  if (geometry.is_finite_sum() && problem.dimension() >= 2) {
    std::map<std::pair<int, int>, bool> finite;
    for (const Job& job : coarse) {
      finite[{job.from, job.to}] = finite[{job.from, job.to}] ||
                                   (job.summary.ok() && std::isfinite(job.result.action));
    }
    const std::size_t first_pass = coarse.size();
    for (const auto& [key, ok] : finite) {
      if (ok) continue;
      const auto [a, b] = Ends(components[key.first], components[key.second]);
      const Eigen::VectorXd chord = b - a;
      // Normal directions: the chord's orthogonal complement (full QR of the chord).
      const Eigen::MatrixXd q = Eigen::HouseholderQR<Eigen::MatrixXd>(chord).householderQ();
      for (int n = 1; n < std::min<int>(3, static_cast<int>(q.cols())); ++n) {
        for (const double offset : {-1.0, -0.5, 0.5, 1.0}) {
          const Eigen::VectorXd bend = 0.5 * (a + b) + offset * chord.norm() * q.col(n);
          coarse.push_back({key.first, key.second, Polyline({a, bend, b}), {}, {}});
        }
      }
      // And a path pulled to where the sample gradients surround 0 (spanning_path.h).
      coarse.push_back({key.first, key.second, SpanningInitialPath(*problem.samples, a, b), {}, {}});
    }
    ParallelFor(static_cast<int>(coarse.size() - first_pass), o.num_threads, [&](int n) {
      Job& job = coarse[first_pass + n];
      job.result = coarse_solver.Solve(geometry, job.initial, &job.summary);
    });
  }
  s.coarse_solves = static_cast<int>(coarse.size());
  // The theory needs Sigma positive definite wherever it is used: say where it is not, rather
  // than print costs that skipped those paths.
  for (const Job& job : coarse) {
    if (job.summary.termination == ActionSolver::Termination::kNotPositiveDefinite) {
      s.error = job.summary.message + " (on the initial path from component " +
                std::to_string(job.from) + " to " + std::to_string(job.to) + ")";
      s.not_positive_definite_at = job.summary.where;
      return out;
    }
  }
  const auto t_coarse = std::chrono::steady_clock::now();
  s.coarse_seconds = std::chrono::duration<double>(t_coarse - t0).count();

  Eigen::MatrixXd coarse_edges = Eigen::MatrixXd::Constant(p, p, kInf);
  std::map<std::pair<int, int>, const Job*> best;
  for (const Job& job : coarse) {
    if (!job.summary.ok()) continue;
    auto it = best.find({job.from, job.to});
    if (it == best.end() || job.result.action < it->second->result.action) best[{job.from, job.to}] = &job;
  }
  for (const auto& [key, job] : best) coarse_edges(key.first, key.second) = job->result.action;
  for (const auto& [key, path] : flow) coarse_edges(key.first, key.second) = 0.0;
  const Eigen::MatrixXd coarse_closed = Closure(coarse_edges);

  // 3. Refine the pairs whose direct path competes with every route through other components.
  // Refinement starts from the coarse path at the coarse resolution: the levels below it would
  // only repeat work.
  ActionSolver::Options refine_options = o.action;
  refine_options.initial_segments = std::max(refine_options.initial_segments, o.coarse_segments);
  refine_options.max_segments = std::max(refine_options.max_segments, refine_options.initial_segments);
  const ActionSolver solver(refine_options);
  std::vector<Job> refined;
  std::vector<const Job*> skipped;  // coarse path already through another component
  for (const auto& [key, job] : best) {
    const auto [i, j] = key;
    double via = kInf;
    for (int k = 0; k < p; ++k) {
      if (k != i && k != j) via = std::min(via, coarse_closed(i, k) + coarse_closed(k, j));
    }
    if (job->result.action > via * (1.0 + o.prune_margin) + o.action.absolute_tolerance) continue;
    // Already through another component at the coarse level (a node within one segment of it):
    // its value will come from the closure (see below), so refining it would be wasted, unless the
    // closure disagrees with its coarse value (checked after the closure).
    if (PassesThroughOther(*job, components, 1.0)) {
      skipped.push_back(job);
      continue;
    }
    refined.push_back({i, j, job->result.nodes, {}, {}});
  }
  auto refine = [&](std::size_t first) {
    ParallelFor(static_cast<int>(refined.size() - first), o.num_threads, [&](int n) {
      Job& job = refined[first + n];
      job.result = solver.Solve(geometry, job.initial, &job.summary);
    });
  };
  refine(0);

  auto closure_of_refined = [&](Eigen::MatrixXd& edges, std::map<std::pair<int, int>, const Job*>& direct) {
    edges = Eigen::MatrixXd::Constant(p, p, kInf);
    direct.clear();
    s.split_pairs = s.unconverged = 0;
    for (const Job& job : refined) {
      if (!job.summary.ok()) continue;
      // A minimum-action path through another critical component k is the concatenation of the
      // optimal i -> k and k -> j paths, and the closure finds that sum from paths whose ends sit
      // exactly on the critical points. The direct value of such a path is not used: near a point
      // where grad f = 0 the midpoint rule undercharges the segment that straddles it, by more than
      // the Richardson estimate can see (seen on Muller-Brown: 1e-3 too low through a saddle).
      if (PassesThroughOther(job, components, 1.5)) {
        ++s.split_pairs;
        continue;
      }
      if (job.summary.termination == ActionSolver::Termination::kMaxSegments) ++s.unconverged;
      edges(job.from, job.to) = job.result.action;
      direct[{job.from, job.to}] = &job;
    }
    for (const auto& [key, path] : flow) edges(key.first, key.second) = 0.0;
    for (int i = 0; i < p; ++i) edges(i, i) = 0.0;
    return Closure(edges);
  };
  Eigen::MatrixXd edges;
  std::map<std::pair<int, int>, const Job*> direct;
  out.costs = closure_of_refined(edges, direct);
  // Safeguard for the coarse skip: a skipped pair whose closure exceeds its coarse direct value
  // by more than the pruning margin did not really run through a component; refine it after all.
  const std::size_t first_late = refined.size();
  for (const Job* job : skipped) {
    if (out.costs(job->from, job->to) > job->result.action * (1.0 + o.prune_margin) + o.action.absolute_tolerance) {
      refined.push_back({job->from, job->to, job->result.nodes, {}, {}});
    }
  }
  if (refined.size() > first_late) {
    refine(first_late);
    out.costs = closure_of_refined(edges, direct);
  }
  s.split_pairs += static_cast<int>(skipped.size() - (refined.size() - first_late));
  s.refined_pairs = static_cast<int>(refined.size());
  s.refine_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t_coarse).count();
  for (const Job& job : refined) {
    s.slowest_pair_seconds = std::max(s.slowest_pair_seconds, job.summary.time_seconds);
  }

  auto edge_path = [&](int i, int j, TransitionPath& t) {
    if (auto f = flow.find({i, j}); f != flow.end()) {
      t.method = CostMethod::kGradientFlow;
      t.nodes = f->second;
      t.error_estimate = 0.0;
    } else {
      const Job* job = direct.at({i, j});
      t.method = CostMethod::kDirect;
      t.nodes = job->result.nodes;
      t.error_estimate = job->result.error_estimate;
    }
  };
  for (int i = 0; i < p; ++i) {
    for (int j = 0; j < p; ++j) {
      if (i == j) continue;
      TransitionPath t;
      t.from = i;
      t.to = j;
      t.action = out.costs(i, j);
      if (std::isfinite(t.action)) {
        t.route = Route(edges, out.costs, i, j);
        if (t.route.size() == 2) {
          edge_path(i, j, t);
          if (t.method == CostMethod::kDirect) ++s.direct_pairs;
        } else {
          t.method = CostMethod::kClosure;
          ++s.closure_pairs;
          std::vector<Eigen::MatrixXd> pieces;
          int rows = 0;
          t.error_estimate = 0.0;
          for (std::size_t k = 0; k + 1 < t.route.size(); ++k) {
            TransitionPath piece;
            edge_path(t.route[k], t.route[k + 1], piece);
            t.error_estimate += piece.error_estimate;
            rows += static_cast<int>(piece.nodes.rows());
            pieces.push_back(std::move(piece.nodes));
          }
          t.nodes.resize(rows, problem.dimension());
          int r = 0;
          for (const Eigen::MatrixXd& m : pieces) {
            t.nodes.middleRows(r, m.rows()) = m;
            r += static_cast<int>(m.rows());
          }
        }
        s.max_error_estimate = std::max(s.max_error_estimate, t.error_estimate);
      }
      out.paths.push_back(std::move(t));
    }
  }
  // In one dimension a +inf cost is exact (the only path crosses the region no sample step can
  // climb); in more, it only means that no path tried had finite cost.
  if (geometry.is_finite_sum() && problem.dimension() >= 2) {
    for (int i = 0; i < p; ++i) {
      for (int j = 0; j < p; ++j) {
        if (i != j && std::isinf(out.costs(i, j))) s.uncertified_infinite.emplace_back(i, j);
      }
    }
  }
  s.success = true;
  s.time_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return out;
}

std::string TransitionCostSolver::Summary::BriefReport() const {
  if (!success) return "Transition costs not computed: " + error;
  char buffer[256];
  std::snprintf(buffer, sizeof buffer,
                "Transition costs: %d components, %d ordered pairs (%d gradient flow, %d refined "
                "direct, %d closure), max error estimate %.2g, %.3f s",
                components, components * (components - 1), flow_pairs, direct_pairs, closure_pairs,
                max_error_estimate, time_seconds);
  return buffer;
}

std::string TransitionCostSolver::Summary::FullReport() const {
  std::ostringstream out;
  out << BriefReport();
  if (success) {
    out << "\n  coarse minimizations (pair x initial path): " << coarse_solves
        << "\n  pairs refined to tolerance:                 " << refined_pairs
        << "\n  refined paths through another component:    " << split_pairs
        << "\n  refined pairs that reached max_segments:    " << unconverged
        << "\n  time: flow and coarse pass " << coarse_seconds << " s, refinement " << refine_seconds
        << " s (slowest pair " << slowest_pair_seconds << " s)";
  }
  return out.str();
}

}  // namespace ldsgd
