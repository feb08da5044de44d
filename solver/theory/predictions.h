// Finite-eta predictions from the energies (THEORY.md section 6): leading-order log-weights
// -(E_i - E_min)/eta for each step size, and for isotropic Gaussian noise the Laplace-corrected
// masses of the nondegenerate minima, mu_i ~ exp(-2 f_i/(eta sigma^2)) (pi eta sigma^2)^(d/2)
// det(Hess f(x_i))^(-1/2). Also the stability bound eta < 2 / lambda_max over the minima.
#ifndef LDSGD_SOLVER_THEORY_PREDICTIONS_H_
#define LDSGD_SOLVER_THEORY_PREDICTIONS_H_

#include <string>
#include <vector>

#include <Eigen/Core>

#include "solver/landscape/critical_points.h"
#include "solver/problem/problem.h"

namespace ldsgd {

struct StepSizePrediction {
  double step_size = 0.0;
  // -(E_i - E_min) / eta: log of mu(U_i) / mu(U_ground) to leading order (-inf where E_i = +inf).
  Eigen::VectorXd log_weight;
  // exp(log_weight) normalized over all components: the leading-order long-run distribution.
  Eigen::VectorXd weight;
  // Isotropic Gaussian noise only: Laplace-corrected masses of the nondegenerate isolated minima,
  // normalized over them; NaN for every other component, and empty for other noise.
  Eigen::VectorXd laplace_mass;
  // eta < stability bound: the chain behaves like SGD near every minimum.
  bool stable = true;
};

struct Predictions {
  std::vector<StepSizePrediction> steps;
  // 2 / (largest Hessian eigenvalue over the minima); +inf when no minimum curves.
  double stability_bound = 0.0;
  // Why a part is missing (e.g. "no Laplace masses: the noise is not isotropic").
  std::vector<std::string> notes;
};

// `relative_energies` are E_i - E_min per component (+inf allowed), in component order.
Predictions Predict(const Problem& problem, const std::vector<CriticalComponent>& components,
                    const Eigen::VectorXd& relative_energies, const std::vector<double>& step_sizes);

}  // namespace ldsgd

#endif  // LDSGD_SOLVER_THEORY_PREDICTIONS_H_
