// Runs the ldsgd binary as a user would, for the command-line tests: exit code, stdout, stderr,
// in a fresh temporary directory per test.
#ifndef LDSGD_TESTS_CLI_RUNNER_H_
#define LDSGD_TESTS_CLI_RUNNER_H_

#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include <gtest/gtest.h>

namespace ldsgd::test {

namespace fs = std::filesystem;

struct Result {
  int exit_code = -1;
  std::string out, err;
};

inline std::string Slurp(const fs::path& p) {
  std::ifstream in(p);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// Runs `ldsgd ARGS` with stdout and stderr captured to files in a fresh temporary directory.
class Cli : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("ldsgd_cli_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  // `launcher`, if any, goes before the binary ("mpirun -np 2").
  Result Run(const std::string& args, const std::string& launcher = "") {
    const std::string command = launcher + (launcher.empty() ? "" : " ") + std::string(LDSGD_BINARY) + " " + args +
                                " >" + (dir_ / "stdout").string() +
                                " 2>" + (dir_ / "stderr").string() + " </dev/null";
    const int status = std::system(command.c_str());
    Result r;
    r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    r.out = Slurp(dir_ / "stdout");
    r.err = Slurp(dir_ / "stderr");
    return r;
  }

  std::string Write(const std::string& name, const std::string& content) {
    std::ofstream(dir_ / name) << content;
    return (dir_ / name).string();
  }

  fs::path dir_;
};

inline std::string Data(const std::string& file) { return std::string(LDSGD_DATA_DIR) + "/" + file; }

}  // namespace ldsgd::test

#endif  // LDSGD_TESTS_CLI_RUNNER_H_
