// The analysis pipeline of THEORY.md sections 4-6 and 8, in one call (Ceres' Solve):
//
//   Problem -> critical components -> transition costs B_ij -> energies, ground states, trees
//           -> predictions per step size, assumption checks (-> the same under the other
//              finite-sum noise model, on request)
//
// Every command runs it, or the prefix of it that it needs (AnalysisOptions::last_stage). Failures
// come back in AnalysisSummary::status; nothing here throws or exits.
#ifndef LDSGD_SOLVER_ANALYSIS_ANALYSIS_H_
#define LDSGD_SOLVER_ANALYSIS_ANALYSIS_H_

#include <array>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "graph/energies.h"
#include "solver/action/transition_costs.h"
#include "solver/io/enum_names.h"
#include "solver/io/status.h"
#include "solver/landscape/critical_points.h"
#include "solver/landscape/discovery.h"
#include "solver/problem/problem.h"
#include "solver/theory/assumptions.h"
#include "solver/theory/predictions.h"

namespace ldsgd {

// The stages in pipeline order; Analyze runs every stage up to AnalysisOptions::last_stage.
enum class AnalysisStage {
  kComponents,   // critical components
  kCosts,        // + transition costs and paths
  kEnergies,     // + energies, ground states, optimal trees
  kPredictions,  // + predictions, assumption checks, optional comparison (the whole analysis)
};
template <>
struct EnumNames<AnalysisStage> {
  static constexpr std::array<std::pair<AnalysisStage, const char*>, 4> kNames = {{
      {AnalysisStage::kComponents, "components"},
      {AnalysisStage::kCosts, "costs"},
      {AnalysisStage::kEnergies, "energies"},
      {AnalysisStage::kPredictions, "predictions"},
  }};
};

struct AnalysisOptions {
  // The last stage to run (default: everything).
  AnalysisStage last_stage = AnalysisStage::kPredictions;
  // The stages' own options. Their num_threads are overridden by num_threads below.
  CriticalPointFinder::Options critical;  // search "box" (critical.progress also shows discovery's)
  DiscoveryOptions discovery;             // search "descent"
  TransitionCostSolver::Options costs;  // costs.action.relative_tolerance: each action's accuracy
  // Step sizes for the predictions; empty: the problem's.
  std::vector<double> step_sizes;
  // Finite-sum noise only: also the costs and energies under the other treatment of the noise
  // (the Gaussian approximation of exact minibatch noise, or the exact noise of an approximated
  // one) on the same components.
  bool compare_gaussian = false;
  // Worker threads for every stage; 0 = all cores. Results do not depend on it.
  int num_threads = 0;

  // Ok, or why these options cannot run on `problem` (kInvalidOptions, or kInvalidInput when the
  // problem lacks what an option needs); checked before any work.
  Status Validate(const Problem& problem) const;
};

struct AnalysisSummary {
  Status status;
  // With a kInvalidInput status: the problem field at fault ("noise", "noise.type"), else "".
  std::string input_field;
  CriticalPointFinder::Summary critical;
  DiscoverySummary discovery;  // search "descent" only
  TransitionCostSolver::Summary costs;
  TransitionCostSolver::Summary compared_costs;  // compare_gaussian only
  double time_seconds = 0.0;
  // One line per stage that ran (search, costs); the full reports with their counters.
  std::string BriefReport() const;
  std::string FullReport() const;
};

// The costs and energies of the same components under the other finite-sum noise treatment.
struct NoiseComparison {
  NoiseApproximation approximation = NoiseApproximation::kGaussian;  // the other treatment
  TransitionCosts costs;
  Energies energies;
};

struct Analysis {
  std::vector<CriticalComponent> components;
  TransitionCosts costs;     // kCosts and later
  Energies energies;         // kEnergies and later
  Predictions predictions;   // kPredictions
  AssumptionReport assumptions;  // kPredictions
  std::optional<NoiseComparison> comparison;
};

// Ground states tie within the accuracy the costs were computed to (10x their relative
// tolerance), not within rounding: degenerate minima (Himmelblau's four) must tie.
EnergiesOptions EnergiesOptionsFor(const TransitionCostSolver::Options& costs);

Analysis Analyze(const Problem& problem, const AnalysisOptions& options, AnalysisSummary* summary);

// report.json: costs.json (costs, paths) plus "problem", "variables", "components", "energies"
// (relative, null = +inf), "ground_states", "trees", "predictions" (with "reliable"),
// "assumptions", "uncertified_infinite_costs" and, on request, "comparison".
nlohmann::json ToJson(const Problem& problem, const Analysis& analysis, const AnalysisSummary& summary);

}  // namespace ldsgd

#endif  // LDSGD_SOLVER_ANALYSIS_ANALYSIS_H_
