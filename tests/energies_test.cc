// Energies (THEORY.md section 5) against brute-force enumeration of every spanning in-arborescence
// for p <= 7, against an independent textbook Chu-Liu/Edmonds for larger p, a hand example, edge
// cases, and the validation messages.
#include "graph/energies.h"

#include <cmath>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "graph/transition_graph.h"
#include "tests/arborescence_reference.h"

namespace ldsgd {
namespace {

using test::BruteForceEnergy;
using test::TextbookEdmonds;

constexpr double kInf = std::numeric_limits<double>::infinity();
// Brute force and kernel sum at most 6 costs of size <= 10: rounding is below 6 * 10 * 2^-52
// ~ 1.3e-14, so any difference above 1e-12 is a wrong tree, not arithmetic.
constexpr double kBruteForce = 1e-12;
// The textbook Edmonds reduces costs phase by phase (up to p subtractions per edge, costs <= 100):
// rounding up to ~p * 100 * 2^-52 ~ 1e-12 for p = 60, plus the sum over p edges.
constexpr double kTextbook = 1e-9;

using Matrix = Eigen::MatrixXd;

enum class Kind { kComplete, kSparse, kTies };

// Random costs: complete with continuous costs in [0, 10]; sparse (each edge +inf with probability
// 0.6) with some zeros; or small integers 0..3 (many exactly tied trees, many zero edges).
Matrix RandomCosts(int p, Kind kind, std::mt19937& rng) {
  std::uniform_real_distribution<double> uniform(0.0, 10.0);
  std::uniform_int_distribution<int> small(0, 3);
  std::bernoulli_distribution absent(0.6), zero(0.15);
  Matrix costs(p, p);
  for (int i = 0; i < p; ++i) {
    for (int j = 0; j < p; ++j) {
      if (i == j) costs(i, j) = 0.0;
      else if (kind == Kind::kTies) costs(i, j) = small(rng);
      else if (kind == Kind::kSparse && absent(rng)) costs(i, j) = kInf;
      else costs(i, j) = (kind == Kind::kSparse && zero(rng)) ? 0.0 : uniform(rng);
    }
  }
  return costs;
}

// trees[r] is a spanning in-arborescence rooted at r using finite edges, of weight absolute[r].
void ExpectValidTrees(const Matrix& costs, const Energies& e) {
  const int p = static_cast<int>(costs.rows());
  ASSERT_EQ(static_cast<int>(e.trees.size()), p);
  for (int r = 0; r < p; ++r) {
    const std::vector<int>& tree = e.trees[r];
    if (std::isinf(e.absolute[r])) {
      EXPECT_TRUE(tree.empty()) << "root " << r;
      continue;
    }
    ASSERT_EQ(static_cast<int>(tree.size()), p) << "root " << r;
    EXPECT_EQ(tree[r], -1);
    double weight = 0.0;
    for (int j = 0; j < p; ++j) {
      if (j == r) continue;
      ASSERT_GE(tree[j], 0);
      ASSERT_LT(tree[j], p);
      ASSERT_NE(tree[j], j);
      ASSERT_TRUE(std::isfinite(costs(j, tree[j]))) << "root " << r << " uses a missing edge";
      weight += costs(j, tree[j]);
      int v = j;
      for (int steps = 0; steps < p && v != r; ++steps) v = tree[v];
      EXPECT_EQ(v, r) << "node " << j << " does not reach root " << r;
    }
    EXPECT_EQ(weight, e.absolute[r]) << "root " << r;  // same sum, same order: exactly equal
  }
}

// relative and ground_states follow from absolute by the documented rule.
void ExpectConsistent(const Energies& e, const EnergiesOptions& options = {}) {
  double min_energy = kInf, max_abs = 1.0;
  for (int i = 0; i < e.absolute.size(); ++i) {
    if (std::isfinite(e.absolute[i])) {
      min_energy = std::min(min_energy, e.absolute[i]);
      max_abs = std::max(max_abs, std::abs(e.absolute[i]));
    }
  }
  std::vector<int> ground;
  for (int i = 0; i < e.absolute.size(); ++i) {
    if (std::isinf(e.absolute[i])) {
      EXPECT_EQ(e.relative[i], kInf);
      continue;
    }
    EXPECT_EQ(e.relative[i], e.absolute[i] - min_energy);
    if (e.relative[i] <= options.tie_tolerance * max_abs) ground.push_back(i);
  }
  EXPECT_EQ(e.ground_states, ground);
}

void CheckAgainstBruteForce(int p, Kind kind, int trials, unsigned seed) {
  std::mt19937 rng(seed);
  for (int t = 0; t < trials; ++t) {
    const Matrix costs = RandomCosts(p, kind, rng);
    const Energies e = ComputeEnergies(costs);
    ASSERT_EQ(e.status.message(), "");
    ASSERT_EQ(e.absolute.size(), p);
    for (int r = 0; r < p; ++r) {
      const double expected = BruteForceEnergy(costs, r);
      if (std::isinf(expected)) {
        EXPECT_EQ(e.absolute[r], kInf) << "p = " << p << " trial " << t << " root " << r;
      } else {
        EXPECT_NEAR(e.absolute[r], expected, kBruteForce) << "p = " << p << " trial " << t << " root " << r;
      }
    }
    ExpectValidTrees(costs, e);
    ExpectConsistent(e);
    if (::testing::Test::HasFailure()) return;  // one counterexample is enough
  }
}

TEST(EnergiesTest, CompleteGraphsMatchBruteForce) {
  for (int p = 1; p <= 7; ++p) CheckAgainstBruteForce(p, Kind::kComplete, p <= 5 ? 300 : 25, 100 + p);
}

TEST(EnergiesTest, SparseGraphsWithZerosAndInfinitiesMatchBruteForce) {
  for (int p = 1; p <= 7; ++p) CheckAgainstBruteForce(p, Kind::kSparse, p <= 5 ? 400 : 40, 200 + p);
}

TEST(EnergiesTest, IntegerCostsWithTiesMatchBruteForce) {
  for (int p = 1; p <= 7; ++p) CheckAgainstBruteForce(p, Kind::kTies, p <= 5 ? 300 : 25, 300 + p);
}

TEST(EnergiesTest, LargerGraphsMatchTextbookEdmonds) {
  std::mt19937 rng(7);
  for (const Kind kind : {Kind::kComplete, Kind::kSparse, Kind::kTies}) {
    for (const int p : {20, 60}) {
      Matrix costs = RandomCosts(p, kind, rng);
      if (kind == Kind::kComplete) costs *= 10.0;  // costs up to 100
      const Energies e = ComputeEnergies(costs);
      ASSERT_EQ(e.status.message(), "");
      for (int r = 0; r < p; ++r) {
        const double expected = TextbookEdmonds(costs, r);
        if (std::isinf(expected)) {
          EXPECT_EQ(e.absolute[r], kInf) << "p = " << p << " root " << r;
        } else {
          EXPECT_NEAR(e.absolute[r], expected, kTextbook) << "p = " << p << " root " << r;
        }
      }
      ExpectValidTrees(costs, e);
      ExpectConsistent(e);
    }
  }
}

// Worked by hand (listing the 3 trees per root):
//   root 0: {1->0, 2->0} = 6, {1->0, 2->1} = 5.5, {1->2, 2->0} = 5      -> E_0 = 5
//   root 1: {0->1, 2->1} = 4.5, {0->1, 2->0} = 5, {0->2, 2->1} = 8.5    -> E_1 = 4.5
//   root 2: {0->2, 1->2} = 6, {0->1, 1->2} = 2, {0->2, 1->0} = 7        -> E_2 = 2
TEST(EnergiesTest, HandExample) {
  Matrix costs(3, 3);
  costs << 0, 1, 5,
           2, 0, 1,
           4, 3.5, 0;
  const Energies e = ComputeEnergies(costs);
  ASSERT_EQ(e.status.message(), "");
  EXPECT_EQ(e.absolute, Eigen::Vector3d(5, 4.5, 2));
  EXPECT_EQ(e.relative, Eigen::Vector3d(3, 2.5, 0));
  EXPECT_EQ(e.ground_states, std::vector<int>({2}));
  EXPECT_EQ(e.trees, (std::vector<std::vector<int>>{{-1, 2, 0}, {1, -1, 1}, {1, 2, -1}}));
}

TEST(EnergiesTest, EmptyGraph) {
  const Energies e = ComputeEnergies(Matrix(0, 0));
  EXPECT_EQ(e.status.message(), "");
  EXPECT_EQ(e.absolute.size(), 0);
  EXPECT_EQ(e.relative.size(), 0);
  EXPECT_TRUE(e.ground_states.empty());
  EXPECT_TRUE(e.trees.empty());
}

TEST(EnergiesTest, SingleNode) {
  const Energies e = ComputeEnergies(Matrix::Zero(1, 1));
  EXPECT_EQ(e.status.message(), "");
  EXPECT_EQ(e.absolute, Eigen::VectorXd::Zero(1));
  EXPECT_EQ(e.relative, Eigen::VectorXd::Zero(1));
  EXPECT_EQ(e.ground_states, std::vector<int>({0}));
  EXPECT_EQ(e.trees, (std::vector<std::vector<int>>{{-1}}));
}

TEST(EnergiesTest, TwoNodes) {
  Matrix costs(2, 2);
  costs << 0, 3, 1, 0;  // leaving 0 costs 3, leaving 1 costs 1: E_0 = B_10 = 1, E_1 = B_01 = 3
  Energies e = ComputeEnergies(costs);
  EXPECT_EQ(e.absolute, Eigen::Vector2d(1, 3));
  EXPECT_EQ(e.relative, Eigen::Vector2d(0, 2));
  EXPECT_EQ(e.ground_states, std::vector<int>({0}));
  EXPECT_EQ(e.trees, (std::vector<std::vector<int>>{{-1, 0}, {1, -1}}));

  costs(0, 1) = kInf;  // 0 can no longer reach 1
  e = ComputeEnergies(costs);
  EXPECT_EQ(e.absolute, Eigen::Vector2d(1, kInf));
  EXPECT_EQ(e.relative, Eigen::Vector2d(0, kInf));
  EXPECT_EQ(e.ground_states, std::vector<int>({0}));
  EXPECT_EQ(e.trees, (std::vector<std::vector<int>>{{-1, 0}, {}}));

  costs(1, 0) = kInf;  // two sinks: nothing is reachable from everywhere
  e = ComputeEnergies(costs);
  EXPECT_EQ(e.status.message(), "");
  EXPECT_EQ(e.absolute, Eigen::Vector2d(kInf, kInf));
  EXPECT_EQ(e.relative, Eigen::Vector2d(kInf, kInf));
  EXPECT_TRUE(e.ground_states.empty());
  EXPECT_EQ(e.trees, (std::vector<std::vector<int>>{{}, {}}));
}

TEST(EnergiesTest, UnreachableRootsAreInfinite) {
  // 0 <-> 1 is the sink component; 2 -> 0 and 3 -> 2, 3 -> 1 lead into it; nothing enters 3 and
  // nothing but 3 enters 2. Finite roots: 0 and 1 only.
  Matrix costs = Matrix::Constant(4, 4, kInf);
  costs.diagonal().setZero();
  costs(0, 1) = 2;
  costs(1, 0) = 1;
  costs(2, 0) = 5;
  costs(3, 2) = 0;
  costs(3, 1) = 4;
  const Energies e = ComputeEnergies(costs);
  // E_0 = B_10 + B_20 + B_32 = 1 + 5 + 0; E_1 = B_01 + B_20 + B_32 = 2 + 5 + 0.
  EXPECT_EQ(e.absolute, Eigen::Vector4d(6, 7, kInf, kInf));
  EXPECT_EQ(e.relative, Eigen::Vector4d(0, 1, kInf, kInf));
  EXPECT_EQ(e.ground_states, std::vector<int>({0}));
  EXPECT_EQ(e.trees[0], std::vector<int>({-1, 0, 0, 2}));
  EXPECT_EQ(e.trees[1], std::vector<int>({1, -1, 0, 2}));
  EXPECT_TRUE(e.trees[2].empty());
  EXPECT_TRUE(e.trees[3].empty());
  EXPECT_EQ(UniqueSinkComponent(MakeTransitionGraph(costs)), std::vector<int>({0, 1}));
}

TEST(EnergiesTest, ZeroCostCycleGivesEqualGroundStates) {
  // A zero-cost 3-cycle (a flat valley visited freely) and a node that leaves for it at cost 1 and
  // is reached at cost 2: the three cycle nodes tie at E = 1, node 3 has E = 2.
  Matrix costs(4, 4);
  costs << 0, 0, 9, 2,
           9, 0, 0, 2,
           0, 9, 0, 2,
           1, 1, 1, 0;
  const Energies e = ComputeEnergies(costs);
  EXPECT_EQ(e.absolute, Eigen::Vector4d(1, 1, 1, 2));
  EXPECT_EQ(e.ground_states, std::vector<int>({0, 1, 2}));
  ExpectValidTrees(costs, e);
}

TEST(EnergiesTest, GroundStateTiesFollowTheTolerance) {
  Matrix costs(2, 2);
  costs << 0, 1 + 1e-12, 1, 0;  // E = (1, 1 + 1e-12): a gap far below 1e-9 * max(1, |E|)
  EXPECT_EQ(ComputeEnergies(costs).ground_states, std::vector<int>({0, 1}));
  EnergiesOptions exact;
  exact.tie_tolerance = 0.0;
  EXPECT_EQ(ComputeEnergies(costs, exact).ground_states, std::vector<int>({0}));

  // Relative to the energy scale above 1: E = (1e6, 1e6 + 1e-4) tie at 1e-9 (1e-4 <= 1e-3).
  costs << 0, 1e6 + 1e-4, 1e6, 0;
  EXPECT_EQ(ComputeEnergies(costs).ground_states, std::vector<int>({0, 1}));
  costs << 0, 1e6 + 1e-2, 1e6, 0;  // 1e-2 > 1e-3: not a tie
  EXPECT_EQ(ComputeEnergies(costs).ground_states, std::vector<int>({0}));
}

TEST(EnergiesTest, InvalidInputComesBackAsError) {
  Matrix costs = Matrix::Zero(2, 2);
  costs(0, 1) = -1;
  Energies e = ComputeEnergies(costs);
  EXPECT_EQ(e.status.message(), "Invalid cost matrix: negative entry -1 at [0][1]");
  EXPECT_EQ(e.absolute.size(), 0);
  EXPECT_TRUE(e.trees.empty());

  EnergiesOptions options;
  options.tie_tolerance = -1;
  e = ComputeEnergies(Matrix::Zero(2, 2), options);
  EXPECT_EQ(e.status.message(),
            "Invalid configuration. EnergiesOptions::tie_tolerance = -1. Violated constraint: "
            "finite and >= 0");
}

TEST(ValidateCostMatrixTest, Messages) {
  EXPECT_EQ(ValidateCostMatrix(Matrix(0, 0)), "");
  EXPECT_EQ(ValidateCostMatrix(Matrix::Zero(2, 3)), "not square: 2x3");

  Matrix costs = Matrix::Zero(3, 3);
  costs(0, 2) = kInf;  // +inf off the diagonal: no transition, valid
  EXPECT_EQ(ValidateCostMatrix(costs), "");

  costs(1, 2) = std::nan("");
  EXPECT_EQ(ValidateCostMatrix(costs), "NaN at [1][2]");
  costs(1, 2) = -0.5;
  EXPECT_EQ(ValidateCostMatrix(costs), "negative entry -0.5 at [1][2]");
  costs(1, 2) = -kInf;
  EXPECT_EQ(ValidateCostMatrix(costs), "negative entry -inf at [1][2]");
  costs(1, 2) = 0.1;
  costs(2, 2) = 0.1;
  EXPECT_EQ(ValidateCostMatrix(costs), "nonzero diagonal entry 0.1 at [2][2]");
  costs(2, 2) = kInf;
  EXPECT_EQ(ValidateCostMatrix(costs), "nonzero diagonal entry inf at [2][2]");
  costs(1, 0) = std::nan("");  // the first offending entry in row-major order is named
  EXPECT_EQ(ValidateCostMatrix(costs), "NaN at [1][0]");
}

TEST(TransitionGraphTest, InfiniteCostsHaveNoEdge) {
  Matrix costs(3, 3);
  costs << 0, 1, kInf,
           0, 0, 2,
           kInf, kInf, 0;
  const TransitionGraph graph = MakeTransitionGraph(costs);
  EXPECT_EQ(boost::num_vertices(graph), 3u);
  EXPECT_EQ(boost::num_edges(graph), 3u);
  const auto [e, found] = boost::edge(1, 0, graph);
  ASSERT_TRUE(found);
  EXPECT_EQ(boost::get(boost::edge_weight, graph, e), 0.0);  // a zero cost is an edge
  EXPECT_FALSE(boost::edge(0, 2, graph).second);
  EXPECT_EQ(UniqueSinkComponent(graph), std::vector<int>({2}));
  EXPECT_TRUE(UniqueSinkComponent(MakeTransitionGraph(Matrix(0, 0))).empty());
}

}  // namespace
}  // namespace ldsgd
