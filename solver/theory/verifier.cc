#include "solver/theory/verifier.h"

#include "solver/numerics/cluster.h"
#include "solver/numerics/parallel.h"
#include "solver/theory/rare_event_checks.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <sstream>
#include <chrono>

#include <boost/math/distributions/students_t.hpp>
#include <memory>
#include <thread>

#include "solver/numerics/low_discrepancy.h"
#include "solver/simulation/neighbourhoods.h"
#include "solver/noise/sgd_noise.h"
#include "solver/theory/collapse_check.h"
#include "solver/theory/stability.h"
#include "solver/theory/verify_plan.h"

namespace ldsgd {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// Seconds on the steady clock.
// The root's clock: every rank of an MPI job takes the same budget decisions (cluster.h).
double Now() { return Cluster::Get().Seconds(); }


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
        // Time at risk and exits (ExitTimes::rate_mean): unbiased by the censoring of long sojourns.
        b.exit_sum[k][i] += chain.exit_times[i].at_risk;
        b.exit_count[k][i] += static_cast<double>(chain.exit_times[i].events);
        if (!chain.basin_counts.empty()) b.basin[k][i] += static_cast<double>(chain.basin_counts[i]);
      }
    }
  }
  return out;
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

// Records a check's measurement (95% interval) and whether it can be judged: inconclusive when
// unmixed (the reason) or without an estimate; otherwise pass for now, until Decide() compares.
void Judge(const Interval& measured, const std::string& unmixed, VerifyCheck* c) {
  c->measured = measured.mean;
  c->lower = measured.mean - measured.half;
  c->upper = measured.mean + measured.half;
  if (c->verdict == Verdict::kSkipped) return;
  if (!unmixed.empty()) {
    c->verdict = Verdict::kInconclusive;
    c->detail = unmixed;
    return;
  }
  if (!std::isfinite(measured.mean) || !std::isfinite(measured.half)) {
    c->verdict = Verdict::kInconclusive;
    c->detail = "no estimate (too few batches with data)";
    return;
  }
  c->verdict = Verdict::kPass;
}

// Pass iff |measured - predicted| <= the regime's allowance + the half-width widened from 95% to
// a family-wise level: with m checks judged at once, each at 1 - kFamilyRisk / m (Bonferroni), a
// run whose predictions are all right fails a check with probability <= kFamilyRisk.

