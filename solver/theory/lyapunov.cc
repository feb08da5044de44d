#include "solver/theory/lyapunov.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <sstream>
#include <utility>

#include <Eigen/Eigenvalues>
#include <boost/math/distributions/students_t.hpp>

#include "solver/io/input_text.h"
#include "solver/numerics/parallel.h"
#include "solver/numerics/philox_normals.h"

namespace ldsgd {
namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr double kLn2 = 0.69314718055994530942;

// Sums many terms of mixed size with error independent of their number (Neumaier's variant of
// Kahan summation): the enumeration adds up to max_multisets weighted logarithms.
class CompensatedSum {
 public:
  void Add(double x) {
    const double t = sum_ + x;
    compensation_ += std::abs(sum_) >= std::abs(x) ? (sum_ - t) + x : (x - t) + sum_;
    sum_ = t;
  }
  double value() const { return sum_ + compensation_; }

 private:
  double sum_ = 0.0, compensation_ = 0.0;
};

// C(m + b - 1, b), or limit + 1 once it exceeds limit (it can overflow any integer type).
long MultisetCount(long m, long b, long limit) {
  long double c = 1;
  for (long j = 1; j <= b; ++j) {
    c = c * static_cast<long double>(m - 1 + j) / static_cast<long double>(j);
    if (c > static_cast<long double>(limit)) return limit + 1;
  }
  return static_cast<long>(std::llround(c));
}

// E log |1 - eta mean_b(lambda)| over b draws with replacement from distinct values v_j with
// probabilities p_j, summed over multisets: a multiset with multiplicities c_j has probability
// b! prod_j p_j^c_j / c_j!. The recursion picks the next value used and its multiplicity (>= 1),
// so its depth is at most min(b, m) and it never reaches a dead end (the last value takes the
// rest). Returns -inf when a multiset of positive probability has 1 - eta mean = 0 exactly.
class MultisetExpectation {
 public:
  MultisetExpectation(const std::vector<double>& values, const std::vector<double>& probabilities,
                      int b, double eta)
      : v_(values), b_(b), eta_(eta), log_p_(values.size()), log_factorial_(b + 1) {
    for (std::size_t j = 0; j < values.size(); ++j) log_p_[j] = std::log(probabilities[j]);
    for (int c = 0; c <= b; ++c) log_factorial_[c] = std::lgamma(c + 1.0);
  }

  double Run(long* count) {
    Visit(0, b_, 0.0, log_factorial_[b_]);
    *count += count_;
    return collapses_ ? -kInf : sum_.value();
  }

 private:
  void Visit(std::size_t first, int remaining, double partial_sum, double log_weight) {
    if (collapses_) return;
    if (remaining == 0) {
      ++count_;
      const double factor = 1.0 - eta_ * (partial_sum / b_);
      // A zero factor of positive probability: log 0 = -inf, and never 0 * -inf = NaN when the
      // weight underflows.
      if (factor == 0.0) {
        collapses_ = true;
        return;
      }
      sum_.Add(std::exp(log_weight) * std::log(std::abs(factor)));
      return;
    }
    const std::size_t m = v_.size();
    for (std::size_t j = first; j < m; ++j) {
      const int lowest = j + 1 == m ? remaining : 1;
      for (int c = lowest; c <= remaining; ++c) {
        Visit(j + 1, remaining - c, partial_sum + c * v_[j],
              log_weight + c * log_p_[j] - log_factorial_[c]);
      }
    }
  }

  const std::vector<double>& v_;
  int b_;
  double eta_;
  std::vector<double> log_p_, log_factorial_;
  CompensatedSum sum_;
  long count_ = 0;
  bool collapses_ = false;
};

// Replica r's sample indices, a stream: index k is half k % 2 of the Philox block at counter
// (r, 1 + k / 2, 0) (PhiloxIndicesBlock: floor(w n / 2^64) of a 64-bit word w, bias below
// n / 2^64, negligible for any n that fits memory). Step 0 is kept for the initial vector. Using
// both halves of every block halves the Philox work at batch size 1.
class IndexStream {
 public:
  IndexStream(PhiloxKey key, std::uint32_t replica, std::uint32_t n)
      : key_(key), replica_(replica), n_(n) {}
  std::uint32_t Next() {
    if (have_second_) {
      have_second_ = false;
      return second_;
    }
    std::uint32_t first;
    PhiloxIndicesBlock(key_, replica_, 1, ++block_, 0, n_, &first, &second_);
    have_second_ = true;
    return first;
  }

