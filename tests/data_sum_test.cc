// Finite sums from datasets ({"per_sample": EXPR, "data": FILE}): the CSV reader, the per-sample
// program against brute force and against the equivalent {"sum": [...]} problem, the simulator's
// minibatch gradients, and bad input.
#include <cmath>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "solver/io/csv_table.h"
#include "solver/objective/finite_sum.h"
#include "solver/io/input_error.h"
#include "solver/problem/problem.h"
#include "solver/simulation/simulator.h"
#include "tests/test_problems.h"

namespace ldsgd {
namespace {

namespace fs = std::filesystem;
using test::Load;
using test::Solve;

// A fresh folder per test for problem and CSV files.
class DataSumFiles : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("ldsgd_data_sum_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string Write(const std::string& name, const std::string& text) {
    std::ofstream(dir_ / name) << text;
    return (dir_ / name).string();
  }
  // A problem file whose objective is `objective` (JSON), next to its CSV.
  std::string Problem1D(const std::string& objective) {
    return Write("p.json", R"({"variables": ["x"], "objective": )" + objective +
                               R"(, "noise": {"type": "finite_sum", "batch_size": 1},
                               "domain": {"lower": [-2], "upper": [2]}})");
  }
  std::string ErrorOf(const std::string& path) {
    try {
      LoadProblem(path);
    } catch (const InputError& e) {
      return e.what();
    }
    return "no error";
  }
  fs::path dir_;
};

// The rows of data/robust_regression.csv, read here independently of the library's reader.
std::vector<std::pair<double, double>> RobustRegressionRows() {
  std::ifstream in(std::string(LDSGD_DATA_DIR) + "/robust_regression.csv");
  std::vector<std::pair<double, double>> rows;
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#' || line[0] == 'x') continue;
    const std::size_t comma = line.find(',');
    rows.emplace_back(std::stod(line.substr(0, comma)), std::stod(line.substr(comma + 1)));
  }
  return rows;
}

TEST(DataSum, RobustRegressionIsTheMeanOverRowsPlusL2) {
  const Problem p = Load("robust_regression.json");
  const auto rows = RobustRegressionRows();
  ASSERT_EQ(rows.size(), 200u);
  ASSERT_EQ(p.samples->size(), 200);
  // Brute force: f(a, b) = mean_k (1 - exp(-(y_k - a x_k - b)^2 / 0.18)) + 0.025 (a^2 + b^2).
  auto brute = [&](double a, double b) {
    double total = 0.0;
    for (const auto& [x, y] : rows) total += 1.0 - std::exp(-std::pow(y - a * x - b, 2) / 0.18);
    return total / rows.size() + 0.025 * (a * a + b * b);
  };
  constexpr double kValueTolerance = 1e-13;  // 200 terms of size <= 1, summed in another order
  constexpr double kDerivativeTolerance = 1e-7;  // central differences, h = 1e-5 (error ~ h^2)
  constexpr double h = 1e-5;
  for (const auto& [a, b] : std::vector<std::pair<double, double>>{{0.3, -0.2}, {1.1, 0.6}, {-2, 1}}) {
    const Eigen::Vector2d x(a, b);
    EXPECT_NEAR(p.objective->Value(x), brute(a, b), kValueTolerance);
    const Eigen::VectorXd g = p.objective->Gradient(x);
    EXPECT_NEAR(g[0], (brute(a + h, b) - brute(a - h, b)) / (2 * h), kDerivativeTolerance);
    EXPECT_NEAR(g[1], (brute(a, b + h) - brute(a, b - h)) / (2 * h), kDerivativeTolerance);
    const Eigen::MatrixXd hess = p.objective->Hessian(x);
    for (int i = 0; i < 2; ++i) {
      Eigen::Vector2d up = x, down = x;
      up[i] += h;
      down[i] -= h;
      const Eigen::VectorXd column = (p.objective->Gradient(up) - p.objective->Gradient(down)) / (2 * h);
      EXPECT_NEAR(hess(0, i), column[0], kDerivativeTolerance);
      EXPECT_NEAR(hess(1, i), column[1], kDerivativeTolerance);
    }
    // Each sample: f_k and g_k against the row's formula.
    Eigen::VectorXd values;
    Eigen::MatrixXd grads;
    p.samples->Evaluate(x.data(), &values, &grads, nullptr);
    for (int k : {0, 17, 199}) {
      const auto [xk, yk] = rows[k];
      const double r = yk - a * xk - b, e = std::exp(-r * r / 0.18);
      EXPECT_NEAR(values[k], 1 - e + 0.025 * (a * a + b * b), kValueTolerance);
      EXPECT_NEAR(grads(0, k), -e * 2 * r / 0.18 * xk + 0.05 * a, kValueTolerance);
      EXPECT_NEAR(grads(1, k), -e * 2 * r / 0.18 + 0.05 * b, kValueTolerance);
      EXPECT_NEAR(p.samples->Value(k, x.data()), values[k], kValueTolerance);
    }
  }
}

