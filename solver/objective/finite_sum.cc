#include "solver/objective/finite_sum.h"

#include <algorithm>
#include <vector>

namespace ldsgd {
namespace {

// Per-thread scratch: sums are shared between threads and hold no mutable state.
struct TermScratch {
  std::vector<int> order, counts;
  std::vector<double> gathered, grad;
};

// A short list of terms, each its own compiled objective.
class TermSum final : public FiniteSum {
 public:
  explicit TermSum(std::vector<std::shared_ptr<const Objective>> terms)
      : terms_(std::move(terms)), d_(terms_.front()->dimension()) {}

  int size() const override { return static_cast<int>(terms_.size()); }
  int dimension() const override { return d_; }
  std::string Describe() const override { return std::to_string(terms_.size()) + " terms"; }

  double Value(int k, const double* x) const override { return terms_[k]->Value(x); }

  void Evaluate(const double* x, Eigen::VectorXd* values, Eigen::MatrixXd* g,
                Eigen::MatrixXd* hessians) const override {
    const int n = size(), d = d_;
    if (values != nullptr) values->resize(n);
    if (g != nullptr) g->resize(d, n);
    if (hessians != nullptr) hessians->resize(d, d * n);
    Eigen::VectorXd scratch(d);
    for (int k = 0; k < n; ++k) {
      double* gk = g != nullptr ? g->col(k).data() : scratch.data();
      double v;
      if (hessians != nullptr) {
        // Row-major output of a symmetric matrix is its column-major block.
        v = terms_[k]->Hessian(x, gk, hessians->data() + static_cast<long>(k) * d * d);
      } else if (g != nullptr) {
        v = terms_[k]->Gradient(x, gk);
      } else {
        v = terms_[k]->Value(x);
      }
      if (values != nullptr) (*values)[k] = v;
    }
  }

  // Lanes that drew the same term are gathered and evaluated with one GradientBatch call per
  // distinct term: a counting sort when the terms are few, else a comparison sort, so the cost per
  // step does not grow with the number of terms.
  void AddSampleGradients(int count, const std::uint32_t* sample, const double* x, int stride,
                          double* sum) const override {
    thread_local TermScratch scratch;
    const int n = count, d = d_, num_terms = size();
    scratch.order.resize(n);
    int* order = scratch.order.data();
    if (num_terms <= n) {
      scratch.counts.assign(num_terms + 1, 0);
      int* counts = scratch.counts.data();
      for (int l = 0; l < n; ++l) ++counts[sample[l] + 1];
      for (int k = 0; k < num_terms; ++k) counts[k + 1] += counts[k];
      for (int l = 0; l < n; ++l) order[counts[sample[l]]++] = l;
    } else {
      for (int l = 0; l < n; ++l) order[l] = l;
      std::sort(order, order + n, [&](int a, int b) {
        return sample[a] < sample[b] || (sample[a] == sample[b] && a < b);
      });
    }
    scratch.gathered.resize(static_cast<std::size_t>(d) * n);
    scratch.grad.resize(static_cast<std::size_t>(d) * n);
    double* gathered = scratch.gathered.data();
    double* grad = scratch.grad.data();
    for (int begin = 0; begin < n;) {
      const std::uint32_t k = sample[order[begin]];
      int end = begin + 1;
      while (end < n && sample[order[end]] == k) ++end;
      const int m = end - begin;
      for (int i = 0; i < d; ++i) {
        for (int j = 0; j < m; ++j) gathered[i * m + j] = x[i * stride + order[begin + j]];
      }
      terms_[k]->GradientBatch(m, gathered, m, grad);
      for (int i = 0; i < d; ++i) {
        for (int j = 0; j < m; ++j) sum[i * stride + order[begin + j]] += grad[i * m + j];
      }
      begin = end;
    }
  }

 private:
  std::vector<std::shared_ptr<const Objective>> terms_;
  int d_;
};

// f = mean of the samples.
class SampleMean final : public Objective {
 public:
  explicit SampleMean(std::shared_ptr<const FiniteSum> samples) : samples_(std::move(samples)) {}

  int dimension() const override { return samples_->dimension(); }
  std::string Describe() const override { return "mean of " + samples_->Describe(); }

  double Value(const double* x) const override {
    Eigen::VectorXd v;
    samples_->Evaluate(x, &v, nullptr, nullptr);
    return v.mean();
  }
  double Gradient(const double* x, double* gradient) const override {
    Eigen::VectorXd v;
    Eigen::MatrixXd g;
    samples_->Evaluate(x, &v, &g, nullptr);
    Eigen::Map<Eigen::VectorXd>(gradient, dimension()) = g.rowwise().mean();
    return v.mean();
  }
  double Hessian(const double* x, double* gradient, double* hessian) const override {
    const int d = dimension(), n = samples_->size();
    Eigen::VectorXd v;
    Eigen::MatrixXd g, h;
    samples_->Evaluate(x, &v, &g, &h);
    Eigen::Map<Eigen::VectorXd>(gradient, d) = g.rowwise().mean();
    Eigen::Map<Eigen::MatrixXd> out(hessian, d, d);  // symmetric: row- and column-major agree
    out.setZero();
    for (int k = 0; k < n; ++k) out += h.middleCols(k * d, d);
    out /= n;
    return v.mean();
  }

 private:
  std::shared_ptr<const FiniteSum> samples_;
};

}  // namespace

std::shared_ptr<const FiniteSum> MakeTermSum(std::vector<std::shared_ptr<const Objective>> terms) {
  return std::make_shared<TermSum>(std::move(terms));
}

std::shared_ptr<const Objective> MeanObjective(std::shared_ptr<const FiniteSum> samples) {
  return std::make_shared<SampleMean>(std::move(samples));
}

}  // namespace ldsgd