 private:
  PhiloxKey key_;
  std::uint32_t replica_, n_;
  std::uint64_t block_ = 0;
  std::uint32_t second_ = 0;
  bool have_second_ = false;
};

// The power-of-two window the iterate is kept in: rescaling by 2^e is exact, so no rounding
// enters the bookkeeping, and a per-step normalization (sqrt, divide, log) is not needed.
constexpr double kUpperScale = 0x1p256, kLowerScale = 0x1p-256;

// One replica's time average of log |d_t| over steps burn_in < t <= steps. `step_matrices` are
// eta / b H_k, so d_{t+1} = d_t - sum_j step_matrices[K_j] d_t. -inf when d_t reaches 0 (with
// a Gaussian d_0 this means the product matrix itself reached 0, with probability one), NaN on
// overflow.
template <int Dim>
double ReplicaExponent(const std::vector<Eigen::Matrix<double, Dim, Dim>>& step_matrices, int d,
                       int b, long steps, long burn_in, PhiloxKey key, std::uint32_t replica) {
  using Vector = Eigen::Matrix<double, Dim, 1>;
  Vector v = Vector::Zero(d);
  // d_0 Gaussian: isotropic, so it has a component along the top Oseledets direction with
  // probability one (a fixed start such as e_1 may lie in an invariant subspace).
  double z[2] = {0.0, 0.0};
  for (int i = 0; i < d; ++i) {
    if (i % 2 == 0) {
      BoxMuller(PhiloxBlock(key, replica, 0, static_cast<std::uint32_t>(i / 2)), &z[0], &z[1]);
    }
    v(i) = z[i % 2];
  }
  if (v.norm() == 0.0) v(0) = 1.0;  // both Box-Muller radii 0: probability 2^-52 per block
  v /= v.norm();

  IndexStream indices(key, replica, static_cast<std::uint32_t>(step_matrices.size()));
  long exponent2 = 0;        // d_t = v 2^exponent2
  double log_at_burn = 0.0;  // log |d_burn_in|; |d_0| = 1
  Vector acc = Vector::Zero(d);
  for (long t = 1; t <= steps; ++t) {
    if (b == 1) {
      v -= step_matrices[indices.Next()] * v;
    } else {
      acc.setZero();
      for (int j = 0; j < b; ++j) acc.noalias() += step_matrices[indices.Next()] * v;
      v -= acc;
    }
    const double top = v.cwiseAbs().maxCoeff();
    if (!(top > kLowerScale && top < kUpperScale)) {
      if (top == 0.0) return -kInf;
      if (!std::isfinite(top)) return kNaN;
      int e;
      std::frexp(top, &e);
      v *= std::ldexp(1.0, -e);
      exponent2 += e;
    }
    if (t == burn_in) log_at_burn = std::log(v.norm()) + exponent2 * kLn2;
  }
  const double log_end = std::log(v.norm()) + exponent2 * kLn2;
  return (log_end - log_at_burn) / static_cast<double>(steps - burn_in);
}

template <int Dim>
void RunReplicas(const std::vector<Eigen::MatrixXd>& hessians, double eta,
                 const LyapunovOptions& o, std::vector<double>* out) {
  const int d = static_cast<int>(hessians[0].rows());
  std::vector<Eigen::Matrix<double, Dim, Dim>> step_matrices;
  step_matrices.reserve(hessians.size());
  const double scale = eta / o.batch_size;
  for (const Eigen::MatrixXd& h : hessians) step_matrices.emplace_back(scale * h);
  const PhiloxKey key = KeyFromSeed(o.seed);
  out->assign(o.replicas, kNaN);
  ParallelFor(o.replicas, o.threads, [&](int r) {
    (*out)[r] = ReplicaExponent<Dim>(step_matrices, d, o.batch_size, o.steps, o.burn_in, key,
                                     static_cast<std::uint32_t>(r));
  });
}

std::string Format(double v, int digits = 8) {
  char buffer[64];
  std::snprintf(buffer, sizeof buffer, "%.*g", digits, v);
  return buffer;
}

std::string ValidEta(double eta);

// A step-size interval [lo, hi] and a tolerance in eta: "" if valid, else what is wrong.
std::string ValidRange(double lo, double hi, const char* lo_name, const char* hi_name,
                       double eta_tolerance) {
  if (std::string bad = ValidEta(lo); !bad.empty()) return bad;
  if (!(hi > lo && std::isfinite(hi))) {
    return std::string("Invalid range: ") + hi_name + " = " + ShortestSpelling(hi) +
           " must be finite and above " + lo_name + " = " + ShortestSpelling(lo);
  }
  if (!(eta_tolerance > 0)) {
    return "Invalid eta_tolerance = " + ShortestSpelling(eta_tolerance) + " (must be > 0)";
  }
  return "";
}

std::string ValidEta(double eta) {
  if (eta > 0 && std::isfinite(eta)) return "";
  return "Invalid step size eta = " + ShortestSpelling(eta) +
         ". Violated constraint: 0 < eta < inf";
}

}  // namespace

