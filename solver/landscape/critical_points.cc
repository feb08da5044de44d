#include "solver/io/input_text.h"
#include "solver/landscape/critical_points.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <deque>
#include <limits>
#include <sstream>

#include <Eigen/Eigenvalues>
#include <Eigen/LU>
#include <boost/graph/adjacency_list.hpp>
#include <boost/graph/connected_components.hpp>
#include <ceres/ceres.h>

#include "solver/numerics/low_discrepancy.h"
#include "solver/numerics/distributed.h"
#include "solver/numerics/parallel.h"
#include "solver/numerics/progress.h"

namespace ldsgd {
namespace {

// Residual r(x) = grad f(x) with its exact Jacobian, the Hessian: Levenberg-Marquardt on it is a
// damped Newton method for grad f = 0, which converges to critical points of every index alike.
class GradientResidual final : public ceres::CostFunction {
 public:
  explicit GradientResidual(const Objective& f) : f_(f), d_(f.dimension()) {
    set_num_residuals(d_);
    mutable_parameter_block_sizes()->push_back(d_);
  }
  bool Evaluate(double const* const* parameters, double* residuals,
                double** jacobians) const override {
    if (jacobians != nullptr && jacobians[0] != nullptr) {
      // Ceres wants row-major d x d; the Hessian is symmetric and comes row-major already.
      f_.Hessian(parameters[0], residuals, jacobians[0]);
      for (int i = 0; i < d_ * d_; ++i) {
        if (!std::isfinite(jacobians[0][i])) return false;
      }
    } else {
      f_.Gradient(parameters[0], residuals);
    }
    for (int i = 0; i < d_; ++i) {
      if (!std::isfinite(residuals[i])) return false;
    }
    return true;
  }

