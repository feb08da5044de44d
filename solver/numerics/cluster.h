// The processes of one job: this process alone, or the ranks of an MPI job (mpirun, mpiexec,
// srun). ldsgd's only contact with MPI: the few collectives the distributed loops need
// (distributed.h), the root's file reads, and a clock every rank agrees on. Every rank runs the
// same program on the same data and takes the same branches; the only things that may differ
// between ranks (which items a rank computes, what its clock reads) go through here.
//
// A collective must be called by every rank at the same point of the program, so Cluster's
// collectives run only outside parallel loops (ParallelDepth() == 0); inside one they act on this
// process alone, which is exact for the loops' items (see distributed.h).
#ifndef LDSGD_SOLVER_NUMERICS_CLUSTER_H_
#define LDSGD_SOLVER_NUMERICS_CLUSTER_H_

#include <cstdint>
#include <string>
#include <vector>

namespace ldsgd {

class Cluster {
 public:
  // What this rank sent and received, for docs/SCALING.md and --verbose: `collectives` counts MPI
  // collective calls (each all-gather is two: the sizes, then the bytes).
  struct Counters {
    long collectives = 0;
    std::int64_t bytes_sent = 0;      // this rank's contributions
    std::int64_t bytes_received = 0;  // the other ranks' contributions it received
  };

  // The process-wide instance: one rank of one (until a ClusterSession starts MPI).
  static Cluster& Get();

  int rank() const { return rank_; }
  int size() const { return size_; }
  bool is_root() const { return rank_ == 0; }
  // True where a collective may run: more than one rank, and not inside a parallel loop.
  bool CanCommunicate() const;

  // Every rank's `mine`, indexed by rank, on every rank.
  std::vector<std::string> AllGather(const std::string& mine);
  // The root's *bytes on every rank.
  void Broadcast(std::string* bytes);
  // The root's steady clock in seconds, the same on every rank: budgets and deadlines decided on
  // it send every rank down the same branch.
  double Seconds();
  // The root's value of a quantity each rank measures (a rate, a core count).
  double RootValue(double local);

  const Counters& counters() const { return counters_; }
  // "3 ranks, 12 collectives, 1.2 MB sent, 2.3 MB received" (this rank's counters).
  std::string Describe() const;

 private:
  friend class ClusterSession;
  int rank_ = 0, size_ = 1;
  Counters counters_;
};

// Starts MPI when this process was launched by an MPI launcher (and ldsgd was built with MPI),
// and ends it on destruction. On the ranks other than 0 it silences stdout and stderr: only rank 0
// prints (errors, progress, results). A rank killed by its launcher (another rank died, a node was
// lost, the user interrupted mpirun) ends with one line from rank 0 and no output files (outputs
// are only renamed into place when complete).
class ClusterSession {
 public:
  ClusterSession(int* argc, char*** argv);
  ~ClusterSession();
  ClusterSession(const ClusterSession&) = delete;
  ClusterSession& operator=(const ClusterSession&) = delete;

  // Ends the whole job now with `code` (MPI_Abort): for a failure one rank may meet alone, which
  // would leave the others waiting in a collective. Without MPI, returns.
  static void Abort(int code);

 private:
  bool started_ = false;
};

// True when built with MPI (LDSGD_HAVE_MPI), for --version and the tests.
bool ClusterBuiltWithMpi();

}  // namespace ldsgd

#endif  // LDSGD_SOLVER_NUMERICS_CLUSTER_H_
