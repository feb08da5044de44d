#include "solver/theory/verifier.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <sstream>

#include "solver/numerics/low_discrepancy.h"
#include "solver/simulation/neighbourhoods.h"
#include "solver/noise/sgd_noise.h"
#include "solver/theory/stability.h"

namespace ldsgd {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// Per batch of chains and per step size: occupation counts, recorded steps, exit-time sums.
struct BatchData {
  std::vector<std::vector<double>> occupation;  // [k][i]
  std::vector<std::vector<double>> exit_sum;    // [k][i]
  std::vector<std::vector<double>> exit_count;  // [k][i]
  std::vector<std::vector<double>> basin;       // [k][i]: states classified in the basin of i
};

std::vector<BatchData> Batches(const std::vector<SimulationResult>& sims, int batches, int p) {
  std::vector<BatchData> out(batches);
  for (BatchData& b : out) {
    b.occupation.assign(sims.size(), std::vector<double>(p, 0.0));
    b.exit_sum = b.exit_count = b.basin = b.occupation;
  }
  for (std::size_t k = 0; k < sims.size(); ++k) {
    const int chains = static_cast<int>(sims[k].per_chain.size());
    for (int c = 0; c < chains; ++c) {
      const SimulationChain& chain = sims[k].per_chain[c];
      if (chain.diverged) continue;
      BatchData& b = out[static_cast<long>(c) * batches / chains];  // contiguous batches
      for (int i = 0; i < p; ++i) {
        b.occupation[k][i] += static_cast<double>(chain.occupation[i]);
        b.exit_sum[k][i] += chain.exit_times[i].sum;
        b.exit_count[k][i] += static_cast<double>(chain.exit_times[i].count);
        if (!chain.basin_counts.empty()) b.basin[k][i] += static_cast<double>(chain.basin_counts[i]);
      }
    }
  }
  return out;
}

// Mean and 95% half-width of batch values (Student t).
struct Interval {
  double mean = kNaN, half = kNaN;
};
Interval BatchInterval(const std::vector<double>& v) {
  Interval r;
  const int n = static_cast<int>(v.size());
  if (n < 2) return r;
  double m = 0.0;
  for (double x : v) m += x;
  m /= n;
  double ss = 0.0;
  for (double x : v) ss += (x - m) * (x - m);
  r.mean = m;
  r.half = StudentT95(n - 1) * std::sqrt(ss / (n - 1) / n);
  return r;
}

// Least-squares slope of y against x.
double Slope(const std::vector<double>& x, const std::vector<double>& y) {
  double mx = 0.0, my = 0.0;
  for (std::size_t k = 0; k < x.size(); ++k) {
    mx += x[k];
    my += y[k];
  }
  mx /= x.size();
  my /= y.size();
  double sxy = 0.0, sxx = 0.0;
  for (std::size_t k = 0; k < x.size(); ++k) {
    sxy += (x[k] - mx) * (y[k] - my);
    sxx += (x[k] - mx) * (x[k] - mx);
  }
  return sxy / sxx;
}

VerifyCheck Judge(std::string name, double predicted, const Interval& measured, double tolerance,
                  std::string unmixed) {
  VerifyCheck c;
  c.name = std::move(name);
  c.predicted = predicted;
  c.measured = measured.mean;
  c.lower = measured.mean - measured.half;
  c.upper = measured.mean + measured.half;
  if (!unmixed.empty()) {
    c.verdict = Verdict::kInconclusive;
    c.detail = unmixed;
    return c;
  }
  if (!std::isfinite(measured.mean) || !std::isfinite(measured.half)) {
    c.verdict = Verdict::kInconclusive;
    c.detail = "no estimate (too few batches with data)";
    return c;
  }
  const double allowed = measured.half + tolerance * std::abs(predicted);
  const double miss = std::abs(measured.mean - predicted);
  c.verdict = miss <= allowed ? Verdict::kPass : Verdict::kFail;
  char buffer[160];
  std::snprintf(buffer, sizeof buffer, "|measured - predicted| = %.4g %s %.4g (95%% half-width %.3g + %g%% of the prediction)",
                miss, miss <= allowed ? "<=" : ">", allowed, measured.half, 100 * tolerance);
  c.detail = buffer;
  return c;
}

std::string FormatEta(double eta) {
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%.4g", eta);
  return buffer;
}

}  // namespace

