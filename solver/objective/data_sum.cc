// The dataset form of a finite sum: f_k(x) = EXPR(x, row k of the table). One compiled program
// serves every row; rows are fed to it 64 at a time through the batch evaluator.
#include <algorithm>
#include <vector>

#include "solver/objective/expression_objective.h"
#include "solver/objective/finite_sum.h"

namespace ldsgd {
namespace {

struct DataScratch {
  std::vector<double> inputs, outputs, work;
};

class DataSum final : public FiniteSum {
 public:
  DataSum(ExpressionGraph& graph, ExpressionGraph::Node f, const SampleTable& table)
      : d_(graph.num_variables()), inputs_(graph.num_inputs()), rows_(table.rows),
        source_(table.source) {
    const int d = d_;
    DerivativePrograms p = DerivativePrograms::Compile(graph, f);
    value_ = std::move(p.value);
    gradient_ = std::move(p.gradient);
    gradient_only_ = std::move(p.gradient_only);
    hessian_ = std::move(p.hessian);
    // Only the columns the expression reads are kept (a wide table may carry others); the
    // programs never read the input rows of the others. Every program's inputs are among the
    // Hessian program's (it computes f).
    std::vector<bool> used(inputs_, false);
    for (const Instruction& in : hessian_.code()) {
      if (in.op == OpCode::kInput) used[in.index] = true;
    }
    for (int j = 0; j + d < inputs_; ++j) {
      if (!used[d + j]) continue;
      columns_.push_back(d + j);
      values_.insert(values_.end(), table.values.begin() + static_cast<long>(j) * rows_,
                     table.values.begin() + static_cast<long>(j + 1) * rows_);
    }
  }

  int size() const override { return rows_; }
  int dimension() const override { return d_; }
  std::string Describe() const override {
    return std::to_string(rows_) + " rows of " + source_;
  }

  double Value(int k, const double* x) const override {
    std::vector<double> in(inputs_, 0.0), work(value_.workspace_size());
    std::copy(x, x + d_, in.begin());
    for (std::size_t c = 0; c < columns_.size(); ++c) in[columns_[c]] = Column(c)[k];
    double f;
    value_.Evaluate(in.data(), &f, work.data());
    return f;
  }

  void Evaluate(const double* x, Eigen::VectorXd* values, Eigen::MatrixXd* g,
                Eigen::MatrixXd* hessians) const override {
    const int d = d_, n = rows_;
    constexpr int kLanes = Program::kMaxBatch;
    const Program& program = hessians != nullptr ? hessian_ : g != nullptr ? gradient_ : value_;
    if (values != nullptr) values->resize(n);
    if (g != nullptr) g->resize(d, n);
    if (hessians != nullptr) hessians->resize(d, d * n);
    thread_local DataScratch s;
    s.inputs.resize(static_cast<std::size_t>(inputs_) * kLanes);
    s.outputs.resize(static_cast<std::size_t>(program.num_outputs()) * kLanes);
    s.work.resize(static_cast<std::size_t>(program.workspace_size()) * kLanes);
    for (int i = 0; i < d; ++i) std::fill_n(s.inputs.data() + i * kLanes, kLanes, x[i]);
    for (int k0 = 0; k0 < n; k0 += kLanes) {
      const int m = std::min(kLanes, n - k0);
      for (std::size_t c = 0; c < columns_.size(); ++c) {
        std::copy_n(Column(c) + k0, m, s.inputs.data() + columns_[c] * kLanes);
      }
      program.EvaluateBatch(m, s.inputs.data(), kLanes, s.outputs.data(), kLanes, s.work.data());
      const double* out = s.outputs.data();
      for (int l = 0; l < m; ++l) {
        const int k = k0 + l;
        if (values != nullptr) (*values)[k] = out[l];
        if (g != nullptr) {
          for (int i = 0; i < d; ++i) (*g)(i, k) = out[(1 + i) * kLanes + l];
        }
        if (hessians != nullptr) {
          double* h = hessians->data() + static_cast<long>(k) * d * d;
          int row = 1 + d;
          for (int i = 0; i < d; ++i) {
            for (int j = i; j < d; ++j, ++row) h[i * d + j] = h[j * d + i] = out[row * kLanes + l];
          }
        }
      }
    }
  }

  // The drawn rows are gathered into one batch: the cost does not depend on the number of rows.
  void AddSampleGradients(int count, const std::uint32_t* sample, const double* x, int stride,
                          double* sum) const override {
    const int d = d_;
    constexpr int kLanes = Program::kMaxBatch;
    thread_local DataScratch s;
    s.inputs.resize(static_cast<std::size_t>(inputs_) * kLanes);
    s.outputs.resize(static_cast<std::size_t>(d) * kLanes);
    s.work.resize(static_cast<std::size_t>(gradient_only_.workspace_size()) * kLanes);
    double* in = s.inputs.data();
    double* out = s.outputs.data();
    for (int l0 = 0; l0 < count; l0 += kLanes) {
      const int m = std::min(kLanes, count - l0);
      for (int i = 0; i < d; ++i) std::copy_n(x + i * stride + l0, m, in + i * kLanes);
      for (std::size_t c = 0; c < columns_.size(); ++c) {
        const double* column = Column(c);
        double* row = in + columns_[c] * kLanes;
        for (int l = 0; l < m; ++l) row[l] = column[sample[l0 + l]];
      }
      gradient_only_.EvaluateBatch(m, in, kLanes, out, kLanes, s.work.data());
      for (int i = 0; i < d; ++i) {
        double* target = sum + i * stride + l0;
        for (int l = 0; l < m; ++l) target[l] += out[i * kLanes + l];
      }
    }
  }

 private:
  const double* Column(std::size_t c) const { return values_.data() + c * rows_; }

  int d_, inputs_, rows_;
  std::string source_;
  Program value_, gradient_, gradient_only_, hessian_;
  std::vector<int> columns_;    // input index of each kept column
  std::vector<double> values_;  // kept columns, column-major
};

}  // namespace

std::shared_ptr<const FiniteSum> MakeDataSum(ExpressionGraph& graph, ExpressionGraph::Node per_sample,
                                             const SampleTable& table) {
  return std::make_shared<DataSum>(graph, per_sample, table);
}

}  // namespace ldsgd
