// `ldsgd rates`: transition probabilities, rates and exit times measured by rare-event simulation
// of SGD itself (solver/theory/rates.h), for users who want the numbers.
#include <cmath>
#include <cstdio>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "apps/commands.h"
#include "apps/output.h"
#include "apps/pipeline.h"
#include "apps/problem_argument.h"
#include "apps/validators.h"
#include "solver/analysis/analysis.h"
#include "solver/analysis/reports.h"
#include "solver/io/input_error.h"
#include "solver/theory/rates.h"

namespace ldsgd {
namespace {

struct RatesArgs {
  std::string problem;
  std::vector<std::string> pairs;
  std::vector<double> step_sizes;
  OutputTarget out;
  bool json = false;
  RateOptions options;
};

int Run(RatesArgs& args) {
  const Problem problem = LoadProblemArgument(args.problem);
  if (std::string bad = args.options.Validate().message(); !args.options.Validate().ok()) throw InputError("rates", "", bad);
  const std::vector<double> etas = !args.step_sizes.empty() ? args.step_sizes : problem.step_sizes;
  if (etas.empty()) throw InputError(problem.source, "step_sizes", "no step size: give --step-sizes or \"step_sizes\" in the problem");
  const bool progress = ShowProgress(args.json);
  AnalysisOptions analysis_options;
  analysis_options.last_stage = AnalysisStage::kCosts;
  analysis_options.num_threads = args.options.num_threads;
  AnalysisSummary summary;
  const Analysis analysis = RunAnalysis(problem, analysis_options, &summary, progress);
  const int p = static_cast<int>(analysis.components.size());
  std::vector<RatePair> pairs;
  for (const std::string& text : args.pairs) pairs.push_back(ParseRatePair(text, p));

  std::vector<RateEstimate> estimates;
  nlohmann::json list = nlohmann::json::array();
  int done = 0;
  for (const RatePair& pair : pairs) {
    for (double eta : etas) {
      if (progress) {
        std::fprintf(stderr, "\rrates: %d -> %s at eta = %g (%d of %zu) ...   ", pair.from,
                     pair.to >= 0 ? std::to_string(pair.to).c_str() : "exit", eta, ++done, pairs.size() * etas.size());
        std::fflush(stderr);
      }
      RateEstimate e = MeasureRate(problem, analysis.components, analysis.costs, pair, eta, args.options);
      if (e.status.code() == StatusCode::kInvalidInput || e.status.code() == StatusCode::kInvalidOptions) {
        throw InputError(problem.source, "--pairs", e.status.message());
      }
      if (!e.status.ok()) throw std::runtime_error(problem.source + ": " + e.status.message());
      list.push_back(ToJson(e));
      estimates.push_back(std::move(e));
    }
  }
  if (progress) std::fputc('\n', stderr);
  CommandOutput out;
  out.doc = {{"problem", problem.name}, {"seed", args.options.seed}, {"rates", list}};
  out.files = {{"rates.json", out.doc.dump(2) + "\n"}};
  out.text = RatesText(problem, estimates);
  out.wrote = "rates.json";
  return Emit(out, args.out, args.json);
}

}  // namespace

Action AddRatesCommand(CLI::App& app) {
  auto args = std::make_shared<RatesArgs>();
  CLI::App* cmd = app.add_subcommand(
      "rates",
      "Transition probabilities, rates and mean exit times of SGD between critical components, by\n"
      "adaptive multilevel splitting (THEORY.md section 11), at step sizes where direct simulation never\n"
      "sees a transition. For each pair FROM:TO (or FROM:exit, to any other component) and step size:\n"
      "the probability that an excursion from A_FROM (a ball of one stationary standard deviation)\n"
      "reaches U_TO before it returns, the rate per step (that probability over the mean time between\n"
      "departures) and the mean exit time, each with a 95% interval from independent runs. Natural logs.");
  cmd->add_option("problem", args->problem, "Problem file (JSON). Default: the embedded data/himmelblau.json.");
  cmd->add_option("--pairs", args->pairs, "Pairs FROM:TO or FROM:exit, comma-separated (component ids of `ldsgd critical`).")
      ->delimiter(',')
      ->required();
  cmd->add_option("--step-sizes", args->step_sizes, "Step sizes (default: the problem's).")->delimiter(',')->check(kPositive);
  cmd->add_option("--replicas", args->options.replicas, "Replicas per splitting run (N; relative error ~ sqrt(|ln p| / N)).")
      ->check(CLI::Range(2, 1000000))
      ->capture_default_str();
  cmd->add_option("--runs", args->options.runs, "Independent splitting runs (>= 2; their spread gives the interval).")
      ->check(CLI::Range(2, 100000))
      ->capture_default_str();
  cmd->add_option("--departures", args->options.departures, "Departures from A_FROM simulated directly.")
      ->check(CLI::Range(1L, 1000000000L))
      ->capture_default_str();
  cmd->add_option("--tilt", args->options.tilt,
                  "Importance sampling inside the splitting (isotropic Gaussian noise: the noise mean moved toward the\n"
                  "reversed gradient flow along the path; finite sums: sample indices drawn from the exponential tilt),\n"
                  "by this fraction (0: off, 1: full), for landscapes too steep for plain splitting (|grad f| / sigma > 3).")
      ->check(CLI::Range(0.0, 1.0));
  cmd->add_option("--seed", args->options.seed, "Random seed (Philox key).");
  cmd->add_option("--threads", args->options.num_threads, "Worker threads (0: all cores); results do not depend on it.")
      ->check(kThreadCount);
  AddOutputOptions(cmd, &args->out, "Write DIR/rates.json.");
  cmd->add_flag("--json", args->json, "Print rates.json to stdout instead of the table.");
  return [args] { return Run(*args); };
}

}  // namespace ldsgd
