// The rare-event checks of verify (solver/theory/rare_event_checks.h): right predictions pass and
// 30% wrong ones fail at small step sizes, where direct simulation sees no transition; problems
// beyond splitting say so instead of running.
#include "solver/theory/rare_event_checks.h"

#include <cmath>
#include <string>

#include <gtest/gtest.h>

#include "graph/energies.h"
#include "solver/action/transition_costs.h"
#include "solver/landscape/critical_points.h"

namespace ldsgd {
namespace {

struct Analysed {
  Problem problem;
  std::vector<CriticalComponent> components;
  TransitionCosts costs;
  Energies energies;
  std::vector<int> minima;
};

Analysed Analyse(const std::string& file) {
  Analysed a;
  a.problem = LoadProblem(std::string(LDSGD_DATA_DIR) + "/" + file);
  a.components = CriticalPointFinder({}).Find(*a.problem.objective, a.problem.domain, nullptr);
  a.costs = TransitionCostSolver({}).Solve(a.problem, a.components, nullptr);
  a.energies = ComputeEnergies(a.costs.costs);
  for (std::size_t k = 0; k < a.components.size(); ++k) {
    if (a.components[k].type == CriticalType::kMinimum) a.minima.push_back(static_cast<int>(k));
  }
  return a;
}

// Decide()'s rule with a wider family factor: 4.5 / 1.96 times the 95% half-width (a change of
// stream fails a right prediction with probability < 1e-3 over the handful judged here).
constexpr double kTestWidth = 4.5 / 1.96;
bool Passes(const VerifyCheck& c, double predicted) {
  return std::abs(c.measured - predicted) <= kTestWidth * (c.upper - c.lower) / 2 + c.allowance;
}

// The double well's R (B = 0.31533, B/eta = 50 to 100): the exit and its tree edge R -> q.
TEST(RareEventChecks, RightCostsPassAndScaledOnesFail) {
  const Analysed a = Analyse("tilted_double_well.json");
  const int r = a.minima.back();  // minima come by increasing f: R is the second
  const std::vector<VerifyCheck> checks =
      RareEventChecks(a.problem, a.components, a.costs, a.costs.costs, a.energies.relative, {r}, {});
  ASSERT_EQ(checks.size(), 2u);
  for (const VerifyCheck& c : checks) {
    ASSERT_EQ(c.verdict, Verdict::kPass) << c.name << ": " << c.detail;
    EXPECT_EQ(c.method, "rare-event");
    EXPECT_NEAR(c.predicted, 0.315330, 1e-5) << c.name;
    EXPECT_TRUE(Passes(c, c.predicted)) << c.name << " measured " << c.measured << " [" << c.lower << ", " << c.upper << "]";
    EXPECT_FALSE(Passes(c, 1.3 * c.predicted)) << c.name;
    // Tighter than the direct checks: the allowance is below 10% of B.
    EXPECT_LT(c.allowance, 0.1 * c.predicted);
  }
}

TEST(RareEventChecks, HimmelblauIsBeyondSplittingAndSaysWhy) {
  const Analysed a = Analyse("himmelblau.json");
  const std::vector<VerifyCheck> checks =
      RareEventChecks(a.problem, a.components, a.costs, a.costs.costs, a.energies.relative, {0}, {});
  ASSERT_FALSE(checks.empty());
  EXPECT_EQ(checks[0].name, "exit~[0]");
  EXPECT_EQ(checks[0].verdict, Verdict::kInconclusive);
  EXPECT_NE(checks[0].detail.find("splitting cannot reach it"), std::string::npos) << checks[0].detail;
  EXPECT_EQ(checks[0].steps, 0.0);  // nothing simulated
  EXPECT_GT(UphillSigmas(a.problem, a.costs.path(0, 4).nodes), 10.0);
}

}  // namespace
}  // namespace ldsgd
