#include "apps/figures.h"

#include <stdlib.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include "solver/io/input_error.h"
#include "solver/numerics/cluster.h"
#include "solver/simulation/snapshots.h"

namespace ldsgd {
namespace {

namespace fs = std::filesystem;

std::string Quote(const std::string& s) {
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

std::string Slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

OutputFiles ReadTree(const fs::path& dir, bool skip_drawn) {
  OutputFiles files;
  for (const auto& entry : fs::recursive_directory_iterator(dir)) {
    const fs::path rel = fs::relative(entry.path(), dir);
    if (skip_drawn && (rel.begin()->string() == "figures" || rel == "report.html")) continue;
    if (entry.is_regular_file()) files.push_back({rel.string(), Slurp(entry.path())});
  }
  return files;
}

[[noreturn]] void NoMatplotlib() {
  throw InputError("python3", "matplotlib",
                   "the figures need Python 3 with matplotlib: install the Debian package python3-matplotlib "
                   "(apt-get install python3-matplotlib)");
}

// This process's interpreter with matplotlib, "" if none (no MPI: rank 0 calls it alone in
// DrawFigures).
std::string ProbePython() {
  const char* chosen = std::getenv("LDSGD_PYTHON");
  const std::vector<std::string> candidates =
      chosen != nullptr ? std::vector<std::string>{chosen} : std::vector<std::string>{"/usr/bin/python3", "python3"};
  for (const std::string& candidate : candidates) {
    const std::string probe = Quote(candidate) + " -c 'import matplotlib' >/dev/null 2>&1";
    if (std::system(probe.c_str()) == 0) return candidate;
  }
  return "";
}

}  // namespace

std::string FindPython() {
  // Rank 0 alone draws, so its answer is every rank's: the ranks go on, or stop, together (a
  // node without matplotlib must not leave the others waiting in a collective).
  Cluster& cluster = Cluster::Get();
  const std::string python = cluster.is_root() ? ProbePython() : "";
  if (cluster.RootValue(python.empty() ? 0.0 : 1.0) == 0.0) NoMatplotlib();
  return python;
}

OutputFiles DrawFigures(const OutputFiles& files, const std::string& format, const std::string& command) {
  // In an MPI job only rank 0 writes (output.h): the others draw nothing.
  if (!Cluster::Get().is_root()) return files;
  const std::string python = ProbePython();
  if (python.empty()) NoMatplotlib();
  std::string pattern = (fs::temp_directory_path() / "ldsgd-plot-XXXXXX").string();
  if (mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("cannot create a temporary directory");
  const fs::path work = pattern, log = work / ".plot.log";
  try {
    for (const auto& [name, content] : files) {
      fs::create_directories((work / name).parent_path());
      std::ofstream(work / name, std::ios::binary) << content;
    }
    const std::string run = "PYTHONPATH=" + Quote(LDSGD_PYTHON_DIR) + " " + Quote(python) + " -m ldsgd_plot " +
                            Quote(work.string()) + " --format " + Quote(format) + " --command " + Quote(command) +
                            " >" + Quote(log.string()) + " 2>&1";
    if (std::system(run.c_str()) != 0) {
      std::istringstream lines(Slurp(log));
      std::string last;
      for (std::string line; std::getline(lines, line);) last = line.empty() ? last : line;
      throw std::runtime_error("drawing the figures failed: " + last);
    }
    fs::remove(log);
    OutputFiles out = ReadTree(work, false);
    fs::remove_all(work);
    return out;
  } catch (...) {
    fs::remove_all(work);
    throw;
  }
}

OutputFiles ReadOutputFolder(const std::string& dir) {
  if (!fs::exists(fs::path(dir) / "report.json") || !fs::exists(fs::path(dir) / "figures.json")) {
    throw InputError(dir, "DIR", "holds no report.json and figures.json (write it with ldsgd report --out DIR)");
  }
  return ReadTree(dir, true);
}

void AddSnapshotsOption(CLI::App* cmd, std::vector<long>* times) {
  cmd->add_option("--snapshots", *times,
                  "Steps t1,t2,...: where 2000 chains started uniformly over the box are after t steps\n"
                  "(DIR/snapshots.json; drawn by `ldsgd report --snapshots`).")
      ->delimiter(',')
      ->check(CLI::NonNegativeNumber);
}

std::pair<std::string, std::string> SnapshotsFile(const Problem& problem, const std::vector<CriticalComponent>& components,
                                                  std::vector<long> times, double step_size, std::uint64_t seed,
                                                  int threads) {
  SnapshotOptions o;
  o.step_size = step_size;
  o.times = std::move(times);
  std::sort(o.times.begin(), o.times.end());
  o.seed = seed;
  o.num_threads = threads;
  const Snapshots s = SimulateSnapshots(problem, components, o);
  if (!s.status.ok()) throw InputError(problem.source, "--snapshots", s.status.message());
  return {"snapshots.json", ToJson(s, o).dump() + "\n"};
}

}  // namespace ldsgd
