// The objective f: R^d -> R with exact first and second derivatives.
#ifndef LDSGD_SOLVER_OBJECTIVE_OBJECTIVE_H_
#define LDSGD_SOLVER_OBJECTIVE_OBJECTIVE_H_

#include <memory>
#include <string>

#include <Eigen/Core>

namespace ldsgd {

// Implementations are immutable after construction and safe to call from several threads.
// Derivatives are exact (hand-written or symbolic), never finite differences.
class Objective {
 public:
  virtual ~Objective() = default;

  virtual int dimension() const = 0;
  // A short description for reports ("builtin himmelblau", "expression ...").
  virtual std::string Describe() const = 0;

  virtual double Value(const double* x) const = 0;
  // Writes grad f(x) to gradient[0..d) and returns f(x).
  virtual double Gradient(const double* x, double* gradient) const = 0;
  // Writes grad f(x) and the row-major d x d Hessian and returns f(x).
  virtual double Hessian(const double* x, double* gradient, double* hessian) const = 0;

  // Gradients of `count` points at once, structure-of-arrays: coordinate i of point k is
  // x[i * stride + k], gradient component i is gradient[i * stride + k]. This is the simulator's hot
  // path; the default loops over Gradient(), implementations override it with vectorizable loops.
  virtual void GradientBatch(int count, const double* x, int stride, double* gradient) const;

  // Eigen conveniences.
  double Value(const Eigen::VectorXd& x) const { return Value(x.data()); }
  Eigen::VectorXd Gradient(const Eigen::VectorXd& x) const;
  Eigen::MatrixXd Hessian(const Eigen::VectorXd& x) const;
};

}  // namespace ldsgd

#endif  // LDSGD_SOLVER_OBJECTIVE_OBJECTIVE_H_
