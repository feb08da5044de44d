// `ldsgd analyze`: the main job. Critical components, transition costs, energies, ground states,
// predictions, and the transition graph exports.
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "apps/commands.h"
#include "apps/output.h"
#include "apps/pipeline.h"
#include "apps/problem_argument.h"
#include "apps/validators.h"
#include "solver/analysis/analysis.h"
#include "solver/analysis/reports.h"

namespace ldsgd {
namespace {

struct AnalyzeArgs {
  std::string problem, pairs = "auto";
  OutputTarget out;
  bool json = false;
  bool verbose = false;
  AnalysisOptions options;
};

int Run(const AnalyzeArgs& args) {
  const Problem problem = LoadProblemArgument(args.problem);
  AnalysisOptions options = args.options;
  FromString(args.pairs, &options.costs.pairs);  // checked by CLI11
  AnalysisSummary summary;
  const Analysis a = RunAnalysis(problem, options, &summary, ShowProgress(args.json));
  CommandOutput out;
  out.doc = ToJson(problem, a, summary);
  if (!args.out.empty()) out.files = AnalysisFiles(problem, a, out.doc);
  out.text = AnalysisText(problem, a, summary, args.verbose);
  out.wrote = "report.json, graph.dot, graph.graphml and paths/";
  return Emit(out, args.out, args.json);
}

}  // namespace

Action AddAnalyzeCommand(CLI::App& app) {
  auto args = std::make_shared<AnalyzeArgs>();
  AnalysisOptions& o = args->options;
  CLI::App* cmd = app.add_subcommand(
      "analyze",
      "The main job: critical components, transition costs B_ij, energies E_i (minimum spanning\n"
      "in-arborescences), ground states and predicted long-run weights exp(-E_i/eta); with --out, the\n"
      "report (report.json), the transition graph (graph.dot, graph.graphml) and the paths (paths/).");
  cmd->add_option("problem", args->problem, "Problem file (JSON). Default: the embedded data/himmelblau.json.");
  AddOutputOptions(cmd, &args->out, "Write DIR/report.json, DIR/graph.dot, DIR/graph.graphml, DIR/paths/.");
  cmd->add_option("--step-sizes", o.step_sizes, "Step sizes for the predictions (default: the problem's).")
      ->delimiter(',')
      ->check(kPositive);
  cmd->add_flag("--json", args->json, "Print report.json to stdout instead of the summary.");
  cmd->add_option("--tolerance", o.costs.action.relative_tolerance, "Relative tolerance of each action.")
      ->check(kPositive);
  cmd->add_option("--threads", o.num_threads, "Worker threads (0: all cores).")->check(kThreadCount);
  cmd->add_option("--cost-pairs", args->pairs,
                  "Pairs with their own minimum-action path: all, adjacent (the climbs of the gradient-flow\n"
                  "connections; the closure does the rest) or auto (adjacent above 40 components).")
      ->check(CLI::IsMember({"all", "adjacent", "auto"}))
      ->capture_default_str();
  cmd->add_flag("--verbose", args->verbose, "Print the cost matrix and the full solver reports.");
  cmd->add_flag("--compare-gaussian", o.compare_gaussian,
                "Finite-sum noise: also compute the costs and energies under the Gaussian approximation\n"
                "(the exact minibatch covariance, diffusion limit), or the exact ones when the problem\n"
                "asks for the approximation; report.json gets \"comparison\".");
  return [args] { return Run(*args); };
}

}  // namespace ldsgd
