// `ldsgd convergence` (THEORY.md section 10): E(x) against the closed forms of the reference cases
// and a 1-D chain of our own where E(x) exceeds the depth of x's own well, the simulated hitting
// times against E(x) (--verify), and bad starts as one-line input errors.
#include <cmath>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "solver/analysis/analysis.h"
#include "solver/theory/convergence.h"
#include "tests/cli_runner.h"

namespace ldsgd::test {
namespace {

using ConvergenceCli = Cli;

double TiltedWell(double x) { return x * x * x * x / 4 - x * x / 2 + 0.1 * x; }

nlohmann::json Starts(const Result& r) { return nlohmann::json::parse(r.out)["starts"]; }

// THEORY.md case 1, sigma = 1: from R's basin E = B_{R->q} = 0.315330; from L's basin the chain
// must first climb to q, so E(x) = [0.315330 - 2 (f(q) - f(x))]_+ (isotropic Gaussian, 1-D: the
// action of the climb is 2 (f(q) - f(x)) / sigma^2), 0 near L and growing toward q.
TEST_F(ConvergenceCli, TiltedDoubleWellMatchesTheClosedForm) {
  constexpr double kExact = 1e-6;  // the costs are refined to 1e-8 relative; the case's digits
  constexpr double kBRq = 0.315330, kQ = 0.101031;
  const std::string starts = " --start 0.5 --start 0.945649 --start 1.5 --start -0.7 --start -0.3 --start 0 --start 0.09";
  const Result r = Run("convergence " + Data("tilted_double_well.json") + starts + " --json");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const nlohmann::json s = Starts(r);
  ASSERT_EQ(s.size(), 7u);
  for (int k = 0; k < 3; ++k) EXPECT_NEAR(s[k]["E"].get<double>(), kBRq, kExact) << s[k].dump();
  double last = -1;
  for (int k = 3; k < 7; ++k) {
    const double x = s[k]["point"][0];
    const double expected = std::max(0.0, kBRq - 2 * (TiltedWell(kQ) - TiltedWell(x)));
    EXPECT_NEAR(s[k]["E"].get<double>(), expected, kExact) << s[k].dump();
    EXPECT_GE(s[k]["E"].get<double>(), last);
    last = s[k]["E"];
  }
  EXPECT_EQ(s[3]["E"].get<double>(), 0.0);  // near L: no exponential wait
  EXPECT_GT(s[6]["E"].get<double>(), 0.3);
}

// The simulated hitting times from R's basin and from the left of the maximum: the slope of
// log(eta E tau) against 1/eta within its interval plus the leading order's allowance.
TEST_F(ConvergenceCli, TiltedDoubleWellVerifyPasses) {
  const Result r = Run("convergence " + Data("tilted_double_well.json") + " --start 0.945649 --start 0 --verify --json");
  ASSERT_EQ(r.exit_code, 0) << r.err << r.out;
  const nlohmann::json doc = nlohmann::json::parse(r.out);
  EXPECT_EQ(doc["verdict"], "pass");
  for (const auto& c : doc["checks"]) EXPECT_EQ(c["method"], "direct") << c.dump();
}

// THEORY.md case 6, sigma = 1: E = 2 (0.877362 - 0.298638) = 1.157448 from either side basin, 0 at
// the centre; the side wells' exits, measured by splitting, carry the slope.
TEST_F(ConvergenceCli, ThreeHumpCamelMatchesAndVerifies) {
  constexpr double kExact = 1e-5, kSide = 1.157448;
  const Result r = Run("convergence " + Data("three_hump_camel.json") +
                       " --start 1.747552,-0.873776 --start -1.2,0.3 --start 0,0 --verify --json");
  ASSERT_EQ(r.exit_code, 0) << r.err << r.out;
  const nlohmann::json doc = nlohmann::json::parse(r.out);
  const nlohmann::json s = doc["starts"];
  EXPECT_NEAR(s[0]["E"].get<double>(), kSide, kExact);
  EXPECT_NEAR(s[1]["E"].get<double>(), kSide, kExact);
  EXPECT_EQ(s[2]["E"].get<double>(), 0.0);
  EXPECT_EQ(doc["verdict"], "pass");
  EXPECT_EQ(doc["checks"][0]["verdict"], "pass");
  EXPECT_EQ(doc["checks"][2]["verdict"], "skipped");  // within delta of the minimum
}

// Our own chain: deep minimum a, maximum b, shallow minimum c, highest maximum d, global minimum e
// (f' = 0.2 (x + 2)(x + 1.2)(x + 0.3)(x - 0.8)(x - 2)). From c SGD crosses the low barrier b into
// the deep well a first and must then climb d: E(c) = 2 (f(d) - f(a)) = 0.634559, more than twice
// the depth of c's own well, 2 (f(b) - f(c)) = 0.252944. The simulation confirms it.
TEST_F(ConvergenceCli, EExceedsTheDepthOfTheStartsOwnWell) {
  const std::string f = "0.2*(x^6/6 + 0.7*x^5/5 - 4.84*x^4/4 - 3.088*x^3/3 + 3.36*x^2/2 + 1.152*x)";
  const auto value = [](double x) {
    return 0.2 * (std::pow(x, 6) / 6 + 0.7 * std::pow(x, 5) / 5 - 4.84 * std::pow(x, 4) / 4 - 3.088 * std::pow(x, 3) / 3 +
                  3.36 * x * x / 2 + 1.152 * x);
  };
  const std::string file = Write("chain.json", R"({"name": "five critical points", "variables": ["x"],
      "objective": ")" + f + R"(", "noise": {"type": "gaussian", "sigma": 1}, "domain": {"lower": [-3], "upper": [3]}})");
  const Result r = Run("convergence " + file + " --start -0.3 --verify --json");
  ASSERT_EQ(r.exit_code, 0) << r.err << r.out;
  const nlohmann::json doc = nlohmann::json::parse(r.out);
  const double e = doc["starts"][0]["E"], closed = 2 * (value(0.8) - value(-2.0)), depth = 2 * (value(-1.2) - value(-0.3));
  EXPECT_NEAR(e, closed, 1e-6);
  EXPECT_GT(e, 2 * depth);
  EXPECT_EQ(doc["verdict"], "pass") << doc["checks"].dump();
}

// The same convergence.json for any thread count (the starts run in parallel; each hitting time is
// a function of the seed and the chain), and a box sample's distribution of E(x).
TEST_F(ConvergenceCli, SameFileForAnyThreadCountAndABoxSample) {
  for (const std::string& starts : {std::string(" --starts-from box --samples 16 --start 0.9"), std::string(" --start 0.9 --verify")}) {
    const std::string base = "convergence " + Data("tilted_double_well.json") + starts;
    const Result one = Run(base + " --threads 1 --out " + (dir_ / "one").string() + " --force");
    ASSERT_EQ(one.exit_code, 0) << one.err << one.out;
    const Result two = Run(base + " --threads 2 --out " + (dir_ / "two").string() + " --force");
    ASSERT_EQ(two.exit_code, 0) << two.err;
    EXPECT_EQ(Slurp(dir_ / "one" / "convergence.json"), Slurp(dir_ / "two" / "convergence.json")) << starts;
  }
  const Result box = Run("convergence " + Data("tilted_double_well.json") + " --starts-from box --samples 16 --json");
  ASSERT_EQ(box.exit_code, 0) << box.err;
  const nlohmann::json doc = nlohmann::json::parse(box.out);
  ASSERT_EQ(doc["starts"].size(), 16u);
  const double zero = doc["summary"]["fraction_zero"];
  EXPECT_GT(zero, 0.0);  // the box holds starts in L's basin far from q
  EXPECT_LT(zero, 1.0);  // and starts in R's basin
  EXPECT_NEAR(doc["summary"]["E_quantiles"][4].get<double>(), 0.315330, 1e-6);
}

// The restricted costs differ from the long-run ones: with the global minimum between two outer
// wells (f' = x (x^2 - 2.25)(x^2 - 4)), the only route from one outer well to the other crosses
// argmin f, so B0 = +inf there while B is finite; E of each outer well is its climb
// 2 (f(-1.5) - f(-2)) = 0.893229166...
TEST_F(ConvergenceCli, RestrictedCostsDoNotPassThroughTheGlobalMinimum) {
  const std::string file = Write("wells.json", R"({"name": "three wells", "variables": ["x"],
      "objective": "x^6/6 - 6.25*x^4/4 + 4.5*x^2", "noise": {"type": "gaussian", "sigma": 1},
      "domain": {"lower": [-3], "upper": [3]}})");
  const Result r = Run("convergence " + file + " --start -2 --json");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const nlohmann::json doc = nlohmann::json::parse(r.out);
  const auto f = [](double x) { return std::pow(x, 6) / 6 - 6.25 * std::pow(x, 4) / 4 + 4.5 * x * x; };
  ASSERT_EQ(doc["global_minima"], nlohmann::json::array({0}));
  int left = -1, right = -1;  // ids come from the critical search
  const Result a = Run("critical " + file + " --json");
  ASSERT_EQ(a.exit_code, 0) << a.err;
  const nlohmann::json comps = nlohmann::json::parse(a.out)["components"];
  for (int k = 0; k < static_cast<int>(comps.size()); ++k) {
    const double x = comps[k]["point"][0];
    if (std::abs(x + 2) < 1e-6) left = k;
    if (std::abs(x - 2) < 1e-6) right = k;
  }
  ASSERT_GE(left, 0);
  ASSERT_GE(right, 0);
  EXPECT_TRUE(doc["restricted_costs"][left][right].is_null());
  EXPECT_TRUE(doc["restricted_costs"][right][left].is_null());
  EXPECT_NEAR(doc["E_components"][left].get<double>(), 2 * (f(-1.5) - f(-2.0)), 1e-8);
  EXPECT_NEAR(doc["starts"][0]["E"].get<double>(), 2 * (f(-1.5) - f(-2.0)), 1e-8);
}

