#include "solver/io/input_text.h"
#include "solver/action/action_solver.h"

#include <chrono>
#include <cmath>
#include <cstdio>
#include <limits>
#include <sstream>

#include <Eigen/Cholesky>

#include <Eigen/QR>
#include <ceres/ceres.h>
#include <ceres/dynamic_autodiff_cost_function.h>

namespace ldsgd {
namespace {

// Node k of the string during one round moves only normal to the path, phi_k = base_k + N_k t_k
// with t_k in R^(d-1): that removes the flat tangential modes of the (nearly reparametrization-
// invariant) discrete action; re-spacing between rounds takes care of the tangential distribution.
// The restriction is a Ceres manifold on the node itself, so that the residuals are differentiated
// in the d coordinates of the nodes (O(d) per partial) and Ceres applies N_k once per Jacobian,
// instead of every Jet carrying the O(d^2) product N_k t_k (which made d = 100 take minutes a pair).
class NormalPlane final : public ceres::Manifold {
 public:
  explicit NormalPlane(Eigen::MatrixXd normal) : n_(std::move(normal)) {}
  int AmbientSize() const override { return static_cast<int>(n_.rows()); }
  int TangentSize() const override { return static_cast<int>(n_.cols()); }
  bool Plus(const double* x, const double* delta, double* x_plus_delta) const override {
    Ambient(x_plus_delta) = Ambient(x) + n_ * Eigen::Map<const Eigen::VectorXd>(delta, n_.cols());
    return true;
  }
  bool PlusJacobian(const double*, double* jacobian) const override {
    Eigen::Map<RowMatrix>(jacobian, n_.rows(), n_.cols()) = n_;
    return true;
  }
  bool Minus(const double* y, const double* x, double* y_minus_x) const override {
    Eigen::Map<Eigen::VectorXd>(y_minus_x, n_.cols()) = n_.transpose() * (Ambient(y) - Ambient(x));
    return true;
  }
  bool MinusJacobian(const double*, double* jacobian) const override {
    Eigen::Map<RowMatrix>(jacobian, n_.cols(), n_.rows()) = n_.transpose();
    return true;
  }

 private:
  using RowMatrix = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
  Eigen::Map<Eigen::VectorXd> Ambient(double* x) const { return {x, n_.rows()}; }
  Eigen::Map<const Eigen::VectorXd> Ambient(const double* x) const { return {x, n_.rows()}; }
  Eigen::MatrixXd n_;  // d x (d-1), orthonormal columns
};

// One segment's residual for Ceres in the coordinates of its free end nodes (a fixed end is a
// constant); its derivatives come from Jets lifted by the geometry.
struct SegmentFunctor {
  const NoiseGeometry* geometry;
  const double* from_fixed;  // null: the first parameter block
  const double* to_fixed;    // null: the next parameter block
  // Finite sums: this segment's last inner solution. Ceres evaluates a residual block on one
  // thread at a time, in an order fixed by the iterates, so the warm start (and the result) does
  // not depend on the thread count.
  mutable FiniteSumCost::WarmStart warm;

