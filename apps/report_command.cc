// `ldsgd report` and `ldsgd plot`: the figures and the one-page HTML report. The C++ side computes
// (analysis, f on a grid, path profiles); the drawing is the Python package python/ldsgd_plot
// (matplotlib), run as a child process on a private copy of the output folder, so that --out DIR
// stays atomic (output.h) and the other commands never depend on Python.
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "apps/commands.h"
#include "apps/output.h"
#include "apps/pipeline.h"
#include "apps/problem_argument.h"
#include "apps/validators.h"
#include "graph/graph_export.h"
#include "solver/analysis/analysis.h"
#include "solver/analysis/figure_data.h"
#include "solver/analysis/reports.h"
#include "solver/io/input_error.h"
#include "solver/simulation/snapshots.h"
#include "solver/theory/stability.h"
#include "solver/theory/verifier.h"

namespace ldsgd {
namespace {

namespace fs = std::filesystem;

std::string Quote(const std::string& s) {
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

// $LDSGD_PYTHON when set (the only candidate then), else Debian's python3 first (python3-matplotlib
// installs for it), then the one on PATH.
std::string FindPython() {
  const char* chosen = std::getenv("LDSGD_PYTHON");
  const std::vector<std::string> candidates =
      chosen != nullptr ? std::vector<std::string>{chosen} : std::vector<std::string>{"/usr/bin/python3", "python3"};
  for (const std::string& candidate : candidates) {
    const std::string probe = Quote(candidate) + " -c 'import matplotlib' >/dev/null 2>&1";
    if (std::system(probe.c_str()) == 0) return candidate;
  }
  throw InputError("python3", "matplotlib",
                   "the figures need Python 3 with matplotlib: install the Debian package python3-matplotlib "
                   "(apt-get install python3-matplotlib)");
}

fs::path MakeTempDir() {
  std::string pattern = (fs::temp_directory_path() / "ldsgd-plot-XXXXXX").string();
  if (mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("cannot create a temporary directory");
  return pattern;
}

std::string Slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// Runs python/ldsgd_plot on `dir` (figures/ and report.html appear there). A failure of the
// drawing is an internal error carrying Python's last line.
void Draw(const fs::path& dir, const std::string& format, const std::string& command) {
  const std::string python = FindPython();
  const fs::path log = dir / ".plot.log";
  const std::string run = "PYTHONPATH=" + Quote(LDSGD_PYTHON_DIR) + " " + Quote(python) + " -m ldsgd_plot " +
                          Quote(dir.string()) + " --format " + Quote(format) + " --command " + Quote(command) +
                          " >" + Quote(log.string()) + " 2>&1";
  if (std::system(run.c_str()) != 0) {
    std::string text = Slurp(log), last;
    std::istringstream lines(text);
    for (std::string line; std::getline(lines, line);) last = line.empty() ? last : line;
    throw std::runtime_error("drawing the figures failed: " + last);
  }
  fs::remove(log);
}

// Every file under `dir`, as CommandOutput files.
std::vector<std::pair<std::string, std::string>> ReadTree(const fs::path& dir) {
  std::vector<std::pair<std::string, std::string>> files;
  for (const auto& entry : fs::recursive_directory_iterator(dir)) {
    if (entry.is_regular_file()) files.push_back({fs::relative(entry.path(), dir).string(), Slurp(entry.path())});
  }
  return files;
}

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
  std::string c = "ldsgd report";
  if (!args.problem.empty()) c += " " + args.problem;
  c += " --out " + args.out.dir + (args.format != "png" ? " --format " + args.format : "");
  return args.verify ? c + " --verify --budget " + args.budget : c;
}

nlohmann::json SnapshotJson(const Problem& problem, const Analysis& a, const ReportArgs& args) {
  SnapshotOptions o;
  o.step_size = args.snapshot_step > 0 ? args.snapshot_step : problem.step_sizes.empty() ? 0.0 : problem.step_sizes.front();
  if (!(o.step_size > 0)) throw InputError(problem.source, "--snapshot-step-size", "the problem has no step sizes: give one");
  o.times = args.snapshots;
  std::sort(o.times.begin(), o.times.end());
  o.num_threads = args.options.num_threads;
  const Snapshots s = SimulateSnapshots(problem, a.components, o);
  if (!s.status.ok()) throw InputError(problem.source, "--snapshots", s.status.message());
  return ToJson(s, o);
}

// Lam(eta) at the components where the noise vanishes (`ldsgd stability`'s sweep), over 100 step
// sizes up to twice the larger of the stability bound 2 / lambda_max and the problem's step
// sizes; "applies": false where the noise vanishes nowhere (the figure then says so).
nlohmann::json StabilityJson(const Problem& problem, const Analysis& a, const ReportArgs& args) {
  double top = a.predictions.stability_bound;
  for (double eta : problem.step_sizes) top = std::isfinite(top) ? std::max(top, eta) : eta;
  if (!std::isfinite(top) || !(top > 0)) top = 1.0;
  StepSizeRange range;
  range.to = 2 * top;
  range.from = range.to / 100;
  range.points = 100;
  StabilityOptions o;
  o.lyapunov.threads = args.options.num_threads;
  const StabilitySweep sweep = StabilityAnalyzer(o).Sweep(problem, a.components, range);
  if (!sweep.status.ok()) return {{"applies", false}, {"message", sweep.status.message()}};
  return ToJson(sweep, o.vanishing_noise_tolerance);
}

int RunReport(const ReportArgs& args) {
  FindPython();  // before the analysis: a missing matplotlib is said at once
  const Problem problem = LoadProblemArgument(args.problem);
  AnalysisSummary summary;
  const Analysis a = RunAnalysis(problem, args.options, &summary, ShowProgress(false));
  CommandOutput out;
  out.doc = ToJson(problem, a, summary);
  std::vector<GraphNode> nodes;
  for (const CriticalComponent& c : a.components) nodes.push_back({ToString(c.type), c.f});
  out.files = {{"report.json", out.doc.dump(2) + "\n"},
               {"figures.json", FigureData(problem, a).dump() + "\n"},
               {"graph.dot", ToDot(a.costs.costs, nodes, a.energies)},
               {"graph.graphml", ToGraphML(a.costs.costs, nodes, a.energies)}};
  for (auto& file : PathFiles(a.costs, problem.variables)) out.files.push_back(std::move(file));
  if (args.verify) {
    // verify's own defaults (apps/verify_command.cc): the problem's step sizes, the budget given.
    VerifyOptions o;
    o.num_threads = args.options.num_threads;
    o.budget_seconds = DurationSeconds(args.budget);
    o.step_sizes = problem.step_sizes;
    o.progress = ShowProgress(false);
    const VerifyReport report = Verify(problem, a.components, a.costs.costs, a.energies.relative, o, &a.costs);
    if (!report.status.ok()) throw InputError(problem.source, "", report.status.message());
    out.files.push_back({"verify.json", ToJson(report, a).dump(2) + "\n"});
  }
  out.files.push_back({"stability.json", StabilityJson(problem, a, args).dump(2) + "\n"});
  if (!args.snapshots.empty()) out.files.push_back({"snapshots.json", SnapshotJson(problem, a, args).dump() + "\n"});
  const fs::path work = MakeTempDir();
  try {
    for (const auto& [name, content] : out.files) {
      fs::create_directories((work / name).parent_path());
      std::ofstream(work / name, std::ios::binary) << content;
    }
    Draw(work, args.format, CommandLine(args));
    out.files = ReadTree(work);
  } catch (...) {
    fs::remove_all(work);
    throw;
  }
  fs::remove_all(work);
  out.text = AnalysisText(problem, a, summary, false);
  out.wrote = "report.html, figures/, report.json, figures.json, graph.dot, graph.graphml and paths/";
  return Emit(out, args.out, false);
}

struct PlotArgs {
  OutputTarget dir;
  std::string format = "png";
};

int RunPlot(const PlotArgs& args) {
  const fs::path dir = args.dir.dir;
  if (!fs::exists(dir / "report.json") || !fs::exists(dir / "figures.json")) {
    throw InputError(dir.string(), "DIR", "holds no report.json and figures.json (write it with ldsgd report --out DIR)");
  }
  const fs::path work = MakeTempDir();
  CommandOutput out;
  try {
    for (const auto& entry : fs::recursive_directory_iterator(dir)) {
      const fs::path rel = fs::relative(entry.path(), dir);
      if (rel.begin()->string() == "figures" || rel == "report.html") continue;  // redrawn
      if (entry.is_directory()) fs::create_directories(work / rel);
      else if (entry.is_regular_file()) fs::copy_file(entry.path(), work / rel);
    }
    Draw(work, args.format, "ldsgd plot " + dir.string());
    out.files = ReadTree(work);
  } catch (...) {
    fs::remove_all(work);
    throw;
  }
  fs::remove_all(work);
  out.wrote = "report.html and figures/";
  return Emit(out, args.dir, false);
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
  cmd->add_option("--snapshots", args->snapshots,
                  "Steps t1,t2,...: where 2000 chains started uniformly over the box are after t steps, drawn over\n"
                  "the landscape (DIR/snapshots.json).")
      ->delimiter(',')
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("--snapshot-step-size", args->snapshot_step, "Step size of the snapshots (default: the problem's first).")
      ->check(kPositive);
  return [args] { return RunReport(*args); };
}

Action AddPlotCommand(CLI::App& app) {
  auto args = std::make_shared<PlotArgs>();
  CLI::App* cmd = app.add_subcommand("plot", "Redraw the figures and report.html of a folder written by `ldsgd report`.");
  cmd->add_option("dir", args->dir.dir, "The folder.")->required();
  cmd->add_option("--format", args->format, "Figure files: png, svg or pdf.")->check(CLI::IsMember({"png", "svg", "pdf"}));
  return [args] { return RunPlot(*args); };
}

}  // namespace ldsgd
