// Basins of attraction (solver/basins.h): against a brute-force gradient flow (small RK4 steps),
// the exact basins of a 1-D double well, a non-isolated minimum (the ring) and a maximum.
#include "solver/landscape/basins.h"

#include <cmath>
#include <random>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "solver/landscape/critical_points.h"
#include "solver/problem/problem.h"
#include "tests/test_problems.h"

namespace ldsgd {
namespace {

using test::Components;
using test::Load;

// The minimum the gradient flow from x reaches, by classical RK4 with a fixed small time step until
// within 1e-6 of a minimum (a brute force: ~1e4 steps per point).
int FlowByRungeKutta(const Objective& f, const std::vector<CriticalComponent>& components,
                     Eigen::VectorXd x) {
  constexpr double kTimeStep = 1e-3;  // stiffest curvature 134 on Himmelblau: h lambda = 0.13
  constexpr int kMaxSteps = 200000;
  auto v = [&](const Eigen::VectorXd& y) { return Eigen::VectorXd(-f.Gradient(y)); };
  for (int s = 0; s < kMaxSteps; ++s) {
    for (std::size_t i = 0; i < components.size(); ++i) {
      if (components[i].type == CriticalType::kMinimum && (x - components[i].point).norm() < 1e-6) {
        return static_cast<int>(i);
      }
    }
    const Eigen::VectorXd k1 = v(x), k2 = v(x + kTimeStep / 2 * k1), k3 = v(x + kTimeStep / 2 * k2),
                          k4 = v(x + kTimeStep * k3);
    x += kTimeStep / 6 * (k1 + 2 * k2 + 2 * k3 + k4);
  }
  return -1;
}

TEST(BasinClassifier, AgreesWithABruteForceFlowOnHimmelblau) {
  // 400 points uniform in the box. A point within ~1e-3 of a separatrix could legitimately go
  // either way under two discretizations; at this sample size the chance of one is ~1%, so the
  // count of disagreements may be 0 or 1, and every disagreement must be near a basin boundary
  // (checked: the brute force from a 1e-3 perturbation then disagrees with itself).
  const Problem p = Load("himmelblau.json");
  const std::vector<CriticalComponent> components = Components(p);
  const BasinClassifier basins(*p.objective, components);
  std::mt19937_64 rng(5);
  std::uniform_real_distribution<double> u(-5.0, 5.0);
  int disagreements = 0;
  int count[4] = {0, 0, 0, 0};
  for (int k = 0; k < 400; ++k) {
    const Eigen::Vector2d x(u(rng), u(rng));
    const int fast = basins.Classify(x);
    const int slow = FlowByRungeKutta(*p.objective, components, x);
    ASSERT_GE(slow, 0) << x.transpose();
    ASSERT_LT(slow, 4);  // components 0-3 are the minima
    ++count[slow];
    if (fast != slow) {
      ++disagreements;
      bool boundary = false;
      for (const Eigen::Vector2d& delta : {Eigen::Vector2d(1e-3, 0), Eigen::Vector2d(-1e-3, 0),
                                          Eigen::Vector2d(0, 1e-3), Eigen::Vector2d(0, -1e-3)}) {
        boundary = boundary || FlowByRungeKutta(*p.objective, components, x + delta) != slow;
      }
      EXPECT_TRUE(boundary) << "classified " << fast << ", flow reaches " << slow << " from "
                            << x.transpose();
    }
  }
  EXPECT_LE(disagreements, 1);
  for (int i = 0; i < 4; ++i) EXPECT_GT(count[i], 40) << "basin " << i;  // every basin sampled
}

TEST(BasinClassifier, ExactBasinsOfTheTiltedDoubleWell) {
  // 1-D: the basins are the two sides of the maximum q (THEORY.md case 1), exactly.
  const Problem p = Load("tilted_double_well.json");
  const std::vector<CriticalComponent> c = Components(p);
  ASSERT_EQ(c.size(), 3u);
  const double q = c[2].point[0];
  const BasinClassifier basins(*p.objective, c);
  for (double x = -2.0; x <= 2.0; x += 0.01) {
    if (std::abs(x - q) < 1e-9) continue;
    const Eigen::VectorXd point = Eigen::VectorXd::Constant(1, x);
    EXPECT_EQ(basins.Classify(point), x < q ? 0 : 1) << "x = " << x;
  }
  // The maximum itself flows nowhere.
  EXPECT_EQ(basins.Classify(c[2].point), -1);
}

TEST(BasinClassifier, RingMinimumIsReachedAndTheMaximumIsNot) {
  const Problem p = Load("ring.json");
  const std::vector<CriticalComponent> c = Components(p);
  int ring = -1, top = -1;
  for (std::size_t i = 0; i < c.size(); ++i) {
    if (c[i].type == CriticalType::kMinimum) ring = static_cast<int>(i);
    if (c[i].type == CriticalType::kMaximum) top = static_cast<int>(i);
  }
  ASSERT_GE(ring, 0);
  ASSERT_GE(top, 0);
  ASSERT_FALSE(c[ring].isolated);
  const BasinClassifier basins(*p.objective, c);
  for (int k = 0; k < 24; ++k) {
    const double angle = 2 * M_PI * k / 24;
    for (double r : {0.2, 0.7, 1.3, 1.9}) {
      const Eigen::Vector2d x(r * std::cos(angle), r * std::sin(angle));
      EXPECT_EQ(basins.Classify(x), ring) << x.transpose();
    }
  }
  EXPECT_EQ(basins.Classify(c[top].point), -1);
}

}  // namespace
}  // namespace ldsgd