  template <typename T>
  bool operator()(T const* const* params, T* residual) const {
    const int d = geometry->dimension();
    std::vector<T> a(d), b(d);
    int next = 0;
    for (int i = 0; i < d; ++i) a[i] = from_fixed != nullptr ? T(from_fixed[i]) : params[next][i];
    next += from_fixed == nullptr;
    for (int i = 0; i < d; ++i) b[i] = to_fixed != nullptr ? T(to_fixed[i]) : params[next][i];
    return geometry->SegmentResidual(a.data(), b.data(), residual, &warm);
  }
};

// Jets of 8 partials: one pass covers both end nodes of a segment for d <= 4.
constexpr int kJetStride = 8;

// The normal space of the path at interior node k: the orthogonal complement of the central-
// difference tangent (the last d-1 columns of a Householder QR of it).
Eigen::MatrixXd NormalSpace(const Eigen::MatrixXd& path, int k) {
  const Eigen::VectorXd tangent = (path.row(k + 1) - path.row(k - 1)).transpose();
  const Eigen::MatrixXd q = Eigen::HouseholderQR<Eigen::MatrixXd>(tangent).householderQ();
  return q.rightCols(path.cols() - 1);
}

// Minimizes the discrete action over the normal displacements of the interior nodes (ends fixed).
// Returns the final action, or +inf when Ceres could not evaluate the path.
double Optimize(const NoiseGeometry& geometry, Eigen::MatrixXd& path, int max_iterations,
                int* iterations) {
  const int d = geometry.dimension();
  const int n = static_cast<int>(path.rows());
  if (d == 1 || n <= 2) return DiscreteAction(geometry, path);  // nothing normal to move
  // Row-major copy of the nodes: node k is nodes[k d .. k d + d).
  std::vector<double> nodes(static_cast<std::size_t>(n) * d);
  for (int k = 0; k < n; ++k) Eigen::Map<Eigen::VectorXd>(&nodes[k * d], d) = path.row(k).transpose();
  ceres::Problem problem;
  for (int k = 0; k + 1 < n; ++k) {
    const bool from_free = k > 0, to_free = k + 1 < n - 1;
    auto* cost = new ceres::DynamicAutoDiffCostFunction<SegmentFunctor, kJetStride>(
        new SegmentFunctor{&geometry, from_free ? nullptr : &nodes[k * d], to_free ? nullptr : &nodes[(k + 1) * d], {}});
    std::vector<double*> blocks;
    if (from_free) {
      cost->AddParameterBlock(d);
      blocks.push_back(&nodes[k * d]);
    }
    if (to_free) {
      cost->AddParameterBlock(d);
      blocks.push_back(&nodes[(k + 1) * d]);
    }
    cost->SetNumResiduals(d);
    problem.AddResidualBlock(cost, nullptr, blocks);
  }
  for (int k = 1; k + 1 < n; ++k) problem.SetManifold(&nodes[k * d], new NormalPlane(NormalSpace(path, k)));

  ceres::Solver::Options options;
  options.trust_region_strategy_type = ceres::LEVENBERG_MARQUARDT;
  // The Jacobian is block-banded (segment k touches nodes k and k+1): sparse Cholesky is linear in N.
  options.linear_solver_type = ceres::SPARSE_NORMAL_CHOLESKY;
  options.max_num_iterations = max_iterations;
  options.function_tolerance = 1e-14;
  options.gradient_tolerance = 1e-16;
  options.parameter_tolerance = 1e-14;
  options.logging_type = ceres::SILENT;
  options.num_threads = 1;  // pairs run in parallel one level up
  ceres::Solver::Summary summary;
  ceres::Solve(options, &problem, &summary);
  *iterations += static_cast<int>(summary.iterations.size());
  if (!std::isfinite(summary.final_cost)) return std::numeric_limits<double>::infinity();
  for (int k = 1; k + 1 < n; ++k) path.row(k) = Eigen::Map<const Eigen::VectorXd>(&nodes[k * d], d).transpose();
  return DiscreteAction(geometry, path);
}

std::string Validate(const ActionSolver::Options& o) {
  const auto violated = InvalidOption;
  if (o.initial_segments < 2) {
    return violated("initial_segments", o.initial_segments, "initial_segments >= 2");
  }
  if (o.max_segments < o.initial_segments) {
    return violated("max_segments", o.max_segments, "max_segments >= initial_segments");
  }
  if (!(o.relative_tolerance >= 0)) {
    return violated("relative_tolerance", o.relative_tolerance, "relative_tolerance >= 0");
  }
  if (!(o.absolute_tolerance >= 0)) {
    return violated("absolute_tolerance", o.absolute_tolerance, "absolute_tolerance >= 0");
  }
  if (o.max_rounds < 1) return violated("max_rounds", o.max_rounds, "max_rounds >= 1");
  if (o.max_iterations < 1) return violated("max_iterations", o.max_iterations, "max_iterations >= 1");
  return "";
}

}  // namespace

const char* ActionSolver::ToString(Termination t) {
  switch (t) {
    case Termination::kNotRun: return "not run";
    case Termination::kConverged: return "converged";
    case Termination::kMaxSegments: return "max_segments reached";
    case Termination::kNotPositiveDefinite: return "covariance not positive definite";
    case Termination::kInfinite: return "infinite";
    case Termination::kFailure: return "failure";
  }
  return "unknown";
}

Eigen::MatrixXd ActionSolver::Resample(const Eigen::MatrixXd& path, int segments) {
  const int n = static_cast<int>(path.rows());
  std::vector<double> s(n, 0.0);
  for (int k = 1; k < n; ++k) s[k] = s[k - 1] + (path.row(k) - path.row(k - 1)).norm();
  Eigen::MatrixXd out(segments + 1, path.cols());
  out.row(0) = path.row(0);
  out.row(segments) = path.row(n - 1);
  const double length = s[n - 1];
  int k = 0;
  for (int j = 1; j < segments; ++j) {
    const double target = length * j / segments;
    while (k + 2 < n && s[k + 1] < target) ++k;
    const double span = s[k + 1] - s[k];
    const double t = span > 0 ? (target - s[k]) / span : 0.0;
    out.row(j) = (1 - t) * path.row(k) + t * path.row(k + 1);
  }
  return out;
}

ActionPath ActionSolver::Solve(const NoiseGeometry& geometry, const Eigen::MatrixXd& initial,
                               Summary* summary) const {
  const auto t0 = std::chrono::steady_clock::now();
  Summary local;
  Summary& s = summary != nullptr ? *summary : local;
  s = Summary();
  ActionPath out;
  auto finish = [&](Termination t, std::string message) {
    s.termination = t;
    s.message = std::move(message);
    s.action = out.action;
    s.error_estimate = out.error_estimate;
    s.final_segments = out.nodes.rows() > 0 ? static_cast<int>(out.nodes.rows()) - 1 : 0;
    s.time_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    return out;
  };
  if (std::string error = Validate(options_); !error.empty()) return finish(Termination::kFailure, error);
  if (initial.rows() < 2 || initial.cols() != geometry.dimension()) {
    return finish(Termination::kFailure, "the initial path needs >= 2 nodes of the problem's dimension");
  }
  const Options& o = options_;
  if ((initial.row(0) - initial.row(initial.rows() - 1)).norm() == 0.0) {
    out.nodes = initial.topRows(1);
    return finish(Termination::kConverged, "");
  }

  Eigen::MatrixXd path = Resample(initial, o.initial_segments);
  if (Eigen::VectorXd where; FindNonPositiveDefinite(geometry, path, &where)) {
    out.nodes = path;
    out.action = out.error_estimate = std::numeric_limits<double>::infinity();
    std::ostringstream message;
    message << "the noise covariance is not positive definite at (";
    for (int i = 0; i < where.size(); ++i) message << (i ? ", " : "") << where[i];
    message << ")";
    s.where = where;
    return finish(Termination::kNotPositiveDefinite, message.str());
  }
  if (geometry.is_finite_sum() && std::isinf(DiscreteAction(geometry, path))) {
    out.nodes = path;
    out.action = std::numeric_limits<double>::infinity();
    out.error_estimate = 0.0;
    return finish(Termination::kInfinite,
                  "the minibatch noise cannot move along a segment of the path (cost +inf)");
  }
  double previous_level = std::numeric_limits<double>::quiet_NaN();
  double previous_extrapolated = std::numeric_limits<double>::quiet_NaN();
  for (int segments = o.initial_segments;; segments *= 2) {
    double level = std::numeric_limits<double>::infinity();
    // The change of the last round when the rounds ran out before settling: the optimizer's own
    // error at this resolution, which Richardson's estimate knows nothing of.
    double unsettled = 0.0;
    for (int round = 0; round < o.max_rounds; ++round) {
      if (round > 0) path = Resample(path, segments);
      Eigen::MatrixXd trial = path;
      const double value = Optimize(geometry, trial, o.max_iterations, &s.ceres_iterations);
      ++s.rounds;
      if (!std::isfinite(value)) break;
      path = trial;
      const bool settled =
          std::abs(level - value) <= 0.1 * (o.relative_tolerance * value + o.absolute_tolerance);
      unsettled = settled || round == 0 ? 0.0 : std::abs(level - value);
      level = value;
      if (settled) break;
    }
    if (!std::isfinite(level)) {
      out.nodes = path;
      out.action = out.error_estimate = std::numeric_limits<double>::infinity();
      return finish(Termination::kFailure, "the optimizer could not evaluate the path");
    }
    s.history.emplace_back(segments, level);
    out.nodes = path;
    out.action = level;
    out.error_estimate = std::numeric_limits<double>::infinity();
    if (!std::isnan(previous_level)) {
      // Midpoint-rule error is O(N^-2): Richardson removes it, S* ~ S_N + (S_N - S_{N/2}) / 3.
      const double extrapolated = std::max(0.0, level + (level - previous_level) / 3.0);
      out.action = extrapolated;
      // Error estimate: the unextrapolated error |S_N - S_{N/2}| / 3 until two extrapolations
      // exist, then the change between them (conservative: extrapolated values converge faster).
      // The change between extrapolations is scaled by kExtrapolationSafety: before the O(N^-4)
      // regime is reached it underestimates (by 3.8x measured on the 2-D finite-sum double well at
      // N = 64).
      constexpr double kExtrapolationSafety = 4.0;
      out.error_estimate = std::max(
          unsettled, std::isnan(previous_extrapolated)
                         ? std::abs(level - previous_level) / 3.0
                         : kExtrapolationSafety * std::abs(extrapolated - previous_extrapolated));
      if (!std::isnan(previous_extrapolated) &&
          out.error_estimate <= o.relative_tolerance * extrapolated + o.absolute_tolerance) {
        return finish(Termination::kConverged, "");
      }
      previous_extrapolated = extrapolated;
    }
    if (2 * segments > o.max_segments) return finish(Termination::kMaxSegments, "");
    previous_level = level;
    path = Resample(path, 2 * segments);
  }
}

std::string ActionSolver::Summary::BriefReport() const {
  char buffer[256];
  std::snprintf(buffer, sizeof buffer, "Action: %.10g +- %.2g (%s, %d segments, %d rounds, %.3f s)",
                action, error_estimate, ToString(termination), final_segments, rounds, time_seconds);
  return buffer;
}

std::string ActionSolver::Summary::FullReport() const {
  std::ostringstream out;
  out << BriefReport();
  if (!message.empty()) out << "\n  " << message;
  out << "\n  Ceres iterations: " << ceres_iterations;
  for (const auto& [n, v] : history) out << "\n  N = " << n << ": S_N = " << v;
  return out.str();
}

}  // namespace ldsgd
