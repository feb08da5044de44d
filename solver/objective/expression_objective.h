// An objective given by an expression: f, its gradient and Hessian are compiled programs derived
// symbolically once at construction.
#ifndef LDSGD_SOLVER_OBJECTIVE_EXPRESSION_OBJECTIVE_H_
#define LDSGD_SOLVER_OBJECTIVE_EXPRESSION_OBJECTIVE_H_

#include <string>

#include "solver/expression/expression.h"
#include "solver/objective/objective.h"

namespace ldsgd {

// The programs of a scalar function of the graph's variables (the other inputs, if any, are
// parameters): f; f and grad f; grad f alone (the batch hot path); f, grad f and the upper
// triangle of the Hessian row by row. Shared by expression objectives and dataset samples.
struct DerivativePrograms {
  Program value, gradient, gradient_only, hessian;
  static DerivativePrograms Compile(ExpressionGraph& graph, ExpressionGraph::Node f);
};

class ExpressionObjective final : public Objective {
 public:
  // `f` is a node of `graph` over graph.num_variables() variables and no parameters.
  ExpressionObjective(ExpressionGraph& graph, ExpressionGraph::Node f, std::string description);

  int dimension() const override { return dimension_; }
  std::string Describe() const override { return description_; }
  double Value(const double* x) const override;
  double Gradient(const double* x, double* gradient) const override;
  double Hessian(const double* x, double* gradient, double* hessian) const override;
  void GradientBatch(int count, const double* x, int stride, double* gradient) const override;

  // Instruction counts, for benchmarks and reports.
  int gradient_program_size() const { return gradient_only_.workspace_size(); }

 private:
  int dimension_;
  std::string description_;
  Program value_;          // f
  Program gradient_;       // f, grad f
  Program gradient_only_;  // grad f (the batch hot path skips f)
  Program hessian_;        // f, grad f, upper triangle of the Hessian row by row
};

// f + l2/2 |x|^2 for any objective (used for built-ins; expressions fold the term in symbolically).
class L2Regularized final : public Objective {
 public:
  L2Regularized(std::unique_ptr<Objective> base, double l2) : base_(std::move(base)), l2_(l2) {}
  int dimension() const override { return base_->dimension(); }
  std::string Describe() const override;
  double Value(const double* x) const override;
  double Gradient(const double* x, double* gradient) const override;
  double Hessian(const double* x, double* gradient, double* hessian) const override;
  void GradientBatch(int count, const double* x, int stride, double* gradient) const override;

 private:
  std::unique_ptr<Objective> base_;
  double l2_;
};

}  // namespace ldsgd

#endif  // LDSGD_SOLVER_OBJECTIVE_EXPRESSION_OBJECTIVE_H_
