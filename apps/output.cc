#include "apps/output.h"

#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <set>
#include <system_error>

#include "apps/validators.h"
#include "solver/io/input_error.h"
#include "solver/numerics/cluster.h"

namespace ldsgd {
namespace {

namespace fs = std::filesystem;

void WriteFile(const fs::path& path, const std::string& content) {
  std::error_code ec;
  fs::create_directories(path.parent_path(), ec);
  if (ec) throw InputError(path.parent_path().string(), "", "cannot create directory: " + ec.message());
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << content;
  out.flush();
  if (!out) throw InputError(path.string(), "", "cannot write file");
}

// The files the commands write: FILE.json, graph.dot, graph.graphml, stability.csv, and
// paths/FROM_to_TO.csv.
bool IsOutputName(const fs::path& relative) {
  static const std::set<std::string> kTop = {"report.json",     "graph.dot",      "graph.graphml",
                                             "costs.json",      "critical.json",  "simulation.json",
                                             "stability.json",  "stability.csv",  "verify.json",
                                             "rates.json",      "figures.json",   "report.html",
                                             "snapshots.json",  "convergence.json"};
  const std::string name = relative.filename().string();
  if (relative.parent_path().empty()) return kTop.count(name) > 0 || name == "paths" || name == "figures";
  if (relative.parent_path() == "figures") {
    const std::string ext = relative.extension().string();
    return ext == ".png" || ext == ".svg" || ext == ".pdf";
  }
  return relative.parent_path() == "paths" && name.find("_to_") != std::string::npos &&
         relative.extension() == ".csv";
}

// Refuses a DIR that exists and holds something ldsgd did not write, unless forced.
void CheckTarget(const fs::path& dir, bool force) {
  std::error_code ec;
  if (!fs::exists(dir, ec)) return;
  if (!fs::is_directory(dir, ec)) throw InputError(dir.string(), "--out", "exists and is not a directory");
  if (force) return;
  for (auto it = fs::recursive_directory_iterator(dir, ec); it != fs::recursive_directory_iterator(); ++it) {
    if (!IsOutputName(fs::relative(it->path(), dir, ec))) {
      throw InputError(dir.string(), "--out", "holds " + fs::relative(it->path(), dir, ec).string() +
                                                  ", which ldsgd did not write; give another directory, or "
                                                  "--force to replace it");
    }
  }
}

// Leftovers of runs killed while writing: hidden siblings ".NAME.ldsgd-*".
void RemoveLeftovers(const fs::path& dir) {
  std::error_code ec;
  const std::string prefix = "." + dir.filename().string() + ".ldsgd-";
  for (const auto& entry : fs::directory_iterator(dir.parent_path().empty() ? "." : dir.parent_path(), ec)) {
    if (entry.path().filename().string().rfind(prefix, 0) == 0) fs::remove_all(entry.path(), ec);
  }
}

void WriteDirectory(const CommandOutput& output, const OutputTarget& target) {
  const fs::path dir = fs::path(target.dir).lexically_normal();
  CheckTarget(dir, target.force);
  RemoveLeftovers(dir);
  const fs::path staging = dir.parent_path() / ("." + dir.filename().string() + ".ldsgd-" + std::to_string(::getpid()));
  std::error_code ec;
  fs::create_directories(staging, ec);
  if (ec) throw InputError(staging.string(), "", "cannot create directory: " + ec.message());
  for (const auto& [path, content] : output.files) WriteFile(staging / path, content);
  // One atomic step: the staging folder becomes DIR (exchanged with the old DIR, then removed).
  const bool replace = fs::exists(dir, ec);
  const int rc = replace ? ::renameat2(AT_FDCWD, staging.c_str(), AT_FDCWD, dir.c_str(), RENAME_EXCHANGE)
                         : ::rename(staging.c_str(), dir.c_str());
  if (rc != 0) {
    const std::string why = std::strerror(errno);
    fs::remove_all(staging, ec);
    throw InputError(dir.string(), "", "cannot write directory: " + why);
  }
  if (replace) fs::remove_all(staging, ec);  // now the old DIR
}

}  // namespace

void AddOutputOptions(CLI::App* cmd, OutputTarget* target, const std::string& help) {
  cmd->add_option("--out", target->dir, help + "\nThe whole directory is replaced atomically.")->check(kNonEmpty);
  cmd->add_flag("--force", target->force, "Replace --out DIR even if it holds files ldsgd did not write.");
}

int Emit(const CommandOutput& output, const OutputTarget& target, bool json) {
  // In an MPI job every rank holds the same results; rank 0 alone writes and prints them.
  if (!Cluster::Get().is_root()) return 0;
  if (!target.empty()) WriteDirectory(output, target);
  if (json) {
    std::cout << output.doc.dump(2) << "\n";
    return 0;
  }
  std::cout << output.text;
  if (!target.empty() && !output.wrote.empty()) std::cout << "wrote " << target.dir << "/" << output.wrote << "\n";
  return 0;
}

}  // namespace ldsgd
