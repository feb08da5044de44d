// `ldsgd actions`: transition costs B_ij between all critical components, with their paths.
#include <iostream>
#include <memory>
#include <sstream>
#include <string>

#include "apps/commands.h"
#include "apps/output.h"
#include "apps/pipeline.h"
#include "apps/problem_argument.h"
#include "apps/validators.h"
#include "solver/analysis/analysis.h"
#include "solver/analysis/reports.h"
#include "solver/analysis/serialization.h"

namespace ldsgd {
namespace {

struct ActionsArgs {
  std::string problem;
  OutputTarget out;
  bool json = false;
  bool verbose = false;
  AnalysisOptions options;
};

int Run(const ActionsArgs& args) {
  const Problem problem = LoadProblemArgument(args.problem);
  AnalysisSummary summary;
  const Analysis a = RunAnalysis(problem, args.options, &summary, ShowProgress(args.json));
  CommandOutput out;
  out.doc = ToJson(a.costs);
  out.doc["components"] = ToJson(a.components);
  out.doc["variables"] = problem.variables;
  out.files = PathFiles(a.costs, problem.variables);
  out.files.insert(out.files.begin(), {"costs.json", out.doc.dump(2) + "\n"});
  std::ostringstream text;
  text << Title(problem) << "\n\ncomponents:\n";
  for (const CriticalComponent& c : a.components) {
    text << "  " << c.id << "  " << ToString(c.type) << "  " << FormatVector(c.point) << "  f = " << FormatNumber(c.f, 10)
         << "\n";
  }
  text << "\ntransition costs B[from][to]:\n" << CostTable(a.costs.costs, a.components) << "\n"
       << (args.verbose ? summary.costs.FullReport() : summary.costs.BriefReport()) << "\n";
  out.text = text.str();
  out.wrote = "costs.json and " + args.out.dir + "/paths/";
  return Emit(out, args.out, args.json);
}

}  // namespace

Action AddActionsCommand(CLI::App& app) {
  auto args = std::make_shared<ActionsArgs>();
  args->options.last_stage = AnalysisStage::kCosts;
  CLI::App* cmd = app.add_subcommand(
      "actions",
      "Transition costs B_ij: the minimal Freidlin-Wentzell action from component i to j, for every\n"
      "ordered pair (Gaussian noise), by the string method on Ceres, gradient flow for zero-cost pairs,\n"
      "and shortest-path closure. Prints the matrix; --out writes costs.json and one CSV per path.");
  cmd->add_option("problem", args->problem,
                  "Problem file (JSON). Default: the embedded data/himmelblau.json.");
  cmd->add_flag("--json", args->json,
                "Print costs.json to stdout instead of a table (costs: null = +infinity).");
  AddOutputOptions(cmd, &args->out, "Write DIR/costs.json and DIR/paths/FROM_to_TO.csv.");
  cmd->add_option("--tolerance", args->options.costs.action.relative_tolerance,
                  "Relative tolerance of each action (Richardson error estimate).")
      ->check(kPositive);
  cmd->add_option("--threads", args->options.num_threads, "Worker threads (0: all cores).")
      ->check(kThreadCount);
  cmd->add_flag("--verbose", args->verbose, "Print the full solver report.");
  return [args] { return Run(*args); };
}

}  // namespace ldsgd
