// Built-in objectives against their expression form (symbolic derivatives) and against finite
// differences, and the batch gradient against the scalar one.
#include "solver/objective/builtin_objectives.h"

#include <random>

#include <gtest/gtest.h>

#include "solver/objective/expression_objective.h"

namespace ldsgd {
namespace {

// Hand-written and symbolic derivatives differ only by rounding in a different order of
// operations: a few ulps of the largest intermediate term. The error is measured relative to the
// largest magnitude of the same quantity over the sample (norm-wise), which stays meaningful where a
// gradient component crosses zero; 1e-12 leaves room for ~1e4 ulps of cancellation.
constexpr double kAgreement = 1e-12;
// 4th-order central differences with step h: truncation O(h^4) ~ 1e-10 and rounding
// O(eps |f| / h) ~ 1e-12 relative for h = 1e-3 on these O(1)-O(100)-scaled functions.
constexpr double kFiniteDifference = 1e-7;
constexpr int kPoints = 1000;

struct Case {
  std::string name;
  std::map<std::string, double> params;
  double lower, upper;  // sample box, each coordinate
};

std::vector<Case> Cases() {
  return {{"himmelblau", {}, -5, 5},
          {"muller_brown", {}, -1.5, 1.2},
          {"three_hump_camel", {}, -3, 3},
          {"tilted_double_well", {{"tilt", 0.1}}, -2, 2},
          {"tilted_double_well", {{"tilt", -0.3}}, -2, 2},
          {"ring", {}, -2, 2},
          {"separable_double_well", {{"dimension", 3}, {"tilt", 0.05}}, -2, 2},
          {"separable_double_well", {{"dimension", 5}, {"tilt", 0.2}}, -2, 2},
          {"planted_himmelblau", {{"dimension", 5}, {"seed", 7}, {"curvature_max", 20}}, -5, 5}};
}

std::unique_ptr<Objective> ExpressionForm(const Case& c) {
  ExpressionGraph graph(BuiltinVariables(c.name, c.params));
  const ExpressionGraph::Node f = graph.Parse(BuiltinExpression(c.name, c.params));
  return std::make_unique<ExpressionObjective>(graph, f, c.name);
}

std::vector<Eigen::VectorXd> Sample(const Case& c, int d, unsigned seed) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> u(c.lower, c.upper);
  std::vector<Eigen::VectorXd> points(kPoints, Eigen::VectorXd(d));
  for (Eigen::VectorXd& p : points) {
    for (int i = 0; i < d; ++i) p[i] = u(rng);
  }
  return points;
}

// max |a - b| / max |b| over the sample, per quantity.
struct NormwiseError {
  double max_diff = 0, max_ref = 0;
  void Add(double a, double b) {
    max_diff = std::max(max_diff, std::abs(a - b));
    max_ref = std::max(max_ref, std::abs(b));
  }
  double Relative() const { return max_diff / std::max(max_ref, 1e-300); }
};

TEST(BuiltinObjectives, AgreeWithTheirExpressionForm) {
  for (const Case& c : Cases()) {
    SCOPED_TRACE(c.name);
    const std::unique_ptr<Objective> builtin = MakeBuiltin(c.name, c.params);
    ASSERT_NE(builtin, nullptr);
    const std::unique_ptr<Objective> expr = ExpressionForm(c);
    const int d = builtin->dimension();
    ASSERT_EQ(expr->dimension(), d);
    NormwiseError fe, ge, he;
    for (const Eigen::VectorXd& x : Sample(c, d, 1)) {
      Eigen::VectorXd g1(d), g2(d);
      Eigen::MatrixXd h1(d, d), h2(d, d);
      const double f1 = builtin->Hessian(x.data(), g1.data(), h1.data());
      const double f2 = expr->Hessian(x.data(), g2.data(), h2.data());
      fe.Add(f2, f1);
      fe.Add(expr->Value(x.data()), builtin->Value(x.data()));
      for (int i = 0; i < d; ++i) ge.Add(g2[i], g1[i]);
      for (int i = 0; i < d * d; ++i) he.Add(h2.data()[i], h1.data()[i]);
    }
    EXPECT_LE(fe.Relative(), kAgreement);
    EXPECT_LE(ge.Relative(), kAgreement);
    EXPECT_LE(he.Relative(), kAgreement);
  }
}

TEST(BuiltinObjectives, DerivativesMatchFiniteDifferences) {
  for (const Case& c : Cases()) {
    SCOPED_TRACE(c.name);
    const std::unique_ptr<Objective> f = MakeBuiltin(c.name, c.params);
    const int d = f->dimension();
    const double h = 1e-3;
    NormwiseError ge, he;
    for (const Eigen::VectorXd& x : Sample(c, d, 2)) {
      Eigen::VectorXd g(d);
      Eigen::MatrixXd hess(d, d);
      f->Hessian(x.data(), g.data(), hess.data());
      for (int i = 0; i < d; ++i) {
        auto shifted = [&](double t) {
          Eigen::VectorXd y = x;
          y[i] += t;
          return y;
        };
        // f'(x) ~ (-f(x+2h) + 8f(x+h) - 8f(x-h) + f(x-2h)) / 12h, and the same on the gradient.
        const double fd = (-f->Value(shifted(2 * h)) + 8 * f->Value(shifted(h)) -
                           8 * f->Value(shifted(-h)) + f->Value(shifted(-2 * h))) / (12 * h);
        ge.Add(g[i], fd);
        const Eigen::VectorXd hd = (-f->Gradient(shifted(2 * h)) + 8 * f->Gradient(shifted(h)) -
                                    8 * f->Gradient(shifted(-h)) + f->Gradient(shifted(-2 * h))) / (12 * h);
        for (int j = 0; j < d; ++j) he.Add(hess(i, j), hd[j]);
      }
    }
    EXPECT_LE(ge.Relative(), kFiniteDifference);
    EXPECT_LE(he.Relative(), kFiniteDifference);
  }
}

// The batch path must give the scalar gradient bit for bit: the simulator and the solver must
// agree exactly on what the gradient is.
TEST(BuiltinObjectives, BatchGradientEqualsScalarGradient) {
  for (const Case& c : Cases()) {
    SCOPED_TRACE(c.name);
    const std::unique_ptr<Objective> builtin = MakeBuiltin(c.name, c.params);
    const std::unique_ptr<Objective> expr = ExpressionForm(c);
    const int d = builtin->dimension();
    for (int count : {1, 7, 64, 100, 257}) {
      const std::vector<Eigen::VectorXd> points = Sample(c, d, 3 + count);
      const int stride = count + 3;  // a stride larger than the count is allowed
      std::vector<double> x(d * stride), g(d * stride);
      for (int k = 0; k < count; ++k) {
        for (int i = 0; i < d; ++i) x[i * stride + k] = points[k][i];
      }
      for (const Objective* f : {builtin.get(), expr.get()}) {
        f->GradientBatch(count, x.data(), stride, g.data());
        for (int k = 0; k < count; ++k) {
          const Eigen::VectorXd ref = f->Gradient(points[k]);
          for (int i = 0; i < d; ++i) ASSERT_EQ(g[i * stride + k], ref[i]) << f->Describe();
        }
      }
    }
  }
}

TEST(BuiltinObjectives, ParamValidation) {
  EXPECT_EQ(ValidateBuiltinParams("ring", {}), "");
  EXPECT_EQ(ValidateBuiltinParams("nope", {}), "unknown builtin 'nope'");
  EXPECT_EQ(ValidateBuiltinParams("ring", {{"tilt", 1}}), "unknown parameter 'tilt' of builtin ring");
  EXPECT_EQ(ValidateBuiltinParams("separable_double_well", {{"dimension", 0}}),
            "parameter 'dimension' must be an integer in [1, 8]");
  EXPECT_EQ(MakeBuiltin("nope", {}), nullptr);
}

}  // namespace
}  // namespace ldsgd
