// The verifier's verdicts on the tilted double well (THEORY.md case 1): right predictions pass,
// wrong ones fail, and runs that do not mix are inconclusive, never "pass".
#include "solver/theory/verifier.h"

#include <cmath>

#include <gtest/gtest.h>

#include "graph/energies.h"
#include "solver/action/transition_costs.h"

namespace ldsgd {
namespace {

struct Analysis {
  Problem problem;
  std::vector<CriticalComponent> components;
  TransitionCosts costs;
  Energies energies;
};

const Analysis& DoubleWell() {
  static const Analysis a = [] {
    Analysis r;
    r.problem = LoadProblem(std::string(LDSGD_DATA_DIR) + "/tilted_double_well.json");
    r.components = CriticalPointFinder({}).Find(*r.problem.objective, r.problem.domain, nullptr);
    r.costs = TransitionCostSolver({}).Solve(r.problem, r.components, nullptr);
    r.energies = ComputeEnergies(r.costs.costs);
    return r;
  }();
  return a;
}

const VerifyCheck* Find(const VerifyReport& r, const std::string& name) {
  for (const VerifyCheck& c : r.checks) {
    if (c.name == name) return &c;
  }
  return nullptr;
}

TEST(Verifier, TiltedDoubleWellPasses) {
  const Analysis& a = DoubleWell();
  const VerifyReport r = Verify(a.problem, a.components, a.costs.costs, a.energies.relative, {});
  ASSERT_EQ(r.status.message(), "");
  EXPECT_TRUE(r.automatic_step_sizes);
  ASSERT_EQ(r.step_sizes.size(), 3u);
  for (double eta : r.step_sizes) EXPECT_LT(eta, 2.0 / a.components[0].hessian_eigenvalues.maxCoeff());
  for (const VerifyCheck& c : r.checks) EXPECT_EQ(c.verdict, Verdict::kPass) << c.name << ": " << c.detail;
  EXPECT_EQ(r.verdict, Verdict::kPass);
  // The Arrhenius slope of log(mu_R / mu_L) is -(E_R - E_L) = -0.399494 (THEORY.md case 1).
  const VerifyCheck* slope = Find(r, "arrhenius[1]");
  ASSERT_NE(slope, nullptr);
  EXPECT_LE(slope->lower, -0.399494 + 0.1 * 0.399494);
  EXPECT_GE(slope->upper, -0.399494 - 0.1 * 0.399494);
  // Exit costs of L and R are checked too.
  EXPECT_NE(Find(r, "exit[0]"), nullptr);
  EXPECT_NE(Find(r, "exit[1]"), nullptr);
}

// Issue 6: a 2-D finite-sum problem, the exact minibatch costs against simulated minibatch SGD.
TEST(Verifier, TwoDimensionalFiniteSumPassesWithTheExactCosts) {
  Analysis a;
  a.problem = LoadProblem(std::string(LDSGD_DATA_DIR) + "/tilted_double_well_2d_finite_sum.json");
  a.components = CriticalPointFinder({}).Find(*a.problem.objective, a.problem.domain, nullptr);
  a.costs = TransitionCostSolver({}).Solve(a.problem, a.components, nullptr);
  a.energies = ComputeEnergies(a.costs.costs);
  ASSERT_EQ(a.components.size(), 3u);
  const VerifyReport r = Verify(a.problem, a.components, a.costs.costs, a.energies.relative, {});
  ASSERT_EQ(r.status.message(), "");
  for (const VerifyCheck& c : r.checks) EXPECT_EQ(c.verdict, Verdict::kPass) << c.name << ": " << c.detail;
  EXPECT_EQ(r.verdict, Verdict::kPass);
  // Every assumption holds, simulation included (no chain diverged at any step size).
  for (const AssumptionCheck& check : r.assumptions.checks) EXPECT_TRUE(check.holds) << check.name << ": " << check.detail;
  EXPECT_EQ(r.assumptions.checks.size(), 5u + r.step_sizes.size());
  // Both minima's exits and the mass ratio are among the checks.
  EXPECT_NE(Find(r, "arrhenius[1]"), nullptr);
  EXPECT_NE(Find(r, "exit[0]"), nullptr);
  EXPECT_NE(Find(r, "exit[1]"), nullptr);
}

// Issue 7, THEORY.md case 8: where the noise vanishes verify checks the collapse onto the point
// (Lam(0.8) = -0.327, absorbing) or its absence (Lam(0.3) = +0.057, repelling), not energies.
TEST(Verifier, VanishingNoiseShowsTheCollapseInsteadOfEnergies) {
  const Problem p = LoadProblem(std::string(LDSGD_DATA_DIR) + "/vanishing_noise.json");
  const std::vector<CriticalComponent> c = CriticalPointFinder({}).Find(*p.objective, p.domain, nullptr);
  ASSERT_EQ(c.size(), 1u);
  VerifyOptions o;
  o.steps = 2000;
  o.burn_in = 200;
  o.step_sizes = {0.3, 0.8};
  const VerifyReport r = Verify(p, c, Eigen::MatrixXd::Zero(1, 1), Eigen::VectorXd::Zero(1), o);
  ASSERT_EQ(r.status.message(), "");
  ASSERT_EQ(r.checks.size(), 2u);
  const VerifyCheck* absorbing = Find(r, "collapse[0] @ eta=0.8");
  const VerifyCheck* repelling = Find(r, "collapse[0] @ eta=0.3");
  ASSERT_NE(absorbing, nullptr);
  ASSERT_NE(repelling, nullptr);
  EXPECT_EQ(absorbing->predicted, 1.0);
  EXPECT_GE(absorbing->measured, 0.9) << absorbing->detail;
  EXPECT_EQ(repelling->predicted, 0.0);
  EXPECT_LE(repelling->measured, 0.1) << repelling->detail;
  EXPECT_EQ(r.verdict, Verdict::kPass);
  EXPECT_FALSE(r.assumptions.predictions_reliable());  // the energies would not apply
}

TEST(Verifier, VerdictPolicy) {
  AssumptionReport fine, broken;
  fine.checks.push_back({Assumption::kCoercive, true, "", "", true});
  broken.checks.push_back({Assumption::kCoercive, false, "(2)", "", true});
  const VerifyCheck pass{"a", 0, 0, 0, 0, Verdict::kPass, ""}, fail{"b", 0, 0, 0, 0, Verdict::kFail, ""},
      open{"c", 0, 0, 0, 0, Verdict::kInconclusive, ""};
  std::string why;
  EXPECT_EQ(OverallVerdict({pass, pass}, 2, fine, &why), Verdict::kPass);
  EXPECT_EQ(OverallVerdict({pass, fail}, 2, broken, &why), Verdict::kFail);
  EXPECT_EQ(OverallVerdict({pass, open}, 2, fine, &why), Verdict::kInconclusive);
  EXPECT_EQ(OverallVerdict({}, 0, fine, &why), Verdict::kInconclusive);
  // Energy checks that pass prove nothing when their assumptions fail...
  EXPECT_EQ(OverallVerdict({pass, pass}, 2, broken, &why), Verdict::kInconclusive);
  EXPECT_EQ(why, "assumptions the predictions need fail: coercive at (2)");
  // ...but collapse checks (after the energy checks) are the theory that applies there.
  EXPECT_EQ(OverallVerdict({pass}, 0, broken, &why), Verdict::kPass);
}

// Only curved paths climb here (every straight or bent start crosses a region of infinite cost):
// the spanning initial path (spanning_path.h) finds finite costs, and SGD confirms them.
TEST(Verifier, CoupledFiniteSumNeedsCurvedPathsAndPasses) {
  Analysis a;
  a.problem = LoadProblem(std::string(LDSGD_DATA_DIR) + "/coupled_double_well_2d_finite_sum.json");
  a.components = CriticalPointFinder({}).Find(*a.problem.objective, a.problem.domain, nullptr);
  TransitionCostSolver::Summary summary;
  a.costs = TransitionCostSolver({}).Solve(a.problem, a.components, &summary);
  a.energies = ComputeEnergies(a.costs.costs);
  ASSERT_EQ(a.components.size(), 3u);
  EXPECT_TRUE(summary.uncertified_infinite.empty());
  EXPECT_TRUE(std::isfinite(a.costs.costs(0, 2)));
  EXPECT_TRUE(std::isfinite(a.costs.costs(1, 2)));
  const VerifyReport r = Verify(a.problem, a.components, a.costs.costs, a.energies.relative, {});
  ASSERT_EQ(r.status.message(), "");
  for (const VerifyCheck& c : r.checks) EXPECT_EQ(c.verdict, Verdict::kPass) << c.name << ": " << c.detail;
  EXPECT_EQ(r.verdict, Verdict::kPass);
  EXPECT_NE(Find(r, "exit[0]"), nullptr);
  EXPECT_NE(Find(r, "exit[1]"), nullptr);
}

TEST(Verifier, EnergiesWrongBy30PercentFail) {
  const Analysis& a = DoubleWell();
  for (double factor : {1.3, 0.7}) {
    SCOPED_TRACE(factor);
    const Eigen::VectorXd wrong = a.energies.relative * factor;
    const VerifyReport r = Verify(a.problem, a.components, a.costs.costs, wrong, {});
    ASSERT_EQ(r.status.message(), "");
    EXPECT_EQ(Find(r, "arrhenius[1]")->verdict, Verdict::kFail);
    EXPECT_EQ(r.verdict, Verdict::kFail);
  }
}

TEST(Verifier, RunTooShortToMixIsInconclusive) {
  const Analysis& a = DoubleWell();
  VerifyOptions o;
  o.step_sizes = {0.06, 0.07, 0.08};
  o.steps = 2000;
  o.burn_in = 200;
  const VerifyReport r = Verify(a.problem, a.components, a.costs.costs, a.energies.relative, o);
  ASSERT_EQ(r.status.message(), "");
  ASSERT_FALSE(r.checks.empty());
  for (const VerifyCheck& c : r.checks) {
    EXPECT_EQ(c.verdict, Verdict::kInconclusive) << c.name << ": " << c.detail;
    EXPECT_NE(c.detail.find("not mixed"), std::string::npos) << c.detail;
  }
  EXPECT_EQ(r.verdict, Verdict::kInconclusive);
}

TEST(Verifier, InvalidOptionsAreReported) {
  const Analysis& a = DoubleWell();
  VerifyOptions o;
  o.batches = 1;
  EXPECT_NE(Verify(a.problem, a.components, a.costs.costs, a.energies.relative, o).status.message(), "");
  o = VerifyOptions();
  o.step_sizes = {0.1};
  EXPECT_NE(Verify(a.problem, a.components, a.costs.costs, a.energies.relative, o).status.message(), "");
}

TEST(Verifier, StudentQuantiles) {
  EXPECT_NEAR(StudentT95(1), 12.706, 1e-3);
  EXPECT_NEAR(StudentT95(15), 2.131, 1e-3);
  EXPECT_NEAR(StudentT95(1000), 1.962, 1e-2);
}

}  // namespace
}  // namespace ldsgd
