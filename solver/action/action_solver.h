// Minimum geometric action between two points by the string method on Ceres (THEORY.md section 3;
// Heymann & Vanden-Eijnden 2008): nodes phi_0 .. phi_N with fixed ends, the discretized action
// minimized as a sum of squares, the nodes re-spaced to equal arc length between rounds, and N
// doubled until the Richardson error estimate meets the tolerance.
#ifndef LDSGD_SOLVER_ACTION_ACTION_SOLVER_H_
#define LDSGD_SOLVER_ACTION_ACTION_SOLVER_H_

#include <string>
#include <utility>
#include <vector>

#include <Eigen/Core>

#include "solver/action/geometric_action.h"

namespace ldsgd {

struct ActionPath {
  Eigen::MatrixXd nodes;  // (N+1) x d, nodes.row(0) and nodes.row(N) are the fixed ends
  // The action, Richardson-extrapolated from the two finest resolutions (midpoint error is
  // O(N^-2)), and the estimated error of the finest unextrapolated value, |S_N - S_{N/2}| / 3.
  double action = 0.0;
  double error_estimate = 0.0;
};

class ActionSolver {
 public:
  struct Options {
    // Segments of the first resolution; doubled at each refinement up to max_segments.
    int initial_segments = 16;
    int max_segments = 1024;
    // Refinement stops when error_estimate <= relative_tolerance * action + absolute_tolerance.
    double relative_tolerance = 1e-8;
    double absolute_tolerance = 1e-10;
    // Optimize / re-space rounds at one resolution; rounds stop early when the action changes by
    // less than the tolerance between rounds.
    int max_rounds = 5;
    // Ceres Levenberg-Marquardt iterations per round. Capped low on purpose: the value converges long
    // before the nodes do along flat families of optimal paths (isotropic noise: every reversed
    // gradient line from a minimum to a maximum has the same action), and the next round restarts.
    int max_iterations = 50;
  };

  // kInfinite: finite-sum noise cannot move along some segment of the initial path (its cost is
  // +inf there; in one dimension that makes the action +inf exactly).
  enum class Termination {
    kNotRun,
    kConverged,
    kMaxSegments,
    kNotPositiveDefinite,
    kInfinite,
    kFailure
  };
  static const char* ToString(Termination t);

  struct Summary {
    Termination termination = Termination::kNotRun;
    std::string message;  // what went wrong, or the invalid option
    Eigen::VectorXd where;  // kNotPositiveDefinite: the point where Sigma is not SPD
    int rounds = 0;           // optimize / re-space rounds over all resolutions
    int ceres_iterations = 0;
    int final_segments = 0;
    double action = 0.0;
    double error_estimate = 0.0;
    double time_seconds = 0.0;
    std::vector<std::pair<int, double>> history;  // (segments, unextrapolated action) per resolution
    bool ok() const {
      return termination == Termination::kConverged || termination == Termination::kMaxSegments;
    }
    std::string BriefReport() const;
    std::string FullReport() const;
  };

  explicit ActionSolver(Options options) : options_(options) {}

  // Minimizes the action of paths from initial.row(0) to initial.row(last), starting from
  // `initial` (any number >= 2 of nodes; it is re-sampled).
  ActionPath Solve(const NoiseGeometry& geometry, const Eigen::MatrixXd& initial,
                   Summary* summary) const;

  // Resamples a polyline to `segments` equal arc-length segments (ends kept).
  static Eigen::MatrixXd Resample(const Eigen::MatrixXd& path, int segments);

 private:
  Options options_;
};

// Their bytes, for the ranks of an MPI job (byte_archive.h).
template <class Archive>
void Serialize(Archive& a, ActionPath& p) {
  a(p.nodes, p.action, p.error_estimate);
}
template <class Archive>
void Serialize(Archive& a, ActionSolver::Summary& s) {
  a(s.termination, s.message, s.where, s.rounds, s.ceres_iterations, s.final_segments, s.action, s.error_estimate,
    s.time_seconds, s.history);
}

}  // namespace ldsgd

#endif  // LDSGD_SOLVER_ACTION_ACTION_SOLVER_H_
