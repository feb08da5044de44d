// Cost of adaptive multilevel splitting (solver/simulation/splitting.h) against how rare the event
// is: the tilted double well (THEORY.md case 1), the excursion from A_L to U_q (the barrier top),
// at step sizes where p = P(reach U_q before A_L) is about 1e-3, 1e-10, 1e-30 and 1e-100
// (ln p ~ -0.68 / eta). Default options: 16 runs of 100 replicas, 4096 departures; plain splitting
// (second argument 0) and importance-sampled along the path (1, splitting.h's tilt).
// Counters: ln_p, steps (SGD steps: departures and splitting), steps_per_nat = steps / |ln p|
// (flat means linear cost in log(1/p)), rel_error (95% half-width of ln p / 1.96), and
// speedup = the direct simulation's steps for the same relative error, loop / (p rel_error^2),
// over the splitting's steps.
#include <cmath>
#include <string>

#include <benchmark/benchmark.h>

#include "solver/action/transition_costs.h"
#include "solver/landscape/critical_points.h"
#include "solver/problem/problem.h"
#include "solver/theory/rates.h"

namespace ldsgd {
namespace {

struct Prepared {
  Problem problem;
  std::vector<CriticalComponent> components;
  TransitionCosts costs;
  int left = 0, top = 0;
};

const Prepared& DoubleWell() {
  static const Prepared p = [] {
    Prepared r;
    r.problem = LoadProblem(std::string(LDSGD_DATA_DIR) + "/tilted_double_well.json");
    r.components = CriticalPointFinder({}).Find(*r.problem.objective, r.problem.domain, nullptr);
    r.costs = TransitionCostSolver({}).Solve(r.problem, r.components, nullptr);
    for (std::size_t k = 0; k < r.components.size(); ++k) {
      if (r.components[k].point[0] < r.components[r.left].point[0]) r.left = static_cast<int>(k);
      if (r.components[k].type == CriticalType::kMaximum) r.top = static_cast<int>(k);
    }
    return r;
  }();
  return p;
}

// state.range(0): eta in units of 1e-5; state.range(1): 1 for the importance-sampled splitting.
void BM_SplittingCost(benchmark::State& state) {
  const Prepared& p = DoubleWell();
  const double eta = state.range(0) * 1e-5;
  RateOptions o;
  o.tilt = static_cast<double>(state.range(1));
  RateEstimate e;
  for (auto _ : state) {
    e = MeasureRate(p.problem, p.components, p.costs, {p.left, p.top}, eta, o);
  }
  if (!e.status.ok() || !e.complete) state.SkipWithError(e.status.ok() ? "incomplete" : e.status.message().c_str());
  const double rel = (e.log_probability_upper - e.log_probability_lower) / 2 / 1.96;
  state.counters["ln_p"] = e.log_probability;
  state.counters["steps"] = e.steps;
  state.counters["steps_per_nat"] = e.steps / std::abs(e.log_probability);
  state.counters["rel_error"] = rel;
  const double direct = e.departures.loop_steps / (std::exp(e.log_probability) * rel * rel);
  state.counters["speedup"] = direct / e.steps;
}
// p ~ 1e-3, 1e-6, 1e-10, 1e-30, 1e-100, plain and importance-sampled.
BENCHMARK(BM_SplittingCost)
    ->ArgsProduct({{9000, 4600, 2900, 990, 300}, {0, 1}})
    ->Unit(benchmark::kMillisecond)
    ->Iterations(1);

}  // namespace
}  // namespace ldsgd
