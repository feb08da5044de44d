// Time of the critical-component search on each reference problem (all cores).
#include <string>

#include <benchmark/benchmark.h>

#include "solver/landscape/critical_points.h"
#include "solver/problem/problem.h"

namespace ldsgd {
namespace {

void BM_CriticalSearch(benchmark::State& state, const std::string& file) {
  const Problem p = LoadProblem(std::string(LDSGD_DATA_DIR) + "/" + file);
  CriticalPointFinder finder({});
  int components = 0;
  for (auto _ : state) {
    CriticalPointFinder::Summary summary;
    components = static_cast<int>(finder.Find(*p.objective, p.domain, &summary).size());
  }
  state.counters["components"] = components;
}

BENCHMARK_CAPTURE(BM_CriticalSearch, himmelblau, "himmelblau.json")->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK_CAPTURE(BM_CriticalSearch, muller_brown, "muller_brown.json")->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK_CAPTURE(BM_CriticalSearch, three_hump_camel, "three_hump_camel.json")->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK_CAPTURE(BM_CriticalSearch, tilted_double_well, "tilted_double_well.json")->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK_CAPTURE(BM_CriticalSearch, ring, "ring.json")->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK_CAPTURE(BM_CriticalSearch, separable_double_well_3d, "separable_double_well_3d.json")->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace
}  // namespace ldsgd
