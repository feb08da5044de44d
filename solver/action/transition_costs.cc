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

#include "graph/closure.h"
#include "solver/numerics/distributed.h"
#include "solver/numerics/parallel.h"
#include "solver/action/spanning_path.h"

namespace ldsgd {
namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

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

// The coarse pass only ranks routes (to prune_margin): two rounds of a few dozen iterations do.
constexpr int kCoarseMaxRounds = 2;
constexpr int kCoarseMaxIterations = 50;
// Bent initial paths for finite sums in d >= 2: the chord's midpoint displaced along at most this
// many normal directions, by these multiples of the chord length.
constexpr int kBentNormals = 2;
constexpr double kBendOffsets[] = {-1.0, -0.5, 0.5, 1.0};
// A coarse path with a node within this many segment lengths of another component already runs
// through it; a refined path within kSplitReach runs through it (its value comes from the closure).
constexpr double kCoarseReach = 1.0;
constexpr double kSplitReach = 1.5;

using PairMap = std::map<std::pair<int, int>, const Job*>;

// The state of one Solve: the stages below fill it in order.
struct CostRun {
  const TransitionCostSolver::Options& o;
  const Problem& problem;
  const std::vector<CriticalComponent>& components;
  const NoiseGeometry& geometry;
  TransitionCostSolver::Summary& s;
  int p = 0;
  std::map<std::pair<int, int>, Eigen::MatrixXd> flow;  // zero-cost pairs and their flow paths
  std::vector<Job> coarse, refined;
  Eigen::MatrixXd edges;  // direct refined values (+inf: none), flow pairs 0
  PairMap direct;         // the refined job behind each finite edge that is not a flow pair

  void SolveJobs(std::vector<Job>& jobs, std::size_t first, const ActionSolver& solver) const {
    // The pairs are spread over the ranks of an MPI job; each solve depends on its job alone.
    DistributedFor(
        static_cast<int>(jobs.size() - first), o.num_threads,
        [&](int n) {
          Job& job = jobs[first + n];
          job.result = solver.Solve(geometry, job.initial, &job.summary);
        },
        [&](auto& archive, int n) { archive(jobs[first + n].result, jobs[first + n].summary); });
  }