std::string Validate(const LyapunovOptions& o) {
  const auto violated = InvalidOption;
  if (o.batch_size < 1) return violated("batch_size", o.batch_size, "batch_size >= 1");
  if (!(o.symmetry_tolerance >= 0)) {
    return violated("symmetry_tolerance", o.symmetry_tolerance, "symmetry_tolerance >= 0");
  }
  if (!(o.commute_tolerance >= 0)) {
    return violated("commute_tolerance", o.commute_tolerance, "commute_tolerance >= 0");
  }
  if (o.max_multisets < 1) {
    return violated("max_multisets", static_cast<double>(o.max_multisets), "max_multisets >= 1");
  }
  if (o.burn_in < 0) return violated("burn_in", static_cast<double>(o.burn_in), "burn_in >= 0");
  if (o.steps <= o.burn_in) {
    return violated("steps", static_cast<double>(o.steps), "steps > burn_in");
  }
  if (o.replicas < 2) return violated("replicas", o.replicas, "replicas >= 2");
  if (o.threads < 0) return violated("threads", o.threads, "threads >= 0");
  if (!(o.confidence > 0 && o.confidence < 1)) {
    return violated("confidence", o.confidence, "0 < confidence < 1");
  }
  return "";
}

Stability Classify(const LyapunovResult& r) {
  if (!r.ok()) return Stability::kUndetermined;
  // -inf - 0 and -inf + 0 are -inf; NaN compares false and stays undetermined.
  if (r.exponent + r.half_width < 0) return Stability::kAbsorbing;
  if (r.exponent - r.half_width > 0) return Stability::kRepelling;
  return Stability::kUndetermined;
}

std::string LyapunovResult::BriefReport() const {
  if (!ok()) return "Lyapunov exponent not computed: " + message;
  std::ostringstream s;
  s << "Lyapunov exponent " << Format(exponent);
  if (method == Method::kMonteCarloQR && !collapses) {
    s << " +- " << Format(half_width, 3);
  }
  s << " at eta " << Format(eta) << " (" << ToString(method) << "): " << ToString(Classify(*this));
  if (collapses) s << ", collapses to x* in finite time";
  return s.str();
}

std::string LyapunovResult::FullReport() const {
  std::ostringstream s;
  s << BriefReport() << "\n";
  if (!ok()) return s.str();
  if (!message.empty()) s << "  note: " << message << "\n";
  if (method == Method::kMonteCarloQR) {
    s << "  " << replica_exponents.size() << " replicas x " << steps - burn_in
      << " measured steps (burn-in " << burn_in << "):";
    for (double e : replica_exponents) s << " " << Format(e, 6);
    s << "\n";
  } else {
    s << "  " << multisets << " multisets; exponent per common eigenvector:\n";
    for (int i = 0; i < direction_exponents.size(); ++i) {
      s << "    " << Format(direction_exponents(i)) << "  along (";
      for (int k = 0; k < directions.rows(); ++k) {
        s << (k > 0 ? ", " : "") << Format(directions(k, i), 6);
      }
      s << ")\n";
    }
  }
  s << "  time " << Format(time_seconds, 3) << " s\n";
  return s.str();
}

