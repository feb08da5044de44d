// Critical components by discovery, for landscapes a box search cannot enumerate (issue 18;
// the basin-hopping / transition-state databases of Wales' GMIN-OPTIM-PATHSAMPLE and of Ballard
// et al., "Energy landscapes for machine learning", PCCP 2017, which know nothing of SGD's noise):
//
//   1. minima: L-BFGS descents (Ceres) from the problem's initialization distribution, as training
//      would start, each polished by Newton steps and accepted where the Hessian has no negative
//      eigenvalue; deduplicated by distance, each class counted (its multiplicity: how many
//      descents ended there);
//   2. index-1 saddles: for each minimum its `neighbours` nearest other minima (nearest pairs, not
//      all pairs), the climbing-image string method (string_method.h) and Newton on grad f = 0 from
//      each climbing image, kept where the Hessian has exactly one negative eigenvalue;
//   With a network objective's symmetries (network.h), each minimum is mapped to its class's
//   canonical member before deduplication (hits count the class), strings run from a minimum to the
//   copy of its neighbour nearest to it, saddles are deduplicated up to symmetry, and a minimum's
//   component carries, besides its canonical point, the copies that found saddles lead to (where
//   their gradient flows arrive), so that costs and energies are those of the classes;
//   3. coverage: among the converged descents, f1 minima were found once and f2 twice. Good-Turing's
//      f1 / N estimates the probability that one more descent finds a new minimum (the mass of the
//      undiscovered basins under the initialization distribution), the bias-corrected Chao1
//      S + (N-1)/N f1 (f1 - 1) / (2 (f2 + 1)) the number of minima; both say how partial the map is.
#ifndef LDSGD_SOLVER_LANDSCAPE_DISCOVERY_H_
#define LDSGD_SOLVER_LANDSCAPE_DISCOVERY_H_

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "solver/io/status.h"
#include "solver/landscape/critical_points.h"
#include "solver/landscape/string_method.h"
#include "solver/problem/problem.h"

namespace ldsgd {

struct DiscoveryOptions {
  int max_iterations = 5000;      // L-BFGS iterations per descent
  int newton_steps = 20;          // Newton polishing (minima) and refinement (saddles)
  // A point is critical when |grad f| <= gradient_tolerance * G, G the median |grad f| over the
  // starts (the landscape's gradient scale where training starts).
  double gradient_tolerance = 1e-9;
  // Two critical points closer than merge_tolerance * (the init distribution's diameter) are one.
  double merge_tolerance = 1e-6;
  // A Hessian eigenvalue is zero when |lambda| <= zero_eigenvalue_tolerance * (largest |lambda|).
  double zero_eigenvalue_tolerance = 1e-8;
  StringOptions string;
  int num_threads = 0;  // 0: all cores; results do not depend on it
  bool progress = false;
  Status Validate() const;
};

struct DiscoverySummary {
  Status status;  // kNotRun until run
  int starts = 0, converged = 0;
  int not_converged = 0;   // the descent stalled or the polish failed
  int left_domain = 0;     // ended at a minimum outside the domain (dropped)
  int minima = 0, saddles = 0;
  int string_pairs = 0;    // pairs of minima joined by a string
  int other_critical = 0;   // Newton from a climbing image reached a point of index != 1
  int saddle_failures = 0;  // Newton from a climbing image did not reach a critical point
  // Per component (in the returned order): descents that ended there; 0 for saddles.
  std::vector<int> hits;
  // Size of the objective's symmetry group (network objectives: hidden-unit permutations and sign
  // flips); components are then symmetry classes, each standing for up to this many copies.
  double symmetry_order = 1.0;
  int found_once = 0, found_twice = 0;
  double unseen_mass = 0.0;        // Good-Turing f1 / N
  double estimated_minima = 0.0;   // Chao1
  double time_seconds = 0.0;
  std::string BriefReport() const;
  std::string FullReport() const;
};

// "discovery" of report.json: the counts, "hits" per component and the coverage figures.
nlohmann::json ToJson(const DiscoverySummary& summary);

// Minima and index-1 saddles of problem.objective found from problem.search, sorted by f (then
// coordinates); ids are their positions. Deterministic for a given seed, any thread count.
std::vector<CriticalComponent> DiscoverComponents(const Problem& problem, const DiscoveryOptions& options,
                                                  DiscoverySummary* summary);

}  // namespace ldsgd

#endif  // LDSGD_SOLVER_LANDSCAPE_DISCOVERY_H_
