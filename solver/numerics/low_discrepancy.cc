#include "solver/numerics/low_discrepancy.h"

#include <cmath>

namespace ldsgd {

Eigen::VectorXd KroneckerPoint(int dimension, long k) {
  // phi_d by fixed-point iteration x <- (1 + x)^(1/(d+1)), a contraction on [1, 2].
  double phi = 2.0;
  for (int it = 0; it < 64; ++it) phi = std::pow(1.0 + phi, 1.0 / (dimension + 1));
  Eigen::VectorXd u(dimension);
  double alpha = 1.0;
  for (int i = 0; i < dimension; ++i) {
    alpha /= phi;
    // fmod of a product of a long and a double: exact enough for k < 2^40 at double precision.
    const double v = 0.5 + alpha * static_cast<double>(k);
    u[i] = v - std::floor(v);
  }
  return u;
}

}  // namespace ldsgd