LyapunovSolver::LyapunovSolver(const std::vector<Eigen::MatrixXd>& hessians,
                               LyapunovOptions options)
    : options_(options) {
  error_ = Validate(options_);
  if (!error_.empty()) return;
  if (hessians.empty()) {
    error_ = "No sample Hessians: the linearization needs at least one.";
    return;
  }
  d_ = static_cast<int>(hessians[0].rows());
  if (d_ < 1) {
    error_ = "Sample Hessian 0 is empty.";
    return;
  }
  if (hessians.size() > 0xFFFFFFFFu) {
    error_ = "More than 2^32 - 1 sample Hessians.";
    return;
  }
  hessians_.reserve(hessians.size());
  for (std::size_t k = 0; k < hessians.size(); ++k) {
    const Eigen::MatrixXd& h = hessians[k];
    if (h.rows() != d_ || h.cols() != d_) {
      error_ = "Sample Hessian " + std::to_string(k) + " is " + std::to_string(h.rows()) + " x " +
               std::to_string(h.cols()) + ", expected " + std::to_string(d_) + " x " +
               std::to_string(d_) + " like Hessian 0.";
      return;
    }
    if (!h.allFinite()) {
      error_ = "Sample Hessian " + std::to_string(k) + " has a non-finite entry.";
      return;
    }
    const double asymmetry = (h - h.transpose()).norm();
    if (asymmetry > options_.symmetry_tolerance * h.norm()) {
      error_ = "Sample Hessian " + std::to_string(k) + " is not symmetric: |H - H^T| = " +
               Format(asymmetry, 3) + " > symmetry_tolerance |H| = " +
               Format(options_.symmetry_tolerance * h.norm(), 3) + ".";
      return;
    }
    hessians_.push_back(0.5 * (h + h.transpose()));
  }

  // The common eigenbasis: that of C = sum_k c_k H_k / |H_k| with distinct, irrationally spaced
  // c_k (the fractional parts of k times the golden ratio, in [1, 2)). Commuting symmetric
  // matrices share an orthonormal eigenbasis; the eigenspaces of a generic combination are
  // exactly the joint eigenspaces (a repeated eigenvalue of C belongs to a subspace on which
  // every H_k is a multiple of I, where any basis serves). The test below is then both the
  // commutation test and the check that this C was generic enough: every Q^T H_k Q must be
  // diagonal to commute_tolerance (|offdiag| <= tol |H_k|, which |[H_i, H_j]| <= 2 tol |H_i| |H_j|
  // follows from). A second set of coefficients guards against an unlucky coincidence.
  const int n = num_hessians();
  for (int attempt = 0; attempt < 2 && !commuting_; ++attempt) {
    Eigen::MatrixXd c = Eigen::MatrixXd::Zero(d_, d_);
    const double phi = attempt == 0 ? 0.6180339887498949 : 0.7548776662466927;
    for (int k = 0; k < n; ++k) {
      const double norm = hessians_[k].norm();
      if (norm == 0.0) continue;
      const double weight = 1.0 + std::fmod(0.5 + (k + 1) * phi, 1.0);
      c += (weight / norm) * hessians_[k];
    }
    Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> eigen(c);
    if (eigen.info() != Eigen::Success) continue;
    const Eigen::MatrixXd& q = eigen.eigenvectors();
    bool diagonal = true;
    std::vector<Eigen::VectorXd> lambda(n);
    for (int k = 0; k < n && diagonal; ++k) {
      Eigen::MatrixXd rotated = q.transpose() * hessians_[k] * q;
      lambda[k] = rotated.diagonal();
      rotated.diagonal().setZero();
      diagonal = rotated.norm() <= options_.commute_tolerance * hessians_[k].norm();
    }
    if (!diagonal) continue;
    commuting_ = true;
    basis_ = q;
    values_.assign(d_, {});
    probabilities_.assign(d_, {});
    multisets_ = 0;
    for (int i = 0; i < d_; ++i) {
      // Equal eigenvalues merged (identical Hessians give identical ones): fewer multisets.
      std::vector<double> column(n);
      for (int k = 0; k < n; ++k) column[k] = lambda[k](i);
      std::sort(column.begin(), column.end());
      for (int k = 0; k < n;) {
        int next = k;
        while (next < n && column[next] == column[k]) ++next;
        values_[i].push_back(column[k]);
        probabilities_[i].push_back(static_cast<double>(next - k) / n);
        k = next;
      }
      const long count = MultisetCount(static_cast<long>(values_[i].size()), options_.batch_size,
                                       options_.max_multisets);
      multisets_ = std::min(multisets_ + count, options_.max_multisets + 1);
    }
  }
}