// The simulator's gather path gives each lane its drawn row's gradient, across batch chunks.
TEST(DataSum, SampleGradientsOfDrawnRowsMatchTheRows) {
  for (const char* file : {"robust_regression.json", "tilted_double_well_2d_finite_sum.json"}) {
    SCOPED_TRACE(file);
    const Problem p = Load(file);
    const FiniteSum& s = *p.samples;
    const int lanes = 150, stride = 160, d = s.dimension();  // crosses the 64-lane chunks
    std::mt19937 rng(3);
    std::vector<double> x(d * stride), sum(d * stride, 0.5);
    std::vector<std::uint32_t> drawn(lanes);
    for (int l = 0; l < lanes; ++l) {
      for (int i = 0; i < d; ++i) x[i * stride + l] = std::uniform_real_distribution<>(-2, 2)(rng);
      drawn[l] = static_cast<std::uint32_t>(rng() % s.size());
    }
    s.AddSampleGradients(lanes, drawn.data(), x.data(), stride, sum.data());
    for (int l = 0; l < lanes; ++l) {
      Eigen::VectorXd point(d);
      for (int i = 0; i < d; ++i) point[i] = x[i * stride + l];
      Eigen::MatrixXd g;
      s.Gradients(point.data(), &g);
      for (int i = 0; i < d; ++i) EXPECT_NEAR(sum[i * stride + l], 0.5 + g(i, drawn[l]), 1e-14);
    }
  }
}

// THEORY.md case 3 from a CSV of the offsets c_k: the same costs as the {"sum": ...} form (and as
// the reference), and the same simulation.
TEST_F(DataSumFiles, CaseThreeFromADatasetEqualsTheSumForm) {
  Write("offsets.csv", "c\n-1\n0.3\n1\n");
  const Problem data = LoadProblem(Problem1D(R"({"per_sample": "x^4/4 - x^2/2 + c*x", "data": "offsets.csv"})"));
  const Problem sum = Load("tilted_double_well_finite_sum.json");
  const test::Solved a = Solve(data), b = Solve(sum);
  ASSERT_EQ(a.components.size(), 3u);
  ASSERT_EQ(b.components.size(), 3u);
  constexpr double kSameCost = 1e-10;  // two programs of the same function: rounding only
  for (int i = 0; i < 3; ++i) {
    for (int j = 0; j < 3; ++j) EXPECT_NEAR(a.costs.costs(i, j), b.costs.costs(i, j), kSameCost);
  }
  // THEORY.md case 3: B_{L->q} = 1.065955, B_{R->q} = 0.516204 (components sorted by f: L, R, q).
  EXPECT_NEAR(a.costs.costs(0, 2), 1.065955, 1e-6 * 1.065955 + 5e-7);
  EXPECT_NEAR(a.costs.costs(1, 2), 0.516204, 1e-6 * 0.516204 + 5e-7);

  SimulationOptions o;
  o.step_size = 0.2;
  o.steps = 3000;
  o.burn_in = 300;
  o.chains = 100;
  o.seed = 9;
  o.num_threads = 1;
  Simulator::Summary sa, sb;
  const SimulationResult ra = Simulator(o).Simulate(data, a.components, &sa);
  const SimulationResult rb = Simulator(o).Simulate(sum, b.components, &sb);
  ASSERT_TRUE(sa.status.ok()) << sa.status.message();
  ASSERT_TRUE(sb.status.ok()) << sb.status.message();
  // The same drawn indices, the same gradients up to rounding: the same visits.
  EXPECT_EQ(ra.transitions, rb.transitions);
  for (int i = 0; i < 3; ++i) EXPECT_NEAR(ra.occupation[i], rb.occupation[i], 1e-12);
}

