// Independent work items over the ranks of a job, and over the threads of each rank.
//
// Every item's result depends on its index alone (its random numbers are keyed by seed and index),
// so which rank and which thread compute it does not matter: rank r computes the contiguous share
// [n r / R, n (r + 1) / R), then every rank receives every other share, in rank order, and holds
// what a single process would have computed, bit for bit. What follows the loop (sums, merges) runs
// on every rank in index order as before: results are identical for any number of ranks and
// threads.
#ifndef LDSGD_SOLVER_NUMERICS_DISTRIBUTED_H_
#define LDSGD_SOLVER_NUMERICS_DISTRIBUTED_H_

#include <algorithm>
#include <stdexcept>
#include <string>
#include <vector>

#include "solver/numerics/byte_archive.h"
#include "solver/numerics/cluster.h"
#include "solver/numerics/parallel.h"
#include "solver/numerics/progress.h"

namespace ldsgd {

// Rank `rank`'s items of [0, n) when split over `size` ranks.
struct Share {
  int begin = 0, end = 0;
  int size() const { return end - begin; }
};
inline Share ShareOf(int n, int rank, int size) {
  return {static_cast<int>(static_cast<long>(n) * rank / size), static_cast<int>(static_cast<long>(n) * (rank + 1) / size)};
}

// Calls run(share) for this rank's share of [0, n) (all of it on one rank), then
// exchange(archive, i) for every i: on the items this rank computed with a ByteWriter, on the others
// with a ByteReader, so that `exchange` names once what item i produced. `run` decides how to use
// the rank's threads.
template <class Run, class Exchange>
void DistributedShares(int n, const Run& run, const Exchange& exchange) {
  Cluster& cluster = Cluster::Get();
  if (!cluster.CanCommunicate() || n <= 0) {
    run(Share{0, std::max(n, 0)});
    return;
  }
  const Share mine = ShareOf(n, cluster.rank(), cluster.size());
  ProgressScale() = mine.size() > 0 ? static_cast<double>(n) / mine.size() : 1.0;
  run(mine);
  ProgressScale() = 1.0;
  ByteWriter writer;
  for (int i = mine.begin; i < mine.end; ++i) exchange(writer, i);
  const std::vector<std::string> all = cluster.AllGather(writer.Take());
  for (int r = 0; r < cluster.size(); ++r) {
    if (r == cluster.rank()) continue;
    ByteReader reader(all[r]);
    const Share theirs = ShareOf(n, r, cluster.size());
    for (int i = theirs.begin; i < theirs.end; ++i) exchange(reader, i);
    if (!reader.AtEnd()) throw std::runtime_error("DistributedShares: rank " + std::to_string(r) + " sent more than its items");
  }
}

// The common case: body(i) for each item, on `threads` threads within each rank (0 = all cores).
template <class Body, class Exchange>
void DistributedFor(int n, int threads, const Body& body, const Exchange& exchange) {
  DistributedShares(
      n, [&](Share s) { ParallelFor(s.size(), threads, [&](int k) { body(s.begin + k); }); }, exchange);
}

// The root's value of *value on every rank (a result computed by the root alone, or one that must
// agree exactly). Collective: every rank calls it at the same point.
template <class T>
void ShareFromRoot(T* value) {
  Cluster& cluster = Cluster::Get();
  if (!cluster.CanCommunicate()) return;
  ByteWriter writer;
  if (cluster.is_root()) writer(*value);
  std::string bytes = writer.Take();
  cluster.Broadcast(&bytes);
  if (cluster.is_root()) return;
  ByteReader reader(bytes);
  reader(*value);
}

}  // namespace ldsgd

#endif  // LDSGD_SOLVER_NUMERICS_DISTRIBUTED_H_
