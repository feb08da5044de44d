// Shortest-path closure of a cost matrix (THEORY.md section 4): B_ij <= B_ik + B_kj, so the cost
// of a pair is the cheapest route through other components when that beats the direct path.
// graph/ knows nothing of objectives: this takes edge weights and gives closed costs and routes.
#ifndef LDSGD_GRAPH_CLOSURE_H_
#define LDSGD_GRAPH_CLOSURE_H_

#include <vector>

#include <Eigen/Core>

namespace ldsgd {

// All-pairs shortest paths (Floyd-Warshall on Boost.Graph) over the edges i -> j with finite
// edges(i, j), i != j; +inf = no edge. The result has a zero diagonal and +inf where j is
// unreachable from i.
Eigen::MatrixXd ShortestPathClosure(const Eigen::MatrixXd& edges);

// The route i -> ... -> j realizing closed(i, j) through `edges`: each hop k -> m is an edge with
// closed(i, k) + edges(k, m) = closed(i, m) to a relative 1e-12; lowest k first, for determinism.
// Empty if closed(i, j) is not consistent with `edges` (cannot happen for their closure).
std::vector<int> ClosureRoute(const Eigen::MatrixXd& edges, const Eigen::MatrixXd& closed, int i, int j);

}  // namespace ldsgd

#endif  // LDSGD_GRAPH_CLOSURE_H_
