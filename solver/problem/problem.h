// A problem: objective, noise model, domain and step sizes, read from a JSON problem file
// (format in README.md). Parsing validates everything up front and throws InputError with the file,
// the field and what is wrong; a Problem that exists is valid.
#ifndef LDSGD_SOLVER_PROBLEM_PROBLEM_H_
#define LDSGD_SOLVER_PROBLEM_PROBLEM_H_

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <Eigen/Core>

#include "solver/noise/noise.h"
#include "solver/objective/finite_sum.h"
#include "solver/objective/objective.h"

namespace ldsgd {

struct Domain {
  Eigen::VectorXd lower, upper;
  bool Contains(const Eigen::VectorXd& x, double slack = 0.0) const;
};

struct Problem {
  std::string name;
  std::string source;  // the file it was read from, for messages
  std::vector<std::string> variables;
  std::shared_ptr<const Objective> objective;  // f, including the l2 term
  // Finite sums ({"sum": ...} or {"per_sample": ..., "data": ...}): the samples f_k (each including
  // the l2 term), f = mean of them. Null otherwise.
  std::shared_ptr<const FiniteSum> samples;
  double l2 = 0.0;
  Noise noise;
  Domain domain;
  std::vector<double> step_sizes;

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
