// The finite-eta cross-check of THEORY.md section 5: the Markov chain induced on the components,
// P_ij = exp(-B_ij / eta) / p for i != j (0 where B_ij = +inf), P_ii = 1 - sum_{j != i} P_ij.
// By the Markov chain tree theorem pi_i is proportional to sum over in-arborescences T rooted at i
// of prod_{e in T} P_e, so -eta log pi_i -> E_i - min_j E_j as eta -> 0 (graph/energies.h).
#ifndef LDSGD_GRAPH_INDUCED_CHAIN_H_
#define LDSGD_GRAPH_INDUCED_CHAIN_H_

#include <Eigen/Core>

namespace ldsgd {

// log pi, the stationary distribution of the induced chain, computed entirely in log space (GTH
// state reduction with log-sum-exp): no underflow however small eta, since every quantity is a
// log of a sum of positive terms and no subtraction ever occurs. O(p^3).
// pi is unique iff one closed class exists (the unique sink component of the transition graph);
// nodes outside it get log pi = -inf. With several closed classes (or invalid costs, or eta not
// finite and > 0) there is no unique answer and every entry is NaN. p = 0: an empty vector.
Eigen::VectorXd StationaryLogDistribution(const Eigen::MatrixXd& costs, double eta);

}  // namespace ldsgd

#endif  // LDSGD_GRAPH_INDUCED_CHAIN_H_