  // Every pair without a flow connection, along its chord and through each saddle within the
  // detour factor.
  void AddCoarseJobs() {
    for (int i = 0; i < p; ++i) {
      for (int j = 0; j < p; ++j) {
        if (i == j || flow.count({i, j})) continue;
        if (s.adjacent_only && !flow.count({j, i})) continue;  // only the climbs of flow connections
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
  }

  // Finite sums in d >= 2: a pair whose every initial path crosses a region the sample steps cannot
  // move through (cost +inf) may still be joined by a curved path. Try bent initial paths, and a
  // path pulled to where the sample gradients surround 0 (spanning_path.h).
  void AddBentJobs(const ActionSolver& coarse_solver) {
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
      for (int n = 1; n < std::min<int>(kBentNormals + 1, static_cast<int>(q.cols())); ++n) {
        for (const double offset : kBendOffsets) {
          const Eigen::VectorXd bend = 0.5 * (a + b) + offset * chord.norm() * q.col(n);
          coarse.push_back({key.first, key.second, Polyline({a, bend, b}), {}, {}});
        }
      }
      coarse.push_back({key.first, key.second, SpanningInitialPath(*problem.samples, a, b), {}, {}});
    }
    SolveJobs(coarse, first_pass, coarse_solver);
  }

  // The theory needs Sigma positive definite wherever it is used: say where it is not, rather
  // than print costs that skipped those paths.
  bool CoarsePathsDefinite() {
    for (const Job& job : coarse) {
      if (job.summary.termination == ActionSolver::Termination::kNotPositiveDefinite) {
        s.status = Status(StatusCode::kInvalidInput,
                          job.summary.message + " (on the initial path from component " +
                              std::to_string(job.from) + " to " + std::to_string(job.to) + ")");
        s.not_positive_definite_at = job.summary.where;
        return false;
      }
    }
    return true;
  }

  // The cheapest successful coarse job of each pair.
  PairMap BestCoarse() const {
    PairMap best;
    for (const Job& job : coarse) {
      if (!job.summary.ok()) continue;
      auto it = best.find({job.from, job.to});
      if (it == best.end() || job.result.action < it->second->result.action) best[{job.from, job.to}] = &job;
    }
    return best;
  }

  // The pairs whose direct path competes with every route through other components are refined;
  // those whose coarse path already runs through another component go to `skipped`.
  void SelectRefined(const PairMap& best, std::vector<const Job*>* skipped) {
    Eigen::MatrixXd coarse_edges = Eigen::MatrixXd::Constant(p, p, kInf);
    for (const auto& [key, job] : best) coarse_edges(key.first, key.second) = job->result.action;
    for (const auto& [key, path] : flow) coarse_edges(key.first, key.second) = 0.0;
    const Eigen::MatrixXd coarse_closed =
        o.restricted ? RestrictedClosure(coarse_edges, GlobalMinima(components)) : ShortestPathClosure(coarse_edges);
    for (const auto& [key, job] : best) {
      const auto [i, j] = key;
      double via = kInf;
      for (int k = 0; k < p; ++k) {
        if (k != i && k != j) via = std::min(via, coarse_closed(i, k) + coarse_closed(k, j));
      }
      if (job->result.action > via * (1.0 + o.prune_margin) + o.action.absolute_tolerance) continue;
      // Already through another component at the coarse level: its value will come from the
      // closure, so refining it would be wasted, unless the closure disagrees with its coarse
      // value (checked after the closure).
      if (PassesThroughOther(*job, components, kCoarseReach)) {
        skipped->push_back(job);
        continue;
      }
      refined.push_back({i, j, job->result.nodes, {}, {}});
    }
  }

  // The closure of the refined direct values and the flow pairs (fills edges and direct).
  Eigen::MatrixXd ClosureOfRefined() {
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
      if (PassesThroughOther(job, components, kSplitReach)) {
        ++s.split_pairs;
        continue;
      }
      if (job.summary.termination == ActionSolver::Termination::kMaxSegments) ++s.unconverged;
      edges(job.from, job.to) = job.result.action;
      direct[{job.from, job.to}] = &job;
    }
    for (const auto& [key, path] : flow) edges(key.first, key.second) = 0.0;
    for (int i = 0; i < p; ++i) edges(i, i) = 0.0;
    return ShortestPathClosure(edges);
  }

  // The path of one edge of the closure: its flow path, or its refined direct path.
  void EdgePath(int i, int j, TransitionPath& t) const {
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
  }

