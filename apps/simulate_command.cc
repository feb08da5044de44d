// `ldsgd simulate`: Monte Carlo simulation of SGD on a problem, measured in the neighbourhoods of
// its critical components.
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "apps/commands.h"
#include "apps/figures.h"
#include "apps/output.h"
#include "apps/problem_argument.h"
#include "apps/validators.h"
#include "apps/pipeline.h"
#include "solver/analysis/analysis.h"
#include "solver/analysis/reports.h"
#include "solver/io/input_error.h"
#include "solver/analysis/serialization.h"
#include "solver/simulation/simulator.h"

namespace ldsgd {
namespace {

struct SimulateArgs {
  std::string problem;
  OutputTarget out;
  bool json = false;
  bool verbose = false;
  bool burn_in_given = false;
  std::vector<long> snapshots;
  SimulationOptions options;
};

int Run(SimulateArgs args) {
  const Problem problem = LoadProblemArgument(args.problem);
  if (!args.burn_in_given) args.options.burn_in = args.options.steps / 10;
  const std::vector<CriticalComponent> components = FindComponents(problem, args.options.num_threads, ShowProgress(args.json));

  args.options.progress = ShowProgress(args.json);
  Simulator::Summary summary;
  const SimulationResult result = Simulator(args.options).Simulate(problem, components, &summary);
  ThrowIfFailed(problem, summary.status);
  if (result.recorded_steps == 0) {  // occupations would be 0/0
    throw InputError("--step-size " + FormatNumber(result.step_size), "",
                     std::to_string(result.diverged) + " of " + std::to_string(result.chains) +
                         " chains diverged before a step was recorded: SGD does not stay in the box at this step "
                         "size (see the stability bound 2/lambda_max of `ldsgd analyze`)");
  }

  // Everything here is a function of the problem and the options that change the chains, so the
  // file is identical for any thread count (no timings, no thread counts).
  CommandOutput out;
  out.doc = ToJson(result, /*per_chain=*/true);
  out.doc["components"] = ToJson(components);
  AddProblem(problem, &out.doc);
  out.files = {{"simulation.json", out.doc.dump(2) + "\n"}};
  const SimulationOptions& o = args.options;
  if (!args.snapshots.empty()) out.files.push_back(SnapshotsFile(problem, components, args.snapshots, o.step_size, o.seed, o.num_threads));
  out.text = SimulationText(problem, components, result, args.verbose ? summary.FullReport() : summary.BriefReport());
  out.wrote = args.snapshots.empty() ? "simulation.json" : "simulation.json and snapshots.json";
  return Emit(out, args.out, args.json);
}

}  // namespace

Action AddSimulateCommand(CLI::App& app) {
  auto args = std::make_shared<SimulateArgs>();
  SimulationOptions& o = args->options;
  CLI::App* cmd = app.add_subcommand(
      "simulate",
      "Simulate constant step-size SGD on the problem (many independent chains) and measure it in\n"
      "the neighbourhoods of the critical components: occupation, last-visited transitions, exit\n"
      "times, divergence. Results are identical for any number of threads.\n"
      "Prints: component, type, radius of its neighbourhood, occupation (fraction of recorded\n"
      "steps), exits (completed sojourns) and mean exit time (steps); with --basin-interval\n"
      "also the fraction of classified states in each minimum's basin of attraction (the\n"
      "'outside' row then gives the unclassified fraction).");
  cmd->add_option("problem", args->problem,
                  "Problem file (JSON). Default: the embedded data/himmelblau.json.");
  cmd->add_option("--step-size", o.step_size, "Step size eta (required).")
      ->required()
      ->check(kPositive);
  cmd->add_option("--steps", o.steps, "SGD steps per chain, burn-in included.")
      ->check(kStepCount)
      ->capture_default_str();
  cmd->add_option_function<long>(
         "--burn-in",
         [args](const long& v) {
           args->options.burn_in = v;
           args->burn_in_given = true;
         },
         "Steps discarded before measuring (< steps). Default: steps / 10.")
      ->check(kBurnInCount);
  AddSnapshotsOption(cmd, &args->snapshots);
  cmd->add_option("--chains", o.chains, "Independent chains.")
      ->check(kChainCount)
      ->capture_default_str();
  cmd->add_option("--seed", o.seed, "Random seed (Philox key).")->capture_default_str();
  cmd->add_option("--threads", o.num_threads, "Worker threads (0: all cores).")
      ->check(kThreadCount);
  cmd->add_option("--radius", o.radius,
                  "Neighbourhood radius per component, comma-separated (default: 3 stationary\n"
                  "standard deviations, capped at 0.45 of the distance to the nearest component).")
      ->delimiter(',');
  cmd->add_option("--divergence-factor", o.divergence_factor,
                  "A chain diverges when it leaves the box enlarged by this factor (>= 1).")
      ->check(kAtLeastOne)
      ->capture_default_str();
  cmd->add_option("--basin-interval", o.basin_interval,
                  "Every N recorded steps, classify each chain's state by the basin of attraction\n"
                  "of the minima (gradient descent) and report the basin masses (0: off).")
      ->check(kIntervalCount)
      ->capture_default_str();
  AddOutputOptions(cmd, &args->out, "Also write DIR/simulation.json (created if missing).");
  cmd->add_flag("--json", args->json, "Print simulation.json on stdout instead of a table.");
  cmd->add_flag("--verbose", args->verbose, "Print the full simulation report.");
  return [args] { return Run(*args); };
}

}  // namespace ldsgd
