// The exact finite-sum (minibatch) cost, issue 6: its support-function solve against a brute force
// over directions, its derivatives against central differences, THEORY.md case 3 (batch 1 and 2),
// the Gaussian approximation away from and in its Gaussian limit, and +infinity where no sample
// step can climb.
#include "solver/noise/finite_sum_cost.h"

#include <cmath>
#include <limits>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "solver/action/action_solver.h"
#include "solver/landscape/critical_points.h"
#include "solver/action/geometric_action.h"
#include "solver/problem/problem.h"
#include "solver/simulation/simulator.h"
#include "solver/action/spanning_path.h"
#include "solver/action/transition_costs.h"
#include "tests/test_problems.h"
#include "graph/energies.h"

namespace ldsgd {
namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

using test::Load;
using test::Solve;
using test::Solved;

double Relative(double a, double b) { return std::abs(a - b) / std::abs(b); }

// h(u) = sup{<u, phi> : G(phi) <= 0} by brute force: the feasible set is convex with 0 on its
// boundary, so along each direction v it is a segment [0, r(v)] (r by bisection on G(r v) = 0), and
// h(u) = max_v r(v) <u, v>: a grid of 4000 angles, then golden-section refinement of the best.
// `angles` and `steps` (of the bisection) trade time for the chance of missing a thin sliver.
double BruteForceSupport(const Eigen::MatrixXd& g, const Eigen::Vector2d& u, int angles = 4000,
                         int steps = 200) {
  auto G = [&](const Eigen::Vector2d& phi) {
    const Eigen::VectorXd s = -(g.transpose() * phi);
    const double top = s.maxCoeff();
    return top + std::log((s.array() - top).exp().sum() / static_cast<double>(g.cols()));
  };
  auto reach = [&](double angle) {
    const Eigen::Vector2d v(std::cos(angle), std::sin(angle));
    if (!(G(1e-9 * v) < 0)) return 0.0;  // points outward at once
    double lo = 1e-9, hi = 1.0;
    while (G(hi * v) < 0) {
      hi *= 2;
      // The set is unbounded along v: h(u) is +inf if v has a component along u.
      if (hi > 1e12) return u.dot(v) > 0 ? kInf : 0.0;
    }
    for (int i = 0; i < steps; ++i) {
      const double mid = 0.5 * (lo + hi);
      (G(mid * v) < 0 ? lo : hi) = mid;
    }
    return lo * u.dot(v);
  };
  const int kAngles = angles;
  double best = 0.0, best_angle = 0.0;
  for (int k = 0; k < kAngles; ++k) {
    const double a = 2 * M_PI * k / kAngles;
    const double v = reach(a);
    if (v > best) {
      best = v;
      best_angle = a;
    }
  }
  if (!std::isfinite(best)) return best;
  double a = best_angle - 2 * M_PI / kAngles, b = best_angle + 2 * M_PI / kAngles;
  const double golden = (std::sqrt(5.0) - 1) / 2;
  for (int i = 0; i < 100; ++i) {
    const double c = b - golden * (b - a), d = a + golden * (b - a);
    (reach(c) > reach(d) ? b : a) = (reach(c) > reach(d) ? d : c);
  }
  return std::max(best, reach(0.5 * (a + b)));
}

TEST(FiniteSumCost, SupportFunctionMatchesABruteForceInTwoDimensions) {
  // Random sample gradients around a non-zero mean; directions all around the circle.
  constexpr double kTolerance = 1e-8;  // bisection and golden search reach ~1e-12
  std::mt19937_64 rng(11);
  std::normal_distribution<double> normal(0.0, 1.0);
  constexpr double kHugeCost = 50.0;  // vs ~0.5 typical: u within ~1% of the cone's edge
  const FiniteSumCost cost({}, 1);
  int finite = 0, failures = 0;
  for (int trial = 0; trial < 6; ++trial) {
    const int n = 3 + 4 * trial;
    Eigen::MatrixXd g(2, n);
    for (int k = 0; k < n; ++k) g.col(k) << 0.8 + normal(rng), -0.3 + 1.5 * normal(rng);
    for (int k = 0; k < 8; ++k) {
      const Eigen::Vector2d u(std::cos(0.7 + k * M_PI / 4), std::sin(0.7 + k * M_PI / 4));
      double value = 0.0, mu = 0.0;
      Eigen::VectorXd phi, weights;
      int outer = 0, inner = 0;
      const FiniteSumCost::Status status =
          cost.SupportFunction(g, u, &value, &phi, &mu, &weights, &outer, &inner);
      const double brute = BruteForceSupport(g, u);
      SCOPED_TRACE("n = " + std::to_string(n) + ", direction " + std::to_string(k));
      if (!std::isfinite(brute)) {
        EXPECT_EQ(status, FiniteSumCost::Status::kInfinite);
        continue;
      }
      // Known limit (issue 6 stays open on it): within a hair of the cone's boundary the cost is
      // huge and the multiplier search can fail. It must then say kFailure, never give a value.
      if (status == FiniteSumCost::Status::kFailure && brute > kHugeCost) {
        ++failures;
        continue;
      }
      ASSERT_EQ(status, FiniteSumCost::Status::kFinite);
      ++finite;
      EXPECT_NEAR(value, brute, kTolerance * (1.0 + brute));
    }
  }
  // The counts of this random sample are far from their bounds: over 42 other seeds finite was at
  // least 27 (of 48) and failures always 0. Those seeds were not all clean: in 11 of 42
  // SupportFunction said kInfinite for a finite cost (e.g. seed 104, n = 3, direction 3: brute
  // force 0.3465) or, in seed 109 (n = 11), values 94 and 255 times the brute force's. Fixed (see
  // the test below); over seeds 0-239, 8 seeds still give kFailure or kInfinite on some finite
  // costs (e.g. seed 197, n = 23), never a wrong finite value.
  EXPECT_GT(finite, 20);
  EXPECT_LE(failures, 1);
}

TEST(FiniteSumCost, SupportFunctionMatchesABruteForceOverManySeeds) {
  // The generator above over 20 seeds (0-19; the library once failed 11 of 42 such seeds, e.g.
  // seed 104: a narrow multiplier interval skipped by a geometric scan, a maximizer far out taken
  // for none, a bracket at mu's resolution accepted with G far from 0). The small samples (n = 3,
  // 7), where the hull of -g_k most often misses 0, and a cheaper brute force (1000 angles, 64
  // bisection steps: ~1e-10 relative, with golden refinement) keep it near a second.
  constexpr double kTolerance = 1e-8;
  constexpr double kHugeCost = 50.0;
  const FiniteSumCost cost({}, 1);
  for (int seed = 0; seed < 20; ++seed) {
    std::mt19937_64 rng(seed);
    std::normal_distribution<double> normal(0.0, 1.0);
    for (int trial = 0; trial < 2; ++trial) {
      const int n = 3 + 4 * trial;
      Eigen::MatrixXd g(2, n);
      for (int k = 0; k < n; ++k) g.col(k) << 0.8 + normal(rng), -0.3 + 1.5 * normal(rng);
      for (int k = 0; k < 8; ++k) {
        const Eigen::Vector2d u(std::cos(0.7 + k * M_PI / 4), std::sin(0.7 + k * M_PI / 4));
        double value = 0.0, mu = 0.0;
        Eigen::VectorXd phi, weights;
        int outer = 0, inner = 0;
        const FiniteSumCost::Status status =
            cost.SupportFunction(g, u, &value, &phi, &mu, &weights, &outer, &inner);
        const double brute = BruteForceSupport(g, u, 1000, 64);
        SCOPED_TRACE("seed " + std::to_string(seed) + ", n = " + std::to_string(n) +
                     ", direction " + std::to_string(k));
        if (!std::isfinite(brute)) {
          EXPECT_EQ(status, FiniteSumCost::Status::kInfinite);
          continue;
        }
        if (status == FiniteSumCost::Status::kFailure && brute > kHugeCost) continue;
        ASSERT_EQ(status, FiniteSumCost::Status::kFinite);
        EXPECT_NEAR(value, brute, kTolerance * (1.0 + brute));
      }
    }
  }
}

TEST(FiniteSumCost, DerivativesMatchCentralDifferences) {
  // Envelope theorem: dc/du = b phi*, dc/dx = b mu* sum_k p_k H_k phi*. Central differences with
  // step 1e-5 have truncation ~1e-10 and rounding ~1e-11 on costs of order 1: 1e-6 relative.
  constexpr double kStep = 1e-5;
  constexpr double kTolerance = 1e-6;
  const Problem p = ParseProblem(R"({"variables": ["x", "y"],
      "objective": {"sum": ["x^4/4 - x^2/2 + y^2/2 + 0.3*x*y - x", "x^4/4 - x^2/2 + y^2/2 + 0.5*y",
                            "x^4/4 - x^2/2 + y^2/2 + x + 0.2*x*y", "x^4/4 - x^2/2 + y^2/2 - 0.4*y + 0.1*x"]},
      "noise": {"type": "finite_sum", "batch_size": 3},
      "domain": {"lower": [-2, -2], "upper": [2, 2]}})",
                                 "derivatives");
  const FiniteSumCost cost(p.samples, p.noise.batch_size());
  const double points[][4] = {{-0.6, 0.2, 1.0, 0.3}, {0.3, -0.4, -0.2, 1.0}, {-1.2, 0.5, 0.8, -0.6}};
  for (const auto& q : points) {
    const Eigen::Vector2d x(q[0], q[1]), u(q[2], q[3]);
    const FiniteSumCost::Evaluation e = cost.Evaluate(x.data(), u.data(), true);
    ASSERT_EQ(e.status, FiniteSumCost::Status::kFinite);
    ASSERT_GT(e.cost, 0.0);
    for (int i = 0; i < 2; ++i) {
      Eigen::Vector2d xp = x, xm = x, up = u, um = u;
      xp[i] += kStep;
      xm[i] -= kStep;
      up[i] += kStep;
      um[i] -= kStep;
      const double dx = (cost.Cost(xp.data(), u.data()) - cost.Cost(xm.data(), u.data())) / (2 * kStep);
      const double du = (cost.Cost(x.data(), up.data()) - cost.Cost(x.data(), um.data())) / (2 * kStep);
      EXPECT_NEAR(e.dcdx[i], dx, kTolerance * (1 + std::abs(dx))) << "dc/dx_" << i;
      EXPECT_NEAR(e.dcdu[i], du, kTolerance * (1 + std::abs(du))) << "dc/du_" << i;
    }
    // 1-homogeneity: c(x, 2.5 u) = 2.5 c(x, u) and Euler's identity <dc/du, u> = c.
    const Eigen::Vector2d v = 2.5 * u;
    EXPECT_NEAR(cost.Cost(x.data(), v.data()), 2.5 * e.cost, 1e-12 * e.cost);
    EXPECT_NEAR(e.dcdu.dot(u), e.cost, 1e-10 * e.cost);
  }
}

