// Energies of the transition graph (THEORY.md section 5): E_i = the minimum weight of a spanning
// in-arborescence rooted at i (every other node has one outgoing edge, all paths lead to i), the
// ground states argmin E, and each root's optimal tree.
#ifndef LDSGD_GRAPH_ENERGIES_H_
#define LDSGD_GRAPH_ENERGIES_H_

#include <string>
#include <vector>

#include <Eigen/Core>

#include "solver/io/status.h"

namespace ldsgd {

struct EnergiesOptions {
  // Ground-state ties. Node i is a ground state iff E_i is finite and
  //   E_i - E_min <= tie_tolerance * max(1, max_j |E_j|)   (max over the finite E_j),
  // i.e. relative to the largest finite energy, absolute below 1. Default 1e-9: well above the
  // rounding of a sum of p costs (~p * 1e-16 relative), well below any physically distinct gap.
  // 0 keeps only the exact minimisers. Must be finite and >= 0.
  double tie_tolerance = 1e-9;
};

struct Energies {
  Eigen::VectorXd absolute;  // E_i, +inf where some node cannot reach i
  Eigen::VectorXd relative;  // E_i - min_j E_j (+inf stays +inf); all +inf if every E is +inf
  std::vector<int> ground_states;  // ascending ids; empty when every E is +inf
  // trees[i][j] = the node j moves to in root i's optimal in-arborescence; -1 for j == i, and the
  // whole row empty when E_i = +inf. absolute[i] is exactly the sum of costs(j, trees[i][j]).
  std::vector<std::vector<int>> trees;
  // ok, or kInvalidInput (cost matrix) / kInvalidOptions saying why nothing was computed; the other
  // fields are empty. The kernel never throws.
  Status status;
};

// All roots at once: one rootless Edmonds/Tarjan contraction, O(m log p) for m finite costs, then
// each finite root's tree by expansion of the contraction forest, O(p) per root. O(p^2 log p)
// worst case for a dense p x p matrix. `costs` must pass ValidateCostMatrix (else `error` is set).
Energies ComputeEnergies(const Eigen::MatrixXd& costs, const EnergiesOptions& options = {});

}  // namespace ldsgd

#endif  // LDSGD_GRAPH_ENERGIES_H_
