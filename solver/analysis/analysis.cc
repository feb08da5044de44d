#include "solver/analysis/analysis.h"

#include <cmath>

#include "graph/cycle_tree.h"

#include <algorithm>
#include <chrono>
#include <cmath>

#include "solver/analysis/serialization.h"
#include "solver/io/input_text.h"

namespace ldsgd {
namespace {

// Ground states tie within this many times the actions' relative tolerance: the energies are sums
// of costs each accurate to about that tolerance.
constexpr double kTieToleranceFactor = 10.0;

using Clock = std::chrono::steady_clock;

// Costs and energies of `problem` on `components`: the kCosts and kEnergies stages.
Status CostsAndEnergies(const Problem& problem, const std::vector<CriticalComponent>& components,
                        const AnalysisOptions& options, bool energies, TransitionCosts* costs,
                        Energies* result, TransitionCostSolver::Summary* summary) {
  TransitionCostSolver::Options cost_options = options.costs;
  cost_options.num_threads = options.num_threads;
  // A discovered set is a network of minima and the saddles between them: its costs are those of
  // the adjacencies (issue 18), however few components it has.
  if (problem.search.method == SearchMethod::kDescent && cost_options.pairs == CostPairs::kAuto) {
    cost_options.pairs = CostPairs::kAdjacent;
  }
  *costs = TransitionCostSolver(cost_options).Solve(problem, components, summary);
  if (!summary->status.ok() || !energies) return summary->status;
  *result = ComputeEnergies(costs->costs, EnergiesOptionsFor(options.costs));
  // The cost solver's matrices are valid by construction: a failure here is ours, not the input's.
  if (!result->status.ok()) return Status(StatusCode::kNumericalIssue, "energies: " + result->status.message());
  return Status::Ok();
}

}  // namespace

Status AnalysisOptions::Validate(const Problem& problem) const {
  if (num_threads < 0) {
    return Status(StatusCode::kInvalidOptions, InvalidOption("num_threads", num_threads, "num_threads >= 0"));
  }
  for (double eta : step_sizes) {
    if (!(eta > 0) || !std::isfinite(eta)) {
      return Status(StatusCode::kInvalidOptions, InvalidOption("step_sizes", eta, "every step size > 0 and finite"));
    }
  }
  if (compare_gaussian && !problem.noise.is_finite_sum()) {
    return Status(StatusCode::kInvalidInput, "comparing with the Gaussian approximation needs finite_sum noise");
  }
  return Status::Ok();
}

EnergiesOptions EnergiesOptionsFor(const TransitionCostSolver::Options& costs) {
  EnergiesOptions options;
  options.tie_tolerance =
      std::max(options.tie_tolerance, kTieToleranceFactor * costs.action.relative_tolerance);
  return options;
}

Analysis Analyze(const Problem& problem, const AnalysisOptions& options, AnalysisSummary* summary) {
  const Clock::time_point start = Clock::now();
  AnalysisSummary local;
  AnalysisSummary& s = summary != nullptr ? *summary : local;
  s = AnalysisSummary();
  Analysis out;
  auto finish = [&](Status status, const char* field = "") {
    s.status = std::move(status);
    if (s.status.code() == StatusCode::kInvalidInput) s.input_field = field;
    s.time_seconds = std::chrono::duration<double>(Clock::now() - start).count();
    return out;
  };
  if (Status valid = options.Validate(problem); !valid.ok()) return finish(valid, "noise.type");

  if (problem.search.method == SearchMethod::kDescent) {
    DiscoveryOptions discovery = options.discovery;
    discovery.num_threads = options.num_threads;
    discovery.progress = options.critical.progress;
    out.components = DiscoverComponents(problem, discovery, &s.discovery);
    if (!s.discovery.status.ok()) return finish(s.discovery.status, "search");
  } else {
    CriticalPointFinder::Options critical = options.critical;
    critical.num_threads = options.num_threads;
    out.components = CriticalPointFinder(critical).Find(*problem.objective, problem.domain, &s.critical);
    if (!s.critical.status.ok()) return finish(s.critical.status);
  }
  // Every command that goes on from the components (costs, simulation, stability) needs a noise
  // that is a covariance there.
  Eigen::VectorXd where;
  if (Status noise = CheckNoiseAtComponents(problem, out.components, &where); !noise.ok()) {
    return finish(noise, "noise");
  }
  if (options.last_stage == AnalysisStage::kComponents) return finish(Status::Ok());

  const bool energies = options.last_stage != AnalysisStage::kCosts;
  // A covariance that is not a covariance, or a noise model without costs, is the input's fault.
  Status costs = CostsAndEnergies(problem, out.components, options, energies, &out.costs, &out.energies, &s.costs);
  if (!costs.ok() || options.last_stage < AnalysisStage::kPredictions) return finish(costs, "noise");

  const std::vector<double>& steps = options.step_sizes.empty() ? problem.step_sizes : options.step_sizes;
  out.predictions = Predict(problem, out.components, out.energies.relative, steps);
  out.assumptions = CheckAssumptions(problem, out.components);
  if (options.compare_gaussian) {
    const NoiseApproximation other = problem.noise.approximation() == NoiseApproximation::kExact
                                         ? NoiseApproximation::kGaussian
                                         : NoiseApproximation::kExact;
    Problem compared = problem;
    compared.noise = problem.noise.WithApproximation(other);
    NoiseComparison c;
    c.approximation = other;
    costs = CostsAndEnergies(compared, out.components, options, true, &c.costs, &c.energies, &s.compared_costs);
    if (!costs.ok()) return finish(costs, "noise");
    out.comparison = std::move(c);
  }
  return finish(Status::Ok());
}

std::string AnalysisSummary::BriefReport() const {
  std::string out = discovery.status.code() != StatusCode::kNotRun ? discovery.BriefReport() : critical.BriefReport();
  if (costs.status.code() != StatusCode::kNotRun) out += "\n" + costs.BriefReport();
  return out;
}

std::string AnalysisSummary::FullReport() const {
  std::string out = discovery.status.code() != StatusCode::kNotRun ? discovery.FullReport() : critical.FullReport();
  if (costs.status.code() != StatusCode::kNotRun) out += "\n" + costs.FullReport();
  return out;
}

namespace {

// Freidlin's cycle hierarchy (graph/cycle_tree.h) for the report's figures; null heights are +inf.
nlohmann::json CycleTreeJson(const Eigen::MatrixXd& costs) {
  const CycleTree tree = BuildCycleTree(costs);
  if (!tree.status.ok()) return nullptr;
  const auto finite = [](double v) { return std::isfinite(v) ? nlohmann::json(v) : nlohmann::json(nullptr); };
  nlohmann::json nodes = nlohmann::json::array();
  for (const CycleNode& n : tree.nodes) {
    nodes.push_back({{"members", n.members}, {"children", n.children}, {"parent", n.parent}, {"level", n.level},
                     {"bottom", n.bottom}, {"exit_cost", finite(n.exit_cost)}, {"exit_to", n.exit_to},
                     {"exit_height", finite(n.exit_height)}, {"height", finite(n.height)}});
  }
  return {{"nodes", nodes}, {"roots", tree.roots}};
}

}  // namespace

nlohmann::json ToJson(const Problem& problem, const Analysis& a, const AnalysisSummary& summary) {
  nlohmann::json report = ToJson(a.costs);
  report["problem"] = problem.name;  // as AddProblem (reports.h) does
  report["variables"] = problem.variables;
  report["components"] = ToJson(a.components);
  report["search"] = ToString(problem.search.method);
  if (summary.discovery.status.ok()) report["discovery"] = ToJson(summary.discovery);
  report["energies"] = VectorOrNulls(a.energies.relative);
  report["ground_states"] = a.energies.ground_states;
  report["trees"] = a.energies.trees;
  if (a.costs.costs.size() > 0) report["cycle_tree"] = CycleTreeJson(a.costs.costs);
  report["predictions"] = ToJson(a.predictions);
  report["predictions"]["reliable"] = a.assumptions.predictions_reliable();
  if (!a.assumptions.predictions_reliable()) {
    report["predictions"]["unreliable_because"] = a.assumptions.FailedSummary();
  }
  report["assumptions"] = ToJson(a.assumptions);
  report["uncertified_infinite_costs"] = nlohmann::json::array();
  for (const auto& [i, j] : summary.costs.uncertified_infinite) {
    report["uncertified_infinite_costs"].push_back({i, j});
  }
  if (a.comparison) {
    nlohmann::json model = ToJson(a.comparison->costs);
    model.erase("paths");
    model["noise"] = a.comparison->approximation == NoiseApproximation::kGaussian ? "gaussian_approximation" : "exact";
    model["energies"] = VectorOrNulls(a.comparison->energies.relative);
    model["ground_states"] = a.comparison->energies.ground_states;
    report["comparison"] = model;
  }
  return report;
}

}  // namespace ldsgd
