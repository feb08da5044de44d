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
#include "apps/problem_argument.h"
#include "solver/landscape/critical_points.h"
#include "solver/io/input_error.h"
#include "solver/analysis/serialization.h"
#include "solver/theory/stability.h"

namespace ldsgd {
namespace {

struct StabilityArgs {
  std::string problem;
  std::string step_size;  // parsed here, so that a bad value is a one-line error
  std::string step_sizes;
  std::string out;
  bool json = false;
  bool verbose = false;
  StabilityOptions options;
  const CLI::Option* step_size_option = nullptr;
  const CLI::Option* step_sizes_option = nullptr;
  const CLI::Option* steps_option = nullptr;
};

std::string Components(std::size_t n) {
  return std::to_string(n) + (n == 1 ? " critical component" : " critical components");
}

// "batch size 1" with the vanishing-noise criterion, or "Gaussian noise".
std::string Noise(int batch_size, double tolerance, double gradient_scale) {
  if (batch_size == 0) return "Gaussian noise";
  return "batch size " + std::to_string(batch_size) + " (noise vanishes where max|g_k(x*)| <= " +
         FormatNumber(tolerance, 3) + " G, G = " + FormatNumber(gradient_scale, 6) + ")";
}

std::string Exponent(const LyapunovResult& r) {
  if (!r.ok()) return "-";
  return FormatNumber(r.exponent, 10) + " +- " + FormatNumber(r.half_width, 3);
}

std::string ComponentTable(const std::vector<ComponentStability>& components, bool with_exponent) {
  std::vector<std::string> header = {"id", "type", "point", "noise at x*", "max|g_k|/G"};
  if (with_exponent) {
    for (const char* h : {"exponent", "method", "phase"}) header.push_back(h);
  }
  Table table(header);
  for (const ComponentStability& c : components) {
    std::vector<std::string> row = {std::to_string(c.id), ToString(c.type), FormatVector(c.point),
                                    c.vanishing_noise ? "vanishing" : "present",
                                    std::isnan(c.noise_ratio) ? "-" : FormatNumber(c.noise_ratio, 3)};
    if (with_exponent) {
      const bool analysed = c.vanishing_noise && c.lyapunov.ok();
      row.push_back(analysed ? Exponent(c.lyapunov) : "-");
      row.push_back(analysed ? ToString(c.lyapunov.method) : "-");
      row.push_back(analysed ? ToString(c.stability) : "-");
    }
    table.AddRow(row);
  }
  return table.ToString();
}

std::string SweepTable(const StabilitySweep& sweep) {
  Table table({"component", "eta", "exponent", "phase"});
  for (const PhaseDiagram& d : sweep.diagrams) {
    for (const LyapunovResult& r : d.grid) {
      table.AddRow({std::to_string(d.component), FormatNumber(r.eta, 6), Exponent(r),
                    ToString(Classify(r))});
    }
  }
  return table.ToString();
}

int Run(StabilityArgs args) {
  // Every option is checked before any work, so bad input writes nothing.
  const bool single = args.step_size_option->count() > 0;
  const bool sweep = args.step_sizes_option->count() > 0;
  if (single == sweep) {
    throw InputError("stability", "",
                     "give exactly one of --step-size ETA and --step-sizes A:B:N");
  }
  StepSizeRange range;
  if (sweep) {
    if (std::string bad = ParseStepSizeRange(args.step_sizes, &range); !bad.empty()) {
      throw InputError("--step-sizes", "", bad);
    }
  }
  double eta = 0.0;
  if (single && !(CLI::detail::lexical_cast(args.step_size, eta) && eta > 0 && std::isfinite(eta))) {
    throw InputError("--step-size", "", "must be a positive number, got '" + args.step_size + "'");
  }
  LyapunovOptions& lyapunov = args.options.lyapunov;
  if (args.steps_option->count() > 0) {
    lyapunov.burn_in = std::min(lyapunov.burn_in, lyapunov.steps / 10);
  }
  if (std::string bad = Validate(args.options); !bad.empty()) throw InputError("stability", "", bad);

  const Problem problem = LoadProblemArgument(args.problem);
  CriticalPointFinder::Options finder_options;
  finder_options.num_threads = lyapunov.threads;
  CriticalPointFinder::Summary critical_summary;
  const std::vector<CriticalComponent> components =
      CriticalPointFinder(finder_options)
          .Find(*problem.objective, problem.domain, &critical_summary);
  if (!critical_summary.success) throw InputError(problem.source, "", critical_summary.error);

  const StabilityAnalyzer analyzer(args.options);
  const std::string title = problem.name.empty() ? problem.source : problem.name;
  const double tolerance = args.options.vanishing_noise_tolerance;
  if (single) {
    const StabilityReport report = analyzer.Analyze(problem, components, eta);
    if (!report.success) throw InputError(problem.source, "", report.error);
    nlohmann::json doc = ToJson(report, tolerance);
    doc["problem"] = problem.name;
    doc["variables"] = problem.variables;
    if (!args.out.empty()) WriteFileAtomically(args.out, "stability.json", doc.dump(2) + "\n");
    if (args.json) {
      std::cout << doc.dump(2) << "\n";
      return kExitOk;
    }
    std::cout << title << "\n"
              << "eta = " << FormatNumber(report.step_size) << ", "
              << Noise(report.batch_size, tolerance, report.gradient_scale) << "\n"
              << Components(components.size()) << ", " << report.num_vanishing()
              << " with vanishing noise\n\n"
              << ComponentTable(report.components, report.num_vanishing() > 0) << "\n"
              << report.BriefReport() << "\n";
    if (args.verbose) {
      for (const ComponentStability& c : report.components) {
        if (c.vanishing_noise) std::cout << "component " << c.id << ": " << c.lyapunov.FullReport();
      }
    }
    if (!args.out.empty()) std::cout << "wrote " << args.out << "/stability.json\n";
    return kExitOk;
  }

  const StabilitySweep result = analyzer.Sweep(problem, components, range);
  if (!result.success) throw InputError(problem.source, "", result.error);
  nlohmann::json doc = ToJson(result, tolerance);
  doc["problem"] = problem.name;
  doc["variables"] = problem.variables;
  if (!args.out.empty()) {
    WriteFileAtomically(args.out, "stability.csv", SweepCsv(result));
    WriteFileAtomically(args.out, "stability.json", doc.dump(2) + "\n");
  }
  if (args.json) {
    std::cout << doc.dump(2) << "\n";
    return kExitOk;
  }
  std::cout << title << "\n"
            << "eta from " << FormatNumber(range.from) << " to " << FormatNumber(range.to) << " ("
            << range.points << " points), "
            << Noise(result.batch_size, tolerance, result.gradient_scale) << "\n"
            << Components(components.size()) << ", " << result.num_vanishing()
            << " with vanishing noise\n\n"
            << ComponentTable(result.components, false) << "\n";
  if (result.num_vanishing() > 0 && args.verbose) std::cout << SweepTable(result) << "\n";
  std::cout << result.BriefReport() << "\n";
  if (!args.out.empty()) {
    std::cout << "wrote " << args.out << "/stability.csv and " << args.out << "/stability.json\n";
  }
  return kExitOk;
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
  cmd->add_option("problem", args->problem,
                  "Problem file (JSON). Default: the embedded data/himmelblau.json.");
  args->step_size_option =
      cmd->add_option("--step-size", args->step_size, "Step size eta (> 0).");
  args->step_sizes_option = cmd->add_option(
      "--step-sizes", args->step_sizes,
      "Sweep A:B:N: N >= 2 step sizes from A to B inclusive, evenly spaced (0 < A < B).");
  args->steps_option =
      cmd->add_option("--steps", lyapunov.steps,
                      "Monte Carlo steps per replica (non-commuting Hessians only); burn-in\n"
                      "min(1000, steps / 10).")
          ->check(CLI::PositiveNumber)
          ->capture_default_str();
  cmd->add_option("--seed", lyapunov.seed, "Random seed of the Monte Carlo (Philox key).")
      ->capture_default_str();
  cmd->add_option("--threads", lyapunov.threads, "Worker threads (0: all cores).")
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("--noise-tolerance", args->options.vanishing_noise_tolerance,
                  "The noise vanishes at x* when max_k |g_k(x*)| <= this times G.")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  cmd->add_option("--out", args->out,
                  "Also write DIR/stability.json, and with --step-sizes DIR/stability.csv\n"
                  "(created if missing).");
  cmd->add_flag("--json", args->json, "Print stability.json on stdout instead of a table.");
  cmd->add_flag("--verbose", args->verbose,
                "Print the full Lyapunov reports (--step-size) or every grid point (--step-sizes).");
  return [args] { return Run(*args); };
}

}  // namespace ldsgd
