// Every critical component of f in a box (THEORY.md section 4): multi-start Levenberg-Marquardt on
// grad f = 0 with Ceres, deduplication, classification by the Hessian's inertia, and grouping of
// non-isolated critical sets (the ring's circle of minima) into ONE component with Boost.Graph.
#ifndef LDSGD_SOLVER_LANDSCAPE_CRITICAL_POINTS_H_
#define LDSGD_SOLVER_LANDSCAPE_CRITICAL_POINTS_H_

#include <array>
#include <string>
#include <utility>
#include <vector>

#include <Eigen/Core>

#include "solver/io/enum_names.h"
#include "solver/io/status.h"
#include "solver/objective/objective.h"
#include "solver/problem/problem.h"

namespace ldsgd {

enum class CriticalType { kMinimum, kSaddle, kMaximum, kDegenerate };
template <>
struct EnumNames<CriticalType> {
  static constexpr std::array<std::pair<CriticalType, const char*>, 4> kNames = {{
      {CriticalType::kMinimum, "minimum"},
      {CriticalType::kSaddle, "saddle"},
      {CriticalType::kMaximum, "maximum"},
      {CriticalType::kDegenerate, "degenerate"},
  }};
};

struct CriticalComponent {
  int id = -1;
  CriticalType type = CriticalType::kDegenerate;
  // Number of negative Hessian eigenvalues (for a non-isolated component: in the directions normal
  // to it). 0 for minima, d for isolated maxima.
  int index = 0;
  // Representative point: the point of lowest f (an isolated component has just one).
  Eigen::VectorXd point;
  double f = 0.0;
  Eigen::VectorXd hessian_eigenvalues;  // at `point`, ascending
  double gradient_norm = 0.0;           // |grad f(point)|
  // Distinct critical points merged into the component (1 if isolated). A non-isolated component is
  // sampled by continuation with spacing Options::manifold_step, so size grows as the step shrinks.
  int size = 1;
  bool isolated = true;
  // Number of Hessian eigenvalues at `point` within the zero tolerance.
  int zero_eigenvalues = 0;
  // Some point of the component lies on the boundary of the box (issue of coercivity / truncation).
  bool touches_boundary = false;
  std::vector<Eigen::VectorXd> points;  // all merged points, points[0] == point
};

class CriticalPointFinder {
 public:
  struct Options {
    // Multi-start points from a low-discrepancy sequence over the box. 0 picks
    // clamp(100 * 3^d, 300, 20000): 3^d because a separable landscape has 3^d critical points.
    int num_starts = 0;
    // Levenberg-Marquardt iterations per start (Ceres); Newton polishing steps afterwards.
    int max_iterations = 200;
    int newton_polish_steps = 8;
    // A converged point is accepted as critical when |grad f| <= gradient_tolerance * G, where
    // G = (max f - min f over the starts) / (box diameter) is the landscape's gradient scale.
    double gradient_tolerance = 1e-8;
    // Two points closer than merge_tolerance * (box diameter) are the same critical point.
    double merge_tolerance = 1e-6;
    // A Hessian eigenvalue is zero when |lambda| <= zero_eigenvalue_tolerance * Lambda, Lambda the
    // largest |eigenvalue| over all critical points found (the landscape's curvature scale).
    double zero_eigenvalue_tolerance = 1e-6;
    // Spacing of the continuation that samples a non-isolated critical set, relative to the box
    // diameter; points closer than 1.5 steps are joined. Smaller: finer sampling, more points.
    double manifold_step = 0.01;
    // Cap on the points sampled on non-isolated sets (a 2-sphere of minima in 3-D needs thousands).
    int max_manifold_points = 20000;
    // Worker threads for the starts; 0 = all cores. The result does not depend on it.
    int num_threads = 0;
    // A progress bar over the starts on stderr (a dataset of a million rows takes seconds a start).
    bool progress = false;
  };

  struct Summary {
    Status status;  // kNotRun until Find() ran; kInvalidOptions for a bad configuration
    int num_starts = -1;
    int converged_in_box = -1;        // starts that ended at an accepted critical point in the box
    int left_box = -1;                // starts whose iteration left the box or failed
    int not_critical = -1;            // ended in the box but |grad f| above tolerance
    int distinct_points = -1;         // after merging, before continuation
    int manifold_points = -1;         // added by continuation of non-isolated sets
    int num_components = -1;
    double gradient_scale = 0.0, curvature_scale = 0.0;
    double time_seconds = 0.0;
    std::string BriefReport() const;
    std::string FullReport() const;
  };

  explicit CriticalPointFinder(Options options) : options_(options) {}
  // Components sorted by f (then by coordinates); ids are their positions.
  std::vector<CriticalComponent> Find(const Objective& f, const Domain& domain,
                                      Summary* summary) const;

 private:
  Options options_;
};

}  // namespace ldsgd

#endif  // LDSGD_SOLVER_LANDSCAPE_CRITICAL_POINTS_H_