TEST_F(DataSumFiles, RelativePathsAreRelativeToTheProblemFile) {
  fs::create_directories(dir_ / "sub");
  Write("sub/rows.csv", "# a comment line\nc , w\r\n1, 2\r\n\n3,4\r\n");
  const Problem p = LoadProblem(Problem1D(R"({"per_sample": "(x - c)^2 * w", "data": "sub/rows.csv"})"));
  ASSERT_EQ(p.samples->size(), 2);
  const double x = 0.5;
  EXPECT_DOUBLE_EQ(p.samples->Value(0, &x), 0.25 * 2);
  EXPECT_DOUBLE_EQ(p.samples->Value(1, &x), 6.25 * 4);
  EXPECT_DOUBLE_EQ(p.objective->Value(&x), (0.5 + 25) / 2);
}

// Every message: one line naming the file, and the field or the line and column.
TEST_F(DataSumFiles, BadDatasetsGiveOneClearLine) {
  const std::string csv = (dir_ / "d.csv").string();
  const std::string problem = (dir_ / "p.json").string();
  struct Case {
    const char* name;
    std::string csv_text;  // empty: no CSV file at all
    std::string per_sample;
    std::string message;
  };
  const std::vector<Case> cases = {
      {"missing CSV", "", "(x - c)^2", problem + ": field 'objective.data': cannot open '" + csv + "'"},
      {"missing column", "c\n1\n", "(x - c)^2 * w",
       problem + ": field 'objective.per_sample': unknown symbol 'w' at position 12 of \"(x - c)^2 * w\" (variables: x; columns of " + csv + ": c)"},
      {"unknown symbol", "c\n1\n", "(x - c)^2 + sin(q)",
       problem + ": field 'objective.per_sample': unknown symbol 'q' at position 16 of \"(x - c)^2 + sin(q)\" (variables: x; columns of " + csv + ": c)"},
      {"non-numeric cell", "c,w\n1,2\n3,abc\n", "(x - c)^2", csv + ": line 3: column 'w': 'abc' is not a finite number"},
      {"empty cell", "c,w\n1,\n", "(x - c)^2", csv + ": line 2: column 'w': '' is not a finite number"},
      {"infinite cell", "c\n1e999\n", "(x - c)^2", csv + ": line 2: column 'c': '1e999' is not a finite number"},
      {"missing cell", "c,w\n1,2\n3\n", "(x - c)^2", csv + ": line 3: expected 2 cells (one per column), got 1"},
      {"empty dataset", "c,w\n", "(x - c)^2", csv + ": empty dataset (a header but no data rows)"},
      {"empty file", "# nothing\n", "(x - c)^2", csv + ": empty dataset (no header line)"},
      {"bad header", "c,2w\n1,2\n", "(x - c)^2", csv + ": line 1: column 2: header '2w' is not a valid name (letters, digits and _, not starting with a digit)"},
      {"duplicate column", "c,c\n1,2\n", "(x - c)^2", csv + ": line 1: duplicate column 'c'"},
      {"column named like a variable", "x\n1\n", "x^2", problem + ": field 'variables': 'x' is also a column of " + csv + " (variables and columns need distinct names)"},
      {"column named like a function", "exp\n1\n", "x^2", csv + ": column 'exp' has the name of a function"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    fs::remove(csv);
    if (!c.csv_text.empty()) Write("d.csv", c.csv_text);
    Problem1D(R"({"per_sample": ")" + c.per_sample + R"(", "data": "d.csv"})");
    const std::string message = ErrorOf(problem);
    EXPECT_EQ(message, c.message);
    EXPECT_EQ(message.find('\n'), std::string::npos);
  }
  // The object's own fields.
  Problem1D(R"({"per_sample": "x^2"})");
  EXPECT_EQ(ErrorOf(problem), problem + ": field 'objective.data': missing");
  Problem1D(R"({"per_sample": "x^2", "data": "d.csv", "rows": 3})");
  EXPECT_EQ(ErrorOf(problem), problem + ": field 'objective.rows': unknown field (expected one of: data, per_sample)");
}

}  // namespace
}  // namespace ldsgd
