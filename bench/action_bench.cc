// Transition costs: all ordered Himmelblau pairs end to end, one path at fixed resolutions N by the
// string method (Levenberg-Marquardt on the sum-of-squares form), and the same discretization
// minimized by plain L-BFGS (Ceres GradientProblemSolver) for comparison.
#include <string>

#include <benchmark/benchmark.h>
#include <ceres/ceres.h>

#include "solver/action/action_solver.h"
#include "solver/landscape/critical_points.h"
#include "solver/action/transition_costs.h"

namespace ldsgd {
namespace {

const Problem& Himmelblau() {
  static const Problem p = LoadProblem(std::string(LDSGD_DATA_DIR) + "/himmelblau.json");
  return p;
}
const std::vector<CriticalComponent>& Components() {
  static const std::vector<CriticalComponent> c =
      CriticalPointFinder({}).Find(*Himmelblau().objective, Himmelblau().domain, nullptr);
  return c;
}

void BM_AllPairsHimmelblau(benchmark::State& state) {
  TransitionCostSolver::Options options;
  options.num_threads = static_cast<int>(state.range(0));
  TransitionCostSolver::Summary summary;
  for (auto _ : state) {
    benchmark::DoNotOptimize(TransitionCostSolver(options).Solve(Himmelblau(), Components(), &summary));
  }
  state.counters["pairs"] = static_cast<double>(summary.components * (summary.components - 1));
  state.counters["refined"] = summary.refined_pairs;
}
BENCHMARK(BM_AllPairsHimmelblau)->Arg(1)->Arg(2)->Unit(benchmark::kMillisecond)->UseRealTime();

// The representative climb: the minimum (3, 2) to the saddle between it and (3.584, -1.848).
Eigen::MatrixXd StraightLine() {
  const std::vector<CriticalComponent>& c = Components();
  Eigen::MatrixXd ends(2, 2);
  ends.row(0) = c[0].point.transpose();
  for (const CriticalComponent& comp : c) {
    if (comp.type == CriticalType::kSaddle) {  // the lowest saddle: f = 13.31
      ends.row(1) = comp.point.transpose();
      break;
    }
  }
  return ends;
}

void BM_PathStringMethod(benchmark::State& state) {
  const int n = static_cast<int>(state.range(0));
  const NoiseGeometry geometry(*Himmelblau().objective, *Himmelblau().noise.covariance());
  ActionSolver::Options options;
  options.initial_segments = options.max_segments = n;
  ActionSolver::Summary summary;
  for (auto _ : state) benchmark::DoNotOptimize(ActionSolver(options).Solve(geometry, StraightLine(), &summary));
  state.counters["action"] = summary.action;
  state.counters["iterations"] = summary.ceres_iterations;
}
BENCHMARK(BM_PathStringMethod)->Arg(100)->Arg(200)->Arg(400)->Unit(benchmark::kMillisecond);

// The discrete action over all interior node coordinates, for a first-order method.
class DiscreteActionFunction final : public ceres::FirstOrderFunction {
 public:
  DiscreteActionFunction(const NoiseGeometry& geometry, Eigen::MatrixXd ends, int n)
      : geometry_(geometry), ends_(std::move(ends)), n_(n) {}
  int NumParameters() const override { return 2 * (n_ - 1); }
  bool Evaluate(const double* x, double* cost, double* gradient) const override {
    using Jet = ceres::Jet<double, 4>;
    auto node = [&](int k, int i) { return k == 0 ? ends_(0, i) : k == n_ ? ends_(1, i) : x[2 * (k - 1) + i]; };
    *cost = 0.0;
    if (gradient != nullptr) std::fill(gradient, gradient + NumParameters(), 0.0);
    for (int k = 0; k < n_; ++k) {
      Jet a[2], b[2], r[2];
      for (int i = 0; i < 2; ++i) {
        a[i] = Jet(node(k, i), i);
        b[i] = Jet(node(k + 1, i), 2 + i);
      }
      if (!geometry_.SegmentResidual(a, b, r)) return false;
      const Jet c = r[0] * r[0] + r[1] * r[1];
      *cost += c.a;
      if (gradient == nullptr) continue;
      for (int i = 0; i < 2; ++i) {
        if (k > 0) gradient[2 * (k - 1) + i] += c.v[i];
        if (k + 1 < n_) gradient[2 * k + i] += c.v[2 + i];
      }
    }
    return true;
  }

 private:
  const NoiseGeometry& geometry_;
  Eigen::MatrixXd ends_;
  int n_;
};

void BM_PathLbfgs(benchmark::State& state) {
  const int n = static_cast<int>(state.range(0));
  const NoiseGeometry geometry(*Himmelblau().objective, *Himmelblau().noise.covariance());
  const Eigen::MatrixXd initial = ActionSolver::Resample(StraightLine(), n);
  ceres::GradientProblemSolver::Summary summary;
  for (auto _ : state) {
    std::vector<double> x(2 * (n - 1));
    for (int k = 1; k < n; ++k) {
      x[2 * (k - 1)] = initial(k, 0);
      x[2 * (k - 1) + 1] = initial(k, 1);
    }
    ceres::GradientProblem problem(new DiscreteActionFunction(geometry, StraightLine(), n));
    ceres::GradientProblemSolver::Options options;
    options.line_search_direction_type = ceres::LBFGS;
    options.max_num_iterations = 100000;
    options.function_tolerance = 1e-13;
    options.gradient_tolerance = 1e-12;
    options.parameter_tolerance = 1e-14;
    ceres::Solve(options, problem, x.data(), &summary);
  }
  state.counters["action"] = summary.final_cost;
  state.counters["iterations"] = static_cast<double>(summary.iterations.size());
}
BENCHMARK(BM_PathLbfgs)->Arg(100)->Arg(200)->Arg(400)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace ldsgd
