// Critical components of the reference landscapes (../shared/THEORY.md section 9) and of every
// problem in data/.
#include "solver/landscape/critical_points.h"
#include "solver/landscape/discovery.h"

#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "solver/objective/builtin_objectives.h"
#include "solver/problem/problem.h"

namespace ldsgd {
namespace {

// THEORY.md section 9 rounds its coordinates and values to 6 decimals (error <= 5e-7); the solver
// converges to ~1e-12, so 1e-6 absolute is the tightest check the reference supports.
constexpr double kReferenceTolerance = 1e-6;

Problem Load(const std::string& file) { return LoadProblem(std::string(LDSGD_DATA_DIR) + "/" + file); }

std::vector<CriticalComponent> Find(const Problem& p, int threads = 0) {
  CriticalPointFinder::Options options;
  options.num_threads = threads;
  CriticalPointFinder::Summary summary;
  std::vector<CriticalComponent> c = CriticalPointFinder(options).Find(*p.objective, p.domain, &summary);
  EXPECT_TRUE(summary.status.ok()) << summary.status.message();
  return c;
}

std::map<std::string, int> CountTypes(const std::vector<CriticalComponent>& components) {
  std::map<std::string, int> count;
  for (const CriticalComponent& c : components) ++count[ToString(c.type)];
  return count;
}

struct Expected {
  Eigen::VectorXd point;
  double f;
  CriticalType type;
};

// Each expected point is found exactly once, with its f and type.
void ExpectComponents(const std::vector<CriticalComponent>& found, const std::vector<Expected>& expected) {
  for (const Expected& e : expected) {
    int matches = 0;
    for (const CriticalComponent& c : found) {
      if ((c.point - e.point).cwiseAbs().maxCoeff() <= kReferenceTolerance) {
        ++matches;
        EXPECT_NEAR(c.f, e.f, kReferenceTolerance) << "at " << e.point.transpose();
        EXPECT_EQ(c.type, e.type) << "at " << e.point.transpose();
        EXPECT_EQ(c.size, 1);
        EXPECT_TRUE(c.isolated);
      }
    }
    EXPECT_EQ(matches, 1) << "reference point " << e.point.transpose();
  }
}

Eigen::VectorXd V(std::initializer_list<double> v) {
  Eigen::VectorXd x(v.size());
  int i = 0;
  for (double a : v) x[i++] = a;
  return x;
}

TEST(CriticalPoints, HimmelblauHasNineComponentsMatchingTheReference) {
  const std::vector<CriticalComponent> c = Find(Load("himmelblau.json"));
  ASSERT_EQ(c.size(), 9u);
  EXPECT_EQ(CountTypes(c), (std::map<std::string, int>{{"minimum", 4}, {"saddle", 4}, {"maximum", 1}}));
  const auto M = CriticalType::kMinimum, S = CriticalType::kSaddle, X = CriticalType::kMaximum;
  ExpectComponents(c, {{V({3, 2}), 0, M},
                       {V({-2.805118, 3.131313}), 0, M},
                       {V({-3.779310, -3.283186}), 0, M},
                       {V({3.584428, -1.848127}), 0, M},
                       {V({3.385154, 0.073852}), 13.311926, S},
                       {V({0.086678, 2.884255}), 67.719150, S},
                       {V({-3.073026, -0.081353}), 104.015163, S},
                       {V({-0.127961, -1.953715}), 178.337239, S},
                       {V({-0.270845, -0.923039}), 181.616522, X}});
  for (const CriticalComponent& comp : c) {
    if (comp.type == S) {
      EXPECT_EQ(comp.index, 1);
    }
    if (comp.type == X) {
      EXPECT_EQ(comp.index, 2);
    }
  }
  // Sorted by f, ids are positions.
  for (std::size_t i = 0; i < c.size(); ++i) {
    EXPECT_EQ(c[i].id, static_cast<int>(i));
    if (i > 0) {
      EXPECT_LE(c[i - 1].f, c[i].f);
    }
  }
}

TEST(CriticalPoints, MullerBrownHasThreeMinimaAndTwoSaddles) {
  const std::vector<CriticalComponent> c = Find(Load("muller_brown.json"));
  EXPECT_EQ(CountTypes(c), (std::map<std::string, int>{{"minimum", 3}, {"saddle", 2}}));
  const auto M = CriticalType::kMinimum, S = CriticalType::kSaddle;
  ExpectComponents(c, {{V({-0.558224, 1.441726}), -146.699517, M},
                       {V({-0.050011, 0.466694}), -80.767818, M},
                       {V({0.623499, 0.028038}), -108.166724, M},
                       {V({-0.822002, 0.624313}), -40.664844, S},
                       {V({0.212487, 0.292988}), -72.248940, S}});
}

TEST(CriticalPoints, ThreeHumpCamelHasFiveComponents) {
  const std::vector<CriticalComponent> c = Find(Load("three_hump_camel.json"));
  ASSERT_EQ(c.size(), 5u);
  const auto M = CriticalType::kMinimum, S = CriticalType::kSaddle;
  ExpectComponents(c, {{V({0, 0}), 0, M},
                       {V({1.747552, -0.873776}), 0.298638, M},
                       {V({-1.747552, 0.873776}), 0.298638, M},
                       {V({1.070542, -0.535271}), 0.877362, S},
                       {V({-1.070542, 0.535271}), 0.877362, S}});
}

TEST(CriticalPoints, TiltedDoubleWellHasTwoMinimaAndAMaximum) {
  const std::vector<CriticalComponent> c = Find(Load("tilted_double_well.json"));
  ASSERT_EQ(c.size(), 3u);
  const auto M = CriticalType::kMinimum, X = CriticalType::kMaximum;
  ExpectComponents(c, {{V({-1.046681}), -0.352386, M},
                       {V({0.945649}), -0.152639, M},
                       {V({0.101031}), 0.005026, X}});
}

TEST(CriticalPoints, RingIsOneMinimumComponentAroundAMaximum) {
  const std::vector<CriticalComponent> c = Find(Load("ring.json"));
  ASSERT_EQ(c.size(), 2u);
  EXPECT_EQ(c[0].type, CriticalType::kMinimum);
  EXPECT_FALSE(c[0].isolated);
  EXPECT_GT(c[0].size, 100);  // continuation spacing 0.01 * diameter 5.66 around a length 2 pi
  EXPECT_EQ(c[0].zero_eigenvalues, 1);
  for (const Eigen::VectorXd& p : c[0].points) EXPECT_NEAR(p.norm(), 1.0, 1e-9);
  // The samples go all the way round: every direction has a sample within a few steps.
  for (int k = 0; k < 64; ++k) {
    const double angle = 2 * M_PI * k / 64;
    double best = 1e9;
    for (const Eigen::VectorXd& p : c[0].points) best = std::min(best, (p - V({std::cos(angle), std::sin(angle)})).norm());
    EXPECT_LT(best, 0.1) << "no sample near angle " << angle;
  }
  EXPECT_EQ(c[1].type, CriticalType::kMaximum);
  EXPECT_EQ(c[1].size, 1);
  EXPECT_NEAR(c[1].point.norm(), 0.0, 1e-12);
  EXPECT_NEAR(c[1].f, 1.0, 1e-12);
}

TEST(CriticalPoints, SeparableDoubleWellIn3DHasAll27PointsWithTheirIndices) {
  const std::vector<CriticalComponent> c = Find(Load("separable_double_well_3d.json"));
  ASSERT_EQ(c.size(), 27u);
  std::map<int, int> by_index;
  for (const CriticalComponent& comp : c) {
    ++by_index[comp.index];
    EXPECT_TRUE(comp.isolated);
  }
  EXPECT_EQ(by_index, (std::map<int, int>{{0, 8}, {1, 12}, {2, 6}, {3, 1}}));
  EXPECT_EQ(CountTypes(c), (std::map<std::string, int>{{"minimum", 8}, {"saddle", 18}, {"maximum", 1}}));
}

TEST(CriticalPoints, IsolatedDegeneratePointIsDegenerate) {
  // f = x^4 + y^2: one critical point, Hessian diag(0, 2).
  const Problem problem = ParseProblem(R"({"variables": ["x", "y"], "objective": "x^4 + y^2",
      "noise": {"type": "gaussian", "sigma": 1}, "domain": {"lower": [-1, -1], "upper": [1, 1]}})",
                              "inline");
  const std::vector<CriticalComponent> c = Find(problem);
  ASSERT_EQ(c.size(), 1u);
  EXPECT_EQ(c[0].type, CriticalType::kDegenerate);
  EXPECT_TRUE(c[0].isolated);
  EXPECT_LT(c[0].point.norm(), 1e-2);
}

