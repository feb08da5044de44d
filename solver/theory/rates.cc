#include "solver/theory/rates.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <limits>
#include <memory>
#include <sstream>

#include "solver/noise/sgd_noise.h"
#include "solver/simulation/neighbourhoods.h"
#include "solver/simulation/path_coordinate.h"

namespace ldsgd {
namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();
constexpr double kZ95 = 1.959964;

RateEstimate Failed(RateEstimate e, const std::string& why) {
  e.status = Status(StatusCode::kInvalidInput, why);
  return e;
}

std::string Pair(RatePair p) {
  return std::to_string(p.from) + (p.to >= 0 ? " -> " + std::to_string(p.to) : " -> exit");
}

// The sampled point of K_c nearest to x (a non-isolated component, e.g. a ring of minima, is the
// set of its points; an isolated one is its point).
const Eigen::VectorXd& NearestPoint(const CriticalComponent& c, const Eigen::VectorXd& x) {
  const Eigen::VectorXd* best = &c.point;
  for (const Eigen::VectorXd& q : c.points) {
    if ((q - x).squaredNorm() < (*best - x).squaredNorm()) best = &q;
  }
  return *best;
}

// Empty when the path from i to j is usable as a reaction coordinate.
std::string CheckPath(const Eigen::MatrixXd& nodes, const std::vector<CriticalComponent>& c, int i,
                      int j, const std::vector<double>& radius) {
  const std::string name = "the minimum-action path " + std::to_string(i) + " -> " + std::to_string(j);
  if (std::string why = PathCoordinate::Validate(nodes); !why.empty()) return name + ": " + why;
  const Eigen::VectorXd first = nodes.row(0).transpose(), last = nodes.row(nodes.rows() - 1).transpose();
  const double start_gap = (first - NearestPoint(c[i], first)).norm();
  const double end_gap = (last - NearestPoint(c[j], last)).norm();
  std::ostringstream s;
  if (start_gap > kPathEndTolerance * radius[i]) {
    s << name << " starts at distance " << start_gap << " from K_" << i << " (U_" << i << " has radius " << radius[i] << ")";
  } else if (end_gap > kPathEndTolerance * radius[j]) {
    s << name << " is cut short: it ends at distance " << end_gap << " from K_" << j << " (U_" << j
      << " has radius " << radius[j] << ")";
  }
  return s.str();
}

// A_i is centred at the point of K_i where the path leaves (K_i's point unless K_i is a set); the
// other components are the union of balls around their sampled points, as in neighbourhoods.h.
RareEventSets MakeSets(const std::vector<CriticalComponent>& c, const std::vector<double>& radius, RatePair pair,
                       const Eigen::MatrixXd& nodes, double start_radius) {
  RareEventSets sets;
  const Eigen::VectorXd first = nodes.row(0).transpose();
  sets.start = Ball{NearestPoint(c[pair.from], first), start_radius};
  if (!c[pair.from].isolated) {
    for (const Eigen::VectorXd& q : c[pair.from].points) sets.start_more.push_back(Ball{q, sets.start.radius});
  }
  for (std::size_t k = 0; k < c.size(); ++k) {
    if (static_cast<int>(k) == pair.from) continue;
    const bool target = pair.to < 0 || static_cast<int>(k) == pair.to;
    for (const Eigen::VectorXd& q : c[k].isolated ? std::vector<Eigen::VectorXd>{c[k].point} : c[k].points) {
      (target ? sets.targets : sets.others).push_back(Ball{q, radius[k]});
    }
  }
  return sets;
}

double SlowestRelaxation(const CriticalComponent& c, double eta) {
  double lambda = kInf;
  for (Eigen::Index k = 0; k < c.hessian_eigenvalues.size(); ++k) {
    const double v = std::fabs(c.hessian_eigenvalues[k]);
    if (v > 0) lambda = std::min(lambda, v);
  }
  return std::isfinite(lambda) ? 1.0 / (eta * lambda) : 1.0 / eta;
}

void Wilson(long successes, long trials, double* p, double* lo, double* hi) {
  if (trials <= 0) {
    *p = *lo = *hi = std::numeric_limits<double>::quiet_NaN();
    return;
  }
  const double n = static_cast<double>(trials), ph = successes / n, z2 = kZ95 * kZ95;
  const double centre = (ph + z2 / (2 * n)) / (1 + z2 / n);
  const double half = kZ95 * std::sqrt(ph * (1 - ph) / n + z2 / (4 * n * n)) / (1 + z2 / n);
  *p = ph;
  *lo = std::max(0.0, centre - half);
  *hi = std::min(1.0, centre + half);
}

// Rate and exit time from the probability and the loop time; the intervals add the two relative
// errors in quadrature (independent simulations).
void Combine(RateEstimate* e) {
  const DepartureSample& d = e->departures;
  const double log_t = std::log(d.loop_steps);
  const double t_lo = log_t - std::log(std::max(d.loop_lower, 1e-300)), t_hi = std::log(d.loop_upper) - log_t;
  const double p_lo = e->log_probability - e->log_probability_lower;
  const double p_hi = e->log_probability_upper - e->log_probability;
  const double down = std::hypot(p_lo, t_hi), up = std::hypot(p_hi, t_lo);
  e->log_rate = e->log_probability - log_t;
  e->log_rate_lower = e->log_rate - down;
  e->log_rate_upper = e->log_rate + up;
  // E tau = T_loop (1/p - 1) + T_success, in logs: 1/p - 1 = expm1(-ln p).
  const double lp = e->log_probability;
  const double failures = lp < -30 ? -lp : std::log(std::max(std::expm1(-lp), 1e-300));
  const double a = log_t + failures, b = std::log(std::max(e->splitting.success_steps, 1.0));
  e->log_exit_steps = std::max(a, b) + std::log1p(std::exp(-std::fabs(a - b)));
  e->log_exit_lower = e->log_exit_steps - up;
  e->log_exit_upper = e->log_exit_steps + down;
}

}  // namespace

