// `ldsgd verify`: the predictions against simulations of SGD itself, with honest verdicts.
#include <algorithm>
#include <iostream>
#include <memory>
#include <string>

#include "apps/commands.h"
#include "apps/output.h"
#include "apps/pipeline.h"
#include "apps/problem_argument.h"
#include "apps/validators.h"
#include "solver/analysis/reports.h"
#include "solver/io/input_error.h"
#include "solver/theory/init_verification.h"

namespace ldsgd {
namespace {

struct VerifyArgs {
  std::string problem;
  OutputTarget out;
  std::vector<double> step_sizes;
  bool json = false;
  int threads = 0;
  std::string budget = "2m";
  double scale = 1.0;
  bool from_init = false;
  VerifyOptions options;
};

// --from-init: chains from search.init at the largest step size (init_verification.h).
int RunFromInit(const Problem& problem, const Analysis& analysis, const VerifyArgs& args) {
  const InitVerificationOptions o = InitVerificationOptions::From(args.options);
  const InitVerification v = VerifyFromInit(problem, analysis.components, analysis.energies.relative,
                                            CheckAssumptions(problem, analysis.components), o);
  if (!v.status.ok()) throw InputError(problem.source, "", v.status.message());
  CommandOutput out;
  out.doc = ToJson(v);
  out.files = {{"verify_init.json", out.doc.dump(2) + "\n"}};
  out.text = v.Report() + "\n";
  out.wrote = "verify_init.json";
  Emit(out, args.out, args.json);
  return v.verdict == Verdict::kPass ? kExitOk : kExitFailure;
}

int Run(VerifyArgs& args) {
  const Problem problem = LoadProblemArgument(args.problem);
  AnalysisOptions analysis_options;
  analysis_options.last_stage = AnalysisStage::kEnergies;
  analysis_options.num_threads = args.threads;
  AnalysisSummary summary;
  const Analysis analysis = RunAnalysis(problem, analysis_options, &summary, ShowProgress(args.json));
  VerifyOptions& o = args.options;
  o.num_threads = args.threads;
  o.budget_seconds = DurationSeconds(args.budget);
  o.step_sizes = !args.step_sizes.empty() ? args.step_sizes : problem.step_sizes;
  o.progress = ShowProgress(args.json);
  if (args.from_init && o.step_sizes.empty()) throw InputError(problem.source, "step_sizes", "--from-init needs a step size (--step-sizes)");
  if (args.from_init) return RunFromInit(problem, analysis, args);
  const VerifyReport report = Verify(problem, analysis.components, args.scale * analysis.costs.costs,
                                     args.scale * analysis.energies.relative, o, &analysis.costs);
  if (!report.status.ok()) throw InputError(problem.source, "", report.status.message());

  CommandOutput out;
  out.doc = ToJson(report, analysis);
  out.files = {{"verify.json", out.doc.dump(2) + "\n"}};
  out.text = VerifyText(problem, report);
  out.wrote = "verify.json";
  Emit(out, args.out, args.json);
  return report.verdict == Verdict::kPass ? kExitOk : kExitFailure;
}

}  // namespace

Action AddVerifyCommand(CLI::App& app) {
  auto args = std::make_shared<VerifyArgs>();
  CLI::App* cmd = app.add_subcommand(
      "verify",
      "Check the predictions against simulations of SGD itself at >= 3 step sizes, within a time budget: Arrhenius\n"
      "slopes of log(mu_i/mu_ground) against 1/eta vs -(E_i - E_ground), Laplace-corrected masses (isotropic noise),\n"
      "slopes of log(mean exit time) vs the exit costs, and in d <= 2 the simulated basin masses vs the exact stationary\n"
      "law of the chain on a grid; each with a 95% interval from batch means over chains and an allowance from its\n"
      "regime (B/eta). The chains are extended in rounds until every check has its transitions or the budget is spent.\n"
      "Verdicts: pass, fail, inconclusive (what it would need), or skipped (outside its regime).\n"
      "Exit code 0 for pass, 1 for fail or inconclusive, 2 for bad input.");
  cmd->add_option("problem", args->problem, "Problem file (JSON). Default: the embedded data/himmelblau.json.");
  AddOutputOptions(cmd, &args->out, "Write DIR/verify.json.");
  cmd->add_option("--step-sizes", args->step_sizes,
                  "Step sizes (default: the problem's, else chosen automatically).")
      ->delimiter(',')
      ->check(kPositive);
  cmd->add_option("--budget", args->budget,
                  "Wall-clock budget of the simulations: 90s, 2m, 1h or seconds (default 2m).")
      ->check(kDuration);
  cmd->add_option("--target-transitions", args->options.target_transitions,
                  "Transitions out of each minimum a check uses, per step size (default 200).")
      ->check(kStepCount);
  cmd->add_option("--steps", args->options.steps,
                  "Experts: a fixed number of SGD steps per chain, burn-in included, in one round (no budget).")
      ->check(kStepCount);
  cmd->add_option("--burn-in", args->options.burn_in, "Experts, with --steps: steps discarded (default: steps / 10).")
      ->check(kBurnInCount);
  cmd->add_option("--chains", args->options.chains, "Independent chains per step size.")->check(kChainCount);
  cmd->add_option("--scale-predictions", args->scale,
                  "Multiply every cost and energy by this before checking: a power test of the verification\n"
                  "(1.3 must fail where 1 passes).")
      ->check(kPositive);
  cmd->add_flag("--from-init", args->from_init,
                "Chains from the problem's search.init (as training starts) at the largest step size: each minimum's\n"
                "basin fraction against the predicted weights (verify_init.json; --steps default 20000).");
  cmd->add_option("--seed", args->options.seed, "Random seed (Philox key).");
  cmd->add_option("--threads", args->threads, "Worker threads (0: all cores).")->check(kThreadCount);
  cmd->add_flag("--json", args->json, "Print verify.json to stdout instead of the table.");
  return [args] { return Run(*args); };
}

}  // namespace ldsgd
