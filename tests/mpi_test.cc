// ldsgd under mpirun (ctest label mpi; built only with Open MPI): every output byte-identical to
// the plain run for 1, 2 and 3 ranks, bad input said once with exit 2, and a rank killed mid-run
// ending the job quickly with one line and no output.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <map>
#include <ostream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "tests/cli_runner.h"

namespace ldsgd::test {
namespace {

// Quiet (-q: no launcher banners), as root in CI, and 3 ranks on a 2-core machine.
std::string Launcher(int ranks) {
  return "OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 " + std::string(LDSGD_MPIEXEC) +
         " -q --oversubscribe -np " + std::to_string(ranks);
}

// Every file under dir, by relative path.
std::map<std::string, std::string> Tree(const fs::path& dir) {
  std::map<std::string, std::string> files;
  if (!fs::exists(dir)) return files;
  for (const auto& e : fs::recursive_directory_iterator(dir)) {
    if (e.is_regular_file()) files[fs::relative(e.path(), dir).string()] = Slurp(e.path());
  }
  return files;
}

int Lines(const std::string& text) {
  int n = 0;
  for (char c : text) n += c == '\n';
  return n;
}

struct Job {
  const char* name;
  std::string args;  // without --out
};
void PrintTo(const Job& job, std::ostream* os) { *os << job.name; }

// Three problems of data/ (1-D, 2-D with four minima, Muller-Brown), each through the four commands.
// verify with fixed steps and step sizes where its plan would otherwise follow the machine's speed
// (the budget is a wall-clock budget: more ranks, more steps); the tilted double well ends by its
// checks' decision, so its budget never binds.
std::vector<Job> Jobs() {
  const std::string tilted = Data("tilted_double_well.json"), himmelblau = Data("himmelblau.json"),
                    muller = Data("muller_brown.json");
  return {
      {"tilted_analyze", "analyze " + tilted},
      {"tilted_simulate", "simulate " + tilted + " --step-size 0.1 --steps 100000 --seed 4"},
      {"tilted_verify", "verify " + tilted + " --budget 60s --seed 3"},
      {"tilted_rates", "rates " + tilted + " --pairs 0:2,1:exit --step-sizes 0.1,0.05 --seed 5"},
      {"himmelblau_analyze", "analyze " + himmelblau},
      {"himmelblau_simulate", "simulate " + himmelblau + " --step-size 0.003 --steps 50000 --basin-interval 100"},
      {"himmelblau_verify", "verify " + himmelblau + " --steps 50000"},
      {"himmelblau_rates", "rates " + himmelblau + " --pairs 0:1 --step-sizes 0.01"},
      {"muller_analyze", "analyze " + muller},
      {"muller_simulate", "simulate " + muller + " --step-size 0.0002 --steps 50000"},
      {"muller_verify", "verify " + muller + " --steps 50000 --step-sizes 0.00022,0.00023,0.00024"},
      {"muller_rates", "rates " + muller + " --pairs 1:0 --step-sizes 0.0004"},
  };
}

using MpiCli = Cli;

class MpiJob : public Cli, public ::testing::WithParamInterface<Job> {};

TEST_P(MpiJob, OutputsAreByteIdenticalForOneTwoAndThreeRanks) {
  const Job& job = GetParam();
  const fs::path plain = dir_ / "plain";
  const Result one = Run(job.args + " --out " + plain.string());
  ASSERT_NE(one.exit_code, 2) << one.err;
  const std::map<std::string, std::string> expected = Tree(plain);
  ASSERT_FALSE(expected.empty());
  for (int ranks : {1, 2, 3}) {
    const fs::path out = dir_ / ("np" + std::to_string(ranks));
    const Result r = Run(job.args + " --out " + out.string(), Launcher(ranks));
    EXPECT_EQ(r.exit_code, one.exit_code) << ranks << " ranks: " << r.err;
    const std::map<std::string, std::string> got = Tree(out);
    ASSERT_EQ(got.size(), expected.size()) << ranks << " ranks";
    for (const auto& [name, content] : expected) {
      EXPECT_TRUE(got.count(name) && got.at(name) == content) << ranks << " ranks: " << name << " differs";
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Data, MpiJob, ::testing::ValuesIn(Jobs()),
                         [](const ::testing::TestParamInfo<Job>& info) { return std::string(info.param.name); });

// The printed document too (--json), and only once: the other ranks are silent.
TEST_F(MpiCli, JsonIsPrintedOnceAndIdentical) {
  const std::string args = "simulate " + Data("tilted_double_well.json") + " --step-size 0.1 --steps 20000 --json";
  const Result plain = Run(args);
  ASSERT_EQ(plain.exit_code, 0) << plain.err;
  const Result three = Run(args, Launcher(3));
  ASSERT_EQ(three.exit_code, 0) << three.err;
  EXPECT_EQ(three.out, plain.out);
  EXPECT_EQ(three.err, "");
  // More ranks than chains: rank 0's share is empty.
  const Result few_plain = Run(args + " --chains 2");
  const Result few = Run(args + " --chains 2", Launcher(3));
  ASSERT_EQ(few.exit_code, 0) << few.err;
  EXPECT_EQ(few.out, few_plain.out);
}

TEST_F(MpiCli, VersionSaysItWasBuiltWithMpi) {
  const Result r = Run("--version");
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_NE(r.out.find("with MPI"), std::string::npos) << r.out;
}

TEST_F(MpiCli, BadInputIsOneLineFromRankZeroWithExitTwo) {
  const std::string bad = Write("bad.json", R"({"objective": "x^2", "noise": {"type": "gaussian", "sigma": -1},
                                               "domain": {"lower": [-1], "upper": [1]}})");
  const fs::path out = dir_ / "out";
  const Result r = Run("analyze " + bad + " --out " + out.string(), Launcher(2));
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_EQ(Lines(r.err), 1) << r.err;
  EXPECT_EQ(r.err.rfind("ldsgd: error: " + bad, 0), 0u) << r.err;
  EXPECT_EQ(r.out, "");
  EXPECT_FALSE(fs::exists(out));
  // A file that does not exist: read by rank 0 alone, the same error on every rank.
  const Result missing = Run("analyze " + (dir_ / "nothing.json").string(), Launcher(3));
  EXPECT_EQ(missing.exit_code, 2) << missing.err;
  EXPECT_EQ(Lines(missing.err), 1) << missing.err;
}

// The pid of the rank `rank` of the job tagged `tag` (its environment holds both), or -1.
pid_t FindRank(const std::string& tag, int rank) {
  for (const auto& e : fs::directory_iterator("/proc")) {
    const std::string name = e.path().filename().string();
    if (name.find_first_not_of("0123456789") != std::string::npos) continue;
    std::ifstream in(e.path() / "environ", std::ios::binary);
    std::string var;
    bool tagged = false, ranked = false;
    while (std::getline(in, var, '\0')) {
      tagged = tagged || var == "LDSGD_TEST_TAG=" + tag;
      ranked = ranked || var == "OMPI_COMM_WORLD_RANK=" + std::to_string(rank);
    }
    if (tagged && ranked) return static_cast<pid_t>(std::stol(name));
  }
  return -1;
}

// The issue's bound: the job ends within 10 s of the kill.
constexpr double kEndWithinSeconds = 10.0;

TEST_F(MpiCli, AKilledRankEndsTheJobQuicklyWithOneLineAndNoOutput) {
  const std::string tag = std::to_string(::getpid());
  const fs::path out = dir_ / "out";
  // About 10 minutes of simulation on 2 ranks: it is mid-run when the rank is killed.
  const std::string command = "exec env LDSGD_TEST_TAG=" + tag + " " + Launcher(2) + " -x LDSGD_TEST_TAG " +
                              LDSGD_BINARY + " simulate " + Data("tilted_double_well.json") +
                              " --step-size 0.1 --steps 1000000000 --out " + out.string() + " >" +
                              (dir_ / "stdout").string() + " 2>" + (dir_ / "stderr").string() + " </dev/null";
  const pid_t job = ::fork();
  ASSERT_GE(job, 0);
  if (job == 0) {
    ::setpgid(0, 0);
    ::execl("/bin/sh", "sh", "-c", command.c_str(), static_cast<char*>(nullptr));
    ::_exit(127);
  }
  pid_t victim = -1;
  for (int i = 0; i < 300 && victim < 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    victim = FindRank(tag, 1);
  }
  ASSERT_GT(victim, 0) << "rank 1 never started";
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));  // well into the simulation
  ASSERT_EQ(::kill(victim, SIGKILL), 0);
  const auto killed = std::chrono::steady_clock::now();
  int status = 0;
  pid_t done = 0;
  double seconds = 0.0;
  while ((done = ::waitpid(job, &status, WNOHANG)) == 0 && seconds < 3 * kEndWithinSeconds) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - killed).count();
  }
  if (done == 0) {
    ::kill(-job, SIGKILL);
    ::waitpid(job, &status, 0);
    FAIL() << "the job was still running " << seconds << " s after rank 1 was killed";
  }
  EXPECT_LT(seconds, kEndWithinSeconds);
  std::printf("the job ended %.2f s after rank 1 was killed\n", seconds);
  EXPECT_FALSE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "the job must not report success";
  const std::string err = Slurp(dir_ / "stderr");
  EXPECT_EQ(Lines(err), 1) << err;
  EXPECT_EQ(err.rfind("ldsgd: error: the MPI job was stopped", 0), 0u) << err;
  EXPECT_FALSE(fs::exists(out));
  for (const auto& e : fs::directory_iterator(dir_)) {
    const std::string name = e.path().filename().string();
    EXPECT_TRUE(name == "stdout" || name == "stderr") << "left behind: " << name;
  }
  EXPECT_EQ(FindRank(tag, 0), -1) << "rank 0 outlived the job";
}

}  // namespace
}  // namespace ldsgd::test
