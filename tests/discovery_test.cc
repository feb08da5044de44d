// Discovery (minima by descent, saddles by the string method) on the planted problem, whose
// critical points and costs are Himmelblau's (THEORY.md case 4) in two rotated coordinates.
#include "solver/landscape/discovery.h"

#include <algorithm>
#include <cmath>

#include <gtest/gtest.h>

#include "solver/analysis/analysis.h"
#include "solver/landscape/gradient_flow.h"
#include "solver/objective/planted.h"
#include "tests/test_problems.h"

namespace ldsgd {
namespace {

// Himmelblau's minima and index-1 saddles (THEORY.md case 4: positions to 6 decimals, f of the
// saddles to 6).
struct Known {
  double y1, y2, f;
  CriticalType type;
};
const Known kHimmelblau[] = {
    {3.0, 2.0, 0.0, CriticalType::kMinimum},
    {-2.805118, 3.131313, 0.0, CriticalType::kMinimum},
    {-3.779310, -3.283186, 0.0, CriticalType::kMinimum},
    {3.584428, -1.848127, 0.0, CriticalType::kMinimum},
    {3.385154, 0.073852, 13.311926, CriticalType::kSaddle},
    {0.086678, 2.884255, 67.719150, CriticalType::kSaddle},
    {-3.073026, -0.081353, 104.015163, CriticalType::kSaddle},
    {-0.127961, -1.953715, 178.337239, CriticalType::kSaddle},
};
// THEORY.md gives the points to 6 decimals: 1e-5 in position, and f to 1e-6 relative of the
// saddles' scale (their 6 decimals).
constexpr double kPosition = 1e-5;
constexpr double kValue = 1e-5;
// The must-hold of issue 18: B_ij within 1e-5 relative of the 2-D values.
constexpr double kCost = 1e-5;

Problem Planted(int d, int starts) {
  const std::string text = R"({"objective": {"builtin": "planted_himmelblau", "params": {"dimension": )" + std::to_string(d) +
                           R"(}}, "noise": {"type": "gaussian", "sigma": 1.0}, "domain": {"lower": -6, "upper": 6},
      "search": {"method": "descent", "starts": )" + std::to_string(starts) +
                           R"(, "neighbours": 2, "init": {"distribution": "normal", "mean": 0, "std": 2}}})";
  return ParseProblem(text, "planted.json");
}

// The discovered component at Q^T (y1, y2, 0...), or -1.
int Find(const std::vector<CriticalComponent>& c, const PlantedHimmelblau& f, const Known& k) {
  const Eigen::VectorXd x = f.Plant(k.y1, k.y2);
  for (const CriticalComponent& comp : c) {
    if ((comp.point - x).norm() <= kPosition) return comp.id;
  }
  return -1;
}

TEST(Discovery, FindsThePlantedMinimaAndSaddlesInTenDimensions) {
  const Problem p = Planted(10, 24);
  DiscoverySummary s;
  const std::vector<CriticalComponent> c = DiscoverComponents(p, {}, &s);
  ASSERT_TRUE(s.status.ok()) << s.status.message();
  EXPECT_EQ(s.minima, 4);
  EXPECT_EQ(s.saddles, 4);
  const auto& f = dynamic_cast<const PlantedHimmelblau&>(*p.objective);
  for (const Known& k : kHimmelblau) {
    const int i = Find(c, f, k);
    ASSERT_GE(i, 0) << k.y1 << ", " << k.y2;
    EXPECT_EQ(c[i].type, k.type);
    EXPECT_NEAR(c[i].f, k.f, kValue * std::max(1.0, k.f));
    EXPECT_EQ(c[i].index, k.type == CriticalType::kSaddle ? 1 : 0);
  }
  int hits = 0;
  for (int h : s.hits) hits += h;
  EXPECT_EQ(hits, s.converged - s.left_domain);
  // Good-Turing: the share of descents whose minimum was seen once.
  int once = 0;
  for (std::size_t k = 0; k < c.size(); ++k) once += c[k].type == CriticalType::kMinimum && s.hits[k] == 1;
  EXPECT_EQ(s.found_once, once);
  EXPECT_DOUBLE_EQ(s.unseen_mass, static_cast<double>(once) / hits);
}

// On a 2-D landscape with a curved minimum-energy path (Mueller-Brown, THEORY.md case 5), discovery
// from the uniform distribution on the box finds what the box search finds, minus the maxima.
TEST(Discovery, AgreesWithTheBoxSearchOnMullerBrown) {
  Problem p = test::Load("muller_brown.json");
  const std::vector<CriticalComponent> box = test::Components(p);
  p.search.method = SearchMethod::kDescent;
  p.search.starts = 64;
  DiscoverySummary s;
  const std::vector<CriticalComponent> found = DiscoverComponents(p, {}, &s);
  ASSERT_TRUE(s.status.ok()) << s.status.message();
  std::size_t expected = 0;
  for (const CriticalComponent& b : box) {
    if (b.type != CriticalType::kMinimum && b.index != 1) continue;
    ++expected;
    bool matched = false;
    for (const CriticalComponent& c : found) matched = matched || ((c.point - b.point).norm() <= kPosition && c.type == b.type);
    EXPECT_TRUE(matched) << b.point.transpose();
  }
  EXPECT_EQ(found.size(), expected);
  EXPECT_EQ(s.minima, 3);
  EXPECT_EQ(s.saddles, 2);
}

// The same seed gives the same components whatever the threads.
TEST(Discovery, DoesNotDependOnTheThreads) {
  const Problem p = Planted(6, 12);
  DiscoveryOptions one, two;
  one.num_threads = 1;
  two.num_threads = 2;
  const std::vector<CriticalComponent> a = DiscoverComponents(p, one, nullptr), b = DiscoverComponents(p, two, nullptr);
  ASSERT_EQ(a.size(), b.size());
  for (std::size_t k = 0; k < a.size(); ++k) EXPECT_EQ(a[k].point, b[k].point);
}

// Issue 18's must-hold: d = 100, the 4 minima and 4 saddles, every B_ij as in 2-D.
// The iris network (27 parameters, a symmetry group of order 48): 64 descents end at copies of
// two minima, which discovery reports as two classes (canonical representatives) with their hit
// counts, and one index-1 saddle whose two gradient flows arrive at both classes (at the copies the
// components carry), so that the transition network joins them.
TEST(Discovery, IrisNetworkMinimaAreSymmetryClassesJoinedByTheirSaddle) {
  const Problem p = test::Load("iris_network.json");
  DiscoverySummary s;
  const std::vector<CriticalComponent> c = DiscoverComponents(p, DiscoveryOptions(), &s);
  ASSERT_TRUE(s.status.ok()) << s.status.message();
  EXPECT_EQ(s.symmetry_order, 48.0);
  ASSERT_EQ(s.minima, 2);
  ASSERT_EQ(s.saddles, 1);
  EXPECT_EQ(s.hits[0] + s.hits[1], s.converged);
  for (int m = 0; m < 2; ++m) {
    Eigen::VectorXd x = c[m].point;
    p.network->Canonicalize(x.data(), 1e-6);
    EXPECT_LE((x - c[m].point).norm(), 1e-9);
  }
  ASSERT_EQ(c[2].type, CriticalType::kSaddle);
  EXPECT_GT(c[2].f, c[1].f);
  const std::vector<FlowConnection> flows = FindFlowConnections(*p.objective, p.domain, c, GradientFlowOptions());
  bool to[2] = {false, false};
  for (const FlowConnection& f : flows) {
    if (f.from == 2 && f.to < 2) to[f.to] = true;
  }
  EXPECT_TRUE(to[0] && to[1]);
}

TEST(Discovery, PlantedHimmelblauIn100DimensionsHasTheTwoDimensionalCosts) {
  const Problem p = test::Load("planted_himmelblau_100d.json");
  AnalysisOptions options;
  options.last_stage = AnalysisStage::kEnergies;
  // Each action to 1e-6 relative, ten times inside the 1e-5 asked (the default 1e-8 costs 512
  // segments of 100 dimensions on the longest climb: 166 s instead of 111 s on 2 cores).
  options.costs.action.relative_tolerance = 1e-6;
  AnalysisSummary s;
  const Analysis a = Analyze(p, options, &s);
  ASSERT_TRUE(s.status.ok()) << s.status.message();
  ASSERT_EQ(a.components.size(), 8u);
  // The 2-D reference: Himmelblau by the box search with the same pair policy (adjacent climbs,
  // the closure for the rest), its maximum left out as discovery does.
  Problem flat = test::Load("himmelblau.json");
  AnalysisOptions flat_options = options;
  flat_options.costs.pairs = CostPairs::kAdjacent;
  const Analysis two = Analyze(flat, flat_options, nullptr);
  const auto& f = dynamic_cast<const PlantedHimmelblau&>(*p.objective);
  std::vector<int> here, there;
  for (const Known& k : kHimmelblau) {
    here.push_back(Find(a.components, f, k));
    int j = -1;
    for (const CriticalComponent& c : two.components) {
      if (std::hypot(c.point[0] - k.y1, c.point[1] - k.y2) <= kPosition) j = c.id;
    }
    there.push_back(j);
    ASSERT_GE(here.back(), 0);
    ASSERT_GE(there.back(), 0);
  }
  // The pairs the discovered network joins (saddle -> minimum by the flow, minimum -> adjacent
  // saddle by a direct path) against the 2-D values and the closed form 2 (f_to - f_from)_+. The
  // others are closures over different sets: discovery keeps index-1 saddles, and the 2-D set's
  // maximum (index 2 here) opens routes the planted set does not have (363.23 = 2 x 181.62 in
  // 2-D against 370.09 over the saddles), so they are not compared.
  int joined = 0;
  for (std::size_t u = 0; u < here.size(); ++u) {
    for (std::size_t v = 0; v < here.size(); ++v) {
      if (u == v) continue;
      const CostMethod method = a.costs.path(here[u], here[v]).method;
      if (method != CostMethod::kDirect && method != CostMethod::kGradientFlow) continue;
      ++joined;
      const double b = a.costs.costs(here[u], here[v]), ref = two.costs.costs(there[u], there[v]);
      const double closed = 2 * std::max(0.0, kHimmelblau[v].f - kHimmelblau[u].f);
      EXPECT_NEAR(b, ref, kCost * std::max(1.0, ref)) << u << " -> " << v;
      EXPECT_NEAR(b, closed, kCost * std::max(1.0, closed)) << u << " -> " << v;
    }
    // Energies x sigma^2 = 2 f (THEORY.md case 4), to the costs' accuracy.
    EXPECT_NEAR(a.energies.relative[here[u]], 2 * kHimmelblau[u].f, kCost * std::max(1.0, 2 * kHimmelblau[u].f)) << u;
  }
  EXPECT_EQ(joined, 16);  // each saddle flows to two minima, each of which climbs back
}

}  // namespace
}  // namespace ldsgd
