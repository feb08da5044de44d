#include "solver/expression/expression.h"

#include <ceres/jet.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <iostream>
#include <iterator>
#include <random>
#include <string>
#include <vector>

namespace ldsgd {
namespace {

using Node = ExpressionGraph::Node;

// Evaluates one node at the given inputs through a compiled program.
double Eval(const ExpressionGraph& graph, Node node, const std::vector<double>& inputs) {
  const Program program = graph.Compile({node});
  std::vector<double> work(program.workspace_size());
  double out = 0.0;
  program.Evaluate(inputs.data(), &out, work.data());
  return out;
}

// Evaluates all outputs of a program at the given inputs.
std::vector<double> EvalAll(const Program& program, const std::vector<double>& inputs) {
  std::vector<double> work(program.workspace_size());
  std::vector<double> out(program.num_outputs());
  program.Evaluate(inputs.data(), out.data(), work.data());
  return out;
}

int CountOp(const Program& program, OpCode op) {
  return static_cast<int>(std::count_if(program.code().begin(), program.code().end(),
                                        [op](const Instruction& in) { return in.op == op; }));
}

bool SameBits(double a, double b) { return std::memcmp(&a, &b, sizeof(double)) == 0; }

// Every OpCode, for the checks that the tests exercise them all.
constexpr OpCode kAllOpCodes[] = {
    OpCode::kConstant, OpCode::kInput,    OpCode::kAdd,      OpCode::kSub,      OpCode::kMul,
    OpCode::kDiv,      OpCode::kNeg,      OpCode::kPowInt,   OpCode::kPow,      OpCode::kExp,
    OpCode::kLog,      OpCode::kSqrt,     OpCode::kSin,      OpCode::kCos,      OpCode::kTan,
    OpCode::kAtan,     OpCode::kSinh,     OpCode::kCosh,     OpCode::kTanh,     OpCode::kAddConst,
    OpCode::kSubConst, OpCode::kConstSub, OpCode::kMulConst, OpCode::kDivConst, OpCode::kConstDiv,
};

// ------------------------------------------------------------------------------------------------
// 1. Parsing and evaluation.

// Results that are exactly representable and computed by exact operations (small integers, powers
// of two) must come out exactly: tolerance zero.
TEST(ExpressionParse, PrecedenceAndAssociativity) {
  ExpressionGraph g({"x", "y"});
  const std::vector<double> in = {3.0, 5.0};
  EXPECT_EQ(Eval(g, g.Parse("2^3^2"), in), 512.0);  // right-associative: 2^(3^2)
  EXPECT_EQ(Eval(g, g.Parse("-2^2"), in), -4.0);    // ^ binds tighter than unary minus
  EXPECT_EQ(Eval(g, g.Parse("2*3+4"), in), 10.0);
  EXPECT_EQ(Eval(g, g.Parse("2+3*4"), in), 14.0);
  EXPECT_EQ(Eval(g, g.Parse("8/4/2"), in), 1.0);    // left-associative
  EXPECT_EQ(Eval(g, g.Parse("8-4-2"), in), 2.0);
  EXPECT_EQ(Eval(g, g.Parse("2^-1"), in), 0.5);     // unary minus in an exponent
  EXPECT_EQ(Eval(g, g.Parse("2^-x"), in), 0.125);
  EXPECT_EQ(Eval(g, g.Parse("-x^2"), in), -9.0);
  EXPECT_EQ(Eval(g, g.Parse("(-x)^2"), in), 9.0);
  EXPECT_EQ(Eval(g, g.Parse("--x"), in), 3.0);
  EXPECT_EQ(Eval(g, g.Parse("+x - -y"), in), 8.0);
  EXPECT_EQ(Eval(g, g.Parse("x*y^2"), in), 75.0);
  EXPECT_EQ(Eval(g, g.Parse("(x+y)*(x-y)"), in), -16.0);
  EXPECT_EQ(Eval(g, g.Parse("x/y*y"), in), 3.0 / 5.0 * 5.0);
  // Numbers: the parsed value must be the double nearest the decimal, as the compiler's literal.
  EXPECT_EQ(Eval(g, g.Parse("1e-3"), in), 1e-3);
  EXPECT_EQ(Eval(g, g.Parse(".5"), in), 0.5);
  EXPECT_EQ(Eval(g, g.Parse("2.5E+4"), in), 2.5e4);
  EXPECT_EQ(Eval(g, g.Parse("1.25e2"), in), 125.0);
  EXPECT_EQ(Eval(g, g.Parse("0.1"), in), 0.1);
  EXPECT_EQ(Eval(g, g.Parse("5."), in), 5.0);
  EXPECT_EQ(Eval(g, g.Parse("1e-400"), in), 0.0);  // underflow rounds to zero, is not an error
  // Whitespace anywhere between tokens.
  EXPECT_EQ(Eval(g, g.Parse("  x\t*\n( y +1 ) "), in), 18.0);
  EXPECT_EQ(g.Parse(" exp ( x ) "), g.Parse("exp(x)"));
}

// Each function is compiled to one call of the same std:: function on the same argument, so the
// results must be bit-identical: tolerance zero.
TEST(ExpressionParse, FunctionsMatchStd) {
  ExpressionGraph g({"x"});
  struct Case {
    const char* name;
    double (*f)(double);
  };
  const Case cases[] = {
      {"exp", [](double v) { return std::exp(v); }},   {"log", [](double v) { return std::log(v); }},
      {"sqrt", [](double v) { return std::sqrt(v); }}, {"sin", [](double v) { return std::sin(v); }},
      {"cos", [](double v) { return std::cos(v); }},   {"tan", [](double v) { return std::tan(v); }},
      {"atan", [](double v) { return std::atan(v); }}, {"sinh", [](double v) { return std::sinh(v); }},
      {"cosh", [](double v) { return std::cosh(v); }}, {"tanh", [](double v) { return std::tanh(v); }},
  };
  for (const Case& c : cases) {
    const Node n = g.Parse(std::string(c.name) + "(x)");
    for (const double x : {0.1, 0.5, 1.0, 2.3, 7.75}) {
      EXPECT_EQ(Eval(g, n, {x}), c.f(x)) << c.name << " at " << x;
    }
  }
  // Constant arguments are folded with the same functions.
  EXPECT_EQ(g.ConstantValue(g.Parse("exp(1)")), std::exp(1.0));
  EXPECT_EQ(g.ConstantValue(g.Parse("atan(1)*4")), std::atan(1.0) * 4);
  // General power and integer power.
  EXPECT_EQ(Eval(g, g.Parse("x^2.5"), {1.7}), std::pow(1.7, 2.5));
  EXPECT_EQ(Eval(g, g.Parse("x^3"), {1.7}), 1.7 * 1.7 * 1.7);
  EXPECT_EQ(Eval(g, g.Parse("x^-2"), {1.7}), 1.0 / (1.7 * 1.7));
  EXPECT_EQ(Eval(g, g.Parse("x^x"), {1.7}), std::pow(1.7, 1.7));
}

TEST(ExpressionParse, ParametersAreInputsAfterVariables) {
  ExpressionGraph g({"x", "y"}, {"alpha", "b_2"});
  EXPECT_EQ(g.num_variables(), 2);
  EXPECT_EQ(g.num_inputs(), 4);
  const Node n = g.Parse("alpha*x + b_2*y");
  EXPECT_EQ(Eval(g, n, {2.0, 3.0, 10.0, 100.0}), 320.0);
  EXPECT_EQ(Eval(g, n, {2.0, 3.0, -1.0, 0.5}), -0.5);
  EXPECT_EQ(g.Parse("alpha"), g.Input(2));
}

// Function names are functions only when followed by '('; otherwise a symbol of that name is a
// symbol.
TEST(ExpressionParse, SymbolNamedLikeAFunction) {
  ExpressionGraph g({"x", "exp"});
  EXPECT_EQ(g.Parse("exp"), g.Input(1));
  EXPECT_EQ(Eval(g, g.Parse("exp(x) * exp"), {1.0, 3.0}), std::exp(1.0) * 3.0);
}

TEST(ExpressionParse, DuplicateSymbolIsRejected) {
  EXPECT_THROW(ExpressionGraph({"x", "x"}), std::invalid_argument);
  EXPECT_THROW(ExpressionGraph({"x"}, {"x"}), std::invalid_argument);
}

// ------------------------------------------------------------------------------------------------
// 2. Errors.

void ExpectParseError(ExpressionGraph& g, const std::string& text, const std::string& message,
                      std::size_t position) {
  try {
    g.Parse(text);
    ADD_FAILURE() << "no error for '" << text.substr(0, 40) << "'";
  } catch (const ExpressionParseError& e) {
    EXPECT_EQ(std::string(e.what()), message) << "for '" << text.substr(0, 40) << "'";
    EXPECT_EQ(e.position(), position) << "for '" << text.substr(0, 40) << "'";
  }
}

TEST(ExpressionParse, Errors) {
  ExpressionGraph g({"x", "y"});
  ExpectParseError(g, "x + * y", "unexpected '*'", 4);
  ExpectParseError(g, "x + z", "unknown symbol 'z'", 4);
  ExpectParseError(g, "foo(x)", "unknown function 'foo'", 0);
  ExpectParseError(g, "2 * foo (x)", "unknown function 'foo'", 4);
  ExpectParseError(g, "(x", "expected ')'", 2);
  ExpectParseError(g, "sin(x y", "expected ')'", 6);
  ExpectParseError(g, "x)", "unexpected ')'", 1);
  ExpectParseError(g, "x y", "unexpected 'y'", 2);
  ExpectParseError(g, "", "empty expression", 0);
  ExpectParseError(g, "   ", "empty expression", 0);
  ExpectParseError(g, "1e400", "number out of range '1e400'", 0);
  ExpectParseError(g, "x + 2.5e308", "number out of range '2.5e308'", 4);
  ExpectParseError(g, "exp x", "expected '(' after function 'exp'", 4);
  ExpectParseError(g, "2*sqrt", "expected '(' after function 'sqrt'", 6);
  ExpectParseError(g, "x $ y", "unexpected character '$'", 2);
  ExpectParseError(g, "x +", "unexpected end of expression", 3);
  ExpectParseError(g, "x ^", "unexpected end of expression", 3);
  ExpectParseError(g, "-", "unexpected end of expression", 1);
  ExpectParseError(g, "()", "unexpected ')'", 1);
  ExpectParseError(g, "exp()", "unexpected ')'", 4);
  ExpectParseError(g, "exp(x, y)", "function 'exp' takes one argument", 5);
  ExpectParseError(g, "2e", "malformed number '2e'", 0);
  ExpectParseError(g, "x + 1e+", "malformed number '1e+'", 4);
  ExpectParseError(g, "x . y", "unexpected character '.'", 2);
  ExpectParseError(g, std::string(5000, '(') + "x" + std::string(5000, ')'),
                   "expression nested too deeply", 1000);
}

// ------------------------------------------------------------------------------------------------
// 3. Derivatives.

// A set of expressions over variables x, y, z and parameter p covering every operation and
// function, nested compositions and several variables. Points are drawn from [0.5, 1.5]^3 and
// p from [-1, 1], where every expression is smooth and well away from singularities.
const char* const kDerivativeCases[] = {
    "x + y - z",
    "x * y / z",
    "-x^2 + 3*y*p",
    "x^3 * y^-2",
    "(x*y + z)^-3",
    "x^y",
    "x^2.5 + 2^z + z^(-1.5)",
    "(1 + x/100)^70",  // a constant integer exponent too large for kPowInt: general pow
    "(x + z)^(y*z)",
    "exp(x*y) - log(x + z)",
    "sqrt(x^2 + y*z)",
    "sin(x*y) * cos(z)",
    "tan(x/3) + tan(y/2)^2",
    "atan(x - 2*y)",
    "sinh(x) / cosh(y*z)",
    "tanh(x*y - z)",
    "exp(sin(x)^2 / (1 + y^2)) * log(sqrt(x + y*z))",
    "atan(sinh(x*z))^2 + cosh(tanh(y))^(1/3)",
    "(x^2 + y - 11)^2 + (x + y^2 - 7)^2",
    "p * x^4 * y^3 * z^2 / (1 + x*y*z)",
};
constexpr int kNumVariables = 3;
constexpr int kPointsPerCase = 40;

std::vector<double> RandomPoint(std::mt19937_64& rng) {
  std::uniform_real_distribution<double> var(0.5, 1.5);
  std::uniform_real_distribution<double> par(-1.0, 1.0);
  return {var(rng), var(rng), var(rng), par(rng)};
}

// Fourth-order central difference of output `j` of `program` along input `i`.
// Error: truncation h^4 f^(5) / 30 ~ 1e-13 |f^(5)| for h = 1e-3, plus rounding ~ 1.5 eps |f| / h
// ~ 3e-13 |f|. The step 1e-3 ~ eps^(1/5) balances the two.
double CentralDifference(const Program& program, std::vector<double> x, int i, int j) {
  const double h = 1e-3;
  const double x0 = x[i];
  const auto f = [&](double step) {
    x[i] = x0 + step * h;
    return EvalAll(program, x)[j];
  };
  return (-f(2) + 8 * f(1) - 8 * f(-1) + f(-2)) / (12 * h);
}

// Finite differences agree with exact derivatives only to their truncation and rounding error,
// estimated at ~1e-12 relative in CentralDifference and observed up to ~3e-10 at these points
// (larger higher derivatives in a few cases). 1e-7 leaves a wide margin while any wrong rule
// gives errors of order one. Errors are measured relative to max(1, |f|, |derivative|), since
// the rounding error of a difference scales with |f|.
constexpr double kFiniteDifferenceTolerance = 1e-7;

// Forward-mode Jets compute the same derivatives through equivalent floating-point operations in
// a different order (e.g. Jet division multiplies by the reciprocal), so the two agree to a few
// ulps amplified by the depth of the expressions; observed up to ~1e-15 relative to
// max(1, |values|). 1e-13 is a margin of about 100 over that.
constexpr double kJetTolerance = 1e-13;

double Scale(std::initializer_list<double> values) {
  double s = 1.0;
  for (const double v : values) s = std::max(s, std::abs(v));
  return s;
}

struct DerivativePrograms {
  Program value;     // f
  Program gradient;  // df/dx_i
  Program hessian;   // d2f/dx_i dx_j, row-major
};

DerivativePrograms BuildDerivatives(ExpressionGraph& g, const std::string& text) {
  const Node f = g.Parse(text);
  std::vector<Node> grad, hess;
  for (int i = 0; i < kNumVariables; ++i) grad.push_back(g.Derivative(f, i));
  for (int i = 0; i < kNumVariables; ++i) {
    for (int j = 0; j < kNumVariables; ++j) hess.push_back(g.Derivative(grad[i], j));
  }
  return {g.Compile({f}), g.Compile(grad), g.Compile(hess)};
}

TEST(ExpressionDerivative, MatchesFiniteDifferences) {
  std::mt19937_64 rng(12345);
  double worst = 0.0;
  for (const char* text : kDerivativeCases) {
    ExpressionGraph g({"x", "y", "z"}, {"p"});
    const DerivativePrograms d = BuildDerivatives(g, text);
    for (int point = 0; point < kPointsPerCase; ++point) {
      const std::vector<double> x = RandomPoint(rng);
      const double f = EvalAll(d.value, x)[0];
      const std::vector<double> grad = EvalAll(d.gradient, x);
      const std::vector<double> hess = EvalAll(d.hessian, x);
      for (int i = 0; i < kNumVariables; ++i) {
        const double fd = CentralDifference(d.value, x, i, 0);
        const double error = std::abs(grad[i] - fd) / Scale({f, grad[i]});
        worst = std::max(worst, error);
        EXPECT_LE(error, kFiniteDifferenceTolerance)
            << text << ": d/dx" << i << " symbolic " << grad[i] << " fd " << fd;
        for (int j = 0; j < kNumVariables; ++j) {
          // The Hessian against differences of the (already checked) symbolic gradient.
          const double h = hess[i * kNumVariables + j];
          const double fd2 = CentralDifference(d.gradient, x, j, i);
          const double error2 = std::abs(h - fd2) / Scale({grad[i], h});
          worst = std::max(worst, error2);
          EXPECT_LE(error2, kFiniteDifferenceTolerance)
              << text << ": d2/dx" << i << "dx" << j << " symbolic " << h << " fd " << fd2;
        }
      }
    }
  }
  std::cout << "worst relative finite-difference error: " << worst << "\n";
}

TEST(ExpressionDerivative, MatchesJetForwardMode) {
  using Jet = ceres::Jet<double, kNumVariables>;
  std::mt19937_64 rng(6789);
  double worst = 0.0;
  for (const char* text : kDerivativeCases) {
    ExpressionGraph g({"x", "y", "z"}, {"p"});
    const DerivativePrograms d = BuildDerivatives(g, text);
    std::vector<Jet> work(std::max(d.value.workspace_size(), d.gradient.workspace_size()));
    for (int point = 0; point < kPointsPerCase; ++point) {
      const std::vector<double> x = RandomPoint(rng);
      std::vector<Jet> jx(x.size());
      for (std::size_t i = 0; i < x.size(); ++i) {
        jx[i] = i < kNumVariables ? Jet(x[i], static_cast<int>(i)) : Jet(x[i]);
      }
      const std::vector<double> grad = EvalAll(d.gradient, x);
      const std::vector<double> hess = EvalAll(d.hessian, x);
      Jet jf;
      d.value.Evaluate(jx.data(), &jf, work.data());
      const double f = EvalAll(d.value, x)[0];
      EXPECT_LE(std::abs(jf.a - f) / Scale({f}), kJetTolerance) << text;
      std::vector<Jet> jgrad(kNumVariables);
      d.gradient.Evaluate(jx.data(), jgrad.data(), work.data());
      for (int i = 0; i < kNumVariables; ++i) {
        const double error = std::abs(grad[i] - jf.v[i]) / Scale({grad[i], jf.v[i]});
        worst = std::max(worst, error);
        EXPECT_LE(error, kJetTolerance) << text << ": d/dx" << i;
        for (int j = 0; j < kNumVariables; ++j) {
          const double h = hess[i * kNumVariables + j];
          const double error2 = std::abs(h - jgrad[i].v[j]) / Scale({h, jgrad[i].v[j]});
          worst = std::max(worst, error2);
          EXPECT_LE(error2, kJetTolerance) << text << ": d2/dx" << i << "dx" << j;
        }
      }
    }
  }
  std::cout << "worst relative Jet error: " << worst << "\n";
}

// The programs of the derivative tests above contain every kind of instruction, so that each is
// checked against finite differences and Jets.
TEST(ExpressionDerivative, CasesCoverEveryOpCode) {
  std::vector<int> seen(std::size(kAllOpCodes), 0);
  for (const char* text : kDerivativeCases) {
    ExpressionGraph g({"x", "y", "z"}, {"p"});
    const DerivativePrograms d = BuildDerivatives(g, text);
    for (const Program* program : {&d.value, &d.gradient, &d.hessian}) {
      for (std::size_t i = 0; i < std::size(kAllOpCodes); ++i) {
        seen[i] += CountOp(*program, kAllOpCodes[i]);
      }
    }
  }
  for (std::size_t i = 0; i < std::size(kAllOpCodes); ++i) {
    EXPECT_GT(seen[i], 0) << "opcode " << static_cast<int>(kAllOpCodes[i]) << " not covered";
  }
}

// The derivative rules produce the documented shapes.
TEST(ExpressionDerivative, RuleShapes) {
  ExpressionGraph g({"x", "y"});
  const auto d = [&g](const char* text, int v) { return g.ToString(g.Derivative(g.Parse(text), v)); };
  EXPECT_EQ(d("x*y", 0), "y");
  EXPECT_EQ(d("x^3", 0), "(3 * (x ^ 2))");
  EXPECT_EQ(d("x^2", 0), "(x + x)");
  EXPECT_EQ(d("exp(x)", 0), "exp(x)");
  EXPECT_EQ(d("log(x)", 0), "(1 / x)");
  EXPECT_EQ(d("sin(x)", 0), "cos(x)");
  EXPECT_EQ(d("cos(x)", 0), "(-sin(x))");
  EXPECT_EQ(d("sqrt(x)", 0), "(1 / (sqrt(x) + sqrt(x)))");
  EXPECT_EQ(d("x^y", 1), "(log(x) * (x ^ y))");
  EXPECT_EQ(d("sin(x)", 1), "0");
  // Memoized: the same node each time.
  const Node f = g.Parse("sin(x*y)^3");
  EXPECT_EQ(g.Derivative(f, 0), g.Derivative(f, 0));
  EXPECT_THROW(g.Derivative(f, 2), std::out_of_range);
}

// ------------------------------------------------------------------------------------------------
// 4. Simplification and sharing.

TEST(ExpressionSimplify, Identities) {
  ExpressionGraph g({"x", "y"});
  const Node x = g.Input(0);
  const Node zero = g.Constant(0.0);
  const Node one = g.Constant(1.0);
  EXPECT_EQ(g.Parse("x*0"), zero);
  EXPECT_EQ(g.Parse("0*x"), zero);
  EXPECT_EQ(g.Parse("x+0"), x);
  EXPECT_EQ(g.Parse("0+x"), x);
  EXPECT_EQ(g.Parse("x-0"), x);
  EXPECT_EQ(g.Parse("x*1"), x);
  EXPECT_EQ(g.Parse("1*x"), x);
  EXPECT_EQ(g.Parse("x/1"), x);
  EXPECT_EQ(g.Parse("0/x"), zero);
  EXPECT_EQ(g.Parse("--x"), x);
  EXPECT_EQ(g.Parse("x^1"), x);
  EXPECT_EQ(g.Parse("x^0"), one);
  EXPECT_EQ(g.Parse("x-x"), zero);
  EXPECT_EQ(g.Parse("sin(x*y) - sin(y*x)"), zero);
  EXPECT_EQ(g.Parse("-0"), zero);
  EXPECT_TRUE(g.IsConstant(zero));
  EXPECT_FALSE(g.IsConstant(x));
  EXPECT_FALSE(g.IsConstant(g.Parse("x*y")));
}

TEST(ExpressionSimplify, ConstantFolding) {
  ExpressionGraph g({"x"});
  EXPECT_EQ(g.Parse("2*3+4"), g.Constant(10.0));
  EXPECT_EQ(g.Parse("2^10"), g.Constant(1024.0));
  EXPECT_EQ(g.Parse("(1 + 2) * x"), g.Mul(g.Constant(3.0), g.Input(0)));
  EXPECT_EQ(g.ConstantValue(g.Parse("2^0.5")), std::pow(2.0, 0.5));
  EXPECT_EQ(g.ConstantValue(g.Parse("-(3 - 5)")), 2.0);
  // Non-finite results are not folded into constants but stay (constant) nodes.
  const Node inf = g.Parse("1/0");
  EXPECT_TRUE(g.IsConstant(inf));
  EXPECT_EQ(g.ToString(inf), "(1 / 0)");
  EXPECT_EQ(g.ConstantValue(inf), HUGE_VAL);
  const Node nan = g.Parse("log(-1)");
  EXPECT_TRUE(g.IsConstant(nan));
  EXPECT_TRUE(std::isnan(g.ConstantValue(nan)));
  EXPECT_TRUE(g.IsConstant(g.Parse("log(-1) + 2")));
  EXPECT_THROW(g.ConstantValue(g.Input(0)), std::logic_error);
}

TEST(ExpressionSimplify, HashConsing) {
  ExpressionGraph g({"x", "y"});
  EXPECT_EQ(g.Parse("x*y"), g.Parse("y*x"));
  EXPECT_EQ(g.Parse("x+y"), g.Parse("y + x"));
  EXPECT_EQ(g.Parse("2*sin(x)"), g.Parse("sin(x)*2"));
  EXPECT_EQ(g.Parse("exp(x^2 - y)"), g.Parse("exp((x)^2-y)"));
  EXPECT_EQ(g.Parse("x^2"), g.Pow(g.Input(0), g.Constant(2.0)));
  EXPECT_NE(g.Parse("x-y"), g.Parse("y-x"));
  EXPECT_NE(g.Parse("x/y"), g.Parse("y/x"));
  EXPECT_NE(g.Parse("x^y"), g.Parse("y^x"));
}

TEST(ExpressionSimplify, ToStringRoundTrips) {
  ExpressionGraph g({"x", "y"}, {"p"});
  EXPECT_EQ(g.ToString(g.Parse("x + y")), "(x + y)");
  EXPECT_EQ(g.ToString(g.Parse("-x^2")), "(-(x ^ 2))");
  EXPECT_EQ(g.ToString(g.Parse("-x^2 + exp(x*y)")), "(exp(x * y) - (x ^ 2))");
  EXPECT_EQ(g.ToString(g.Parse("x^-2 * p")), "((x ^ -2) * p)");
  EXPECT_EQ(g.ToString(g.Parse("x^0.5 - 1e-3")), "((x ^ 0.5) - 0.001)");
  EXPECT_EQ(g.ToString(g.Parse("(x - 3)^y")), "((x - 3) ^ y)");
  EXPECT_EQ(g.ToString(g.Parse("x * -3")), "(x * (-3))");
  EXPECT_EQ(g.ToString(g.Parse("(-3.5)^y")), "((-3.5) ^ y)");
  // Parsing the printed form gives the same node back, derivatives included.
  for (const char* text : kDerivativeCases) {
    ExpressionGraph h({"x", "y", "z"}, {"p"});
    const Node f = h.Parse(text);
    for (const Node n : {f, h.Derivative(f, 0), h.Derivative(h.Derivative(f, 0), 2)}) {
      EXPECT_EQ(h.Parse(h.ToString(n)), n) << h.ToString(n);
    }
  }
}

TEST(ExpressionCompile, CommonSubexpressionsOnce) {
  ExpressionGraph g({"x", "y"});
  const Node a = g.Parse("sin(x*y) * sin(y*x) + sin(x*y)");
  const Node b = g.Parse("sin(x*y) + 2");
  const Program p = g.Compile({a, b, a});
  EXPECT_EQ(CountOp(p, OpCode::kSin), 1);
  EXPECT_EQ(CountOp(p, OpCode::kMul), 2);  // x * y and s * s
  EXPECT_EQ(CountOp(p, OpCode::kInput), 2);
  EXPECT_EQ(p.num_outputs(), 3);
  EXPECT_EQ(p.num_inputs(), 2);
  const double s = std::sin(0.3 * 0.7);
  const std::vector<double> out = EvalAll(p, {0.3, 0.7});
  EXPECT_EQ(out[0], s * s + s);
  EXPECT_EQ(out[1], s + 2);
  EXPECT_EQ(out[2], out[0]);
  // Only what the outputs reach: the parse of `a` built nodes (like y*x first) that remain.
  EXPECT_EQ(g.Compile({g.Parse("x")}).workspace_size(), 1);
  // An output that is a constant.
  const Program c = g.Compile({g.Derivative(g.Parse("3*x + y"), 0)});
  ASSERT_EQ(c.workspace_size(), 1);
  EXPECT_EQ(EvalAll(c, {1.0, 2.0})[0], 3.0);
}

// A constant operand of + - * / is the immediate of the instruction, not an instruction of its
// own; either side, and with the same results as the constant in a slot would give.
TEST(ExpressionCompile, ConstantOperandsAreImmediates) {
  ExpressionGraph g({"x"});
  const struct {
    const char* text;
    OpCode op;
    double expected;  // at x = 3
  } cases[] = {
      {"x + 0.5", OpCode::kAddConst, 3.5}, {"0.5 + x", OpCode::kAddConst, 3.5},
      {"x - 0.5", OpCode::kSubConst, 2.5}, {"0.5 - x", OpCode::kConstSub, -2.5},
      {"x * 0.5", OpCode::kMulConst, 1.5}, {"0.5 * x", OpCode::kMulConst, 1.5},
      {"x / 0.5", OpCode::kDivConst, 6.0}, {"0.5 / x", OpCode::kConstDiv, 0.5 / 3.0},
  };
  for (const auto& c : cases) {
    const Program p = g.Compile({g.Parse(c.text)});
    ASSERT_EQ(p.code().size(), 2u) << c.text;  // the input, then the operation
    EXPECT_EQ(p.code()[1].op, c.op) << c.text;
    EXPECT_EQ(p.code()[1].value, 0.5) << c.text;
    EXPECT_EQ(EvalAll(p, {3.0})[0], c.expected) << c.text;
  }
  // Other operations keep constant operands in slots; constant outputs are instructions.
  EXPECT_EQ(CountOp(g.Compile({g.Parse("x ^ 0.5")}), OpCode::kConstant), 1);
  EXPECT_EQ(CountOp(g.Compile({g.Parse("x + 1"), g.Parse("1")}), OpCode::kConstant), 1);
  // A non-finite constant quotient stays a division: one constant an immediate, one a slot.
  const Program inf = g.Compile({g.Parse("1/0")});
  EXPECT_EQ(CountOp(inf, OpCode::kConstant), 1);
  EXPECT_EQ(EvalAll(inf, {3.0})[0], HUGE_VAL);
}

TEST(ExpressionCompile, HimmelblauProgramIsSmall) {
  ExpressionGraph g({"x", "y"});
  const Node f = g.Parse("(x^2+y-11)^2 + (x+y^2-7)^2");
  const Node fx = g.Derivative(f, 0);
  const Node fy = g.Derivative(f, 1);
  const Program value_gradient = g.Compile({f, fx, fy});
  const Program with_hessian =
      g.Compile({f, fx, fy, g.Derivative(fx, 0), g.Derivative(fx, 1), g.Derivative(fy, 1)});
  std::cout << "Himmelblau value+gradient: " << value_gradient.code().size()
            << " instructions; value+gradient+Hessian: " << with_hessian.code().size() << "\n";
  const Program gradient = g.Compile({fx, fy});
  std::cout << "Himmelblau gradient: " << gradient.code().size() << " instructions\n";
  EXPECT_LE(value_gradient.code().size(), 19u);
  EXPECT_LE(with_hessian.code().size(), 31u);
  EXPECT_LE(gradient.code().size(), 16u);  // 2 inputs and 14 operations, no constants
  // Values at (3, 2), the minimum: f = 0, gradient 0; and at (1, 1), computed by hand.
  const std::vector<double> at_min = EvalAll(with_hessian, {3.0, 2.0});
  EXPECT_EQ(at_min[0], 0.0);
  EXPECT_EQ(at_min[1], 0.0);
  EXPECT_EQ(at_min[2], 0.0);
  // f = 81 + 25 = 106; fx = 4x(x^2+y-11) + 2(x+y^2-7) = -36 - 10 = -46;
  // fy = 2(x^2+y-11) + 4y(x+y^2-7) = -18 - 20 = -38; fxx = 12x^2 + 4y - 44 + 2 = -26;
  // fxy = 4x + 4y = 8; fyy = 2 + 4x + 12y^2 - 28 = -10. All exact in doubles.
  EXPECT_EQ(EvalAll(with_hessian, {1.0, 1.0}), (std::vector<double>{106, -46, -38, -26, 8, -10}));
}

// ------------------------------------------------------------------------------------------------
// 5. Batch evaluation.

// Evaluates `program` on `count` random points in a batch, with strides larger than count, and
// expects the results of Evaluate<double> at each point bit for bit (compared by bits, so that NaN
// would compare equal too), and nothing written past `count` in any output row.
void ExpectBatchMatchesScalar(const Program& program, int count, std::mt19937_64& rng,
                              const std::string& what) {
  const int num_inputs = program.num_inputs();
  const int num_outputs = program.num_outputs();
  std::vector<double> work(static_cast<std::size_t>(program.workspace_size()) * Program::kMaxBatch);
  std::vector<double> scalar_work(program.workspace_size());
  const int input_stride = count + 3;
  const int output_stride = count + 5;
  std::vector<double> in(static_cast<std::size_t>(num_inputs) * input_stride);
  std::vector<double> out(static_cast<std::size_t>(num_outputs) * output_stride, -1.0);
  for (int k = 0; k < count; ++k) {
    const std::vector<double> point = RandomPoint(rng);
    for (int i = 0; i < num_inputs; ++i) in[i * input_stride + k] = point[i];
  }
  program.EvaluateBatch(count, in.data(), input_stride, out.data(), output_stride, work.data());
  for (int k = 0; k < count; ++k) {
    std::vector<double> point(num_inputs), expected(num_outputs);
    for (int i = 0; i < num_inputs; ++i) point[i] = in[i * input_stride + k];
    program.Evaluate(point.data(), expected.data(), scalar_work.data());
    for (int j = 0; j < num_outputs; ++j) {
      EXPECT_TRUE(SameBits(out[j * output_stride + k], expected[j]))
          << what << ": count " << count << " point " << k << " output " << j << ": "
          << out[j * output_stride + k] << " vs " << expected[j];
    }
  }
  for (int j = 0; j < num_outputs; ++j) {
    for (int k = count; k < output_stride; ++k) {
      EXPECT_EQ(out[j * output_stride + k], -1.0) << what << ": written past count";
    }
  }
}

// EvaluateBatch performs the same operations in the same order as Evaluate<double>, so the
// results must agree bit for bit. Counts: a single point, a partial batch (padded lanes, inputs
// and outputs copied through the workspace), a full one (inputs and outputs in place).
TEST(ExpressionBatch, BitIdenticalToScalar) {
  ExpressionGraph g({"x", "y", "z"}, {"p"});
  std::vector<Node> outputs;
  for (const char* text : kDerivativeCases) outputs.push_back(g.Parse(text));
  outputs.push_back(g.Parse("x^-5 + y^7 + z^-1 + x^64"));
  const int num_values = static_cast<int>(outputs.size());
  for (int i = 0; i < num_values; ++i) {
    outputs.push_back(g.Derivative(outputs[i], i % kNumVariables));
  }
  const Program program = g.Compile(outputs);
  for (const OpCode op : kAllOpCodes) {
    EXPECT_GT(CountOp(program, op), 0) << "opcode " << static_cast<int>(op) << " not covered";
  }
  std::mt19937_64 rng(424242);
  for (const int count : {1, 7, 64}) ExpectBatchMatchesScalar(program, count, rng, "all cases");
}

// EvaluateBatch fuses pairs of arithmetic instructions where the first has a single use into one
// pass over the lanes. Every kind of pair: the first operation, + - * / on two operands or with a
// constant either side (x ^ 2 counts as x * x); the second, + - * / with the first's result on
// either side of another operand or of a constant.
TEST(ExpressionBatch, FusedPairsBitIdenticalToScalar) {
  const std::vector<std::string> firsts = {"x + y", "x - y", "x * y", "x / y", "x ^ 2",
                                           "x + 1.5", "x - 1.5", "1.5 - x", "x * 1.5",
                                           "x / 1.5", "1.5 / x"};
  const std::vector<std::string> ops = {"+", "-", "*", "/"};
  std::mt19937_64 rng(777);
  int cases = 0;
  for (const std::string& first : firsts) {
    for (const std::string& op : ops) {
      for (const std::string other : {"z", "0.75"}) {
        for (const bool first_left : {true, false}) {
          const std::string t = "(" + first + ")";
          const std::string text = first_left ? t + " " + op + " " + other
                                              : other + " " + op + " " + t;
          ExpressionGraph g({"x", "y", "z"}, {"p"});
          const Program program = g.Compile({g.Parse(text)});
          for (const int count : {7, 64}) ExpectBatchMatchesScalar(program, count, rng, text);
          ++cases;
        }
      }
    }
  }
  EXPECT_EQ(cases, 11 * 4 * 2 * 2);
}

// Outputs that are inputs, constants or the same slot twice; the last outputs overlapping the
// inputs, which must then have been read before they are overwritten.
TEST(ExpressionBatch, OutputsOfEveryKind) {
  ExpressionGraph g({"x", "y"});
  const Node xy = g.Parse("x * y + 1");
  const Program program =
      g.Compile({g.Parse("y"), g.Constant(2.5), xy, xy, g.Parse("x"), g.Parse("x - y")});
  std::mt19937_64 rng(99);
  for (const int count : {5, 64}) ExpectBatchMatchesScalar(program, count, rng, "kinds");

  for (const int count : {5, 64}) {
    // Rows: x, y, then the 6 outputs; the outputs start at the inputs' own rows.
    std::vector<double> rows(8 * static_cast<std::size_t>(count));
    std::vector<double> x(count), y(count);
    for (int k = 0; k < count; ++k) {
      rows[k] = x[k] = 0.25 * k - 3.0;
      rows[count + k] = y[k] = 1.0 / (k + 1);
    }
    std::vector<double> work(program.workspace_size() * Program::kMaxBatch);
    program.EvaluateBatch(count, rows.data(), count, rows.data(), count, work.data());
    for (int k = 0; k < count; ++k) {
      const std::vector<double> expected = EvalAll(program, {x[k], y[k]});
      for (int j = 0; j < 6; ++j) {
        EXPECT_TRUE(SameBits(rows[j * count + k], expected[j]))
            << "overlapping, count " << count << " point " << k << " output " << j;
      }
    }
  }
}

// ------------------------------------------------------------------------------------------------
// 6. Parameters.

TEST(ExpressionParameter, NotDifferentiatedButEvaluated) {
  ExpressionGraph g({"x"}, {"a"});
  const Node a = g.Parse("a");
  EXPECT_EQ(g.Derivative(a, 0), g.Constant(0.0));
  EXPECT_FALSE(g.IsConstant(a));  // depends on an input, though not a variable
  const Node f = g.Parse("a*x^2 + exp(a)");
  const Node df = g.Derivative(f, 0);
  EXPECT_EQ(g.ToString(df), "(a * (x + x))");
  EXPECT_THROW(g.Derivative(f, 1), std::out_of_range);  // parameters are not variables
  const Program p = g.Compile({f, df});
  const std::vector<double> v1 = EvalAll(p, {3.0, 2.0});
  const std::vector<double> v2 = EvalAll(p, {3.0, -1.0});
  EXPECT_EQ(v1[0], 18.0 + std::exp(2.0));
  EXPECT_EQ(v1[1], 12.0);
  EXPECT_EQ(v2[0], -9.0 + std::exp(-1.0));
  EXPECT_EQ(v2[1], -6.0);
}

}  // namespace
}  // namespace ldsgd