void Decide(int batches, std::vector<VerifyCheck>* checks) {
  int m = 0;
  const auto judged = [](const VerifyCheck& c) { return c.verdict == Verdict::kPass && std::isfinite(c.predicted); };
  for (const VerifyCheck& c : *checks) m += judged(c);
  if (m == 0) return;
  const boost::math::students_t t(batches - 1);
  const double widen = boost::math::quantile(t, 1 - kFamilyRisk / (2.0 * m)) / boost::math::quantile(t, 0.975);
  for (VerifyCheck& c : *checks) {
    if (!judged(c)) continue;
    const double half = (c.upper - c.lower) / 2 * widen;
    const double allowed = half + c.allowance, miss = std::abs(c.measured - c.predicted);
    c.verdict = miss <= allowed ? Verdict::kPass : Verdict::kFail;
    char buffer[240];
    std::snprintf(buffer, sizeof buffer,
                  "|measured - predicted| = %.4g %s %.4g (half-width %.3g at family-wise %g%% over %d checks + allowance %.3g)",
                  miss, miss <= allowed ? "<=" : ">", allowed, half, 100 * (1 - kFamilyRisk), m, c.allowance);
    c.detail = buffer;
  }
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
  bool any_fail = false, any_pass = false;
  const VerifyCheck* undecided = nullptr;
  for (const VerifyCheck& c : checks) {
    any_fail = any_fail || c.verdict == Verdict::kFail;
    any_pass = any_pass || c.verdict == Verdict::kPass;
    if (c.verdict == Verdict::kInconclusive && undecided == nullptr) undecided = &c;
  }
  if (any_fail) return Verdict::kFail;
  if (checks.empty()) {
    *reason = "nothing to check";
    return Verdict::kInconclusive;
  }
  if (undecided != nullptr) {
    *reason = undecided->name + ": " + undecided->detail;
    return Verdict::kInconclusive;
  }
  if (!any_pass) {
    *reason = "no check is in its regime at these step sizes";
    return Verdict::kInconclusive;
  }
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

Status VerifyOptions::Validate() const {
  const bool ok = batches >= 2 && chains >= batches && target_transitions >= 1 && budget_seconds > 0 &&
                  std::isfinite(budget_seconds) && steps >= 0 && (steps == 0 || burn_in < steps) && num_threads >= 0;
  if (ok) return Status::Ok();
  return Status(StatusCode::kInvalidOptions,
                "Invalid configuration. Violated constraint: batches >= 2, chains >= batches, "
                "target_transitions >= 1, budget_seconds > 0, steps >= 0, burn_in < steps, num_threads >= 0");
}

namespace {

// The relative size of the neighbourhoods of saddles and maxima against the default ball: small, so
// that "leaving U_i" means reaching the top of the barrier. A big ball around a barrier top would
// lower the barrier the exit times measure by the drop of f across the ball (0.23 instead of 0.36
// in f on the tilted double well).
constexpr double kBarrierBallScale = 0.1;
// A single-threaded pilot of this many steps measures the simulator's rate on the problem.
constexpr long kPilotSteps = 2000;
constexpr int kPilotChains = 64;
// The plan asks for half of the budget: the prefactors of the predicted exit times are estimates
// and the last round may overshoot.
constexpr double kPlannedFraction = 0.5;
// A round extends the chains by at least this factor (fewer, larger rounds), at most kMaxGrowth
// (the transition rate seen so far is re-measured before committing much more).
constexpr double kMinGrowth = 1.5, kMaxGrowth = 8.0;
constexpr double kHopeless = 4.0;
// The first round: this many recorded steps per chain, or kFirstRoundShare of what the pilot says
// the budget affords per chain, whichever is less (the pilot does not see the basin
// classifications, and the rate of the first round corrects it).
constexpr long kFirstRecorded = 10000;
constexpr double kFirstRoundShare = 0.1;

// Everything about a verification that is fixed before the first round.
struct Setup {
  const Problem& problem;
  const std::vector<CriticalComponent>& components;
  const Eigen::MatrixXd& costs;
  const Eigen::VectorXd& energies;
  const VerifyOptions& options;
  std::vector<int> minima;
  int ground = -1;
  Predictions predictions;
  std::vector<long> burn_in;  // per step size
  bool basins = false;        // classify states into basins (Laplace and reference checks)
  std::vector<GridReference> references;
  StepSizePlan plan;
  double affordable = 0.0;  // steps per chain and step size the whole budget affords (pilot rate)
  double lambda_max = 0.0;  // largest Hessian eigenvalue over the minima: 2 / stability bound
  // The costs the experiment is designed on (the analysis' own; `costs` may be scaled for a power
  // test): regimes are decided on them so that scaling changes the comparison only.
  const Eigen::MatrixXd* design = nullptr;
};

SimulationOptions RunOptions(const Setup& s, const SgdNoise& noise, std::size_t k) {
  const double eta = s.predictions.steps[k].step_size;
  SimulationOptions so;
  so.step_size = eta;
  // The default balls at minima (all but a sliver of their mass); smaller at barrier tops.
  so.radius = DefaultRadii(s.components, *s.problem.objective, noise, s.problem.domain, eta);
  for (std::size_t i = 0; i < s.components.size(); ++i) {
    if (s.components[i].type != CriticalType::kMinimum) so.radius[i] *= kBarrierBallScale;
  }
  so.basin_interval = s.basins ? BasinInterval(s.components, eta) : 0;
  so.burn_in = s.burn_in[k];
  so.steps = so.burn_in + 1;
  so.chains = s.options.chains;
  so.seed = s.options.seed;
  so.num_threads = s.options.num_threads;
  so.progress = s.options.progress;
  return so;
}

// Steps per second of the simulator on this problem, one thread (so that the plan does not
// depend on the thread count), rounded down to a power of two (so that timing noise rarely
// changes the plan).
double PilotRate(const Problem& problem, const std::vector<CriticalComponent>& components, double eta) {
  SimulationOptions so;
  so.step_size = eta;
  so.steps = kPilotSteps;
  so.burn_in = 0;
  so.chains = kPilotChains;
  so.num_threads = 1;
  Simulator::Summary summary;
  Simulator(so).Simulate(problem, components, &summary);
  if (!summary.status.ok() || !(summary.steps_per_second > 0)) return 1e6;
  return std::exp2(std::floor(std::log2(summary.steps_per_second)));
}

}  // namespace

namespace {

// The chain of an f that grows faster than quadratically escapes now and then at any step size;
// the diverged chains are dropped, and the others still measure the quasi-stationary law when
// escapes are much rarer than the transitions they measure: at most a quarter of the chains, and
// at most a tenth as many as the transitions at that step size.
bool RareDivergence(const SimulationResult& sim) {
  long transitions = 0;
  for (const std::vector<long>& row : sim.transitions) {
    for (long n : row) transitions += n;
  }
  return 4L * sim.diverged <= sim.chains && 10L * sim.diverged <= transitions;
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
  double Steps(int k) const { return static_cast<double>(report.simulations[k].steps) * report.simulations[k].chains; }
  // Fewest transitions out of the `used` neighbourhoods over the step sizes `ks`, and the steps
  // simulated there; why checks using them are inconclusive ("" if they mixed).
  std::string Unmixed(const std::vector<int>& used, const std::vector<int>& ks, VerifyCheck* c) const {
    c->transitions = -1;
    c->steps = 0.0;
    std::string why;
    for (int k : ks) {
      c->steps += Steps(k);
      for (int i : used) {
        const long n = ExitsOut(k, i);
        if (c->transitions < 0 || n < c->transitions) c->transitions = n;
        if (n < options.target_transitions && why.empty()) {
          why = "not mixed: " + std::to_string(n) + " transitions out of component " + std::to_string(i) +
                " at eta = " + FormatEta(report.step_sizes[k]) + " (need " + std::to_string(options.target_transitions) + ")";
        }
      }
    }
    for (int k : ks) {
      const SimulationResult& sim = report.simulations[k];
      if (!RareDivergence(sim)) {
        return std::to_string(sim.diverged) + " of " + std::to_string(sim.chains) + " chains diverged at eta = " +
               FormatEta(sim.step_size) + ": the chain is not SGD-like there";
      }
    }
    return why;
  }
  std::vector<int> AllSteps() const {
    std::vector<int> ks(K);
    for (int k = 0; k < K; ++k) ks[k] = k;
    return ks;
  }
};

// The regimes: kMetastable, kPrefactorPower and kDiscreteRegime (verifier.h).
// The Laplace masses are second order: relative error ~ c/(B/eta), c measured on the grid
// reference at 0.18-0.25 (tilted double well, B/eta = 2.1-3.2); kLaplaceRelative doubles it.
constexpr double kLaplaceRegime = 3.0;
constexpr double kLaplaceRelative = 0.5;

// The smallest exit cost among `used` minima, and B/eta at the hottest step size.
double LowestBarrier(const Setup& s, const std::vector<int>& used) {
  double b = std::numeric_limits<double>::infinity();
  for (int i : used) b = std::min(b, ExitCost(*s.design, i));
  return b;
}

// Half the dimension gap between degenerate components (a in the allowance): a manifold of
// minima of dimension m holds a mass ~ eta^((d - m)/2).
double DegeneracyPower(const Setup& s, const std::vector<int>& used) {
  double lo = 1e9, hi = -1e9;
  for (int i : used) {
    int flat = 0;
    const Eigen::VectorXd& e = s.components[i].hessian_eigenvalues;
    for (int k = 0; k < e.size(); ++k) flat += std::abs(e[k]) <= 1e-6 * (1 + e.cwiseAbs().maxCoeff());
    lo = std::min(lo, static_cast<double>(flat));
    hi = std::max(hi, static_cast<double>(flat));
  }
  return used.empty() ? 0.0 : (hi - lo) / 2;
}

// Sets c's regime, allowance and (outside the regime) verdict "skipped" for a leading-order slope.
void LeadingOrderRegime(const Setup& s, const std::vector<int>& used, VerifyCheck* c) {
  const double eta_max = s.predictions.steps.back().step_size, eta_min = s.predictions.steps.front().step_size;
  const double b = LowestBarrier(s, used), a = DegeneracyPower(s, used);
  char buffer[200];
  if (eta_max * s.lambda_max > kDiscreteRegime) {
    c->verdict = Verdict::kSkipped;
    std::snprintf(buffer, sizeof buffer, "leading order needs eta lambda_max <= %g; here %.3g at eta = %.4g", kDiscreteRegime,
                  eta_max * s.lambda_max, eta_max);
    c->regime = buffer;
    c->detail = "outside its regime: " + c->regime + " (the discrete chain is far from its small-eta limit)";
    return;
  }
  if (!(b / eta_max >= kMetastable)) {
    c->verdict = Verdict::kSkipped;
    std::snprintf(buffer, sizeof buffer, "leading order needs B/eta >= %g; here B/eta = %.3g at eta = %.4g", kMetastable,
                  b / eta_max, eta_max);
    c->regime = buffer;
    c->detail = "outside its regime: " + c->regime + " (use smaller step sizes, which need more time)";
    return;
  }
  c->allowance = eta_max * (a + kPrefactorPower);
  std::snprintf(buffer, sizeof buffer, "leading order, B/eta = %.3g to %.3g: allowance %.3g", b / eta_max, b / eta_min,
                c->allowance);
  c->regime = buffer;
}

// (a) Arrhenius slopes of log(mu_i / mu_ground) against 1/eta: -(E_i - E_ground).
void ArrheniusChecks(const Setup& s, const Evidence& ev, std::vector<VerifyCheck>* checks) {
  for (int i : s.minima) {
    if (i == s.ground) continue;
    VerifyCheck c;
    c.name = "arrhenius[" + std::to_string(i) + "]";
    c.predicted = -(s.energies[i] - s.energies[s.ground]);
    LeadingOrderRegime(s, {i, s.ground}, &c);
    std::vector<double> slopes;
    for (const BatchData& b : ev.batches) {
      std::vector<double> y;
      for (int k = 0; k < ev.K; ++k) {
        if (b.occupation[k][i] > 0 && b.occupation[k][s.ground] > 0) {
          y.push_back(std::log(b.occupation[k][i] / b.occupation[k][s.ground]));
        }
      }
      if (static_cast<int>(y.size()) == ev.K) slopes.push_back(Slope(ev.inv_eta, y));
    }
    std::string why = ev.Unmixed({i, s.ground}, ev.AllSteps(), &c);
    if (why.empty() && static_cast<int>(slopes.size()) < ev.options.batches) {
      why = "a neighbourhood was never visited in " + std::to_string(ev.options.batches - slopes.size()) + " batches";
    }
    Judge(BatchInterval(slopes), why, &c);
    checks->push_back(c);
  }
}

// (c') B_i = +inf (bounded noise that cannot climb, THEORY.md section 4): the chains never reach
// another component's neighbourhood from U_i; one transition out is a fail.
VerifyCheck NeverLeftCheck(const Evidence& ev, int i) {
  VerifyCheck c;
  c.name = "exit[" + std::to_string(i) + "]";
  c.predicted = std::numeric_limits<double>::infinity();
  c.regime = "B = +inf: the noise cannot climb out; the prediction is that no chain ever leaves";
  const std::string why = ev.Unmixed({i}, ev.AllSteps(), &c);
  long out = 0;
  for (int k = 0; k < ev.K; ++k) out += ev.ExitsOut(k, i);
  c.measured = c.lower = c.upper = static_cast<double>(out);
  c.transitions = out;
  if (why.find("diverged") != std::string::npos) {
    c.verdict = Verdict::kInconclusive;
    c.detail = why;
  } else {
    c.verdict = out == 0 ? Verdict::kPass : Verdict::kFail;
    c.detail = std::to_string(out) + " transitions out of component " + std::to_string(i) + " in " +
               FormatEta(c.steps) + " steps (predicted: none)";
  }
  return c;
}

// (c) Exit-time slopes: mean exit time ~ C exp(B_exit / eta) in time units eta * steps.
void ExitChecks(const Setup& s, const Evidence& ev, std::vector<VerifyCheck>* checks) {
  for (int i = 0; i < ev.p; ++i) {
    if (s.components[i].type != CriticalType::kMinimum) continue;  // every minimum, whatever its energy
    const double exit_cost = ExitCost(s.costs, i);
    if (!std::isfinite(exit_cost)) {
      checks->push_back(NeverLeftCheck(ev, i));
      continue;
    }
    VerifyCheck c;
    c.name = "exit[" + std::to_string(i) + "]";
    c.predicted = exit_cost;
    LeadingOrderRegime(s, {i}, &c);
    std::vector<double> slopes;
    for (const BatchData& b : ev.batches) {
      std::vector<double> y;
      for (int k = 0; k < ev.K; ++k) {
        if (b.exit_count[k][i] > 0) y.push_back(std::log(ev.report.step_sizes[k] * b.exit_sum[k][i] / b.exit_count[k][i]));
      }
      if (static_cast<int>(y.size()) == ev.K) slopes.push_back(Slope(ev.inv_eta, y));
    }
    std::string why = ev.Unmixed({i}, ev.AllSteps(), &c);
    if (why.empty() && static_cast<int>(slopes.size()) < ev.options.batches) {
      why = "no completed exit in " + std::to_string(ev.options.batches - slopes.size()) + " batches";
    }
    Judge(BatchInterval(slopes), why, &c);
    checks->push_back(c);
  }
}

// Batch estimates of the basin mass of i among `among` at step size k.
std::vector<double> BasinMasses(const Evidence& ev, int k, int i, const std::vector<int>& among) {
  std::vector<double> mass;
  for (const BatchData& b : ev.batches) {
    double total = 0.0;
    for (int j : among) total += b.basin[k][j];
    if (total > 0) mass.push_back(b.basin[k][i] / total);
  }
  return mass;
}

// (b) Laplace-corrected masses of the basins among the minima (isotropic Gaussian noise): a
// second-order prediction, relative error ~ 1/(B/eta); applied where B/eta >= kLaplaceRegime.
void LaplaceChecks(const Setup& s, const Evidence& ev, std::vector<VerifyCheck>* checks) {
  std::vector<int> laplace;
  for (int i : s.minima) {
    if (s.predictions.steps[0].laplace_mass.size() > 0 && !std::isnan(s.predictions.steps[0].laplace_mass[i])) laplace.push_back(i);
  }
  if (laplace.size() < 2) return;  // one basin holds all the mass: nothing to predict
  const double b = LowestBarrier(s, laplace);
  for (int k = 0; k < ev.K; ++k) {
    const double eta = ev.report.step_sizes[k], ratio = b / eta;
    for (int i : laplace) {
      VerifyCheck c;
      c.name = "laplace[" + std::to_string(i) + "] @ eta=" + FormatEta(eta);
      c.predicted = s.predictions.steps[k].laplace_mass[i];
      char buffer[200];
      if (!(ratio >= kLaplaceRegime)) {
        c.verdict = Verdict::kSkipped;
        std::snprintf(buffer, sizeof buffer, "Laplace expansion needs B/eta >= %g; here B/eta = %.3g", kLaplaceRegime, ratio);
        c.regime = buffer;
        c.detail = "outside its regime: " + c.regime;
      } else {
        c.allowance = kLaplaceRelative / ratio * std::min(c.predicted, 1 - c.predicted);
        std::snprintf(buffer, sizeof buffer, "second order, B/eta = %.3g: allowance %.3g", ratio, c.allowance);
        c.regime = buffer;
      }
      Judge(BatchInterval(BasinMasses(ev, k, i, laplace)), ev.Unmixed(laplace, {k}, &c), &c);
      checks->push_back(c);
    }
  }
}

// (d) The simulation against the exact stationary law on a grid (d <= 2): basin masses among all
// minima; the allowance is the grid's own convergence error.
void ReferenceChecks(const Setup& s, const Evidence& ev, std::vector<VerifyCheck>* checks) {
  for (std::size_t k = 0; k < s.references.size() && static_cast<int>(k) < ev.K; ++k) {
    const GridReference& g = s.references[k];
    if (!g.status.ok() || s.minima.size() < 2) continue;
    for (int i : s.minima) {
      VerifyCheck c;
      c.name = "reference[" + std::to_string(i) + "] @ eta=" + FormatEta(ev.report.step_sizes[k]);
      c.predicted = g.basin_mass[i];
      // The last refinement's change bounds the grid's error (a third of it for a second-order
      // scheme halving h); the check applies whenever there was a refinement, converged to the
      // tolerance or not, with that change as its allowance.
      c.allowance = g.change;
      char buffer[200];
      std::snprintf(buffer, sizeof buffer, "exact at this eta: grid %d^%d, last refinement changed the masses by %.2g%s",
                    g.cells_per_dimension, s.problem.dimension(), g.change,
                    g.converged ? "" : " (above the grid's tolerance)");
      c.regime = buffer;
      if (!std::isfinite(g.change)) {
        c.verdict = Verdict::kSkipped;
        c.regime = "the grid reference has a single level: no error estimate";
        c.detail = c.regime;
      }
      Judge(BatchInterval(BasinMasses(ev, static_cast<int>(k), i, s.minima)), ev.Unmixed(s.minima, {static_cast<int>(k)}, &c), &c);
      checks->push_back(c);
    }
  }
}

std::vector<VerifyCheck> Evaluate(const Setup& s, const VerifyReport& report) {
  const Evidence ev(report, s.options, static_cast<int>(s.components.size()));
  std::vector<VerifyCheck> checks;
  ArrheniusChecks(s, ev, &checks);
  LaplaceChecks(s, ev, &checks);
  ExitChecks(s, ev, &checks);
  ReferenceChecks(s, ev, &checks);
  Decide(s.options.batches, &checks);
  return checks;
}

}  // namespace

namespace {

// Steps per chain after which every undecided check should have its transitions: each one's
// recorded steps scaled by target / seen (with 20% to spare); 0 when nothing more would help.
// The steps per chain for the next round: what the undecided checks need (each one's recorded
// steps scaled by target / seen, with 20% to spare; with none seen, the plan's prediction
// `predicted` if longer), leaving out the checks that need more than kHopeless times what the
// budget still affords (`affordable`): 0 when no check would be decided by more steps.
long NextLength(const std::vector<VerifyCheck>& checks, long length, long burn_in, const VerifyOptions& o,
                double predicted, double affordable) {
  double wanted = 0.0;
  for (const VerifyCheck& c : checks) {
    if (c.verdict != Verdict::kInconclusive || c.transitions < 0 || c.detail.find("diverged") != std::string::npos) continue;
    const double factor = c.transitions < o.target_transitions
                              ? 1.2 * static_cast<double>(o.target_transitions) / std::max(1L, c.transitions)
                              : 2.0;  // enough transitions, but a batch saw none: more of everything
    double needed = burn_in + (length - burn_in) * factor;
    if (c.transitions == 0) needed = std::max(needed, burn_in + predicted);
    if (needed <= kHopeless * affordable) wanted = std::max(wanted, needed);
  }
  if (wanted <= 0.0) return 0;
  wanted = std::clamp(wanted, kMinGrowth * length, kMaxGrowth * length);
  return wanted >= 1e12 ? static_cast<long>(1e12) : static_cast<long>(std::ceil(wanted));
}

// Every inconclusive check for want of transitions learns what it would need, in steps per chain
// and in wall time at the measured rate, in words a user can act on.
// "12 min", "3.5 h", or "years" beyond a thousand hours.
std::string FormatDuration(double seconds) {
  char buffer[48];
  if (seconds < 120) {
    std::snprintf(buffer, sizeof buffer, "%.0f s", std::ceil(seconds));
  } else if (seconds < 7200) {
    std::snprintf(buffer, sizeof buffer, "%.0f min", std::ceil(seconds / 60));
  } else if (seconds < 3.6e6) {
    std::snprintf(buffer, sizeof buffer, "%.3g h", seconds / 3600);
  } else {
    return "more than a thousand hours";
  }
  return buffer;
}

// With no transition seen the plan's prediction (the exit costs and the prefactor estimate) is
// all there is; with some, they are extrapolated.
void StateNeeds(double predicted, long length, long burn_in, double rate, const VerifyOptions& o, int step_sizes,
                std::vector<VerifyCheck>* checks) {
  for (VerifyCheck& c : *checks) {
    if (c.verdict != Verdict::kInconclusive || c.transitions < 0 || c.detail.rfind("not mixed", 0) != 0) continue;
    const double factor = 1.2 * static_cast<double>(o.target_transitions) / std::max(1L, c.transitions);
    c.needed_steps_per_chain = burn_in + (length - burn_in) * factor;
    if (c.transitions == 0) c.needed_steps_per_chain = std::max(c.needed_steps_per_chain, burn_in + predicted);
    c.needed_seconds = c.needed_steps_per_chain * o.chains * step_sizes / rate;
    char buffer[200];
    if (std::isfinite(c.needed_steps_per_chain)) {
      std::snprintf(buffer, sizeof buffer, "; needs about %.3g steps per chain, %s at this noise: raise --budget, or see the rare-event checks",
                    c.needed_steps_per_chain, FormatDuration(c.needed_seconds).c_str());
    } else {
      std::snprintf(buffer, sizeof buffer, "; the predicted exit times exceed any budget at these step sizes: see the rare-event checks");
    }
    c.detail += buffer;
  }
}

// The grid references (d <= 2), within kReferenceShare of the budget.
constexpr double kReferenceShare = 0.2;
constexpr long kMaxMinibatches2d = 20;
std::vector<GridReference> References(const Setup& s, const std::vector<double>& step_sizes) {
  std::vector<GridReference> refs;
  if (!s.options.grid_reference || s.problem.dimension() > 2 || s.minima.size() < 2) return refs;
  GridReferenceOptions go;
  go.num_threads = s.options.num_threads;
  // A fifth of the budget: the reference checks the simulation, which needs the rest.
  go.max_seconds = kReferenceShare * s.options.budget_seconds / step_sizes.size();
  // A 2-D kernel spreads every minibatch of every source point: with many samples (a dataset) the
  // first grid alone outruns the share (robust_regression: 21 s for 200 samples).
  if (s.problem.dimension() == 2) go.max_minibatches = kMaxMinibatches2d;
  for (double eta : step_sizes) refs.push_back(ComputeGridReference(s.problem, s.components, eta, go));
  return refs;
}

// Simulates in rounds until the checks are decided, the budget is spent, or (fixed steps) once.
Status SimulateInRounds(const Setup& s, const SgdNoise& noise, VerifyReport* report, double started) {
  const VerifyOptions& o = s.options;
  std::vector<std::unique_ptr<SimulationRun>> runs;
  long burn_in = 0;
  for (std::size_t k = 0; k < report->step_sizes.size(); ++k) {
    runs.push_back(std::make_unique<SimulationRun>(s.problem, s.components, RunOptions(s, noise, k)));
    if (!runs.back()->status().ok()) return runs.back()->status();
    burn_in = std::max(burn_in, s.burn_in[k]);
  }
  long length = o.steps > 0 ? o.steps : burn_in + std::min(kFirstRecorded, static_cast<long>(kFirstRoundShare * s.affordable) + 1);
  double simulated = 0.0, seconds = 0.0;
  for (;;) {
    const double t0 = Now();
    report->simulations.clear();
    for (std::size_t k = 0; k < runs.size(); ++k) {
      char label[96];
      std::snprintf(label, sizeof label, "round %d, eta %s: ", report->rounds + 1, FormatEta(report->step_sizes[k]).c_str());
      if (Status st = runs[k]->Advance(length, label); !st.ok()) return st;
      report->simulations.push_back(runs[k]->Result());
    }
    simulated += static_cast<double>(length) * o.chains * runs.size() - simulated;
    seconds += Now() - t0;
    report->simulation_seconds = seconds;
    ++report->rounds;
    report->steps_per_second = seconds > 0 ? simulated / seconds : 0.0;
    report->checks = Evaluate(s, *report);
    if (o.steps > 0) return report->ended_by = "steps", Status::Ok();
    const double predicted = *std::max_element(s.plan.steps_per_chain.begin(), s.plan.steps_per_chain.end());
    const double left = o.budget_seconds - (Now() - started);
    const double affordable = length + left * report->steps_per_second / (o.chains * runs.size());
    const long next = NextLength(report->checks, length, burn_in, o, predicted, affordable);
    const bool undecided = std::any_of(report->checks.begin(), report->checks.end(), [](const VerifyCheck& c) {
      return c.verdict == Verdict::kInconclusive && c.transitions >= 0 && c.detail.find("diverged") == std::string::npos;
    });
    if (!undecided) return report->ended_by = "decided", Status::Ok();
    // Stop when the rest of the budget cannot pay for a round, or when no undecided check would be
    // decided by it (each needs more than kHopeless times what it can pay for).
    if (next == 0 || affordable < kMinGrowth * length * 0.999) {
      report->ended_by = "budget";
      StateNeeds(predicted, length, burn_in, report->steps_per_second, o, static_cast<int>(runs.size()), &report->checks);
      return Status::Ok();
    }
    length = std::min(next, static_cast<long>(affordable));
  }
}

// The minimum the Arrhenius slopes are taken against: a ground state among the minima, and among
// tied ones (degenerate minima, Himmelblau's four) the most metastable (largest exit cost), whose
// occupation is the best measured.
int ReferenceMinimum(const std::vector<int>& minima, const Eigen::VectorXd& energies, const Eigen::MatrixXd& costs) {
  double lowest = std::numeric_limits<double>::infinity();
  for (int i : minima) lowest = std::min(lowest, energies[i]);
  const double tie = 1e-7 * (std::abs(lowest) + energies.cwiseAbs().redux([](double a, double b) {
    return std::isfinite(b) ? std::max(a, b) : a;
  }));
  int ground = -1;
  for (int i : minima) {
    if (energies[i] > lowest + tie) continue;
    if (ground < 0 || ExitCost(costs, i) > ExitCost(costs, ground)) ground = i;
  }
  return ground;
}

std::vector<TheoryError> TheoryErrors(const Setup& s, const std::vector<double>& step_sizes) {
  std::vector<TheoryError> out;
  for (std::size_t k = 0; k < s.references.size(); ++k) {
    const GridReference& g = s.references[k];
    if (!g.status.ok() || !g.converged) continue;
    TheoryError e;
    e.step_size = step_sizes[k];
    e.minima = s.minima;
    const StepSizePrediction& p = s.predictions.steps[k];
    double total = 0.0, laplace_total = 0.0;
    bool laplace = p.laplace_mass.size() > 0;  // for every minimum, or the normalizations differ
    for (int i : s.minima) {
      total += std::exp(p.log_weight[i]);
      laplace = laplace && !std::isnan(p.laplace_mass[i]);
      if (laplace) laplace_total += p.laplace_mass[i];
    }
    for (int i : s.minima) {
      e.exact.push_back(g.basin_mass[i]);
      e.leading_order.push_back(std::exp(p.log_weight[i]) / total);
      e.leading_order_error = std::max(e.leading_order_error, std::abs(e.leading_order.back() - e.exact.back()));
      if (!laplace) continue;
      e.laplace.push_back(p.laplace_mass[i] / laplace_total);
      e.laplace_error = std::max(e.laplace_error, std::abs(e.laplace.back() - e.exact.back()));
    }
    if (!laplace) e.laplace_error = std::numeric_limits<double>::quiet_NaN();
    out.push_back(e);
  }
  return out;
}

// Direct checks that could not mix, by far (kUnreachable times the budget), give way to the
// rare-event checks when those decided every exit, edge and energy: exit[i] to exit~[i],
// arrhenius[i] to energy~[i], and the occupation checks (Laplace, grid reference) to both, since
// no affordable run measures occupations there. They are skipped with the reason, never passed.
constexpr double kUnreachable = 100.0;

void Supersede(double budget, std::vector<VerifyCheck>* checks) {
  bool rare = false, rare_decided = true;
  for (const VerifyCheck& c : *checks) {
    if (c.method != "rare-event") continue;
    rare = true;
    rare_decided = rare_decided && (c.verdict == Verdict::kPass || c.verdict == Verdict::kFail);
  }
  if (!rare || !rare_decided) return;
  for (VerifyCheck& c : *checks) {
    const bool unreachable = c.needed_seconds > kUnreachable * budget || c.needed_steps_per_chain > 1e15;
    if (c.method != "direct" || c.verdict != Verdict::kInconclusive || c.transitions != 0 || !unreachable) continue;
    c.verdict = Verdict::kSkipped;
    c.detail = "direct simulation cannot mix here (" + c.detail + "); decided by the rare-event checks instead";
  }
}

// The exits the direct rounds left undecided, measured by splitting; a direct check a rare-event
// one decides is then skipped (it was measured where it could be).
void AddRareEventChecks(const Setup& s, const TransitionCosts& paths, double seconds, VerifyReport* report) {
  std::vector<int> minima;
  for (int i : s.minima) {
    for (const VerifyCheck& c : report->checks) {
      if (c.name == "exit[" + std::to_string(i) + "]" && c.verdict != Verdict::kPass && c.verdict != Verdict::kFail) minima.push_back(i);
    }
  }
  if (minima.empty()) return;
  RareEventCheckOptions ro;
  ro.budget_seconds = std::max(0.0, seconds);
  ro.seed = s.options.seed;
  ro.num_threads = s.options.num_threads;
  ro.progress = s.options.progress;
  const double t0 = Now();
  std::vector<VerifyCheck> rare = RareEventChecks(s.problem, s.components, paths, s.costs, s.energies, minima, ro);
  report->rare_event_seconds = Now() - t0;
  for (VerifyCheck& c : rare) report->checks.push_back(std::move(c));
  Decide(s.options.batches, &report->checks);
  Supersede(s.options.budget_seconds, &report->checks);
}

}  // namespace

VerifyReport Verify(const Problem& problem, const std::vector<CriticalComponent>& components,
                    const Eigen::MatrixXd& costs, const Eigen::VectorXd& relative_energies,
                    const VerifyOptions& options, const TransitionCosts* paths) {
  const double started = Now();
  VerifyReport report;
  if (report.status = options.Validate(); !report.status.ok()) return report;
  VerifyOptions direct = options;  // its budget shrinks when rare-event checks will need a share
  Setup s{problem, components, costs, relative_energies, direct};
  const int p = static_cast<int>(components.size());
  for (int i = 0; i < p; ++i) {
    if (components[i].type == CriticalType::kMinimum && std::isfinite(relative_energies[i])) s.minima.push_back(i);
  }
  s.ground = ReferenceMinimum(s.minima, relative_energies, costs);
  const double bound = Predict(problem, components, relative_energies, {}).stability_bound;
  s.lambda_max = std::isfinite(bound) && bound > 0 ? 2.0 / bound : 0.0;
  // The experiment (step sizes, round lengths, the rare-event share) is designed on the analysis'
  // own costs when they are at hand, so that a power test (scaled predictions) measures exactly
  // what the unscaled run measures and only the comparison changes.
  const Eigen::MatrixXd& design = paths != nullptr ? paths->costs : costs;
  s.design = &design;
  StepSizePlanInput in{&components, &design, bound, options.step_sizes};
  // Threads per rank, the root's count: every rank of an MPI job plans alike. The pilot runs one
  // thread per rank over all ranks, so its rate already counts the ranks.
  const double threads = Cluster::Get().RootValue(ResolveThreads(options.num_threads));
  in.budget_steps = kPlannedFraction * options.budget_seconds * threads *
                    PilotRate(problem, components, std::isfinite(bound) ? 0.25 * bound : 0.1);
  in.target_transitions = options.target_transitions;
  in.chains = options.chains;
  s.plan = PlanStepSizes(in);
  const StepSizePlan& plan = s.plan;
  if (paths != nullptr && !plan.fits_budget && options.steps == 0) direct.budget_seconds *= 1 - kRareShare;
  report.step_sizes = plan.step_sizes;
  report.chosen_step_sizes = plan.chosen;
  report.automatic_step_sizes = options.step_sizes.empty();
  s.predictions = Predict(problem, components, relative_energies, report.step_sizes);
  for (std::size_t k = 0; k < report.step_sizes.size(); ++k) {
    const long relax = BasinInterval(components, report.step_sizes[k]) * 2;  // 20 relaxation times in a well
    const double mixing = std::min(plan.relaxation_steps[k] * 3, 0.25 * plan.steps_per_chain[k]);
    // The same automatic burn-in with --steps as in rounds, so that one run of the total length
    // reproduces a run extended in rounds; at most half the steps.
    // Within a tenth of what the budget affords per chain: a burn-in the budget cannot pay for
    // would leave nothing to measure.
    // Of the direct rounds' share of the budget: the first round must not spend the rare-event share.
    const double share = direct.budget_seconds / options.budget_seconds;
    const double affordable = s.affordable = share * in.budget_steps / kPlannedFraction / (options.chains * report.step_sizes.size());
    const double wanted = std::max(static_cast<double>(relax), std::min(mixing, 1e9));
    long b = static_cast<long>(std::max(100.0, std::min(wanted, kFirstRoundShare * affordable)));
    if (options.steps > 0) b = options.burn_in >= 0 ? options.burn_in : std::min(b, options.steps / 2);
    s.burn_in.push_back(b);
  }
  for (const auto& step : s.predictions.steps) {
    for (double m : step.laplace_mass) s.basins = s.basins || !std::isnan(m);
  }
  const double references_started = Now();
  s.references = References(s, report.step_sizes);
  report.reference_seconds = Now() - references_started;
  s.basins = s.basins || !s.references.empty();
  report.references = s.references;
  report.theory_errors = TheoryErrors(s, report.step_sizes);
  const std::unique_ptr<SgdNoise> noise = MakeSgdNoise(problem, options.seed, &report.status);
  if (!noise) return report;
  report.status = SimulateInRounds(s, *noise, &report, started);
  if (!report.status.ok()) return report;
  if (paths != nullptr) AddRareEventChecks(s, *paths, options.budget_seconds - (Now() - started), &report);

  const std::size_t energy_checks = report.checks.size();
  CollapseOptions co;
  co.seed = options.seed;
  co.num_threads = options.num_threads;
  co.budget_steps = options.budget_seconds * std::max(1.0, report.steps_per_second);
  for (const VerifyCheck& c : CollapseChecks(problem, components, report.step_sizes, co)) report.checks.push_back(c);
  report.assumptions = CheckAssumptions(problem, components);
  for (const SimulationResult& sim : report.simulations) {
    report.assumptions.checks.push_back(DivergenceCheck(sim.step_size, sim.diverged, sim.chains, RareDivergence(sim)));
  }
  report.verdict = OverallVerdict(report.checks, energy_checks, report.assumptions, &report.verdict_reason);
  report.seconds = Now() - started;
  return report;
}

}  // namespace ldsgd