  // A route through other components: its edges' paths end to end, their error estimates summed.
  void ConcatenateRoute(TransitionPath& t) const {
    std::vector<Eigen::MatrixXd> pieces;
    int rows = 0;
    t.error_estimate = 0.0;
    for (std::size_t k = 0; k + 1 < t.route.size(); ++k) {
      TransitionPath piece;
      EdgePath(t.route[k], t.route[k + 1], piece);
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

  // Every ordered pair's path, in row-major order.
  std::vector<TransitionPath> Paths(const Eigen::MatrixXd& costs) {
    std::vector<TransitionPath> paths;
    for (int i = 0; i < p; ++i) {
      for (int j = 0; j < p; ++j) {
        if (i == j) continue;
        TransitionPath t;
        t.from = i;
        t.to = j;
        t.action = costs(i, j);
        if (std::isfinite(t.action)) {
          t.route = ClosureRoute(edges, costs, i, j);
          if (t.route.size() == 2) {
            EdgePath(i, j, t);
            if (t.method == CostMethod::kDirect) ++s.direct_pairs;
          } else {
            t.method = CostMethod::kClosure;
            ++s.closure_pairs;
            ConcatenateRoute(t);
          }
          s.max_error_estimate = std::max(s.max_error_estimate, t.error_estimate);
        }
        paths.push_back(std::move(t));
      }
    }
    return paths;
  }
};

Status ValidateOptions(const TransitionCostSolver::Options& o) {
  if (o.coarse_segments < 2 || !(o.prune_margin >= 0) || !(o.detour_factor >= 1)) {
    return Status(StatusCode::kInvalidOptions,
                  "Invalid configuration. Violated constraint: coarse_segments >= 2, "
                  "prune_margin >= 0, detour_factor >= 1");
  }
  return Status::Ok();
}


// A covariance that is indefinite (or not finite) at a component is not a covariance: the input
// is wrong. One that is merely singular there is an assumption that fails (assumptions.h reports
// it and marks the predictions unreliable); the costs are still computed.
Status CheckNoiseAtComponents(const NoiseGeometry& geometry, const std::vector<CriticalComponent>& components,
                              Eigen::VectorXd* where) {
  for (const CriticalComponent& c : components) {
    const Definiteness d = geometry.DefinitenessAt(c.point.data());
    if (d == Definiteness::kPositive || d == Definiteness::kSingular) continue;
    std::ostringstream message;
    message << "the noise covariance is not positive definite at component " << c.id << " (";
    for (int i = 0; i < c.point.size(); ++i) message << (i ? ", " : "") << c.point[i];
    message << ")";
    *where = c.point;
    return Status(StatusCode::kInvalidInput, message.str());
  }
  return Status::Ok();
}

}  // namespace

Status CheckNoiseAtComponents(const Problem& problem, const std::vector<CriticalComponent>& components,
                              Eigen::VectorXd* where) {
  const ProblemGeometry geometry(problem);
  if (!geometry.ok()) return Status(StatusCode::kInvalidInput, geometry.error());
  return CheckNoiseAtComponents(geometry.geometry(), components, where);
}

std::vector<int> GlobalMinima(const std::vector<CriticalComponent>& components) {
  double least = kInf;
  for (const CriticalComponent& c : components) {
    if (c.type == CriticalType::kMinimum) least = std::min(least, c.f);
  }
  std::vector<int> out;
  for (int i = 0; i < static_cast<int>(components.size()); ++i) {
    const CriticalComponent& c = components[i];
    if (c.type == CriticalType::kMinimum && c.f - least <= kGlobalMinimumTolerance * std::max(1.0, std::abs(least))) out.push_back(i);
  }
  return out;
}

Eigen::MatrixXd RestrictedClosure(const Eigen::MatrixXd& edges, const std::vector<int>& avoid) {
  Eigen::MatrixXd cut = edges;
  for (int g : avoid) {
    for (int j = 0; j < cut.cols(); ++j) cut(g, j) = g == j ? 0.0 : kInf;
  }
  return ShortestPathClosure(cut);
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
  s.components = static_cast<int>(components.size());
  const ProblemGeometry problem_geometry(problem);
  if (!problem_geometry.ok()) {
    s.status = Status(StatusCode::kInvalidInput, problem_geometry.error());
    return out;
  }
  if (s.status = ValidateOptions(options_); !s.status.ok()) return out;
  const NoiseGeometry& geometry = problem_geometry.geometry();
  s.status = CheckNoiseAtComponents(geometry, components, &s.not_positive_definite_at);
  if (!s.status.ok()) return out;
  const bool bent_paths = geometry.is_finite_sum() && problem.dimension() >= 2;
  CostRun run{options_, problem, components, geometry, s};
  run.p = s.components;

  // 1. Zero-cost pairs by gradient flow.
  for (FlowConnection& c : FindFlowConnections(*problem.objective, problem.domain, components, options_.flow)) {
    run.flow[{c.from, c.to}] = std::move(c.path);
  }
  s.flow_pairs = static_cast<int>(run.flow.size());
  s.adjacent_only = options_.pairs == CostPairs::kAdjacent || (options_.pairs == CostPairs::kAuto && run.p > kAdjacentAbove);

  // 2. Coarse pass over every other pair and initial path.
  ActionSolver::Options coarse_options = options_.action;
  coarse_options.initial_segments = coarse_options.max_segments = options_.coarse_segments;
  coarse_options.max_rounds = std::min(coarse_options.max_rounds, kCoarseMaxRounds);
  coarse_options.max_iterations = std::min(coarse_options.max_iterations, kCoarseMaxIterations);
  const ActionSolver coarse_solver(coarse_options);
  run.AddCoarseJobs();
  run.SolveJobs(run.coarse, 0, coarse_solver);
  if (bent_paths) run.AddBentJobs(coarse_solver);
  s.coarse_solves = static_cast<int>(run.coarse.size());
  if (!run.CoarsePathsDefinite()) return out;
  const auto t_coarse = std::chrono::steady_clock::now();
  s.coarse_seconds = std::chrono::duration<double>(t_coarse - t0).count();

  // 3. Refine the pairs whose direct path competes with every route through other components,
  // from the coarse path at the coarse resolution (the levels below it would only repeat work).
  ActionSolver::Options refine_options = options_.action;
  refine_options.initial_segments = std::max(refine_options.initial_segments, options_.coarse_segments);
  refine_options.max_segments = std::max(refine_options.max_segments, refine_options.initial_segments);
  const ActionSolver solver(refine_options);
  std::vector<const Job*> skipped;  // coarse path already through another component
  run.SelectRefined(run.BestCoarse(), &skipped);
  run.SolveJobs(run.refined, 0, solver);
  out.costs = run.ClosureOfRefined();
  // Safeguard for the coarse skip: a skipped pair whose closure exceeds its coarse direct value
  // by more than the pruning margin did not really run through a component; refine it after all.
  // With restricted costs the closure that must stay close is the one that avoids K_0 (a pair
  // skipped because its path runs through a global minimum has no such route), except on the rows
  // of K_0 themselves, whose restricted costs are not used.
  const std::size_t first_late = run.refined.size();
  Eigen::MatrixXd closed = out.costs;
  if (options_.restricted) {
    const std::vector<int> global = GlobalMinima(components);
    closed = RestrictedClosure(run.edges, global);
    for (int g : global) closed.row(g) = out.costs.row(g);
  }
  for (const Job* job : skipped) {
    if (closed(job->from, job->to) >
        job->result.action * (1.0 + options_.prune_margin) + options_.action.absolute_tolerance) {
      run.refined.push_back({job->from, job->to, job->result.nodes, {}, {}});
    }
  }
  if (run.refined.size() > first_late) {
    run.SolveJobs(run.refined, first_late, solver);
    out.costs = run.ClosureOfRefined();
  }
  s.split_pairs += static_cast<int>(skipped.size() - (run.refined.size() - first_late));
  s.refined_pairs = static_cast<int>(run.refined.size());
  s.refine_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t_coarse).count();
  for (const Job& job : run.refined) {
    s.slowest_pair_seconds = std::max(s.slowest_pair_seconds, job.summary.time_seconds);
  }

