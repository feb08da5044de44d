// A planted high-dimensional landscape whose critical points and transition costs are known in
// closed form (issue 18's discovery test): Himmelblau in two rotated coordinates plus d - 2 stiff
// quadratics, f(x) = H(y_1, y_2) + sum_{k>=3} c_k y_k^2 / 2 with y = Q x, Q a fixed random orthogonal
// matrix. Its critical points are Q^T (p, 0, ..., 0) for Himmelblau's critical points p (the
// quadratics vanish only at y_k = 0), with the same f; Himmelblau's maximum becomes an index-2
// saddle. Under isotropic Gaussian noise the quasi-potential is 2 f / sigma^2 whatever Q (THEORY.md
// section 4, gradient case), so every B_ij equals the 2-D value of THEORY.md case 4.
#ifndef LDSGD_SOLVER_OBJECTIVE_PLANTED_H_
#define LDSGD_SOLVER_OBJECTIVE_PLANTED_H_

#include <cstdint>
#include <string>

#include <Eigen/Core>

#include "solver/objective/objective.h"

namespace ldsgd {

// Q: the orthogonal factor of the QR decomposition of a d x d matrix of standard normals drawn
// from Philox keyed by `seed` (columns sign-fixed by R's diagonal, so Q is Haar distributed and
// reproducible: the draws are bit-identical everywhere, the QR's last bits may vary with the
// compiler's vectorization).
Eigen::MatrixXd PlantedRotation(int d, std::uint64_t seed);

// c_k, k = 3..d: geometric from c_min to c_max (one value, c_min, when d = 3).
Eigen::VectorXd PlantedCurvatures(int d, double c_min, double c_max);

class PlantedHimmelblau final : public Objective {
 public:
  PlantedHimmelblau(int d, std::uint64_t seed, double c_min, double c_max);
  int dimension() const override { return static_cast<int>(q_.rows()); }
  std::string Describe() const override;
  double Value(const double* x) const override;
  double Gradient(const double* x, double* gradient) const override;
  double Hessian(const double* x, double* gradient, double* hessian) const override;
  // The point Q^T (y_1, y_2, 0, ..., 0): a Himmelblau point planted in R^d.
  Eigen::VectorXd Plant(double y1, double y2) const;
  const Eigen::MatrixXd& rotation() const { return q_; }
  const Eigen::VectorXd& curvatures() const { return c_; }

 private:
  Eigen::MatrixXd q_;  // y = q_ x
  Eigen::VectorXd c_;  // curvatures of y_3 .. y_d
  Eigen::MatrixXd quadratic_;  // Q^T diag(0, 0, c) Q, the Hessian of the quadratics
  std::uint64_t seed_;
};

}  // namespace ldsgd

#endif  // LDSGD_SOLVER_OBJECTIVE_PLANTED_H_
