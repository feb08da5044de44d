#include "solver/theory/convergence_check.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <limits>
#include <string>

#include <boost/math/distributions/normal.hpp>

#include "solver/numerics/cluster.h"
#include "solver/simulation/hitting_times.h"
#include "solver/theory/rare_event_checks.h"
#include "solver/theory/verify_plan.h"

namespace ldsgd {
namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();
constexpr double kZ95 = 1.959964;
// The step-size ratio's range (as the verifier's plan).
constexpr double kMinRatio = 1.05, kMaxRatio = 2.0;
// The direct rounds may use this share of what is left of the budget per start.
constexpr double kDirectShare = 0.9;

// The root's clock: every rank of an MPI job takes the same budget decisions (cluster.h).
double Now() { return Cluster::Get().Seconds(); }

std::string Format(const char* format, double a, double b, double c, double d) {
  char buffer[320];
  std::snprintf(buffer, sizeof buffer, format, a, b, c, d);
  return buffer;
}

double LargestCurvature(const std::vector<CriticalComponent>& components) {
  double lambda = 0.0;
  for (const CriticalComponent& c : components) {
    if (c.type == CriticalType::kMinimum) lambda = std::max(lambda, c.hessian_eigenvalues.cwiseAbs().maxCoeff());
  }
  return lambda;
}

// Three step sizes: the hottest in the leading order's regime, then down by a ratio that spreads
// the mean time over kConvergenceLeverEFolds e-folds.
std::vector<double> StepSizes(double exponent, double lambda_max) {
  const double cap = lambda_max > 0 ? kDiscreteRegime / lambda_max : 1.0;
  // With nothing to wait for, half the cap: far from the stability bound, where a quartic's chain
  // can diverge.
  const double hottest = exponent > 0 ? std::min(cap, exponent / kMetastable) : cap / 2;
  const double r = exponent > 0 ? std::clamp(std::sqrt(1 + kConvergenceLeverEFolds * hottest / exponent), kMinRatio, kMaxRatio)
                                : std::sqrt(2.0);
  return {hottest, hottest / r, hottest / (r * r)};
}

VerifyCheck Inconclusive(VerifyCheck c, const std::string& why) {
  c.verdict = Verdict::kInconclusive;
  c.measured = c.lower = c.upper = std::numeric_limits<double>::quiet_NaN();
  c.detail = why;
  return c;
}

class StartChecker {
 public:
  StartChecker(const Problem& problem, const std::vector<CriticalComponent>& components, const TransitionCosts& paths,
               const ConvergenceReport& report, const ConvergenceCheckOptions& o)
      : problem_(problem), components_(components), paths_(paths), report_(report), o_(o) {
    for (int g : report.global_minima) {
      for (const Eigen::VectorXd& q : components[g].points) targets_.push_back(Ball{q, report.delta});
    }
  }

  VerifyCheck Run(int k, double deadline) {
    const ConvergenceStart& s = report_.starts[k];
    VerifyCheck c;
    c.name = "convergence[" + std::to_string(k) + "]";
    c.predicted = s.exponent;
    if (s.arrived) {
      c.verdict = Verdict::kSkipped;
      c.measured = c.lower = c.upper = std::numeric_limits<double>::quiet_NaN();
      c.detail = "the start is within delta of argmin f already: tau = 0, nothing to measure";
      return c;
    }
    const std::vector<double> etas = StepSizes(s.exponent, LargestCurvature(components_));
    c.allowance = kPrefactorPower * etas.front();
    c.regime = Format("leading order, E/eta = %.3g to %.3g, eta lambda_max <= %.3g: allowance %.3g",
                      s.exponent / etas.front(), s.exponent / etas.back(), etas.front() * LargestCurvature(components_), c.allowance);
    if (RareRoute(s) && !DirectAffordable(s, etas, deadline)) return Rare(c, s, deadline);
    return Direct(c, s, etas, deadline);
  }

