// `ldsgd actions`: transition costs B_ij between all critical components, with their paths.
#include <iostream>
#include <memory>
#include <string>

#include "apps/commands.h"
#include "apps/output.h"
#include "apps/pipeline.h"
#include "apps/problem_argument.h"
#include "solver/landscape/critical_points.h"
#include "solver/io/input_error.h"
#include "solver/analysis/serialization.h"
#include "solver/action/transition_costs.h"

namespace ldsgd {
namespace {

struct ActionsArgs {
  std::string problem;
  std::string out;
  bool json = false;
  bool verbose = false;
  int threads = 0;
  double tolerance = 1e-8;
};

int Run(const ActionsArgs& args) {
  const Problem problem = LoadProblemArgument(args.problem);
  const CostPipeline run = ComputeCosts(problem, args.threads, args.tolerance);
  const std::vector<CriticalComponent>& components = run.components;
  const TransitionCosts& costs = run.costs;
  const TransitionCostSolver::Summary& summary = run.cost_summary;

  nlohmann::json doc = ToJson(costs);
  doc["components"] = ToJson(components);
  doc["variables"] = problem.variables;
  if (!args.out.empty()) {
    WriteFileAtomically(args.out, "costs.json", doc.dump(2) + "\n");
    WritePathFiles(args.out + "/paths", costs, problem.variables);
  }
  if (args.json) {
    std::cout << doc.dump(2) << "\n";
    return kExitOk;
  }
  std::cout << (problem.name.empty() ? problem.source : problem.name) << "\n\ncomponents:\n";
  for (const CriticalComponent& c : components) {
    std::cout << "  " << c.id << "  " << ToString(c.type) << "  " << FormatVector(c.point)
              << "  f = " << FormatNumber(c.f, 10) << "\n";
  }
  std::cout << "\ntransition costs B[from][to]:\n" << CostTable(costs.costs, components) << "\n"
            << (args.verbose ? summary.FullReport() : summary.BriefReport()) << "\n";
  if (!args.out.empty()) std::cout << "wrote " << args.out << "/costs.json and " << args.out << "/paths/\n";
  return kExitOk;
}

}  // namespace

std::string CostTable(const Eigen::MatrixXd& costs, const std::vector<CriticalComponent>& components) {
  std::vector<std::string> header = {"from \\ to"};
  for (const CriticalComponent& c : components) header.push_back(std::to_string(c.id) + " " + ToString(c.type));
  Table table(header);
  for (int i = 0; i < costs.rows(); ++i) {
    std::vector<std::string> row = {std::to_string(components[i].id) + " " + ToString(components[i].type)};
    for (int j = 0; j < costs.cols(); ++j) row.push_back(FormatNumber(costs(i, j), 9));
    table.AddRow(row);
  }
  return table.ToString();
}

Action AddActionsCommand(CLI::App& app) {
  auto args = std::make_shared<ActionsArgs>();
  CLI::App* cmd = app.add_subcommand(
      "actions",
      "Transition costs B_ij: the minimal Freidlin-Wentzell action from component i to j, for every\n"
      "ordered pair (Gaussian noise), by the string method on Ceres, gradient flow for zero-cost pairs,\n"
      "and shortest-path closure. Prints the matrix; --out writes costs.json and one CSV per path.");
  cmd->add_option("problem", args->problem,
                  "Problem file (JSON). Default: the embedded data/himmelblau.json.");
  cmd->add_flag("--json", args->json,
                "Print costs.json to stdout instead of a table (costs: null = +infinity).");
  cmd->add_option("--out", args->out, "Write DIR/costs.json and DIR/paths/FROM_to_TO.csv.");
  cmd->add_option("--tolerance", args->tolerance,
                  "Relative tolerance of each action (Richardson error estimate).")
      ->check(CLI::PositiveNumber);
  cmd->add_option("--threads", args->threads, "Worker threads (0: all cores).")->check(CLI::NonNegativeNumber);
  cmd->add_flag("--verbose", args->verbose, "Print the full solver report.");
  return [args] { return Run(*args); };
}

}  // namespace ldsgd