long BasinInterval(const std::vector<CriticalComponent>& components, double eta) {
  // Ten relaxation times 1 / (eta lambda_min) of the slowest well: consecutive classifications are
  // then nearly independent within a well, and the gradient descents cost little next to the steps.
  constexpr double kRelaxationTimes = 10.0;
  constexpr long kFallback = 1000;
  double curvature = std::numeric_limits<double>::infinity();
  for (const CriticalComponent& c : components) {
    if (c.type != CriticalType::kMinimum || c.hessian_eigenvalues.size() == 0) continue;
    for (int i = 0; i < c.hessian_eigenvalues.size(); ++i) {
      if (c.hessian_eigenvalues[i] > 0) curvature = std::min(curvature, c.hessian_eigenvalues[i]);
    }
  }
  if (!std::isfinite(curvature)) return kFallback;
  const double interval = std::ceil(kRelaxationTimes / (eta * curvature));
  return interval >= 1e9 ? static_cast<long>(1e9) : std::max(1L, static_cast<long>(interval));
}

Verdict OverallVerdict(const std::vector<VerifyCheck>& checks, std::size_t energy_checks,
                       const AssumptionReport& assumptions, std::string* reason) {
  reason->clear();
  bool any_fail = false, any_inconclusive = false;
  for (const VerifyCheck& c : checks) {
    any_fail = any_fail || c.verdict == Verdict::kFail;
    any_inconclusive = any_inconclusive || c.verdict == Verdict::kInconclusive;
  }
  if (any_fail) return Verdict::kFail;
  if (checks.empty()) {
    *reason = "nothing to check";
    return Verdict::kInconclusive;
  }
  if (any_inconclusive) return Verdict::kInconclusive;
  // The energy and exit checks assume what the assumption checks test; the collapse checks are the
  // theory that applies where the noise vanishes.
  if (energy_checks > 0 && !assumptions.predictions_reliable()) {
    *reason = "assumptions the predictions need fail: " + assumptions.FailedSummary();
    return Verdict::kInconclusive;
  }
  return Verdict::kPass;
}

double StudentT95(int dof) {
  // Two-sided 97.5% quantiles; beyond 30 degrees of freedom the normal quantile is within 2%.
  static const double table[] = {0,     12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306,
                                 2.262, 2.228,  2.201, 2.179, 2.160, 2.145, 2.131, 2.120, 2.110,
                                 2.101, 2.093,  2.086, 2.080, 2.074, 2.069, 2.064, 2.060, 2.056,
                                 2.052, 2.048,  2.045, 2.042};
  if (dof < 1) return kNaN;
  if (dof <= 30) return table[dof];
  return 1.960 + 2.4 / dof;  // smooth approach to the normal quantile
}

