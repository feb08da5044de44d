// `ldsgd simulate`: Monte Carlo simulation of SGD on a problem, measured in the neighbourhoods of
// its critical components.
#include <unistd.h>

#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "apps/commands.h"
#include "apps/output.h"
#include "apps/problem_argument.h"
#include "solver/landscape/critical_points.h"
#include "solver/io/input_error.h"
#include "solver/analysis/serialization.h"
#include "solver/simulation/simulator.h"

namespace ldsgd {
namespace {

struct SimulateArgs {
  std::string problem;
  std::string out;
  bool json = false;
  bool verbose = false;
  bool burn_in_given = false;
  SimulationOptions options;
};

// CLI11's PositiveNumber and NonNegativeNumber print the whole range of double in their messages;
// these say it plainly.
CLI::Validator Bound(double bound, bool strict, const std::string& words, const std::string& name) {
  return CLI::Validator(
      [=](std::string& text) {
        double v = 0.0;
        const bool ok = CLI::detail::lexical_cast(text, v) && (strict ? v > bound : v >= bound);
        return ok ? std::string() : "must be " + words + ", got " + text;
      },
      name);
}
const CLI::Validator kPositive = Bound(0.0, true, "positive", "POSITIVE");
const CLI::Validator kNonNegative = Bound(0.0, false, "non-negative", "NONNEGATIVE");
const CLI::Validator kAtLeastOne = Bound(1.0, false, ">= 1", ">= 1");

std::string OccupationTable(const std::vector<CriticalComponent>& components,
                            const SimulationResult& r) {
  const bool basins = r.basin_interval > 0;
  std::vector<std::string> header = {"component", "type", "radius", "occupation", "exits",
                                     "mean exit time"};
  if (basins) header.push_back("basin");
  Table table(header);
  for (std::size_t i = 0; i < components.size(); ++i) {
    const ExitTimes& e = r.exit_times[i];
    std::vector<std::string> row = {std::to_string(components[i].id), ToString(components[i].type),
                                    FormatNumber(r.radius[i], 6), FormatNumber(r.occupation[i], 6),
                                    std::to_string(e.count),
                                    e.count > 0 ? FormatNumber(e.mean(), 6) : "-"};
    if (basins) {
      row.push_back(components[i].type == CriticalType::kMinimum
                        ? FormatNumber(r.basin_occupation[i], 6)
                        : "");
    }
    table.AddRow(row);
  }
  std::vector<std::string> last = {"outside", "", "", FormatNumber(r.outside, 6), "", ""};
  if (basins) last.push_back(FormatNumber(r.basin_unclassified, 6));
  table.AddRow(last);
  return table.ToString();
}

int Run(SimulateArgs args) {
  const Problem problem = LoadProblemArgument(args.problem);
  if (!args.burn_in_given) args.options.burn_in = args.options.steps / 10;
  CriticalPointFinder::Options finder_options;
  finder_options.num_threads = args.options.num_threads;
  CriticalPointFinder::Summary critical_summary;
  const std::vector<CriticalComponent> components =
      CriticalPointFinder(finder_options)
          .Find(*problem.objective, problem.domain, &critical_summary);
  if (!critical_summary.success) throw InputError(problem.source, "", critical_summary.error);

  args.options.progress = !args.json && ::isatty(STDERR_FILENO) == 1;
  Simulator::Summary summary;
  const SimulationResult result = Simulator(args.options).Simulate(problem, components, &summary);
  if (!summary.success) throw InputError(problem.source, "", summary.error);

  // Everything here is a function of the problem and the options that change the chains, so the
  // file is identical for any thread count (no timings, no thread counts).
  nlohmann::json doc = ToJson(result, /*per_chain=*/true);
  doc["components"] = ToJson(components);
  doc["problem"] = problem.name;
  doc["variables"] = problem.variables;
  if (!args.out.empty()) WriteFileAtomically(args.out, "simulation.json", doc.dump(2) + "\n");
  if (args.json) {
    std::cout << doc.dump(2) << "\n";
    return kExitOk;
  }
  std::cout << (problem.name.empty() ? problem.source : problem.name) << "\n"
            << "eta = " << FormatNumber(result.step_size) << ", " << result.chains << " chains x "
            << result.steps << " steps (burn-in " << result.burn_in << "), seed " << result.seed
            << ", " << result.diverged << " diverged\n\n"
            << OccupationTable(components, result) << "\n"
            << (args.verbose ? summary.FullReport() : summary.BriefReport()) << "\n";
  if (!args.out.empty()) std::cout << "wrote " << args.out << "/simulation.json\n";
  return kExitOk;
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
      ->check(kPositive)
      ->capture_default_str();
  cmd->add_option_function<long>(
         "--burn-in",
         [args](const long& v) {
           args->options.burn_in = v;
           args->burn_in_given = true;
         },
         "Steps discarded before measuring (< steps). Default: steps / 10.")
      ->check(kNonNegative);
  cmd->add_option("--chains", o.chains, "Independent chains.")
      ->check(kPositive)
      ->capture_default_str();
  cmd->add_option("--seed", o.seed, "Random seed (Philox key).")->capture_default_str();
  cmd->add_option("--threads", o.num_threads, "Worker threads (0: all cores).")
      ->check(kNonNegative);
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
      ->check(kNonNegative)
      ->capture_default_str();
  cmd->add_option("--out", args->out, "Also write DIR/simulation.json (created if missing).");
  cmd->add_flag("--json", args->json, "Print simulation.json on stdout instead of a table.");
  cmd->add_flag("--verbose", args->verbose, "Print the full simulation report.");
  return [args] { return Run(*args); };
}

}  // namespace ldsgd
