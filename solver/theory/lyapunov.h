// Stochastic stability of a critical point where the noise vanishes (THEORY.md section 8; Ziyin,
// Li, Ueda, "SGD may never escape saddle points", arXiv 2107.11774).
//
// At x* with every sample gradient g_k(x*) = 0, SGD with step eta and minibatch size b (indices
// drawn uniformly with replacement) linearizes to
//
//   d_{t+1} = (I - eta M_t) d_t,   M_t = (1/b) sum_{j=1..b} H_{K_j},   K_j uniform in {1..n},
//
// H_k = Hess f_k(x*) symmetric d x d. The top Lyapunov exponent Lam(eta) = lim (1/t) log |d_t|
// (almost surely, for almost every d_0; Furstenberg-Kesten) decides: Lam < 0, x* attracts SGD with
// probability one ("absorbing", even a maximum); Lam > 0, it repels. Lam = -inf when the product
// reaches the zero matrix in finite time (a factor I - eta M with eta M = I on the live subspace).
//
// Methods.
// - Commuting Hessians (d = 1 always): in a common orthonormal eigenbasis q_1..q_d the product is
//   diagonal, so Lam = max_i E log |1 - eta mean_j lambda_{K_j, i}|, lambda_{k,i} = q_i^T H_k q_i.
//   The expectation is exact: a sum over the multisets of the b draws with multinomial weights,
//   C(m + b - 1, b) terms for m distinct eigenvalues in the direction.
// - Otherwise (or when the enumeration is too large, or on request): Monte Carlo. One vector is
//   iterated (the top exponent needs no full QR: the Gram-Schmidt step on one column is its
//   normalization), over independent replicas; the estimate is the mean of the replica time
//   averages with a Student-t interval.
//
// Reproducible: every random number of replica r comes from Philox blocks with counter (r, ., .)
// (philox_normals.h): its Gaussian d_0 from (r, 0, q), its k-th sample index from (r, 1 + k/2, 0),
// so a result is bit-identical for any number of threads. The same seed at two step sizes draws
// the same indices and d_0 (common random numbers), which makes the estimate a continuous
// function of eta: sweeps are smooth and roots of the estimate can be bisected.
#ifndef LDSGD_SOLVER_THEORY_LYAPUNOV_H_
#define LDSGD_SOLVER_THEORY_LYAPUNOV_H_

#include <array>
#include <cstdint>
#include <limits>
#include <string>
#include <utility>
#include <vector>

#include <Eigen/Core>

#include "solver/io/enum_names.h"

namespace ldsgd {

struct LyapunovOptions {
  // b, the minibatch size (draws with replacement). Must be >= 1.
  int batch_size = 1;

  // Input checks. A Hessian is accepted as symmetric when |H - H^T|_F <= symmetry_tolerance
  // |H|_F (it is then symmetrized), so that finite-difference Hessians pass.
  double symmetry_tolerance = 1e-8;
  // The Hessians are treated as commuting when one orthonormal basis Q (the eigenbasis of a
  // generic combination of them) diagonalizes each: |offdiag(Q^T H_k Q)|_F <= commute_tolerance
  // |H_k|_F for every k (then |H_i H_j - H_j H_i|_F <= 4 commute_tolerance |H_i|_F |H_j|_F, and
  // exactly commuting sets pass up to rounding). Looser values accept nearly commuting sets,
  // whose exact exponent is then that of the nearby commuting set diag(Q^T H_k Q).
  double commute_tolerance = 1e-10;
  // The exact expectation enumerates C(m + b - 1, b) multisets per direction (m distinct
  // eigenvalues); above this count Monte Carlo is used instead. 10^6 terms take a few ms.
  long max_multisets = 1000000;
  // Use Monte Carlo even when an exact formula applies (for tests and cross-checks).
  bool force_monte_carlo = false;

  // Monte Carlo. Steps per replica, burn-in included: the first burn_in steps let the vector
  // align with the top Oseledets direction and are not measured (0 <= burn_in < steps). The
  // standard error falls as 1 / sqrt(replicas (steps - burn_in)).
  long steps = 200000;
  long burn_in = 1000;
  // Independent replicas (>= 2, for an interval). More replicas give a better interval and more
  // parallelism.
  int replicas = 16;
  // Philox key: the same seed gives bit-identical results.
  std::uint64_t seed = 1;
  // Worker threads; 0 = all cores. Results are identical for any value.
  int threads = 0;
  // Two-sided confidence of half_width, in (0, 1).
  double confidence = 0.95;
};

// "Invalid configuration. Options::FIELD = ..." for the first violated constraint, "" if valid.
std::string Validate(const LyapunovOptions& options);

struct LyapunovResult {
  enum class Method { kNotRun, kExactScalar, kExactCommuting, kMonteCarloQR };

  Method method = Method::kNotRun;
  // Why nothing was computed (invalid input or option), or why Monte Carlo replaced an exact
  // method ("non-commuting", "too many multisets", "forced"); empty otherwise.
  std::string message;
  double eta = 0.0;
  // Lam(eta), or -inf (collapses). NaN when not run.
  double exponent = std::numeric_limits<double>::quiet_NaN();
  // Monte Carlo: Student-t half-width at options.confidence over the replicas; 0 for the exact
  // methods and for a collapse.
  double half_width = std::numeric_limits<double>::quiet_NaN();
  // The iterate reaches 0 in finite time with probability one: exponent = -inf.
  bool collapses = false;

  // Exact methods: the common eigenvectors (columns) and the exponent along each (max =
  // exponent); multisets enumerated, over all directions (a direction stops at its first
  // collapsing multiset).
  Eigen::MatrixXd directions;
  Eigen::VectorXd direction_exponents;
  long multisets = 0;

