// Freidlin's cycle hierarchy (graph/cycle_tree.h): on a hand-made chain its merge heights are the
// minimax barriers, and for isotropic Gaussian noise on himmelblau, muller_brown and
// three_hump_camel it is the disconnectivity graph of f scaled by 2 / sigma^2. The reference is
// built here independently: each index-1 saddle is followed down both sides of its unstable
// direction by steepest descent, and Kruskal's algorithm on those saddle edges gives the minimax
// barrier between every pair of minima.
#include "graph/cycle_tree.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <string>
#include <tuple>

#include <Eigen/Eigenvalues>
#include <gtest/gtest.h>

#include "graph/closure.h"
#include "solver/action/transition_costs.h"
#include "solver/landscape/critical_points.h"

namespace ldsgd {
namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

// Minimax barrier heights between the minima from saddle edges (a, b, f_s): Kruskal, merging by
// increasing saddle height; barrier(i, j) = the height at which i and j are first joined.
Eigen::MatrixXd Barriers(int p, std::vector<std::tuple<double, int, int>> edges) {
  std::sort(edges.begin(), edges.end());
  std::vector<int> group(p);
  std::iota(group.begin(), group.end(), 0);
  Eigen::MatrixXd barrier = Eigen::MatrixXd::Constant(p, p, kInf);
  for (const auto& [h, a, b] : edges) {
    const int ga = group[a], gb = group[b];
    if (ga == gb) continue;
    for (int i = 0; i < p; ++i) {
      for (int j = 0; j < p; ++j) {
        if (group[i] == ga && group[j] == gb) barrier(i, j) = barrier(j, i) = h;
      }
    }
    for (int& g : group) g = g == gb ? ga : g;
  }
  return barrier;
}

// A 1-D landscape as a chain: minima with values m_k, barriers s_k between m_k and m_{k+1};
// B_ij = 2 (s - m_i) / sigma^2 to a neighbour, closed by sums. The merge heights must be the
// minimax barriers 2 (s - min m) / sigma^2.
TEST(CycleTree, ChainMergesAtTheMinimaxBarriers) {
  const std::vector<double> m = {0.3, 0.0, 0.5, -0.2, 0.4}, s = {1.0, 0.8, 1.6, 0.9};
  const int p = static_cast<int>(m.size());
  const double sigma = 1.0, scale = 2 / (sigma * sigma);
  Eigen::MatrixXd b = Eigen::MatrixXd::Constant(p, p, kInf);
  std::vector<std::tuple<double, int, int>> edges;
  for (int k = 0; k < p; ++k) b(k, k) = 0;
  for (int k = 0; k + 1 < p; ++k) {
    b(k, k + 1) = scale * (s[k] - m[k]);
    b(k + 1, k) = scale * (s[k] - m[k + 1]);
    edges.emplace_back(s[k], k, k + 1);
  }
  const CycleTree tree = BuildCycleTree(ShortestPathClosure(b));
  ASSERT_TRUE(tree.status.ok()) << tree.status.message();
  const Eigen::MatrixXd barrier = Barriers(p, edges);
  const double low = *std::min_element(m.begin(), m.end());
  for (int i = 0; i < p; ++i) {
    EXPECT_NEAR(tree.nodes[i].height, scale * (m[i] - low), 1e-12);
    for (int j = i + 1; j < p; ++j) EXPECT_NEAR(MergeHeight(tree, i, j), scale * (barrier(i, j) - low), 1e-12) << i << " " << j;
  }
  ASSERT_EQ(tree.roots.size(), 1u);
  EXPECT_EQ(tree.nodes[tree.roots[0]].members.size(), static_cast<std::size_t>(p));
}

// Steepest descent (small normalized steps, then plain gradient steps) to the nearest minimum.
int DescendTo(const Objective& f, Eigen::VectorXd x, const std::vector<CriticalComponent>& c) {
  for (int it = 0; it < 200000; ++it) {
    const Eigen::VectorXd g = f.Gradient(x);
    if (g.norm() < 1e-9) break;
    x -= std::min(1e-3 / g.norm(), 1e-2) * g;
  }
  int best = -1;
  for (std::size_t k = 0; k < c.size(); ++k) {
    if (c[k].type != CriticalType::kMinimum) continue;
    if (best < 0 || (c[k].point - x).norm() < (c[best].point - x).norm()) best = static_cast<int>(k);
  }
  EXPECT_LT((c[best].point - x).norm(), 1e-3) << "descent ended away from every minimum";
  return best;
}

class CycleTreeData : public ::testing::TestWithParam<std::string> {};

TEST_P(CycleTreeData, IsTheDisconnectivityGraphScaled) {
  const Problem problem = LoadProblem(std::string(LDSGD_DATA_DIR) + "/" + GetParam());
  ASSERT_TRUE(problem.noise.is_isotropic());
  const double scale = 2 / (problem.noise.sigma() * problem.noise.sigma());
  const std::vector<CriticalComponent> c = CriticalPointFinder({}).Find(*problem.objective, problem.domain, nullptr);
  const TransitionCosts costs = TransitionCostSolver({}).Solve(problem, c, nullptr);
  const CycleTree tree = BuildCycleTree(costs.costs);
  ASSERT_TRUE(tree.status.ok()) << tree.status.message();
  const int p = static_cast<int>(c.size());
  std::vector<std::tuple<double, int, int>> edges;
  double low = kInf;
  for (int k = 0; k < p; ++k) {
    if (c[k].type == CriticalType::kMinimum) low = std::min(low, c[k].f);
    if (c[k].type != CriticalType::kSaddle || c[k].index != 1) continue;
    const Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> h(problem.objective->Hessian(c[k].point));
    const Eigen::VectorXd v = h.eigenvectors().col(0);  // the unstable direction
    edges.emplace_back(c[k].f, DescendTo(*problem.objective, c[k].point + 1e-4 * v, c),
                       DescendTo(*problem.objective, c[k].point - 1e-4 * v, c));
  }
  const Eigen::MatrixXd barrier = Barriers(p, edges);
  // The costs carry the action solver's error (its estimate is ~1e-4 relative on these
  // problems); 1e-3 relative to the barrier plus 1e-6 covers it with margin.
  for (int i = 0; i < p; ++i) {
    if (c[i].type != CriticalType::kMinimum) continue;
    EXPECT_NEAR(tree.nodes[i].height, scale * (c[i].f - low), 1e-3 * scale * (c[i].f - low) + 1e-6);
    for (int j = i + 1; j < p; ++j) {
      if (c[j].type != CriticalType::kMinimum) continue;
      const double expected = scale * (barrier(i, j) - low);
      EXPECT_NEAR(MergeHeight(tree, i, j), expected, 1e-3 * expected + 1e-6) << GetParam() << ": minima " << i << ", " << j;
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Isotropic, CycleTreeData,
                         ::testing::Values("himmelblau.json", "muller_brown.json", "three_hump_camel.json"),
                         [](const ::testing::TestParamInfo<std::string>& file) { return file.param.substr(0, file.param.find('.')); });

}  // namespace
}  // namespace ldsgd
