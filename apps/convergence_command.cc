// `ldsgd convergence`: how long SGD needs to reach a global minimum (THEORY.md section 10;
// solver/theory/convergence.h), and with --verify the simulated hitting times against it.
#include <memory>
#include <string>
#include <vector>

#include "apps/commands.h"
#include "apps/output.h"
#include "apps/pipeline.h"
#include "apps/problem_argument.h"
#include "apps/validators.h"
#include "solver/analysis/reports.h"
#include "solver/io/input_error.h"
#include "solver/theory/convergence_check.h"

namespace ldsgd {
namespace {

struct ConvergenceArgs {
  std::string problem, starts_from, budget = "2m";
  std::vector<std::string> starts;
  int samples = 64;
  bool verify = false, json = false;
  ConvergenceOptions options;
  ConvergenceCheckOptions check;
  OutputTarget out;
};

std::vector<Eigen::VectorXd> Starts(const Problem& problem, const ConvergenceArgs& args) {
  std::vector<Eigen::VectorXd> out;
  for (std::size_t n = 0; n < args.starts.size(); ++n) {
    const std::string field = "--start " + std::to_string(n + 1);
    out.push_back(ParsePoint(args.starts[n], "convergence", field));
    if (const std::string why = CheckStart(problem, out.back()); !why.empty()) {
      throw InputError("convergence", field, "the start (" + args.starts[n] + ") " + why);
    }
  }
  if (args.starts_from == "box" || (args.starts_from.empty() && out.empty())) {
    for (Eigen::VectorXd& x : BoxStarts(problem, args.samples)) out.push_back(std::move(x));
  } else if (!args.starts_from.empty()) {
    for (Eigen::VectorXd& x : ReadStarts(problem, args.starts_from)) out.push_back(std::move(x));
  }
  return out;
}

int Run(ConvergenceArgs& args) {
  const Problem problem = LoadProblemArgument(args.problem);
  const std::vector<Eigen::VectorXd> starts = Starts(problem, args);
  const bool progress = ShowProgress(args.json);
  AnalysisOptions analysis_options;
  analysis_options.last_stage = AnalysisStage::kCosts;
  analysis_options.costs.restricted = true;
  analysis_options.num_threads = args.options.num_threads;
  AnalysisSummary summary;
  const Analysis analysis = RunAnalysis(problem, analysis_options, &summary, progress);
  args.options.costs = analysis_options.costs;
  args.options.costs.num_threads = 1;  // the starts run in parallel
  const ConvergenceReport report = AnalyzeConvergence(problem, analysis.components, analysis.costs, starts, args.options);
  ThrowIfFailed(problem, report.status);
  std::vector<VerifyCheck> checks;
  if (args.verify) {
    args.check.budget_seconds = DurationSeconds(args.budget);
    args.check.num_threads = args.options.num_threads;
    args.check.progress = progress;
    checks = ConvergenceChecks(problem, analysis.components, analysis.costs, report, args.check);
  }
  CommandOutput out;
  out.doc = ConvergenceJson(problem, analysis.components, report, problem.step_sizes, args.verify ? &checks : nullptr);
  out.files = {{"convergence.json", out.doc.dump(2) + "\n"}};
  out.text = ConvergenceText(problem, analysis.components, report, problem.step_sizes, checks);
  out.wrote = "convergence.json";
  const int code = Emit(out, args.out, args.json);
  return code != kExitOk || !args.verify || ConvergenceVerdict(checks) == Verdict::kPass ? code : kExitFailure;
}

}  // namespace

Action AddConvergenceCommand(CLI::App& app) {
  auto args = std::make_shared<ConvergenceArgs>();
  CLI::App* cmd = app.add_subcommand(
      "convergence",
      "How long SGD takes to reach a global minimum (Azizian et al., ICML 2025; THEORY.md section 10): for\n"
      "each start x, E(x) with E tau ~ exp(E(x)/eta) steps to come within delta of argmin f, the well whose\n"
      "escape dominates the wait, and for a set of starts the distribution of E(x). --verify simulates the\n"
      "hitting times at three step sizes and checks the slope of log(eta E tau) against 1/eta.");
  cmd->add_option("problem", args->problem, "Problem file (JSON). Default: the embedded data/himmelblau.json.");
  cmd->add_option("--start", args->starts, "A start x1,...,xd (repeatable).");
  cmd->add_option("--starts-from", args->starts_from,
                  "box (--samples points spread over the problem's box; the default without --start) or a CSV file\n"
                  "whose columns are named by the problem's variables, one start per row.");
  cmd->add_option("--samples", args->samples, "Starts of --starts-from box.")->check(CLI::Range(1, 100000))->capture_default_str();
  cmd->add_option("--delta", args->options.delta, "Radius of the neighbourhood of argmin f (default: 0.1 x its distance to the nearest other component).")
      ->check(kPositive);
  cmd->add_flag("--verify", args->verify, "Simulate the hitting times and check E(x) (exit code 1 unless pass).");
  cmd->add_option("--budget", args->budget, "Wall-clock budget of --verify: 90s, 2m, 1h or seconds (default 2m).")->check(kDuration);
  cmd->add_option("--chains", args->check.chains, "Chains per start and step size of --verify.")
      ->check(CLI::Range(2, 1000000))
      ->capture_default_str();
  cmd->add_option("--seed", args->check.seed, "Random seed (Philox key).");
  cmd->add_option("--threads", args->options.num_threads, "Worker threads (0: all cores); results do not depend on it.")
      ->check(kThreadCount);
  AddOutputOptions(cmd, &args->out, "Write DIR/convergence.json.");
  cmd->add_flag("--json", args->json, "Print convergence.json to stdout instead of the tables.");
  return [args] { return Run(*args); };
}

}  // namespace ldsgd
