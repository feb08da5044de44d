// Problem files: what valid files parse to, and one clear message for every kind of bad input.
#include "solver/problem/problem.h"

#include <cmath>
#include <string>

#include <gtest/gtest.h>

#include "solver/io/input_error.h"

namespace ldsgd {
namespace {

// A valid base problem; the bad-input cases below each break one thing in it.
std::string Base(const std::string& objective = R"("(x^2 + y - 11)^2 + (x + y^2 - 7)^2")",
                 const std::string& noise = R"({"type": "gaussian", "sigma": 1})",
                 const std::string& domain = R"({"lower": [-5, -5], "upper": [5, 5]})",
                 const std::string& extra = "") {
  return R"({"variables": ["x", "y"], "objective": )" + objective + R"(, "noise": )" + noise +
         R"(, "domain": )" + domain + extra + "}";
}

std::string ErrorOf(const std::string& text) {
  try {
    ParseProblem(text, "p.json");
  } catch (const InputError& e) {
    return e.what();
  }
  return "(no error)";
}

TEST(Problem, ParsesExpressionObjective) {
  const Problem p = ParseProblem(Base(), "p.json");
  EXPECT_EQ(p.dimension(), 2);
  EXPECT_EQ(p.variables, (std::vector<std::string>{"x", "y"}));
  const double x[2] = {3, 2};
  EXPECT_EQ(p.objective->Value(x), 0.0);
  EXPECT_EQ(p.noise.type(), NoiseType::kGaussian);
  EXPECT_EQ(p.noise.covariance()->kind(), Covariance::Kind::kIsotropic);
  EXPECT_EQ(p.noise.covariance()->At(x)(1, 1), 1.0);
}

TEST(Problem, ParsesBuiltinWithParamsAndL2) {
  const Problem p = ParseProblem(R"({"objective": {"builtin": "tilted_double_well", "params": {"tilt": 0.2}},
      "l2": 0.5, "noise": {"type": "gaussian", "sigma": 2}, "domain": {"lower": [-2], "upper": [2]},
      "step_sizes": [0.1, 0.2]})",
                                 "p.json");
  EXPECT_EQ(p.variables, (std::vector<std::string>{"x"}));
  const double x = 0.7;
  // x^4/4 - x^2/2 + 0.2 x + 0.5/2 x^2
  EXPECT_NEAR(p.objective->Value(&x), std::pow(x, 4) / 4 - x * x / 2 + 0.2 * x + 0.25 * x * x, 1e-15);
  EXPECT_EQ(p.step_sizes, (std::vector<double>{0.1, 0.2}));
  EXPECT_EQ(p.noise.covariance()->sigma(), 2.0);
}

TEST(Problem, ParsesFiniteSumWithTermsAndL2) {
  const Problem p = ParseProblem(R"({"variables": ["w"], "objective": {"sum": ["w^2/2", "-w^2"]},
      "l2": 0.1, "noise": {"type": "finite_sum", "batch_size": 2}, "domain": {"lower": [-1], "upper": [1]}})",
                                 "p.json");
  ASSERT_EQ(p.samples->size(), 2);
  const double w = 0.3;
  EXPECT_NEAR(p.samples->Value(0, &w), w * w / 2 + 0.05 * w * w, 1e-15);
  EXPECT_NEAR(p.samples->Value(1, &w), -w * w + 0.05 * w * w, 1e-15);
  EXPECT_NEAR(p.objective->Value(&w), (w * w / 2 - w * w) / 2 + 0.05 * w * w, 1e-15);
  EXPECT_EQ(p.noise.batch_size(), 2);
  EXPECT_EQ(p.noise.approximation(), NoiseApproximation::kExact);
}