// Finite sums in d >= 2: from (0, 0), just left of the saddle, the straight path to the saddle
// crosses a region no sample step moves through; the bent and spanning initial paths (as the
// analysis') find the climb, so E(x) = E(1) - B0(x, saddle) is just below E(1) instead of 0.
TEST_F(ConvergenceCli, FiniteSumStartsUseCurvedPaths) {
  const Result r = Run("convergence " + Data("coupled_double_well_2d_finite_sum.json") + " --start 0,0 --json");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const nlohmann::json doc = nlohmann::json::parse(r.out);
  const double e = doc["starts"][0]["E"], top = doc["E_components"][1];
  EXPECT_GT(e, 0.9 * top);
  EXPECT_LT(e, top);
}

// The pruning of point_costs.h (a direct cost is solved only if its gain can raise E(x)) is exact:
// E(x) equals the maximum over every direct cost solved.
TEST(Convergence, PrunedDirectCostsGiveTheSameE) {
  const Problem problem = LoadProblem(std::string(LDSGD_DATA_DIR) + "/three_hump_camel.json");
  AnalysisOptions options;
  options.last_stage = AnalysisStage::kCosts;
  options.costs.restricted = true;
  AnalysisSummary summary;
  const Analysis a = Analyze(problem, options, &summary);
  ASSERT_TRUE(summary.status.ok()) << summary.status.message();
  const std::vector<Eigen::VectorXd> starts = BoxStarts(problem, 6);
  ConvergenceOptions co;
  co.costs = options.costs;
  const ConvergenceReport report = AnalyzeConvergence(problem, a.components, a.costs, starts, co);
  ASSERT_TRUE(report.status.ok()) << report.status.message();
  int pruned = 0;
  for (std::size_t n = 0; n < starts.size(); ++n) {
    const PointCosts full = ComputePointCosts(problem, a.components, a.costs, starts[n], co.costs);
    double e = 0.0;
    for (Eigen::Index i = 0; i < full.restricted.size(); ++i) {
      if (std::isfinite(full.restricted[i])) e = std::max(e, report.exponents.exponent[i] - full.restricted[i]);
    }
    if (report.starts[n].arrived) e = 0.0;
    EXPECT_NEAR(report.starts[n].exponent, e, 1e-12) << n;
    pruned += full.solved - report.starts[n].costs.solved;
  }
  EXPECT_GT(pruned, 0);  // it did save work
}

TEST_F(ConvergenceCli, BadStartsAreOneLineInputErrors) {
  const std::string csv = Write("starts.csv", "x\n0.5\nnan\n");
  for (const std::string& bad : std::vector<std::string>{"--start 9", "--start 0.1,0.2", "--start nan", "--start abc", "--starts-from " + csv,
                                "--starts-from " + (dir_ / "missing.csv").string()}) {
    const Result r = Run("convergence " + Data("tilted_double_well.json") + " " + bad + " --out " + (dir_ / "out").string());
    EXPECT_EQ(r.exit_code, 2) << bad << ": " << r.err;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
    EXPECT_EQ(r.out, "");
    EXPECT_FALSE(fs::exists(dir_ / "out"));
  }
}

}  // namespace
}  // namespace ldsgd::test
