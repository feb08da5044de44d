// Verification from the initialization distribution (init_verification.h) on the tilted double
// well (THEORY.md case 1), whose energies are known in closed form: for isotropic noise
// E_1 - E_0 = 2 (f(x_1) - f(x_0)) / sigma^2 (THEORY.md section 4, gradient case).
#include "solver/theory/init_verification.h"

#include <cmath>

#include <gtest/gtest.h>

#include "solver/theory/assumptions.h"
#include "tests/test_problems.h"

namespace ldsgd {
namespace {

struct Landscape {
  Problem problem;
  std::vector<CriticalComponent> components;
  Eigen::VectorXd energies;  // closed form; the maximum's is irrelevant (not a minimum)
  AssumptionReport assumptions;
};

Landscape TiltedDoubleWell(bool swap_energies) {
  Landscape s{test::Load("tilted_double_well.json"), {}, {}, {}};
  s.components = test::Components(s.problem);
  EXPECT_EQ(s.components.size(), 3u);
  const double gap = 2.0 * (s.components[1].f - s.components[0].f);  // sigma = 1
  s.energies = Eigen::Vector3d(0.0, gap, 2.0 * (s.components[2].f - s.components[0].f));
  if (swap_energies) std::swap(s.energies[0], s.energies[1]);
  s.assumptions = CheckAssumptions(s.problem, s.components);
  return s;
}

InitVerificationOptions Options(long steps) {
  InitVerificationOptions o;
  o.step_size = 0.1;  // gap / eta = 4.0 e-folds: inside the regime (>= kMinGapEfolds)
  o.steps = steps;
  o.chains = 64;
  o.seed = 3;
  return o;
}

// 2e5 steps: about 1500 transitions out of each well. The ground share, 0.98 (predicted 0.982),
// sits far above the bound 0.845, so no random stream comes near failing it.
TEST(InitVerification, PassesOnTheTiltedDoubleWellInItsRegime) {
  const Landscape s = TiltedDoubleWell(false);
  const InitVerification v = VerifyFromInit(s.problem, s.components, s.energies, s.assumptions, Options(200000));
  ASSERT_TRUE(v.status.ok()) << v.status.message();
  EXPECT_EQ(v.verdict, Verdict::kPass) << v.Report();
  ASSERT_EQ(v.ground, std::vector<int>{0});
  EXPECT_NEAR(v.gap_efolds, s.energies[1] / 0.1, 1e-12);
  EXPECT_NEAR(v.bound, 1.0 / (1.0 + kPrefactorAllowance * std::exp(-v.gap_efolds)), 1e-12);
  EXPECT_LE(v.lower[0], v.predicted[0]);  // the measured share's interval holds the prediction
  EXPECT_GE(v.upper[0], v.predicted[0]);
  EXPECT_EQ(v.unclassified, 0.0);  // 1-D: every point flows to a minimum
}

// The power of the check: the same chains against energies that put the ground state in the wrong
// well (share 0.02, bound 0.845) must fail.
TEST(InitVerification, FailsWhenThePredictedGroundStateIsWrong) {
  const Landscape s = TiltedDoubleWell(true);
  const InitVerification v = VerifyFromInit(s.problem, s.components, s.energies, s.assumptions, Options(200000));
  ASSERT_TRUE(v.status.ok());
  EXPECT_EQ(v.verdict, Verdict::kFail) << v.Report();
  EXPECT_EQ(v.ground, std::vector<int>{1});
}

// 600 steps: too few transitions out of the well holding most iterates to have forgotten the
// starts; inconclusive (never pass), with the steps that would do.
TEST(InitVerification, TooShortARunIsInconclusiveAndSaysWhatItNeeds) {
  const Landscape s = TiltedDoubleWell(false);
  const InitVerification v = VerifyFromInit(s.problem, s.components, s.energies, s.assumptions, Options(600));
  ASSERT_TRUE(v.status.ok());
  EXPECT_EQ(v.verdict, Verdict::kInconclusive) << v.Report();
  EXPECT_GT(v.needed_steps_per_chain, 600.0);
  EXPECT_NE(v.reason.find("forgotten"), std::string::npos);
}

// Unreliable predictions (an assumption they need fails, e.g. singular noise) are never judged.
TEST(InitVerification, UnreliablePredictionsAreInconclusive) {
  const Landscape s = TiltedDoubleWell(false);
  AssumptionReport failed = s.assumptions;
  failed.checks.push_back({});
  failed.checks.back().name = Assumption::kNoisePositiveDefinite;
  failed.checks.back().holds = false;
  failed.checks.back().affects_predictions = true;
  const InitVerification v = VerifyFromInit(s.problem, s.components, s.energies, failed, Options(200000));
  EXPECT_EQ(v.verdict, Verdict::kInconclusive);
  EXPECT_NE(v.reason.find("unreliable"), std::string::npos);
}

}  // namespace
}  // namespace ldsgd
