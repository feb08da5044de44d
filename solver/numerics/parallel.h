// A minimal deterministic parallel loop: iterations are independent and write their own outputs,
// so the result never depends on the number of threads or on scheduling.
#ifndef LDSGD_SOLVER_NUMERICS_PARALLEL_H_
#define LDSGD_SOLVER_NUMERICS_PARALLEL_H_

#include <sched.h>

#include <algorithm>
#include <atomic>
#include <thread>
#include <vector>

namespace ldsgd {

// How many parallel loops the calling thread is inside: 0 on the program's main line. Collectives
// between ranks (cluster.h) run only there, where every rank reaches them in the same order.
inline int& ParallelDepth() {
  thread_local int depth = 0;
  return depth;
}

// Marks the calling thread as inside a parallel loop for its lifetime.
class ParallelScope {
 public:
  ParallelScope() { ++ParallelDepth(); }
  ~ParallelScope() { --ParallelDepth(); }
  ParallelScope(const ParallelScope&) = delete;
  ParallelScope& operator=(const ParallelScope&) = delete;
};

// 0 = the cores this process may run on (its affinity mask, as `nproc` counts): an MPI rank bound
// to one core by its launcher then runs one thread, not one per core of the machine.
inline int ResolveThreads(int requested) {
  if (requested > 0) return requested;
  cpu_set_t mask;
  if (sched_getaffinity(0, sizeof mask, &mask) == 0) return std::max(1, CPU_COUNT(&mask));
  return std::max(1, static_cast<int>(std::thread::hardware_concurrency()));
}

// Calls body(i) for i in [0, n) on up to `threads` threads (0 = all cores), dynamically balanced.
template <class Body>
void ParallelFor(int n, int threads, const Body& body) {
  const int t = std::min(ResolveThreads(threads), std::max(n, 1));
  if (t <= 1) {
    const ParallelScope scope;
    for (int i = 0; i < n; ++i) body(i);
    return;
  }
  std::atomic<int> next{0};
  auto worker = [&] {
    const ParallelScope scope;
    for (int i = next.fetch_add(1); i < n; i = next.fetch_add(1)) body(i);
  };
  std::vector<std::thread> pool;
  for (int k = 1; k < t; ++k) pool.emplace_back(worker);
  worker();
  for (std::thread& th : pool) th.join();
}

}  // namespace ldsgd

#endif  // LDSGD_SOLVER_NUMERICS_PARALLEL_H_
