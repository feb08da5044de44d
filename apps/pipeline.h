// The CLI's side of the analysis pipeline (solver/analysis/analysis.h): its error policy and the
// path files it writes.
#ifndef LDSGD_APPS_PIPELINE_H_
#define LDSGD_APPS_PIPELINE_H_

#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "solver/analysis/analysis.h"

namespace ldsgd {

// Analyze(), with the CLI's error policy: a bad configuration or input (including a covariance
// that is not one) throws InputError naming the problem file and field (exit 2); a numerical
// failure throws std::runtime_error (exit 1).
// With `progress`, long stages draw a progress bar on stderr (see ShowProgress).
Analysis RunAnalysis(const Problem& problem, AnalysisOptions options, AnalysisSummary* summary, bool progress);

// Progress on stderr when it is a terminal and the output is not --json (quiet, machine-readable).
bool ShowProgress(bool json);

// The same policy for a solver's own status after the analysis.
void ThrowIfFailed(const Problem& problem, const Status& status);

// The critical components alone (the commands that simulate start from them).
std::vector<CriticalComponent> FindComponents(const Problem& problem, int num_threads, bool progress);

// ("paths/FROM_to_TO.csv", CSV) for every path that has nodes.
std::vector<std::pair<std::string, std::string>> PathFiles(const TransitionCosts& costs,
                                                           const std::vector<std::string>& variables);

// The files of `analyze --out` (report.json, graph.dot, graph.graphml, paths/), also the base of
// `report`'s folder; `report` is ToJson(problem, analysis, summary).
std::vector<std::pair<std::string, std::string>> AnalysisFiles(const Problem& problem, const Analysis& analysis,
                                                               const nlohmann::json& report);

}  // namespace ldsgd

#endif  // LDSGD_APPS_PIPELINE_H_
