// `ldsgd verify` as a user runs it: reproducible verify.json (any thread count; rounds or one run
// of the same length), the budget option, and verdicts on problems from data/.
#include <string>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "tests/cli_runner.h"

namespace ldsgd::test {
namespace {

using VerifyCli = Cli;

// The tilted double well at its file's step sizes ends by its checks' decision in about a second
// (the budget only bounds a stuck run), so the run is a function of the seed alone.
TEST_F(VerifyCli, SameJsonForAnyThreadCountAndForRoundsOrOneRun) {
  const std::string base = "verify " + Data("tilted_double_well.json") + " --budget 60s --seed 3 --json";
  const Result one = Run(base + " --threads 1");
  ASSERT_EQ(one.exit_code, 0) << one.err << one.out;
  const Result two = Run(base + " --threads 2");
  EXPECT_EQ(two.out, one.out);
  // The rounds extended the chains to N steps; one run of N steps with the same automatic
  // burn-in (it is at most N / 2) gives the same file.
  const nlohmann::json doc = nlohmann::json::parse(one.out);
  const long steps = doc["simulations"][0]["steps"];
  for (const auto& sim : doc["simulations"]) ASSERT_LE(2 * sim["burn_in"].get<long>(), steps);
  const Result single = Run(base + " --threads 2 --steps " + std::to_string(steps));
  EXPECT_EQ(single.out, one.out);
  EXPECT_EQ(doc["verdict"], "pass");
  // Per check: regime, allowance, steps and transitions.
  for (const auto& check : doc["checks"]) {
    EXPECT_TRUE(check.contains("regime")) << check.dump();
    EXPECT_TRUE(check.contains("transitions")) << check.dump();
    EXPECT_TRUE(check.contains("steps")) << check.dump();
  }
  EXPECT_EQ(doc["theory_error"].size(), 3u);
}

// The camel's exits need ~1e11 steps by direct simulation; the default run measures them by
// splitting at B/eta = 50 to 170 and passes on the rare-event checks alone (the direct occupation
// checks, which cannot mix, are skipped with the reason).
TEST_F(VerifyCli, ThreeHumpCamelPassesByRareEvents) {
  const Result r = Run("verify " + Data("three_hump_camel.json") + " --json");
  ASSERT_EQ(r.exit_code, 0) << r.err << r.out;
  const nlohmann::json doc = nlohmann::json::parse(r.out);
  int rare = 0;
  for (const auto& c : doc["checks"]) {
    if (c["method"] != "rare-event") continue;
    ++rare;
    EXPECT_EQ(c["verdict"], "pass") << c.dump();
  }
  EXPECT_GE(rare, 3 + 4 + 2);  // three exits, four tree edges, two energies
}

TEST_F(VerifyCli, BadBudgetIsAOneLineInputError) {
  for (const std::string bad : {"0", "-1m", "abc", "2x", "nan", "9999h"}) {
    const Result r = Run("verify " + Data("tilted_double_well.json") + " --budget " + bad);
    EXPECT_EQ(r.exit_code, 2) << bad;
    EXPECT_NE(r.err.find("--budget"), std::string::npos) << r.err;
    EXPECT_EQ(r.out, "") << bad;
  }
}

// A problem file with one step size gets two more chosen, not an error (himmelblau_hot lists
// 0.001): the checks run at three step sizes, the file's among them.
TEST_F(VerifyCli, OneStepSizeInTheFileIsCompleted) {
  const Result r = Run("verify " + Data("himmelblau_hot.json") + " --budget 20s --json");
  ASSERT_NE(r.exit_code, 2) << r.err;
  const nlohmann::json doc = nlohmann::json::parse(r.out);
  ASSERT_EQ(doc["step_sizes"].size(), 3u);
  int given = 0;
  for (std::size_t k = 0; k < 3; ++k) given += doc["chosen_step_sizes"][k] ? 0 : 1;
  EXPECT_EQ(given, 1);
}

}  // namespace
}  // namespace ldsgd::test

namespace ldsgd::test {
namespace {

// --from-init: chains from search.init (here the default, uniform on the domain); the tilted
// double well at eta = 0.1 passes (init_verification_test.cc has the numbers), writing
// verify_init.json, and the same seed gives the same file.
TEST_F(Cli, VerifyFromInitPassesOnTheTiltedDoubleWellAndIsReproducible) {
  const std::string base = "verify " + Data("tilted_double_well.json") + " --from-init --step-sizes 0.1 --steps 200000";
  const Result r = Run(base + " --out " + (dir_ / "a").string() + " --threads 1");
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("verdict: pass"), std::string::npos) << r.out;
  const Result again = Run(base + " --out " + (dir_ / "b").string() + " --threads 2");
  ASSERT_EQ(again.exit_code, 0) << again.err;
  const nlohmann::json doc = nlohmann::json::parse(Slurp(dir_ / "a" / "verify_init.json"));
  EXPECT_EQ(doc["verdict"], "pass");
  EXPECT_EQ(doc["minima"].size(), 2u);
  EXPECT_EQ(Slurp(dir_ / "a" / "verify_init.json"), Slurp(dir_ / "b" / "verify_init.json"));
}

// The shipped network: the run completes and says inconclusive, naming the assumption that fails
// (the noise covariance is singular at the minimum with two identical hidden units), with the
// basin fractions of both classes of minima.
TEST_F(Cli, VerifyFromInitOnTheIrisNetworkIsHonestlyInconclusive) {
  const Result r = Run("verify " + Data("iris_network.json") + " --from-init --json");
  ASSERT_EQ(r.exit_code, 1) << r.err;
  const nlohmann::json doc = nlohmann::json::parse(r.out);
  EXPECT_EQ(doc["verdict"], "inconclusive");
  EXPECT_NE(doc["reason"].get<std::string>().find("noise_positive_definite"), std::string::npos);
  ASSERT_EQ(doc["minima"].size(), 2u);
  const double total = doc["minima"][0]["measured"].get<double>() + doc["minima"][1]["measured"].get<double>();
  EXPECT_NEAR(total, 1.0, 1e-12);  // fractions among the iterates in a discovered basin
}

}  // namespace
}  // namespace ldsgd::test
