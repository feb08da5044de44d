#include "solver/theory/verify_plan.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace ldsgd {
namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();
// ExitTimes' "slowest" when no minimum can be left at all.
constexpr double kNoExit = -1.0;
// The burn-in covers this many predicted relaxation times: the chains start spread evenly over the
// minima, and the bias of that start decays like exp(-t / relaxation).
constexpr double kBurnInRelaxations = 3.0;
// The hottest step size: eta lambda_max <= 1 at every minimum (half the stability bound), where
// the discrete chain's variance is within a factor 2 of Langevin's and the leading-order checks
// apply (verifier.cc, kDiscreteRegime). Hotter, the ring's exit slope measured 3.17 [3.06, 3.28]
// against B = 2 at eta lambda_max = 1.1 to 1.4 (docs/VERIFICATION.md).
constexpr double kStableFraction = 0.5;
// e-folds of the slowest exit time between the coldest and the hottest step size: with 100 exits
// at each, the exit slope's standard error is then sqrt(2/100) / 3 ~ 5% of B.
constexpr double kLeverEFolds = 3.0;

// The slowest and second-slowest predicted exit times over the minima at eta (+inf / 0 if none).
void ExitTimes(const StepSizePlanInput& in, double eta, double* slowest, double* second) {
  *slowest = 0.0;
  *second = 0.0;
  bool any = false;
  const std::vector<CriticalComponent>& components = *in.components;
  for (std::size_t i = 0; i < components.size(); ++i) {
    if (components[i].type != CriticalType::kMinimum) continue;
    const double cost = ExitCost(*in.costs, static_cast<int>(i));
    if (!std::isfinite(cost)) continue;  // never left: no transitions to wait for
    const double t = PredictedExitSteps(components[i], cost, eta);  // +inf: beyond any budget
    any = true;
    if (t > *slowest) {
      *second = *slowest;
      *slowest = t;
    } else {
      *second = std::max(*second, t);
    }
  }
  if (!any) *slowest = kNoExit;
}

// SGD steps (all chains) at one step size: the target transitions out of the slowest minimum,
// and the burn-in of every chain.
double StepsAt(const StepSizePlanInput& in, double eta) {
  double slowest = 0.0, second = 0.0;
  ExitTimes(in, eta, &slowest, &second);
  if (slowest == kNoExit) return 0.0;
  return static_cast<double>(in.target_transitions) * slowest + kBurnInRelaxations * in.chains * second;
}

// Rounds run every step size to the same length: the coldest one's.
double TotalSteps(const StepSizePlanInput& in, double coldest, int count) {
  return count * StepsAt(in, coldest);
}

// The largest finite exit cost among the minima (0 if none): the slowest exit sets the cost.
double HighestExit(const StepSizePlanInput& in) {
  double b = 0.0;
  for (std::size_t i = 0; i < in.components->size(); ++i) {
    if ((*in.components)[i].type != CriticalType::kMinimum) continue;
    const double cost = ExitCost(*in.costs, static_cast<int>(i));
    if (std::isfinite(cost)) b = std::max(b, cost);
  }
  return b;
}

// The ratio between consecutive step sizes below a hottest one: the slopes need a lever of about
// kLeverEFolds e-folds of the slowest exit time between the coldest and the hottest,
// B (1/eta_lo - 1/eta_hi) = B/eta_hi (r^2 - 1); the larger B/eta, the closer the step sizes.
double RatioBelow(const StepSizePlanInput& in, double hottest) {
  const double beta = HighestExit(in) / hottest;
  if (!(beta > 0)) return kStepSizeRatio;
  return std::clamp(std::sqrt(1 + kLeverEFolds / beta), kMinStepSizeRatio, kStepSizeRatio);
}

