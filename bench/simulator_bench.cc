// SGD steps per second of the Monte Carlo simulator on Himmelblau with sigma^2 I noise (THEORY.md
// section 9, case 4; eta = 0.003 < 2 / lambda_max): the built-in objective and the compiled
// expression of the same function, on 1 and 2 threads, against a plain single-threaded loop doing
// the same recursion with std::mt19937_64 and std::normal_distribution (no measurements at all).
// items/s = SGD steps (one chain moving once) per second.
// BM_SimulateHot: the mixing regime of data/himmelblau_hot.json (sigma = 200, eta = 0.001, T = 20),
// where chains change neighbourhood often (the bookkeeping's worst case), with and without the
// basin classification every 2000 steps.
#include <memory>
#include <random>
#include <vector>

#include <benchmark/benchmark.h>

#include "solver/objective/builtin_objectives.h"
#include "solver/landscape/critical_points.h"
#include "solver/objective/expression_objective.h"
#include "solver/numerics/philox_normals.h"
#include "solver/problem/problem.h"
#include "solver/simulation/simulator.h"

namespace ldsgd {
namespace {

constexpr double kStepSize = 0.003;
constexpr int kChains = 256;
constexpr long kSteps = 20000;

struct Setup {
  Problem problem;
  std::vector<CriticalComponent> components;
};

// The embedded Himmelblau problem (sigma = 1) with the objective built-in or compiled from the
// built-in's expression (as bench/objective_bench.cc builds it).
const Setup& Himmelblau(bool expression) {
  static const Setup* setups[2] = {nullptr, nullptr};
  const Setup*& setup = setups[expression];
  if (setup == nullptr) {
    auto* s = new Setup;
    s->problem = ParseProblem(DefaultProblemText(), kDefaultProblemSource);
    if (expression) {
      ExpressionGraph graph(BuiltinVariables("himmelblau", {}));
      const ExpressionGraph::Node f = graph.Parse(BuiltinExpression("himmelblau", {}));
      s->problem.objective = std::make_shared<ExpressionObjective>(graph, f, "himmelblau");
    } else {
      s->problem.objective = MakeBuiltin("himmelblau", {});
    }
    CriticalPointFinder::Summary summary;
    s->components =
        CriticalPointFinder({}).Find(*s->problem.objective, s->problem.domain, &summary);
    setup = s;
  }
  return *setup;
}

void BM_Simulate(benchmark::State& state, bool expression) {
  const Setup& setup = Himmelblau(expression);
  SimulationOptions o;
  o.step_size = kStepSize;
  o.steps = kSteps;
  o.burn_in = kSteps / 10;
  o.chains = kChains;
  o.num_threads = static_cast<int>(state.range(0));
  for (auto _ : state) {
    Simulator::Summary summary;
    const SimulationResult r = Simulator(o).Simulate(setup.problem, setup.components, &summary);
    benchmark::DoNotOptimize(r.occupation.data());
    if (!summary.status.ok()) state.SkipWithError(summary.status.message().c_str());
  }
  state.SetItemsProcessed(state.iterations() * kChains * kSteps);
  state.SetLabel(PhiloxInstructionSet());
}

void BM_SimulateHot(benchmark::State& state) {
  static const Setup* setup = [] {
    auto* s = new Setup;
    s->problem = ParseProblem(R"({"variables": ["x", "y"],
        "objective": "(x^2 + y - 11)^2 + (x + y^2 - 7)^2",
        "noise": {"type": "gaussian", "sigma": 200.0},
        "domain": {"lower": [-5, -5], "upper": [5, 5]}})",
                              "himmelblau_hot");
    CriticalPointFinder::Summary summary;
    s->components = CriticalPointFinder({}).Find(*s->problem.objective, s->problem.domain, &summary);
    return s;
  }();
  constexpr long kHotSteps = 100000;
  SimulationOptions o;
  o.step_size = 0.001;
  o.steps = kHotSteps;
  o.burn_in = kHotSteps / 10;
  o.chains = kChains;
  o.num_threads = 2;
  o.basin_interval = state.range(0);
  for (auto _ : state) {
    Simulator::Summary summary;
    const SimulationResult r = Simulator(o).Simulate(setup->problem, setup->components, &summary);
    benchmark::DoNotOptimize(r.occupation.data());
    if (!summary.status.ok()) state.SkipWithError(summary.status.message().c_str());
  }
  state.SetItemsProcessed(state.iterations() * kChains * kHotSteps);
}

// The same recursion, one chain after the other, with the standard library's generator and
// normals and the hand-written gradient.
void BM_ReferenceLoop(benchmark::State& state) {
  std::mt19937_64 rng(1);
  std::normal_distribution<double> normal(0.0, 1.0);
  constexpr double sigma = 1.0;
  double checksum = 0.0;
  for (auto _ : state) {
    for (int c = 0; c < kChains; ++c) {
      double x = 3.0, y = 2.0;
      for (long t = 0; t < kSteps; ++t) {
        const double u = x * x + y - 11.0, v = x + y * y - 7.0;
        const double gx = 4.0 * x * u + 2.0 * v, gy = 2.0 * u + 4.0 * y * v;
        x -= kStepSize * (gx + sigma * normal(rng));
        y -= kStepSize * (gy + sigma * normal(rng));
      }
      checksum += x + y;
    }
    benchmark::DoNotOptimize(checksum);
  }
  state.SetItemsProcessed(state.iterations() * kChains * kSteps);
}

BENCHMARK_CAPTURE(BM_Simulate, himmelblau_builtin, false)
    ->Arg(1)
    ->Arg(2)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();
BENCHMARK_CAPTURE(BM_Simulate, himmelblau_expression, true)
    ->Arg(1)
    ->Arg(2)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();
BENCHMARK(BM_SimulateHot)->Arg(0)->Arg(2000)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_ReferenceLoop)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace ldsgd
