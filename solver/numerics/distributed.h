// Independent work items over the ranks of a job, and over the threads of each rank.
//
// Every item's result depends on its index alone (its random numbers are keyed by seed and index),
// so which rank and which thread compute it does not matter: rank r computes its share of the
// items, then every rank receives every other share, in rank order, and holds what a single
// process would have computed, bit for bit. What follows the loop (sums, merges) runs
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

// The items of [0, n) one rank computes: first, first + stride, ..., `count` of them.
struct Share {
  int first = 0, stride = 1, count = 0;
  int item(int k) const { return first + k * stride; }
};

// Contiguous shares, [n r / R, n (r + 1) / R): the simulator's blocks of lanes need neighbouring
// chains together.
inline Share BlockShare(int n, int rank, int size) {
  const int begin = static_cast<int>(static_cast<long>(n) * rank / size);
  const int end = static_cast<int>(static_cast<long>(n) * (rank + 1) / size);
  return {begin, 1, end - begin};
}

// Dealt like cards, r, r + R, r + 2R, ...: runs of costly neighbours (the cost sweep's pairs from
// one component, the starts near one basin) are spread over the ranks.
inline Share DealtShare(int n, int rank, int size) { return {rank, size, rank < n ? (n - 1 - rank) / size + 1 : 0}; }

namespace distributed_detail {

// Runs run(share) on this rank's share (all of [0, n) on one rank), then exchange(archive, i) for
// every item: with a ByteWriter on the items this rank computed, with a ByteReader on the others',
// which arrive in rank order.
template <class Layout, class Run, class Exchange>
void RunAndExchange(int n, const Layout& share_of, const Run& run, const Exchange& exchange) {
  Cluster& cluster = Cluster::Get();
  if (!cluster.CanCommunicate() || n <= 0) {
    run(Share{0, 1, std::max(n, 0)});
    return;
  }
  const Share mine = share_of(n, cluster.rank(), cluster.size());
  ProgressScale() = mine.count > 0 ? static_cast<double>(n) / mine.count : 1.0;
  run(mine);
  ProgressScale() = 1.0;
  ByteWriter writer;
  for (int k = 0; k < mine.count; ++k) exchange(writer, mine.item(k));
  const std::vector<std::string> all = cluster.AllGather(writer.Take());
  for (int r = 0; r < cluster.size(); ++r) {
    if (r == cluster.rank()) continue;
    ByteReader reader(all[r]);
    const Share theirs = share_of(n, r, cluster.size());
    for (int k = 0; k < theirs.count; ++k) exchange(reader, theirs.item(k));
    if (!reader.AtEnd()) throw std::runtime_error("distributed loop: rank " + std::to_string(r) + " sent more than its items");
  }
}

}  // namespace distributed_detail

// Contiguous shares (BlockShare), and `run` decides how to use the rank's threads on its share.
template <class Run, class Exchange>
void DistributedShares(int n, const Run& run, const Exchange& exchange) {
  distributed_detail::RunAndExchange(n, BlockShare, run, exchange);
}

// The common case: body(i) for each item, dealt over the ranks (DealtShare) and balanced over
// `threads` threads within each (0 = the cores of this rank).
template <class Body, class Exchange>
void DistributedFor(int n, int threads, const Body& body, const Exchange& exchange) {
  distributed_detail::RunAndExchange(
      n, DealtShare, [&](Share s) { ParallelFor(s.count, threads, [&](int k) { body(s.item(k)); }); }, exchange);
}

}  // namespace ldsgd

#endif  // LDSGD_SOLVER_NUMERICS_DISTRIBUTED_H_
