// The sets of a rare-event problem for the SGD chain (THEORY.md section 11): the start set A (a
// ball around the departing component, small enough that the chain leaves and re-enters it
// often), the targets B (the neighbourhoods the transition should reach) and the other stopping
// sets (the neighbourhoods of other components: reaching one first counts as not reaching B).
// Departures from A and excursions are simulated until they hit one of these sets or diverge.
#ifndef LDSGD_SOLVER_SIMULATION_RARE_EVENT_SETS_H_
#define LDSGD_SOLVER_SIMULATION_RARE_EVENT_SETS_H_

#include <string>
#include <vector>

#include <Eigen/Core>

namespace ldsgd {

struct Ball {
  Eigen::VectorXd centre;
  double radius = 0.0;
  bool Contains(const double* x) const {
    double d2 = 0.0;
    for (Eigen::Index i = 0; i < centre.size(); ++i) d2 += (x[i] - centre[i]) * (x[i] - centre[i]);
    return d2 < radius * radius;
  }
};

// Where an excursion stops.
enum class Region { kNone, kStart, kTarget, kOther };

struct RareEventSets {
  Ball start;  // chains start and restart at its centre
  // More balls that belong to A (a non-isolated component: its whole set, not one point of it).
  std::vector<Ball> start_more;
  std::vector<Ball> targets;
  std::vector<Ball> others;

  // Targets first: the sets are checked disjoint by Validate, so the order only matters for
  // sets a caller did not validate.
  Region Locate(const double* x) const {
    for (const Ball& b : targets)
      if (b.Contains(x)) return Region::kTarget;
    if (start.Contains(x)) return Region::kStart;
    for (const Ball& b : start_more)
      if (b.Contains(x)) return Region::kStart;
    for (const Ball& b : others)
      if (b.Contains(x)) return Region::kOther;
    return Region::kNone;
  }

  // Empty when every ball has dimension d, a finite centre and a positive finite radius, there
  // is a target, and the start ball meets no target or other ball; else what is wrong.
  std::string Validate(int d) const;
};

}  // namespace ldsgd

#endif  // LDSGD_SOLVER_SIMULATION_RARE_EVENT_SETS_H_
