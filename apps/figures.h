// The CLI's side of the figures (`ldsgd report`, `ldsgd plot`, `ldsgd simulate --snapshots`): the
// Python figure package (python/ldsgd_plot) run as a child process on a private copy of an output
// folder, so that --out DIR stays atomic (output.h) and no other command depends on Python.
#ifndef LDSGD_APPS_FIGURES_H_
#define LDSGD_APPS_FIGURES_H_

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include <CLI/CLI.hpp>

#include "solver/landscape/critical_points.h"
#include "solver/problem/problem.h"

namespace ldsgd {

using OutputFiles = std::vector<std::pair<std::string, std::string>>;

// The interpreter that has matplotlib: $LDSGD_PYTHON when set (the only candidate then), else
// Debian's /usr/bin/python3, else python3 on PATH. Throws InputError naming python3-matplotlib.
// In an MPI job rank 0 looks and every rank gets its answer (a collective).
std::string FindPython();

// Writes `files` into a private temporary folder, draws the figures and report.html there
// (python3 -m ldsgd_plot DIR --format F --command C) and returns every file of the folder.
// A failing drawing throws std::runtime_error with Python's last line.
OutputFiles DrawFigures(const OutputFiles& files, const std::string& format, const std::string& command);

// Every file under `dir` except figures/ and report.html (what `plot` redraws).
OutputFiles ReadOutputFolder(const std::string& dir);

// --snapshots t1,t2,... on `cmd`.
void AddSnapshotsOption(CLI::App* cmd, std::vector<long>* times);
// snapshots.json (solver/simulation/snapshots.h): 2000 chains from a uniform start over the box.
std::pair<std::string, std::string> SnapshotsFile(const Problem& problem, const std::vector<CriticalComponent>& components,
                                                  std::vector<long> times, double step_size, std::uint64_t seed,
                                                  int threads);

}  // namespace ldsgd

#endif  // LDSGD_APPS_FIGURES_H_
