// A problem: objective, noise model, domain and step sizes, read from a JSON problem file
// (format in README.md). Parsing validates everything up front and throws InputError with the file,
// the field and what is wrong; a Problem that exists is valid.
#ifndef LDSGD_SOLVER_PROBLEM_PROBLEM_H_
#define LDSGD_SOLVER_PROBLEM_PROBLEM_H_

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <Eigen/Core>

#include "solver/io/enum_names.h"
#include "solver/noise/noise.h"
#include "solver/objective/finite_sum.h"
#include "solver/objective/network.h"
#include "solver/objective/objective.h"

namespace ldsgd {

struct Domain {
  Eigen::VectorXd lower, upper;
  bool Contains(const Eigen::VectorXd& x, double slack = 0.0) const;
};

// How the critical components are found: kBox, every critical point in the domain by a
// multi-start search (small d); kDescent, minima by descent from an initialization distribution
// and the saddles between neighbouring minima (issue 18: landscapes a box search cannot enumerate).
enum class SearchMethod { kBox, kDescent };
template <>
struct EnumNames<SearchMethod> {
  static constexpr std::array<std::pair<SearchMethod, const char*>, 2> kNames = {{
      {SearchMethod::kBox, "box"},
      {SearchMethod::kDescent, "descent"},
  }};
};

// Where training starts: uniform on [lower, upper] (default: the domain) or normal with the given
// mean and standard deviation per coordinate.
enum class InitKind { kUniform, kNormal };
template <>
struct EnumNames<InitKind> {
  static constexpr std::array<std::pair<InitKind, const char*>, 2> kNames = {{
      {InitKind::kUniform, "uniform"},
      {InitKind::kNormal, "normal"},
  }};
};

struct InitDistribution {
  InitKind kind = InitKind::kUniform;
  Eigen::VectorXd a, b;  // uniform: lower, upper; normal: mean, standard deviation
  // Draw `index` of the stream `seed` (Philox keyed by the seed, counter by the index): the same
  // point whatever the thread that draws it.
  Eigen::VectorXd Sample(std::uint64_t seed, std::uint32_t index) const;
};

struct SearchSpec {
  SearchMethod method = SearchMethod::kBox;
  int starts = 100;       // descent runs
  int neighbours = 3;     // nearest other minima per minimum between which saddles are sought
  std::uint64_t seed = 1;
  InitDistribution init;  // filled by the parser (default: uniform on the domain)
};

struct Problem {
  std::string name;
  std::string source;  // the file it was read from, for messages
  std::vector<std::string> variables;
  std::shared_ptr<const Objective> objective;  // f, including the l2 term
  // Finite sums ({"sum": ...} or {"per_sample": ..., "data": ...}): the samples f_k (each including
  // the l2 term), f = mean of them. Null otherwise.
  std::shared_ptr<const FiniteSum> samples;
  // {"network": [...], ...}: the same samples as a network (its symmetries). Null otherwise.
  std::shared_ptr<const Network> network;
  double l2 = 0.0;
  Noise noise;
  Domain domain;
  std::vector<double> step_sizes;
  SearchSpec search;  // "search"; box by default

  int dimension() const { return static_cast<int>(variables.size()); }
};

// Reads and validates a problem file. Throws InputError.
Problem LoadProblem(const std::string& path);
// Parses problem JSON text; `source` names it in messages. Throws InputError.
Problem ParseProblem(std::string_view json_text, const std::string& source);

// The default problem compiled into the binary (data/himmelblau.json), and its source name.
std::string_view DefaultProblemText();
inline constexpr const char* kDefaultProblemSource = "data/himmelblau.json (embedded)";

}  // namespace ldsgd

#endif  // LDSGD_SOLVER_PROBLEM_PROBLEM_H_
