// All-roots energies (graph/energies.h) on dense random cost matrices: the whole pipeline of
// ComputeEnergies (validation, Boost graph, strong components, contraction, p expansions).
#include <random>

#include <benchmark/benchmark.h>

#include "graph/energies.h"
#include "graph/hitting_times.h"
#include "graph/transition_graph.h"

namespace ldsgd {
namespace {

// Complete digraph with costs uniform in [0, 10], fixed seed: every root is finite.
Eigen::MatrixXd DenseCosts(int p) {
  std::mt19937 rng(20240501);
  std::uniform_real_distribution<double> uniform(0.0, 10.0);
  Eigen::MatrixXd costs(p, p);
  for (int i = 0; i < p; ++i) {
    for (int j = 0; j < p; ++j) costs(i, j) = i == j ? 0.0 : uniform(rng);
  }
  return costs;
}

void BM_AllRootsEnergiesDense(benchmark::State& state) {
  const Eigen::MatrixXd costs = DenseCosts(static_cast<int>(state.range(0)));
  for (auto _ : state) {
    Energies e = ComputeEnergies(costs);
    benchmark::DoNotOptimize(e.absolute.data());
  }
}
BENCHMARK(BM_AllRootsEnergiesDense)->Arg(10)->Arg(100)->Arg(1000)->Unit(benchmark::kMillisecond);

// Mean hitting-time exponents E(i) of every node (graph/hitting_times.h): min-plus elimination of
// all nodes but i and the target, O(p^3) per node, O(p^4) in all.
void BM_HittingExponentsDense(benchmark::State& state) {
  const Eigen::MatrixXd costs = DenseCosts(static_cast<int>(state.range(0)));
  for (auto _ : state) {
    HittingExponents h = ComputeHittingExponents(costs, {0});
    benchmark::DoNotOptimize(h.exponent.data());
  }
}
BENCHMARK(BM_HittingExponentsDense)->Arg(10)->Arg(30)->Arg(100)->Unit(benchmark::kMillisecond);

// The Boost adjacency_list alone (one heap-allocated property per edge): most of the cost above
// that is not the contraction.
void BM_MakeTransitionGraphDense(benchmark::State& state) {
  const Eigen::MatrixXd costs = DenseCosts(static_cast<int>(state.range(0)));
  for (auto _ : state) {
    TransitionGraph graph = MakeTransitionGraph(costs);
    benchmark::DoNotOptimize(&graph);
  }
}
BENCHMARK(BM_MakeTransitionGraphDense)->Arg(1000)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace ldsgd
