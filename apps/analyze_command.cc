// `ldsgd analyze`: the main job. Critical components, transition costs, energies, ground states,
// predictions, and the transition graph exports.
#include <algorithm>
#include <cmath>
#include <iostream>
#include <memory>
#include <string>

#include "apps/commands.h"
#include "apps/output.h"
#include "apps/pipeline.h"
#include "apps/problem_argument.h"
#include "graph/energies.h"
#include "graph/graph_export.h"
#include "solver/theory/assumptions.h"
#include "solver/landscape/critical_points.h"
#include "solver/io/input_error.h"
#include "solver/theory/predictions.h"
#include "solver/analysis/serialization.h"
#include "solver/action/transition_costs.h"

namespace ldsgd {
namespace {

struct AnalyzeArgs {
  std::string problem;
  std::string out;
  std::vector<double> step_sizes;
  bool json = false;
  bool verbose = false;
  bool compare_gaussian = false;
  int threads = 0;
  double tolerance = 1e-8;
};

nlohmann::json VectorOrNulls(const Eigen::VectorXd& v) {
  nlohmann::json a = nlohmann::json::array();
  for (int i = 0; i < v.size(); ++i) a.push_back(NumberOrNull(v[i]));
  return a;
}

nlohmann::json PredictionsJson(const Predictions& p) {
  nlohmann::json steps = nlohmann::json::array();
  for (const StepSizePrediction& s : p.steps) {
    nlohmann::json j = {{"step_size", s.step_size},
                        {"stable", s.stable},
                        {"log_weights", VectorOrNulls(s.log_weight)},
                        {"weights", VectorOrNulls(s.weight)}};
    if (s.laplace_mass.size() > 0) j["laplace_masses"] = VectorOrNulls(s.laplace_mass);
    steps.push_back(j);
  }
  return {{"stability_bound", NumberOrNull(p.stability_bound)}, {"step_sizes", steps}, {"notes", p.notes}};
}

int Run(const AnalyzeArgs& args) {
  const Problem problem = LoadProblemArgument(args.problem);
  // Checked before the long computation: a bad flag for this problem fails fast.
  const Problem other = args.compare_gaussian ? WithOtherFiniteSumNoise(problem) : Problem();
  const CostPipeline run = ComputeCosts(problem, args.threads, args.tolerance);
  const std::vector<CriticalComponent>& components = run.components;
  const TransitionCosts& costs = run.costs;

  const Energies& energies = run.energies;
  const std::vector<double> steps = args.step_sizes.empty() ? problem.step_sizes : args.step_sizes;
  const Predictions predictions = Predict(problem, components, energies.relative, steps);
  const AssumptionReport assumptions = CheckAssumptions(problem, components);

  nlohmann::json report = ToJson(costs);
  report["problem"] = problem.name;
  report["variables"] = problem.variables;
  report["components"] = ToJson(components);
  report["energies"] = VectorOrNulls(energies.relative);
  report["ground_states"] = energies.ground_states;
  report["trees"] = energies.trees;
  report["predictions"] = PredictionsJson(predictions);
  report["predictions"]["reliable"] = assumptions.predictions_reliable();
  if (!assumptions.predictions_reliable()) report["predictions"]["unreliable_because"] = assumptions.FailedSummary();
  report["assumptions"] = ToJson(assumptions);
  report["uncertified_infinite_costs"] = nlohmann::json::array();
  for (const auto& [i, j] : run.cost_summary.uncertified_infinite) {
    report["uncertified_infinite_costs"].push_back({i, j});
  }
  // --compare-gaussian: the same components under the other finite-sum noise model.
  std::unique_ptr<CostPipeline> compared;
  if (args.compare_gaussian) {
    compared = std::make_unique<CostPipeline>(
        ComputeCostsOn(other, components, args.threads, args.tolerance));
    const bool exact_first = !problem.noise.gaussian_approximation;
    nlohmann::json model = ToJson(compared->costs);
    model.erase("paths");
    model["noise"] = exact_first ? "gaussian_approximation" : "exact";
    model["energies"] = VectorOrNulls(compared->energies.relative);
    model["ground_states"] = compared->energies.ground_states;
    report["comparison"] = model;
  }

  if (!args.out.empty()) {
    std::vector<GraphNode> nodes;
    for (const CriticalComponent& c : components) nodes.push_back({ToString(c.type), c.f});
    // Everything is computed before anything is written: a failure leaves no partial output.
    const std::string dot = ToDot(costs.costs, nodes, energies);
    const std::string graphml = ToGraphML(costs.costs, nodes, energies);
    WriteFileAtomically(args.out, "report.json", report.dump(2) + "\n");
    WriteFileAtomically(args.out, "graph.dot", dot);
    WriteFileAtomically(args.out, "graph.graphml", graphml);
    WritePathFiles(args.out + "/paths", costs, problem.variables);
  }
  if (args.json) {
    std::cout << report.dump(2) << "\n";
    return kExitOk;
  }

  std::cout << (problem.name.empty() ? problem.source : problem.name) << "\n\n";
  std::vector<std::string> header = {"id", "type", "point", "f", "E"};
  const std::string other_label = problem.noise.gaussian_approximation ? "E(exact)" : "E(gaussian)";
  if (compared) header.push_back(other_label);
  const std::string mark = assumptions.predictions_reliable() ? "" : "*";
  for (const StepSizePrediction& s : predictions.steps) {
    header.push_back("weight(eta=" + FormatNumber(s.step_size, 4) + ")" + mark);
  }
  Table table(header);
  for (std::size_t i = 0; i < components.size(); ++i) {
    const CriticalComponent& c = components[i];
    std::string type = ToString(c.type);
    if (c.type == CriticalType::kSaddle) type += " (index " + std::to_string(c.index) + ")";
    std::vector<std::string> row = {std::to_string(c.id), type, FormatVector(c.point, 7), FormatNumber(c.f, 8),
                                    FormatNumber(energies.relative[i], 8)};
    if (compared) row.push_back(FormatNumber(compared->energies.relative[i], 8));
    for (const StepSizePrediction& s : predictions.steps) row.push_back(FormatNumber(s.weight[i], 4));
    table.AddRow(row);
  }
  std::cout << table.ToString() << "\nground state" << (energies.ground_states.size() > 1 ? "s" : "") << ":";
  for (int g : energies.ground_states) std::cout << " " << g;
  if (energies.ground_states.empty()) {
    std::cout << " none (every energy is +inf: no component is reachable from all the others at finite "
                 "cost, so the long-run law depends on where SGD starts)";
  }
  std::cout << "\n";
  if (compared) {
    std::cout << (problem.noise.gaussian_approximation ? "exact minibatch noise" : "gaussian approximation")
              << ": ground state";
    for (int g : compared->energies.ground_states) std::cout << " " << g;
    if (compared->energies.ground_states.empty()) std::cout << " none";
    std::cout << "; transition costs B[from][to]:\n" << CostTable(compared->costs.costs, components);
  }
  for (const StepSizePrediction& s : predictions.steps) {
    if (!s.stable) {
      std::cout << "warning: eta = " << FormatNumber(s.step_size, 4) << " exceeds the stability bound 2/lambda_max = "
                << FormatNumber(predictions.stability_bound, 4) << ": the chain is not SGD-like near the minima\n";
    }
  }
  if (!predictions.steps.empty() && predictions.steps[0].laplace_mass.size() > 0) {
    std::cout << "Laplace-corrected masses of the minima (isotropic noise, THEORY.md section 6):\n";
    for (const StepSizePrediction& s : predictions.steps) {
      std::cout << "  eta = " << FormatNumber(s.step_size, 4) << ":";
      for (std::size_t i = 0; i < components.size(); ++i) {
        if (!std::isnan(s.laplace_mass[i])) std::cout << "  [" << i << "] " << FormatNumber(s.laplace_mass[i], 4);
      }
      std::cout << "\n";
    }
  }
  for (const std::string& note : predictions.notes) std::cout << "note: " << note << "\n";
  if (!run.cost_summary.uncertified_infinite.empty()) {
    std::cout << "warning: " << run.cost_summary.uncertified_infinite.size()
              << " costs are +inf only because every path tried crossed a region the sample steps cannot "
                 "move through; a curved path of finite cost may exist (finite sum in d >= 2):";
    for (const auto& [i, j] : run.cost_summary.uncertified_infinite) std::cout << " " << i << "->" << j;
    std::cout << "\n";
  }
  std::cout << AssumptionLines(assumptions);
  if (!mark.empty()) std::cout << "(*: unreliable weights)\n";
  if (args.verbose) std::cout << "\ntransition costs B[from][to]:\n" << CostTable(costs.costs, components);
  std::cout << "\n" << (args.verbose ? run.critical_summary.FullReport() : run.critical_summary.BriefReport()) << "\n"
            << (args.verbose ? run.cost_summary.FullReport() : run.cost_summary.BriefReport()) << "\n";
  if (!args.out.empty()) {
    std::cout << "wrote " << args.out << "/report.json, graph.dot, graph.graphml and paths/\n";
  }
  return kExitOk;
}

}  // namespace

Action AddAnalyzeCommand(CLI::App& app) {
  auto args = std::make_shared<AnalyzeArgs>();
  CLI::App* cmd = app.add_subcommand(
      "analyze",
      "The main job: critical components, transition costs B_ij, energies E_i (minimum spanning\n"
      "in-arborescences), ground states and predicted long-run weights exp(-E_i/eta); with --out, the\n"
      "report (report.json), the transition graph (graph.dot, graph.graphml) and the paths (paths/).");
  cmd->add_option("problem", args->problem, "Problem file (JSON). Default: the embedded data/himmelblau.json.");
  cmd->add_option("--out", args->out, "Write DIR/report.json, DIR/graph.dot, DIR/graph.graphml, DIR/paths/.");
  cmd->add_option("--step-sizes", args->step_sizes, "Step sizes for the predictions (default: the problem's).")
      ->delimiter(',')
      ->check(CLI::PositiveNumber);
  cmd->add_flag("--json", args->json, "Print report.json to stdout instead of the summary.");
  cmd->add_option("--tolerance", args->tolerance, "Relative tolerance of each action.")->check(CLI::PositiveNumber);
  cmd->add_option("--threads", args->threads, "Worker threads (0: all cores).")->check(CLI::NonNegativeNumber);
  cmd->add_flag("--verbose", args->verbose, "Print the cost matrix and the full solver reports.");
  cmd->add_flag("--compare-gaussian", args->compare_gaussian,
                "Finite-sum noise: also compute the costs and energies under the Gaussian approximation\n"
                "(the exact minibatch covariance, diffusion limit), or the exact ones when the problem\n"
                "asks for the approximation; report.json gets \"comparison\".");
  return [args] { return Run(*args); };
}

}  // namespace ldsgd
