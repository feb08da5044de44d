// Strong scaling over the ranks of an MPI job (docs/SCALING.md): run it under the launcher,
//
//   mpirun -np 1 build/bench/mpi_bench      mpirun -np 2 build/bench/mpi_bench
//
// (add --oversubscribe beyond the cores, --allow-run-as-root as root). Every rank runs every
// benchmark: a distributed loop is collective, so the iteration counts are fixed (never timed, which
// could differ between ranks) and the time is the root's clock from before the loop to after its
// last exchange (Cluster::Seconds), set as manual time. Only rank 0 prints.
//
// BM_SimulateChains: 256 Himmelblau chains (sigma = 1, eta = 0.003, THEORY.md section 9 case 4)
// spread over the ranks, one thread per rank; items/s = SGD steps per second of the whole job.
// BM_CriticalStarts: the critical search's 900 Levenberg-Marquardt starts on Himmelblau.
// Counters per iteration: MPI collective calls and the bytes rank 0 sent and received.
#include <vector>

#include <benchmark/benchmark.h>

#include "solver/landscape/critical_points.h"
#include "solver/numerics/cluster.h"
#include "solver/problem/problem.h"
#include "solver/simulation/simulator.h"

namespace ldsgd {
namespace {

constexpr double kStepSize = 0.003;
constexpr int kChains = 256;
constexpr long kSteps = 50000;

const Problem& Himmelblau() {
  static const Problem* problem = new Problem(ParseProblem(DefaultProblemText(), kDefaultProblemSource));
  return *problem;
}

// The communication of one iteration, from rank 0's counters.
struct CommunicationMeter {
  Cluster::Counters before = Cluster::Get().counters();
  void Report(benchmark::State& state) const {
    const Cluster::Counters& after = Cluster::Get().counters();
    const double n = static_cast<double>(state.iterations());
    state.counters["ranks"] = Cluster::Get().size();
    state.counters["collectives"] = static_cast<double>(after.collectives - before.collectives) / n;
    state.counters["bytes_sent"] = static_cast<double>(after.bytes_sent - before.bytes_sent) / n;
    state.counters["bytes_received"] = static_cast<double>(after.bytes_received - before.bytes_received) / n;
  }
};

void BM_SimulateChains(benchmark::State& state) {
  const Problem& problem = Himmelblau();
  CriticalPointFinder::Summary found;
  static const std::vector<CriticalComponent> components =
      CriticalPointFinder({}).Find(*problem.objective, problem.domain, &found);
  SimulationOptions o;
  o.step_size = kStepSize;
  o.steps = kSteps;
  o.burn_in = kSteps / 10;
  o.chains = kChains;
  o.num_threads = static_cast<int>(state.range(0));
  const CommunicationMeter meter;
  for (auto _ : state) {
    const double start = Cluster::Get().Seconds();
    Simulator::Summary summary;
    const SimulationResult r = Simulator(o).Simulate(problem, components, &summary);
    benchmark::DoNotOptimize(r.occupation.data());
    if (!summary.status.ok()) state.SkipWithError(summary.status.message().c_str());
    state.SetIterationTime(Cluster::Get().Seconds() - start);
  }
  meter.Report(state);
  state.SetItemsProcessed(state.iterations() * kChains * kSteps);
}

void BM_CriticalStarts(benchmark::State& state) {
  const Problem& problem = Himmelblau();
  CriticalPointFinder::Options o;
  o.num_threads = static_cast<int>(state.range(0));
  const CommunicationMeter meter;
  long starts = 0;
  for (auto _ : state) {
    const double start = Cluster::Get().Seconds();
    CriticalPointFinder::Summary summary;
    const std::vector<CriticalComponent> c = CriticalPointFinder(o).Find(*problem.objective, problem.domain, &summary);
    benchmark::DoNotOptimize(c.data());
    state.SetIterationTime(Cluster::Get().Seconds() - start);
    starts += summary.num_starts;
  }
  meter.Report(state);
  state.SetItemsProcessed(starts);
}

// Fixed iterations: every rank must run the same number (see the top).
BENCHMARK(BM_SimulateChains)->Arg(1)->Iterations(5)->UseManualTime()->Unit(benchmark::kMillisecond);
BENCHMARK(BM_CriticalStarts)->Arg(1)->Iterations(5)->UseManualTime()->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace ldsgd

int main(int argc, char** argv) {
  const ldsgd::ClusterSession cluster(&argc, &argv);
  benchmark::Initialize(&argc, argv);
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