TEST(FiniteSumCost, TheoryCaseThreeAtBatchOneAndTwo) {
  // THEORY.md case 3: f_k = x^4/4 - x^2/2 + c_k x, c = (-1, 0.3, 1), batch 1: B_{L->q} = 1.065955,
  // B_{R->q} = 0.516204 (printed to 6 decimals: 1e-6 relative is their rounding).
  constexpr double kTheory = 1e-6;
  const Solved one = Solve(Load("tilted_double_well_finite_sum.json"));
  ASSERT_EQ(one.components.size(), 3u);
  const int left = 0, right = 1, top = 2;
  EXPECT_LE(Relative(one.costs.costs(left, top), 1.065955), kTheory) << one.costs.costs(left, top);
  EXPECT_LE(Relative(one.costs.costs(right, top), 0.516204), kTheory) << one.costs.costs(right, top);
  EXPECT_EQ(one.costs.costs(top, left), 0.0);
  EXPECT_EQ(one.costs.costs(top, right), 0.0);
  // Independent check of more digits: Simpson quadrature (20000 panels) of the 1-D closed form
  // c = |theta^|, theta^ the non-zero root of mean_k exp(-theta g_k) = 1, found by bisection.
  const double c[3] = {-1.0, 0.3, 1.0};
  auto root_cost = [&](double x, double sign) {
    double g[3];
    for (int k = 0; k < 3; ++k) g[k] = x * x * x - x + c[k];
    auto F = [&](double t) {
      double v = 0;
      for (double gk : g) v += std::exp(-sign * t * gk) / 3;
      return v - 1;
    };
    double lo = 0.0, hi = 1.0;
    while (F(hi) < 0) hi *= 2;
    for (int i = 0; i < 200; ++i) (F(0.5 * (lo + hi)) < 0 ? lo : hi) = 0.5 * (lo + hi);
    return lo;
  };
  auto simpson = [&](double a, double b, double sign) {
    constexpr int kPanels = 20000;
    const double h = (b - a) / kPanels;
    double s = 0;
    for (int i = 0; i <= kPanels; ++i) {
      const double w = (i == 0 || i == kPanels) ? 1 : (i % 2 ? 4 : 2);
      s += w * root_cost(a + i * h, sign);
    }
    return s * h / 3;
  };
  const double L = one.components[left].point[0], R = one.components[right].point[0],
               q = one.components[top].point[0];
  constexpr double kQuadrature = 1e-8;  // the action solver's own tolerance is 1e-8 relative
  EXPECT_LE(Relative(one.costs.costs(left, top), simpson(L, q, 1.0)), kQuadrature);
  EXPECT_LE(Relative(one.costs.costs(right, top), simpson(q, R, -1.0)), kQuadrature);

  // Batch 2: c is b times the batch-1 cost exactly (theta / b is the same problem); the action
  // solver's refinement stops on a relative-plus-absolute test, so the two runs may stop at
  // different N: equal to its 1e-8 relative tolerance.
  Problem p2 = Load("tilted_double_well_finite_sum.json");
  p2.noise = p2.noise.WithBatchSize(2);
  const Solved two = Solve(std::move(p2));
  for (int i = 0; i < 3; ++i) {
    for (int j = 0; j < 3; ++j) {
      EXPECT_NEAR(two.costs.costs(i, j), 2 * one.costs.costs(i, j), 1e-8 * one.costs.costs(i, j));
    }
  }
}

