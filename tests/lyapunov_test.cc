// Stochastic stability at a noiseless critical point (THEORY.md section 8 and reference case 8,
// Ziyin, Li, Ueda 2021): the exact exponent against the closed form, the absorbing window and the
// fastest escape, commuting Hessians against the scalar formula and against brute force over
// ordered draws, Monte Carlo against an independent simulation and against the exact values,
// reproducibility, collapse (-inf) without NaN, and bad input.
#include "solver/theory/lyapunov.h"

#include <cmath>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include <Eigen/Core>
#include <Eigen/QR>
#include <gtest/gtest.h>

namespace ldsgd {
namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

// The exact method sums a handful of logarithms: agreement with a closed form is at rounding level
// (relative to the size of the value, which is large near the poles eta = 1/h_k).
constexpr double kExactTolerance = 1e-12;
// The acceptance criteria of the issue: window ends and the fastest-escape step size to 1e-4, its
// exponent to 1e-6. The bisection and golden-section tolerances below are far finer, so these
// bound the numerical error of the whole chain (exponent, root finder) with a wide margin.
constexpr double kEtaAcceptance = 1e-4;
constexpr double kValueAcceptance = 1e-6;

// Monte Carlo comparisons. The library's half_width is the two-sided Student t interval over its 16
// replicas at LyapunovOptions::confidence (0.95 unless set): the standard error is half_width over
// the 95% quantile of t with 15 degrees of freedom.
constexpr double kStudentT95Dof15 = 2.131450;
// Two-sided quantiles of t with 15 degrees of freedom at tail probability 1e-3 / k: a test with k
// such comparisons fails under a change of random stream less than once in 1000 runs (Bonferroni;
// the replica means over >= 10^5 steps are normal to high accuracy, so their studentized errors are
// t-distributed). Welch's statistic for the difference of two 16-replica estimates has at least
// 15 degrees of freedom, so the same quantiles bound it.
constexpr double kStudentTDof15OneIn4000 = 4.7661;  // k = 4
constexpr double kStudentTDof15OneIn6000 = 4.9737;  // k = 6

Eigen::MatrixXd Scalar(double h) { return Eigen::MatrixXd::Constant(1, 1, h); }

// THEORY.md case 8: the finite sum of w^2/2 and -w^2 generalized to curvatures 1 and a - 1.
std::vector<Eigen::MatrixXd> Case8(double a) { return {Scalar(1.0), Scalar(a - 1.0)}; }
double Case8Exponent(double a, double eta) {
  return 0.5 * std::log(std::abs((1 - eta) * (1 + eta * (1 - a))));
}
double Case8WindowLower(double a) { return a / (a - 1); }
double Case8WindowUpper(double a) {
  return (a - std::sqrt(a * a - 8 * a + 8)) / (2 * (a - 1));
}
double Case8FastestEscapeEta(double a) { return -a / (2 * (1 - a)); }
double Case8FastestEscape(double a) { return std::log((2 - a) / (2 * std::sqrt(1 - a))); }

// E log |1 - eta mean| over all n^b ordered draws, each of probability n^-b: the definition,
// with none of the multiset bookkeeping of the library.
double BruteForce(const std::vector<double>& h, int b, double eta) {
  const int n = static_cast<int>(h.size());
  long total = 1;
  for (int j = 0; j < b; ++j) total *= n;
  double sum = 0.0;
  for (long code = 0; code < total; ++code) {
    double mean = 0.0;
    long c = code;
    for (int j = 0; j < b; ++j, c /= n) mean += h[c % n];
    mean /= b;
    sum += std::log(std::abs(1 - eta * mean));
  }
  return sum / static_cast<double>(total);
}

Eigen::Matrix2d Rotation(double angle) {
  Eigen::Matrix2d r;
  r << std::cos(angle), -std::sin(angle), std::sin(angle), std::cos(angle);
  return r;
}

// ---------------------------------------------------------------------------------------------
// 1. Case 8 at eta = 0.8, and the closed form across eta.

TEST(LyapunovTest, Case8AtEtaPointEight) {
  const LyapunovResult r = TopLyapunovExponent(Case8(-1), 0.8, LyapunovOptions());
  ASSERT_TRUE(r.ok()) << r.message;
  EXPECT_EQ(r.method, LyapunovResult::Method::kExactScalar);
  // 1/2 ln(0.2 * 2.6) = 1/2 ln 0.52 = -0.3269630...; THEORY.md quotes it to 5 decimals.
  constexpr double kQuoted = -0.32696, kQuotedPrecision = 5e-6;
  EXPECT_NEAR(r.exponent, Case8Exponent(-1, 0.8), kExactTolerance);
  EXPECT_NEAR(r.exponent, kQuoted, kQuotedPrecision);
  std::printf("[ measured ] Lam(0.8) = %.15f, closed form %.15f\n", r.exponent,
              Case8Exponent(-1, 0.8));
  EXPECT_EQ(r.half_width, 0.0);
  EXPECT_FALSE(r.collapses);
  EXPECT_EQ(Classify(r), Stability::kAbsorbing);
  EXPECT_NE(r.BriefReport().find("absorbing"), std::string::npos) << r.BriefReport();
}

TEST(LyapunovTest, Case8ClosedFormAcrossEta) {
  for (double a : {-1.0, -0.5, -3.0}) {
    const LyapunovSolver solver(Case8(a), LyapunovOptions());
    ASSERT_TRUE(solver.error().empty()) << solver.error();
    for (int i = 1; i <= 300; ++i) {
      const double eta = 0.00737 * i;  // not a multiple of any pole 1/h_k
      const double expected = Case8Exponent(a, eta);
      const LyapunovResult r = solver.Exponent(eta);
      EXPECT_NEAR(r.exponent, expected, kExactTolerance * std::max(1.0, std::abs(expected)))
          << "a = " << a << ", eta = " << eta;
      EXPECT_EQ(Classify(r), expected < 0 ? Stability::kAbsorbing : Stability::kRepelling);
    }
  }
}

// ---------------------------------------------------------------------------------------------
// 2. The absorbing window and the fastest escape.

TEST(LyapunovTest, Case8AbsorbingWindow) {
  for (double a : {-1.0, -0.5, -3.0}) {
    const AbsorbingWindowsResult w =
        AbsorbingWindows(Case8(a), 0.01, 2.0, 100, LyapunovOptions(), 1e-10);
    ASSERT_TRUE(w.ok()) << w.message;
    // One window: the pole eta = 1 inside it is a -inf spike, not a sign change.
    ASSERT_EQ(w.windows.size(), 1u) << "a = " << a;
    EXPECT_FALSE(w.windows[0].open_below);
    EXPECT_FALSE(w.windows[0].open_above);
    EXPECT_NEAR(w.windows[0].lower, Case8WindowLower(a), kEtaAcceptance) << "a = " << a;
    EXPECT_NEAR(w.windows[0].upper, Case8WindowUpper(a), kEtaAcceptance) << "a = " << a;
    // Measured: the bisection lands within its tolerance of the closed form.
    EXPECT_NEAR(w.windows[0].lower, Case8WindowLower(a), 1e-9);
    EXPECT_NEAR(w.windows[0].upper, Case8WindowUpper(a), 1e-9);
    EXPECT_EQ(w.grid.size(), 100u);
    std::printf("[ measured ] a %g: window (%.12f, %.12f), errors %.2e %.2e, %d evaluations\n", a,
                w.windows[0].lower, w.windows[0].upper, w.windows[0].lower - Case8WindowLower(a),
                w.windows[0].upper - Case8WindowUpper(a), w.evaluations);
  }
}

// The issue asks for "the best escape rate ln((2-a)/(2 sqrt(1-a))) at eta = -a/(2(1-a))". That
// value is positive: it is the MAXIMUM of Lam, on the escaping side (0, a/(a-1)) of the window
// (Lam is concave between the poles), i.e. the step size at which SGD leaves the maximum fastest.
// The minimum of Lam over the window is -inf, at the pole eta = 1 (the h = 1 sample steps to x*
// exactly).
TEST(LyapunovTest, Case8FastestEscape) {
  for (double a : {-1.0, -0.5, -3.0}) {
    const ExponentExtremum e = ExtremeExponent(Case8(a), 1e-3, Case8WindowLower(a),
                                               Extremum::kMaximum, LyapunovOptions(), 1e-9);
    ASSERT_TRUE(e.ok()) << e.message;
    EXPECT_NEAR(e.eta, Case8FastestEscapeEta(a), kEtaAcceptance) << "a = " << a;
    EXPECT_NEAR(e.at.exponent, Case8FastestEscape(a), kValueAcceptance) << "a = " << a;
    EXPECT_GT(e.at.exponent, 0.0);
    EXPECT_EQ(Classify(e.at), Stability::kRepelling);
    std::printf("[ measured ] a %g: fastest escape %.12f at eta %.10f, errors %.2e %.2e\n", a,
                e.at.exponent, e.eta, e.at.exponent - Case8FastestEscape(a),
                e.eta - Case8FastestEscapeEta(a));
  }
  // Inside the window the search runs into the pole.
  const ExponentExtremum pole = ExtremeExponent(Case8(-1), Case8WindowLower(-1),
                                                Case8WindowUpper(-1), Extremum::kMinimum,
                                                LyapunovOptions(), 1e-9);
  ASSERT_TRUE(pole.ok()) << pole.message;
  EXPECT_NEAR(pole.eta, 1.0, 1e-8);
  EXPECT_LT(pole.at.exponent, -8.0);
}

// ---------------------------------------------------------------------------------------------
// Collapse: 1 - eta h = 0 for a sample of positive probability.

TEST(LyapunovTest, CollapseGivesMinusInfinityWithoutNaN) {
  const LyapunovResult exact = TopLyapunovExponent(Case8(-1), 1.0, LyapunovOptions());
  ASSERT_TRUE(exact.ok()) << exact.message;
  EXPECT_EQ(exact.exponent, -kInf);
  EXPECT_TRUE(exact.collapses);
  EXPECT_EQ(exact.half_width, 0.0);
  EXPECT_EQ(Classify(exact), Stability::kAbsorbing);
  EXPECT_NE(exact.BriefReport().find("finite time"), std::string::npos) << exact.BriefReport();

  LyapunovOptions mc;
  mc.force_monte_carlo = true;
  mc.steps = 2000;
  mc.burn_in = 100;
  const LyapunovResult simulated = TopLyapunovExponent(Case8(-1), 1.0, mc);
  ASSERT_TRUE(simulated.ok()) << simulated.message;
  EXPECT_EQ(simulated.method, LyapunovResult::Method::kMonteCarloQR);
  EXPECT_EQ(simulated.exponent, -kInf);
  EXPECT_TRUE(simulated.collapses);
  EXPECT_EQ(Classify(simulated), Stability::kAbsorbing);

  // Batch 2: the multiset {1, 1} (probability 1/4) collapses.
  LyapunovOptions b2;
  b2.batch_size = 2;
  EXPECT_EQ(TopLyapunovExponent(Case8(-1), 1.0, b2).exponent, -kInf);

  // Commuting 2-D: one direction collapses, the other does not; the top exponent is the other.
  const std::vector<Eigen::MatrixXd> h = {Eigen::Vector2d(1.0, 0.5).asDiagonal().toDenseMatrix(),
                                          Eigen::Vector2d(-2.0, 0.25).asDiagonal().toDenseMatrix()};
  const LyapunovResult two = TopLyapunovExponent(h, 1.0, LyapunovOptions());
  ASSERT_TRUE(two.ok()) << two.message;
  EXPECT_EQ(two.method, LyapunovResult::Method::kExactCommuting);
  EXPECT_FALSE(two.collapses);
  EXPECT_NEAR(two.exponent, 0.5 * (std::log(0.5) + std::log(0.75)), kExactTolerance);
  EXPECT_EQ(two.direction_exponents.minCoeff(), -kInf);
}

// ---------------------------------------------------------------------------------------------
// 3. Commuting Hessians: the maximum over directions of the scalar formula; multisets against
// brute force.

TEST(LyapunovTest, CommutingEqualsMaxOverDirections) {
  const std::vector<double> first = {1.0, -2.0, 0.3, 1.0}, second = {0.5, 1.5, -1.0, 0.5};
  const Eigen::Matrix2d rotation = Rotation(0.3);
  std::vector<Eigen::MatrixXd> h;
  std::vector<Eigen::MatrixXd> h1, h2;
  for (std::size_t k = 0; k < first.size(); ++k) {
    h.push_back(rotation * Eigen::Vector2d(first[k], second[k]).asDiagonal() *
                rotation.transpose());
    h1.push_back(Scalar(first[k]));
    h2.push_back(Scalar(second[k]));
  }
  for (int b : {1, 2, 3}) {
    LyapunovOptions o;
    o.batch_size = b;
    const LyapunovSolver solver(h, o);
    ASSERT_TRUE(solver.commuting());
    for (double eta : {0.1, 0.45, 0.9, 1.7}) {
      const LyapunovResult r = solver.Exponent(eta);
      ASSERT_TRUE(r.ok()) << r.message;
      EXPECT_EQ(r.method, LyapunovResult::Method::kExactCommuting);
      const double e1 = TopLyapunovExponent(h1, eta, o).exponent;
      const double e2 = TopLyapunovExponent(h2, eta, o).exponent;
      EXPECT_NEAR(r.exponent, std::max(e1, e2), kExactTolerance) << "b = " << b << " eta " << eta;
      // Each direction against brute force over ordered draws (the duplicate Hessian merged).
      EXPECT_NEAR(e1, BruteForce(first, b, eta), kExactTolerance);
      EXPECT_NEAR(e2, BruteForce(second, b, eta), kExactTolerance);
      // The directions are the rotated axes (up to order and sign).
      for (int i = 0; i < 2; ++i) {
        const Eigen::Vector2d q = r.directions.col(i);
        const double along = std::max(std::abs(q.dot(rotation.col(0))),
                                      std::abs(q.dot(rotation.col(1))));
        EXPECT_NEAR(along, 1.0, 1e-12);
      }
    }
  }
}

TEST(LyapunovTest, BatchTwoMultisetsAgainstBruteForce) {
  const std::vector<double> h = {1.0, -0.7, 2.2, 0.4, -1.9};
  std::vector<Eigen::MatrixXd> scalars;
  for (double x : h) scalars.push_back(Scalar(x));
  for (int b : {2, 3, 4}) {
    LyapunovOptions o;
    o.batch_size = b;
    const LyapunovSolver solver(scalars, o);
    for (double eta : {0.05, 0.3, 0.77, 1.3, 2.5}) {
      const LyapunovResult r = solver.Exponent(eta);
      ASSERT_TRUE(r.ok()) << r.message;
      const double brute = BruteForce(h, b, eta);
      if (brute == -kInf) {
        // eta 2.5: the draws {0.4, 0.4} (and at b = 4 {0.4 x 4}) give 1 - eta mean = 0 exactly;
        // the enumeration stops at the first such multiset.
        EXPECT_TRUE(r.collapses) << "b " << b;
        EXPECT_EQ(r.exponent, -kInf);
        continue;
      }
      // C(5 + b - 1, b) multisets instead of 5^b ordered draws.
      EXPECT_EQ(r.multisets, b == 2 ? 15 : b == 3 ? 35 : 70);
      EXPECT_NEAR(r.exponent, brute, kExactTolerance) << "b " << b << " eta " << eta;
    }
  }
}

TEST(LyapunovTest, RepeatedEigenvaluesStillCommute) {
  // Multiples of I (every basis is an eigenbasis) and a shared eigenvalue in one direction.
  const std::vector<Eigen::MatrixXd> iso = {Eigen::MatrixXd::Identity(3, 3),
                                            -2.0 * Eigen::MatrixXd::Identity(3, 3)};
  const LyapunovResult r = TopLyapunovExponent(iso, 0.8, LyapunovOptions());
  ASSERT_EQ(r.method, LyapunovResult::Method::kExactCommuting) << r.message;
  EXPECT_NEAR(r.exponent, Case8Exponent(-1, 0.8), kExactTolerance);

  const Eigen::Matrix2d rotation = Rotation(1.1);
  const std::vector<Eigen::MatrixXd> shared = {
      rotation * Eigen::Vector2d(1.0, 2.0).asDiagonal() * rotation.transpose(),
      rotation * Eigen::Vector2d(1.0, -3.0).asDiagonal() * rotation.transpose()};
  const LyapunovResult s = TopLyapunovExponent(shared, 0.3, LyapunovOptions());
  ASSERT_EQ(s.method, LyapunovResult::Method::kExactCommuting) << s.message;
  const double expected = std::max(std::log(0.7), 0.5 * (std::log(0.4) + std::log(1.9)));
  EXPECT_NEAR(s.exponent, expected, kExactTolerance);
}

// ---------------------------------------------------------------------------------------------
// 4. Non-commuting Hessians: Monte Carlo against an independent simulation.

// log |d_t| / t by the plain recursion in long double with its own generator (std::mt19937_64),
// renormalizing every step and summing the logarithms: none of the library's stream, scaling or
// kernels. Returns mean and standard error over its 16 replicas (15 degrees of freedom).
struct Estimate {
  double mean, standard_error;
};
Estimate DirectSimulation(const std::vector<Eigen::MatrixXd>& h, int b, double eta, int replicas,
                          long steps, long burn_in, std::uint64_t seed) {
  using Matrix = Eigen::Matrix<long double, Eigen::Dynamic, Eigen::Dynamic>;
  using Vector = Eigen::Matrix<long double, Eigen::Dynamic, 1>;
  const int d = static_cast<int>(h[0].rows());
  std::mt19937_64 engine(seed);
  std::uniform_int_distribution<int> pick(0, static_cast<int>(h.size()) - 1);
  std::normal_distribution<double> normal;
  std::vector<Matrix> a;
  for (const Eigen::MatrixXd& hk : h) a.push_back(hk.cast<long double>());
  std::vector<double> values;
  for (int r = 0; r < replicas; ++r) {
    Vector v(d);
    for (int i = 0; i < d; ++i) v(i) = normal(engine);
    v /= v.norm();
    long double sum = 0;
    for (long t = 1; t <= steps; ++t) {
      Matrix m = Matrix::Zero(d, d);
      for (int j = 0; j < b; ++j) m += a[pick(engine)];
      v = v - (static_cast<long double>(eta) / b) * (m * v);
      const long double norm = v.norm();
      v /= norm;
      if (t > burn_in) sum += std::log(norm);
    }
    values.push_back(static_cast<double>(sum / (steps - burn_in)));
  }
  double mean = 0.0, ss = 0.0;
  for (double x : values) mean += x;
  mean /= replicas;
  for (double x : values) ss += (x - mean) * (x - mean);
  EXPECT_EQ(replicas, 16);
  return {mean, std::sqrt(ss / (replicas - 1) / replicas)};
}

std::vector<Eigen::MatrixXd> NonCommuting() {
  Eigen::MatrixXd h1(2, 2), h2(2, 2), h3(2, 2);
  h1 << 1.0, 0.6, 0.6, -0.4;
  h2 << -0.8, -0.3, -0.3, 1.1;
  h3 << 0.2, -0.9, -0.9, 0.5;
  return {h1, h2, h3};
}

TEST(LyapunovTest, NonCommutingMonteCarloAgainstDirectSimulation) {
  const std::vector<Eigen::MatrixXd> h = NonCommuting();
  for (int b : {1, 2}) {
    LyapunovOptions o;
    o.batch_size = b;
    const LyapunovSolver solver(h, o);
    ASSERT_TRUE(solver.error().empty()) << solver.error();
    EXPECT_FALSE(solver.commuting());
    for (double eta : {0.7, 1.6}) {
      const LyapunovResult r = solver.Exponent(eta);
      ASSERT_TRUE(r.ok()) << r.message;
      EXPECT_EQ(r.method, LyapunovResult::Method::kMonteCarloQR);
      EXPECT_EQ(r.replica_exponents.size(), 16u);
      const Estimate direct = DirectSimulation(h, b, eta, 16, 100000, 1000, 20240917 + b);
      // The difference within kStudentTDof15OneIn4000 of its combined standard error (the four
      // comparisons together fail less than once in 1000 streams). The sum of the two 95%
      // half-widths it replaces is ~3.0 combined standard errors here: 0.3% to 1% per comparison
      // (it failed 2 of 120 other seed pairs; this bound none, largest |t| 3.45).
      const double qr_se = r.half_width / kStudentT95Dof15;
      const double combined_se = std::hypot(qr_se, direct.standard_error);
      EXPECT_NEAR(r.exponent, direct.mean, kStudentTDof15OneIn4000 * combined_se)
          << "b " << b << " eta " << eta << ": " << r.BriefReport() << " vs direct "
          << direct.mean << " +- " << direct.standard_error << " (standard error)";
      // The comparison has teeth: both estimates are precise against the exponent's scale. The
      // bound above is <= 0.0033 in every case, while b = 1 and b = 2 (a batch size ignored) differ
      // by 0.064 at eta = 0.7 and 0.48 at eta = 1.6. The 95% half-widths measured 0.0004-0.0011
      // here and at most 0.0013 (QR) and 0.0019 (direct) over 120 other seeds: failing these limits
      // takes a sample standard deviation over 15 degrees of freedom at 2.2 (QR) or 2.7 (direct)
      // times its typical value, chi-square tails below 1e-8.
      EXPECT_LT(r.half_width, 2e-3);
      EXPECT_LT(kStudentT95Dof15 * direct.standard_error, 3e-3);
      std::printf("[ measured ] b %d eta %.2f: QR %.6f +- %.6f, direct %.6f +- %.6f (standard "
                  "errors)\n", b, eta, r.exponent, qr_se, direct.mean, direct.standard_error);
    }
  }
}

// ---------------------------------------------------------------------------------------------
// 5. Reproducibility.

TEST(LyapunovTest, BitIdenticalForAnyThreadCountAndSeed) {
  LyapunovOptions o;
  o.steps = 20000;
  o.burn_in = 500;
  o.threads = 1;
  const LyapunovResult one = TopLyapunovExponent(NonCommuting(), 0.7, o);
  o.threads = 2;
  const LyapunovResult two = TopLyapunovExponent(NonCommuting(), 0.7, o);
  const LyapunovResult again = TopLyapunovExponent(NonCommuting(), 0.7, o);
  ASSERT_TRUE(one.ok()) << one.message;
  EXPECT_EQ(one.replica_exponents, two.replica_exponents);  // bitwise
  EXPECT_EQ(one.exponent, two.exponent);
  EXPECT_EQ(one.half_width, two.half_width);
  EXPECT_EQ(two.replica_exponents, again.replica_exponents);
  o.seed = 2;
  const LyapunovResult other = TopLyapunovExponent(NonCommuting(), 0.7, o);
  EXPECT_NE(other.exponent, one.exponent);
  // The replicas are different streams.
  EXPECT_NE(one.replica_exponents[0], one.replica_exponents[1]);
}

// ---------------------------------------------------------------------------------------------
// 6. Monte Carlo forced on the scalar case agrees with the exact value.

TEST(LyapunovTest, ForcedMonteCarloMatchesExact) {
  for (int b : {1, 2}) {
    LyapunovOptions exact;
    exact.batch_size = b;
    LyapunovOptions mc = exact;
    mc.force_monte_carlo = true;
    for (double eta : {0.3, 0.8, 1.2}) {
      const LyapunovResult e = TopLyapunovExponent(Case8(-1), eta, exact);
      const LyapunovResult m = TopLyapunovExponent(Case8(-1), eta, mc);
      ASSERT_TRUE(m.ok()) << m.message;
      EXPECT_EQ(m.method, LyapunovResult::Method::kMonteCarloQR);
      EXPECT_NE(m.message.find("forced"), std::string::npos) << m.message;
      ASSERT_EQ(m.replica_exponents.size(), 16u);  // the 15 degrees of freedom of the constants
      // Six comparisons at tail 1e-3 / 6 each (kStudentTDof15OneIn6000 standard errors, 2.3 times
      // the library's 95% half_width, which failed one of the six in 31 of 338 other seeds; the
      // largest |error| / standard error there was 4.39). The bound is <= 0.0043 everywhere; b = 1
      // and b = 2 (a batch size ignored) differ by 0.04 to 0.33 at these step sizes.
      const double se = m.half_width / kStudentT95Dof15;
      EXPECT_NEAR(m.exponent, e.exponent, kStudentTDof15OneIn6000 * se)
          << "b " << b << " eta " << eta << ": " << m.BriefReport();
      // Classify uses the 95% half_width: the exponent nearest 0, 0.0048 at b = 2, eta = 0.8, is
      // 8.4 standard errors from 0, so the class is wrong with probability ~1e-7 for any stream
      // (none in 338 other seeds).
      EXPECT_EQ(Classify(m), Classify(e)) << m.BriefReport();
      std::printf("[ measured ] case 8 b %d eta %.1f: exact %.7f, MC %.7f +- %.7f\n", b, eta,
                  e.exponent, m.exponent, m.half_width);
    }
  }
}

// The fixed-size (d = 2) and dynamic-size (d = 5) Monte Carlo kernels on commuting Hessians, whose
// exact exponent is known: rotated diagonal matrices with a random orthogonal basis.
TEST(LyapunovTest, ForcedMonteCarloMatchesExactCommuting) {
  std::mt19937_64 engine(7);
  std::normal_distribution<double> normal;
  for (int d : {2, 5}) {
    auto gaussian = [&] { return normal(engine); };
    const Eigen::MatrixXd basis =
        Eigen::MatrixXd(Eigen::MatrixXd::NullaryExpr(d, d, gaussian)).householderQr().householderQ();
    std::vector<Eigen::MatrixXd> h;
    for (int k = 0; k < 4; ++k) {
      const Eigen::VectorXd lambda = Eigen::VectorXd::NullaryExpr(d, gaussian);
      h.push_back(basis * lambda.asDiagonal() * basis.transpose());
    }
    LyapunovOptions exact;
    exact.batch_size = 2;
    LyapunovOptions mc = exact;
    mc.force_monte_carlo = true;
    // A 99.95% interval: a check of the kernels beyond the 95% criterion (item 6 above);
    // the two dimensions together fail under a change of stream less than once in a thousand
    // seeds rather than once in ten (seed 1 at d = 5 lands 2.5 standard errors away, inside this
    // interval, outside the 95% one). Half-widths ~0.0004 and ~0.0005 against exponents 0.46 and
    // 0.17.
    mc.confidence = 0.9995;
    const LyapunovResult e = TopLyapunovExponent(h, 0.6, exact);
    const LyapunovResult m = TopLyapunovExponent(h, 0.6, mc);
    ASSERT_EQ(e.method, LyapunovResult::Method::kExactCommuting) << e.message;
    ASSERT_TRUE(m.ok()) << m.message;
    EXPECT_NEAR(m.exponent, e.exponent, m.half_width) << "d " << d << ": " << m.BriefReport();
    std::printf("[ measured ] commuting d %d b 2 eta 0.6: exact %.7f, MC %.7f +- %.7f\n", d,
                e.exponent, m.exponent, m.half_width);
  }
}

TEST(LyapunovTest, TooManyMultisetsFallsBackToMonteCarlo) {
  LyapunovOptions o;
  o.max_multisets = 2;
  o.steps = 20000;
  o.burn_in = 100;
  const LyapunovResult r = TopLyapunovExponent(
      {Scalar(1.0), Scalar(-2.0), Scalar(0.5)}, 0.8, o);
  ASSERT_TRUE(r.ok()) << r.message;
  EXPECT_EQ(r.method, LyapunovResult::Method::kMonteCarloQR);
  EXPECT_NE(r.message.find("max_multisets"), std::string::npos) << r.message;
}

TEST(LyapunovTest, SweepMatchesSingleCalls) {
  const std::vector<double> etas = {0.2, 0.5, 0.8, 1.0, 1.5};
  const std::vector<LyapunovResult> sweep = LyapunovSweep(Case8(-1), etas, LyapunovOptions());
  ASSERT_EQ(sweep.size(), etas.size());
  for (std::size_t i = 0; i < etas.size(); ++i) {
    EXPECT_EQ(sweep[i].eta, etas[i]);
    EXPECT_EQ(sweep[i].exponent, TopLyapunovExponent(Case8(-1), etas[i], {}).exponent);
  }
}

// ---------------------------------------------------------------------------------------------
// Bad input comes back as a message, never a crash.

TEST(LyapunovTest, BadInputIsReported) {
  auto expect_error = [](const LyapunovResult& r, const std::string& words) {
    EXPECT_FALSE(r.ok());
    EXPECT_TRUE(std::isnan(r.exponent));
    EXPECT_EQ(Classify(r), Stability::kUndetermined);
    EXPECT_NE(r.message.find(words), std::string::npos) << r.message;
    EXPECT_NE(r.BriefReport().find("not computed"), std::string::npos);
  };
  const LyapunovOptions o;
  expect_error(TopLyapunovExponent(Case8(-1), 0.0, o), "0 < eta");
  expect_error(TopLyapunovExponent(Case8(-1), -1.0, o), "0 < eta");
  expect_error(TopLyapunovExponent(Case8(-1), std::nan(""), o), "0 < eta");
  expect_error(TopLyapunovExponent({}, 0.5, o), "No sample Hessians");
  expect_error(TopLyapunovExponent({Scalar(1.0), Eigen::MatrixXd::Identity(2, 2)}, 0.5, o),
               "Sample Hessian 1 is 2 x 2, expected 1 x 1");
  Eigen::MatrixXd skew(2, 2);
  skew << 1, 2, 0, 1;
  expect_error(TopLyapunovExponent({skew}, 0.5, o), "not symmetric");
  expect_error(TopLyapunovExponent({Scalar(kInf)}, 0.5, o), "non-finite");
  LyapunovOptions bad;
  bad.batch_size = 0;
  expect_error(TopLyapunovExponent(Case8(-1), 0.5, bad), "batch_size >= 1");
  bad = LyapunovOptions();
  bad.replicas = 1;
  expect_error(TopLyapunovExponent(Case8(-1), 0.5, bad), "replicas >= 2");
  bad = LyapunovOptions();
  bad.burn_in = bad.steps;
  expect_error(TopLyapunovExponent(Case8(-1), 0.5, bad), "steps > burn_in");
  bad = LyapunovOptions();
  bad.confidence = 1.0;
  expect_error(TopLyapunovExponent(Case8(-1), 0.5, bad), "0 < confidence < 1");

  EXPECT_FALSE(AbsorbingWindows(Case8(-1), 0.0, 1.0, 10, o).ok());
  EXPECT_FALSE(AbsorbingWindows(Case8(-1), 1.0, 0.5, 10, o).ok());
  EXPECT_FALSE(AbsorbingWindows(Case8(-1), 0.1, 1.0, 1, o).ok());
  EXPECT_FALSE(AbsorbingWindows({}, 0.1, 1.0, 10, o).ok());
  EXPECT_FALSE(ExtremeExponent(Case8(-1), 0.5, 0.5, Extremum::kMaximum, o).ok());
}

TEST(LyapunovTest, EnumSpellingsRoundTrip) {
  for (auto m : {LyapunovResult::Method::kNotRun, LyapunovResult::Method::kExactScalar,
                 LyapunovResult::Method::kExactCommuting, LyapunovResult::Method::kMonteCarloQR}) {
    LyapunovResult::Method back;
    ASSERT_TRUE(FromString(ToString(m), &back));
    EXPECT_EQ(back, m);
  }
  for (auto s : {Stability::kAbsorbing, Stability::kRepelling, Stability::kUndetermined}) {
    Stability back;
    ASSERT_TRUE(FromString(ToString(s), &back));
    EXPECT_EQ(back, s);
  }
  Stability ignored;
  EXPECT_FALSE(FromString("stable", &ignored));
}

}  // namespace
}  // namespace ldsgd
