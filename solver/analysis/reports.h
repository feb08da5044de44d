// The printed reports of the commands (the CLI prints them; tests and notebooks can too) and the
// JSON documents that are not a single solver result. One place for each, so that every command
// spells a component, a cost or a verdict the same way.
#ifndef LDSGD_SOLVER_ANALYSIS_REPORTS_H_
#define LDSGD_SOLVER_ANALYSIS_REPORTS_H_

#include <string>
#include <vector>

#include <Eigen/Core>
#include <nlohmann/json.hpp>

#include "solver/analysis/analysis.h"
#include "solver/simulation/simulator.h"
#include "solver/theory/stability.h"
#include "solver/theory/rates.h"
#include "solver/theory/convergence.h"
#include "solver/theory/verifier.h"

namespace ldsgd {

// The problem's name, else its file.
std::string Title(const Problem& problem);
// doc["problem"] (its name) and doc["variables"], as every output file names them.
void AddProblem(const Problem& problem, nlohmann::json* doc);

// `analyze`: the component table with energies and weights, ground states, comparison, warnings,
// Laplace masses, notes, assumption lines and the solver reports (full ones when verbose).
std::string AnalysisText(const Problem& problem, const Analysis& analysis, const AnalysisSummary& summary,
                         bool verbose);

// The B matrix as a table labelled by component id and type (actions, analyze).
std::string CostTable(const Eigen::MatrixXd& costs, const std::vector<CriticalComponent>& components);

// `critical`: id, type, index, point, f, Hessian eigenvalues, size.
std::string ComponentTable(const std::vector<CriticalComponent>& components);

// The assumption checks for the printed summaries: one line when all hold, else a warning per failed
// check and, when the predictions depend on one, a line saying they are unreliable.
std::string AssumptionLines(const AssumptionReport& report);

// `simulate`: occupation, exits and mean exit times per component (and basins when classified),
// under a heading with the run's parameters, then `report` (the simulator's).
std::string OccupationTable(const std::vector<CriticalComponent>& components, const SimulationResult& r);
std::string SimulationText(const Problem& problem, const std::vector<CriticalComponent>& components,
                           const SimulationResult& r, const std::string& report);

// `stability`: the report at one step size, or the sweep over `range` (the grid when verbose).
std::string StabilityText(const Problem& problem, std::size_t num_components, const StabilityReport& report,
                          double tolerance, bool verbose);
std::string StabilitySweepText(const Problem& problem, std::size_t num_components, const StabilitySweep& sweep,
                               const StepSizeRange& range, double tolerance, bool verbose);

// `verify`: verify.json, and the printed checks and verdict.
nlohmann::json ToJson(const VerifyReport& report, const Analysis& analysis);
std::string VerifyText(const Problem& problem, const VerifyReport& report);

// `ldsgd rates`: one row per pair and step size (natural logs, per SGD step).
std::string RatesText(const Problem& problem, const std::vector<RateEstimate>& estimates);

// `ldsgd convergence`: E of the components, then per start E(x), its dominant well and the
// predicted ln E tau at the problem's step sizes; with checks, their table and the verdict.
std::string ConvergenceText(const Problem& problem, const std::vector<CriticalComponent>& components,
                            const ConvergenceReport& report, const std::vector<double>& step_sizes,
                            const std::vector<VerifyCheck>& checks);

// The overall verdict of convergence checks: fail if any fails, else inconclusive if any is (or
// none was run), else pass.
Verdict ConvergenceVerdict(const std::vector<VerifyCheck>& checks);

// convergence.json: ToJson(report) plus "problem", "step_sizes", the components' types, and with
// checks "checks" and "verdict".
nlohmann::json ConvergenceJson(const Problem& problem, const std::vector<CriticalComponent>& components,
                               const ConvergenceReport& report, const std::vector<double>& step_sizes,
                               const std::vector<VerifyCheck>* checks);

}  // namespace ldsgd

#endif  // LDSGD_SOLVER_ANALYSIS_REPORTS_H_
