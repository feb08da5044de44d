// The transition graph of THEORY.md section 5: one node per critical component, an edge i -> j
// weighted by the transition cost B_ij for every finite off-diagonal cost. graph/ knows nothing of
// objectives: it starts from the cost matrix.
#ifndef LDSGD_GRAPH_TRANSITION_GRAPH_H_
#define LDSGD_GRAPH_TRANSITION_GRAPH_H_

#include <string>
#include <vector>

#include <Eigen/Core>
#include <boost/graph/adjacency_list.hpp>

namespace ldsgd {

using TransitionGraph =
    boost::adjacency_list<boost::vecS, boost::vecS, boost::directedS, boost::no_property,
                          boost::property<boost::edge_weight_t, double>>;

// "" when `costs` is a valid cost matrix, else one short line naming the first offending position
// (row-major order): "not square: 2x3", "NaN at [i][j]", "negative entry -1 at [i][j]",
// "nonzero diagonal entry 0.5 at [i][i]". Valid: square, no NaN, every entry >= 0 (+inf allowed
// off the diagonal: no transition; -inf counts as negative), zero diagonal.
// Finite costs above kMaxFiniteCost are refused: a tree sums up to p - 1 of them, and 1e308 + 1e308
// is +inf, which would read as "unreachable". No action a solver computes comes near it.
inline constexpr double kMaxFiniteCost = 1e300;
std::string ValidateCostMatrix(const Eigen::MatrixXd& costs);

// Edges i -> j (i != j) with weight B_ij for every finite B_ij; +inf costs have no edge.
// Out-edges of each node are in increasing target order. Precondition: ValidateCostMatrix is ""
// (otherwise: NaN entries get no edge, and only columns < rows() are read, never out of range).
TransitionGraph MakeTransitionGraph(const Eigen::MatrixXd& costs);

// The nodes that every node can reach, in ascending order: the roots with finite energy. Every node
// reaches r iff every strongly connected component reaches r's component in the condensation (a
// DAG); such a component can have no edge out of it (the component it leads to would have to reach
// it back), so it is a sink, and since every component reaches some sink, it must be the only sink.
// Hence: the unique sink component if there is exactly one, else nothing (p = 0 included).
std::vector<int> UniqueSinkComponent(const TransitionGraph& graph);

}  // namespace ldsgd

#endif  // LDSGD_GRAPH_TRANSITION_GRAPH_H_
