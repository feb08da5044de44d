// `ldsgd report` and `ldsgd plot`: the figures and the one-page HTML report. The library computes
// (analysis, figure data, verify, snapshots, stability); apps/figures.h runs the Python drawing.
#include <memory>
#include <string>
#include <vector>

#include "apps/commands.h"
#include "apps/figures.h"
#include "apps/output.h"
#include "apps/pipeline.h"
#include "apps/problem_argument.h"
#include "apps/validators.h"
#include "solver/numerics/cluster.h"
#include "solver/analysis/analysis.h"
#include "solver/analysis/figure_data.h"
#include "solver/analysis/reports.h"
#include "solver/io/input_error.h"
#include "solver/theory/verifier.h"

namespace ldsgd {
namespace {

struct ReportArgs {
  std::string problem;
  OutputTarget out;
  std::string format = "png";
  bool verify = false;
  std::string budget = "2m";
  std::vector<long> snapshots;
  double snapshot_step = 0.0;  // 0: the problem's first step size
  AnalysisOptions options;
};

std::string CommandLine(const ReportArgs& args) {
  std::string c = "ldsgd report" + (args.problem.empty() ? "" : " " + args.problem) + " --out " + args.out.dir;
  if (args.format != "png") c += " --format " + args.format;
  return args.verify ? c + " --verify --budget " + args.budget : c;
}

// verify with its own defaults (apps/verify_command.cc): the problem's step sizes, the budget given.
std::string VerifyJson(const Problem& problem, const Analysis& a, const ReportArgs& args) {
  VerifyOptions o;
  o.num_threads = args.options.num_threads;
  o.budget_seconds = DurationSeconds(args.budget);
  o.step_sizes = problem.step_sizes;
  o.progress = ShowProgress(false);
  const VerifyReport report = Verify(problem, a.components, a.costs.costs, a.energies.relative, o, &a.costs);
  if (!report.status.ok()) throw InputError(problem.source, "", report.status.message());
  return ToJson(report, a).dump(2) + "\n";
}

int RunReport(const ReportArgs& args) {
  FindPython();  // before the analysis: a missing matplotlib is said at once
  const Problem problem = LoadProblemArgument(args.problem);
  AnalysisSummary summary;
  const Analysis a = RunAnalysis(problem, args.options, &summary, ShowProgress(false));
  OutputFiles files = AnalysisFiles(problem, a, ToJson(problem, a, summary));
  files.push_back({"figures.json", FigureData(problem, a).dump() + "\n"});
  files.push_back({"stability.json", StabilityFigureData(problem, a, args.options.num_threads).dump(2) + "\n"});
  if (args.verify) files.push_back({"verify.json", VerifyJson(problem, a, args)});
  if (!args.snapshots.empty()) {
    const double eta = args.snapshot_step > 0 ? args.snapshot_step : problem.step_sizes.empty() ? 0.0 : problem.step_sizes.front();
    files.push_back(SnapshotsFile(problem, a.components, args.snapshots, eta, 0, args.options.num_threads));
  }
  CommandOutput out;
  out.files = DrawFigures(files, args.format, CommandLine(args));
  out.text = AnalysisText(problem, a, summary, false);
  out.wrote = "report.html, figures/, report.json, figures.json, graph.dot, graph.graphml and paths/";
  return Emit(out, args.out, false);
}

}  // namespace

Action AddReportCommand(CLI::App& app) {
  auto args = std::make_shared<ReportArgs>();
  CLI::App* cmd = app.add_subcommand(
      "report",
      "The analysis in pictures: runs `analyze` and writes DIR/report.html, one self-contained page with the\n"
      "landscape, the optimal-tree paths and their profiles, the cycle tree, the predicted weights against\n"
      "eta and the transition graph (figures drawn with matplotlib, python3-matplotlib), plus the analysis files.");
  cmd->add_option("problem", args->problem, "Problem file (JSON). Default: the embedded data/himmelblau.json.");
  args->out.dir = "ldsgd-report";
  AddOutputOptions(cmd, &args->out, "Write DIR (default ldsgd-report): report.html, figures/, report.json, ...");
  cmd->add_option("--format", args->format, "Figure files in DIR/figures/: png, svg or pdf (the page embeds PNG).")
      ->check(CLI::IsMember({"png", "svg", "pdf"}));
  cmd->add_option("--threads", args->options.num_threads, "Worker threads (0: all cores).")->check(kThreadCount);
  cmd->add_flag("--verify", args->verify,
                "Also run `verify` (simulations of SGD itself) and add its figures: Arrhenius plots, measured\n"
                "against predicted masses, every check against its prediction; DIR/verify.json.");
  cmd->add_option("--budget", args->budget, "With --verify: its wall-clock budget (default 2m, as verify's).");
  AddSnapshotsOption(cmd, &args->snapshots);
  cmd->add_option("--snapshot-step-size", args->snapshot_step, "Step size of the snapshots (default: the problem's first).")
      ->check(kPositive);
  return [args] { return RunReport(*args); };
}

Action AddPlotCommand(CLI::App& app) {
  auto dir = std::make_shared<OutputTarget>();
  auto format = std::make_shared<std::string>("png");
  CLI::App* cmd = app.add_subcommand("plot", "Redraw the figures and report.html of a folder written by `ldsgd report`.");
  cmd->add_option("dir", dir->dir, "The folder.")->required();
  cmd->add_option("--format", *format, "Figure files: png, svg or pdf.")->check(CLI::IsMember({"png", "svg", "pdf"}));
  return [dir, format] {
    if (!Cluster::Get().is_root()) return 0;  // in an MPI job rank 0 alone reads the folder and draws
    CommandOutput out;
    out.files = DrawFigures(ReadOutputFolder(dir->dir), *format, "ldsgd plot " + dir->dir);
    out.wrote = "report.html and figures/";
    return Emit(out, *dir, false);
  };
}

}  // namespace ldsgd
