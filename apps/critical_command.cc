// `ldsgd critical`: the critical components of a problem's objective in its box.
#include <iostream>
#include <memory>
#include <string>

#include "apps/commands.h"
#include "apps/output.h"
#include "apps/problem_argument.h"
#include "solver/landscape/critical_points.h"
#include "solver/analysis/serialization.h"

namespace ldsgd {
namespace {

struct CriticalArgs {
  std::string problem;
  std::string out;
  bool json = false;
  bool verbose = false;
  CriticalPointFinder::Options options;
};

std::string ComponentTable(const std::vector<CriticalComponent>& components) {
  Table table({"id", "type", "index", "point", "f", "hessian eigenvalues", "size"});
  for (const CriticalComponent& c : components) {
    table.AddRow({std::to_string(c.id), ToString(c.type), std::to_string(c.index),
                  FormatVector(c.point), FormatNumber(c.f, 10), FormatVector(c.hessian_eigenvalues, 6),
                  std::to_string(c.size)});
  }
  return table.ToString();
}

int Run(const CriticalArgs& args) {
  const Problem problem = LoadProblemArgument(args.problem);
  CriticalPointFinder::Summary summary;
  const std::vector<CriticalComponent> components =
      CriticalPointFinder(args.options).Find(*problem.objective, problem.domain, &summary);
  if (!summary.success) {
    std::cerr << "ldsgd: error: " << summary.error << "\n";
    return kExitBadInput;
  }
  const nlohmann::json doc = {{"problem", problem.name},
                              {"variables", problem.variables},
                              {"components", ToJson(components)}};
  if (!args.out.empty()) WriteFileAtomically(args.out, "critical.json", doc.dump(2) + "\n");
  if (args.json) {
    std::cout << doc.dump(2) << "\n";
    return kExitOk;
  }
  std::cout << (problem.name.empty() ? problem.source : problem.name) << "\n"
            << "variables: ";
  for (std::size_t i = 0; i < problem.variables.size(); ++i) {
    std::cout << (i ? ", " : "") << problem.variables[i];
  }
  std::cout << "\n\n" << ComponentTable(components) << "\n"
            << (args.verbose ? summary.FullReport() : summary.BriefReport()) << "\n";
  if (!args.out.empty()) std::cout << "wrote " << args.out << "/critical.json\n";
  return kExitOk;
}

}  // namespace

Action AddCriticalCommand(CLI::App& app) {
  auto args = std::make_shared<CriticalArgs>();
  CLI::App* cmd = app.add_subcommand(
      "critical",
      "Find and classify every critical component of the objective in the problem's box.\n"
      "Prints: id, type (minimum, saddle, maximum, degenerate), index (number of negative Hessian\n"
      "eigenvalues), point, f, Hessian eigenvalues, size (critical points merged into a\n"
      "non-isolated component, 1 if isolated).");
  cmd->add_option("problem", args->problem,
                  "Problem file (JSON). Default: the embedded data/himmelblau.json.");
  cmd->add_flag("--json", args->json, "Print JSON ({\"components\": [...]}) instead of a table.");
  cmd->add_option("--out", args->out, "Also write DIR/critical.json (created if missing).");
  cmd->add_option("--starts", args->options.num_starts,
                  "Number of multi-start points (0: automatic, clamp(100*3^d, 300, 20000)).")
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("--threads", args->options.num_threads, "Worker threads (0: all cores).")
      ->check(CLI::NonNegativeNumber);
  cmd->add_flag("--verbose", args->verbose, "Print the full search report.");
  return [args] { return Run(*args); };
}

}  // namespace ldsgd
