// An initial path for the exact finite-sum cost where straight paths fail (THEORY.md section 3):
// the cost c(x, u) is finite for every direction u exactly where 0 is a strictly positive
// combination of the sample gradients g_k(x) (0 in the interior of their convex hull). Between two
// components whose chord crosses a region where it is not, a path that stays where it is gives the
// path optimizer a finite start.
//
// Construction: nodes along the chord a -> b, each moved within its hyperplane normal to the chord
// to reduce psi(x) = min{|sum_k p_k g_k(x)|^2 : p in the simplex, p_k >= margin / n} (0 for x in
// the region, with all samples weighing at least margin / n, so 0 is an interior combination).
// The inner problem is a small QP (Frank-Wolfe); the outer step uses its envelope gradient
// grad psi = 2 sum_k p_k Hess f_k(x) (G p), by Armijo descent.
#ifndef LDSGD_SOLVER_ACTION_SPANNING_PATH_H_
#define LDSGD_SOLVER_ACTION_SPANNING_PATH_H_

#include <Eigen/Core>

#include "solver/objective/finite_sum.h"

namespace ldsgd {

struct SpanningPathOptions {
  int segments = 16;         // nodes: segments + 1, ends fixed
  double margin = 0.5;       // every sample weighs at least margin / n in the combination
  int max_steps = 200;       // Armijo steps per node
  int qp_iterations = 200;   // Frank-Wolfe iterations of the inner problem
};

// The nodes (segments + 1 rows, d columns). Nodes where psi could not be brought to rounding level
// stay where the descent left them: the caller's action is then still +inf and says so.
Eigen::MatrixXd SpanningInitialPath(const FiniteSum& samples, const Eigen::VectorXd& a,
                                    const Eigen::VectorXd& b, const SpanningPathOptions& options = {});

// psi(x) and its gradient (exposed for tests).
double SpanningDefect(const FiniteSum& samples, const Eigen::VectorXd& x, double margin,
                      int qp_iterations, Eigen::VectorXd* gradient);

}  // namespace ldsgd

#endif  // LDSGD_SOLVER_ACTION_SPANNING_PATH_H_
