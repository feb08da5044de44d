// The samples of a finite-sum objective f = (1/n) sum_k f_k (THEORY.md section 1): their gradients
// g_k = grad f_k (l2 term included) and Hessians, either all of them at one point (the exact
// minibatch cost, the minibatch covariance, the stability analysis) or one drawn sample per chain
// (the simulator's minibatches).
//
// Two sources, one interface: a short list of expressions ({"sum": [EXPR, ...]}, one compiled
// objective per term) and a dataset ({"per_sample": EXPR, "data": "file.csv"}, ONE compiled program
// over the variables and the columns, evaluated row by row). The dataset form is what makes n = 1e5
// cheap: a minibatch step gathers the drawn rows into a batch and runs the program once over it, so
// its cost does not depend on n; evaluating all samples at one point streams the table through the
// same batched program.
#ifndef LDSGD_SOLVER_OBJECTIVE_FINITE_SUM_H_
#define LDSGD_SOLVER_OBJECTIVE_FINITE_SUM_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <Eigen/Core>

#include "solver/expression/expression.h"
#include "solver/io/csv_table.h"
#include "solver/objective/objective.h"

namespace ldsgd {

// Immutable after construction and safe to call from several threads.
class FiniteSum {
 public:
  virtual ~FiniteSum() = default;

  virtual int size() const = 0;       // n
  virtual int dimension() const = 0;  // d
  // "3 terms", "200 rows of data/tanh_regression.csv", for reports.
  virtual std::string Describe() const = 0;

  // f_k(x).
  virtual double Value(int k, const double* x) const = 0;
  // Every sample at x; each output is skipped when null. (*values)[k] = f_k(x) (resized to n);
  // column k of *g (resized to d x n) is g_k(x); *hessians is resized to d x (d n), block k
  // (columns k d .. k d + d - 1) is Hess f_k(x).
  virtual void Evaluate(const double* x, Eigen::VectorXd* values, Eigen::MatrixXd* g,
                        Eigen::MatrixXd* hessians) const = 0;
  void Gradients(const double* x, Eigen::MatrixXd* g, Eigen::MatrixXd* hessians = nullptr) const {
    Evaluate(x, nullptr, g, hessians);
  }
  // The simulator's hot path: for each lane l < count, adds g_{sample[l]}(x_l) to the lane's
  // column of `sum`. x and sum are structure-of-arrays with the same stride: coordinate i of lane l
  // is x[i * stride + l]. sample[l] < size().
  virtual void AddSampleGradients(int count, const std::uint32_t* sample, const double* x,
                                  int stride, double* sum) const = 0;
};

// {"sum": [EXPR, ...]}: the terms as objectives (each including the l2 term).
std::shared_ptr<const FiniteSum> MakeTermSum(std::vector<std::shared_ptr<const Objective>> terms);

// {"per_sample": EXPR, "data": FILE}: `per_sample` is a node of `graph`, whose parameters are the
// table's columns in order; it already includes the l2 term.
std::shared_ptr<const FiniteSum> MakeDataSum(ExpressionGraph& graph, ExpressionGraph::Node per_sample,
                                             const SampleTable& table);

// f = (1/n) sum_k f_k as an Objective, evaluated through the samples (for the dataset form, where
// no symbolic mean exists). Each evaluation costs O(n).
std::shared_ptr<const Objective> MeanObjective(std::shared_ptr<const FiniteSum> samples);

}  // namespace ldsgd

#endif  // LDSGD_SOLVER_OBJECTIVE_FINITE_SUM_H_
