// Space-filling point sets for multi-start searches.
#ifndef LDSGD_SOLVER_NUMERICS_LOW_DISCREPANCY_H_
#define LDSGD_SOLVER_NUMERICS_LOW_DISCREPANCY_H_

#include <Eigen/Core>

namespace ldsgd {

// Point k (k >= 0) of the Kronecker (additive recurrence) sequence of Roberts (2018) in [0,1)^d:
// frac(0.5 + k * alpha), alpha_i = phi_d^-(i+1), phi_d the unique positive root of x^(d+1) = x + 1.
// Unlike Halton or Sobol it needs no tables, has low discrepancy in every dimension, and any prefix
// of it is evenly spread, so the number of starts can be chosen freely.
Eigen::VectorXd KroneckerPoint(int dimension, long k);

}  // namespace ldsgd

#endif  // LDSGD_SOLVER_NUMERICS_LOW_DISCREPANCY_H_
