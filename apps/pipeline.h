// The steps every analysis command shares: the critical components of a problem and the
// transition costs between them, with the CLI's error policy (bad input -> InputError).
#ifndef LDSGD_APPS_PIPELINE_H_
#define LDSGD_APPS_PIPELINE_H_

#include <string>
#include <vector>

#include "graph/energies.h"
#include "solver/theory/assumptions.h"
#include "solver/landscape/critical_points.h"
#include "solver/problem/problem.h"
#include "solver/action/transition_costs.h"

namespace ldsgd {

struct CostPipeline {
  std::vector<CriticalComponent> components;
  CriticalPointFinder::Summary critical_summary;
  TransitionCosts costs;
  TransitionCostSolver::Summary cost_summary;
  // Ground states tie within the accuracy the costs were computed to (10x their relative
  // tolerance), not within rounding: degenerate minima (Himmelblau's four) must tie.
  Energies energies;
};

// Components, costs and energies. Throws InputError (naming the problem file) when the search or
// the costs cannot be computed for this input: invalid options, a noise model without costs, a
// covariance that is not SPD; std::runtime_error if the energies fail (an internal error).
CostPipeline ComputeCosts(const Problem& problem, int threads, double relative_tolerance);

// Costs and energies of `problem` on components found before (e.g. for another noise model of the
// same objective); `critical_summary` stays empty. Same error policy.
CostPipeline ComputeCostsOn(const Problem& problem, std::vector<CriticalComponent> components,
                            int threads, double relative_tolerance);

// The same problem with the other finite-sum noise model: the Gaussian approximation of exact
// minibatch noise, or the exact noise of an approximated one. Throws InputError unless the noise
// is finite_sum.
Problem WithOtherFiniteSumNoise(const Problem& problem);

// The assumption checks for the printed summaries: one line when all hold, else a warning per failed
// check and, when the predictions depend on one, a line saying they are unreliable.
std::string AssumptionLines(const AssumptionReport& report);

// DIR/FROM_to_TO.csv for every path, each written atomically.
void WritePathFiles(const std::string& dir, const TransitionCosts& costs,
                    const std::vector<std::string>& variables);

}  // namespace ldsgd

#endif  // LDSGD_APPS_PIPELINE_H_