// The coldest three step sizes below the cap that fit the budget (the hottest ones if none does).
std::vector<double> Automatic(const StepSizePlanInput& in, double cap) {
  const auto set = [&](double hottest) {
    const double r = RatioBelow(in, hottest);
    return std::vector<double>{hottest / (r * r), hottest / r, hottest};
  };
  // Nothing to wait for (no minimum can be left): the hottest stable step sizes give the chains
  // their best chance to show an exit the theory says is impossible.
  if (StepsAt(in, cap) == 0.0 || TotalSteps(in, set(cap).front(), 3) > in.budget_steps) return set(cap);
  double lo = cap * 1e-6, hi = cap;
  if (TotalSteps(in, set(lo).front(), 3) <= in.budget_steps) return set(lo);
  for (int it = 0; it < 100; ++it) {  // bisection in log eta: the cost falls monotonically with eta
    const double mid = std::sqrt(lo * hi);
    (TotalSteps(in, set(mid).front(), 3) > in.budget_steps ? lo : hi) = mid;
  }
  return set(hi);
}

// The given step sizes completed to three: colder ones while they fit the budget (colder is
// closer to the small-eta limit), then hotter ones up to the cap, then colder ones regardless.
std::vector<double> Completed(const StepSizePlanInput& in, double cap, std::vector<bool>* chosen) {
  std::vector<double> etas = in.given;
  std::sort(etas.begin(), etas.end());
  chosen->assign(etas.size(), false);
  const double r = RatioBelow(in, std::min(cap, etas.back()));
  while (etas.size() < 3) {
    const double colder = etas.front() / r, hotter = etas.back() * r;
    if (TotalSteps(in, colder, 3) <= in.budget_steps || hotter > cap) {
      etas.insert(etas.begin(), colder);
      chosen->insert(chosen->begin(), true);
    } else {
      etas.push_back(hotter);
      chosen->push_back(true);
    }
  }
  return etas;
}

}  // namespace

double ExitCost(const Eigen::MatrixXd& costs, int i) {
  double exit = kInf;
  for (int j = 0; j < costs.cols(); ++j) {
    if (j != i) exit = std::min(exit, costs(i, j));
  }
  return exit;
}

double PredictedExitSteps(const CriticalComponent& minimum, double exit_cost, double eta) {
  if (!std::isfinite(exit_cost)) return kInf;
  double lambda = kInf;
  for (int k = 0; k < minimum.hessian_eigenvalues.size(); ++k) {
    if (minimum.hessian_eigenvalues[k] > 0) lambda = std::min(lambda, minimum.hessian_eigenvalues[k]);
  }
  const double relaxation = std::isfinite(lambda) ? 2 * M_PI / (eta * lambda) : 1.0 / eta;
  return relaxation * std::exp(exit_cost / eta);  // +inf beyond ~exp(709): never affordable
}

StepSizePlan PlanStepSizes(const StepSizePlanInput& in) {
  StepSizePlan plan;
  const double cap = std::isfinite(in.stability_bound) && in.stability_bound > 0 ? kStableFraction * in.stability_bound : 1.0;
  if (in.given.size() >= 3) {
    plan.step_sizes = in.given;
    std::sort(plan.step_sizes.begin(), plan.step_sizes.end());
    plan.chosen.assign(plan.step_sizes.size(), false);
  } else if (!in.given.empty()) {
    plan.step_sizes = Completed(in, cap, &plan.chosen);
  } else {
    plan.step_sizes = Automatic(in, cap);
    plan.chosen.assign(plan.step_sizes.size(), true);
  }
  for (double eta : plan.step_sizes) {
    double slowest = 0.0, second = 0.0;
    ExitTimes(in, eta, &slowest, &second);
    plan.steps_per_chain.push_back(slowest == kNoExit ? kInf : in.target_transitions * slowest / in.chains);
    plan.relaxation_steps.push_back(second);
  }
  plan.fits_budget = TotalSteps(in, plan.step_sizes.front(), static_cast<int>(plan.step_sizes.size())) <= in.budget_steps;
  return plan;
}

}  // namespace ldsgd
