#include "apps/pipeline.h"

#include <algorithm>
#include <stdexcept>

#include "apps/output.h"
#include "solver/io/input_error.h"
#include "solver/analysis/serialization.h"

namespace ldsgd {

CostPipeline ComputeCosts(const Problem& problem, int threads, double relative_tolerance) {
  CostPipeline out;
  CriticalPointFinder::Options critical_options;
  critical_options.num_threads = threads;
  out.components = CriticalPointFinder(critical_options).Find(*problem.objective, problem.domain, &out.critical_summary);
  if (!out.critical_summary.success) throw InputError(problem.source, "", out.critical_summary.error);
  CostPipeline costs = ComputeCostsOn(problem, std::move(out.components), threads, relative_tolerance);
  costs.critical_summary = std::move(out.critical_summary);
  return costs;
}

CostPipeline ComputeCostsOn(const Problem& problem, std::vector<CriticalComponent> components,
                            int threads, double relative_tolerance) {
  CostPipeline out;
  out.components = std::move(components);
  TransitionCostSolver::Options cost_options;
  cost_options.num_threads = threads;
  cost_options.action.relative_tolerance = relative_tolerance;
  out.costs = TransitionCostSolver(cost_options).Solve(problem, out.components, &out.cost_summary);
  // A covariance that is not positive definite, or a noise model without costs, is the input's fault.
  if (!out.cost_summary.success) throw InputError(problem.source, "noise", out.cost_summary.error);
  EnergiesOptions energy_options;
  energy_options.tie_tolerance = std::max(energy_options.tie_tolerance, 10.0 * relative_tolerance);
  out.energies = ComputeEnergies(out.costs.costs, energy_options);
  if (!out.energies.error.empty()) throw std::runtime_error("energies: " + out.energies.error);
  return out;
}

Problem WithOtherFiniteSumNoise(const Problem& problem) {
  if (problem.noise.type != NoiseType::kFiniteSum) {
    throw InputError(problem.source, "noise.type",
                     "comparing with the Gaussian approximation needs finite_sum noise");
  }
  Problem other = problem;
  other.noise.gaussian_approximation = !problem.noise.gaussian_approximation;
  return other;
}

std::string AssumptionLines(const AssumptionReport& report) {
  std::string out;
  bool needed_fail = false;
  for (const AssumptionCheck& c : report.checks) {
    if (c.holds) continue;
    needed_fail = needed_fail || c.affects_predictions;
    out += std::string(c.affects_predictions ? "warning" : "note") + ": assumption " + c.name + " fails" +
           (c.where.empty() ? "" : " at " + c.where) + ": " + c.detail + "\n";
  }
  if (!needed_fail) {
    out += "assumptions the predictions need: all hold (noise positive definite at the components and "
           "finite, f increasing outward on the box, components inside the box)\n";
  } else {
    out += "large-deviation predictions (energies, weights, exit costs) UNRELIABLE: they assume what fails "
           "above (THEORY.md section 8)\n";
  }
  return out;
}

void WritePathFiles(const std::string& dir, const TransitionCosts& costs,
                    const std::vector<std::string>& variables) {
  for (const TransitionPath& path : costs.paths) {
    if (path.nodes.rows() == 0) continue;
    WriteFileAtomically(dir, std::to_string(path.from) + "_to_" + std::to_string(path.to) + ".csv",
                        PathCsv(path, variables));
  }
}

}  // namespace ldsgd
