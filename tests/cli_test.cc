// The ldsgd command line, run as a user would: exit codes, one-line errors, no partial output.
#include <sys/wait.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "tests/cli_runner.h"

namespace {

using ldsgd::test::Cli;
using ldsgd::test::Data;
using ldsgd::test::Result;
using ldsgd::test::Slurp;
namespace fs = std::filesystem;

TEST_F(Cli, CriticalWritesJsonAndTable) {
  const Result r = Run("critical " + Data("himmelblau.json") + " --out " + (dir_ / "out").string());
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("maximum"), std::string::npos);
  EXPECT_NE(r.out.find("9 components"), std::string::npos);
  const nlohmann::json j = nlohmann::json::parse(Slurp(dir_ / "out" / "critical.json"));
  ASSERT_EQ(j["components"].size(), 9u);
  EXPECT_EQ(j["components"][0]["type"], "minimum");
  EXPECT_EQ(j["components"][8]["type"], "maximum");
  EXPECT_EQ(j["components"][8]["index"], 2);
  EXPECT_EQ(j["components"][8]["size"], 1);
  // No temporary file is left behind.
  EXPECT_EQ(std::distance(fs::directory_iterator(dir_ / "out"), fs::directory_iterator()), 1);
}

TEST_F(Cli, CriticalJsonOnStdoutAndEmbeddedDefault) {
  const Result r = Run("critical --json");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const nlohmann::json j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["components"].size(), 9u);
  EXPECT_EQ(j["variables"], nlohmann::json::array({"x", "y"}));
}

TEST_F(Cli, RingComponentHasSizeAboveOne) {
  const Result r = Run("critical " + Data("ring.json") + " --json");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const nlohmann::json j = nlohmann::json::parse(r.out);
  ASSERT_EQ(j["components"].size(), 2u);
  EXPECT_GT(j["components"][0]["size"].get<int>(), 1);
  EXPECT_EQ(j["components"][0]["type"], "minimum");
}

TEST_F(Cli, HelpExplainsEveryCommand) {
  Result r = Run("--help");
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_NE(r.out.find("critical"), std::string::npos);
  r = Run("critical --help");
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_NE(r.out.find("--out"), std::string::npos);
  EXPECT_NE(r.out.find("--json"), std::string::npos);
}

// Bad input: exit code 2, exactly one line on stderr naming file and field, nothing written.
TEST_F(Cli, BadProblemFilesExitTwoWithOneLineAndNoOutput) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"{\"variables\": [\"x\"", "invalid JSON"},
      {R"({"variables": ["x"], "objective": "x^2 +", "noise": {"type": "gaussian", "sigma": 1}, "domain": {"lower": [0], "upper": [1]}})",
       "field 'objective': unexpected end of expression at position 5"},
      {R"({"variables": ["x"], "objective": "x^2", "noise": {"type": "gaussian", "sigma": 1}, "domain": {"lower": [1], "upper": [0]}})",
       "field 'domain.upper[0]'"},
      {R"({"variables": ["x"], "objective": "x^2", "noise": {"type": "finite_sum", "batch_size": 1}, "domain": {"lower": [0], "upper": [1]}})",
       "field 'noise.type'"},
      {R"({"variables": ["x"], "objective": {"per_sample": "(x - c)^2", "data": "no_such.csv"}, "noise": {"type": "finite_sum", "batch_size": 1}, "domain": {"lower": [0], "upper": [1]}})",
       "field 'objective.data': cannot open"},
  };
  int k = 0;
  for (const auto& [content, expected] : cases) {
    SCOPED_TRACE(content);
    const std::string file = Write("bad" + std::to_string(k++) + ".json", content);
    const Result r = Run("critical " + file + " --out " + (dir_ / "out").string());
    EXPECT_EQ(r.exit_code, 2);
    EXPECT_EQ(r.err.find("ldsgd: error: " + file + ": "), 0u) << r.err;
    EXPECT_NE(r.err.find(expected), std::string::npos) << r.err;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
    EXPECT_TRUE(r.out.empty());
    EXPECT_FALSE(fs::exists(dir_ / "out"));
  }
}

