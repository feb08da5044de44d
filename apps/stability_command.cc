// `ldsgd stability`: stochastic stability of SGD at the critical components where its noise
// vanishes (THEORY.md section 8), at one step size or as a phase diagram over a grid of them.
#include <algorithm>
#include <cmath>
#include <iostream>
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

namespace ldsgd {
namespace {

struct StabilityArgs {
  std::string problem;
  std::string step_size;  // parsed here, so that a bad value is a one-line error
  std::string step_sizes;
  OutputTarget out;
  bool json = false;
  bool verbose = false;
  StabilityOptions options;
  const CLI::Option* step_size_option = nullptr;
  const CLI::Option* step_sizes_option = nullptr;
  const CLI::Option* steps_option = nullptr;
};

int Run(StabilityArgs args) {
  // Every option is checked before any work, so bad input writes nothing.
  const bool single = args.step_size_option->count() > 0;
  const bool sweep = args.step_sizes_option->count() > 0;
  if (single == sweep) throw InputError("stability", "", "give exactly one of --step-size ETA and --step-sizes A:B:N");
  StepSizeRange range;
  if (std::string bad = sweep ? ParseStepSizeRange(args.step_sizes, &range) : ""; !bad.empty()) {
    throw InputError("--step-sizes", "", bad);
  }
  double eta = 0.0;
  if (single && !(CLI::detail::lexical_cast(args.step_size, eta) && eta > 0 && std::isfinite(eta))) {
    throw InputError("--step-size", "", "must be a positive number, got '" + args.step_size + "'");
  }
  LyapunovOptions& lyapunov = args.options.lyapunov;
  if (args.steps_option->count() > 0) lyapunov.burn_in = std::min(lyapunov.burn_in, lyapunov.steps / 10);
  if (std::string bad = Validate(args.options); !bad.empty()) throw InputError("stability", "", bad);

  const Problem problem = LoadProblemArgument(args.problem);
  const std::vector<CriticalComponent> components = FindComponents(problem, lyapunov.threads, ShowProgress(args.json));
  const StabilityAnalyzer analyzer(args.options);
  const double tolerance = args.options.vanishing_noise_tolerance;
  CommandOutput out;
  if (single) {
    const StabilityReport report = analyzer.Analyze(problem, components, eta);
    ThrowIfFailed(problem, report.status);
    out.doc = ToJson(report, tolerance);
    out.text = StabilityText(problem, components.size(), report, tolerance, args.verbose);
    out.wrote = "stability.json";
  } else {
    const StabilitySweep result = analyzer.Sweep(problem, components, range);
    ThrowIfFailed(problem, result.status);
    out.doc = ToJson(result, tolerance);
    out.files.emplace_back("stability.csv", SweepCsv(result));
    out.text = StabilitySweepText(problem, components.size(), result, range, tolerance, args.verbose);
    out.wrote = "stability.csv and " + args.out.dir + "/stability.json";
  }
  AddProblem(problem, &out.doc);
  out.files.emplace_back("stability.json", out.doc.dump(2) + "\n");
  return Emit(out, args.out, args.json);
}

}  // namespace

Action AddStabilityCommand(CLI::App& app) {
  auto args = std::make_shared<StabilityArgs>();
  LyapunovOptions& lyapunov = args->options.lyapunov;
  CLI::App* cmd = app.add_subcommand(
      "stability",
      "Stochastic stability at the critical components where the noise vanishes (every sample\n"
      "gradient zero; finite sums only, THEORY.md section 8): the top Lyapunov exponent of the\n"
      "linearized SGD. Negative: SGD is absorbed by the point, even a maximum; positive: it leaves.\n"
      "With --step-size prints: id, type, point, noise at x* (vanishing or present), max|g_k|/G\n"
      "(largest sample gradient at x* over the gradients' scale in the box), exponent +- half-width\n"
      "(0 for the exact methods), method, phase (absorbing, repelling, undetermined).\n"
      "With --step-sizes A:B:N sweeps N step sizes from A to B and reports the absorbing windows;\n"
      "--out DIR writes the phase diagram to DIR/stability.csv and DIR/stability.json.");
  cmd->add_option("problem", args->problem, "Problem file (JSON). Default: the embedded data/himmelblau.json.");
  args->step_size_option = cmd->add_option("--step-size", args->step_size, "Step size eta (> 0).");
  args->step_sizes_option = cmd->add_option(
      "--step-sizes", args->step_sizes,
      "Sweep A:B:N: N >= 2 step sizes from A to B inclusive, evenly spaced (0 < A < B).");
  args->steps_option =
      cmd->add_option("--steps", lyapunov.steps,
                      "Monte Carlo steps per replica (non-commuting Hessians only); burn-in\n"
                      "min(1000, steps / 10).")
          ->check(kStepCount)
          ->capture_default_str();
  cmd->add_option("--seed", lyapunov.seed, "Random seed of the Monte Carlo (Philox key).")
      ->capture_default_str();
  cmd->add_option("--threads", lyapunov.threads, "Worker threads (0: all cores).")
      ->check(kThreadCount);
  cmd->add_option("--noise-tolerance", args->options.vanishing_noise_tolerance,
                  "The noise vanishes at x* when max_k |g_k(x*)| <= this times G.")
      ->check(kNonNegative)
      ->capture_default_str();
  AddOutputOptions(cmd, &args->out, "Also write DIR/stability.json, and with --step-sizes DIR/stability.csv\n"
                  "(created if missing).");
  cmd->add_flag("--json", args->json, "Print stability.json on stdout instead of a table.");
  cmd->add_flag("--verbose", args->verbose,
                "Print the full Lyapunov reports (--step-size) or every grid point (--step-sizes).");
  return [args] { return Run(*args); };
}

}  // namespace ldsgd