std::vector<double> AutomaticStepSizes(const std::vector<CriticalComponent>& components,
                                       const Eigen::MatrixXd& costs, double stability_bound,
                                       const VerifyOptions& options) {
  // The highest exit barrier among the minima (every minimum must be left many times), and the
  // smallest curvature at a minimum (the slowest relaxation, for the Kramers prefactor).
  double barrier = 0.0, curvature = std::numeric_limits<double>::infinity();
  for (std::size_t i = 0; i < components.size(); ++i) {
    if (components[i].type != CriticalType::kMinimum) continue;
    double exit = std::numeric_limits<double>::infinity();
    for (int j = 0; j < costs.cols(); ++j) {
      if (j != static_cast<int>(i)) exit = std::min(exit, costs(i, j));
    }
    if (std::isfinite(exit)) barrier = std::max(barrier, exit);
    const double lambda = components[i].hessian_eigenvalues.minCoeff();
    if (lambda > 0) curvature = std::min(curvature, lambda);
  }
  const double cap = 0.5 * stability_bound;
  // Mean exit time in steps ~ (2 pi / (lambda eta)) exp(B / eta) (Kramers, with time = eta * steps):
  // solve (C / eta) exp(B / eta) = budget / wanted for eta, asking for ~20 * min_transitions exits.
  const double budget = static_cast<double>(options.chains) * (options.steps - options.burn_in);
  const double wanted = 20.0 * static_cast<double>(options.min_transitions);
  const double prefactor = std::isfinite(curvature) ? 2 * M_PI / curvature : 1.0;
  double low = cap / 1.5;
  if (barrier > 0.0 && budget > wanted) {
    double eta = barrier / std::log(budget / wanted);
    for (int it = 0; it < 50; ++it) {
      const double room = std::log(budget / wanted) - std::log(prefactor / eta);
      if (!(room > 0)) break;
      eta = barrier / room;
    }
    if (std::isfinite(eta) && eta > 0) low = eta;
  }
  double high = 1.5 * low;
  if (std::isfinite(cap) && high > cap) {
    high = cap;
    low = std::min(low, high / 1.5);
  }
  return {low, std::sqrt(low * high), high};
}

namespace {

// Wilson's 95% interval of a binomial proportion k / n.
void Wilson95(long k, long n, double* lower, double* upper) {
  const double z = 1.959963984540054, p = static_cast<double>(k) / n, z2n = z * z / n;
  const double centre = (p + z2n / 2) / (1 + z2n);
  const double half = z * std::sqrt(p * (1 - p) / n + z2n / (4 * n)) / (1 + z2n);
  *lower = std::max(0.0, centre - half);
  *upper = std::min(1.0, centre + half);
}

// THEORY.md section 8: at components where the noise vanishes the energies do not apply; the
// prediction is the sign of the top Lyapunov exponent (stability.h). Chains started spread within
// r0 (1/16 of the box width) of x* either collapse onto it (absorbing: the fraction within
// `tolerance` of x* after enough steps to contract r0 to it three times over tends to 1) or leave
// (repelling: the fraction tends to 0). The run is scale-free near x*, so a chain is counted
// diverged only 1e12 box widths away.
std::vector<VerifyCheck> CollapseChecks(const Problem& problem,
                                        const std::vector<CriticalComponent>& components,
                                        const std::vector<double>& step_sizes,
                                        const VerifyOptions& options) {
  std::vector<VerifyCheck> checks;
  if (!problem.noise.is_exact_finite_sum()) return checks;
  StabilityOptions so;
  so.lyapunov.seed = options.seed;
  so.lyapunov.threads = options.num_threads;
  const StabilityAnalyzer analyzer(so);
  const Eigen::VectorXd width = problem.domain.upper - problem.domain.lower;
  const double r0 = width.maxCoeff() / 16, tolerance = 1e-6 * width.maxCoeff();
  const int d = problem.dimension();
  for (double eta : step_sizes) {
    const StabilityReport report = analyzer.Analyze(problem, components, eta);
    if (!report.status.ok()) continue;
    for (const ComponentStability& c : report.components) {
      if (!c.vanishing_noise || c.stability == Stability::kUndetermined) continue;
      const double rate = std::abs(c.lyapunov.exponent);
      const double needed = std::log(r0 / tolerance);
      const long steps = std::isfinite(rate) && rate > 0
                             ? std::clamp(static_cast<long>(std::ceil(3 * needed / rate)), 100L, 1000000L)
                             : 100L;
      SimulationOptions sim;
      sim.step_size = eta;
      sim.steps = steps;
      sim.burn_in = steps - 1;
      sim.chains = std::max(options.chains, 2000);
      sim.seed = options.seed;
      sim.num_threads = options.num_threads;
      sim.divergence_factor = 1e12;
      sim.record_final_states = true;
      for (int k = 0; k < sim.chains; ++k) {
        sim.initial_points.push_back(c.point + r0 * (2.0 * KroneckerPoint(d, k).array() - 1.0).matrix());
      }
      Simulator::Summary summary;
      const SimulationResult r = Simulator(sim).Simulate(problem, components, &summary);
      if (!summary.status.ok()) continue;
      long collapsed = 0;
      for (const SimulationChain& chain : r.per_chain) {
        if (!chain.diverged && (chain.final_state - c.point).lpNorm<Eigen::Infinity>() <= tolerance) ++collapsed;
      }
      VerifyCheck check;
      const bool absorbing = c.stability == Stability::kAbsorbing;
      check.name = "collapse[" + std::to_string(c.id) + "] @ eta=" + FormatEta(eta);
      check.predicted = absorbing ? 1.0 : 0.0;
      check.measured = static_cast<double>(collapsed) / sim.chains;
      Wilson95(collapsed, sim.chains, &check.lower, &check.upper);
      // 90%: the linearization holds within r0 only approximately, and a few chains can wander
      // before the contraction takes over.
      const bool ok = absorbing ? check.measured >= 0.9 : check.measured <= 0.1;
      check.verdict = ok ? Verdict::kPass : Verdict::kFail;
      char buffer[256];
      std::snprintf(buffer, sizeof buffer,
                    "Lam = %.6g (%s): %ld of %d chains within %.2g of x* after %ld steps",
                    c.lyapunov.exponent, absorbing ? "absorbing" : "repelling", collapsed, sim.chains,
                    tolerance, steps);
      check.detail = buffer;
      checks.push_back(check);
    }
  }
  return checks;
}

}  // namespace

