// Discovery (minima by descent, saddles by the climbing-image string) on the planted Himmelblau
// against the dimension d (issue 18), all cores: 32 descents from N(0, 2^2 I), strings between
// each minimum and its 2 nearest. The components found are counted (8 expected: 4 + 4).
#include <string>

#include <benchmark/benchmark.h>

#include "solver/landscape/discovery.h"
#include "solver/problem/problem.h"

namespace ldsgd {
namespace {

Problem Planted(int d) {
  return ParseProblem(R"({"objective": {"builtin": "planted_himmelblau", "params": {"dimension": )" + std::to_string(d) +
                          R"(}}, "noise": {"type": "gaussian", "sigma": 1.0}, "domain": {"lower": -6, "upper": 6},
      "search": {"method": "descent", "starts": 32, "neighbours": 2, "init": {"distribution": "normal", "mean": 0, "std": 2}}})",
                      "planted.json");
}

void BM_DiscoveryPlanted(benchmark::State& state) {
  const Problem p = Planted(static_cast<int>(state.range(0)));
  DiscoverySummary s;
  int components = 0;
  for (auto _ : state) components = static_cast<int>(DiscoverComponents(p, {}, &s).size());
  state.counters["components"] = components;
  state.counters["string_pairs"] = s.string_pairs;
}

BENCHMARK(BM_DiscoveryPlanted)->Arg(10)->Arg(30)->Arg(100)->Arg(300)->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace
}  // namespace ldsgd
