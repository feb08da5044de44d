// Steps per second of the Monte Carlo (QR) top Lyapunov exponent (solver/lyapunov.h) for
// non-commuting sample Hessians in d = 2 (the fixed-size kernel) and d = 10 (dynamic size), batch
// sizes 1 and 4, one thread. items/s = steps of one replica (one Philox half-block per index, b
// matrix-vector products, the power-of-two rescaling test).
#include <random>
#include <vector>

#include <Eigen/Core>
#include <benchmark/benchmark.h>

#include "solver/theory/lyapunov.h"

namespace ldsgd {
namespace {

constexpr int kHessians = 8;
constexpr long kSteps = 50000;
constexpr int kReplicas = 2;

// Random symmetric Hessians with entries of order 1 (they do not commute), fixed seed.
std::vector<Eigen::MatrixXd> RandomHessians(int d) {
  std::mt19937_64 engine(42);
  std::normal_distribution<double> normal;
  std::vector<Eigen::MatrixXd> out;
  for (int k = 0; k < kHessians; ++k) {
    Eigen::MatrixXd a(d, d);
    for (int i = 0; i < d; ++i) {
      for (int j = 0; j < d; ++j) a(i, j) = normal(engine);
    }
    out.push_back((a + a.transpose()) / (2 * std::sqrt(static_cast<double>(d))));
  }
  return out;
}

void BM_QrExponent(benchmark::State& state) {
  const int d = static_cast<int>(state.range(0));
  const std::vector<Eigen::MatrixXd> hessians = RandomHessians(d);
  LyapunovOptions o;
  o.batch_size = static_cast<int>(state.range(1));
  o.steps = kSteps;
  o.burn_in = 100;
  o.replicas = kReplicas;
  o.threads = 1;
  const LyapunovSolver solver(hessians, o);
  if (!solver.error().empty() || solver.commuting()) {
    state.SkipWithError("the benchmark Hessians should be valid and non-commuting");
    return;
  }
  for (auto _ : state) {
    const LyapunovResult r = solver.Exponent(0.3);
    benchmark::DoNotOptimize(r.exponent);
  }
  state.SetItemsProcessed(state.iterations() * kSteps * kReplicas);
}
BENCHMARK(BM_QrExponent)
    ->ArgNames({"d", "b"})
    ->Args({2, 1})
    ->Args({2, 4})
    ->Args({10, 1})
    ->Args({10, 4})
    ->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace ldsgd
