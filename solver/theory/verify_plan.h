// Planning a verification (docs/VERIFICATION.md, "Budget"): how long SGD takes to leave each
// minimum at a step size, which step sizes let the needed transitions fit a budget of SGD steps,
// and how long to discard before measuring. The predictions use the exit costs B_i = min_j B_ij
// (THEORY.md section 4) and a Kramers-type prefactor; the verifier's rounds correct them with
// the transitions it actually sees.
#ifndef LDSGD_SOLVER_THEORY_VERIFY_PLAN_H_
#define LDSGD_SOLVER_THEORY_VERIFY_PLAN_H_

#include <string>
#include <vector>

#include <Eigen/Core>

#include "solver/landscape/critical_points.h"

namespace ldsgd {

// min_{j != i} B_ij: the cost of leaving component i (+inf when it cannot be left).
double ExitCost(const Eigen::MatrixXd& costs, int i);

// Predicted mean exit time from minimum i, in SGD steps: (2 pi / (eta lambda_min)) exp(B_i / eta).
// In time units t = eta * steps the law is C exp(B/eta) (Freidlin-Wentzell, with an Eyring-Kramers
// prefactor of order one relaxation time 2 pi / lambda_min); +inf when B_i is.
double PredictedExitSteps(const CriticalComponent& minimum, double exit_cost, double eta);

struct StepSizePlanInput {
  std::vector<CriticalComponent> const* components = nullptr;
  Eigen::MatrixXd const* costs = nullptr;
  double stability_bound = 0.0;   // 2 / lambda_max; the plan stays below half of it
  std::vector<double> given;      // step sizes from the user or the problem file (kept)
  double budget_steps = 0.0;      // SGD steps affordable over all chains and step sizes
  long target_transitions = 0;    // per minimum and step size
  int chains = 0;
};

struct StepSizePlan {
  std::vector<double> step_sizes;  // increasing, at least 3
  std::vector<bool> chosen;        // per step size: chosen by the plan (not given)
  // Predicted SGD steps per chain for the target transitions out of the slowest minimum, per step
  // size (+inf when no minimum can be left).
  std::vector<double> steps_per_chain;
  // Predicted relaxation time (the second-slowest exit), per step size: what the burn-in covers.
  std::vector<double> relaxation_steps;
  bool fits_budget = true;  // the needed transitions at the coldest step size fit budget_steps
};

// Ratio between consecutive chosen step sizes, at most: the spread of 1/eta gives the slopes their
// lever arm (1.25^2 = 1.56 over three step sizes) while keeping B/eta within a factor 1.6. Where
// B/eta is large a smaller ratio gives the same lever (verify_plan.cc, RatioBelow), down to this.
inline constexpr double kStepSizeRatio = 1.25;
inline constexpr double kMinStepSizeRatio = 1.05;

StepSizePlan PlanStepSizes(const StepSizePlanInput& input);

}  // namespace ldsgd

#endif  // LDSGD_SOLVER_THEORY_VERIFY_PLAN_H_
