#include "apps/pipeline.h"

#include <unistd.h>

#include <stdexcept>

#include "graph/graph_export.h"
#include "solver/analysis/serialization.h"
#include "solver/io/input_error.h"

namespace ldsgd {
namespace {

void Throw(const Problem& problem, const Status& status, const std::string& field) {
  switch (status.code()) {
    case StatusCode::kOk:
      return;
    case StatusCode::kInvalidInput:
      throw InputError(problem.source, field, status.message());
    case StatusCode::kInvalidOptions:  // the command line's fault, not the problem file's
      throw InputError("options", "", status.message());
    default:
      throw std::runtime_error(status.message());
  }
}

}  // namespace

bool ShowProgress(bool json) { return !json && ::isatty(STDERR_FILENO) == 1; }

Analysis RunAnalysis(const Problem& problem, AnalysisOptions options, AnalysisSummary* summary, bool progress) {
  options.critical.progress = progress;
  Analysis analysis = Analyze(problem, options, summary);
  Throw(problem, summary->status, summary->input_field);
  return analysis;
}

void ThrowIfFailed(const Problem& problem, const Status& status) { Throw(problem, status, ""); }

std::vector<CriticalComponent> FindComponents(const Problem& problem, int num_threads, bool progress) {
  AnalysisOptions options;
  options.last_stage = AnalysisStage::kComponents;
  options.num_threads = num_threads;
  AnalysisSummary summary;
  return RunAnalysis(problem, options, &summary, progress).components;
}

std::vector<std::pair<std::string, std::string>> PathFiles(const TransitionCosts& costs,
                                                           const std::vector<std::string>& variables) {
  std::vector<std::pair<std::string, std::string>> files;
  for (const TransitionPath& path : costs.paths) {
    if (path.nodes.rows() == 0) continue;
    files.emplace_back("paths/" + std::to_string(path.from) + "_to_" + std::to_string(path.to) + ".csv",
                       PathCsv(path, variables));
  }
  return files;
}

std::vector<std::pair<std::string, std::string>> AnalysisFiles(const Problem& problem, const Analysis& a,
                                                               const nlohmann::json& report) {
  std::vector<GraphNode> nodes;
  for (const CriticalComponent& c : a.components) nodes.push_back({ToString(c.type), c.f});
  std::vector<std::pair<std::string, std::string>> files = {
      {"report.json", report.dump(2) + "\n"},
      {"graph.dot", ToDot(a.costs.costs, nodes, a.energies)},
      {"graph.graphml", ToGraphML(a.costs.costs, nodes, a.energies)}};
  for (auto& file : PathFiles(a.costs, problem.variables)) files.push_back(std::move(file));
  return files;
}

}  // namespace ldsgd
