// A minimal deterministic parallel loop: iterations are independent and write their own outputs,
// so the result never depends on the number of threads or on scheduling.
#ifndef LDSGD_SOLVER_NUMERICS_PARALLEL_H_
#define LDSGD_SOLVER_NUMERICS_PARALLEL_H_

#include <algorithm>
#include <atomic>
#include <thread>
#include <vector>

namespace ldsgd {

inline int ResolveThreads(int requested) {
  if (requested > 0) return requested;
  return std::max(1, static_cast<int>(std::thread::hardware_concurrency()));
}

// Calls body(i) for i in [0, n) on up to `threads` threads (0 = all cores), dynamically balanced.
template <class Body>
void ParallelFor(int n, int threads, const Body& body) {
  const int t = std::min(ResolveThreads(threads), std::max(n, 1));
  if (t <= 1) {
    for (int i = 0; i < n; ++i) body(i);
    return;
  }
  std::atomic<int> next{0};
  auto worker = [&] {
    for (int i = next.fetch_add(1); i < n; i = next.fetch_add(1)) body(i);
  };
  std::vector<std::thread> pool;
  for (int k = 1; k < t; ++k) pool.emplace_back(worker);
  worker();
  for (std::thread& th : pool) th.join();
}

}  // namespace ldsgd

#endif  // LDSGD_SOLVER_NUMERICS_PARALLEL_H_