TEST_F(Cli, MissingFileAndBadOptionsExitTwo) {
  Result r = Run("critical /nonexistent.json");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.err, "ldsgd: error: /nonexistent.json: cannot open file\n");
  r = Run("critical --starts -3");
  EXPECT_EQ(r.exit_code, 2);
  r = Run("critical --no-such-flag");
  EXPECT_EQ(r.exit_code, 2);
  r = Run("frobnicate");
  EXPECT_EQ(r.exit_code, 2);
}

TEST_F(Cli, EnergiesReadsCostFilesAndRejectsBadOnes) {
  const std::string good = Write("costs.json", R"({"costs": [[0, 1, null], [2, 0, 3], [0.5, null, 0]]})");
  Result r = Run("energies " + good + " --json");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const nlohmann::json j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["energies"].size(), 3u);
  EXPECT_EQ(j["ground_states"].size(), 1u);
  const std::vector<std::pair<std::string, std::string>> bad = {
      {R"({"costs": [[0, 1], [2, 0], [1, 1]]})", "costs"},
      {R"({"costs": [[0, -1], [2, 0]]})", "field 'costs[0][1]'"},
      {R"({"costs": [[0, "nan"], [2, 0]]})", "field 'costs[0][1]'"},
      {R"({"costs": [[1, 1], [2, 0]]})", "field 'costs[0][0]'"},
      {R"({"cost": []})", "field 'costs'"},
      {R"({"costs": [[0, 1], [2, 0]])", "invalid JSON"},
  };
  int k = 0;
  for (const auto& [content, expected] : bad) {
    SCOPED_TRACE(content);
    const std::string file = Write("bad_costs" + std::to_string(k++) + ".json", content);
    r = Run("energies " + file);
    EXPECT_EQ(r.exit_code, 2);
    EXPECT_EQ(r.err.find("ldsgd: error: " + file + ": "), 0u) << r.err;
    EXPECT_NE(r.err.find(expected), std::string::npos) << r.err;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
    EXPECT_TRUE(r.out.empty());
  }
}

TEST_F(Cli, AnalyzeJsonOnTheTiltedDoubleWell) {
  const Result r = Run("analyze " + Data("tilted_double_well.json") + " --json");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const nlohmann::json j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["ground_states"], nlohmann::json::array({0}));
  EXPECT_EQ(j["predictions"]["step_sizes"].size(), 3u);
  EXPECT_EQ(j["paths"].size(), 6u);
}

// Issue 6: --compare-gaussian on THEORY.md case 3. The Gaussian approximation's covariance is
// var_k(c_k) = 0.686667 (constant), so its climbing costs are 2 (f(q) - f(min)) / var: 1.041005 and
// 0.459218, against the exact 1.065955 and 0.516204.
TEST_F(Cli, AnalyzeComparesTheExactCostsWithTheGaussianApproximation) {
  const Result r = Run("analyze " + Data("tilted_double_well_finite_sum.json") + " --compare-gaussian --json");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const nlohmann::json j = nlohmann::json::parse(r.out);
  const double var = (1.0 + 0.09 + 1.0) / 3.0 - 0.01;
  const double fq = 0.0050255156, fl = -0.35238607, fr = -0.15263944;  // THEORY.md case 1
  constexpr double kTolerance = 1e-6;  // the reference values' 8 digits
  EXPECT_EQ(j["comparison"]["noise"], "gaussian_approximation");
  EXPECT_NEAR(j["comparison"]["costs"][0][2].get<double>(), 2 * (fq - fl) / var, kTolerance);
  EXPECT_NEAR(j["comparison"]["costs"][1][2].get<double>(), 2 * (fq - fr) / var, kTolerance);
  EXPECT_NEAR(j["costs"][0][2].get<double>(), 1.065955, kTolerance);
  EXPECT_NEAR(j["costs"][1][2].get<double>(), 0.516204, kTolerance);
  EXPECT_EQ(j["comparison"]["energies"].size(), 3u);
  // Only finite sums have a Gaussian approximation to compare with.
  const Result bad = Run("analyze " + Data("tilted_double_well.json") + " --compare-gaussian --out " +
                         (dir_ / "out").string());
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_NE(bad.err.find("field 'noise.type': comparing with the Gaussian approximation needs finite_sum noise"),
            std::string::npos) << bad.err;
  EXPECT_FALSE(fs::exists(dir_ / "out"));
}

