// The property suite (STYLE.md lesson 6, after manif's test/common_tester.h): the properties every
// analysis must have, written once and run through Analyze() on every problem in data/, one ctest
// entry per problem (TEST_P): costs >= 0 with a zero diagonal and the triangle inequality
// (THEORY.md section 4), zero cost along gradient flow, the isotropic identity
// B_ij - B_ji = 2 (f_j - f_i) / sigma^2, energies equal to an independent minimum-arborescence
// computation, and refinement that never raises an action beyond its error estimate.
#include <algorithm>
#include <cmath>
#include <filesystem>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "solver/action/geometric_action.h"
#include "solver/analysis/analysis.h"
#include "tests/arborescence_reference.h"

namespace ldsgd {
namespace {

// The closure makes the triangle inequality hold up to the rounding of a sum of costs.
constexpr double kTriangleRounding = 1e-12;
// Each cost is accurate to its Richardson error estimate, about 1e-8 relative (the default action
// tolerance) to 1e-6 on the finite sums; the difference of two is as accurate as the larger
// (the same bound as TransitionCosts.IsotropicIdentityHimmelblauAndMullerBrown).
constexpr double kIdentity = 1e-5;
// The reference and the kernel sum the same <= 27 costs in different orders (and the textbook
// Edmonds subtracts reduced costs): rounding far below 1e-9 of the largest energy.
constexpr double kEnergyRounding = 1e-9;
// Brute force enumerates p^(p-1) successor functions: 7^6 ~ 1.2e5 is quick, 9^8 is not.
constexpr int kBruteForceMaxComponents = 7;
// Refinement checks per problem: the first few direct paths (each a fine and a coarse solve).
constexpr int kRefinementChecks = 3;

std::vector<std::string> DataProblems() {
  std::vector<std::string> names;
  for (const auto& entry : std::filesystem::directory_iterator(LDSGD_DATA_DIR)) {
    if (entry.path().extension() == ".json") names.push_back(entry.path().stem().string());
  }
  std::sort(names.begin(), names.end());
  return names;
}


void CostsAreNonNegativeWithZeroDiagonalAndTriangleInequality(const Problem& problem, const Analysis& analysis) {
  const Eigen::MatrixXd& B = analysis.costs.costs;
  const int p = static_cast<int>(B.rows());
  for (int i = 0; i < p; ++i) {
    EXPECT_EQ(B(i, i), 0.0);
    for (int j = 0; j < p; ++j) {
      EXPECT_GE(B(i, j), 0.0);
      for (int k = 0; k < p; ++k) {
        EXPECT_LE(B(i, j), B(i, k) + B(k, j) + kTriangleRounding * (1 + B(i, j))) << i << " " << k << " " << j;
      }
    }
  }
}

void GradientFlowPathsCostNothing(const Problem& problem, const Analysis& analysis) {
  int flows = 0;
  for (const TransitionPath& path : analysis.costs.paths) {
    if (path.method != CostMethod::kGradientFlow) continue;
    ++flows;
    EXPECT_EQ(path.action, 0.0) << path.from << " -> " << path.to;
    // Downhill: the flow ends lower than it starts.
    EXPECT_LE(analysis.components[path.to].f, analysis.components[path.from].f);
  }
  // A barrier top (saddle or maximum) flows down to some minimum, when there are both.
  bool minimum = false, top = false;
  for (const CriticalComponent& c : analysis.components) {
    minimum = minimum || c.type == CriticalType::kMinimum;
    top = top || c.type == CriticalType::kSaddle || c.type == CriticalType::kMaximum;
  }
  if (minimum && top) EXPECT_GT(flows, 0);
}

void IsotropicIdentity(const Problem& problem, const Analysis& analysis) {
  if (!problem.noise.is_isotropic()) return;  // the identity holds for isotropic Gaussian noise
  const double sigma2 = problem.noise.sigma() * problem.noise.sigma();
  const Eigen::MatrixXd& B = analysis.costs.costs;
  const int p = static_cast<int>(B.rows());
  for (int i = 0; i < p; ++i) {
    for (int j = 0; j < p; ++j) {
      if (i == j) continue;
      const double expected = 2 * (analysis.components[j].f - analysis.components[i].f) / sigma2;
      const double scale = std::max({std::abs(B(i, j)), std::abs(B(j, i)), std::abs(expected)});
      EXPECT_LE(std::abs(B(i, j) - B(j, i) - expected), kIdentity * scale) << i << " -> " << j;
    }
  }
}

void EnergiesEqualAnIndependentMinimumArborescence(const Problem& problem, const Analysis& analysis) {
  const Eigen::MatrixXd& B = analysis.costs.costs;
  const int p = static_cast<int>(B.rows());
  double scale = 1.0;
  for (int r = 0; r < p; ++r) {
    if (std::isfinite(analysis.energies.absolute[r])) scale = std::max(scale, analysis.energies.absolute[r]);
  }
  for (int r = 0; r < p; ++r) {
    const double expected = p <= kBruteForceMaxComponents ? test::BruteForceEnergy(B, r) : test::TextbookEdmonds(B, r);
    const double actual = analysis.energies.absolute[r];
    if (std::isinf(expected)) {
      EXPECT_TRUE(std::isinf(actual)) << "root " << r;
    } else {
      EXPECT_NEAR(actual, expected, kEnergyRounding * scale) << "root " << r;
    }
  }
}

void RefinementNeverRaisesAnActionBeyondItsErrorEstimate(const Problem& problem, const Analysis& analysis) {
  const ProblemGeometry owner(problem);
  ASSERT_TRUE(owner.ok()) << owner.error();
  int checked = 0;
  for (const TransitionPath& path : analysis.costs.paths) {
    if (path.method != CostMethod::kDirect || checked >= kRefinementChecks || path.nodes.rows() < 2 ||
        !std::isfinite(path.action)) {
      continue;
    }
    ++checked;
    // Started from the reported path (a straight start can cross infinite-cost regions of a
    // finite sum in 2-D: data/coupled_double_well_2d_finite_sum.json).
    ActionSolver::Options coarse, fine;
    coarse.max_segments = 64;
    fine.max_segments = 512;
    ActionSolver::Summary sc, sf;
    const ActionPath a = ActionSolver(coarse).Solve(owner.geometry(), path.nodes, &sc);
    const ActionPath b = ActionSolver(fine).Solve(owner.geometry(), path.nodes, &sf);
    ASSERT_TRUE(sc.ok() && sf.ok());
    EXPECT_LE(b.action, a.action + a.error_estimate + 1e-12 * a.action)
        << path.from << " -> " << path.to << ": " << sc.FullReport() << "\n" << sf.FullReport();
  }
}

// One ctest entry per problem: the analysis runs once and every property is checked on it.
class DataProblem : public ::testing::TestWithParam<std::string> {};

TEST_P(DataProblem, Properties) {
  const Problem problem = LoadProblem(std::string(LDSGD_DATA_DIR) + "/" + GetParam() + ".json");
  AnalysisOptions options;
  options.last_stage = AnalysisStage::kEnergies;
  AnalysisSummary summary;
  const Analysis analysis = Analyze(problem, options, &summary);
  ASSERT_TRUE(summary.status.ok()) << summary.status.message();
  {
    SCOPED_TRACE("CostsAreNonNegativeWithZeroDiagonalAndTriangleInequality");
    CostsAreNonNegativeWithZeroDiagonalAndTriangleInequality(problem, analysis);
  }
  {
    SCOPED_TRACE("GradientFlowPathsCostNothing");
    GradientFlowPathsCostNothing(problem, analysis);
  }
  {
    SCOPED_TRACE("IsotropicIdentity");
    IsotropicIdentity(problem, analysis);
  }
  {
    SCOPED_TRACE("EnergiesEqualAnIndependentMinimumArborescence");
    EnergiesEqualAnIndependentMinimumArborescence(problem, analysis);
  }
  {
    SCOPED_TRACE("RefinementNeverRaisesAnActionBeyondItsErrorEstimate");
    RefinementNeverRaisesAnActionBeyondItsErrorEstimate(problem, analysis);
  }
}

INSTANTIATE_TEST_SUITE_P(Data, DataProblem, ::testing::ValuesIn(DataProblems()),
                         [](const ::testing::TestParamInfo<std::string>& info) { return info.param; });

// The suite covers both noise families.
TEST(DataProblems, CoverGaussianAndFiniteSumNoise) {
  int gaussian = 0, finite_sum = 0;
  for (const std::string& name : DataProblems()) {
    ++(LoadProblem(std::string(LDSGD_DATA_DIR) + "/" + name + ".json").noise.is_finite_sum() ? finite_sum : gaussian);
  }
  EXPECT_GE(gaussian, 8);
  EXPECT_GE(finite_sum, 2);
}

}  // namespace
}  // namespace ldsgd