int CheapestExit(const Eigen::MatrixXd& costs, int i) {
  int best = -1;
  for (int k = 0; k < costs.rows(); ++k) {
    if (k == i || !std::isfinite(costs(i, k))) continue;
    if (best < 0 || costs(i, k) < costs(i, best)) best = k;
  }
  return best;
}

Status RateOptions::Validate() const {
  std::ostringstream why;
  if (replicas < 2) why << "replicas = " << replicas << " (must be >= 2)";
  else if (runs < 2) why << "runs = " << runs << " (must be >= 2)";
  else if (departures < 1 || chains < 2) why << "departures = " << departures << ", chains = " << chains << " (departures >= 1, chains >= 2)";
  else if (max_steps_per_chain < 1) why << "max_steps_per_chain = " << max_steps_per_chain << " (must be >= 1)";
  else if (!(max_splitting_steps >= 0)) why << "max_splitting_steps = " << max_splitting_steps << " (must be >= 0)";
  else if (num_threads < 0) why << "num_threads = " << num_threads << " (must be >= 0)";
  else if (!(tilt >= 0 && tilt <= 1)) why << "tilt = " << tilt << " (0 <= tilt <= 1)";
  else return Status::Ok();
  return Status(StatusCode::kInvalidOptions, "Invalid configuration. " + why.str());
}