TEST(Problem, ParsesConstantAndStateDependentCovariance) {
  const Problem c = ParseProblem(Base("\"x^2 + y^2\"", R"({"type": "gaussian", "covariance": [[2, 0.5], [0.5, 1]]})"),
                                 "p.json");
  EXPECT_EQ(c.noise.covariance()->kind(), Covariance::Kind::kConstant);
  const Problem s = ParseProblem(
      Base("\"x^2 + y^2\"", R"({"type": "gaussian", "covariance": [["1 + x^2", "0.1*x*y"], ["0.1*y*x", 2]]})"),
      "p.json");
  ASSERT_EQ(s.noise.covariance()->kind(), Covariance::Kind::kStateDependent);
  const double x[2] = {0.5, 2.0};
  std::vector<Eigen::MatrixXd> d;
  const Eigen::MatrixXd m = s.noise.covariance()->At(x, &d);
  EXPECT_DOUBLE_EQ(m(0, 0), 1.25);
  EXPECT_DOUBLE_EQ(m(0, 1), 0.1);
  EXPECT_DOUBLE_EQ(m(1, 0), 0.1);
  EXPECT_DOUBLE_EQ(m(1, 1), 2.0);
  EXPECT_DOUBLE_EQ(d[0](0, 0), 1.0);  // d/dx (1 + x^2) = 2x
  EXPECT_DOUBLE_EQ(d[0](0, 1), 0.2);  // d/dx 0.1 x y = 0.1 y
  EXPECT_DOUBLE_EQ(d[1](0, 1), 0.05);
  EXPECT_DOUBLE_EQ(d[1](1, 1), 0.0);
}

TEST(Problem, DefaultProblemIsHimmelblau) {
  const Problem p = ParseProblem(DefaultProblemText(), kDefaultProblemSource);
  const double x[2] = {3, 2};
  EXPECT_EQ(p.objective->Value(x), 0.0);
}

struct BadCase {
  const char* name;
  std::string text;
  std::string message;
};