// f_k = x^4/4 - x^2/2 + 0.1 x + s z_k x, z_k the n normal quantiles (k - 1/2)/n (mean 0 exactly by
// symmetry, variance ~1): the finite sum of case 1 with zero-mean offsets of spread s.
Problem QuantileSum(int n, double s) {
  std::ostringstream json;
  json.precision(17);
  json << R"({"variables": ["x"], "objective": {"sum": [)";
  for (int k = 0; k < n; ++k) {
    // Inverse normal CDF by bisection on erfc (accurate to 1e-15).
    const double p = (k + 0.5) / n;
    double lo = -10, hi = 10;
    for (int i = 0; i < 200; ++i) {
      const double mid = 0.5 * (lo + hi);
      (0.5 * std::erfc(-mid / std::sqrt(2.0)) < p ? lo : hi) = mid;
    }
    json << (k ? ", " : "") << "\"x^4/4 - x^2/2 + 0.1*x + " << s * 0.5 * (lo + hi) << "*x\"";
  }
  json << R"(]}, "noise": {"type": "finite_sum", "batch_size": 1},
             "domain": {"lower": [-2], "upper": [2]}})";
  return ParseProblem(json.str(), "quantiles");
}

TEST(FiniteSumCost, GaussianApproximationDiffersAndAgreesInItsLimit) {
  // Case 3's three samples are far from Gaussian: the approximation (covariance cov_k(g_k) / b)
  // misses the exact costs by 2% and 11%.
  const Solved exact = Solve(Load("tilted_double_well_finite_sum.json"));
  Problem approx_problem = Load("tilted_double_well_finite_sum.json");
  approx_problem.noise = approx_problem.noise.WithApproximation(NoiseApproximation::kGaussian);
  const Solved approx = Solve(std::move(approx_problem));
  EXPECT_GT(Relative(approx.costs.costs(0, 2), exact.costs.costs(0, 2)), 0.01);
  EXPECT_GT(Relative(approx.costs.costs(1, 2), exact.costs.costs(1, 2)), 0.05);

  // The Gaussian limit: 101 offsets at normal quantiles with spread s = 20 against |f'| <= 0.49 on
  // the climb. The exact cumulant is then Gaussian up to theta^ s z ~ 2 |f'| z / s < 0.2, whose
  // higher-cumulant corrections (quantiles have a lighter tail than the normal) are ~1e-4.
  constexpr double kGaussianLimit = 1e-3;
  Problem limit = QuantileSum(101, 20.0);
  const Solved exact_limit = Solve(limit);
  limit.noise = limit.noise.WithApproximation(NoiseApproximation::kGaussian);
  const Solved approx_limit = Solve(std::move(limit));
  ASSERT_EQ(exact_limit.components.size(), 3u);
  for (int from : {0, 1}) {
    const double e = exact_limit.costs.costs(from, 2), a = approx_limit.costs.costs(from, 2);
    EXPECT_LE(Relative(a, e), kGaussianLimit) << "from " << from << ": exact " << e << ", gaussian " << a;
  }
}

