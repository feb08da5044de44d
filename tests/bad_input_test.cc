// Issue 13: never a silent wrong answer. Each reproducer of the bad-input campaign gets the right
// answer or exit 2 with one line naming the file and field, and no output; --out DIR is replaced as
// a whole or not at all.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "tests/cli_runner.h"

namespace {

using ldsgd::test::Cli;
using ldsgd::test::Data;
using ldsgd::test::Result;
using ldsgd::test::Slurp;
namespace fs = std::filesystem;

// One line on stderr, starting "ldsgd: error: ", containing `expected`; nothing on stdout.
void ExpectOneLineError(const Result& r, const std::string& expected) {
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_EQ(r.err.rfind("ldsgd: error: ", 0), 0u) << r.err;
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
  EXPECT_NE(r.err.find(expected), std::string::npos) << r.err;
  EXPECT_TRUE(r.out.empty()) << r.out;
}

std::string OneVariable(const std::string& objective, const std::string& noise) {
  return R"({"variables": ["x"], "objective": ")" + objective + R"(", "noise": {"type": "gaussian", )" + noise +
         R"(}, "domain": {"lower": [-2], "upper": [2]}})";
}

class BadInput : public Cli {};

// Defect 1: f infinite on the box is bad input, not a "minimum" with f = inf.
TEST_F(BadInput, InfiniteObjectiveIsAnInputError) {
  for (const char* f : {"x^2 + 1/0", "(x-x)^-1"}) {
    const std::string file = Write("inf.json", OneVariable(f, R"("sigma": 1)"));
    ExpectOneLineError(Run("analyze " + file + " --out " + (dir_ / "out").string()),
                       "field 'objective': not finite at (0): f = inf");
    EXPECT_FALSE(fs::exists(dir_ / "out"));
  }
}

// Defect 2: a pole inside the box (f unbounded below) is an assumption that fails, at the pole.
TEST_F(BadInput, PoleIsAnUnboundedBelowWarningAtItsPlace) {
  const std::string file =
      Write("pole.json", OneVariable("x^4/4 - x^2/2 + 0.1*x + 1/(x - 0.10103125788101082)", R"("sigma": 1)"));
  Result r = Run("analyze " + file);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("warning: assumption bounded_below fails at (0.101031): f is unbounded below"),
            std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("UNRELIABLE"), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find("singular (to rounding)"), std::string::npos) << r.out;  // sigma = 1 is not singular
  r = Run("analyze " + file + " --json");
  EXPECT_EQ(nlohmann::json::parse(r.out)["predictions"]["reliable"], false);
}

// Defect 3: every floating option is finite and in range, checked before any work.
TEST_F(BadInput, NanAndInfiniteOptionsAreRefused) {
  ExpectOneLineError(Run("actions " + Data("tilted_double_well.json") + " --tolerance nan"),
                     "--tolerance: must be positive and finite, got nan");
  ExpectOneLineError(Run("analyze " + Data("tilted_double_well.json") + " --tolerance nan"), "--tolerance");
  ExpectOneLineError(Run("analyze " + Data("tilted_double_well.json") + " --step-sizes 0.1,inf"), "--step-sizes");
  ExpectOneLineError(Run("simulate " + Data("tilted_double_well.json") + " --step-size nan"), "--step-size");
  ExpectOneLineError(Run("energies " + Data("tilted_double_well.json") + " --tie-tolerance inf"), "--tie-tolerance");
}

// Defect 4: a covariance negative at a component stops simulate as it stops analyze; chains that
// all diverge leave nothing to measure, which is said instead of printing nan.
TEST_F(BadInput, SimulateRefusesANegativeCovarianceAndAllDivergedChains) {
  const std::string negative = Write("neg.json", OneVariable("x^4/4 - x^2/2 + 0.1*x", R"("covariance": [["1 - x^2"]])"));
  ExpectOneLineError(Run("simulate " + negative + " --step-size 0.1"),
                     "field 'noise': the noise covariance is not positive definite at component 0");
  const Result r = Run("simulate " + Data("tilted_double_well.json") + " --step-size 5 --json");
  ExpectOneLineError(r, "--step-size 5: 64 of 64 chains diverged before a step was recorded");
}

