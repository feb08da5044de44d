// The exact geometric cost of finite-sum (minibatch) noise (THEORY.md sections 2 and 3):
//
//   H(x, theta) = b log( (1/n) sum_k exp(-<theta, g_k(x)> / b) ),
//   c(x, u)     = sup{ <u, theta> : H(x, theta) <= 0 }.
//
// With phi = theta / b, c = b h(u), h(u) = sup{ <u, phi> : G(phi) <= 0 }, G(phi) = log mean_k
// exp(-<phi, g_k>): the batch size scales the cost exactly. G is convex with G(0) = 0 and
// grad G(0) = -grad f, so the feasible set is convex with 0 on its boundary; h is its support
// function, 1-homogeneous and convex in u, zero exactly along -grad f, and +infinity when u is not
// in the cone spanned by the sample steps -g_k (no combination of them moves along u).
//
// Solver (the Lagrangian L = <u, phi> - mu G(phi) at its saddle point): for a multiplier mu > 0 the
// inner problem max_phi L is smooth and strictly concave (Hessian -mu Cov_p(g), p the tilted sample
// weights), solved by damped Newton; the outer condition G(phi(mu)) = 0 is monotone in mu
// (d G(phi(mu)) / d mu = -u^T (Hess G)^-1 u / mu^3 < 0) and is solved by Newton's method inside a
// bracket that is widened until it holds the root. The start is the Gaussian approximation of G
// (its second-order expansion), whose problem has a closed form. Log-sum-exp is evaluated with the
// largest exponent factored out.
//
// Derivatives (envelope theorem): dc/du = b phi*, dc/dx = b mu* sum_k p_k Hess f_k(x) phi*.
#ifndef LDSGD_SOLVER_NOISE_FINITE_SUM_COST_H_
#define LDSGD_SOLVER_NOISE_FINITE_SUM_COST_H_

#include <memory>
#include <string>
#include <vector>

#include <Eigen/Core>

#include "solver/objective/finite_sum.h"

namespace ldsgd {

class FiniteSumCost {
 public:
  struct Options {
    // Outer (multiplier) and inner (Newton) iteration limits.
    int max_outer_iterations = 100;
    int max_inner_iterations = 100;
    // Convergence: |G(phi)| <= tolerance and the inner gradient |u - mu grad G| <= tolerance |u|.
    double tolerance = 1e-13;
  };

  enum class Status { kFinite, kInfinite, kFailure };

  struct Evaluation {
    Status status = Status::kFailure;
    double cost = 0.0;         // c(x, u); +inf for kInfinite, NaN for kFailure
    Eigen::VectorXd dcdu;      // b phi* (kFinite with derivatives requested)
    Eigen::VectorXd dcdx;      // b mu* sum_k p_k H_k phi*
    // grad f(x) = mean_k g_k(x) and, with derivatives, Hess f(x): the samples are at hand, so the
    // caller need not evaluate f (O(n) again) for the residual's direction.
    Eigen::VectorXd mean_gradient;
    Eigen::MatrixXd mean_hessian;
    int outer_iterations = 0, inner_iterations = 0;  // outer 0: solved from the warm start
  };

  // The solution of a previous evaluation at a nearby (x, u), e.g. the same path segment at the
  // previous optimizer iterate. A start from it converges quadratically in a few joint Newton
  // steps; without one (or when those fail) the robust nested solve runs. The result is the same
  // to the solve's tolerance either way.
  struct WarmStart {
    bool valid = false;
    Eigen::VectorXd phi;
    double mu = 0.0;
  };

  // `samples` may be null for SupportFunction alone.
  FiniteSumCost(std::shared_ptr<const FiniteSum> samples, int batch_size, Options options);
  FiniteSumCost(std::shared_ptr<const FiniteSum> samples, int batch_size)
      : FiniteSumCost(std::move(samples), batch_size, Options()) {}

  int dimension() const { return d_; }
  int num_terms() const { return samples_->size(); }
  int batch_size() const { return batch_; }

  // c(x, u), and its derivatives when `derivatives`. `warm` (optional) is read as a start and
  // updated with the solution.
  Evaluation Evaluate(const double* x, const double* u, bool derivatives,
                      WarmStart* warm = nullptr) const;
  double Cost(const double* x, const double* u) const { return Evaluate(x, u, false).cost; }

  // h(u) for given sample gradients (d x n), without x: the core, exposed for tests and benchmarks.
  // On kFinite, *phi and *mu hold the maximizer and the multiplier, *weights the tilted p_k.
  Status SupportFunction(const Eigen::MatrixXd& g, const Eigen::VectorXd& u, double* value,
                         Eigen::VectorXd* phi, double* mu, Eigen::VectorXd* weights,
                         int* outer_iterations, int* inner_iterations,
                         WarmStart* warm = nullptr) const;

 private:
  std::shared_ptr<const FiniteSum> samples_;
  int batch_ = 1;
  int d_ = 0;
  Options options_;
};

}  // namespace ldsgd

#endif  // LDSGD_SOLVER_NOISE_FINITE_SUM_COST_H_
