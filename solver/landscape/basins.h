// Basins of attraction of the minima: which minimum the gradient flow dx/dt = -grad f(x) from a
// point ends at. The basin of K_i is the natural set whose stationary mass the theory predicts
// (THEORY.md section 6: Laplace masses are integrals of exp(-2 f / (eta sigma^2)) over basins);
// the neighbourhood balls of neighbourhoods.h capture only a part of a well, a different part for
// wells of different curvature.
//
// The flow is followed by gradient descent with an Armijo backtracking line search on the exact
// gradient, with short steps (each move at most a tenth of the smallest capture radius, the step at
// most 2 / the largest curvature at a minimum) so that the discrete path follows the flow and stays
// in its basin; the line search keeps f decreasing. It stops when the point is captured by an isolated minimum K_i: within
// capture radius rho_i = kCaptureFraction * min_j dist(K_i, K_j) of it, and with
// f(x) - f_i <= lambda_min,i (rho_i / 2)^2 / 2, i.e. inside the sublevel set that the quadratic
// model at K_i places strictly within the ball, which the flow cannot leave. A point whose descent
// stalls at a critical point (|grad f| below the tolerance) is assigned to the minimum component
// within rho of it (this is how non-isolated minima, e.g. the ring's circle, are reached), else it
// is unclassified (-1): on a saddle's stable manifold, or at a critical point that is not a minimum.
//
// Deterministic: the answer is a function of the point only, so simulations stay bit-identical for
// any thread count.
#ifndef LDSGD_SOLVER_LANDSCAPE_BASINS_H_
#define LDSGD_SOLVER_LANDSCAPE_BASINS_H_

#include <functional>
#include <vector>

#include <Eigen/Core>

#include "solver/landscape/critical_points.h"
#include "solver/objective/objective.h"

namespace ldsgd {

inline constexpr double kCaptureFraction = 0.25;

class BasinClassifier {
 public:
  struct Options {
    // Descent iterations before giving up (the point is then unclassified).
    int max_iterations = 5000;
    // Stall: |grad f| <= gradient_tolerance * (1 + the largest |eigenvalue| at a minimum).
    double gradient_tolerance = 1e-9;
    // Maps a point to its symmetry class's representative (a network's hidden-unit permutations
    // and sign flips, network.h), for components that are classes: a descent ending at another
    // copy of a minimum is then in that minimum's basin. Empty: no symmetries.
    std::function<void(double*)> canonicalize;
  };

  BasinClassifier(const Objective& f, const std::vector<CriticalComponent>& components,
                  Options options);
  BasinClassifier(const Objective& f, const std::vector<CriticalComponent>& components)
      : BasinClassifier(f, components, Options()) {}

  // The index (into `components`) of the minimum whose basin contains x, or -1.
  int Classify(const double* x) const;
  int Classify(const Eigen::VectorXd& x) const { return Classify(x.data()); }

  // Whether some component is a minimum (otherwise every point is unclassified).
  bool has_minima() const { return has_minima_; }

 private:
  // The captured minimum, or -1.
  int Captured(const Eigen::VectorXd& x, double fx) const;
  // The minimum component within its capture radius of x, or -1 (the stalled case).
  int Nearby(const Eigen::VectorXd& x) const;
  // x mapped to its symmetry class's representative (x itself without symmetries).
  Eigen::VectorXd Canonical(Eigen::VectorXd x) const;

  const Objective& f_;
  const std::vector<CriticalComponent>& components_;
  Options options_;
  std::vector<double> rho_;     // capture radius per component (0 for non-minima)
  std::vector<double> depth_;   // f-threshold of the capture test, per isolated minimum; -1 else
  double initial_step_ = 1.0;   // first trial step of the line search: 1 / largest curvature
  double max_move_ = 1.0;       // longest displacement of one step
  double gradient_stop_ = 0.0;  // absolute stall threshold on |grad f|
  bool has_minima_ = false;
};

}  // namespace ldsgd

#endif  // LDSGD_SOLVER_LANDSCAPE_BASINS_H_
