#include "graph/closure.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include <boost/graph/floyd_warshall_shortest.hpp>

#include "graph/transition_graph.h"

namespace ldsgd {
namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

// Equal up to the rounding of a sum of a few costs. Never for +inf: a hop from a component that i
// cannot reach is no hop (|inf - b| <= inf would take it).
bool Near(double a, double b) {
  return std::isfinite(a) && std::isfinite(b) && std::abs(a - b) <= 1e-12 * std::max({1.0, std::abs(a), std::abs(b)});
}

}  // namespace

// GCC 12 reports a false -Wmaybe-uninitialized inside Boost's edge iterators here.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
Eigen::MatrixXd ShortestPathClosure(const Eigen::MatrixXd& edges) {
  const int p = static_cast<int>(edges.rows());
  const TransitionGraph g = MakeTransitionGraph(edges);
  std::vector<std::vector<double>> d(p, std::vector<double>(p));
  boost::floyd_warshall_all_pairs_shortest_paths(
      g, d, boost::distance_inf(kInf).distance_zero(0.0));
  Eigen::MatrixXd out(p, p);
  for (int i = 0; i < p; ++i) {
    for (int j = 0; j < p; ++j) out(i, j) = i == j ? 0.0 : d[i][j];
  }
  return out;
}
#pragma GCC diagnostic pop

std::vector<int> ClosureRoute(const Eigen::MatrixXd& edges, const Eigen::MatrixXd& closed, int i, int j) {
  std::vector<int> reversed = {j};
  std::vector<bool> seen(edges.rows(), false);
  seen[j] = true;
  int current = j;
  while (current != i) {
    int hop = -1;
    if (std::isfinite(edges(i, current)) && Near(edges(i, current), closed(i, current))) {
      hop = i;
    } else {
      for (int k = 0; k < edges.rows(); ++k) {
        if (k == i || seen[k] || !std::isfinite(edges(k, current))) continue;
        if (Near(closed(i, k) + edges(k, current), closed(i, current))) {
          hop = k;
          break;
        }
      }
    }
    if (hop < 0) return {};  // cannot happen for a consistent closure
    seen[hop] = true;
    reversed.push_back(hop);
    current = hop;
  }
  return {reversed.rbegin(), reversed.rend()};
}

}  // namespace ldsgd