 private:
  const Objective& f_;
  int d_;
};

struct Landing {
  Eigen::VectorXd x;
  double gradient_norm = std::numeric_limits<double>::infinity();
  bool ok = false;  // finite and inside the box
};

template <class Archive>
void Serialize(Archive& a, Landing& l) {
  a(l.x, l.gradient_norm, l.ok);
}

// Runs LM from `start`, then a few Newton steps kept only while they reduce |grad f|.
Landing Converge(const Objective& f, const Domain& domain, const Eigen::VectorXd& start,
                 const CriticalPointFinder::Options& options) {
  const int d = f.dimension();
  Landing out;
  out.x = start;
  ceres::Problem::Options problem_options;
  problem_options.cost_function_ownership = ceres::TAKE_OWNERSHIP;
  ceres::Problem problem(problem_options);
  problem.AddResidualBlock(new GradientResidual(f), nullptr, out.x.data());
  ceres::Solver::Options solver_options;
  solver_options.minimizer_type = ceres::TRUST_REGION;
  solver_options.trust_region_strategy_type = ceres::LEVENBERG_MARQUARDT;
  solver_options.linear_solver_type = ceres::DENSE_QR;
  solver_options.max_num_iterations = options.max_iterations;
  // Run to machine precision: the residual is the gradient itself and its zero is what we want.
  solver_options.function_tolerance = 1e-15;
  solver_options.gradient_tolerance = 1e-30;
  solver_options.parameter_tolerance = 1e-15;
  solver_options.logging_type = ceres::SILENT;
  solver_options.num_threads = 1;
  ceres::Solver::Summary summary;
  ceres::Solve(solver_options, &problem, &summary);

  Eigen::VectorXd g(d);
  Eigen::MatrixXd h(d, d);
  f.Gradient(out.x.data(), g.data());
  double norm = g.norm();
  for (int step = 0; step < options.newton_polish_steps && norm > 0.0; ++step) {
    f.Hessian(out.x.data(), g.data(), h.data());
    Eigen::FullPivLU<Eigen::MatrixXd> lu(h);
    if (!lu.isInvertible()) break;
    const Eigen::VectorXd candidate = out.x - lu.solve(g);
    Eigen::VectorXd gc(d);
    f.Gradient(candidate.data(), gc.data());
    const double cn = gc.norm();
    if (!(cn < norm)) break;
    out.x = candidate;
    norm = cn;
  }
  out.gradient_norm = norm;
  out.ok = std::isfinite(norm) && out.x.allFinite() && domain.Contains(out.x, 1e-9);
  return out;
}

struct PointInfo {
  Eigen::VectorXd x;
  double f = 0.0, gradient_norm = 0.0;
  Eigen::VectorXd eigenvalues;
  Eigen::MatrixXd eigenvectors;
  int zeros = 0, negatives = 0;
  bool from_continuation = false;
};

PointInfo Describe(const Objective& f, const Eigen::VectorXd& x) {
  const int d = f.dimension();
  PointInfo p;
  p.x = x;
  Eigen::VectorXd g(d);
  Eigen::MatrixXd h(d, d);
  p.f = f.Hessian(x.data(), g.data(), h.data());
  p.gradient_norm = g.norm();
  Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> eig(h);
  p.eigenvalues = eig.eigenvalues();
  p.eigenvectors = eig.eigenvectors();
  return p;
}

bool LexLess(const Eigen::VectorXd& a, const Eigen::VectorXd& b) {
  for (int i = 0; i < a.size(); ++i) {
    if (a[i] != b[i]) return a[i] < b[i];
  }
  return false;
}

std::string ValidateOptions(const CriticalPointFinder::Options& o) {
  const auto violated = InvalidOption;
  if (o.num_starts < 0) return violated("num_starts", o.num_starts, "num_starts >= 0");
  if (o.max_iterations < 1) return violated("max_iterations", o.max_iterations, "max_iterations >= 1");
  if (o.newton_polish_steps < 0) {
    return violated("newton_polish_steps", o.newton_polish_steps, "newton_polish_steps >= 0");
  }
  if (!(o.gradient_tolerance > 0)) {
    return violated("gradient_tolerance", o.gradient_tolerance, "gradient_tolerance > 0");
  }
  if (!(o.merge_tolerance > 0)) return violated("merge_tolerance", o.merge_tolerance, "merge_tolerance > 0");
  if (!(o.zero_eigenvalue_tolerance > 0)) {
    return violated("zero_eigenvalue_tolerance", o.zero_eigenvalue_tolerance,
                    "zero_eigenvalue_tolerance > 0");
  }
  if (!(o.manifold_step > o.merge_tolerance)) {
    return violated("manifold_step", o.manifold_step, "manifold_step > merge_tolerance");
  }
  if (o.max_manifold_points < 0) {
    return violated("max_manifold_points", o.max_manifold_points, "max_manifold_points >= 0");
  }
  if (o.num_threads < 0) return violated("num_threads", o.num_threads, "num_threads >= 0");
  return "";
}

// Padding of the box faces when deciding whether a component touches them: rounding for an
// isolated point; for a continued (non-isolated) set, sampled every continuation step, one and a
// half steps (a line of minima across the box stops short of the face by up to a step).
constexpr double kFaceRelativePad = 1e-6;
constexpr double kContinuedFacePadSteps = 1.5;
// Degenerate points closer than this many continuation steps lie on one component.
constexpr double kJoinSteps = 1.5;

// The search's scales and thresholds, fixed by the multi-start (for relative tolerances).
struct Scales {
  int d = 0;
  Eigen::VectorXd width;
  double diameter = 0.0, gradient_accept = 0.0, merge_radius = 0.0, step = 0.0, zero = 0.0;