namespace {

// The relative size of the neighbourhoods of saddles and maxima against the default ball: small, so
// that "leaving U_i" means reaching the top of the barrier. A big ball around a barrier top would
// lower the barrier the exit times measure by the drop of f across the ball (0.23 instead of 0.36
// in f on the tilted double well).
constexpr double kBarrierBallScale = 0.1;

Status ValidateOptions(const VerifyOptions& o) {
  if (o.batches < 2 || o.chains < o.batches || o.min_transitions < 1 || !(o.model_tolerance >= 0)) {
    return Status(StatusCode::kInvalidOptions,
                  "Invalid configuration. Violated constraint: batches >= 2, chains >= batches, "
                  "min_transitions >= 1, model_tolerance >= 0");
  }
  return Status::Ok();
}

// One simulation per step size into report->simulations; a failed status stops them.
Status SimulateAll(const Problem& problem, const std::vector<CriticalComponent>& components,
                   const SgdNoise& noise, bool basins, const VerifyOptions& options, VerifyReport* report) {
  for (double eta : report->step_sizes) {
    SimulationOptions so;
    so.step_size = eta;
    // The default balls at minima (all but a sliver of their mass); smaller at barrier tops.
    so.radius = DefaultRadii(components, *problem.objective, noise, problem.domain, eta);
    for (std::size_t i = 0; i < components.size(); ++i) {
      if (components[i].type != CriticalType::kMinimum) so.radius[i] *= kBarrierBallScale;
    }
    so.basin_interval = basins ? BasinInterval(components, eta) : 0;
    so.steps = options.steps;
    so.burn_in = options.burn_in;
    so.chains = options.chains;
    so.seed = options.seed;
    so.num_threads = options.num_threads;
    so.progress = options.progress;
    Simulator::Summary summary;
    report->simulations.push_back(Simulator(so).Simulate(problem, components, &summary));
    if (!summary.status.ok()) return summary.status;
  }
  return Status::Ok();
}

// What the simulations say, per batch of chains, and whether they mixed.
struct Evidence {
  const VerifyReport& report;
  const VerifyOptions& options;
  std::vector<BatchData> batches;
  std::vector<double> inv_eta;
  int p = 0, K = 0, diverged = 0;

