// Freidlin's hierarchy of cycles (Freidlin and Wentzell, Random Perturbations of Dynamical
// Systems, ch. 6, section 6), built from a transition-cost matrix B: which groups of components the
// chain treats as one at each time scale, and the cost to leave each group.
//
// Level 0: every node is a cycle. At each level every cycle C points to the cycle holding its
// cheapest exit target j(C) (ties: the lowest node id); the loops of this graph (each cycle has
// one outgoing edge) are the next level's cycles, and every cycle on no loop is carried up alone.
// The exit cost of a cycle (FW ch. 6, lemma 6.2: the exponential order of its exit time) is
//
//   R(C) = min_{i in C, j not in C} [E^C_i - min_{k in C} E^C_k + B_ij],
//
// E^C the energies within C (minimum spanning in-arborescences on B restricted to C). A cycle
// with no finite exit is a root. Heights for drawing: a leaf sits at its global relative energy
// E_i; a cycle leaves at E(bottom of C) + R(C) (its exit height), and a cycle's node sits where
// its children join, the largest of their exit heights. For isotropic
// Gaussian noise sigma^2 I, B between neighbouring minima is 2 (f_saddle - f_i) / sigma^2 and the
// energies are 2 (f_i - f_min) / sigma^2, so the heights are those of the disconnectivity graph of
// f (Becker and Karplus; Wales), scaled by 2 / sigma^2: the merge height of two minima is the
// lowest saddle that connects them.
#ifndef LDSGD_GRAPH_CYCLE_TREE_H_
#define LDSGD_GRAPH_CYCLE_TREE_H_

#include <vector>

#include <Eigen/Core>

#include "solver/io/status.h"

namespace ldsgd {

struct CycleNode {
  std::vector<int> members;   // the components in the cycle, ascending
  std::vector<int> children;  // indices into CycleTree::nodes (empty for a leaf)
  int parent = -1;            // -1 for a root
  int level = 0;              // 0 for a leaf
  int bottom = -1;            // the member with the least energy (lowest id among ties)
  double exit_cost = 0.0;     // R(C); +inf for a root
  int exit_to = -1;           // the component of the cheapest exit (-1 for a root)
  double exit_height = 0.0;   // E(bottom) + R(C): where the cycle joins its parent (+inf for a root)
  double height = 0.0;        // where the node is drawn: E_i for a leaf; for a cycle, where its
                              // children join, the largest of their exit heights
};

struct CycleTree {
  std::vector<CycleNode> nodes;  // leaves first (node i is component i), then by level
  std::vector<int> roots;
  Status status;
};

// `costs` must pass ValidateCostMatrix; nodes with an infinite energy are kept as leaves that may
// never merge (their height is +inf).
CycleTree BuildCycleTree(const Eigen::MatrixXd& costs);

// The height at which two leaves first share a cycle (+inf when they never do).
double MergeHeight(const CycleTree& tree, int a, int b);

}  // namespace ldsgd

#endif  // LDSGD_GRAPH_CYCLE_TREE_H_
