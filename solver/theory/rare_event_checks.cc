#include "solver/theory/rare_event_checks.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <limits>
#include <memory>
#include <set>
#include <utility>

#include <boost/math/distributions/students_t.hpp>

#include "graph/energies.h"
#include "solver/numerics/cluster.h"
#include "solver/noise/sgd_noise.h"
#include "solver/theory/rates.h"
#include "solver/theory/verify_plan.h"

namespace ldsgd {
namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();
// SGD steps per second assumed for the step cap of the first splitting, before any is measured:
// 1e6, or for a finite sum's importance-sampled steps (n sample gradients each) 4e6 / n. The robust
// regression (n = 200) ran 3e4 steps/s on 2 cores with the tangent tilt and runs 2.4e5 with the
// momentum tilt, so this is now twelvefold conservative (docs/VERIFICATION.md).
constexpr double kAssumedRate = 1e6, kAssumedSampleRate = 4e6;

// On the root's clock: every rank of an MPI job takes the same budget decisions (cluster.h).
double Seconds(double since) {
  return Cluster::Get().Seconds() - since;
}

// One slope to measure: a pair (to = -1: the exit) and the cost it predicts.
struct Target {
  RatePair pair;
  double predicted = 0.0;  // the checked prediction (possibly scaled)
  double planned = 0.0;    // the analysis' own cost, which sets the step sizes
  std::string name;
};

// The edges out of the checked minima, with a positive, finite, direct cost, of the optimal trees
// rooted at those minima: the transitions their energies are made of. (The embedded chain of
// visits has the direct cost of a pair as exponent, so a closure edge is replaced by its first hop.)
std::vector<Target> TreeEdges(const TransitionCosts& paths, const Eigen::MatrixXd& costs, const std::vector<int>& minima) {
  const Energies e = ComputeEnergies(paths.costs);
  std::set<std::pair<int, int>> edges;
  for (int root : minima) {
    const std::vector<int>& tree = e.trees[root];
    for (int i : minima) {
      if (tree.empty() || tree[i] < 0) continue;
      // A route through other components (the closure) is measured by its first hop, whose cost
      // it is when the rest of the route is downhill (B_ij = B_ik + B_kj with B_kj = 0).
      const TransitionPath& path = paths.path(i, tree[i]);
      const int j = path.method == CostMethod::kClosure && path.route.size() > 2 ? path.route[1] : tree[i];
      const double b = paths.costs(i, j);
      if (b > 0 && std::isfinite(b) && paths.path(i, j).method == CostMethod::kDirect) edges.insert({i, j});
    }
  }
  std::vector<Target> out;
  for (const auto& [i, j] : edges) {
    out.push_back({{i, j}, costs(i, j), paths.costs(i, j), "rate~[" + std::to_string(i) + "->" + std::to_string(j) + "]"});
  }
  return out;
}

double LocalLambda(const std::vector<CriticalComponent>& c, const TransitionPath& path) {
  double lambda = 0.0;
  for (int k : path.route) lambda = std::max(lambda, c[k].hessian_eigenvalues.cwiseAbs().maxCoeff());
  return lambda;
}

class Checker {
 public:
  Checker(const Problem& problem, const std::vector<CriticalComponent>& components, const TransitionCosts& paths,
          const RareEventCheckOptions& o)
      : problem_(problem), components_(components), paths_(paths), o_(o), start_(Cluster::Get().Seconds()) {}

