// Transition costs B_ij between all ordered pairs of critical components (THEORY.md section 4):
// zero-cost pairs by gradient flow, direct minimum-action paths for the rest (several initial paths,
// best kept), then closure by all-pairs shortest paths (B_ij <= B_ik + B_kj) on Boost.Graph.
#ifndef LDSGD_SOLVER_ACTION_TRANSITION_COSTS_H_
#define LDSGD_SOLVER_ACTION_TRANSITION_COSTS_H_

#include <array>
#include <string>
#include <utility>
#include <vector>

#include <Eigen/Core>

#include "solver/action/action_solver.h"
#include "solver/io/status.h"
#include "solver/landscape/critical_points.h"
#include "solver/landscape/gradient_flow.h"
#include "solver/problem/problem.h"

namespace ldsgd {

// Which ordered pairs get their own minimum-action path. kAll: every pair without a flow
// connection. kAdjacent: the reverse of every gradient-flow connection only (a minimum to the
// saddles its basin touches, a saddle to the higher saddles and maxima that flow down to it: the
// edges of the Morse-Smale graph, climbed), the rest by the closure, so the work grows with the
// adjacencies, not with p^2. What is exact is the climb out of a basin when it goes over a saddle
// on the basin's boundary (the quasi-potential's minimum on a basin's boundary is at a saddle its
// points flow to, the flow along the boundary being free), and with it the energies. A pair that is
// not adjacent gets the closure, an upper bound of its direct cost: the direct path need not
// descend all the way into the intermediate minimum (Himmelblau: 343.47 against 343.19 all-pairs,
// same energies).
// kAuto: kAdjacent above kAdjacentAbove components, else kAll (small landscapes keep the
// all-pairs search, which also finds direct paths that skip a saddle where the noise is degenerate).
enum class CostPairs { kAll, kAdjacent, kAuto };
template <>
struct EnumNames<CostPairs> {
  static constexpr std::array<std::pair<CostPairs, const char*>, 3> kNames = {{
      {CostPairs::kAll, "all"},
      {CostPairs::kAdjacent, "adjacent"},
      {CostPairs::kAuto, "auto"},
  }};
};
inline constexpr int kAdjacentAbove = 40;

// How a pair's cost was found: a zero-cost gradient-flow path, its own minimum-action path, or a
// route through other components (the closure).
enum class CostMethod { kGradientFlow, kDirect, kClosure };
template <>
struct EnumNames<CostMethod> {
  static constexpr std::array<std::pair<CostMethod, const char*>, 3> kNames = {{
      {CostMethod::kGradientFlow, "gradient_flow"},
      {CostMethod::kDirect, "direct"},
      {CostMethod::kClosure, "closure"},
  }};
};

struct TransitionPath {
  int from = -1, to = -1;
  double action = 0.0;          // B(from -> to); +inf when no path was found
  double error_estimate = 0.0;  // discretization error estimate (sum along a closure route)
  CostMethod method = CostMethod::kDirect;
  std::vector<int> route;       // components visited, from ... to (two entries unless closure)
  Eigen::MatrixXd nodes;        // the path, (N+1) x d
};

struct TransitionCosts {
  Eigen::MatrixXd costs;              // p x p, diagonal 0, +inf allowed (never clamped)
  std::vector<TransitionPath> paths;  // every ordered pair i != j, row-major order
  // Options::restricted only (else empty). The global minima K_0 = argmin f (the minima whose f is
  // within GlobalMinimumTolerance of the least), and the restricted costs B0_ij of THEORY.md
  // section 10: routes that do not pass through K_0 before they arrive (the closure of the direct
  // and gradient-flow edges with K_0's arrows removed). Rows of K_0 are +inf off the diagonal.
  std::vector<int> global_minima;
  Eigen::MatrixXd restricted;
  const TransitionPath& path(int from, int to) const;
};

// f values within this of the least minimum's (relative to max(1, |f|)) are global minima: well
// above the critical search's accuracy (1e-12 relative), well below distinct minima's gaps.
inline constexpr double kGlobalMinimumTolerance = 1e-8;
std::vector<int> GlobalMinima(const std::vector<CriticalComponent>& components);

// The closure of `edges` (direct and flow costs) over routes that do not pass through `avoid`:
// the arrows out of the avoided nodes are removed.
Eigen::MatrixXd RestrictedClosure(const Eigen::MatrixXd& edges, const std::vector<int>& avoid);

// A covariance that is indefinite (or not finite) at a component is not a covariance: the input is
// wrong (kInvalidInput, *where = the component's point). One that is merely singular there is an
// assumption that fails (assumptions.h reports it and marks the predictions unreliable).
Status CheckNoiseAtComponents(const Problem& problem, const std::vector<CriticalComponent>& components,
                              Eigen::VectorXd* where);

class TransitionCostSolver {
 public:
  struct Options {
    ActionSolver::Options action;  // the refined direct minimizations
    // Coarse pass: every direct pair and initial path at this many segments; pairs whose coarse
    // action exceeds the best route through other components by more than prune_margin (relative)
    // are left to the closure instead of being refined.
    int coarse_segments = 32;
    double prune_margin = 0.02;
    // Initial paths through a saddle s are tried for the pair (i, j) when
    // |x_i - s| + |s - x_j| <= detour_factor * |x_i - x_j|.
    double detour_factor = 2.0;
    GradientFlowOptions flow;
    // Also the restricted costs B0 (TransitionCosts::restricted). The pruning then keeps every
    // direct pair that competes with the routes avoiding K_0, so B0 has its own direct paths.
    bool restricted = false;
    CostPairs pairs = CostPairs::kAuto;
    int num_threads = 0;  // 0 = all cores; results do not depend on it
  };

  struct Summary {
    // kNotRun until Solve() ran; kInvalidOptions for a bad configuration; kInvalidInput for a
    // noise covariance that is not positive semi-definite at a component or on a path.
    Status status;
    Eigen::VectorXd not_positive_definite_at;  // set when the error is a covariance that is not SPD
    int components = 0;
    int flow_pairs = 0;      // B = 0 by gradient flow
    bool adjacent_only = false;  // CostPairs resolved to kAdjacent: direct paths for the climbs of flows only
    int coarse_solves = 0;   // (pair, initial path) coarse minimizations
    int refined_pairs = 0;   // pairs minimized to tolerance
    int split_pairs = 0;     // refined paths that ran through another component (left to closure)
    int direct_pairs = 0;    // pairs whose value is their own direct path
    int closure_pairs = 0;   // pairs whose value comes from a route through other components
    int unconverged = 0;     // refined pairs that hit max_segments before the tolerance
    double max_error_estimate = 0.0;
    // Finite sums in d >= 2: the pairs reported +inf because every path tried (straight, through
    // saddles, bent) crossed a region of infinite cost; a curved path of finite cost may exist.
    std::vector<std::pair<int, int>> uncertified_infinite;
    double time_seconds = 0.0;
    double coarse_seconds = 0.0, refine_seconds = 0.0, slowest_pair_seconds = 0.0;
    std::string BriefReport() const;
    std::string FullReport() const;
  };

  explicit TransitionCostSolver(Options options) : options_(std::move(options)) {}

  TransitionCosts Solve(const Problem& problem, const std::vector<CriticalComponent>& components,
                        Summary* summary) const;

 private:
  Options options_;
};

}  // namespace ldsgd

#endif  // LDSGD_SOLVER_ACTION_TRANSITION_COSTS_H_