TEST(FiniteSumCost, NoiseTooWeakToClimbGivesInfiniteCosts) {
  // g_k = f' + {0, 0.2} - 0.1: between each minimum and the maximum, |f'| reaches 0.485 and 0.285,
  // above the samples' spread 0.1, so no sample step moves uphill there: B = +inf both ways.
  const Solved s = Solve(Load("tilted_double_well_weak_noise.json"));
  ASSERT_EQ(s.components.size(), 3u);
  EXPECT_EQ(s.costs.costs(0, 2), kInf);
  EXPECT_EQ(s.costs.costs(1, 2), kInf);
  EXPECT_EQ(s.costs.costs(0, 1), kInf);
  EXPECT_EQ(s.costs.costs(1, 0), kInf);
  EXPECT_EQ(s.costs.costs(2, 0), 0.0);
  // Energies: no component is reachable from every other one, so every energy is +inf.
  const Energies e = ComputeEnergies(s.costs.costs, {});
  ASSERT_TRUE(e.status.message().empty()) << e.status.message();
  for (int i = 0; i < 3; ++i) EXPECT_EQ(e.absolute[i], kInf);
  // Simulation: chains started in both wells never cross (steps of eta |g_k| <= 0.01 cannot jump
  // the region where every sample pushes downhill).
  SimulationOptions o;
  o.step_size = 0.01;
  o.steps = 200000;
  o.burn_in = 0;
  o.chains = 64;
  o.seed = 3;
  Simulator::Summary summary;
  const SimulationResult r = Simulator(o).Simulate(s.problem, s.components, &summary);
  ASSERT_TRUE(summary.status.ok()) << summary.status.message();
  EXPECT_EQ(r.diverged, 0);
  for (int i = 0; i < 3; ++i) {
    for (int j = 0; j < 3; ++j) EXPECT_EQ(r.transitions[i][j], 0) << i << " -> " << j;
  }
  EXPECT_EQ(r.occupation[2], 0.0);
  for (const SimulationChain& c : r.per_chain) {
    ASSERT_FALSE(c.diverged);
    // Every chain stays on the side of the maximum it started on.
    EXPECT_EQ(c.occupation[c.start_component], c.recorded_steps - c.outside);
  }
}

}  // namespace
}  // namespace ldsgd

