// Cost files: every bad input is rejected with one exact line naming the file, the field and the
// position; good files load with null as +infinity and other fields ignored.
#include "graph/cost_file.h"

#include <filesystem>
#include <fstream>
#include <limits>
#include <string>

#include <unistd.h>

#include <gtest/gtest.h>

#include "solver/io/input_error.h"

namespace ldsgd {
namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

class CostFileTest : public ::testing::Test {
 protected:
  CostFileTest()
      : dir_(std::filesystem::temp_directory_path() /
             ("ldsgd_cost_file_test_" + std::to_string(::getpid()))) {
    std::filesystem::create_directories(dir_);
  }
  ~CostFileTest() override {
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
  }

  // Writes `text` to a file and returns its path.
  std::string Write(const std::string& text) {
    const std::string path = (dir_ / "costs.json").string();
    std::ofstream(path) << text;
    return path;
  }

  // The what() of the InputError that loading `text` throws, with the path replaced by "FILE".
  std::string ErrorFor(const std::string& text) {
    const std::string path = Write(text);
    try {
      LoadCostFile(path);
    } catch (const InputError& e) {
      std::string what = e.what();
      EXPECT_EQ(e.file(), path);
      EXPECT_EQ(what.rfind(path, 0), 0u) << what;
      return "FILE" + what.substr(path.size());
    }
    ADD_FAILURE() << "no InputError for " << text;
    return "";
  }

  std::filesystem::path dir_;
};

TEST_F(CostFileTest, LoadsNullAsInfinityAndIgnoresOtherFields) {
  const Eigen::MatrixXd costs = LoadCostFile(Write(
      R"({"components": [{"id": 0}], "costs": [[0, 0.1, null], [2, 0, 1e300], [0, 3, 0]], "paths": []})"));
  Eigen::MatrixXd expected(3, 3);
  expected << 0, 0.1, kInf, 2, 0, 1e300, 0, 3, 0;
  EXPECT_EQ(costs, expected);
  EXPECT_EQ(LoadCostFile(Write(R"({"costs": []})")).rows(), 0);
  EXPECT_EQ(LoadCostFile(Write(R"({"costs": [[0]]})")), Eigen::MatrixXd::Zero(1, 1));
}

TEST_F(CostFileTest, UnreadableFile) {
  const std::string missing = (dir_ / "missing.json").string();
  EXPECT_THROW(
      {
        try {
          LoadCostFile(missing);
        } catch (const InputError& e) {
          EXPECT_EQ(std::string(e.what()), missing + ": cannot open file");
          throw;
        }
      },
      InputError);
  EXPECT_THROW(
      {
        try {
          LoadCostFile(dir_.string());
        } catch (const InputError& e) {
          EXPECT_EQ(std::string(e.what()), dir_.string() + ": cannot read file: is a directory");
          throw;
        }
      },
      InputError);
}

TEST_F(CostFileTest, InvalidJson) {
  EXPECT_EQ(ErrorFor(R"({"costs": [[0, 1], [1, 0])"),
            "FILE: invalid JSON: parse error at line 1, column 26: syntax error while parsing array - "
            "unexpected end of input; expected ']'");
  EXPECT_EQ(ErrorFor(""),
            "FILE: invalid JSON: parse error at line 1, column 1: syntax error while parsing value - "
            "unexpected end of input; expected '[', '{', or a literal");
  // Beyond double range: nlohmann rejects it rather than round it to infinity.
  EXPECT_EQ(ErrorFor(R"({"costs": [[0, 1e999], [1, 0]]})"),
            "FILE: invalid JSON: number overflow parsing '1e999'");
}

TEST_F(CostFileTest, MissingOrMalformedCosts) {
  EXPECT_EQ(ErrorFor(R"([[0]])"), "FILE: must be an object, got an array");
  EXPECT_EQ(ErrorFor(R"({"cost": [[0]]})"), "FILE: field 'costs': missing");
  EXPECT_EQ(ErrorFor(R"({"costs": 3})"), "FILE: field 'costs': must be an array of rows, got a number");
  EXPECT_EQ(ErrorFor(R"({"costs": {"0": [0]}})"),
            "FILE: field 'costs': must be an array of rows, got an object");
  EXPECT_EQ(ErrorFor(R"({"costs": [[0, 1], 2]})"), "FILE: field 'costs[1]': must be an array, got a number");
  EXPECT_EQ(ErrorFor(R"({"costs": [[0, 1], null]})"), "FILE: field 'costs[1]': must be an array, got null");
}

TEST_F(CostFileTest, NotSquare) {
  EXPECT_EQ(ErrorFor(R"({"costs": [[0, 1, 1], [1, 0, 1], [1, 1]]})"),
            "FILE: field 'costs[2]': has 2 entries, expected 3 (the matrix must be square)");
  EXPECT_EQ(ErrorFor(R"({"costs": [[0, 1, 2]]})"),
            "FILE: field 'costs[0]': has 3 entries, expected 1 (the matrix must be square)");
}

TEST_F(CostFileTest, NonNumbers) {
  // JSON has no NaN: a "nan" string is a non-number, named as such.
  EXPECT_EQ(ErrorFor(R"({"costs": [[0, "nan"], [1, 0]]})"),
            "FILE: field 'costs[0][1]': must be a number or null (+infinity), got a string \"nan\"");
  EXPECT_EQ(ErrorFor(R"({"costs": [[0, 1], [true, 0]]})"),
            "FILE: field 'costs[1][0]': must be a number or null (+infinity), got a boolean");
  EXPECT_EQ(ErrorFor(R"({"costs": [[0, [1]], [1, 0]]})"),
            "FILE: field 'costs[0][1]': must be a number or null (+infinity), got an array");
}

TEST_F(CostFileTest, NegativeEntries) {
  EXPECT_EQ(ErrorFor(R"({"costs": [[0, 1], [-0.5, 0]]})"),
            "FILE: field 'costs[1][0]': must be >= 0, got -0.5");
  EXPECT_EQ(ErrorFor(R"({"costs": [[0, -3], [1, 0]]})"), "FILE: field 'costs[0][1]': must be >= 0, got -3");
}

TEST_F(CostFileTest, NonzeroDiagonal) {
  EXPECT_EQ(ErrorFor(R"({"costs": [[0, 1], [1, 0.25]]})"),
            "FILE: field 'costs[1][1]': diagonal entry must be 0, got 0.25");
  EXPECT_EQ(ErrorFor(R"({"costs": [[null, 1], [1, 0]]})"),
            "FILE: field 'costs[0][0]': diagonal entry must be 0, got null (+infinity)");
  // -0 is zero.
  EXPECT_EQ(LoadCostFile(Write(R"({"costs": [[-0.0]]})")), Eigen::MatrixXd::Zero(1, 1));
}

}  // namespace
}  // namespace ldsgd
