// The distribution layer on one process: byte archives give back exactly what they were given,
// the shares cover every item once, and a distributed loop is the plain loop. (Several ranks:
// tests/mpi_test.cc, label mpi.)
#include <cmath>
#include <limits>
#include <map>
#include <string>
#include <vector>

#include <Eigen/Core>
#include <gtest/gtest.h>

#include "solver/numerics/byte_archive.h"
#include "solver/numerics/cluster.h"
#include "solver/numerics/distributed.h"
#include "solver/simulation/simulator.h"
#include "solver/simulation/splitting.h"

namespace ldsgd {
namespace {

template <class T>
T RoundTrip(const T& value) {
  ByteWriter writer;
  writer(value);
  const std::string bytes = writer.Take();
  ByteReader reader(bytes);
  T back{};
  reader(back);
  EXPECT_TRUE(reader.AtEnd());
  return back;
}

TEST(ByteArchive, NumbersComeBackBitForBit) {
  for (double v : {0.0, -0.0, 1.0 / 3.0, -1e-308, 5e-324, std::numeric_limits<double>::infinity()}) {
    const double back = RoundTrip(v);
    EXPECT_EQ(std::signbit(back), std::signbit(v));
    EXPECT_EQ(back, v);
  }
  EXPECT_TRUE(std::isnan(RoundTrip(std::numeric_limits<double>::quiet_NaN())));
  EXPECT_EQ(RoundTrip(-7L), -7L);
  EXPECT_EQ(RoundTrip(std::uint64_t{0xFFFFFFFFFFFFFFFFull}), 0xFFFFFFFFFFFFFFFFull);
}

TEST(ByteArchive, ContainersEigenAndStatusComeBack) {
  const std::vector<bool> flags = {true, false, true};
  EXPECT_EQ(RoundTrip(flags), flags);
  const std::map<std::pair<int, int>, std::string> m = {{{0, 1}, "a"}, {{2, 0}, ""}};
  EXPECT_EQ(RoundTrip(m), m);
  const std::vector<std::vector<long>> nested = {{}, {1, 2}, {3}};
  EXPECT_EQ(RoundTrip(nested), nested);
  Eigen::MatrixXd a(2, 3);
  a << 1, 2, 3, 4, 5, 6;
  const Eigen::MatrixXd b = RoundTrip(a);
  EXPECT_EQ(b.rows(), 2);
  EXPECT_EQ(b.cols(), 3);
  EXPECT_EQ(b, a);
  EXPECT_EQ(RoundTrip(Eigen::VectorXd()).size(), 0);
  const Status s = RoundTrip(Status(StatusCode::kNumericalIssue, "why"));
  EXPECT_EQ(s.code(), StatusCode::kNumericalIssue);
  EXPECT_EQ(s.message(), "why");
}

TEST(ByteArchive, StructsGoThroughTheirSerialize) {
  SimulationChain c;
  c.start = Eigen::Vector2d(1, -2);
  c.occupation = {3, 4};
  c.exit_times.resize(2);
  c.exit_times[1].Add(17, true);
  c.divergence_reason = DivergenceReason::kNonFinite;
  c.basin_unclassified = 9;
  const SimulationChain back = RoundTrip(c);
  EXPECT_EQ(back.start, c.start);
  EXPECT_EQ(back.occupation, c.occupation);
  ASSERT_EQ(back.exit_times.size(), 2u);
  EXPECT_EQ(back.exit_times[1].samples, std::vector<long>{17});
  EXPECT_EQ(back.exit_times[1].sum, 17.0);
  EXPECT_EQ(back.divergence_reason, DivergenceReason::kNonFinite);
  EXPECT_EQ(back.basin_unclassified, 9);
  SplittingRun r;
  r.log_probability = -std::numeric_limits<double>::infinity();
  r.extinct = true;
  r.diverged = 2;
  const SplittingRun rb = RoundTrip(r);
  EXPECT_EQ(rb.log_probability, r.log_probability);
  EXPECT_TRUE(rb.extinct);
  EXPECT_EQ(rb.diverged, 2);
}

TEST(ByteArchive, ShortBytesAreAnErrorNotAnOverread) {
  ByteWriter writer;
  writer(std::string("abcdef"));
  std::string bytes = writer.Take();
  bytes.resize(bytes.size() - 2);
  ByteReader reader(bytes);
  std::string back;
  EXPECT_THROW(reader(back), std::runtime_error);
}

TEST(Distributed, SharesCoverEveryItemOnce) {
  for (int n : {0, 1, 5, 64, 1000}) {
    for (int size : {1, 2, 3, 7, 64}) {
      std::vector<int> block_hits(n, 0), dealt_hits(n, 0);
      int next = 0;
      for (int r = 0; r < size; ++r) {
        const Share b = BlockShare(n, r, size);
        EXPECT_EQ(b.first, next) << n << " " << size << " " << r;  // contiguous, in rank order
        EXPECT_GE(b.count, n / size);
        EXPECT_LE(b.count, n / size + 1);
        next = b.first + b.count;
        for (int k = 0; k < b.count; ++k) ++block_hits[b.item(k)];
        const Share d = DealtShare(n, r, size);
        EXPECT_GE(d.count, n / size);
        EXPECT_LE(d.count, n / size + 1);
        for (int k = 0; k < d.count; ++k) {
          ASSERT_LT(d.item(k), n);
          EXPECT_EQ(d.item(k) % size, r);
          ++dealt_hits[d.item(k)];
        }
      }
      EXPECT_EQ(next, n);
      for (int i = 0; i < n; ++i) {
        EXPECT_EQ(block_hits[i], 1) << i;
        EXPECT_EQ(dealt_hits[i], 1) << i;
      }
    }
  }
}

TEST(Distributed, OneRankRunsTheWholeLoopAndNeverCommunicates) {
  ASSERT_EQ(Cluster::Get().size(), 1);
  EXPECT_FALSE(Cluster::Get().CanCommunicate());
  std::vector<double> out(100, 0.0);
  int exchanged = 0;
  DistributedFor(
      100, 2, [&](int i) { out[i] = std::sqrt(i); }, [&](auto&, int) { ++exchanged; });
  for (int i = 0; i < 100; ++i) EXPECT_EQ(out[i], std::sqrt(i));
  EXPECT_EQ(exchanged, 0);  // nothing to send on one rank
  EXPECT_EQ(Cluster::Get().counters().collectives, 0);
  std::string text = "root";
  Cluster::Get().Broadcast(&text);
  EXPECT_EQ(text, "root");
  EXPECT_EQ(Cluster::Get().RootValue(2.5), 2.5);
}

TEST(Distributed, ParallelLoopsMarkTheirThreads) {
  EXPECT_EQ(ParallelDepth(), 0);
  std::vector<int> depth(8, -1);
  ParallelFor(8, 2, [&](int i) { depth[i] = ParallelDepth(); });
  for (int d : depth) EXPECT_EQ(d, 1);
  EXPECT_EQ(ParallelDepth(), 0);
}

}  // namespace
}  // namespace ldsgd
