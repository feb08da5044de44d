// `ldsgd report` and `ldsgd plot`: the figures and the one-page HTML report. The C++ side computes
// (analysis, f on a grid, path profiles); the drawing is the Python package python/ldsgd_plot
// (matplotlib), run as a child process on a private copy of the output folder, so that --out DIR
// stays atomic (output.h) and the other commands never depend on Python.
#include <unistd.h>

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
  AnalysisOptions options;
};

std::string CommandLine(const ReportArgs& args) {
  std::string c = "ldsgd report";
  if (!args.problem.empty()) c += " " + args.problem;
  c += " --out " + args.out.dir + (args.format != "png" ? " --format " + args.format : "");
  return args.verify ? c + " --verify --budget " + args.budget : c;
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