 private:
  // E(x) is the exit cost of the well x falls into: the exit time carries the exponent.
  bool RareRoute(const ConvergenceStart& s) const {
    const int d = s.costs.flows_to;
    if (s.exponent <= 0 || d < 0 || s.dominant != d || components_[d].type != CriticalType::kMinimum) return false;
    const double exit = ExitCost(paths_.costs, d);
    return std::abs(exit - s.exponent) <= 1e-6 * std::max(1.0, exit);
  }

  // The coldest step size's predicted cost (the exit-time estimate of verify's plan) within budget.
  bool DirectAffordable(const ConvergenceStart& s, const std::vector<double>& etas, double deadline) const {
    const int d = s.costs.flows_to;
    const double per_chain = PredictedExitSteps(components_[d], s.exponent, etas.back());
    return o_.chains * per_chain <= (deadline - Now()) * kAssumedSteps;
  }

  VerifyCheck Direct(VerifyCheck c, const ConvergenceStart& s, const std::vector<double>& etas, double deadline) {
    c.method = "direct";
    exponent_ = s.exponent;
    // The mean is carried by the chains that climb to the dominant component, a fraction
    // exp(-B0(x, dominant)/eta) of them: too few climbers and the sample mean misses the term
    // that makes E(x) (it would read low, a false fail).
    const double climb = s.dominant >= 0 ? s.costs.restricted[s.dominant] : 0.0;
    const double climbers = o_.chains * std::exp(-climb / etas.back());
    if (!(climbers >= kMinClimbers)) {
      return Inconclusive(c, Format("the dominant term needs a climb B0(x, K_%.0f) = %.4g: at eta = %.4g only %.3g of the chains "
                                    "would make it (at least 20 are needed for the mean); the rare-event route applies only to exits",
                                    s.dominant, climb, etas.back(), climbers));
    }
    std::vector<double> x, y, se;
    for (std::size_t m = 0; m < etas.size(); ++m) {
      if (o_.progress) std::fprintf(stderr, "\r%s: eta = %.4g ...          ", c.name.c_str(), etas[m]), std::fflush(stderr);
      HittingOptions h;
      h.step_size = etas[m];
      h.chains = o_.chains;
      h.seed = o_.seed;
      h.num_threads = o_.num_threads;
      // The colder step sizes cost more: this one gets its share of what is left.
      h.seconds = std::max(1e-3, kDirectShare * (deadline - Now()) / ShareOf(etas, m));
      h.max_steps = kMaxChainSteps;
      const double t0 = Now();
      const HittingSample sample = SimulateHittingTimes(problem_, s.point, targets_, h);
      if (!sample.status.ok()) return Inconclusive(c, sample.status.message());
      c.steps += sample.steps;
      if (!sample.complete()) {
        char why[320];
        if (sample.diverged > 0) {
          std::snprintf(why, sizeof why, "%ld of %d chains diverged at eta = %.4g: the mean hitting time is not defined there",
                        sample.diverged, o_.chains, etas[m]);
        } else {
          // The censored chains ran the whole share: at least (chains x share) more is needed.
          c.needed_seconds = (Now() - t0) * ShareOf(etas, m) * 2;
          std::snprintf(why, sizeof why, "%ld of %d chains had not arrived when the budget ran out at eta = %.4g; about %.3g s would be needed (--budget)",
                        sample.censored, o_.chains, etas[m], c.needed_seconds);
        }
        return Inconclusive(c, why);
      }
      if (!(sample.upper > sample.lower)) {
        char why[200];
        std::snprintf(why, sizeof why, "the hitting times at eta = %.4g have no spread (mean %.4g steps): no interval to judge by",
                      etas[m], sample.mean);
        return Inconclusive(c, why);
      }
      x.push_back(1 / etas[m]);
      y.push_back(std::log(etas[m] * sample.mean));
      se.push_back((sample.upper - sample.lower) / (2 * kZ95 * sample.mean));
    }
    const auto [slope, error] = WeightedSlope(x, y, se);
    c.measured = slope;
    c.lower = slope - kZ95 * error;
    c.upper = slope + kZ95 * error;
    c.verdict = Verdict::kPass;  // for now: Judge() compares
    return c;
  }

