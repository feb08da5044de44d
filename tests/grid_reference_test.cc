// The exact finite-eta reference (solver/theory/grid_reference.h): closed forms (THEORY.md section 6
// and the discrete Lyapunov equation), an independent Nystrom discretization, the simulator, and
// bad input.
#include "solver/theory/grid_reference.h"

#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

#include <Eigen/Dense>
#include <gtest/gtest.h>

#include "solver/landscape/critical_points.h"
#include "solver/problem/problem.h"
#include "solver/simulation/simulator.h"
#include "tests/test_problems.h"

namespace ldsgd {
namespace {

using test::Components;
using test::Load;

// A quadratic problem over the box [-half, half]^d.
Problem Quadratic(const std::string& variables, const std::string& objective, const std::string& noise,
                  double half) {
  const std::string lower = variables == "x" ? "[-H]" : "[-H, -H]", upper = variables == "x" ? "[H]" : "[H, H]";
  std::string json = R"({"variables": [)" + std::string(variables == "x" ? R"("x")" : R"("x", "y")") +
                     R"(], "objective": ")" + objective + R"(", "noise": )" + noise +
                     R"(, "domain": {"lower": )" + lower + R"(, "upper": )" + upper + "}}";
  for (std::size_t at = json.find('H'); at != std::string::npos; at = json.find('H')) {
    json.replace(at, 1, std::to_string(half));
  }
  return ParseProblem(json, "quadratic");
}

// The stationary covariance of x -> A x + eta Z, A = I - eta H, Z ~ N(0, Sigma): the fixed point
// of C = A C A^T + eta^2 Sigma, by iteration (the spectral radius of A is below 1).
Eigen::Matrix2d DiscreteLyapunov(const Eigen::Matrix2d& H, const Eigen::Matrix2d& sigma, double eta) {
  const Eigen::Matrix2d A = Eigen::Matrix2d::Identity() - eta * H;
  Eigen::Matrix2d C = Eigen::Matrix2d::Zero();
  for (int i = 0; i < 20000; ++i) C = A * C * A.transpose() + eta * eta * sigma;
  return C;
}

// The relative error of a grid variance for linear drift and Gaussian noise: the compensated
// scheme is then exact but for Sheppard's correction, which errs by ~2 h^2 exp(-2 pi^2 s^2 / h^2) /
// (pi^2 V) for a law of variance V smooth on the scale s of the kernel's standard deviation
// (s >= 0.9 h on the automatic first grid: ~3e-9 at eta = 0.1), the source quadrature, the box
// (tails beyond 6.7 standard deviations: < 1e-9 of the variance here) and rounding. Measured: 4e-9
// and 5e-9 in 1-D, 1e-12 to 3e-9 in 2-D on automatic grids, 3e-8 on the coarser 36-cell one.
constexpr double kLinearVarianceTolerance = 1e-7;

TEST(GridReference, QuadraticVarianceIsExactAtFiniteEta) {
  // THEORY.md section 6: f = lambda x^2 / 2, sigma = 1: variance eta / (lambda (2 - eta lambda)).
  // eta lambda = 0.9 is far from the Langevin limit (whose variance would be eta / (2 lambda)).
  struct Case {
    double eta, half;
  };
  for (const Case c : {Case{0.1, 2.0}, Case{0.9, 8.0}}) {
    const Problem p = Quadratic("x", "x^2/2", R"({"type": "gaussian", "sigma": 1})", c.half);
    GridReferenceOptions o;
    o.max_refinements = 1;
    const GridReference r = ComputeGridReference(p, Components(p), c.eta, o);
    ASSERT_TRUE(r.status.ok()) << r.status.message();
    const double exact = c.eta / (2 - c.eta);
    ASSERT_EQ(r.levels.size(), 2u);
    for (const GridLevel& level : r.levels) {
      EXPECT_NEAR(level.variance[0], exact, kLinearVarianceTolerance * exact) << "N = " << level.cells_per_dimension;
      EXPECT_NEAR(level.mean[0], 0.0, 1e-12);
    }
    EXPECT_TRUE(r.converged);  // one basin: its mass is 1 on every grid
    EXPECT_LT(r.leak, 1e-14);
    std::printf("eta = %g: N = %d, variance %.12f (exact %.12f), %.3f s\n", c.eta, r.levels[0].cells_per_dimension,
                r.levels[0].variance[0], exact, r.seconds);
  }
}

TEST(GridReference, UncompensatedCellsAddVarianceHSquaredOverSixPerStep) {
  // Why the compensation (grid_reference.h): without it a step starts from a point spread uniformly
  // over its cell, which acts like extra noise of variance h^2/6 before the drift. For
  // x -> a x + s Z the variance becomes (s^2 + a^2 h^2 / 6) / (1 - a^2): relative error
  // a^2 h^2 / (6 s^2) (the grid's second moments carry Sheppard's correction). f = x^2/2, eta = 0.1:
  // a = 0.9, s = 0.1, h = 4/160: 8.4375e-3.
  const Problem p = Quadratic("x", "x^2/2", R"({"type": "gaussian", "sigma": 1})", 2.0);
  GridReferenceOptions o;
  o.compensate = false;
  o.initial_cells = 160;
  o.max_refinements = 0;
  const GridReference r = ComputeGridReference(p, Components(p), 0.1, o);
  ASSERT_TRUE(r.status.ok()) << r.status.message();
  const double exact = 0.1 / 1.9, h = 4.0 / 160;
  const double predicted = 0.81 * h * h / (6 * 0.01);
  EXPECT_NEAR(r.variance[0] / exact - 1, predicted, 1e-3 * predicted);
  EXPECT_FALSE(r.converged);  // a single grid is never judged converged
  EXPECT_TRUE(std::isnan(r.change));
}

TEST(GridReference, TwoDimensionalQuadraticsMatchTheDiscreteLyapunovEquation) {
  // The exact stationary covariance C = A C A^T + eta^2 Sigma, A = I - eta H, for the three ways a
  // 2-D Gaussian step is integrated over the cells: a product of axis integrals (diagonal H and
  // Sigma), Mehler's series (a non-diagonal H makes even isotropic noise correlated once the
  // cells' diffusion is compensated; a correlated Sigma), and the conditional quadrature (|rho| >
  // 0.95). eta = 0.3 keeps the grids small (20-36 cells per dimension; the strongly correlated
  // case's automatic grid would resolve its minor axis, sqrt(0.045) of the major one, at 4 s).
  struct Case {
    std::string objective, noise;
    Eigen::Matrix2d H, sigma;
    double eta;
    int cells;  // 0: automatic
  };
  Eigen::Matrix2d diagonal_h, coupled_h, diagonal_sigma, correlated_sigma, strong_sigma;
  diagonal_h << 1, 0, 0, 3;
  coupled_h << 1, 0.5, 0.5, 2;
  diagonal_sigma << 1, 0, 0, 0.5;
  correlated_sigma << 1, 0.3, 0.3, 0.5;
  strong_sigma << 1, 0.955, 0.955, 1;
  const std::vector<Case> cases = {
      {"x^2/2 + 1.5*y^2", R"({"type": "gaussian", "covariance": [[1, 0], [0, 0.5]]})", diagonal_h, diagonal_sigma,
       0.3, 0},
      {"x^2/2 + 0.5*x*y + y^2", R"({"type": "gaussian", "sigma": 1})", coupled_h, Eigen::Matrix2d::Identity(), 0.3, 0},
      {"x^2/2 + 0.5*x*y + y^2", R"({"type": "gaussian", "covariance": [[1, 0.3], [0.3, 0.5]]})", coupled_h,
       correlated_sigma, 0.3, 0},
      {"x^2/2 + 0.5*x*y + y^2", R"({"type": "gaussian", "covariance": [[1, 0.955], [0.955, 1]]})", coupled_h,
       strong_sigma, 0.3, 36},
  };
  for (const Case& c : cases) {
    const Problem p = Quadratic("x, y", c.objective, c.noise, 3.0);
    GridReferenceOptions o;
    o.max_refinements = 0;
    o.initial_cells = c.cells;
    const GridReference r = ComputeGridReference(p, Components(p), c.eta, o);
    ASSERT_TRUE(r.status.ok()) << r.status.message();
    ASSERT_EQ(r.partial_compensation, 0.0);  // the premise of exactness
    const Eigen::Matrix2d C = DiscreteLyapunov(c.H, c.sigma, c.eta);
    for (int k = 0; k < 2; ++k) {
      EXPECT_NEAR(r.variance[k], C(k, k), kLinearVarianceTolerance * C(k, k)) << c.objective << ", " << c.noise;
      EXPECT_NEAR(r.mean[k], 0.0, 1e-12);
    }
    std::printf("%s, %s: N = %d, variances %.10f %.10f (exact %.10f %.10f), %.2f s (LU %.2f s)\n", c.objective.c_str(),
                c.noise.c_str(), r.cells_per_dimension, r.variance[0], r.variance[1], C(0, 0), C(1, 1), r.seconds,
                r.levels[0].solve_seconds);
  }
}

// The chain x -> x - eta f'(x) + eta sigma(x) Z conditioned to stay in [-2, 2] (a 1-D Gaussian
// problem), discretized independently of the grid: Nystrom's method on composite 5-point
// Gauss-Legendre panels (width <= 0.02, one panel edge at the basin boundary `edge`), spectrally
// accurate for the smooth kernel (the one-step standard deviation, >= 0.05 here, spans 2.5
// panels and more). Returns the mass beyond `edge`, and the mean and variance.
struct NystromResult {
  double right_mass = 0.0, mean = 0.0, variance = 0.0;
};
NystromResult Nystrom(const Problem& problem, double eta, double edge) {
  static const double kNode[5] = {-0.9061798459386640, -0.5384693101056831, 0.0, 0.5384693101056831,
                                  0.9061798459386640};
  static const double kWeight[5] = {0.2369268850561891, 0.4786286704993665, 0.5688888888888889,
                                    0.4786286704993665, 0.2369268850561891};
  std::vector<double> x, w;
  for (const auto& [a, b] : {std::pair{-2.0, edge}, std::pair{edge, 2.0}}) {
    const int panels = static_cast<int>(std::ceil((b - a) / 0.02));
    const double width = (b - a) / panels;
    for (int p = 0; p < panels; ++p) {
      for (int q = 0; q < 5; ++q) {
        x.push_back(a + width * (p + 0.5 * (1 + kNode[q])));
        w.push_back(0.5 * width * kWeight[q]);
      }
    }
  }
  const int n = static_cast<int>(x.size());
  Eigen::MatrixXd K(n, n);  // K(i, j): from node i to node j, rows normalized over the box
  for (int i = 0; i < n; ++i) {
    double g = 0.0;
    problem.objective->Gradient(&x[i], &g);
    const double m = x[i] - eta * g, s = eta * std::sqrt(problem.noise.CovarianceAt(&x[i])(0, 0));
    for (int j = 0; j < n; ++j) K(i, j) = w[j] * std::exp(-0.5 * (x[j] - m) * (x[j] - m) / (s * s));
    K.row(i) /= K.row(i).sum();
  }
  Eigen::MatrixXd A = K.transpose() - Eigen::MatrixXd::Identity(n, n);
  A.row(0).setOnes();  // the normalization replaces one equation
  Eigen::VectorXd b = Eigen::VectorXd::Zero(n);
  b[0] = 1.0;
  const Eigen::VectorXd p = A.partialPivLu().solve(b);
  NystromResult r;
  double second = 0.0;
  for (int j = 0; j < n; ++j) {
    if (x[j] > edge) r.right_mass += p[j];
    r.mean += p[j] * x[j];
    second += p[j] * x[j] * x[j];
  }
  r.variance = second - r.mean * r.mean;
  return r;
}

// Batch means over contiguous groups of chains of the basin fraction of component i among the
// minima `minima`: the mean and its standard error.
struct BatchEstimate {
  double mean = 0.0, standard_error = 0.0;
};
BatchEstimate BasinBatchMeans(const SimulationResult& r, int i, const std::vector<int>& minima, int batches) {
  std::vector<double> v;
  const int chains = static_cast<int>(r.per_chain.size());
  for (int k = 0; k < batches; ++k) {
    double in = 0.0, all = 0.0;
    for (int c = k * chains / batches; c < (k + 1) * chains / batches; ++c) {
      in += static_cast<double>(r.per_chain[c].basin_counts[i]);
      for (int j : minima) all += static_cast<double>(r.per_chain[c].basin_counts[j]);
    }
    v.push_back(in / all);
  }
  BatchEstimate e;
  for (double x : v) e.mean += x / batches;
  double ss = 0.0;
  for (double x : v) ss += (x - e.mean) * (x - e.mean);
  e.standard_error = std::sqrt(ss / (batches - 1) / batches);
  return e;
}

// 16 batches of 4 chains: Student t with 15 degrees of freedom exceeds 4.5 with probability 4e-4,
// so a change of random stream fails a comparison less than once in 1000 runs (issue 12).
constexpr int kBatches = 16;
constexpr double kStandardErrors = 4.5;

SimulationResult SimulateBasins(const Problem& p, const std::vector<CriticalComponent>& components, double eta,
                                long steps) {
  SimulationOptions o;
  o.step_size = eta;
  o.steps = steps;
  o.burn_in = 100000;  // ~100 exits from the shallower well at eta = 0.1
  o.chains = 64;
  o.seed = 1;
  // Classifications ~50 relaxation times apart: nearly independent within a well, and cheap.
  o.basin_interval = 100;
  Simulator::Summary summary;
  SimulationResult r = Simulator(o).Simulate(p, components, &summary);
  EXPECT_TRUE(summary.status.ok()) << summary.status.message();
  EXPECT_EQ(r.diverged, 0);
  std::printf("%s\n", summary.BriefReport().c_str());
  return r;
}

TEST(GridReference, TiltedDoubleWellAgreesWithNystromAndSimulationAndDiffersFromLaplace) {
  // THEORY.md case 1 at eta = 0.1: minima L (component 0) and R (1), maximum q = 0.101031.
  const Problem p = Load("tilted_double_well.json");
  const std::vector<CriticalComponent> components = Components(p);
  ASSERT_EQ(components.size(), 3u);
  ASSERT_EQ(components[1].type, CriticalType::kMinimum);
  constexpr double kEta = 0.1;
  const GridReference r = ComputeGridReference(p, components, kEta, GridReferenceOptions());
  ASSERT_TRUE(r.status.ok()) << r.status.message();
  std::printf("%s", r.FullReport().c_str());
  EXPECT_TRUE(r.converged);
  EXPECT_GE(r.refinements, 1);
  EXPECT_LE(r.change, 1e-4);
  EXPECT_EQ(r.unclassified, 0.0);
  EXPECT_LT(r.leak, 1e-12);
  EXPECT_NEAR(r.basin_mass[0] + r.basin_mass[1], 1.0, 1e-14);
  EXPECT_TRUE(std::isnan(r.basin_mass[2]));

  // An independent discretization of the same chain: the grid's error is below its change (errors
  // fall as h^4: about change / 15). Measured: R 0.02263107 (grid, N = 160, change 1.1e-5) and
  // 0.02263180 (Nystrom); variance 0.10819060 and 0.10819312 (moment_change 3.5e-4).
  const NystromResult exact = Nystrom(p, kEta, components[2].point[0]);
  EXPECT_NEAR(r.basin_mass[1], exact.right_mass, r.change);
  EXPECT_NEAR(r.mean[0], exact.mean, r.moment_change * std::sqrt(exact.variance));
  EXPECT_NEAR(r.variance[0], exact.variance, r.moment_change * exact.variance);
  std::printf("Nystrom: R %.8f, mean %.8f, variance %.8f; grid: R %.8f, mean %.8f, variance %.8f\n",
              exact.right_mass, exact.mean, exact.variance, r.basin_mass[1], r.mean[0], r.variance[0]);

  // The Laplace mass (THEORY.md case 1): mu(R)/mu(L) ~ 1.1657 exp(-0.399494 / eta), 0.021008 of the
  // total; the chain at eta = 0.1 puts 7.7% more in R. Measurably different: the difference is
  // over a hundred times the grid's error.
  const double ratio = 1.1657 * std::exp(-0.399494 / kEta), laplace = ratio / (1 + ratio);
  EXPECT_GT(std::abs(r.basin_mass[1] - laplace), 100 * r.change);
  EXPECT_NEAR(r.basin_mass[1] / laplace, 1.0, 0.15);
  std::printf("grid R %.6f, Laplace %.6f (%+.2f%%)\n", r.basin_mass[1], laplace, 100 * (r.basin_mass[1] / laplace - 1));

  // The simulated chain: 1.28e8 steps, ~4 s. Its standard error (~4e-4, 2% of the mass) is what a
  // few seconds buy: it cannot tell the grid from Laplace (1.6e-3 apart). Longer runs (8.7e9 steps
  // over 27 seeds, ~5 min) measured 0.02268 +- 0.00007 (standard error): the grid, not Laplace;
  // their scatter matched their standard errors (chi-square 24 for 20 runs of this length). This
  // seed happens to measure 3.5 standard errors low (0.02122 +- 0.0004).
  const SimulationResult sim = SimulateBasins(p, components, kEta, 2000000);
  const BatchEstimate m = BasinBatchMeans(sim, 1, {0, 1}, kBatches);
  EXPECT_NEAR(m.mean, r.basin_mass[1], kStandardErrors * m.standard_error + r.change);
  EXPECT_LT(m.standard_error, 0.05 * m.mean);  // narrow enough to mean something
  std::printf("simulation R %.6f +- %.6f (standard error), grid %.6f\n", m.mean, m.standard_error, r.basin_mass[1]);
}

TEST(GridReference, StateDependentNoiseAgreesWithNystrom) {
  // THEORY.md cases 2 (sigma^2 = 1 + 0.5 x^2) and 2b (sigma^2 = 1 - 0.7 tanh(2x), where R, with the
  // higher f, is the ground state) at eta = 0.1: a state-dependent Sigma needs the mirrored
  // covariance and the Sigma'' term of the compensation (without them these converge as h^2).
  for (const char* file : {"tilted_double_well_state_noise.json", "tilted_double_well_tanh_noise.json"}) {
    const Problem p = Load(file);
    const std::vector<CriticalComponent> components = Components(p);
    ASSERT_EQ(components.size(), 3u);
    ASSERT_EQ(components[2].type, CriticalType::kMaximum);
    const GridReference r = ComputeGridReference(p, components, 0.1, GridReferenceOptions());
    ASSERT_TRUE(r.status.ok()) << r.status.message();
    EXPECT_TRUE(r.converged) << file;
    const NystromResult exact = Nystrom(p, 0.1, components[2].point[0]);
    EXPECT_NEAR(r.basin_mass[1], exact.right_mass, r.change) << file;
    EXPECT_NEAR(r.variance[0], exact.variance, r.moment_change * exact.variance) << file;
    std::printf("%s: grid R %.8f (N = %d, change %.2g), Nystrom %.8f\n", file, r.basin_mass[1],
                r.cells_per_dimension, r.change, exact.right_mass);
  }
}

TEST(GridReference, FiniteSumAgreesWithSimulation) {
  // THEORY.md case 3 (batch 1): the step is x - eta (f'(x) + c_k), k uniform in 3: a mixture of
  // Diracs, spread onto the cells linearly. eta = 0.2 keeps R's mass ~8%.
  const Problem p = Load("tilted_double_well_finite_sum.json");
  const std::vector<CriticalComponent> components = Components(p);
  ASSERT_EQ(components.size(), 3u);
  constexpr double kEta = 0.2;
  const GridReference r = ComputeGridReference(p, components, kEta, GridReferenceOptions());
  ASSERT_TRUE(r.status.ok()) << r.status.message();
  std::printf("%s", r.FullReport().c_str());
  EXPECT_TRUE(r.converged);
  EXPECT_LT(r.leak, 1e-12);
  const SimulationResult sim = SimulateBasins(p, components, kEta, 1000000);
  const BatchEstimate m = BasinBatchMeans(sim, 1, {0, 1}, kBatches);
  EXPECT_NEAR(m.mean, r.basin_mass[1], kStandardErrors * m.standard_error + r.change);
  EXPECT_LT(m.standard_error, 0.05 * m.mean);
  std::printf("simulation R %.6f +- %.6f (standard error), grid %.6f\n", m.mean, m.standard_error, r.basin_mass[1]);
}

TEST(GridReference, SeparableTwoDimensionalWellHasTheOneDimensionalMarginal) {
  // data/anisotropic_quadratic_well.json: f = (x^2 - 1)^2 / 4 + 0.1 x + y^2 / 2 = THEORY.md case 1's
  // f + 1/4 in x, and Sigma_xx = 1. x's drift depends on x only and its noise is N(0, 1), so x alone
  // is case 1's chain; on the same cells in x the 2-D grid chain lumps exactly onto the 1-D one
  // (the compensation is per coordinate for a diagonal Hessian, and Mehler's terms beyond the first
  // sum to zero over a column), although the 2-D noise is correlated (rho = 0.42). So the x mean and
  // variance agree to rounding and the kernel's truncations (< 1e-12), and the basin masses (x < q,
  // x > q) up to the two ways of splitting the cells the boundary crosses (1-D: bisection and a
  // parabola; 2-D: a quadtree and a plane): measured 3e-7.
  const Problem p2 = Load("anisotropic_quadratic_well.json");
  const Problem p1 = Load("tilted_double_well.json");
  constexpr double kEta = 0.2;
  GridReferenceOptions o;
  o.initial_cells = 34;
  o.max_refinements = 0;
  const GridReference r2 = ComputeGridReference(p2, Components(p2), kEta, o);
  const GridReference r1 = ComputeGridReference(p1, Components(p1), kEta, o);
  ASSERT_TRUE(r2.status.ok()) << r2.status.message();
  ASSERT_TRUE(r1.status.ok()) << r1.status.message();
  std::printf("%s%s", r2.FullReport().c_str(), r1.FullReport().c_str());
  EXPECT_NEAR(r2.mean[0], r1.mean[0], 1e-10);
  EXPECT_NEAR(r2.variance[0], r1.variance[0], 1e-10);
  EXPECT_NEAR(r2.basin_mass[1], r1.basin_mass[1], 1e-6);
  std::printf("basin mass of R: 2-D %.10f, 1-D %.10f\n", r2.basin_mass[1], r1.basin_mass[1]);
}

TEST(GridReference, BitIdenticalForAnyThreadCount) {
  // 1-D (two grids), and 2-D with a correlated step and a basin boundary split by marching squares.
  for (const char* file : {"tilted_double_well.json", "anisotropic_quadratic_well.json"}) {
    const Problem p = Load(file);
    const std::vector<CriticalComponent> components = Components(p);
    GridReferenceOptions o;
    o.max_refinements = 1;
    if (p.dimension() == 2) {
      o.initial_cells = 20;
      o.max_refinements = 0;
    }
    o.num_threads = 1;
    const GridReference one = ComputeGridReference(p, components, p.dimension() == 1 ? 0.1 : 0.2, o);
    o.num_threads = 3;
    const GridReference three = ComputeGridReference(p, components, p.dimension() == 1 ? 0.1 : 0.2, o);
    ASSERT_TRUE(one.status.ok() && three.status.ok()) << file;
    EXPECT_EQ(one.basin_mass[0], three.basin_mass[0]) << file;
    EXPECT_EQ(one.basin_mass[1], three.basin_mass[1]) << file;
    EXPECT_EQ(one.mean[0], three.mean[0]) << file;
    EXPECT_EQ(one.variance[0], three.variance[0]) << file;
    EXPECT_EQ(one.leak, three.leak) << file;
  }
}

TEST(GridReference, BadOptionsAndUnsupportedProblemsFailWithAStatus) {
  const Problem p = Load("tilted_double_well.json");
  const std::vector<CriticalComponent> components = Components(p);
  const auto status = [&](const GridReferenceOptions& o, double eta) {
    return ComputeGridReference(p, components, eta, o).status.code();
  };
  GridReferenceOptions o;
  EXPECT_EQ(status(o, 0.0), StatusCode::kInvalidOptions);
  EXPECT_EQ(status(o, std::nan("")), StatusCode::kInvalidOptions);
  EXPECT_EQ(status(o, -0.1), StatusCode::kInvalidOptions);
  o.initial_cells = 3;
  EXPECT_EQ(status(o, 0.1), StatusCode::kInvalidOptions);
  o = GridReferenceOptions();
  o.tolerance = 0.0;
  EXPECT_EQ(status(o, 0.1), StatusCode::kInvalidOptions);
  o = GridReferenceOptions();
  o.quadrature_points = 6;
  EXPECT_EQ(status(o, 0.1), StatusCode::kInvalidOptions);
  o = GridReferenceOptions();
  o.max_states = 8;
  const GridReference bad = ComputeGridReference(p, components, 0.1, o);
  EXPECT_EQ(bad.status.code(), StatusCode::kInvalidOptions);
  EXPECT_NE(bad.status.message().find("max_states"), std::string::npos) << bad.status.message();
  EXPECT_TRUE(bad.levels.empty());
  EXPECT_NE(bad.BriefReport().find("not available"), std::string::npos);

  // d = 3: not covered.
  const Problem p3 = Load("separable_double_well_3d.json");
  const GridReference r3 = ComputeGridReference(p3, {}, 0.1, GridReferenceOptions());
  EXPECT_EQ(r3.status.code(), StatusCode::kInvalidInput);
  EXPECT_NE(r3.status.message().find("d <= 2"), std::string::npos) << r3.status.message();

  // A finite sum whose minibatch mixture is too large: C(3 + 1 - 1, 1) = 3 > 2.
  const Problem fs = Load("tilted_double_well_finite_sum.json");
  o = GridReferenceOptions();
  o.max_minibatches = 2;
  const GridReference many = ComputeGridReference(fs, Components(fs), 0.1, o);
  EXPECT_EQ(many.status.code(), StatusCode::kInvalidInput);
  EXPECT_NE(many.status.message().find("max_minibatches"), std::string::npos) << many.status.message();
}

}  // namespace
}  // namespace ldsgd