  Evidence(const VerifyReport& r, const VerifyOptions& o, int components)
      : report(r), options(o), batches(Batches(r.simulations, o.batches, components)), p(components),
        K(static_cast<int>(r.step_sizes.size())) {
    for (double eta : r.step_sizes) inv_eta.push_back(1.0 / eta);
    for (const SimulationResult& s : r.simulations) diverged += s.diverged;
  }
  // Transitions out of neighbourhood i at step size k.
  long ExitsOut(int k, int i) const {
    long n = 0;
    for (int j = 0; j < p; ++j) n += report.simulations[k].transitions[i][j];
    return n;
  }
  // Why checks using these neighbourhoods are inconclusive ("" if they mixed at every step size).
  std::string Unmixed(std::initializer_list<int> used) const {
    if (diverged > 0) return std::to_string(diverged) + " chains diverged: the chain is not SGD-like here";
    for (int k = 0; k < K; ++k) {
      for (int i : used) {
        if (ExitsOut(k, i) < options.min_transitions) {
          return "not mixed: " + std::to_string(ExitsOut(k, i)) + " transitions out of component " +
                 std::to_string(i) + " at eta = " + FormatEta(report.step_sizes[k]) + " (need " +
                 std::to_string(options.min_transitions) + ")";
        }
      }
    }
    return "";
  }
};

// (a) Arrhenius slopes of log(mu_i / mu_ground) against 1/eta: -(E_i - E_ground).
void ArrheniusChecks(const Evidence& ev, const std::vector<int>& minima, int ground,
                     const Eigen::VectorXd& energies, std::vector<VerifyCheck>* checks) {
  for (int i : minima) {
    if (i == ground) continue;
    std::vector<double> slopes;
    for (const BatchData& b : ev.batches) {
      std::vector<double> y;
      for (int k = 0; k < ev.K; ++k) {
        if (b.occupation[k][i] > 0 && b.occupation[k][ground] > 0) {
          y.push_back(std::log(b.occupation[k][i] / b.occupation[k][ground]));
        }
      }
      if (static_cast<int>(y.size()) == ev.K) slopes.push_back(Slope(ev.inv_eta, y));
    }
    std::string why = ev.Unmixed({i, ground});
    if (why.empty() && static_cast<int>(slopes.size()) < ev.options.batches) {
      why = "a neighbourhood was never visited in " + std::to_string(ev.options.batches - slopes.size()) + " batches";
    }
    checks->push_back(Judge("arrhenius[" + std::to_string(i) + "]", -(energies[i] - energies[ground]),
                            BatchInterval(slopes), ev.options.model_tolerance, why));
  }
}

// (b) Laplace-corrected masses of the basins among the minima (isotropic Gaussian noise).
void LaplaceChecks(const Evidence& ev, const std::vector<int>& minima, const Predictions& predictions,
                   std::vector<VerifyCheck>* checks) {
  if (predictions.steps.empty() || predictions.steps[0].laplace_mass.size() == 0) return;
  std::vector<int> laplace;
  for (int i : minima) {
    if (!std::isnan(predictions.steps[0].laplace_mass[i])) laplace.push_back(i);
  }
  for (int k = 0; k < ev.K; ++k) {
    for (int i : laplace) {
      std::vector<double> mass;
      for (const BatchData& b : ev.batches) {
        double total = 0.0;
        for (int j : laplace) total += b.basin[k][j];
        if (total > 0) mass.push_back(b.basin[k][i] / total);
      }
      std::string why;
      if (ev.diverged > 0) {
        why = std::to_string(ev.diverged) + " chains diverged";
      } else {
        for (int j : laplace) {
          if (ev.ExitsOut(k, j) < ev.options.min_transitions) {
            why = "not mixed at this step size: " + std::to_string(ev.ExitsOut(k, j)) +
                  " transitions out of component " + std::to_string(j);
            break;
          }
        }
      }
      checks->push_back(Judge("laplace[" + std::to_string(i) + "] @ eta=" + FormatEta(ev.report.step_sizes[k]),
                              predictions.steps[k].laplace_mass[i], BatchInterval(mass),
                              ev.options.model_tolerance, why));
    }
  }
}

// (c) Exit-time slopes: mean exit time ~ C exp(B_exit / eta) in time units eta * steps.
void ExitChecks(const Evidence& ev, const std::vector<int>& minima, const Eigen::MatrixXd& costs,
                std::vector<VerifyCheck>* checks) {
  for (int i : minima) {
    double exit_cost = std::numeric_limits<double>::infinity();
    for (int j = 0; j < ev.p; ++j) {
      if (j != i) exit_cost = std::min(exit_cost, costs(i, j));
    }
    if (!std::isfinite(exit_cost)) continue;
    std::vector<double> slopes;
    for (const BatchData& b : ev.batches) {
      std::vector<double> y;
      for (int k = 0; k < ev.K; ++k) {
        if (b.exit_count[k][i] > 0) {
          y.push_back(std::log(ev.report.step_sizes[k] * b.exit_sum[k][i] / b.exit_count[k][i]));
        }
      }
      if (static_cast<int>(y.size()) == ev.K) slopes.push_back(Slope(ev.inv_eta, y));
    }
    std::string why = ev.Unmixed({i});
    if (why.empty() && static_cast<int>(slopes.size()) < ev.options.batches) {
      why = "no completed exit in " + std::to_string(ev.options.batches - slopes.size()) + " batches";
    }
    checks->push_back(Judge("exit[" + std::to_string(i) + "]", exit_cost, BatchInterval(slopes),
                            ev.options.model_tolerance, why));
  }
}

}  // namespace

