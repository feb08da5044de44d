#include "solver/numerics/cluster.h"

#include <fcntl.h>
#include <unistd.h>

#include <chrono>
#include <climits>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <stdexcept>
#include <thread>

#include "solver/numerics/parallel.h"

#ifdef LDSGD_HAVE_MPI
#include <mpi.h>
#endif

namespace ldsgd {
namespace {

double LocalSeconds() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

#ifdef LDSGD_HAVE_MPI
// Open MPI (mpirun), PMIx and PMI launchers (Slurm's srun, Hydra's mpiexec) set these in every
// rank's environment; a plain run has none and never touches MPI.
bool LaunchedByMpi() {
  for (const char* name : {"OMPI_COMM_WORLD_SIZE", "PMIX_RANK", "PMI_RANK", "PMI_SIZE"}) {
    if (std::getenv(name) != nullptr) return true;
  }
  return false;
}

// Set when this rank has finished its work and entered MPI_Finalize: a SIGTERM then only means that
// another rank ended first with a non-zero code (bad input, which rank 0 has already reported).
volatile std::sig_atomic_t g_finishing = 0;

// The launcher ends the surviving ranks with SIGTERM when one dies or a node is lost. Rank 0 says
// so on one line (async-signal-safe: write and _exit only); outputs are renamed into place only
// when complete, so none is left.
extern "C" void OnLauncherTermination(int) {
  if (g_finishing) ::_exit(1);
  static const char kMessage[] =
      "ldsgd: error: the MPI job was stopped by its launcher (a rank died or was killed, a node was lost, or "
      "mpirun was interrupted); no output was written\n";
  const ssize_t ignored = ::write(STDERR_FILENO, kMessage, sizeof kMessage - 1);
  (void)ignored;
  ::_exit(1);
}

void Silence(int fd) {
  const int null = ::open("/dev/null", O_WRONLY);
  if (null < 0) return;
  ::dup2(null, fd);
  ::close(null);
}

void Check(int code, const char* what) {
  if (code != MPI_SUCCESS) throw std::runtime_error(std::string("MPI call failed: ") + what);
}
#endif

}  // namespace

Cluster& Cluster::Get() {
  static Cluster cluster;
  return cluster;
}

bool Cluster::CanCommunicate() const { return size_ > 1 && ParallelDepth() == 0; }

std::vector<std::string> Cluster::AllGather(const std::string& mine) {
  if (!CanCommunicate()) return std::vector<std::string>(1, mine);
#ifdef LDSGD_HAVE_MPI
  std::vector<std::int64_t> sizes(size_);
  const std::int64_t my_size = static_cast<std::int64_t>(mine.size());
  Check(MPI_Allgather(&my_size, 1, MPI_INT64_T, sizes.data(), 1, MPI_INT64_T, MPI_COMM_WORLD), "MPI_Allgather");
  std::vector<int> counts(size_), offsets(size_);
  std::int64_t total = 0;
  for (int r = 0; r < size_; ++r) {
    if (total + sizes[r] > INT_MAX) throw std::runtime_error("an all-gather of more than 2 GiB");
    counts[r] = static_cast<int>(sizes[r]);
    offsets[r] = static_cast<int>(total);
    total += sizes[r];
  }
  std::string all(static_cast<std::size_t>(total), '\0');
  Check(MPI_Allgatherv(mine.data(), static_cast<int>(my_size), MPI_BYTE, all.data(), counts.data(), offsets.data(),
                       MPI_BYTE, MPI_COMM_WORLD),
        "MPI_Allgatherv");
  counters_.collectives += 2;
  counters_.bytes_sent += my_size;
  counters_.bytes_received += total - my_size;
  std::vector<std::string> out(size_);
  for (int r = 0; r < size_; ++r) out[r] = all.substr(offsets[r], counts[r]);
  return out;
#else
  return std::vector<std::string>(1, mine);
#endif
}

void Cluster::Broadcast(std::string* bytes) {
  if (!CanCommunicate()) return;
#ifdef LDSGD_HAVE_MPI
  std::int64_t n = static_cast<std::int64_t>(bytes->size());
  Check(MPI_Bcast(&n, 1, MPI_INT64_T, 0, MPI_COMM_WORLD), "MPI_Bcast");
  if (n > INT_MAX) throw std::runtime_error("a broadcast of more than 2 GiB");
  bytes->resize(static_cast<std::size_t>(n));
  Check(MPI_Bcast(bytes->data(), static_cast<int>(n), MPI_BYTE, 0, MPI_COMM_WORLD), "MPI_Bcast");
  counters_.collectives += 2;
  (is_root() ? counters_.bytes_sent : counters_.bytes_received) += n;
#endif
}

double Cluster::RootValue(double local) {
  if (!CanCommunicate()) return local;
#ifdef LDSGD_HAVE_MPI
  Check(MPI_Bcast(&local, 1, MPI_DOUBLE, 0, MPI_COMM_WORLD), "MPI_Bcast");
  counters_.collectives += 1;
  (is_root() ? counters_.bytes_sent : counters_.bytes_received) += sizeof local;
#endif
  return local;
}

double Cluster::Seconds() { return RootValue(LocalSeconds()); }

std::string Cluster::Describe() const {
  char buffer[160];
  std::snprintf(buffer, sizeof buffer, "%d rank%s, %ld collectives, %.3g MB sent, %.3g MB received", size_,
                size_ == 1 ? "" : "s", counters_.collectives, counters_.bytes_sent / 1e6,
                counters_.bytes_received / 1e6);
  return buffer;
}

ClusterSession::ClusterSession(int* argc, char*** argv) {
#ifdef LDSGD_HAVE_MPI
  if (!LaunchedByMpi()) return;
  int provided = 0;
  // Threads within a rank never call MPI: the main thread does (between parallel loops).
  if (MPI_Init_thread(argc, argv, MPI_THREAD_FUNNELED, &provided) != MPI_SUCCESS) {
    std::fprintf(stderr, "ldsgd: error: MPI_Init_thread failed\n");
    std::exit(1);
  }
  started_ = true;
  Cluster& c = Cluster::Get();
  MPI_Comm_rank(MPI_COMM_WORLD, &c.rank_);
  MPI_Comm_size(MPI_COMM_WORLD, &c.size_);
  if (!c.is_root()) {
    Silence(STDOUT_FILENO);
    Silence(STDERR_FILENO);
  }
  std::signal(SIGTERM, OnLauncherTermination);
#else
  (void)argc;
  (void)argv;
#endif
}

ClusterSession::~ClusterSession() {
#ifdef LDSGD_HAVE_MPI
  if (!started_) return;
  g_finishing = 1;
  MPI_Finalize();
#endif
}

void ClusterSession::Abort(int code) {
#ifdef LDSGD_HAVE_MPI
  int initialized = 0;
  MPI_Initialized(&initialized);
  if (!initialized || Cluster::Get().size() < 2) return;
  // mpirun forwards a rank's stderr asynchronously, and the abort kills every rank at once: rank 0
  // waits for its line to reach the terminal, and the others wait longer, so that rank 0's line
  // (not theirs, which are silenced) is the one the user sees.
  std::fflush(stderr);
  std::this_thread::sleep_for(std::chrono::milliseconds(Cluster::Get().is_root() ? 300 : 1000));
  MPI_Abort(MPI_COMM_WORLD, code);
#else
  (void)code;
#endif
}

bool ClusterBuiltWithMpi() {
#ifdef LDSGD_HAVE_MPI
  return true;
#else
  return false;
#endif
}

}  // namespace ldsgd
