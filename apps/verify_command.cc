// `ldsgd verify`: the predictions against simulations of SGD itself, with honest verdicts.
#include <unistd.h>

#include <iostream>
#include <memory>
#include <string>

#include "apps/commands.h"
#include "apps/output.h"
#include "apps/pipeline.h"
#include "apps/problem_argument.h"
#include "graph/energies.h"
#include "solver/io/input_error.h"
#include "solver/analysis/serialization.h"
#include "solver/theory/verifier.h"

namespace ldsgd {
namespace {

struct VerifyArgs {
  std::string problem;
  std::string out;
  std::vector<double> step_sizes;
  bool json = false;
  int threads = 0;
  long burn_in = -1;  // default: a tenth of the steps
  VerifyOptions options;
};

nlohmann::json ReportJson(const VerifyReport& r, const CostPipeline& run, const Energies& e) {
  nlohmann::json checks = nlohmann::json::array();
  for (const VerifyCheck& c : r.checks) {
    checks.push_back({{"name", c.name},
                      {"predicted", NumberOrNull(c.predicted)},
                      {"measured", NumberOrNull(c.measured)},
                      {"interval", {NumberOrNull(c.lower), NumberOrNull(c.upper)}},
                      {"verdict", c.verdict},
                      {"detail", c.detail}});
  }
  nlohmann::json simulations = nlohmann::json::array();
  for (const SimulationResult& s : r.simulations) simulations.push_back(ToJson(s, false));
  nlohmann::json energies = nlohmann::json::array();
  for (int i = 0; i < e.relative.size(); ++i) energies.push_back(NumberOrNull(e.relative[i]));
  return {{"step_sizes", r.step_sizes},
          {"automatic_step_sizes", r.automatic_step_sizes},
          {"components", ToJson(run.components)},
          {"energies", energies},
          {"ground_states", e.ground_states},
          {"simulations", simulations},
          {"checks", checks},
          {"assumptions", ToJson(r.assumptions)},
          {"predictions_reliable", r.assumptions.predictions_reliable()},
          {"verdict", r.verdict},
          {"verdict_reason", r.verdict_reason}};
}

int Run(VerifyArgs& args) {
  const Problem problem = LoadProblemArgument(args.problem);
  const CostPipeline run = ComputeCosts(problem, args.threads, 1e-8);
  const Energies& energies = run.energies;
  VerifyOptions& o = args.options;
  o.num_threads = args.threads;
  o.burn_in = args.burn_in >= 0 ? args.burn_in : o.steps / 10;
  o.step_sizes = !args.step_sizes.empty() ? args.step_sizes : problem.step_sizes;
  o.progress = !args.json && ::isatty(STDERR_FILENO);
  const VerifyReport report = Verify(problem, run.components, run.costs.costs, energies.relative, o);
  if (!report.error.empty()) throw InputError(problem.source, "", report.error);

  const nlohmann::json doc = ReportJson(report, run, energies);
  if (!args.out.empty()) WriteFileAtomically(args.out, "verify.json", doc.dump(2) + "\n");
  if (args.json) {
    std::cout << doc.dump(2) << "\n";
  } else {
    std::cout << (problem.name.empty() ? problem.source : problem.name) << "\n\nstep sizes"
              << (report.automatic_step_sizes ? " (automatic)" : "") << ":";
    for (double eta : report.step_sizes) std::cout << " " << FormatNumber(eta, 4);
    std::cout << "\n\n";
    Table table({"check", "predicted", "measured", "95% interval", "verdict"});
    for (const VerifyCheck& c : report.checks) {
      table.AddRow({c.name, FormatNumber(c.predicted, 5), FormatNumber(c.measured, 5),
                    "[" + FormatNumber(c.lower, 4) + ", " + FormatNumber(c.upper, 4) + "]", c.verdict});
    }
    std::cout << table.ToString();
    for (const VerifyCheck& c : report.checks) {
      if (c.verdict != "pass" || c.name.rfind("collapse", 0) == 0) std::cout << "  " << c.name << ": " << c.detail << "\n";
    }
    std::cout << "\n" << AssumptionLines(report.assumptions);
    std::cout << "verdict: " << report.verdict
              << (report.verdict_reason.empty() ? "" : " (" + report.verdict_reason + ")") << "\n";
    if (!args.out.empty()) std::cout << "wrote " << args.out << "/verify.json\n";
  }
  return report.verdict == "pass" ? kExitOk : kExitFailure;
}

}  // namespace

Action AddVerifyCommand(CLI::App& app) {
  auto args = std::make_shared<VerifyArgs>();
  CLI::App* cmd = app.add_subcommand(
      "verify",
      "Check the predictions against simulations of SGD itself at >= 3 step sizes: Arrhenius slopes of\n"
      "log(mu_i/mu_ground) against 1/eta vs -(E_i - E_ground), Laplace-corrected masses (isotropic\n"
      "noise), and slopes of log(mean exit time) vs the exit costs, each with a 95% interval from batch\n"
      "means over chains. Verdicts: pass, fail, or inconclusive when the chains did not mix.\n"
      "Exit code 0 for pass, 1 for fail or inconclusive, 2 for bad input.");
  cmd->add_option("problem", args->problem, "Problem file (JSON). Default: the embedded data/himmelblau.json.");
  cmd->add_option("--out", args->out, "Write DIR/verify.json.");
  cmd->add_option("--step-sizes", args->step_sizes,
                  "Step sizes (default: the problem's, else chosen automatically).")
      ->delimiter(',')
      ->check(CLI::PositiveNumber);
  cmd->add_option("--steps", args->options.steps, "SGD steps per chain, burn-in included.")->check(CLI::PositiveNumber);
  cmd->add_option("--burn-in", args->burn_in, "Steps discarded before measuring (default: steps / 10).")
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("--chains", args->options.chains, "Independent chains per step size.")->check(CLI::PositiveNumber);
  cmd->add_option("--seed", args->options.seed, "Random seed (Philox key).");
  cmd->add_option("--threads", args->threads, "Worker threads (0: all cores).")->check(CLI::NonNegativeNumber);
  cmd->add_flag("--json", args->json, "Print verify.json to stdout instead of the table.");
  return [args] { return Run(*args); };
}

}  // namespace ldsgd
