// The PROBLEM argument shared by the commands: a problem file, or the embedded default.
#ifndef LDSGD_APPS_PROBLEM_ARGUMENT_H_
#define LDSGD_APPS_PROBLEM_ARGUMENT_H_

#include <string>

#include "solver/problem/problem.h"

namespace ldsgd {

// Empty path: the embedded default problem (data/himmelblau.json). Throws InputError.
inline Problem LoadProblemArgument(const std::string& path) {
  return path.empty() ? ParseProblem(DefaultProblemText(), kDefaultProblemSource) : LoadProblem(path);
}

}  // namespace ldsgd

#endif  // LDSGD_APPS_PROBLEM_ARGUMENT_H_
