#include "solver/theory/init_verification.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <cstdio>
#include <sstream>

#include "solver/simulation/simulator.h"

namespace ldsgd {
namespace {

// Over batches of chains: each group's basin fraction (the group's minima together) among the
// iterates in some discovered basin (the weights are over the minima; the rest is reported apart),
// its mean and 95% interval (Student t).
struct Fraction {
  double mean = std::numeric_limits<double>::quiet_NaN(), lower = mean, upper = mean;
};
std::vector<Fraction> BatchFractions(const SimulationResult& r, int batches, const std::vector<std::vector<int>>& groups) {
  const int m = static_cast<int>(groups.size());
  const int chains = static_cast<int>(r.per_chain.size());
  const int b = std::max(2, std::min(batches, chains));
  std::vector<std::vector<double>> per_batch(m);
  for (int k = 0; k < b; ++k) {
    std::vector<double> counts(m, 0.0);
    double classified = 0.0;
    for (int c = k * chains / b; c < (k + 1) * chains / b; ++c) {
      const SimulationChain& chain = r.per_chain[c];
      if (chain.diverged || chain.basin_counts.empty()) continue;
      for (int i = 0; i < m; ++i) {
        for (int id : groups[i]) counts[i] += static_cast<double>(chain.basin_counts[id]);
      }
      for (long n : chain.basin_counts) classified += static_cast<double>(n);
    }
    if (classified == 0) continue;
    for (int i = 0; i < m; ++i) per_batch[i].push_back(counts[i] / classified);
  }
  std::vector<Fraction> out(m);
  for (int i = 0; i < m; ++i) {
    const Interval e = BatchInterval(per_batch[i]);
    if (std::isfinite(e.mean)) out[i] = {e.mean, std::max(0.0, e.mean - e.half), std::min(1.0, e.mean + e.half)};
  }
  return out;
}

// The regime and mixing conditions of init_verification.h, then the ground state's share.
void Judge(const AssumptionReport& assumptions, const SimulationResult& r, InitVerification& v) {
  const int m = static_cast<int>(v.minima.size());
  auto inconclusive = [&](const std::string& why) {
    v.verdict = Verdict::kInconclusive;
    v.reason = why;
  };
  if (!assumptions.predictions_reliable()) return inconclusive("the predictions are unreliable: " + assumptions.FailedSummary());
  if (v.ground.empty()) return inconclusive("no minimum has a finite energy: the long-run law depends on the start");
  if (v.ground.size() == v.minima.size()) {
    return inconclusive("every discovered minimum is a ground state: the leading order predicts nothing between them");
  }
  if (v.gap_efolds < kMinGapEfolds) {
    return inconclusive("outside the regime: the energy gap is " + std::to_string(v.gap_efolds) +
                        " e-folds at this step size; the leading order singles out the ground state from " +
                        std::to_string(kMinGapEfolds) + " (a smaller step size)");
  }
  if (!std::isfinite(v.ground_share)) return inconclusive("too few classified iterates for an interval");
  const double recorded = static_cast<double>(r.steps - r.burn_in);
  for (int i = 0; i < m; ++i) {
    if (!(v.measured[i] > kNegligibleShare) || v.exits[i] >= kMinExits) continue;
    const double need = static_cast<double>(r.burn_in) + recorded * kMinExits / std::max<long>(v.exits[i], 1);
    v.needed_steps_per_chain = std::max(v.needed_steps_per_chain, need);
    inconclusive("the chains have not forgotten their starts: minimum " + std::to_string(v.minima[i]) + " holds " +
                 std::to_string(v.measured[i]) + " of the iterates but the chains went from it to another component " +
                 std::to_string(v.exits[i]) + " times (needs " + std::to_string(kMinExits) + "); about " + std::to_string(static_cast<long>(need)) +
                 (v.exits[i] == 0 ? " steps per chain at least" : " steps per chain"));
  }
  if (v.needed_steps_per_chain > 0) return;
  if (v.ground_upper >= v.bound) {
    v.verdict = Verdict::kPass;
    v.reason = "the ground states' share is consistent with the bound";
  } else {
    v.verdict = Verdict::kFail;
    v.reason = "the ground states hold less of the iterates than the theory allows";
  }
}

}  // namespace

Status InitVerificationOptions::Validate() const {
  if (!(step_size > 0) || steps < 2 || burn_in < -1 || burn_in >= steps || chains < 2 || classifications < 1 ||
      batches < 2 || num_threads < 0) {
    return Status(StatusCode::kInvalidOptions,
                  "Invalid configuration. step_size > 0, steps >= 2, -1 <= burn_in < steps, chains >= 2, "
                  "classifications >= 1, batches >= 2, num_threads >= 0");
  }
  return Status::Ok();
}

InitVerificationOptions InitVerificationOptions::From(const VerifyOptions& verify) {
  InitVerificationOptions o;
  if (!verify.step_sizes.empty()) o.step_size = *std::max_element(verify.step_sizes.begin(), verify.step_sizes.end());
  if (verify.steps > 0) {
    o.steps = verify.steps;
    o.burn_in = verify.burn_in;
  }
  o.chains = verify.chains;
  o.seed = verify.seed;
  o.num_threads = verify.num_threads;
  o.progress = verify.progress;
  return o;
}

InitVerification VerifyFromInit(const Problem& problem, const std::vector<CriticalComponent>& components,
                                const Eigen::VectorXd& relative_energies, const AssumptionReport& assumptions,
                                const InitVerificationOptions& o) {
  InitVerification v;
  if (v.status = o.Validate(); !v.status.ok()) return v;
  const double eta = o.step_size;
  v.step_size = eta;
  v.steps = o.steps;
  v.burn_in = o.burn_in < 0 ? o.steps / 2 : o.burn_in;
  v.chains = o.chains;
  for (const CriticalComponent& c : components) {
    if (c.type == CriticalType::kMinimum) v.minima.push_back(c.id);
  }
  // Predicted weights over the minima, from the lowest finite energy (exp never overflows).
  double lowest = std::numeric_limits<double>::infinity();
  for (int id : v.minima) lowest = std::min(lowest, relative_energies[id]);
  double total = 0.0;
  for (int id : v.minima) {
    v.predicted.push_back(std::isfinite(lowest) ? std::exp(-(relative_energies[id] - lowest) / eta) : 0.0);
    total += v.predicted.back();
  }
  // No finite energy: no prediction (NaN, printed "-" and written null), not a weight of 0.
  for (double& w : v.predicted) w = total > 0 ? w / total : std::numeric_limits<double>::quiet_NaN();
  const int m = static_cast<int>(v.minima.size());
  // Ground states: the lowest energy, ties within rounding of the energies (degenerate minima).
  v.gap_efolds = std::numeric_limits<double>::infinity();
  for (int i = 0; i < m && std::isfinite(lowest); ++i) {
    const double gap = relative_energies[v.minima[i]] - lowest;
    if (gap <= kGroundTie * (1.0 + std::abs(lowest))) {
      v.ground.push_back(v.minima[i]);
    } else {
      v.gap_efolds = std::min(v.gap_efolds, gap / eta);
    }
  }
  const int others = m - static_cast<int>(v.ground.size());
  v.bound = others > 0 ? 1.0 / (1.0 + others * kPrefactorAllowance * std::exp(-v.gap_efolds) / std::max<std::size_t>(1, v.ground.size()))
                       : 1.0;

  SimulationOptions s;
  s.step_size = eta;
  s.steps = o.steps;
  s.burn_in = v.burn_in;
  s.chains = o.chains;
  s.seed = o.seed;
  s.num_threads = o.num_threads;
  s.progress = o.progress;
  s.basin_interval = std::max<long>(1, (o.steps - v.burn_in) / o.classifications);
  for (int c = 0; c < o.chains; ++c) s.initial_points.push_back(problem.search.init.Sample(problem.search.seed, static_cast<std::uint32_t>(c)));
  Simulator::Summary summary;
  const SimulationResult r = Simulator(s).Simulate(problem, components, &summary);
  if (!summary.status.ok()) {
    v.status = summary.status;
    return v;
  }
  v.diverged = r.diverged;
  v.unclassified = r.basin_unclassified;
  // Transitions to another component's neighbourhood (a saddle's on the way out, or another
  // minimum's), not sojourns that return to the same well.
  for (int i : v.minima) {
    long n = 0;
    for (std::size_t j = 0; j < r.transitions[i].size(); ++j) n += static_cast<int>(j) != i ? r.transitions[i][j] : 0;
    v.exits.push_back(n);
  }
  std::vector<std::vector<int>> groups;
  for (int id : v.minima) groups.push_back({id});
  groups.push_back(v.ground);
  const std::vector<Fraction> f = BatchFractions(r, o.batches, groups);
  for (int i = 0; i < m; ++i) {
    v.measured.push_back(f[i].mean);
    v.lower.push_back(f[i].lower);
    v.upper.push_back(f[i].upper);
  }
  v.ground_share = f[m].mean;
  v.ground_lower = f[m].lower;
  v.ground_upper = f[m].upper;
  Judge(assumptions, r, v);
  v.status = Status::Ok();
  return v;
}

nlohmann::json ToJson(const InitVerification& v) {
  nlohmann::json minima = nlohmann::json::array();
  for (std::size_t i = 0; i < v.minima.size(); ++i) {
    minima.push_back({{"component", v.minima[i]}, {"predicted", v.predicted[i]}, {"measured", v.measured[i]},
                      {"lower", v.lower[i]}, {"upper", v.upper[i]}, {"exits", v.exits[i]}});
  }
  return {{"step_size", v.step_size}, {"steps", v.steps}, {"burn_in", v.burn_in}, {"chains", v.chains},
          {"diverged", v.diverged}, {"minima", minima}, {"unclassified", v.unclassified},
          {"ground_states", v.ground}, {"ground_share", {v.ground_share, v.ground_lower, v.ground_upper}},
          {"gap_efolds", std::isfinite(v.gap_efolds) ? nlohmann::json(v.gap_efolds) : nlohmann::json(nullptr)},
          {"bound", v.bound}, {"verdict", ToString(v.verdict)}, {"reason", v.reason},
          {"needed_steps_per_chain", v.needed_steps_per_chain}};
}

std::string InitVerification::Report() const {
  std::ostringstream out;
  out << "Verification from the initialization distribution: " << chains << " chains from search.init, eta = " << step_size
      << ", " << steps << " steps (burn-in " << burn_in << "), " << diverged << " diverged\n";
  out << "minimum  predicted weight  basin fraction [95%]        left\n";
  for (std::size_t i = 0; i < minima.size(); ++i) {
    char line[160];
    char weight[32] = "-";
    if (std::isfinite(predicted[i])) std::snprintf(weight, sizeof weight, "%.4g", predicted[i]);
    std::snprintf(line, sizeof line, "%-8d %-17s %.4f [%.4f, %.4f]   %ld\n", minima[i], weight, measured[i], lower[i],
                  upper[i], exits[i]);
    out << line;
  }
  out << "in no discovered basin: " << unclassified << "\n";
  if (!ground.empty() && ground.size() < minima.size()) {
    out << "ground states (";
    for (std::size_t i = 0; i < ground.size(); ++i) out << (i ? ", " : "") << ground[i];
    out << "): share " << ground_share << " [" << ground_lower << ", " << ground_upper << "], the theory allows no less than " << bound
        << " (gap " << gap_efolds << " e-folds, prefactor ratios up to " << kPrefactorAllowance << ")\n";
  }
  out << "verdict: " << ToString(verdict) << " (" << reason << ")";
  return out.str();
}

}  // namespace ldsgd
