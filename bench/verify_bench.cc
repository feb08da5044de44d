// Time to a conclusive verdict of `verify` (issue 14): the whole Verify() call (pilot, plan, grid
// reference, rounds of simulation until every check is decided) with its default options, on the
// tilted double well at its file's step sizes and on the ring with automatic step sizes. The
// counters say what the run ended in: verdict (0 pass, 1 fail, 2 inconclusive), rounds and steps
// per chain. The analysis (components, costs, energies) is done once, outside the timing.
#include <string>

#include <benchmark/benchmark.h>

#include "graph/energies.h"
#include "solver/action/transition_costs.h"
#include "solver/landscape/critical_points.h"
#include "solver/problem/problem.h"
#include "solver/theory/verifier.h"

namespace ldsgd {
namespace {

struct Prepared {
  Problem problem;
  std::vector<CriticalComponent> components;
  TransitionCosts costs;
  Energies energies;
};

Prepared Prepare(const std::string& file) {
  Prepared p;
  p.problem = LoadProblem(std::string(LDSGD_DATA_DIR) + "/" + file);
  p.components = CriticalPointFinder({}).Find(*p.problem.objective, p.problem.domain, nullptr);
  p.costs = TransitionCostSolver({}).Solve(p.problem, p.components, nullptr);
  p.energies = ComputeEnergies(p.costs.costs);
  return p;
}

void BM_TimeToVerdict(benchmark::State& state, const std::string& file) {
  const Prepared p = Prepare(file);
  VerifyOptions o;
  o.step_sizes = p.problem.step_sizes;
  VerifyReport r;
  for (auto _ : state) {
    r = Verify(p.problem, p.components, p.costs.costs, p.energies.relative, o);
    benchmark::DoNotOptimize(r.verdict);
  }
  state.counters["verdict"] = static_cast<double>(r.verdict);
  state.counters["rounds"] = r.rounds;
  state.counters["steps_per_chain"] = r.simulations.empty() ? 0.0 : static_cast<double>(r.simulations[0].steps);
}

BENCHMARK_CAPTURE(BM_TimeToVerdict, tilted_double_well, std::string("tilted_double_well.json"))
    ->Unit(benchmark::kSecond)
    ->Iterations(3);
BENCHMARK_CAPTURE(BM_TimeToVerdict, ring, std::string("ring.json"))->Unit(benchmark::kSecond)->Iterations(1);

}  // namespace
}  // namespace ldsgd
