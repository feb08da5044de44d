// Reference energies for tests (THEORY.md section 5), independent of graph/energies.cc: brute-force
// enumeration of every successor function (p <= 7 or so), and a textbook per-root Chu-Liu/Edmonds.
#ifndef LDSGD_TESTS_ARBORESCENCE_REFERENCE_H_
#define LDSGD_TESTS_ARBORESCENCE_REFERENCE_H_

#include <cmath>
#include <limits>
#include <utility>
#include <vector>

#include <Eigen/Core>

namespace ldsgd::test {

// The minimum weight of a spanning in-arborescence rooted at `root`, by enumerating every successor
// function (each j != root picks a node with a finite cost) and keeping those in which every node
// reaches the root. +inf if there is none. Independent of the kernel in every respect.
inline double BruteForceEnergy(const Eigen::MatrixXd& costs, int root) {
  const int p = static_cast<int>(costs.rows());
  std::vector<int> successor(p, 0);
  double best = std::numeric_limits<double>::infinity();
  // Odometer over successor[j] in {0..p-1}, j != root; the root's digit is fixed at -1.
  for (int j = 0; j < p; ++j) successor[j] = j == root ? -1 : 0;
  for (;;) {
    bool usable = true;
    double weight = 0.0;
    for (int j = 0; j < p && usable; ++j) {
      if (j == root) continue;
      if (successor[j] == j || std::isinf(costs(j, successor[j]))) usable = false;
      else weight += costs(j, successor[j]);
    }
    if (usable && weight < best) {
      bool tree = true;
      for (int j = 0; j < p && tree; ++j) {
        int v = j;
        for (int steps = 0; steps < p && v != root; ++steps) v = successor[v];
        tree = v == root;
      }
      if (tree) best = weight;
    }
    int digit = 0;
    for (; digit < p; ++digit) {
      if (digit == root) continue;
      if (++successor[digit] < p) break;
      successor[digit] = 0;
    }
    if (digit == p) return best;
  }
}

// The textbook O(p^3)-per-root Chu-Liu/Edmonds for one root (every node but the root takes its
// cheapest outgoing edge; contract each cycle, reducing the costs of edges leaving it; repeat).
// Value only. Written independently of the kernel (no heaps, no contraction forest).
inline double TextbookEdmonds(const Eigen::MatrixXd& costs, int root) {
  struct Edge { int from, to; double w; };
  std::vector<Edge> edges;
  int n = static_cast<int>(costs.rows());
  for (int i = 0; i < n; ++i) {
    for (int j = 0; j < n; ++j) {
      if (i != j && std::isfinite(costs(i, j))) edges.push_back({i, j, costs(i, j)});
    }
  }
  double total = 0.0;
  for (;;) {
    std::vector<double> cheapest(n, std::numeric_limits<double>::infinity());
    std::vector<int> to(n, -1);
    for (const Edge& e : edges) {
      if (e.from != e.to && e.w < cheapest[e.from]) {
        cheapest[e.from] = e.w;
        to[e.from] = e.to;
      }
    }
    for (int v = 0; v < n; ++v) {
      if (v != root && to[v] < 0) return std::numeric_limits<double>::infinity();
    }
    cheapest[root] = 0.0;
    std::vector<int> id(n, -1), seen(n, -1);
    int count = 0;
    for (int v = 0; v < n; ++v) {
      total += cheapest[v];
      int u = v;
      while (seen[u] != v && id[u] == -1 && u != root) {
        seen[u] = v;
        u = to[u];
      }
      if (u != root && id[u] == -1) {  // u lies on a new cycle
        for (int x = to[u]; x != u; x = to[x]) id[x] = count;
        id[u] = count++;
      }
    }
    if (count == 0) return total;
    for (int v = 0; v < n; ++v) {
      if (id[v] == -1) id[v] = count++;
    }
    std::vector<Edge> next;
    for (const Edge& e : edges) {
      if (id[e.from] != id[e.to]) next.push_back({id[e.from], id[e.to], e.w - cheapest[e.from]});
    }
    edges = std::move(next);
    n = count;
    root = id[root];
  }
}

}  // namespace ldsgd::test

#endif  // LDSGD_TESTS_ARBORESCENCE_REFERENCE_H_