// Issue 7: the assumption checks in report.json and in the summary, unreliable predictions marked.
TEST_F(Cli, AnalyzeReportsAssumptionsAndMarksUnreliablePredictions) {
  Result r = Run("analyze " + Data("vanishing_noise.json") + " --json");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const nlohmann::json j = nlohmann::json::parse(r.out);
  ASSERT_TRUE(j["assumptions"].is_array());
  EXPECT_EQ(j["assumptions"][0]["name"], "noise_positive_definite");
  EXPECT_EQ(j["assumptions"][0]["holds"], false);
  EXPECT_EQ(j["assumptions"][0]["where"], "component 0 (0)");
  EXPECT_EQ(j["predictions"]["reliable"], false);
  r = Run("analyze " + Data("vanishing_noise.json"));
  EXPECT_NE(r.out.find("predictions (energies, weights, exit costs) UNRELIABLE"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("weight(eta=0.8)*"), std::string::npos) << r.out;
  r = Run("analyze " + Data("tilted_double_well.json") + " --json");
  const nlohmann::json k = nlohmann::json::parse(r.out);
  EXPECT_EQ(k["predictions"]["reliable"], true);
  for (const auto& a : k["assumptions"]) EXPECT_EQ(a["holds"], true) << a.dump();
}

// Finite sums in 2-D: a +inf cost that no tried path could make finite is said to be uncertified
// (here it is truly infinite: the samples differ only along x, and too weakly to climb); in 1-D it
// is exact and no warning is printed.
TEST_F(Cli, AnalyzeSaysWhenAnInfiniteCostIsNotCertified) {
  const std::string file = Write("weak2d.json", R"({"variables": ["x", "y"],
      "objective": {"sum": ["x^4/4 - x^2/2 + 0*x + y^2/2", "x^4/4 - x^2/2 + 0.2*x + y^2/2"]},
      "noise": {"type": "finite_sum", "batch_size": 1}, "domain": {"lower": [-2, -2], "upper": [2, 2]}})");
  Result r = Run("analyze " + file + " --json");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const nlohmann::json j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["uncertified_infinite_costs"].size(), 4u);
  r = Run("analyze " + file);
  EXPECT_NE(r.out.find("warning: 4 costs are +inf only because every path tried crossed"), std::string::npos) << r.out;
  r = Run("analyze " + Data("tilted_double_well_weak_noise.json") + " --json");
  EXPECT_EQ(nlohmann::json::parse(r.out)["uncertified_infinite_costs"].size(), 0u);
}

// Issue 12: a state-dependent covariance that is positive semi-definite and vanishes at a critical
// point is an assumption that fails (warning, unreliable predictions, exit 0), not bad input; one
// that is negative at a component stays a one-line input error naming the file and the noise.
TEST_F(Cli, AnalyzeWarnsWhereTheCovarianceVanishesAndRejectsANegativeOne) {
  const std::string vanishing = Write("vanishing.json", R"({"variables": ["x"], "objective": "x^4/4 - x^2/2",
      "noise": {"type": "gaussian", "covariance": [["x^2"]]}, "domain": {"lower": [-2], "upper": [2]}})");
  Result r = Run("analyze " + vanishing + " --json");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const nlohmann::json j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["assumptions"][0]["name"], "noise_positive_definite");
  EXPECT_EQ(j["assumptions"][0]["holds"], false);
  EXPECT_EQ(j["predictions"]["reliable"], false);
  r = Run("analyze " + vanishing);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("warning: assumption noise_positive_definite fails at component 2 (0)"), std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("UNRELIABLE"), std::string::npos) << r.out;

  const std::string negative = Write("negative.json", R"({"variables": ["x"], "objective": "x^4/4 - x^2/2 + 0.1*x",
      "noise": {"type": "gaussian", "covariance": [["1 + 2*x"]]}, "domain": {"lower": [-2], "upper": [2]}})");
  r = Run("analyze " + negative + " --out " + (dir_ / "out").string());
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.err.rfind("ldsgd: error: " + negative + ": field 'noise': the noise covariance is not positive definite", 0), 0u)
      << r.err;
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
  EXPECT_FALSE(fs::exists(dir_ / "out"));
}