TEST(CriticalPoints, ResultDoesNotDependOnThreadCount) {
  const Problem p = Load("himmelblau.json");
  const std::vector<CriticalComponent> one = Find(p, 1), two = Find(p, 2);
  ASSERT_EQ(one.size(), two.size());
  for (std::size_t i = 0; i < one.size(); ++i) {
    EXPECT_EQ(one[i].point, two[i].point);  // bitwise
    EXPECT_EQ(one[i].f, two[i].f);
  }
}

TEST(CriticalPoints, InvalidOptionsAreReportedInTheSummary) {
  const Problem p = Load("himmelblau.json");
  CriticalPointFinder::Options options;
  options.gradient_tolerance = -1;
  CriticalPointFinder::Summary summary;
  EXPECT_TRUE(CriticalPointFinder(options).Find(*p.objective, p.domain, &summary).empty());
  EXPECT_FALSE(summary.status.ok());
  EXPECT_EQ(summary.status.message(),
            "Invalid configuration. Options::gradient_tolerance = -1. Violated constraint: "
            "gradient_tolerance > 0");
}

TEST(CriticalPoints, TypeNamesRoundTrip) {
  for (CriticalType t : {CriticalType::kMinimum, CriticalType::kSaddle, CriticalType::kMaximum,
                         CriticalType::kDegenerate}) {
    CriticalType back;
    ASSERT_TRUE(FromString(ToString(t), &back));
    EXPECT_EQ(back, t);
  }
  CriticalType unused;
  EXPECT_FALSE(FromString("minima", &unused));
}