// Defect 5: costs whose tree sums overflow are refused, not turned into nan energies.
TEST_F(BadInput, HugeCostsAreRefused) {
  const std::string file = Write("big.json", R"({"costs": [[0, 1e308, 1e308], [1e308, 0, 1e308], [1e308, 1e308, 0]]})");
  ExpectOneLineError(Run("energies " + file), "field 'costs[0][1]': must be <= 1e300");
  ExpectOneLineError(Run("energies " + file + " --json"), "field 'costs[0][1]'");
}

// Defect 6: step counts beyond any finite run are refused, not wrapped.
TEST_F(BadInput, StepCountsOutOfRangeAreRefused) {
  for (const char* steps : {"100000000000000000000", "9223372036854775807", "1e20", "1.5"}) {
    ExpectOneLineError(Run("simulate " + Data("tilted_double_well.json") + " --step-size 0.1 --steps " + steps),
                       "--steps: must be an integer from 1 to 1e+12");
  }
}

// Defect 7: endless or huge files stop at the size limit.
TEST_F(BadInput, EndlessFilesStopAtTheLimit) {
  const auto start = std::chrono::steady_clock::now();
  ExpectOneLineError(Run("critical /dev/zero"), "/dev/zero: not a regular file");
  const std::string file = Write("zero_data.json", R"({"variables": ["a"], "objective": {"per_sample": "(a - y)^2", "data": "/dev/zero"},
      "noise": {"type": "finite_sum", "batch_size": 1}, "domain": {"lower": [-1], "upper": [1]}})");
  ExpectOneLineError(Run("critical " + file), "/dev/zero: not a regular file");
  EXPECT_LT(std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count(), 10.0);
}

// Defect 8: a key given twice is an error naming it, never last-wins.
TEST_F(BadInput, DuplicateKeysAreRefused) {
  const std::string file = Write("dup.json", R"({"name": "FIRST", "name": "SECOND", "variables": ["x"],
      "objective": "x^2", "noise": {"type": "gaussian", "sigma": 1}, "domain": {"lower": [-1], "upper": [1]}})");
  ExpectOneLineError(Run("critical " + file), "field 'name': given twice");
  const std::string nested = Write("dup2.json", R"({"variables": ["x"], "objective": "x^2",
      "noise": {"type": "gaussian", "sigma": 1, "sigma": 2}, "domain": {"lower": [-1], "upper": [1]}})");
  ExpectOneLineError(Run("critical " + nested), "field 'noise.sigma': given twice");
  const std::string costs = Write("dupcost.json", R"({"costs": [[0, 1], [1, 0]], "costs": [[0]]})");
  ExpectOneLineError(Run("energies " + costs), "field 'costs': given twice");
}

// Also: --out '' and CLI11's own errors are one line with the prefix.
TEST_F(BadInput, EmptyOutAndUnknownFlagsAreOneLineErrors) {
  ExpectOneLineError(Run("critical " + Data("ring.json") + " --out ''"), "--out: must not be empty");
  ExpectOneLineError(Run("critical --no-such-flag"), "--no-such-flag");
  ExpectOneLineError(Run("frobnicate"), "unknown command 'frobnicate'");
}