RateEstimate MeasureRate(const Problem& problem, const std::vector<CriticalComponent>& components,
                         const TransitionCosts& costs, RatePair pair, double eta, const RateOptions& o) {
  const auto clock = std::chrono::steady_clock::now();
  RateEstimate e;
  e.pair = pair;
  e.step_size = eta;
  e.status = o.Validate();
  if (!e.status.ok()) return e;
  const int p = static_cast<int>(components.size());
  if (pair.from < 0 || pair.from >= p || pair.to >= p || pair.to < -1) {
    return Failed(e, "pair " + Pair(pair) + ": components are numbered 0 to " + std::to_string(p - 1));
  }
  if (pair.from == pair.to) return Failed(e, "pair " + Pair(pair) + ": a transition needs two different components");
  if (!(eta > 0) || !std::isfinite(eta)) return Failed(e, "the step size must be positive");
  e.path_to = pair.to >= 0 ? pair.to : CheapestExit(costs.costs, pair.from);
  if (e.path_to < 0 || !std::isfinite(costs.costs(pair.from, e.path_to))) {
    return Failed(e, "pair " + Pair(pair) + ": no finite-cost path (B = +inf), SGD cannot make this transition at leading order");
  }
  Status noise_status;
  std::unique_ptr<SgdNoise> noise = MakeSgdNoise(problem, o.seed, &noise_status);
  if (!noise) return Failed(e, noise_status.message());
  const std::vector<double> radius = DefaultRadii(components, *problem.objective, *noise, problem.domain, eta);
  const Eigen::MatrixXd& nodes = costs.path(pair.from, e.path_to).nodes;
  if (std::string why = CheckPath(nodes, components, pair.from, e.path_to, radius); !why.empty()) return Failed(e, why);
  // One stationary standard deviation: a third of U_i's radius, or less where U_i's floor (a
  // hundredth of the distance to the nearest component) made it larger than three.
  const double spread = NoiseScale(components[pair.from], *problem.objective, *noise, eta);
  const double start_radius = std::isfinite(spread) && spread > 0 ? std::min(kStartRadiusFraction * radius[pair.from], spread)
                                                                    : kStartRadiusFraction * radius[pair.from];
  const RareEventSets sets = MakeSets(components, radius, pair, nodes, start_radius);
  if (std::string why = sets.Validate(static_cast<int>(problem.domain.lower.size())); !why.empty()) {
    return Failed(e, "pair " + Pair(pair) + ": " + why);
  }
  e.start_radius = sets.start.radius;

  DepartureOptions dep;
  dep.step_size = eta;
  dep.departures = o.departures;
  dep.chains = o.chains;
  dep.burn_in = static_cast<long>(std::ceil(kDepartureBurnIn * SlowestRelaxation(components[pair.from], eta)));
  dep.max_steps_per_chain = std::max(o.max_steps_per_chain, 2 * dep.burn_in + 1);
  dep.seed = o.seed;
  dep.num_threads = o.num_threads;
  e.departures = SampleDepartures(problem, sets, dep);
  if (!e.departures.status.ok()) return Failed(e, "pair " + Pair(pair) + ": " + e.departures.status.message());
  Wilson(e.departures.successes, e.departures.departures, &e.direct_probability, &e.direct_lower, &e.direct_upper);
  if (e.departures.loops < 2) {
    return Failed(e, "pair " + Pair(pair) + ": the departure chains completed fewer than 2 loops (A_i left, re-entered, left again)");
  }

  SplittingOptions so;
  so.step_size = eta;
  so.replicas = o.replicas;
  so.runs = o.runs;
  so.seed = o.seed;
  so.num_threads = o.num_threads;
  so.max_steps_per_run = o.max_splitting_steps;
  so.tilt = o.tilt;
  const bool isolated = components[pair.from].isolated;
  const PathCoordinate xi = isolated ? PathCoordinate(nodes) : PathCoordinate::TowardEnd(nodes);
  // From a ring the replicas start anywhere on it, far from the one path drawn: no tube there
  // (the tube exists to stop the tilt of a curved path's far branch holding replicas, rates.h).
  if (isolated) so.tilt_tube = std::max(kTiltTubeRadii * e.start_radius, kTiltTubeLength * xi.length());
  e.splitting = RunSplitting(problem, xi, sets, e.departures.points, so);
  e.departures.points.clear();
  e.departures.points.shrink_to_fit();
  if (!e.splitting.status.ok()) return Failed(e, "pair " + Pair(pair) + ": " + e.splitting.status.message());
  e.steps = e.departures.steps + e.splitting.steps;
  e.complete = e.splitting.complete;
  e.status = Status::Ok();
  if (e.complete) {
    e.log_probability = e.splitting.log_probability;
    e.log_probability_lower = e.splitting.log_lower;
    e.log_probability_upper = e.splitting.log_upper;
    Combine(&e);
  }
  e.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - clock).count();
  return e;
}

namespace {

nlohmann::json Number(double v) { return std::isfinite(v) ? nlohmann::json(v) : nlohmann::json(nullptr); }
nlohmann::json Interval(double lo, double hi) { return nlohmann::json::array({Number(lo), Number(hi)}); }

}  // namespace

nlohmann::json ToJson(const RateEstimate& e) {
  nlohmann::json j;
  j["from"] = e.pair.from;
  j["to"] = e.pair.to >= 0 ? nlohmann::json(e.pair.to) : nlohmann::json(nullptr);
  j["path_to"] = e.path_to;
  j["step_size"] = e.step_size;
  if (!e.status.ok()) {
    j["error"] = e.status.message();
    return j;
  }
  j["start_radius"] = e.start_radius;
  j["departures"] = e.departures.departures;
  j["loops"] = e.departures.loops;
  j["loop_steps"] = Number(e.departures.loop_steps);
  j["loop_interval"] = Interval(e.departures.loop_lower, e.departures.loop_upper);
  j["direct"] = {{"successes", e.departures.successes},
                 {"probability", Number(e.direct_probability)},
                 {"interval", Interval(e.direct_lower, e.direct_upper)}};
  j["complete"] = e.complete;
  nlohmann::json per_run = nlohmann::json::array();
  for (const SplittingRun& r : e.splitting.runs) per_run.push_back(Number(r.log_probability));
  j["splitting"] = {{"replicas", e.splitting.replicas}, {"killed", e.splitting.killed},
                    {"runs", e.splitting.runs.size()}, {"iterations", e.splitting.iterations},
                    {"steps", e.splitting.steps}, {"diverged", e.splitting.diverged},
                    {"log_probability_per_run", per_run}};
  if (e.complete) {
    j["log_probability"] = Number(e.log_probability);
    j["log_probability_interval"] = Interval(e.log_probability_lower, e.log_probability_upper);
    j["probability"] = std::exp(e.log_probability);
    j["log_rate"] = Number(e.log_rate);
    j["log_rate_interval"] = Interval(e.log_rate_lower, e.log_rate_upper);
    j["log_exit_steps"] = Number(e.log_exit_steps);
    j["log_exit_interval"] = Interval(e.log_exit_lower, e.log_exit_upper);
  }
  j["steps"] = e.steps;
  return j;
}

}  // namespace ldsgd
