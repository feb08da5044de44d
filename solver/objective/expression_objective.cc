#include "solver/objective/expression_objective.h"

#include <algorithm>
#include <vector>

namespace ldsgd {
namespace {

// Per-thread scratch: objectives are shared between threads and must not hold mutable state.
double* Scratch(std::size_t size) {
  thread_local std::vector<double> buffer;
  if (buffer.size() < size) buffer.resize(size);
  return buffer.data();
}

}  // namespace

DerivativePrograms DerivativePrograms::Compile(ExpressionGraph& graph, ExpressionGraph::Node f) {
  const int d = graph.num_variables();
  std::vector<ExpressionGraph::Node> grad(d);
  for (int i = 0; i < d; ++i) grad[i] = graph.Derivative(f, i);
  std::vector<ExpressionGraph::Node> with_f = {f};
  with_f.insert(with_f.end(), grad.begin(), grad.end());
  std::vector<ExpressionGraph::Node> with_h = with_f;
  for (int i = 0; i < d; ++i) {
    for (int j = i; j < d; ++j) with_h.push_back(graph.Derivative(grad[i], j));
  }
  return {graph.Compile({f}), graph.Compile(with_f), graph.Compile(grad), graph.Compile(with_h)};
}

ExpressionObjective::ExpressionObjective(ExpressionGraph& graph, ExpressionGraph::Node f,
                                         std::string description)
    : dimension_(graph.num_variables()), description_(std::move(description)) {
  DerivativePrograms p = DerivativePrograms::Compile(graph, f);
  value_ = std::move(p.value);
  gradient_ = std::move(p.gradient);
  gradient_only_ = std::move(p.gradient_only);
  hessian_ = std::move(p.hessian);
}

double ExpressionObjective::Value(const double* x) const {
  double f;
  value_.Evaluate(x, &f, Scratch(value_.workspace_size()));
  return f;
}

double ExpressionObjective::Gradient(const double* x, double* gradient) const {
  double* out = Scratch(gradient_.workspace_size() + gradient_.num_outputs());
  gradient_.Evaluate(x, out, out + gradient_.num_outputs());
  // A plain loop: std::copy of a few doubles compiles to a memmove call (14% of the time here).
  for (int i = 0; i < dimension_; ++i) gradient[i] = out[1 + i];
  return out[0];
}

double ExpressionObjective::Hessian(const double* x, double* gradient, double* hessian) const {
  const int d = dimension_;
  double* out = Scratch(hessian_.workspace_size() + hessian_.num_outputs());
  hessian_.Evaluate(x, out, out + hessian_.num_outputs());
  std::copy(out + 1, out + 1 + d, gradient);
  const double* upper = out + 1 + d;
  for (int i = 0; i < d; ++i) {
    for (int j = i; j < d; ++j) hessian[i * d + j] = hessian[j * d + i] = *upper++;
  }
  return out[0];
}

void ExpressionObjective::GradientBatch(int count, const double* x, int stride,
                                        double* gradient) const {
  double* work = Scratch(static_cast<std::size_t>(gradient_only_.workspace_size()) *
                         Program::kMaxBatch);
  for (int k0 = 0; k0 < count; k0 += Program::kMaxBatch) {
    const int n = std::min(Program::kMaxBatch, count - k0);
    gradient_only_.EvaluateBatch(n, x + k0, stride, gradient + k0, stride, work);
  }
}

std::string L2Regularized::Describe() const {
  return base_->Describe() + " + l2 term";
}

double L2Regularized::Value(const double* x) const {
  double s = 0.0;
  for (int i = 0; i < dimension(); ++i) s += x[i] * x[i];
  return base_->Value(x) + 0.5 * l2_ * s;
}

double L2Regularized::Gradient(const double* x, double* gradient) const {
  double s = 0.0;
  const double f = base_->Gradient(x, gradient);
  for (int i = 0; i < dimension(); ++i) {
    gradient[i] += l2_ * x[i];
    s += x[i] * x[i];
  }
  return f + 0.5 * l2_ * s;
}

double L2Regularized::Hessian(const double* x, double* gradient, double* hessian) const {
  const int d = dimension();
  double s = 0.0;
  const double f = base_->Hessian(x, gradient, hessian);
  for (int i = 0; i < d; ++i) {
    gradient[i] += l2_ * x[i];
    hessian[i * d + i] += l2_;
    s += x[i] * x[i];
  }
  return f + 0.5 * l2_ * s;
}

void L2Regularized::GradientBatch(int count, const double* x, int stride,
                                  double* gradient) const {
  base_->GradientBatch(count, x, stride, gradient);
  for (int i = 0; i < dimension(); ++i) {
    for (int k = 0; k < count; ++k) gradient[i * stride + k] += l2_ * x[i * stride + k];
  }
}

}  // namespace ldsgd
