#include "solver/theory/predictions.h"

#include <cmath>
#include <limits>

namespace ldsgd {
namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

// Normalizes log-weights into probabilities without overflow (log-sum-exp); -inf entries get 0.
Eigen::VectorXd Normalize(const Eigen::VectorXd& log_w) {
  Eigen::VectorXd w = Eigen::VectorXd::Zero(log_w.size());
  double top = -kInf;
  for (int i = 0; i < log_w.size(); ++i) {
    if (!std::isnan(log_w[i])) top = std::max(top, log_w[i]);
  }
  if (!std::isfinite(top)) return w;
  double sum = 0.0;
  for (int i = 0; i < log_w.size(); ++i) {
    if (!std::isnan(log_w[i])) sum += std::exp(log_w[i] - top);
  }
  for (int i = 0; i < log_w.size(); ++i) {
    w[i] = std::isnan(log_w[i]) ? std::numeric_limits<double>::quiet_NaN() : std::exp(log_w[i] - top) / sum;
  }
  return w;
}

}  // namespace

Predictions Predict(const Problem& problem, const std::vector<CriticalComponent>& components,
                    const Eigen::VectorXd& relative_energies, const std::vector<double>& step_sizes) {
  Predictions out;
  const int p = static_cast<int>(components.size());
  const int d = problem.dimension();
  double lambda_max = 0.0;
  for (const CriticalComponent& c : components) {
    if (c.type == CriticalType::kMinimum) lambda_max = std::max(lambda_max, c.hessian_eigenvalues.maxCoeff());
  }
  out.stability_bound = lambda_max > 0.0 ? 2.0 / lambda_max : kInf;

  const bool isotropic = problem.noise.is_isotropic();
  if (!isotropic) out.notes.push_back("no Laplace masses: they need isotropic Gaussian noise");
  for (const CriticalComponent& c : components) {
    if (isotropic && c.type == CriticalType::kMinimum && !c.isolated) {
      out.notes.push_back("component " + std::to_string(c.id) +
                          " is a non-isolated minimum: no Laplace mass (its Hessian is singular)");
    }
  }

  for (double eta : step_sizes) {
    StepSizePrediction s;
    s.step_size = eta;
    s.stable = eta < out.stability_bound;
    s.log_weight.resize(p);
    for (int i = 0; i < p; ++i) {
      s.log_weight[i] = std::isfinite(relative_energies[i]) ? -relative_energies[i] / eta : -kInf;
    }
    s.weight = Normalize(s.log_weight);
    if (isotropic) {
      // Langevin at temperature eta sigma^2 / 2 (THEORY.md section 6); the common factor
      // (pi eta sigma^2)^(d/2) cancels in the normalization but is kept for clarity. The exponent
      // is written with the energies, E_i - E_min = 2 (f_i - min f) / sigma^2 for isotropic noise
      // (THEORY.md section 5): the same number, and the second-order prediction of the energies
      // given (a check of wrong energies fails here too).
      const double sigma2 = problem.noise.sigma() * problem.noise.sigma();
      Eigen::VectorXd log_mass = Eigen::VectorXd::Constant(p, std::numeric_limits<double>::quiet_NaN());
      for (int i = 0; i < p; ++i) {
        const CriticalComponent& c = components[i];
        if (c.type != CriticalType::kMinimum || !c.isolated || !(c.hessian_eigenvalues.minCoeff() > 0)) continue;
        if (!std::isfinite(relative_energies[i])) continue;
        log_mass[i] = -relative_energies[i] / eta + 0.5 * d * std::log(M_PI * eta * sigma2) -
                      0.5 * c.hessian_eigenvalues.array().log().sum();
      }
      s.laplace_mass = Normalize(log_mass);
    }
    out.steps.push_back(std::move(s));
  }
  return out;
}

}  // namespace ldsgd
