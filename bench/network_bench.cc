// Network objectives (issue 18), on the shipped data/iris_network.json (4-3-3 tanh, softmax
// cross-entropy, 27 parameters, 150 rows, batch 8):
// - BM_NetworkSampleGradient: one per-sample gradient by backpropagation (value included);
// - BM_NetworkSampleHessian: one per-sample Hessian (forward-mode Jets over backpropagation,
//   ceil(27 / 8) = 4 passes), and BM_NetworkHessianVector one exact Hessian-vector product;
// - BM_SimulateIris: SGD steps per second, 256 chains of minibatch 8, 2 threads; items/s = steps.
#include <cmath>
#include <string>
#include <vector>

#include <benchmark/benchmark.h>

#include "solver/landscape/discovery.h"
#include "solver/objective/network.h"
#include "solver/problem/problem.h"
#include "solver/simulation/simulator.h"

namespace ldsgd {
namespace {

const Problem& Iris() {
  static const Problem p = LoadProblem(std::string(LDSGD_DATA_DIR) + "/iris_network.json");
  return p;
}

Eigen::VectorXd Point() {
  Eigen::VectorXd x(27);
  for (int i = 0; i < 27; ++i) x[i] = 0.3 * std::sin(1.7 * i + 0.4);
  return x;
}

void BM_NetworkSampleGradient(benchmark::State& state) {
  const Network& net = *Iris().network;
  const Eigen::VectorXd x = Point();
  Eigen::VectorXd g(27);
  int k = 0;
  for (auto _ : state) {
    benchmark::DoNotOptimize(net.SampleGradient(k, x.data(), g.data()));
    k = (k + 1) % net.size();
  }
  state.SetItemsProcessed(state.iterations());
}

void BM_NetworkHessianVector(benchmark::State& state) {
  const Network& net = *Iris().network;
  const Eigen::VectorXd x = Point(), v = Eigen::VectorXd::Ones(27);
  Eigen::VectorXd hv(27);
  int k = 0;
  for (auto _ : state) {
    net.SampleHessianVector(k, x.data(), v.data(), hv.data());
    benchmark::DoNotOptimize(hv.data());
    k = (k + 1) % net.size();
  }
  state.SetItemsProcessed(state.iterations());
}

// All 150 per-sample Hessians at once (Evaluate); items = samples.
void BM_NetworkSampleHessian(benchmark::State& state) {
  const Network& net = *Iris().network;
  const Eigen::VectorXd x = Point();
  Eigen::MatrixXd g, h;
  for (auto _ : state) {
    net.Evaluate(x.data(), nullptr, &g, &h);
    benchmark::DoNotOptimize(h.data());
  }
  state.SetItemsProcessed(state.iterations() * net.size());
}

void BM_SimulateIris(benchmark::State& state) {
  const Problem& p = Iris();
  static const std::vector<CriticalComponent> c = DiscoverComponents(p, DiscoveryOptions(), nullptr);
  SimulationOptions o;
  o.step_size = 0.1;
  o.steps = 2000;
  o.burn_in = 200;
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

BENCHMARK(BM_NetworkSampleGradient);
BENCHMARK(BM_NetworkHessianVector);
BENCHMARK(BM_NetworkSampleHessian)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_SimulateIris)->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace
}  // namespace ldsgd
