// Finite-sum (minibatch) noise, issue 6:
// - BM_FiniteSumCost: one exact cost c(x, u) on a dataset of n rows (n = 3, 100, 1e4), the robust
//   regression's per-sample Welsch loss (data/robust_regression.json) on synthetic rows made like
//   scripts/make_robust_regression_data.py's; "cold" runs the nested solve from the Gaussian start,
//   "warm" starts from the solution at a nearby (x, u) (what the path optimizer does along a
//   segment). Both include evaluating the n sample gradients and Hessians.
// - BM_AnalyzeRobustRegression: critical components + transition costs of the shipped dataset.
// - BM_SimulateFiniteSum: SGD steps per second with true minibatch sampling (batch 1 and 8) on
//   n = 200, 1e4 and 1e5 rows, 2 threads; items/s = steps (one chain moving once).
#include <cmath>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>

#include <benchmark/benchmark.h>

#include "solver/landscape/critical_points.h"
#include "solver/objective/finite_sum.h"
#include "solver/noise/finite_sum_cost.h"
#include "solver/problem/problem.h"
#include "solver/simulation/simulator.h"
#include "solver/action/transition_costs.h"

namespace ldsgd {
namespace {

constexpr const char* kWelsch = "1 - exp(-(y - a*x - b)^2 / (2*0.3^2))";

// Rows (x, y) from the two lines of the shipped dataset, seeded.
SampleTable Rows(int n) {
  std::mt19937_64 rng(1);
  std::uniform_real_distribution<double> uniform(-1.0, 1.0);
  std::normal_distribution<double> normal(0.0, 0.2);
  SampleTable t;
  t.source = "synthetic";
  t.columns = {"x", "y"};
  t.rows = n;
  t.values.resize(2 * n);
  for (int k = 0; k < n; ++k) {
    const double x = uniform(rng);
    t.values[k] = x;
    t.values[n + k] = (uniform(rng) < 0.2 ? x + 0.5 : -x - 0.5) + normal(rng);
  }
  return t;
}

std::shared_ptr<const FiniteSum> Dataset(int n) {
  ExpressionGraph graph({"a", "b"}, {"x", "y"});
  return MakeDataSum(graph, graph.Parse(kWelsch), Rows(n));
}

void BM_FiniteSumCost(benchmark::State& state, bool warm_start) {
  const int n = static_cast<int>(state.range(0));
  const std::shared_ptr<const FiniteSum> rows = Dataset(n);
  const FiniteSumCost cost(rows, 1);
  // A step at `angle` from steepest descent at x (uphill beyond 90 degrees), the largest angle
  // from 120 down whose cost is finite (few rows span a narrow cone of sample steps).
  const double x[2] = {0.4, 0.2};
  Eigen::MatrixXd g;
  rows->Gradients(x, &g);
  const Eigen::Vector2d descent = -g.rowwise().mean().normalized();
  double u[2], nearby_u[2];
  const double nearby_x[2] = {0.401, 0.2005};
  FiniteSumCost::WarmStart warm;
  for (double angle = 120.0; angle > 0 && !warm.valid; angle -= 10.0) {
    const double c = std::cos(angle * M_PI / 180), s = std::sin(angle * M_PI / 180);
    u[0] = 0.05 * (c * descent[0] - s * descent[1]);
    u[1] = 0.05 * (s * descent[0] + c * descent[1]);
    nearby_u[0] = 1.002 * u[0];
    nearby_u[1] = 0.998 * u[1];
    cost.Evaluate(nearby_x, nearby_u, true, &warm);
    state.SetLabel("angle " + std::to_string(static_cast<int>(angle)) + " deg");
  }
  if (!warm.valid) state.SkipWithError("no finite cost at the nearby point");
  for (auto _ : state) {
    FiniteSumCost::WarmStart start = warm;
    const FiniteSumCost::Evaluation e = cost.Evaluate(x, u, true, warm_start ? &start : nullptr);
    benchmark::DoNotOptimize(e.cost);
    if (e.status != FiniteSumCost::Status::kFinite) state.SkipWithError("cost not finite");
  }
  state.SetItemsProcessed(state.iterations());
}

void BM_AnalyzeRobustRegression(benchmark::State& state) {
  const Problem p = LoadProblem(std::string(LDSGD_DATA_DIR) + "/robust_regression.json");
  for (auto _ : state) {
    const std::vector<CriticalComponent> c = CriticalPointFinder({}).Find(*p.objective, p.domain, nullptr);
    TransitionCostSolver::Summary summary;
    const TransitionCosts t = TransitionCostSolver({}).Solve(p, c, &summary);
    benchmark::DoNotOptimize(t.costs.data());
    if (!summary.status.ok()) state.SkipWithError(summary.status.message().c_str());
  }
}

void BM_SimulateFiniteSum(benchmark::State& state) {
  const int n = static_cast<int>(state.range(0)), batch = static_cast<int>(state.range(1));
  // The problem file format, with the rows written next to it.
  const std::filesystem::path dir = std::filesystem::temp_directory_path() / "ldsgd_finite_sum_bench";
  std::filesystem::create_directories(dir);
  {
    const SampleTable t = Rows(n);
    std::ofstream csv(dir / "rows.csv");
    csv.precision(17);
    csv << "x,y\n";
    for (int k = 0; k < n; ++k) csv << t.values[k] << "," << t.values[n + k] << "\n";
    std::ofstream(dir / "p.json") << R"({"variables": ["a", "b"], "objective": {"per_sample": ")" << kWelsch
                                  << R"(", "data": "rows.csv"}, "l2": 0.01, "noise": {"type": "finite_sum", "batch_size": )"
                                  << batch << R"(}, "domain": {"lower": [-3, -3], "upper": [3, 3]}})";
  }
  const Problem p = LoadProblem((dir / "p.json").string());
  const std::vector<CriticalComponent> c = CriticalPointFinder({}).Find(*p.objective, p.domain, nullptr);
  SimulationOptions o;
  o.step_size = 0.1;
  o.steps = 20000;
  o.burn_in = 2000;
  o.chains = 256;
  o.num_threads = 2;
  for (auto _ : state) {
    Simulator::Summary summary;
    const SimulationResult r = Simulator(o).Simulate(p, c, &summary);
    benchmark::DoNotOptimize(r.occupation.data());
    if (!summary.status.ok()) state.SkipWithError(summary.status.message().c_str());
  }
  state.SetItemsProcessed(state.iterations() * o.chains * o.steps);
}

BENCHMARK_CAPTURE(BM_FiniteSumCost, cold, false)->Arg(3)->Arg(100)->Arg(10000)->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(BM_FiniteSumCost, warm, true)->Arg(3)->Arg(100)->Arg(10000)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_AnalyzeRobustRegression)->Unit(benchmark::kSecond)->Iterations(1);
BENCHMARK(BM_SimulateFiniteSum)->Args({200, 1})->Args({10000, 1})->Args({100000, 1})->Args({10000, 8})->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace
}  // namespace ldsgd