  VerifyCheck Run(const Target& t) {
    VerifyCheck c;
    c.name = t.name;
    c.method = "rare-event";
    c.predicted = t.predicted;
    const int to = t.pair.to >= 0 ? t.pair.to : CheapestExit(paths_.costs, t.pair.from);
    if (to < 0) return Inconclusive(c, "no finite-cost path out of the component");
    const TransitionPath& path = paths_.path(t.pair.from, to);
    const double eta_max = std::min(t.planned / kRareMinRatio, kRareDiscrete / LocalLambda(components_, path));
    const std::vector<double> etas = {eta_max, eta_max / std::sqrt(2.0), eta_max / 2};
    char regime[200];
    std::snprintf(regime, sizeof regime, "leading order by splitting, B/eta = %.3g to %.3g, eta lambda <= %.3g",
                  t.planned / etas.front(), t.planned / etas.back(), eta_max * LocalLambda(components_, path));
    c.regime = std::string(regime) + (Tilted() ? ", importance-sampled along the path" : "");
    c.allowance = kRareSlopeAllowance * eta_max + kRareRelativeAllowance * std::abs(t.predicted);
    if (const double g = UphillSigmas(problem_, path.nodes); g > kMaxUphillSigmas && !Tilted()) {
      // log10 of the normal tail, by its asymptotic form (erfc underflows beyond g ~ 38).
      const double log10_tail = (-g * g / 2 - std::log(g * std::sqrt(2 * M_PI))) / std::log(10.0);
      char why[320];
      std::snprintf(why, sizeof why,
                    "splitting cannot reach it: an uphill step on the path needs a noise of %.3g standard deviations "
                    "(probability about 1e%.0f per step at any eta; splitting resolves about 1/replicas per level), and "
                    "direct simulation needs exp(B/eta) steps",
                    g, std::floor(log10_tail));
      return Inconclusive(c, why);
    }
    std::vector<double> x, y, se;
    const double t95 = boost::math::quantile(boost::math::complement(boost::math::students_t(o_.runs - 1), 0.025));
    double last_seconds = 0.0;
    for (std::size_t k = 0; k < etas.size(); ++k) {
      const double left = o_.budget_seconds - Seconds(start_);
      const double projected = k == 0 ? 0.0 : last_seconds * std::pow(etas[k - 1] / etas[k], 2);
      if (left <= 0 && k == 0) return Inconclusive(c, "the budget was spent before this check could start (--budget)");
      if (projected > left) {
        c.needed_seconds = projected;
        return Inconclusive(c, "the budget ran out: the splitting at eta = " + Format(etas[k]) + " would need about " +
                                   Format(projected) + " s more (--budget)");
      }
      const double t0 = Cluster::Get().Seconds();
      RateEstimate e = Measure(t.pair, etas[k], left);
      last_seconds = Seconds(t0);
      if (last_seconds > 0) steps_per_second_ = e.steps / last_seconds;
      c.steps += e.steps;
      if (!e.status.ok()) return Inconclusive(c, e.status.message());
      if (!e.complete) return Inconclusive(c, "the budget ran out during the splitting at eta = " + Format(etas[k]) + " (--budget)");
      if (!std::isfinite(e.log_rate_lower)) return Inconclusive(c, "splitting ended without an estimate at eta = " + Format(etas[k]));
      const double ln_eta = std::log(etas[k]);
      x.push_back(1 / etas[k]);
      // ln(eta x exit steps), or -ln(rate per unit time eta): both ~ B / eta.
      y.push_back(t.pair.to < 0 ? ln_eta + e.log_exit_steps : ln_eta - e.log_rate);
      se.push_back(std::max(e.log_rate - e.log_rate_lower, e.log_rate_upper - e.log_rate) / t95);
    }
    const auto [slope, slope_se] = WeightedSlope(x, y, se);
    c.measured = slope;
    c.lower = slope - t95 * slope_se;
    c.upper = slope + t95 * slope_se;
    c.verdict = Verdict::kPass;  // for now: Decide() compares
    return c;
  }

 private:
  // Isotropic Gaussian noise or a finite sum: splitting with importance sampling along the path
  // (kRareTilt).
  bool Tilted() const { return problem_.noise.is_isotropic() || problem_.noise.is_finite_sum(); }