  VerifyCheck Rare(VerifyCheck c, const ConvergenceStart& s, double deadline) {
    RareEventCheckOptions ro;
    ro.budget_seconds = std::max(0.0, deadline - Now());
    ro.seed = o_.seed;
    ro.num_threads = o_.num_threads;
    ro.progress = o_.progress;
    const int d = s.costs.flows_to;
    std::vector<VerifyCheck> exits = RareEventChecks(problem_, components_, paths_, paths_.costs,
                                                     Eigen::VectorXd::Zero(components_.size()), {d}, ro);
    VerifyCheck e = exits.empty() ? Inconclusive(c, "no exit to measure") : exits.front();
    e.name = c.name;
    e.predicted = c.predicted;
    e.method = "rare-event";
    e.regime = "the exit time of K_" + std::to_string(d) + " (E(x) = E(" + std::to_string(d) + ") = min_j B_" +
               std::to_string(d) + "j: the well x falls into holds SGD up), " + e.regime;
    return e;
  }

  // Steps per second assumed for the rare-event route's decision (verify's planning rate).
  static constexpr double kAssumedSteps = 2e6;
  static constexpr long kMaxChainSteps = 1000000000000L;
  // Chains expected to make the climb to the dominant component, at the coldest step size.
  static constexpr double kMinClimbers = 20;

  // The share of the time left that step size m and the colder ones need, relative to m's: the
  // mean time grows by exp(E (1/eta' - 1/eta)) eta / eta' toward colder step sizes.
  double ShareOf(const std::vector<double>& etas, std::size_t m) const {
    double total = 0.0;
    for (std::size_t k = m; k < etas.size(); ++k) total += std::exp(exponent_ * (1 / etas[k] - 1 / etas[m])) * etas[m] / etas[k];
    return total;
  }
  double exponent_ = 0.0;
  const Problem& problem_;
  const std::vector<CriticalComponent>& components_;
  const TransitionCosts& paths_;
  const ConvergenceReport& report_;
  const ConvergenceCheckOptions& o_;
  std::vector<Ball> targets_;
};

// Pass iff |measured - predicted| <= the half-width widened to a family-wise level over the judged
// checks + the allowance.
void Judge(std::vector<VerifyCheck>* checks) {
  int m = 0;
  for (const VerifyCheck& c : *checks) m += c.verdict == Verdict::kPass;
  if (m == 0) return;
  const boost::math::normal z;
  const double widen = boost::math::quantile(z, 1 - kFamilyRisk / (2.0 * m)) / kZ95;
  for (VerifyCheck& c : *checks) {
    if (c.verdict != Verdict::kPass) continue;
    const double allowed = (c.upper - c.lower) / 2 * widen + c.allowance, miss = std::abs(c.measured - c.predicted);
    c.verdict = miss <= allowed ? Verdict::kPass : Verdict::kFail;
    char buffer[200];
    std::snprintf(buffer, sizeof buffer, "|measured - predicted| = %.4g %s %.4g (half-width at family-wise 99%% + allowance %.3g)",
                  miss, miss <= allowed ? "<=" : ">", allowed, c.allowance);
    c.detail = buffer;
  }
}

}  // namespace

Status ConvergenceCheckOptions::Validate() const {
  if (!(budget_seconds > 0) || chains < 2 || num_threads < 0) {
    return Status(StatusCode::kInvalidOptions, "Invalid configuration. budget_seconds > 0, chains >= 2, num_threads >= 0");
  }
  return Status::Ok();
}

std::vector<VerifyCheck> ConvergenceChecks(const Problem& problem, const std::vector<CriticalComponent>& components,
                                           const TransitionCosts& paths, const ConvergenceReport& report,
                                           const ConvergenceCheckOptions& options) {
  const double start = Now();
  StartChecker checker(problem, components, paths, report, options);
  std::vector<VerifyCheck> out;
  const int n = static_cast<int>(report.starts.size());
  for (int k = 0; k < n; ++k) {
    // Each start gets an equal share of what is left.
    const double deadline = Now() + (options.budget_seconds - (Now() - start)) / (n - k);
    out.push_back(checker.Run(k, deadline));
  }
  if (options.progress && n > 0) std::fputc('\n', stderr);
  Judge(&out);
  return out;
}

}  // namespace ldsgd