LyapunovResult LyapunovSolver::Exponent(double eta) const {
  const auto t0 = std::chrono::steady_clock::now();
  LyapunovResult r;
  r.eta = eta;
  if (!error_.empty()) {
    r.message = error_;
  } else if (std::string bad = ValidEta(eta); !bad.empty()) {
    r.message = bad;
  } else if (commuting_ && !options_.force_monte_carlo && multisets_ <= options_.max_multisets) {
    r = Exact(eta);
  } else {
    r = MonteCarlo(eta);
    if (r.ok()) {
      r.message = options_.force_monte_carlo ? "Monte Carlo forced (force_monte_carlo)"
                : commuting_ ? "the Hessians commute, but the exact expectation needs more than "
                               "max_multisets = " + std::to_string(options_.max_multisets) +
                                   " multisets"
                               : "the sample Hessians do not commute";
    }
  }
  r.time_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return r;
}

LyapunovResult LyapunovSolver::Exact(double eta) const {
  LyapunovResult r;
  r.eta = eta;
  r.method = d_ == 1 ? LyapunovResult::Method::kExactScalar
                     : LyapunovResult::Method::kExactCommuting;
  r.directions = basis_;
  r.direction_exponents.resize(d_);
  for (int i = 0; i < d_; ++i) {
    MultisetExpectation expectation(values_[i], probabilities_[i], options_.batch_size, eta);
    r.direction_exponents(i) = expectation.Run(&r.multisets);
  }
  r.exponent = r.direction_exponents.maxCoeff();
  r.collapses = r.exponent == -kInf;
  r.half_width = 0.0;
  return r;
}

LyapunovResult LyapunovSolver::MonteCarlo(double eta) const {
  LyapunovResult r;
  r.eta = eta;
  r.method = LyapunovResult::Method::kMonteCarloQR;
  r.steps = options_.steps;
  r.burn_in = options_.burn_in;
  switch (d_) {
    case 1: RunReplicas<1>(hessians_, eta, options_, &r.replica_exponents); break;
    case 2: RunReplicas<2>(hessians_, eta, options_, &r.replica_exponents); break;
    case 3: RunReplicas<3>(hessians_, eta, options_, &r.replica_exponents); break;
    case 4: RunReplicas<4>(hessians_, eta, options_, &r.replica_exponents); break;
    default: RunReplicas<Eigen::Dynamic>(hessians_, eta, options_, &r.replica_exponents);
  }
  const std::vector<double>& x = r.replica_exponents;
  const int count = static_cast<int>(x.size());
  for (double e : x) {
    if (std::isnan(e)) {
      r.method = LyapunovResult::Method::kNotRun;
      r.message = "the iterate overflowed: the Hessians or eta are too large for double";
      return r;
    }
  }
  if (std::any_of(x.begin(), x.end(), [](double e) { return e == -kInf; })) {
    // One replica reached the zero matrix, which then happens with probability one over an
    // infinite run: Lam = -inf for every realization.
    r.exponent = -kInf;
    r.half_width = 0.0;
    r.collapses = true;
    return r;
  }
  double mean = 0.0;
  for (double e : x) mean += e;
  mean /= count;
  double ss = 0.0;
  for (double e : x) ss += (e - mean) * (e - mean);
  const boost::math::students_t t(count - 1);
  const double quantile = boost::math::quantile(t, 0.5 + 0.5 * options_.confidence);
  r.exponent = mean;
  r.half_width = quantile * std::sqrt(ss / (count - 1) / count);
  return r;
}

LyapunovResult TopLyapunovExponent(const std::vector<Eigen::MatrixXd>& hessians, double eta,
                                   const LyapunovOptions& options) {
  return LyapunovSolver(hessians, options).Exponent(eta);
}

std::vector<LyapunovResult> LyapunovSweep(const std::vector<Eigen::MatrixXd>& hessians,
                                          const std::vector<double>& etas,
                                          const LyapunovOptions& options) {
  const LyapunovSolver solver(hessians, options);
  std::vector<LyapunovResult> out;
  out.reserve(etas.size());
  for (double eta : etas) out.push_back(solver.Exponent(eta));
  return out;
}