// Defect 9: re-running into an existing DIR leaves exactly the new run's files.
TEST_F(BadInput, OutputDirectoryHoldsExactlyTheLastRun) {
  const std::string out = (dir_ / "out").string();
  ASSERT_EQ(Run("analyze " + Data("muller_brown.json") + " --out " + out).exit_code, 0);
  EXPECT_TRUE(fs::exists(dir_ / "out" / "paths" / "0_to_2.csv"));
  ASSERT_EQ(Run("analyze " + Data("tilted_double_well.json") + " --out " + out).exit_code, 0);
  int paths = 0;
  for ([[maybe_unused]] const auto& e : fs::directory_iterator(dir_ / "out" / "paths")) ++paths;
  EXPECT_EQ(paths, 6);  // 3 components, 6 ordered pairs; none of Muller-Brown's 20 left
  EXPECT_EQ(nlohmann::json::parse(Slurp(dir_ / "out" / "report.json"))["components"].size(), 3u);
  // A failed run leaves DIR as it was.
  const std::string bad = Write("bad.json", OneVariable("x^", R"("sigma": 1)"));
  EXPECT_EQ(Run("analyze " + bad + " --out " + out).exit_code, 2);
  EXPECT_EQ(nlohmann::json::parse(Slurp(dir_ / "out" / "report.json"))["components"].size(), 3u);
  // Nothing but DIR is left beside it.
  int siblings = 0;
  for ([[maybe_unused]] const auto& e : fs::directory_iterator(dir_)) ++siblings;
  EXPECT_EQ(siblings, 4);  // stdout, stderr, bad.json, out
}

// A directory with files ldsgd did not write is refused unless --force.
TEST_F(BadInput, ForeignDirectoryNeedsForce) {
  fs::create_directories(dir_ / "mine");
  Write("mine/notes.txt", "precious");
  const std::string out = (dir_ / "mine").string();
  ExpectOneLineError(Run("critical " + Data("ring.json") + " --out " + out), "which ldsgd did not write");
  EXPECT_EQ(Slurp(dir_ / "mine" / "notes.txt"), "precious");
  ASSERT_EQ(Run("critical " + Data("ring.json") + " --out " + out + " --force").exit_code, 0);
  EXPECT_FALSE(fs::exists(dir_ / "mine" / "notes.txt"));
  EXPECT_TRUE(fs::exists(dir_ / "mine" / "critical.json"));
}

// The files below `dir`, relative, with their contents.
std::map<std::string, std::string> Listing(const fs::path& dir) {
  std::map<std::string, std::string> files;
  for (const auto& e : fs::recursive_directory_iterator(dir)) {
    if (e.is_regular_file()) files[fs::relative(e.path(), dir).string()] = Slurp(e.path());
  }
  return files;
}

// SIGKILL at several moments of a long analyze into an existing DIR leaves exactly the DIR of the
// run before (the new one appears only complete, in one exchange). Without a DIR before, the killed
// run leaves none.
TEST_F(BadInput, KilledRunLeavesTheDirectoryAbsentOrComplete) {
  const fs::path out = dir_ / "out";
  auto kill_after = [&](double seconds) {
    const pid_t child = ::fork();
    ASSERT_GE(child, 0);
    if (child == 0) {
      if (::freopen("/dev/null", "w", stdout) == nullptr) ::_exit(126);
      ::execl(LDSGD_BINARY, LDSGD_BINARY, "analyze", Data("separable_double_well_3d.json").c_str(), "--out",
              out.c_str(), "--threads", "1", static_cast<char*>(nullptr));
      ::_exit(127);
    }
    std::this_thread::sleep_for(std::chrono::duration<double>(seconds));
    ::kill(child, SIGKILL);
    int status = 0;
    ::waitpid(child, &status, 0);
  };
  kill_after(1.0);
  EXPECT_FALSE(fs::exists(out));
  ASSERT_EQ(Run("analyze " + Data("separable_double_well_3d.json") + " --out " + out.string()).exit_code, 0);
  const std::map<std::string, std::string> complete = Listing(out);
  EXPECT_EQ(complete.count("report.json"), 1u);
  EXPECT_GT(complete.size(), 700u);  // 27 components: report, graphs and the paths of 702 pairs
  for (double seconds : {0.2, 1.0, 3.0, 6.0}) {
    SCOPED_TRACE(seconds);
    kill_after(seconds);
    ASSERT_TRUE(fs::exists(out));
    EXPECT_TRUE(Listing(out) == complete);
  }
  // Nothing is left beside it either.
  int siblings = 0;
  for ([[maybe_unused]] const auto& e : fs::directory_iterator(dir_)) ++siblings;
  EXPECT_LE(siblings, 4);  // stdout, stderr, out, and at most the last killed run's staging folder
}

}  // namespace