// Every message is one line: the file, the field, and what is wrong.
TEST(Problem, BadInputGivesOneClearLine) {
  const std::vector<BadCase> cases = {
      {"malformed JSON", "{\"variables\": [\"x\"],", "p.json: invalid JSON: parse error at line 1, column 21: syntax error while parsing object key - unexpected end of input; expected string literal"},
      {"not an object", "[1, 2]", "p.json: must be an object, got an array"},
      {"NaN literal", Base("\"x\"", R"({"type": "gaussian", "sigma": NaN})"), "p.json: invalid JSON: parse error at line 1, column 84: syntax error while parsing value - invalid literal; last read: '\"sigma\": N'"},
      {"number overflow", Base("\"x\"", R"({"type": "gaussian", "sigma": 1e999})"), "p.json: invalid JSON: number overflow parsing '1e999'"},
      {"missing objective", R"({"variables": ["x"], "noise": {"type": "gaussian", "sigma": 1}, "domain": {"lower": [0], "upper": [1]}})", "p.json: field 'objective': missing"},
      {"missing domain", R"({"variables": ["x"], "objective": "x^2", "noise": {"type": "gaussian", "sigma": 1}})", "p.json: field 'domain': missing"},
      {"missing noise", R"({"variables": ["x"], "objective": "x^2", "domain": {"lower": [0], "upper": [1]}})", "p.json: field 'noise': missing"},
      {"missing variables", R"({"objective": "x^2", "noise": {"type": "gaussian", "sigma": 1}, "domain": {"lower": [0], "upper": [1]}})", "p.json: field 'variables': missing (required with an expression objective)"},
      {"unknown field", Base("\"x\"", R"({"type": "gaussian", "sigma": 1})", R"({"lower": [0, 0], "upper": [1, 1]})", R"(, "stepsizes": [0.1])"), "p.json: field 'stepsizes': unknown field (expected one of: domain, l2, name, noise, objective, search, step_sizes, variables)"},
      {"mistyped sigma", Base("\"x\"", R"({"type": "gaussian", "sigma": "1"})"), "p.json: field 'noise.sigma': must be a number, got a string"},
      {"mistyped variables", R"({"variables": "x", "objective": "x^2", "noise": {"type": "gaussian", "sigma": 1}, "domain": {"lower": [0], "upper": [1]}})", "p.json: field 'variables': must be an array, got a string"},
      {"mistyped objective", Base("42"), "p.json: field 'objective': must be an expression string, {\"builtin\": NAME, \"params\": {...}}, {\"sum\": [EXPR, ...]} or {\"per_sample\": EXPR, \"data\": FILE}, got a number"},
      {"duplicate variable", R"({"variables": ["x", "x"], "objective": "x^2", "noise": {"type": "gaussian", "sigma": 1}, "domain": {"lower": [0, 0], "upper": [1, 1]}})", "p.json: field 'variables[1]': duplicate variable 'x'"},
      {"function as variable", R"({"variables": ["exp"], "objective": "1", "noise": {"type": "gaussian", "sigma": 1}, "domain": {"lower": [0], "upper": [1]}})", "p.json: field 'variables[0]': 'exp' is a function name"},
      {"unknown builtin", Base(R"({"builtin": "rosenbrock"})"), "p.json: field 'objective.builtin': unknown builtin 'rosenbrock' (known: himmelblau, muller_brown, three_hump_camel, tilted_double_well, ring, separable_double_well, planted_himmelblau)"},
      {"search method", Base(R"("x^2 + y^2")", R"({"type": "gaussian", "sigma": 1})", R"({"lower": [-5, -5], "upper": [5, 5]})", R"(, "search": {"method": "basin_hopping"})"), "p.json: field 'search.method': must be \"box\" or \"descent\", got \"basin_hopping\""},
      {"search starts", Base(R"("x^2 + y^2")", R"({"type": "gaussian", "sigma": 1})", R"({"lower": [-5, -5], "upper": [5, 5]})", R"(, "search": {"method": "descent", "starts": 2.5})"), "p.json: field 'search.starts': must be an integer in [2, 1000000]"},
      {"search init std", Base(R"("x^2 + y^2")", R"({"type": "gaussian", "sigma": 1})", R"({"lower": [-5, -5], "upper": [5, 5]})", R"(, "search": {"method": "descent", "init": {"distribution": "normal", "mean": 0, "std": [1, 0]}})"), "p.json: field 'search.init.std[1]': must be positive"},
      {"search init size", Base(R"("x^2 + y^2")", R"({"type": "gaussian", "sigma": 1})", R"({"lower": [-5, -5], "upper": [5, 5]})", R"(, "search": {"method": "descent", "init": {"distribution": "uniform", "lower": [0, 0, 0]}})"), "p.json: field 'search.init.lower': must have 2 entries (one per variable), got 3"},
      {"search init key", Base(R"("x^2 + y^2")", R"({"type": "gaussian", "sigma": 1})", R"({"lower": [-5, -5], "upper": [5, 5]})", R"(, "search": {"method": "descent", "init": {"distribution": "normal", "mean": 0, "std": 1, "lower": 0}})"), "p.json: field 'search.init.lower': unknown field (expected one of: distribution, mean, std)"},
      {"box search extra", Base(R"("x^2 + y^2")", R"({"type": "gaussian", "sigma": 1})", R"({"lower": [-5, -5], "upper": [5, 5]})", R"(, "search": {"method": "box", "starts": 10})"), "p.json: field 'search.starts': unknown field (expected one of: method)"},
      {"planted dimension", R"({"objective": {"builtin": "planted_himmelblau", "params": {"dimension": 1}}, "noise": {"type": "gaussian", "sigma": 1}, "domain": {"lower": 0, "upper": 1}})", "p.json: field 'objective.params': parameter 'dimension' must be an integer in [2, 2000]"},
      {"unknown builtin param", Base(R"({"builtin": "ring", "params": {"radius": 2}})"), "p.json: field 'objective.params': unknown parameter 'radius' of builtin ring"},
      {"bad builtin dimension", R"({"objective": {"builtin": "separable_double_well", "params": {"dimension": 2.5}}, "noise": {"type": "gaussian", "sigma": 1}, "domain": {"lower": [0, 0], "upper": [1, 1]}})", "p.json: field 'objective.params': parameter 'dimension' must be an integer in [1, 8]"},
      {"builtin variable count", Base(R"({"builtin": "tilted_double_well"})"), "p.json: field 'variables': builtin tilted_double_well has 1 variables, got 2"},
      {"unknown variable", Base("\"x + z\""), "p.json: field 'objective': unknown symbol 'z' at position 4 of \"x + z\""},
      {"unknown function", Base("\"foo(x)\""), "p.json: field 'objective': unknown function 'foo' at position 0 of \"foo(x)\""},
      {"syntax error", Base("\"(x + * y\""), "p.json: field 'objective': unexpected '*' at position 5 of \"(x + * y\""},
      {"unclosed parenthesis", Base("\"(x + y\""), "p.json: field 'objective': expected ')' at position 6 of \"(x + y\""},
      {"syntax error in a sum term", R"({"variables": ["w"], "objective": {"sum": ["w^2", "w^"]}, "noise": {"type": "finite_sum", "batch_size": 1}, "domain": {"lower": [0], "upper": [1]}})", "p.json: field 'objective.sum[1]': unexpected end of expression at position 2 of \"w^\""},
      {"infinite constant in expression", Base("\"x + 1e999\""), "p.json: field 'objective': number out of range '1e999' at position 4 of \"x + 1e999\""},
      {"domain dimension", Base("\"x\"", R"({"type": "gaussian", "sigma": 1})", R"({"lower": [0], "upper": [1, 1]})"), "p.json: field 'domain.lower': must have 2 entries (one per variable), got 1"},
      {"lower >= upper", Base("\"x\"", R"({"type": "gaussian", "sigma": 1})", R"({"lower": [0, 1], "upper": [1, 1]})"), "p.json: field 'domain.upper[1]': must be greater than domain.lower[1] (variable 'y')"},
      {"domain not a number", Base("\"x\"", R"({"type": "gaussian", "sigma": 1})", R"({"lower": [0, null], "upper": [1, 1]})"), "p.json: field 'domain.lower[1]': must be a number, got null"},
      {"covariance rows", Base("\"x\"", R"({"type": "gaussian", "covariance": [[1, 0]]})"), "p.json: field 'noise.covariance': must be 2 x 2 (one row per variable), got 1 rows"},
      {"covariance columns", Base("\"x\"", R"({"type": "gaussian", "covariance": [[1, 0], [0]]})"), "p.json: field 'noise.covariance[1]': must have 2 entries, got 1"},
      {"covariance not symmetric", Base("\"x\"", R"({"type": "gaussian", "covariance": [[1, 0.1], [0.2, 1]]})"), "p.json: field 'noise.covariance[1][0]': covariance must be symmetric: differs from entry [0][1]"},
      {"covariance not positive definite", Base("\"x\"", R"({"type": "gaussian", "covariance": [[1, 2], [2, 1]]})"), "p.json: field 'noise.covariance': must be positive definite"},
      {"covariance bad expression", Base("\"x\"", R"({"type": "gaussian", "covariance": [["1 + q", 0], [0, 1]]})"), "p.json: field 'noise.covariance[0][0]': unknown symbol 'q' at position 4 of \"1 + q\""},
      {"sigma and covariance", Base("\"x\"", R"({"type": "gaussian", "sigma": 1, "covariance": [[1, 0], [0, 1]]})"), "p.json: field 'noise': gaussian noise needs exactly one of 'sigma' and 'covariance'"},
      {"negative sigma", Base("\"x\"", R"({"type": "gaussian", "sigma": -1})"), "p.json: field 'noise.sigma': must be positive"},
      {"unknown noise type", Base("\"x\"", R"({"type": "cauchy"})"), "p.json: field 'noise.type': must be \"gaussian\" or \"finite_sum\", got \"cauchy\""},
      {"finite_sum without sum", Base("\"x\"", R"({"type": "finite_sum", "batch_size": 1})"), "p.json: field 'noise.type': finite_sum noise needs a finite-sum objective {\"sum\": [...]} or {\"per_sample\": EXPR, \"data\": FILE}"},
      {"batch size < 1", R"({"variables": ["w"], "objective": {"sum": ["w^2"]}, "noise": {"type": "finite_sum", "batch_size": 0}, "domain": {"lower": [0], "upper": [1]}})", "p.json: field 'noise.batch_size': must be an integer >= 1"},
      {"negative l2", Base("\"x\"", R"({"type": "gaussian", "sigma": 1})", R"({"lower": [0, 0], "upper": [1, 1]})", R"(, "l2": -1)"), "p.json: field 'l2': must be >= 0"},
      {"negative step size", Base("\"x\"", R"({"type": "gaussian", "sigma": 1})", R"({"lower": [0, 0], "upper": [1, 1]})", R"(, "step_sizes": [0.1, 0])"), "p.json: field 'step_sizes[1]': must be positive"},
  };
  for (const BadCase& c : cases) {
    SCOPED_TRACE(c.name);
    const std::string message = ErrorOf(c.text);
    EXPECT_EQ(message, c.message);
    EXPECT_EQ(message.find('\n'), std::string::npos);
  }
}

TEST(Problem, MissingFileIsNamed) {
  try {
    LoadProblem("/nonexistent/problem.json");
    FAIL() << "no error";
  } catch (const InputError& e) {
    EXPECT_EQ(std::string(e.what()), "/nonexistent/problem.json: cannot open file");
  }
}

}  // namespace
}  // namespace ldsgd
