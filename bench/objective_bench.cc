// Gradient evaluation: hand-written built-in vs the compiled expression of the same function,
// one point at a time and in structure-of-arrays batches (the simulator's hot path).
#include <memory>
#include <random>
#include <vector>

#include <benchmark/benchmark.h>

#include "solver/objective/builtin_objectives.h"
#include "solver/objective/expression_objective.h"

namespace ldsgd {
namespace {

std::unique_ptr<Objective> Make(const std::string& name, bool expression) {
  if (!expression) return MakeBuiltin(name, {});
  ExpressionGraph graph(BuiltinVariables(name, {}));
  const ExpressionGraph::Node f = graph.Parse(BuiltinExpression(name, {}));
  return std::make_unique<ExpressionObjective>(graph, f, name);
}

// 1024 points in [-1, 1]^2, cycled so the branch predictor and caches see realistic variety.
std::vector<double> Points(int n) {
  std::mt19937_64 rng(7);
  std::uniform_real_distribution<double> u(-1.0, 1.0);
  std::vector<double> x(2 * n);
  for (double& v : x) v = u(rng);
  return x;
}

void BM_Gradient(benchmark::State& state, const std::string& name, bool expression) {
  const std::unique_ptr<Objective> f = Make(name, expression);
  const int n = 1024;
  const std::vector<double> x = Points(n);
  double g[2];
  int k = 0;
  for (auto _ : state) {
    benchmark::DoNotOptimize(f->Gradient(&x[2 * k], g));
    benchmark::DoNotOptimize(g);
    k = (k + 1) & (n - 1);
  }
  state.SetItemsProcessed(state.iterations());
}

void BM_GradientBatch(benchmark::State& state, const std::string& name, bool expression) {
  const std::unique_ptr<Objective> f = Make(name, expression);
  const int n = static_cast<int>(state.range(0));
  const std::vector<double> x = Points(n);  // read as SoA: x[0..n) then y[0..n)
  std::vector<double> g(2 * n);
  for (auto _ : state) {
    f->GradientBatch(n, x.data(), n, g.data());
    benchmark::DoNotOptimize(g.data());
    benchmark::ClobberMemory();
  }
  state.SetItemsProcessed(state.iterations() * n);
}

BENCHMARK_CAPTURE(BM_Gradient, himmelblau_builtin, "himmelblau", false);
BENCHMARK_CAPTURE(BM_Gradient, himmelblau_expression, "himmelblau", true);
BENCHMARK_CAPTURE(BM_Gradient, muller_brown_builtin, "muller_brown", false);
BENCHMARK_CAPTURE(BM_Gradient, muller_brown_expression, "muller_brown", true);
BENCHMARK_CAPTURE(BM_GradientBatch, himmelblau_builtin, "himmelblau", false)->Arg(1024);
BENCHMARK_CAPTURE(BM_GradientBatch, himmelblau_expression, "himmelblau", true)->Arg(1024);
BENCHMARK_CAPTURE(BM_GradientBatch, muller_brown_builtin, "muller_brown", false)->Arg(1024);
BENCHMARK_CAPTURE(BM_GradientBatch, muller_brown_expression, "muller_brown", true)->Arg(1024);

}  // namespace
}  // namespace ldsgd