  static VerifyCheck Inconclusive(VerifyCheck c, const std::string& why) {
    c.verdict = Verdict::kInconclusive;
    c.measured = c.lower = c.upper = std::numeric_limits<double>::quiet_NaN();
    c.detail = why;
    return c;
  }
  static std::string Format(double v) {
    char b[32];
    std::snprintf(b, sizeof b, "%.3g", v);
    return b;
  }
  // The splitting runs stop incomplete (deterministically, by a step cap) when they would exceed
  // `seconds` at the last measured rate (kAssumedRate before any).
  RateEstimate Measure(RatePair pair, double eta, double seconds) const {
    if (o_.progress) {
      std::fprintf(stderr, "\rrare events: %d -> %s at eta = %.4g ...          ", pair.from,
                   pair.to >= 0 ? std::to_string(pair.to).c_str() : "exit", eta);
      std::fflush(stderr);
    }
    RateOptions ro;
    ro.replicas = o_.replicas;
    ro.runs = o_.runs;
    ro.seed = o_.seed;
    ro.num_threads = o_.num_threads;
    ro.tilt = Tilted() ? kRareTilt : 0.0;
    const bool sampled = problem_.noise.is_finite_sum() && problem_.samples && ro.tilt > 0;
    const double assumed = sampled ? kAssumedSampleRate / problem_.samples->size() : kAssumedRate;
    ro.max_splitting_steps = std::max(1.0, seconds * (steps_per_second_ > 0 ? steps_per_second_ : assumed) / o_.runs);
    return MeasureRate(problem_, components_, paths_, pair, eta, ro);
  }

  const Problem& problem_;
  const std::vector<CriticalComponent>& components_;
  const TransitionCosts& paths_;
  const RareEventCheckOptions& o_;
  double start_;  // Cluster::Seconds()
  double steps_per_second_ = 0.0;
};

// energy~[i]: the energies rebuilt from the measured tree-edge slopes (the Markov-chain tree
// formula's leading order: minimum spanning in-arborescences of the measured costs, zero-cost
// gradient-flow pairs kept at 0 and unmeasured pairs +inf; every root's optimal tree is among the
// measured edges, so the minimum is over the same trees as the prediction's). The interval and
// allowance add those of the edges in the two trees a difference uses (a triangle bound).
std::vector<VerifyCheck> EnergyChecks(const TransitionCosts& paths, const Eigen::VectorXd& energies,
                                      const std::vector<int>& minima, const std::vector<Target>& edges,
                                      const std::vector<VerifyCheck>& measured) {
  const int p = static_cast<int>(paths.costs.rows());
  Eigen::MatrixXd c = Eigen::MatrixXd::Constant(p, p, kInf);
  Eigen::MatrixXd half = Eigen::MatrixXd::Zero(p, p), allow = Eigen::MatrixXd::Zero(p, p);
  for (int i = 0; i < p; ++i) {
    c(i, i) = 0;
    for (int j = 0; j < p; ++j) {
      if (i != j && paths.costs(i, j) == 0) c(i, j) = 0;
    }
  }
  for (std::size_t k = 0; k < edges.size(); ++k) {
    const VerifyCheck& m = measured[k];
    if (m.verdict != Verdict::kPass && m.verdict != Verdict::kFail) return {};  // not all measured
    const auto [i, j] = std::make_pair(edges[k].pair.from, edges[k].pair.to);
    c(i, j) = m.measured;
    half(i, j) = (m.upper - m.lower) / 2;
    allow(i, j) = m.allowance;
  }
  const Energies e = ComputeEnergies(c);
  if (!e.status.ok() || e.ground_states.empty()) return {};
  int ground = minima.front();
  for (int i : minima) ground = energies[i] < energies[ground] ? i : ground;
  const auto tree_sum = [&](int root, const Eigen::MatrixXd& m) {
    double total = 0;
    for (int j = 0; j < p; ++j) total += e.trees[root].empty() || e.trees[root][j] < 0 ? 0 : m(j, e.trees[root][j]);
    return total;
  };
  std::vector<VerifyCheck> out;
  for (int i : minima) {
    if (i == ground || !std::isfinite(e.absolute[i]) || !std::isfinite(e.absolute[ground])) continue;
    VerifyCheck v;
    v.name = "energy~[" + std::to_string(i) + "]";
    v.method = "rare-event";
    v.predicted = energies[i] - energies[ground];
    v.measured = e.absolute[i] - e.absolute[ground];
    const double h = tree_sum(i, half) + tree_sum(ground, half);
    v.lower = v.measured - h;
    v.upper = v.measured + h;
    v.allowance = tree_sum(i, allow) + tree_sum(ground, allow);
    v.regime = "energies rebuilt from the measured rates (minimum spanning in-arborescences), against E_i - E_" + std::to_string(ground);
    v.verdict = Verdict::kPass;  // for now: Decide() compares
    out.push_back(v);
  }
  return out;
}

}  // namespace

