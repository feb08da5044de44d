// Shared test fixtures: the problems of data/, their critical components and transition costs.
#ifndef LDSGD_TESTS_TEST_PROBLEMS_H_
#define LDSGD_TESTS_TEST_PROBLEMS_H_

#include <string>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

#include "solver/landscape/critical_points.h"
#include "solver/problem/problem.h"
#include "solver/action/transition_costs.h"

namespace ldsgd::test {

// data/FILE.
inline Problem Load(const std::string& file) {
  return LoadProblem(std::string(LDSGD_DATA_DIR) + "/" + file);
}

// The critical components with the default finder options; the search must succeed.
inline std::vector<CriticalComponent> Components(const Problem& p) {
  CriticalPointFinder::Summary summary;
  std::vector<CriticalComponent> c = CriticalPointFinder({}).Find(*p.objective, p.domain, &summary);
  EXPECT_TRUE(summary.status.ok()) << summary.status.message();
  return c;
}

// A problem with its components and transition costs (default options; must succeed).
struct Solved {
  Problem problem;
  std::vector<CriticalComponent> components;
  TransitionCosts costs;
  TransitionCostSolver::Summary summary;
};

inline Solved Solve(Problem problem) {
  Solved s{std::move(problem), {}, {}, {}};
  s.components = CriticalPointFinder({}).Find(*s.problem.objective, s.problem.domain, nullptr);
  s.costs = TransitionCostSolver({}).Solve(s.problem, s.components, &s.summary);
  EXPECT_TRUE(s.summary.status.ok()) << s.summary.status.message();
  return s;
}

}  // namespace ldsgd::test

#endif  // LDSGD_TESTS_TEST_PROBLEMS_H_