// Every file in data/ is exercised: expected numbers of components by type.
TEST(CriticalPoints, EveryDataProblem) {
  const std::map<std::string, std::map<std::string, int>> expected = {
      {"himmelblau.json", {{"minimum", 4}, {"saddle", 4}, {"maximum", 1}}},
      {"himmelblau_hot.json", {{"minimum", 4}, {"saddle", 4}, {"maximum", 1}}},
      {"muller_brown.json", {{"minimum", 3}, {"saddle", 2}}},
      {"three_hump_camel.json", {{"minimum", 3}, {"saddle", 2}}},
      {"tilted_double_well.json", {{"minimum", 2}, {"maximum", 1}}},
      {"tilted_double_well_state_noise.json", {{"minimum", 2}, {"maximum", 1}}},
      {"tilted_double_well_tanh_noise.json", {{"minimum", 2}, {"maximum", 1}}},
      {"tilted_double_well_finite_sum.json", {{"minimum", 2}, {"maximum", 1}}},
      {"tilted_double_well_weak_noise.json", {{"minimum", 2}, {"maximum", 1}}},
      {"ring.json", {{"minimum", 1}, {"maximum", 1}}},
      {"vanishing_noise.json", {{"maximum", 1}}},
      {"vanishing_noise_2d.json", {{"saddle", 1}}},
      {"separable_double_well_3d.json", {{"minimum", 8}, {"saddle", 18}, {"maximum", 1}}},
      {"anisotropic_quadratic_well.json", {{"minimum", 2}, {"saddle", 1}}},
      {"robust_regression.json", {{"minimum", 2}, {"saddle", 1}}},
      {"coupled_double_well_2d_finite_sum.json", {{"minimum", 2}, {"saddle", 1}}},
      {"tilted_double_well_2d_finite_sum.json", {{"minimum", 2}, {"saddle", 1}}},
      // By discovery (its "search"): the index-2 saddle that is Himmelblau's maximum is not sought.
      {"planted_himmelblau_100d.json", {{"minimum", 4}, {"saddle", 4}}},
      {"iris_network.json", {{"minimum", 2}, {"saddle", 1}}},  // symmetry classes
  };
  for (const auto& entry : std::filesystem::directory_iterator(LDSGD_DATA_DIR)) {
    if (entry.path().extension() == ".json") {
      EXPECT_TRUE(expected.count(entry.path().filename().string()))
          << entry.path() << " is not exercised by this test";
    }
  }
  for (const auto& [file, counts] : expected) {
    SCOPED_TRACE(file);
    const Problem p = Load(file);
    if (p.search.method == SearchMethod::kDescent) {
      DiscoverySummary s;
      EXPECT_EQ(CountTypes(DiscoverComponents(p, {}, &s)), counts);
      EXPECT_TRUE(s.status.ok()) << s.status.message();
    } else {
      EXPECT_EQ(CountTypes(Find(p)), counts);
    }
  }
}

}  // namespace
}  // namespace ldsgd