  void CountInertia(PointInfo& p) const {
    p.zeros = p.negatives = 0;
    for (int i = 0; i < d; ++i) {
      if (std::abs(p.eigenvalues[i]) <= zero) {
        ++p.zeros;
      } else if (p.eigenvalues[i] < 0) {
        ++p.negatives;
      }
    }
  }
};

// The landscape's gradient scale (max f - min f over the starts) / (box diameter); 1 if flat.
double GradientScale(const std::vector<double>& start_values, double diameter) {
  double fmin = std::numeric_limits<double>::infinity(), fmax = -fmin;
  for (double v : start_values) {
    if (std::isfinite(v)) {
      fmin = std::min(fmin, v);
      fmax = std::max(fmax, v);
    }
  }
  return std::isfinite(fmax - fmin) && fmax > fmin ? (fmax - fmin) / diameter : 1.0;
}

// Accepts the landings at critical points and merges those within merge_radius, in start order.
std::vector<PointInfo> AcceptAndMerge(const std::vector<Landing>& landings, const Scales& sc,
                                      CriticalPointFinder::Summary& s) {
  std::vector<PointInfo> points;
  s.left_box = s.not_critical = s.converged_in_box = 0;
  for (const Landing& l : landings) {
    if (!l.ok) {
      ++s.left_box;
      continue;
    }
    if (!(l.gradient_norm <= sc.gradient_accept)) {
      ++s.not_critical;
      continue;
    }
    ++s.converged_in_box;
    bool merged = false;
    for (PointInfo& p : points) {
      if ((p.x - l.x).norm() <= sc.merge_radius) {
        if (l.gradient_norm < p.gradient_norm) {
          p.x = l.x;
          p.gradient_norm = l.gradient_norm;
        }
        merged = true;
        break;
      }
    }
    if (!merged) {
      PointInfo p;
      p.x = l.x;
      p.gradient_norm = l.gradient_norm;
      points.push_back(p);
    }
  }
  return points;
}

// Continuation along non-isolated critical sets: from every point with zero eigenvalues, step
// along the null directions and re-converge; keep landings that are new, degenerate and near.
// Returns the number of points added.
int Continue(const Objective& f, const Domain& domain, const CriticalPointFinder::Options& o,
             const Scales& sc, std::vector<PointInfo>& points) {
  std::deque<int> frontier;
  for (int i = 0; i < static_cast<int>(points.size()); ++i) {
    if (points[i].zeros > 0) frontier.push_back(i);
  }
  int added = 0;
  while (!frontier.empty() && added < o.max_manifold_points) {
    const int i = frontier.front();
    frontier.pop_front();
    const PointInfo source = points[i];
    for (int e = 0; e < sc.d && added < o.max_manifold_points; ++e) {
      if (std::abs(source.eigenvalues[e]) > sc.zero) continue;
      for (double sign : {1.0, -1.0}) {
        const Eigen::VectorXd trial = source.x + sign * sc.step * source.eigenvectors.col(e);
        if (!domain.Contains(trial)) continue;
        const Landing l = Converge(f, domain, trial, o);
        if (!l.ok || !(l.gradient_norm <= sc.gradient_accept)) continue;
        if ((l.x - source.x).norm() > 2.0 * sc.step) continue;  // fell off the set
        bool known = false;
        for (const PointInfo& p : points) {
          if ((p.x - l.x).norm() < 0.5 * sc.step) {
            known = true;
            break;
          }
        }
        if (known) continue;
        PointInfo p = Describe(f, l.x);
        sc.CountInertia(p);
        if (p.zeros == 0) continue;  // a nondegenerate point is isolated: not on this set
        p.from_continuation = true;
        points.push_back(p);
        frontier.push_back(static_cast<int>(points.size()) - 1);
        ++added;
      }
    }
  }
  return added;
}

// Groups of points forming one component: degenerate points closer than kJoinSteps continuation
// steps are joined; nondegenerate points are isolated (inverse function theorem), never joined.
std::vector<std::vector<int>> Groups(const std::vector<PointInfo>& points, double step) {
  using Graph = boost::adjacency_list<boost::vecS, boost::vecS, boost::undirectedS>;
  const int m = static_cast<int>(points.size());
  Graph graph(m);
  for (int i = 0; i < m; ++i) {
    if (points[i].zeros == 0) continue;
    for (int j = i + 1; j < m; ++j) {
      if (points[j].zeros > 0 && (points[i].x - points[j].x).norm() <= kJoinSteps * step) {
        boost::add_edge(i, j, graph);
      }
    }
  }
  std::vector<int> label(m);
  const int num_components = m == 0 ? 0 : boost::connected_components(graph, label.data());
  std::vector<std::vector<int>> members(num_components);
  for (int i = 0; i < m; ++i) members[label[i]].push_back(i);
  return members;
}

// Type by inertia at the representative: zero eigenvalues are the set's own directions when it is
// non-isolated, an unresolved degeneracy when it is isolated.
CriticalType Classify(const PointInfo& r, bool isolated, int d) {
  if (r.zeros == d) return CriticalType::kDegenerate;
  if (r.zeros > 0 && isolated) return CriticalType::kDegenerate;
  if (r.negatives == 0) return CriticalType::kMinimum;
  if (r.negatives + r.zeros == d) return CriticalType::kMaximum;
  return CriticalType::kSaddle;
}

CriticalComponent MakeComponent(const std::vector<PointInfo>& points, const std::vector<int>& group,
                                const Domain& domain, const Scales& sc) {
  // Representative: lowest f, ties broken by coordinates, so it does not depend on start order.
  int rep = group.front();
  for (int i : group) {
    if (points[i].f < points[rep].f || (points[i].f == points[rep].f && LexLess(points[i].x, points[rep].x))) {
      rep = i;
    }
  }
  const PointInfo& r = points[rep];
  CriticalComponent c;
  c.point = r.x;
  c.f = r.f;
  c.hessian_eigenvalues = r.eigenvalues;
  c.gradient_norm = r.gradient_norm;
  c.zero_eigenvalues = r.zeros;
  c.size = static_cast<int>(group.size());
  double extent = 0.0;
  c.points.push_back(r.x);
  for (int i : group) {
    extent = std::max(extent, (points[i].x - r.x).norm());
    if (i != rep) c.points.push_back(points[i].x);
  }
  // A set that spans at least one continuation step is non-isolated; a tight cluster around a
  // degenerate point is one isolated point found with limited accuracy.
  c.isolated = extent < sc.step;
  c.index = r.negatives;
  c.type = Classify(r, c.isolated, sc.d);
  for (const Eigen::VectorXd& x : c.points) {
    for (int i = 0; i < sc.d; ++i) {
      const double pad = c.isolated ? kFaceRelativePad * sc.width[i]
                                    : std::max(kFaceRelativePad * sc.width[i], kContinuedFacePadSteps * sc.step);
      if (x[i] <= domain.lower[i] + pad || x[i] >= domain.upper[i] - pad) c.touches_boundary = true;
    }
  }
  return c;
}

}  // namespace

std::vector<CriticalComponent> CriticalPointFinder::Find(const Objective& f,
                                                          const Domain& domain,
                                                          Summary* summary) const {
  const auto t0 = std::chrono::steady_clock::now();
  Summary local;
  Summary& s = summary != nullptr ? *summary : local;
  s = Summary();
  if (std::string error = ValidateOptions(options_); !error.empty()) {
    s.status = Status(StatusCode::kInvalidOptions, error);
    return {};
  }
  if (domain.lower.size() != f.dimension() || domain.upper.size() != f.dimension()) {
    s.status = Status(StatusCode::kInvalidOptions,
                      "Invalid configuration. The domain's dimension differs from the objective's.");
    return {};
  }
  const Options& o = options_;
  Scales sc;
  sc.d = f.dimension();
  sc.width = domain.upper - domain.lower;
  sc.diameter = sc.width.norm();
  int n = o.num_starts;
  if (n == 0) n = static_cast<int>(std::clamp(100.0 * std::pow(3.0, sc.d), 300.0, 20000.0));
  s.num_starts = n;

  // 1. Multi-start: independent solves, results stored by start index (the same for any number of
  // threads and ranks: distributed.h).
  std::vector<Eigen::VectorXd> starts(n);
  std::vector<double> start_values(n);
  for (int k = 0; k < n; ++k) starts[k] = domain.lower + KroneckerPoint(sc.d, k).cwiseProduct(sc.width);
  std::vector<Landing> landings(n);
  Progress progress(o.progress, n, "starts");
  DistributedFor(
      n, o.num_threads,
      [&](int k) {
        start_values[k] = f.Value(starts[k].data());
        landings[k] = Converge(f, domain, starts[k], o);
        progress.Add(1);
      },
      [&](auto& archive, int k) { archive(start_values[k], landings[k]); });
  progress.Finish();
  s.gradient_scale = GradientScale(start_values, sc.diameter);
  sc.gradient_accept = o.gradient_tolerance * s.gradient_scale;
  sc.merge_radius = o.merge_tolerance * sc.diameter;

  // 2. Accept and merge, in start order; classify by the Hessian's inertia.
  std::vector<PointInfo> points = AcceptAndMerge(landings, sc, s);
  for (PointInfo& p : points) p = Describe(f, p.x);
  s.distinct_points = static_cast<int>(points.size());
  double curvature_scale = 0.0;
  for (const PointInfo& p : points) curvature_scale = std::max(curvature_scale, p.eigenvalues.cwiseAbs().maxCoeff());
  if (!(curvature_scale > 0.0)) curvature_scale = 1.0;  // f flat at every critical point found
  s.curvature_scale = curvature_scale;
  sc.zero = o.zero_eigenvalue_tolerance * curvature_scale;
  for (PointInfo& p : points) sc.CountInertia(p);

  // 3. Continuation along non-isolated critical sets.
  sc.step = o.manifold_step * sc.diameter;
  s.manifold_points = Continue(f, domain, o, sc, points);

  // 4. Components, sorted by f (then coordinates); ids are their positions.
  std::vector<CriticalComponent> components;
  for (const std::vector<int>& group : Groups(points, sc.step)) {
    components.push_back(MakeComponent(points, group, domain, sc));
  }
  std::sort(components.begin(), components.end(),
            [](const CriticalComponent& a, const CriticalComponent& b) {
              if (a.f != b.f) return a.f < b.f;
              return LexLess(a.point, b.point);
            });
  for (int i = 0; i < static_cast<int>(components.size()); ++i) components[i].id = i;

  s.num_components = static_cast<int>(components.size());
  s.status = Status::Ok();
  s.time_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return components;
}

std::string CriticalPointFinder::Summary::BriefReport() const {
  if (!status.ok()) return "Critical search not run: " + status.message();
  char buffer[256];
  std::snprintf(buffer, sizeof buffer,
                "Critical search: %d starts, %d distinct critical points, %d components, %.3f s",
                num_starts, distinct_points + manifold_points, num_components, time_seconds);
  return buffer;
}

std::string CriticalPointFinder::Summary::FullReport() const {
  if (!status.ok()) return BriefReport();
  std::ostringstream s;
  s << BriefReport() << "\n"
    << "  starts converged to a critical point in the box: " << converged_in_box << "\n"
    << "  starts that left the box or failed:              " << left_box << "\n"
    << "  starts that stalled (|grad f| above tolerance):  " << not_critical << "\n"
    << "  distinct points from the starts:                 " << distinct_points << "\n"
    << "  points added by continuation of critical sets:   " << manifold_points << "\n"
    << "  gradient scale (f range / box diameter):         " << gradient_scale << "\n"
    << "  curvature scale (largest |Hessian eigenvalue|):  " << curvature_scale;
  return s.str();
}

}  // namespace ldsgd
