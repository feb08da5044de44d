// Built-in objectives with hand-written exact derivatives: the reference landscapes of
// ../shared/THEORY.md section 9, and fast baselines for the compiled expressions.
#ifndef LDSGD_SOLVER_OBJECTIVE_BUILTIN_OBJECTIVES_H_
#define LDSGD_SOLVER_OBJECTIVE_BUILTIN_OBJECTIVES_H_

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "solver/objective/objective.h"

namespace ldsgd {

// One built-in: its name, parameters with defaults, variable names and the same function written in
// the expression language (used by tests to check the hand-written derivatives, and by README).
struct BuiltinInfo {
  std::string name;
  std::string description;                // formula in words, for --help and README
  std::map<std::string, double> defaults;  // every accepted parameter and its default
};

const std::vector<BuiltinInfo>& BuiltinCatalog();
const BuiltinInfo* FindBuiltin(const std::string& name);

// Parameters not in `params` take their defaults. The caller validates names and values first
// (ValidateBuiltinParams); an unknown name here is a programming error and returns nullptr.
std::unique_ptr<Objective> MakeBuiltin(const std::string& name,
                                       const std::map<std::string, double>& params);
// Variable names of the built-in for these parameters (x, y in 2-D; x1..xd for separable_double_well).
std::vector<std::string> BuiltinVariables(const std::string& name,
                                          const std::map<std::string, double>& params);
// The same function in the expression language.
std::string BuiltinExpression(const std::string& name, const std::map<std::string, double>& params);

// Returns an empty string when valid, else what is wrong ("unknown parameter 'foo'", ...).
std::string ValidateBuiltinParams(const std::string& name,
                                  const std::map<std::string, double>& params);

}  // namespace ldsgd

#endif  // LDSGD_SOLVER_OBJECTIVE_BUILTIN_OBJECTIVES_H_
