#include "solver/theory/collapse_check.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <string>

#include "solver/numerics/low_discrepancy.h"
#include "solver/simulation/simulator.h"
#include "solver/theory/stability.h"
#include "solver/theory/verifier.h"

namespace ldsgd {
namespace {

// z with Phi(z) = 0.99: every chain collapses by the horizon with probability >= 0.99.
constexpr double kZ99 = 2.3263478740408408;
// The sample spread of a few replicas underestimates s; 1.5 covers a chi-square lower tail at 16
// replicas with probability > 0.999.
constexpr double kSpreadSafety = 1.5;
// Pass: at least this fraction of the chains collapsed (absorbing) or at most 1 - it (repelling).
// Per chain the probability is >= 0.99, so a correct prediction fails only in the binomial tail
// P(Bin(500, 0.01) > 50) < 1e-10.
constexpr double kPassFraction = 0.9;
constexpr long kMinSteps = 100;

// Wilson's 95% interval of a binomial proportion k / n.
void Wilson95(long k, long n, double* lower, double* upper) {
  const double z = 1.959963984540054, p = static_cast<double>(k) / n, z2n = z * z / n;
  const double centre = (p + z2n / 2) / (1 + z2n);
  const double half = z * std::sqrt(p * (1 - p) / n + z2n / (4 * n)) / (1 + z2n);
  *lower = std::max(0.0, centre - half);
  *upper = std::min(1.0, centre + half);
}

std::string Eta(double eta) {
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%.4g", eta);
  return buffer;
}

// Chains started on the Kronecker points of the cube of half-width r0 around x*.
SimulationOptions CollapseSimulation(const ComponentStability& c, double eta, long steps, double r0,
                                     const CollapseOptions& options) {
  SimulationOptions sim;
  sim.step_size = eta;
  sim.steps = steps;
  sim.burn_in = steps - 1;
  sim.chains = options.chains;
  sim.seed = options.seed;
  sim.num_threads = options.num_threads;
  // The run is scale-free near x*: a chain is counted diverged only 1e12 box widths away.
  sim.divergence_factor = 1e12;
  sim.record_final_states = true;
  const int d = static_cast<int>(c.point.size());
  for (int k = 0; k < sim.chains; ++k) {
    sim.initial_points.push_back(c.point + r0 * (2.0 * KroneckerPoint(d, k).array() - 1.0).matrix());
  }
  return sim;
}

VerifyCheck CollapseCheck(const Problem& problem, const std::vector<CriticalComponent>& components,
                          const ComponentStability& c, double eta, double* budget_steps,
                          const CollapseOptions& options) {
  const Eigen::VectorXd width = problem.domain.upper - problem.domain.lower;
  const double r0 = width.maxCoeff() / 16, tolerance = 1e-6 * width.maxCoeff();
  const bool absorbing = c.stability == Stability::kAbsorbing;
  const double lam = c.lyapunov.exponent, half = std::isfinite(c.lyapunov.half_width) ? c.lyapunov.half_width : 0.0;
  const double weak = absorbing ? lam + half : lam - half;
  const double spread = LogGrowthSpread(c.lyapunov, c.hessians, eta);
  const long steps = std::max(kMinSteps, CollapseHorizon(absorbing ? weak : -weak, spread, std::log(r0 / tolerance)));
  VerifyCheck check;
  check.name = "collapse[" + std::to_string(c.id) + "] @ eta=" + Eta(eta);
  check.predicted = absorbing ? 1.0 : 0.0;
  char regime[200];
  std::snprintf(regime, sizeof regime, "linearized at x*: Lam in [%.4g, %.4g], spread %.3g per step: horizon %ld steps",
                lam - half, lam + half, spread, steps);
  check.regime = regime;
  const double cost = static_cast<double>(steps) * options.chains;
  check.steps = cost;
  if (cost > *budget_steps) {
    check.verdict = Verdict::kInconclusive;
    check.needed_steps_per_chain = static_cast<double>(steps);
    check.detail = "needs " + std::to_string(steps) + " steps x " + std::to_string(options.chains) +
                   " chains, beyond the budget: raise --budget";
    return check;
  }
  *budget_steps -= cost;
  Simulator::Summary summary;
  const SimulationResult r = Simulator(CollapseSimulation(c, eta, steps, r0, options)).Simulate(problem, components, &summary);
  long collapsed = 0;
  for (const SimulationChain& chain : r.per_chain) {
    if (!chain.diverged && (chain.final_state - c.point).lpNorm<Eigen::Infinity>() <= tolerance) ++collapsed;
  }
  check.measured = static_cast<double>(collapsed) / options.chains;
  Wilson95(collapsed, options.chains, &check.lower, &check.upper);
  const bool ok = absorbing ? check.measured >= kPassFraction : check.measured <= 1 - kPassFraction;
  check.verdict = ok ? Verdict::kPass : Verdict::kFail;
  char buffer[256];
  std::snprintf(buffer, sizeof buffer, "Lam = %.6g (%s): %ld of %d chains within %.2g of x* after %ld steps (need %s %.0f%%)",
                lam, absorbing ? "absorbing" : "repelling", collapsed, options.chains, tolerance, steps,
                absorbing ? ">=" : "<=", 100 * (absorbing ? kPassFraction : 1 - kPassFraction));
  check.detail = buffer;
  return check;
}

}  // namespace

long CollapseHorizon(double lam_weak, double spread, double D) {
  if (!(lam_weak < 0)) return std::numeric_limits<long>::max() / 4;
  // |Lam| T - z s sqrt(T) - D = 0, a quadratic in u = sqrt(T).
  const double a = -lam_weak, b = kZ99 * std::max(spread, 0.0);
  const double u = (b + std::sqrt(b * b + 4 * a * D)) / (2 * a);
  const double t = std::ceil(u * u);
  return t >= 1e15 ? static_cast<long>(1e15) : static_cast<long>(t);
}

double LogGrowthSpread(const LyapunovResult& lyapunov, const std::vector<Eigen::MatrixXd>& hessians, double eta) {
  const std::vector<double>& e = lyapunov.replica_exponents;
  if (e.size() >= 2 && lyapunov.steps > lyapunov.burn_in) {
    double mean = 0.0, ss = 0.0;
    for (double x : e) mean += x;
    mean /= e.size();
    for (double x : e) ss += (x - mean) * (x - mean);
    const double m = static_cast<double>(lyapunov.steps - lyapunov.burn_in);
    return kSpreadSafety * std::sqrt(ss / (e.size() - 1) * m);
  }
  // Exact methods: along each common eigenvector v the log-growths log|1 - eta v'H_k v| are i.i.d.
  double spread = 0.0;
  for (int j = 0; j < lyapunov.directions.cols(); ++j) {
    const Eigen::VectorXd v = lyapunov.directions.col(j).normalized();
    double lo = std::numeric_limits<double>::infinity(), hi = -lo;
    for (const Eigen::MatrixXd& h : hessians) {
      const double g = std::log(std::abs(1 - eta * v.dot(h * v)));
      if (!std::isfinite(g)) continue;  // a collapsing sample only shortens the walk
      lo = std::min(lo, g);
      hi = std::max(hi, g);
    }
    if (hi >= lo) spread = std::max(spread, (hi - lo) / 2);
  }
  return spread;
}

std::vector<VerifyCheck> CollapseChecks(const Problem& problem, const std::vector<CriticalComponent>& components,
                                        const std::vector<double>& step_sizes, const CollapseOptions& options) {
  std::vector<VerifyCheck> checks;
  if (!problem.noise.is_exact_finite_sum()) return checks;
  StabilityOptions so;
  so.lyapunov.seed = options.seed;
  so.lyapunov.threads = options.num_threads;
  const StabilityAnalyzer analyzer(so);
  double budget = options.budget_steps;
  for (double eta : step_sizes) {
    const StabilityReport report = analyzer.Analyze(problem, components, eta);
    if (!report.status.ok()) continue;
    for (const ComponentStability& c : report.components) {
      if (!c.vanishing_noise || c.stability == Stability::kUndetermined) continue;
      checks.push_back(CollapseCheck(problem, components, c, eta, &budget, options));
    }
  }
  return checks;
}

}  // namespace ldsgd
