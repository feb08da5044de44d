// The exponential order of mean hitting times on the chain of transition costs (THEORY.md section
// 10; Azizian, Iutzeler, Malick and Mertikopoulos, ICML 2025): for a chain with P(a, b) ~
// exp(-V(a, b) / eta) and a target set W (the global minima, K_0), eta log E_i tau_W -> E(i).
//
// Freidlin and Wentzell (ch. 6, lemma 3.4) give E_i tau_W exactly as a ratio of sums over W-graphs
// (every node outside W has one arrow, no cycles), so that
//
//   E(i) = E_0 - E(i -/-> W),  E_0 = min over W-graphs g of V(g),
//   E(i -/-> W) = min over j not in W of min over (W u {j})-graphs in which i leads to j,
//
// with V(g) the sum of V over g's arrows. The same limit follows from eliminating states one at a
// time (the graph transformation of Trygubenko and Wales, the GTH reduction of Grassmann, Taksar and
// Heyman): removing x turns P(a, b) into P(a, b) + P(a, x) P(x, b) / sum_{c != x} P(x, c) and the
// mean time per visit tau(a) into tau(a) + P(a, x) tau(x) / sum_{c != x} P(x, c). Every quantity is a
// sum of products of positive terms, so nothing cancels and in the limit each becomes its min-plus
// (tropical) counterpart exactly:
//
//   V(a, b) <- min(V(a, b), V(a, x) + V(x, b) - out(x)),  out(x) = min_{c != x} V(x, c),
//   T(a)    <- max(T(a), T(x) + out(x) - V(a, x)),        T = eta log tau, initially 0,
//
// and once only i and W remain, E(i) = T(i) + V(i, W). O(p^3) per node, O(p^4) in all.
#ifndef LDSGD_GRAPH_HITTING_TIMES_H_
#define LDSGD_GRAPH_HITTING_TIMES_H_

#include <vector>

#include <Eigen/Core>

#include "solver/io/status.h"

namespace ldsgd {

struct HittingExponents {
  // E(i): 0 on the targets; +inf for a node from which a node that cannot reach the targets is
  // reachable at finite cost (the chain can be trapped: the mean time is infinite).
  Eigen::VectorXd exponent;
  double tree_energy = 0.0;          // E_0 (+inf if some node cannot reach the targets)
  Eigen::VectorXd forest_energy;     // E(i -/-> W) = E_0 - E(i); E_0 on the targets; +inf where E(i) = +inf
  Status status;                     // kInvalidInput: the matrix or the targets, nothing set
};

// `costs` must pass ValidateCostMatrix (transition_graph.h); `targets` is a non-empty set of
// distinct node ids. Deterministic: the elimination order is ascending node id.
HittingExponents ComputeHittingExponents(const Eigen::MatrixXd& costs, const std::vector<int>& targets);

}  // namespace ldsgd

#endif  // LDSGD_GRAPH_HITTING_TIMES_H_
