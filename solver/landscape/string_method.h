// Index-1 saddles between two minima by the climbing-image string method (E, Ren and
// Vanden-Eijnden, J. Chem. Phys. 126, 164103 (2007); the climbing image of Henkelman, Uberuaga and
// Jonsson, J. Chem. Phys. 113, 9901 (2000)), then Newton on grad f = 0 from each climbing image.
//
// The string joins the two minima by `images` points. Each step moves the interior images down the
// gradient (explicit Euler, dt = 1 / the largest curvature seen, which is stable in the stiff
// directions) and redistributes them evenly in arc length; after a warm-up, each interior local
// maximum of f along the string climbs instead (the gradient with its tangential part reversed),
// which drives it to the saddle, and the redistribution runs between these anchors. A string that
// passes by another minimum has several maxima: each gives its own saddle.
#ifndef LDSGD_SOLVER_LANDSCAPE_STRING_METHOD_H_
#define LDSGD_SOLVER_LANDSCAPE_STRING_METHOD_H_

#include <vector>

#include <Eigen/Core>

#include "solver/objective/objective.h"

namespace ldsgd {

struct StringOptions {
  int images = 24;
  int iterations = 3000;
  // Iterations before the maxima start to climb (the string must first find its valley).
  double warm_up_fraction = 0.3;
  // Stop when no image moves by more than this fraction of the string's length in one step.
  double tolerance = 1e-9;
};

struct StringResult {
  Eigen::MatrixXd nodes;                  // images x d, the relaxed string
  std::vector<Eigen::VectorXd> climbers;  // the climbing images at the end (saddle candidates)
  int iterations = 0;
  bool converged = false;
};

StringResult RunString(const Objective& f, const Eigen::VectorXd& a, const Eigen::VectorXd& b,
                       const StringOptions& options);

}  // namespace ldsgd

#endif  // LDSGD_SOLVER_LANDSCAPE_STRING_METHOD_H_
