// `ldsgd critical`: the critical components of a problem's objective in its box.
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "apps/commands.h"
#include "apps/output.h"
#include "apps/problem_argument.h"
#include "apps/validators.h"
#include "apps/pipeline.h"
#include "solver/analysis/analysis.h"
#include "solver/analysis/reports.h"
#include "solver/analysis/serialization.h"

namespace ldsgd {
namespace {

struct CriticalArgs {
  std::string problem;
  OutputTarget out;
  bool json = false;
  bool verbose = false;
  AnalysisOptions options;
};

int Run(const CriticalArgs& args) {
  const Problem problem = LoadProblemArgument(args.problem);
  AnalysisSummary summary;
  const std::vector<CriticalComponent> components = RunAnalysis(problem, args.options, &summary, ShowProgress(args.json)).components;
  CommandOutput out;
  out.doc = {{"problem", problem.name}, {"variables", problem.variables}, {"components", ToJson(components)},
             {"search", ToString(problem.search.method)}};
  if (summary.discovery.status.ok()) out.doc["discovery"] = ToJson(summary.discovery);
  out.files = {{"critical.json", out.doc.dump(2) + "\n"}};
  out.text = Title(problem) + "\nvariables: ";
  for (std::size_t i = 0; i < problem.variables.size(); ++i) out.text += (i ? ", " : "") + problem.variables[i];
  out.text += "\n\n" + ComponentTable(components) + "\n" +
              (args.verbose ? summary.FullReport() : summary.BriefReport()) + "\n";
  out.wrote = "critical.json";
  return Emit(out, args.out, args.json);
}

}  // namespace

Action AddCriticalCommand(CLI::App& app) {
  auto args = std::make_shared<CriticalArgs>();
  args->options.last_stage = AnalysisStage::kComponents;
  CLI::App* cmd = app.add_subcommand(
      "critical",
      "Find and classify every critical component of the objective in the problem's box (or, with\n"
      "\"search\": {\"method\": \"descent\"}, the minima and index-1 saddles by discovery).\n"
      "Prints: id, type (minimum, saddle, maximum, degenerate), index (number of negative Hessian\n"
      "eigenvalues), point, f, Hessian eigenvalues, size (critical points merged into a\n"
      "non-isolated component, 1 if isolated).");
  cmd->add_option("problem", args->problem,
                  "Problem file (JSON). Default: the embedded data/himmelblau.json.");
  cmd->add_flag("--json", args->json, "Print JSON ({\"components\": [...]}) instead of a table.");
  AddOutputOptions(cmd, &args->out, "Also write DIR/critical.json (created if missing).");
  cmd->add_option("--starts", args->options.critical.num_starts,
                  "Number of multi-start points (0: automatic, clamp(100*3^d, 300, 20000)).")
      ->check(kStartCount);
  cmd->add_option("--threads", args->options.num_threads, "Worker threads (0: all cores).")
      ->check(kThreadCount);
  cmd->add_flag("--verbose", args->verbose, "Print the full search report.");
  return [args] { return Run(*args); };
}

}  // namespace ldsgd
