// The shortest-path closure of THEORY.md section 4 (B_ij <= B_ik + B_kj) against a brute force
// over every simple route, and the routes it reports.
#include "graph/closure.h"

#include <algorithm>
#include <cmath>
#include <functional>
#include <limits>
#include <random>
#include <vector>

#include <gtest/gtest.h>

namespace ldsgd {
namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();
// Sums of at most p costs of order 1 in a different order: a few ulps apart.
constexpr double kRounding = 1e-12;

// The cheapest simple route i -> j by depth-first enumeration (p! routes at most; p <= 6 here).
double BruteForce(const Eigen::MatrixXd& edges, int i, int j) {
  const int p = static_cast<int>(edges.rows());
  double best = kInf;
  std::vector<bool> seen(p, false);
  std::function<void(int, double)> walk = [&](int at, double cost) {
    if (at == j) {
      best = std::min(best, cost);
      return;
    }
    seen[at] = true;
    for (int k = 0; k < p; ++k) {
      if (!seen[k] && k != at && std::isfinite(edges(at, k))) walk(k, cost + edges(at, k));
    }
    seen[at] = false;
  };
  walk(i, 0.0);
  return best;
}

Eigen::MatrixXd RandomEdges(int p, std::mt19937& rng) {
  std::uniform_real_distribution<double> cost(0.0, 3.0), coin(0.0, 1.0);
  Eigen::MatrixXd e(p, p);
  for (int i = 0; i < p; ++i) {
    for (int j = 0; j < p; ++j) e(i, j) = i == j ? 0.0 : (coin(rng) < 0.3 ? kInf : cost(rng));
  }
  return e;
}

TEST(Closure, EqualsTheCheapestRouteOnRandomGraphs) {
  std::mt19937 rng(7);
  for (int trial = 0; trial < 200; ++trial) {
    const int p = 2 + trial % 5;
    const Eigen::MatrixXd edges = RandomEdges(p, rng);
    const Eigen::MatrixXd closed = ShortestPathClosure(edges);
    for (int i = 0; i < p; ++i) {
      for (int j = 0; j < p; ++j) {
        if (i == j) {
          EXPECT_EQ(closed(i, j), 0.0);
          continue;
        }
        const double expected = BruteForce(edges, i, j);
        if (std::isinf(expected)) {
          EXPECT_TRUE(std::isinf(closed(i, j))) << trial << ": " << i << "->" << j;
        } else {
          EXPECT_NEAR(closed(i, j), expected, kRounding) << trial << ": " << i << "->" << j;
        }
      }
    }
  }
}

TEST(Closure, RouteRealizesTheClosedCost) {
  std::mt19937 rng(11);
  for (int trial = 0; trial < 100; ++trial) {
    const int p = 3 + trial % 4;
    const Eigen::MatrixXd edges = RandomEdges(p, rng);
    const Eigen::MatrixXd closed = ShortestPathClosure(edges);
    for (int i = 0; i < p; ++i) {
      for (int j = 0; j < p; ++j) {
        if (i == j || std::isinf(closed(i, j))) continue;
        const std::vector<int> route = ClosureRoute(edges, closed, i, j);
        ASSERT_GE(route.size(), 2u);
        EXPECT_EQ(route.front(), i);
        EXPECT_EQ(route.back(), j);
        double sum = 0.0;
        for (std::size_t k = 0; k + 1 < route.size(); ++k) sum += edges(route[k], route[k + 1]);
        EXPECT_NEAR(sum, closed(i, j), kRounding);
      }
    }
  }
}

TEST(Closure, UnreachableStaysInfinite) {
  Eigen::MatrixXd edges(3, 3);
  edges << 0, 1, kInf, kInf, 0, kInf, kInf, 2, 0;
  const Eigen::MatrixXd closed = ShortestPathClosure(edges);
  EXPECT_TRUE(std::isinf(closed(0, 2)));
  EXPECT_TRUE(std::isinf(closed(1, 0)));
  EXPECT_EQ(closed(2, 1), 2.0);
  EXPECT_EQ(closed(0, 1), 1.0);
}

}  // namespace
}  // namespace ldsgd