  // Monte Carlo: per-replica time averages (-inf for a replica that collapsed), steps and
  // burn-in per replica.
  std::vector<double> replica_exponents;
  long steps = 0, burn_in = 0;

  double time_seconds = 0.0;

  bool ok() const { return method != Method::kNotRun; }
  // One line: exponent (with interval), method, stability.
  std::string BriefReport() const;
  // Adds the directions or the replicas and the timing.
  std::string FullReport() const;
};

template <>
struct EnumNames<LyapunovResult::Method> {
  static constexpr std::array<std::pair<LyapunovResult::Method, const char*>, 4> kNames = {{
      {LyapunovResult::Method::kNotRun, "not_run"},
      {LyapunovResult::Method::kExactScalar, "exact_scalar"},
      {LyapunovResult::Method::kExactCommuting, "exact_commuting"},
      {LyapunovResult::Method::kMonteCarloQR, "monte_carlo_qr"},
  }};
};

// Absorbing: exponent + half_width < 0; repelling: exponent - half_width > 0; else undetermined
// (an interval that holds 0, an exact 0, or a result that was not computed).
enum class Stability { kAbsorbing, kRepelling, kUndetermined };
template <>
struct EnumNames<Stability> {
  static constexpr std::array<std::pair<Stability, const char*>, 3> kNames = {{
      {Stability::kAbsorbing, "absorbing"},
      {Stability::kRepelling, "repelling"},
      {Stability::kUndetermined, "undetermined"},
  }};
};
Stability Classify(const LyapunovResult& result);

// The eta-independent work, done once per set of Hessians: input checks, symmetrization, the
// commutation test and the common eigenbasis. Exponent() may be called concurrently.
class LyapunovSolver {
 public:
  LyapunovSolver(const std::vector<Eigen::MatrixXd>& hessians, LyapunovOptions options);

  // Why the Hessians or the options are unusable; empty when they are fine.
  const std::string& error() const { return error_; }
  int dimension() const { return d_; }
  int num_hessians() const { return static_cast<int>(hessians_.size()); }
  bool commuting() const { return commuting_; }
  const LyapunovOptions& options() const { return options_; }

  LyapunovResult Exponent(double eta) const;

 private:
  LyapunovResult Exact(double eta) const;
  LyapunovResult MonteCarlo(double eta) const;

  LyapunovOptions options_;
  std::string error_;
  int d_ = 0;
  std::vector<Eigen::MatrixXd> hessians_;  // symmetrized
  bool commuting_ = false;
  // Commuting: the common eigenbasis (columns) and, per direction i, the distinct eigenvalues
  // lambda_{k,i} with their sample probabilities (multiplicity / n).
  Eigen::MatrixXd basis_;
  std::vector<std::vector<double>> values_, probabilities_;
  long multisets_ = 0;  // sum over directions of C(m_i + b - 1, b), capped past the limit
};

// Lam(eta) for one step size, and for a list of them (the Hessians are analysed once; the step
// sizes run in order, each using options.threads).
LyapunovResult TopLyapunovExponent(const std::vector<Eigen::MatrixXd>& hessians, double eta,
                                   const LyapunovOptions& options);
std::vector<LyapunovResult> LyapunovSweep(const std::vector<Eigen::MatrixXd>& hessians,
                                          const std::vector<double>& etas,
                                          const LyapunovOptions& options);

// An interval of step sizes on which x* is absorbing (Lam < 0).
struct EtaWindow {
  double lower = 0.0, upper = 0.0;
  // The window reaches the end of the searched range there (that end is not a root).
  bool open_below = false, open_above = false;
};

struct AbsorbingWindowsResult {
  std::string message;  // why nothing was computed; empty on success
  std::vector<EtaWindow> windows;
  // The grid and its exponents, for phase diagrams.
  std::vector<LyapunovResult> grid;
  int evaluations = 0;  // exponents computed, grid included
  bool ok() const { return message.empty(); }
};

// The windows in [eta_min, eta_max] where the exponent is negative: the sign of Lam on an evenly
// spaced grid of grid_points >= 2 step sizes, each sign change refined by bisection to
// eta_tolerance. Lam is continuous in eta apart from -inf spikes (which are negative, so they
// make no sign change); windows narrower than the grid spacing can be missed. With Monte Carlo the
// sign is that of the point estimate (continuous in eta with the common random numbers), so the
// ends are those of the estimate: compare with the grid's intervals before trusting them.
AbsorbingWindowsResult AbsorbingWindows(const std::vector<Eigen::MatrixXd>& hessians,
                                        double eta_min, double eta_max, int grid_points,
                                        const LyapunovOptions& options,
                                        double eta_tolerance = 1e-10);

struct ExponentExtremum {
  std::string message;  // why nothing was computed; empty on success
  double eta = 0.0;
  LyapunovResult at;  // the exponent at eta
  int evaluations = 0;
  bool ok() const { return message.empty(); }
};

// A local extremum of Lam on [eta_lo, eta_hi] by golden-section search to eta_tolerance: the
// global one when Lam is unimodal there (1-D: Lam is concave between the poles eta = 1/h_k, so on
// such an interval its maximum, the fastest escape, is found). The minimum over a window that
// holds a pole is -inf at the pole; search for it only where Lam is finite.
enum class Extremum { kMinimum, kMaximum };
ExponentExtremum ExtremeExponent(const std::vector<Eigen::MatrixXd>& hessians, double eta_lo,
                                 double eta_hi, Extremum which, const LyapunovOptions& options,
                                 double eta_tolerance = 1e-9);

}  // namespace ldsgd

#endif  // LDSGD_SOLVER_THEORY_LYAPUNOV_H_