TEST_F(Cli, AnalyzeBadInputWritesNothing) {
  const std::string file = Write("bad.json", R"({"variables": ["x"], "objective": "x^", "noise": {"type": "gaussian", "sigma": 1}, "domain": {"lower": [0], "upper": [1]}})");
  const Result r = Run("analyze " + file + " --out " + (dir_ / "out").string());
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_FALSE(fs::exists(dir_ / "out"));
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
}

// `stability` (THEORY.md section 8, case 8 with a = -1).
TEST_F(Cli, StabilityAtOneStepSize) {
  const Result r = Run("stability " + Data("vanishing_noise.json") + " --step-size 0.8");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(r.err.empty()) << r.err;
  EXPECT_NE(r.out.find("vanishing"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("-0.3269632337"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("absorbing"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("with probability one"), std::string::npos) << r.out;
  const Result j = Run("stability " + Data("vanishing_noise.json") + " --step-size 0.3 --json");
  ASSERT_EQ(j.exit_code, 0) << j.err;
  const nlohmann::json doc = nlohmann::json::parse(j.out);
  ASSERT_EQ(doc["components"].size(), 1u);
  EXPECT_EQ(doc["components"][0]["stability"], "repelling");
  EXPECT_GT(doc["components"][0]["exponent"].get<double>(), 0.0);
}

TEST_F(Cli, StabilitySweepWritesThePhaseDiagram) {
  const fs::path out = dir_ / "out";
  const Result r = Run("stability " + Data("vanishing_noise.json") +
                       " --step-sizes 0.05:1.95:39 --out " + out.string());
  ASSERT_EQ(r.exit_code, 0) << r.err;
  // Exactly the two files: no temporary left behind.
  EXPECT_EQ(std::distance(fs::directory_iterator(out), fs::directory_iterator()), 2);
  const std::string csv = Slurp(out / "stability.csv");
  EXPECT_EQ(csv.rfind("component,eta,exponent,half_width,phase\n", 0), 0u) << csv;
  EXPECT_EQ(std::count(csv.begin(), csv.end(), '\n'), 40);
  const nlohmann::json j = nlohmann::json::parse(Slurp(out / "stability.json"));
  EXPECT_EQ(j["sweep"].size(), 39u);
  ASSERT_EQ(j["absorbing_windows"].size(), 1u);
  // a/(a-1) and (a - sqrt(a^2 - 8a + 8)) / (2(a-1)) at a = -1 (THEORY.md case 8), to 1e-4.
  EXPECT_NEAR(j["absorbing_windows"][0]["lower"].get<double>(), 0.5, 1e-4);
  EXPECT_NEAR(j["absorbing_windows"][0]["upper"].get<double>(), (-1 - std::sqrt(17.0)) / -4, 1e-4);
  const Result json = Run("stability " + Data("vanishing_noise.json") + " --step-sizes 0.05:1.95:39 --json");
  ASSERT_EQ(json.exit_code, 0) << json.err;
  EXPECT_EQ(nlohmann::json::parse(json.out), j);
}

TEST_F(Cli, StabilityOnGaussianNoiseDoesNotApply) {
  const Result r = Run("stability " + Data("tilted_double_well.json") + " --step-size 0.1");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("no critical component with vanishing noise: the stochastic-stability "
                       "analysis does not apply"),
            std::string::npos)
      << r.out;
}

TEST_F(Cli, StabilityBadInputExitsTwoWithOneLineAndWritesNothing) {
  const std::string problem = Data("vanishing_noise.json");
  const std::string out = " --out " + (dir_ / "out").string();
  for (const std::string args :
       {"--step-sizes 0.1:1", "--step-sizes a:1:5", "--step-sizes 0.1:1:1", "--step-sizes 1:0.5:5",
        "--step-sizes 0:1:5", "--step-sizes -0.5:1:5", "--step-sizes 0.1:1:5:2", "--step-size 0",
        "--step-size -1", "--step-size abc", "--step-size 0.8 --step-sizes 0.1:1:5", ""}) {
    SCOPED_TRACE(args);
    const Result r = Run("stability " + problem + " " + args + out);
    EXPECT_EQ(r.exit_code, 2);
    EXPECT_EQ(r.err.rfind("ldsgd: error: ", 0), 0u) << r.err;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
    EXPECT_TRUE(r.out.empty()) << r.out;
    EXPECT_FALSE(fs::exists(dir_ / "out"));
  }
}

}  // namespace
