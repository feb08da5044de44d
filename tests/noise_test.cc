// The one noise interface (solver/noise/noise.h), the status type and the enum spellings.
#include "solver/noise/noise.h"

#include <cmath>
#include <limits>
#include <string>

#include <gtest/gtest.h>

#include "solver/action/transition_costs.h"
#include "solver/analysis/analysis.h"
#include "solver/io/status.h"
#include "solver/landscape/critical_points.h"
#include "solver/problem/problem.h"
#include "solver/simulation/simulator.h"
#include "solver/theory/lyapunov.h"
#include "solver/theory/assumptions.h"
#include "solver/theory/verifier.h"
#include "tests/test_problems.h"

namespace ldsgd {
namespace {

Eigen::MatrixXd Diagonal(double a, double b) { return Eigen::Vector2d(a, b).asDiagonal(); }

TEST(Noise, OneDefinitionOfPositiveDefiniteness) {
  const Eigen::VectorXd none;
  EXPECT_EQ(Noise::Classify(Diagonal(1, 2), none), Definiteness::kPositive);
  EXPECT_EQ(Noise::Classify(Diagonal(1, 0), none), Definiteness::kSingular);
  // Zero to rounding against the scale: 1e-13 of the largest eigenvalue is below the floor.
  EXPECT_EQ(Noise::Classify(Diagonal(1, 1e-13), none), Definiteness::kSingular);
  EXPECT_EQ(Noise::Classify(Diagonal(1, 1e-11), none), Definiteness::kPositive);
  EXPECT_EQ(Noise::Classify(Diagonal(1, -1e-13), none), Definiteness::kSingular);
  EXPECT_EQ(Noise::Classify(Diagonal(1, -1e-3), none), Definiteness::kIndefinite);
  EXPECT_EQ(Noise::Classify(Diagonal(1, std::nan("")), none), Definiteness::kNotFinite);
  // The gradient sets the scale too: a covariance tiny next to the drift is zero to rounding.
  EXPECT_EQ(Noise::Classify(Diagonal(1e-14, 1e-14), Eigen::Vector2d(1, 0)), Definiteness::kSingular);
  EXPECT_EQ(Noise::Classify(Eigen::MatrixXd::Zero(2, 2), none), Definiteness::kSingular);
}

TEST(Noise, ModelsAnswerFromOnePlace) {
  const Problem iso = test::Load("himmelblau.json");
  EXPECT_TRUE(iso.noise.is_isotropic());
  EXPECT_EQ(iso.noise.sigma(), 1.0);
  EXPECT_EQ(iso.noise.batch_size(), 0);
  const double x[2] = {0.5, -1.0};
  EXPECT_EQ(iso.noise.CovarianceAt(x), Eigen::MatrixXd::Identity(2, 2));

  const Problem fs = test::Load("tilted_double_well_finite_sum.json");
  EXPECT_TRUE(fs.noise.is_exact_finite_sum());
  EXPECT_FALSE(fs.noise.is_isotropic());
  ASSERT_TRUE(fs.noise.conjugate_cost());
  EXPECT_FALSE(fs.noise.covariance());
  // THEORY.md case 3: g_k = f'(x) + (c_k - mean c); the minibatch covariance is var_k(c_k) / b.
  const double c[3] = {-1.0, 0.3, 1.0}, mean = (c[0] + c[1] + c[2]) / 3;
  double var = 0.0;
  for (double ck : c) var += (ck - mean) * (ck - mean) / 3;
  const double at[1] = {0.4};
  EXPECT_NEAR(fs.noise.CovarianceAt(at)(0, 0), var, 1e-14);
  const Noise approx = fs.noise.WithApproximation(NoiseApproximation::kGaussian);
  EXPECT_FALSE(approx.is_exact_finite_sum());
  ASSERT_TRUE(approx.covariance());
  EXPECT_FALSE(approx.conjugate_cost());
  EXPECT_NEAR(approx.CovarianceAt(at)(0, 0), var, 1e-14);
  EXPECT_NEAR(fs.noise.WithBatchSize(2).CovarianceAt(at)(0, 0), var / 2, 1e-14);
}

// A covariance that vanishes at a component (positive semi-definite) leaves the costs computable
// and is reported by the assumption checks; Analyze() succeeds.
TEST(Noise, VanishingCovarianceAtAComponentIsAnAssumptionNotAnError) {
  const Problem p = ParseProblem(R"({"variables": ["x"], "objective": "x^4/4 - x^2/2",
      "noise": {"type": "gaussian", "covariance": [["x^2"]]}, "domain": {"lower": [-2], "upper": [2]}})",
                                 "vanishing");
  AnalysisSummary summary;
  const Analysis a = Analyze(p, AnalysisOptions(), &summary);
  ASSERT_TRUE(summary.status.ok()) << summary.status.message();
  ASSERT_EQ(a.components.size(), 3u);
  EXPECT_FALSE(a.assumptions.predictions_reliable());
  EXPECT_EQ(a.assumptions.checks[0].name, Assumption::kNoisePositiveDefinite);
  EXPECT_FALSE(a.assumptions.checks[0].holds);
}

TEST(Status, CodesAndMessages) {
  const Status not_run;
  EXPECT_EQ(not_run.code(), StatusCode::kNotRun);
  EXPECT_FALSE(not_run.ok());
  EXPECT_TRUE(Status::Ok().ok());
  EXPECT_EQ(Status::Ok().message(), "");
  const Status bad(StatusCode::kInvalidOptions, "Invalid configuration.");
  EXPECT_FALSE(bad.ok());
  EXPECT_EQ(bad.message(), "Invalid configuration.");
}

// Every enum's spellings round-trip and are distinct (STYLE.md lesson 3).
template <typename E>
void ExpectRoundTrip() {
  std::vector<std::string> seen;
  for (const auto& [value, name] : EnumNames<E>::kNames) {
    E back{};
    ASSERT_TRUE(FromString(name, &back)) << name;
    EXPECT_EQ(back, value) << name;
    EXPECT_EQ(std::string(ToString(value)), name);
    for (const std::string& other : seen) EXPECT_NE(other, name);
    seen.push_back(name);
  }
  E untouched = EnumNames<E>::kNames[0].first;
  EXPECT_FALSE(FromString("no such name", &untouched));
  EXPECT_EQ(untouched, EnumNames<E>::kNames[0].first);
}

TEST(EnumNames, EveryEnumRoundTrips) {
  ExpectRoundTrip<StatusCode>();
  ExpectRoundTrip<NoiseType>();
  ExpectRoundTrip<NoiseApproximation>();
  ExpectRoundTrip<Definiteness>();
  ExpectRoundTrip<CriticalType>();
  ExpectRoundTrip<CostMethod>();
  ExpectRoundTrip<Assumption>();
  ExpectRoundTrip<Verdict>();
  ExpectRoundTrip<AnalysisStage>();
  ExpectRoundTrip<LyapunovResult::Method>();
  ExpectRoundTrip<Stability>();
  ExpectRoundTrip<DivergenceReason>();
}

}  // namespace
}  // namespace ldsgd