AbsorbingWindowsResult AbsorbingWindows(const std::vector<Eigen::MatrixXd>& hessians,
                                        double eta_min, double eta_max, int grid_points,
                                        const LyapunovOptions& options, double eta_tolerance) {
  AbsorbingWindowsResult out;
  if (grid_points < 2) {
    out.message = "Invalid grid: grid_points = " + std::to_string(grid_points) + " < 2";
    return out;
  }
  out.message = ValidRange(eta_min, eta_max, "eta_min", "eta_max", eta_tolerance);
  if (!out.message.empty()) return out;
  const LyapunovSolver solver(hessians, options);
  if (!solver.error().empty()) {
    out.message = solver.error();
    return out;
  }
  out.grid.reserve(grid_points);
  for (int i = 0; i < grid_points; ++i) {
    // The last point exactly eta_max, not eta_min + (n-1) h rounded.
    const double eta = i + 1 == grid_points
                           ? eta_max
                           : eta_min + (eta_max - eta_min) * i / (grid_points - 1);
    out.grid.push_back(solver.Exponent(eta));
    ++out.evaluations;
    if (std::isnan(out.grid.back().exponent)) {
      out.message = out.grid.back().message;
      return out;
    }
  }
  auto negative = [](const LyapunovResult& r) { return r.exponent < 0; };
  // The root of Lam in [lo, hi] where the sign changes, by bisection: the sign at lo is kept.
  auto refine = [&](double lo, double hi, bool negative_at_lo) {
    while (hi - lo > eta_tolerance) {
      const double mid = 0.5 * (lo + hi);
      if (mid <= lo || mid >= hi) break;  // no double between them
      ++out.evaluations;
      (negative(solver.Exponent(mid)) == negative_at_lo ? lo : hi) = mid;
    }
    return 0.5 * (lo + hi);
  };
  for (int i = 0; i < grid_points; ++i) {
    if (!negative(out.grid[i])) continue;
    EtaWindow w;
    if (i == 0) {
      w.lower = out.grid[0].eta;
      w.open_below = true;
    } else {
      w.lower = refine(out.grid[i - 1].eta, out.grid[i].eta, false);
    }
    int j = i;
    while (j + 1 < grid_points && negative(out.grid[j + 1])) ++j;
    if (j + 1 == grid_points) {
      w.upper = out.grid[j].eta;
      w.open_above = true;
    } else {
      w.upper = refine(out.grid[j].eta, out.grid[j + 1].eta, true);
    }
    out.windows.push_back(w);
    i = j;
  }
  return out;
}

ExponentExtremum ExtremeExponent(const std::vector<Eigen::MatrixXd>& hessians, double eta_lo,
                                 double eta_hi, Extremum which, const LyapunovOptions& options,
                                 double eta_tolerance) {
  ExponentExtremum out;
  out.message = ValidRange(eta_lo, eta_hi, "eta_lo", "eta_hi", eta_tolerance);
  if (!out.message.empty()) return out;
  const LyapunovSolver solver(hessians, options);
  if (!solver.error().empty()) {
    out.message = solver.error();
    return out;
  }
  // Golden-section search minimizing sign * Lam.
  const double sign = which == Extremum::kMinimum ? 1.0 : -1.0;
  auto f = [&](double eta) {
    ++out.evaluations;
    return sign * solver.Exponent(eta).exponent;
  };
  const double inv_phi = 0.6180339887498949;
  double a = eta_lo, b = eta_hi;
  double x1 = b - inv_phi * (b - a), x2 = a + inv_phi * (b - a);
  double f1 = f(x1), f2 = f(x2);
  // 200 iterations shrink any double range below its resolution: a guard, not a limit.
  for (int iteration = 0; iteration < 200 && b - a > eta_tolerance; ++iteration) {
    if (f1 <= f2) {
      b = x2;
      x2 = x1;
      f2 = f1;
      x1 = b - inv_phi * (b - a);
      f1 = f(x1);
    } else {
      a = x1;
      x1 = x2;
      f1 = f2;
      x2 = a + inv_phi * (b - a);
      f2 = f(x2);
    }
  }
  out.eta = 0.5 * (a + b);
  out.at = solver.Exponent(out.eta);
  ++out.evaluations;
  if (!out.at.ok()) out.message = out.at.message;
  return out;
}

}  // namespace ldsgd