std::pair<double, double> WeightedSlope(const std::vector<double>& x, const std::vector<double>& y,
                                        const std::vector<double>& se) {
  double sw = 0, sx = 0, sy = 0;
  for (std::size_t k = 0; k < x.size(); ++k) {
    const double w = 1 / (se[k] * se[k]);
    sw += w;
    sx += w * x[k];
    sy += w * y[k];
  }
  const double mx = sx / sw, my = sy / sw;
  double sxx = 0, sxy = 0;
  for (std::size_t k = 0; k < x.size(); ++k) {
    const double w = 1 / (se[k] * se[k]);
    sxx += w * (x[k] - mx) * (x[k] - mx);
    sxy += w * (x[k] - mx) * (y[k] - my);
  }
  return {sxy / sxx, std::sqrt(1 / sxx)};
}

double UphillSigmas(const Problem& problem, const Eigen::MatrixXd& nodes) {
  Status status;
  const std::unique_ptr<SgdNoise> noise = MakeSgdNoise(problem, 0, &status);
  if (!noise || nodes.rows() < 2) return kInf;
  double worst = 0.0;
  for (Eigen::Index k = 0; k + 1 < nodes.rows(); ++k) {
    const Eigen::VectorXd a = nodes.row(k).transpose(), b = nodes.row(k + 1).transpose();
    const Eigen::VectorXd mid = (a + b) / 2, t = (b - a).normalized();
    if (!t.allFinite()) continue;
    const double climb = problem.objective->Gradient(mid).dot(t);
    const double spread = t.dot(noise->CovarianceAt(mid) * t);
    if (climb <= 0) continue;
    worst = std::max(worst, spread > 0 ? climb / std::sqrt(spread) : kInf);
  }
  return worst;
}

std::vector<VerifyCheck> RareEventChecks(const Problem& problem, const std::vector<CriticalComponent>& components,
                                         const TransitionCosts& paths, const Eigen::MatrixXd& costs,
                                         const Eigen::VectorXd& energies, const std::vector<int>& minima,
                                         const RareEventCheckOptions& options) {
  std::vector<Target> targets;
  for (int i : minima) {
    const double b = ExitCost(paths.costs, i);
    if (std::isfinite(b) && b > 0) targets.push_back({{i, -1}, ExitCost(costs, i), b, "exit~[" + std::to_string(i) + "]"});
  }
  const std::size_t exits = targets.size();
  const std::vector<Target> edges = TreeEdges(paths, costs, minima);
  for (const Target& t : edges) targets.push_back(t);
  Checker checker(problem, components, paths, options);
  std::vector<VerifyCheck> out;
  for (const Target& t : targets) out.push_back(checker.Run(t));
  const std::vector<VerifyCheck> edge_checks(out.begin() + static_cast<long>(exits), out.end());
  for (VerifyCheck& c : EnergyChecks(paths, energies, minima, edges, edge_checks)) out.push_back(std::move(c));
  if (options.progress && !targets.empty()) std::fputc('\n', stderr);
  return out;
}

}  // namespace ldsgd