VerifyReport Verify(const Problem& problem, const std::vector<CriticalComponent>& components,
                    const Eigen::MatrixXd& costs, const Eigen::VectorXd& relative_energies,
                    const VerifyOptions& options) {
  VerifyReport report;
  const int p = static_cast<int>(components.size());
  if (report.status = ValidateOptions(options); !report.status.ok()) return report;
  const Predictions base = Predict(problem, components, relative_energies, {});
  report.automatic_step_sizes = options.step_sizes.empty();
  report.step_sizes = report.automatic_step_sizes
                          ? AutomaticStepSizes(components, costs, base.stability_bound, options)
                          : options.step_sizes;
  std::sort(report.step_sizes.begin(), report.step_sizes.end());
  if (report.step_sizes.size() < 2) {
    report.status = Status(StatusCode::kInvalidOptions,
                           "Invalid configuration. At least 2 step sizes are needed for the slopes.");
    return report;
  }
  const Predictions predictions = Predict(problem, components, relative_energies, report.step_sizes);
  const std::unique_ptr<SgdNoise> noise = MakeSgdNoise(problem, options.seed, &report.status);
  if (!noise) return report;

  // Basin masses serve only the Laplace checks; classifying costs a short descent on f per state
  // (O(n) per f evaluation for datasets), so it runs only when there is a Laplace mass to check.
  bool any_laplace = false;
  for (const auto& step : predictions.steps) {
    for (double m : step.laplace_mass) any_laplace = any_laplace || !std::isnan(m);
  }
  report.status = SimulateAll(problem, components, *noise, any_laplace, options, &report);
  if (!report.status.ok()) return report;
  const Evidence evidence(report, options, p);

  std::vector<int> minima;
  for (int i = 0; i < p; ++i) {
    if (components[i].type == CriticalType::kMinimum && std::isfinite(relative_energies[i])) minima.push_back(i);
  }
  // The reference minimum: the ground state among the minima (lowest energy).
  int ground = -1;
  for (int i : minima) {
    if (ground < 0 || relative_energies[i] < relative_energies[ground]) ground = i;
  }
  ArrheniusChecks(evidence, minima, ground, relative_energies, &report.checks);
  LaplaceChecks(evidence, minima, predictions, &report.checks);
  ExitChecks(evidence, minima, costs, &report.checks);

  const std::size_t energy_checks = report.checks.size();
  for (const VerifyCheck& c : CollapseChecks(problem, components, report.step_sizes, options)) {
    report.checks.push_back(c);
  }
  report.assumptions = CheckAssumptions(problem, components);
  for (const SimulationResult& sim : report.simulations) {
    report.assumptions.checks.push_back(DivergenceCheck(sim.step_size, sim.diverged, sim.chains));
  }
  report.verdict = OverallVerdict(report.checks, energy_checks, report.assumptions, &report.verdict_reason);
  return report;
}

}  // namespace ldsgd