  // 4. Every pair's path: its own, or the concatenation along its closure route.
  out.paths = run.Paths(out.costs);
  if (options_.restricted) {
    out.global_minima = GlobalMinima(components);
    out.restricted = RestrictedClosure(run.edges, out.global_minima);
  }
  // In one dimension a +inf cost is exact (the only path crosses the region no sample step can
  // climb); in more, it only means that no path tried had finite cost.
  if (bent_paths) {
    for (int i = 0; i < run.p; ++i) {
      for (int j = 0; j < run.p; ++j) {
        if (i != j && std::isinf(out.costs(i, j))) s.uncertified_infinite.emplace_back(i, j);
      }
    }
  }
  s.status = Status::Ok();
  s.time_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return out;
}

std::string TransitionCostSolver::Summary::BriefReport() const {
  if (!status.ok()) return "Transition costs not computed: " + status.message();
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
  if (status.ok()) {
    out << "\n  coarse minimizations (pair x initial path): " << coarse_solves
        << "\n  direct pairs considered:                    " << (adjacent_only ? "climbs of flow connections only" : "all")
        << "\n  pairs refined to tolerance:                 " << refined_pairs
        << "\n  refined paths through another component:    " << split_pairs
        << "\n  refined pairs that reached max_segments:    " << unconverged
        << "\n  time: flow and coarse pass " << coarse_seconds << " s, refinement " << refine_seconds
        << " s (slowest pair " << slowest_pair_seconds << " s)";
  }
  return out.str();
}

}  // namespace ldsgd