namespace ldsgd {
namespace {

// spanning_path.h: the defect psi and its envelope gradient, and the path it builds on the coupled
// double well (data/coupled_double_well_2d_finite_sum.json), whose chord leaves the region where
// the sample gradients surround 0.
TEST(SpanningPath, DefectGradientMatchesCentralDifferencesAndThePathIsFinite) {
  const Problem p = test::Load("coupled_double_well_2d_finite_sum.json");
  constexpr double h = 1e-6;
  // Frank-Wolfe converges like 1/k: after 2000 iterations the inner minimizer, hence the envelope
  // gradient, is good to ~1e-4 relative. Enough: psi only steers the initial path.
  constexpr double kTolerance = 2e-3;
  for (const Eigen::Vector2d& x : {Eigen::Vector2d(-0.5, 0.0), Eigen::Vector2d(0.3, 0.8)}) {
    Eigen::VectorXd grad;
    const double psi = SpanningDefect(*p.samples, x, 0.5, 2000, &grad);
    EXPECT_GT(psi, 0.0);  // off the region at these points
    for (int i = 0; i < 2; ++i) {
      Eigen::VectorXd up = x, down = x;
      up[i] += h;
      down[i] -= h;
      const double fd = (SpanningDefect(*p.samples, up, 0.5, 2000, nullptr) -
                         SpanningDefect(*p.samples, down, 0.5, 2000, nullptr)) / (2 * h);
      EXPECT_NEAR(grad[i], fd, kTolerance * (1 + std::abs(fd)));
    }
  }
  const Eigen::Vector2d a(-1.046681, 0.0), q(0.101031, 0.0);
  const ProblemGeometry owner(p);
  const Eigen::MatrixXd straight = ActionSolver::Resample((Eigen::MatrixXd(2, 2) << a.transpose(), q.transpose()).finished(), 16);
  EXPECT_TRUE(std::isinf(DiscreteAction(owner.geometry(), straight)));
  const Eigen::MatrixXd path = SpanningInitialPath(*p.samples, a, q);
  EXPECT_TRUE(std::isfinite(DiscreteAction(owner.geometry(), path)));
}

}  // namespace
}  // namespace ldsgd
