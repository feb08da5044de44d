// An exact finite-eta reference for the long-run behaviour of SGD in d <= 2: the stationary law
// of the chain x -> x - eta (grad f(x) + Z) itself (THEORY.md section 1), on a grid over the box,
// at the given step size. Not the small-eta limit: where section 6's Laplace masses and section
// 5's exponents are asymptotic, this is the number they tend to, with an error that refinement
// controls. Other estimates (predictions, the Monte Carlo verifier) are judged against it.
//
// Discretization (Ulam's method). N cells per dimension, N^d states. The probability of going
// from cell a to cell b is the average over source points x in a (Gauss-Legendre, q = 3 points per
// dimension, so that the drift is not frozen at the centre) of P(x - eta (grad f(x) + Z) in b):
// - Gaussian Z ~ N(0, Sigma(x)) (also a finite sum's Gaussian approximation): integrated exactly
//   over the target cell, a product of erfc differences when the covariance is diagonal. A 2-D
//   correlation |rho| <= 0.95 is integrated by Mehler's series (the density is a sum of products
//   phi(x) He_n(x) phi(y) He_n(y) rho^n / n!, each term a product of exact 1-D cell integrals;
//   summed to 1e-14 per cell); beyond, y1 given y0 is Gaussian, so the cell integral is exact in
//   y1 and Gauss-Legendre in y0 (relative error ~1e-7). Tails beyond 8.5 standard deviations
//   (< 1e-17) are not visited.
// - Exact finite sum: the step is a mixture of Diracs at x - eta mean(g_k over the batch), over
//   the multisets of b indices drawn with replacement (multinomial weights); each point is spread
//   onto the two (four) nearest cell centres with linear (cloud-in-cell) weights, which keeps the
//   first moment exact. More than max_minibatches multisets: not available.
// Entries below 1e-15 of their row are dropped. Mass that leaves the box is removed and each row
// renormalized (the chain conditioned to stay in the box); the stationary probability of leaving
// per step, sum_a pi_a leak_a, is reported so that callers can tell whether the box holds it
// (values ~1e-14 are rounding).
//
// Error. Cell masses of Ulam's method are second order in h, but with a large constant: spreading
// a cell's mass uniformly over it before each step acts, to O(h^4), like extra noise of variance
// D = diag(h_k^2 / 6) added before the drift (the defect K*(Q p - p) is (h^2/12) K* p''): a
// relative temperature error (h / one-step std)^2 / 6, which Arrhenius factors then multiply by
// barrier / temperature (tests: exactly a^2 h^2 / (6 s^2) on x -> a x + s Z). For Gaussian noise
// this is compensated (option `compensate`): carried through the step x -> T(x) + N(0, S(x)),
// T(x) = x - eta grad f, S = eta^2 Sigma, the extra noise moves the mean by T''[D] / 2 and the
// covariance by J D J^T + S''[D] / 2, J = I - eta Hess f, which the kernel subtracts (derivatives
// of Hess f and Sigma along each axis from the interpolant through the cell's source points), and
// with a state-dependent Sigma it skews the step (3 J S' D / 2), which taking Sigma at the source
// node mirrored through the cell centre cancels (derivation at StepMoments in the .cc). What
// remains is O(h^4): for linear drift the scheme is exact up to Sheppard's correction (~exp(-2
// pi^2 s^2 / h^2)), and on THEORY.md cases 1, 2 and 2b basin masses fall ~16x per halving of h.
// The compensation is limited where it would remove more than 3/4 of the noise (steep walls, cells
// much wider than a step); the stationary mass of such cells is reported (partial_compensation).
// A Dirac mixture cannot be compensated: cloud-in-cell adds variance h^2/4 per step, O(h^2), and
// its automatic cells are 16 times finer than a step.
// Reported means and variances are those of the continuous law whose cell masses pi is (Sheppard's
// correction: minus h^2/12 per coordinate for exact cell integrals, h^2/6 for cloud-in-cell).
//
// Cell size (automatic by default): the one-step standard deviation sigma_min = eta sqrt(min
// lambda_min(Sigma)) over a 32^d lattice of the box and the minima; h <= sigma_min (compensated
// Gaussian), sigma_min / 4 (uncompensated), sigma_min / 16 (finite sum), at least 16 cells, and
// at most what leaves room for a refinement within max_states and max_nonzeros and an LU predicted
// to take a tenth of max_seconds. Then N -> 2N (or 1.5 N) while the next grid fits the limits and
// the time left, until the basin masses of the minima change by at most `tolerance`.
// Costs: kernel entries ~ N^d (17 std / h)^d; the LU ~ N^d x bandwidth^2 (bandwidth ~ N^(d-1) x
// the reach of a step in cells; less in 2-D with nested dissection): a 1-D grid of thousands of
// cells takes milliseconds, a 2-D grid of 100 x 100 cells one step std wide ~15 s (THEORY.md
// case 4 hot, 7e6 entries), and 2N costs ~64 times N in 2-D. So in 2-D the reference is for
// problems whose box is at most ~100-200 one-step std wide; on wider ones the cells are wider than
// a step, compensation is partial (reported) and the masses converge only as h^2, if at all.
//
// Stationary vector. pi^T (P - I) = 0 is solved directly (Eigen's SparseLU on the transposed
// system; AMD ordering in 1-D, a geometric nested dissection of the grid in 2-D; one equation
// replaced by pi_k = 1 at the cell of the lowest minimum, then normalized): the chain is
// metastable, its spectral gap ~ exp(-B / eta) (THEORY.md sections 4-5), so power iteration would
// need ~exp(B / eta) steps. The system is column diagonally dominant, so the LU keeps the diagonal
// pivots. Roundoff negatives (< 1e-12 of the largest entry) are set to 0; the residual
// |pi^T P - pi^T|_1 is reported and must be below 1e-8.
//
// Basin masses: cell centres classified by the flow of -grad f (basins.h). A cell a basin
// boundary crosses is split rather than counted by its centre (an O(h) error, large when the
// chain is hot): in 1-D at the boundary found by bisection, in 2-D by a quadtree and marching
// squares with bisected edge crossings, the density inside the cell reconstructed (quadratic)
// from its neighbours' masses. basin_mass is normalized over the classified mass.
//
// Deterministic: rows are built independently (in parallel) and assembled in order; the result is
// bit-identical for any number of threads.
#ifndef LDSGD_SOLVER_THEORY_GRID_REFERENCE_H_
#define LDSGD_SOLVER_THEORY_GRID_REFERENCE_H_

#include <limits>
#include <string>
#include <vector>

#include <Eigen/Core>

#include "solver/io/status.h"
#include "solver/landscape/critical_points.h"
#include "solver/problem/problem.h"

namespace ldsgd {

struct GridReferenceOptions {
  // Cells per dimension of the first grid; 0 = automatic (the rule above). At least 4 otherwise.
  int initial_cells = 0;
  // Converged when the basin masses of the minima change by at most this much (absolutely)
  // between two grids; without a minimum, the mean (in standard deviations) and the variance
  // (relatively). > 0.
  double tolerance = 1e-4;
  // Refinements after the first grid (each N -> 2N, or 1.5 N). 0 = one grid, never "converged".
  int max_refinements = 4;
  // No grid with more states (N^d) or kernel entries than these (memory: ~12 bytes per entry, the
  // LU factors more). A refinement that does not fit ends the run unconverged.
  long max_states = 200000;
  long max_nonzeros = 20000000;
  // Time budget in seconds. A refinement is made only when its predicted time (the last grid's,
  // scaled by the cost model: kernel ~ entries, LU ~ states x bandwidth^2) fits in what is left;
  // the first grid's LU is sized to a tenth of it. Exceeded by at most one grid's misprediction.
  double max_seconds = 60.0;
  // Exact finite sums: at most this many minibatch multisets C(n + b - 1, b) per step.
  long max_minibatches = 20000;
  // Gauss-Legendre points per dimension over the source cell, 1..5. Three make the source average
  // O(h^6) accurate, below the other errors.
  int quadrature_points = 3;
  // Compensate the h^2/6 numerical diffusion of the cells in the Gaussian kernel (see above).
  bool compensate = true;
  // Worker threads; 0 = all cores. Results are identical for any value.
  int num_threads = 0;

  // kInvalidOptions "Invalid configuration. Options::FIELD = ..." for the first violated
  // constraint, Ok otherwise.
  Status Validate() const;
};

// One grid of the refinement sequence.
struct GridLevel {
  int cells_per_dimension = 0;
  long states = 0, nonzeros = 0;
  std::vector<double> basin_mass;  // per component, NaN for non-minima
  double unclassified = 0.0;       // stationary mass of cells in no basin
  double leak = 0.0;               // stationary probability per step of leaving the box
  double partial_compensation = 0.0;  // stationary mass of cells whose compensation was limited
  Eigen::VectorXd mean, variance;  // of the stationary law, per coordinate
  double residual = 0.0;           // |pi^T P - pi^T|_1
  double seconds = 0.0, solve_seconds = 0.0;  // all, and the LU
};

struct GridReference {
  static constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
  // kNotRun until computed; kInvalidOptions for bad options or step size; kInvalidInput when the
  // reference is not available for the problem (d > 2, too many minibatches, a covariance that is
  // not positive semi-definite); kNumericalIssue when a solve fails (e.g. a grid chain with two
  // closed classes, as vanishing noise can make).
  Status status;
  double step_size = 0.0;
  // The last grid: cells per dimension, and refinements done after the first.
  int cells_per_dimension = 0, refinements = 0;
  // The last two grids agreed to options.tolerance.
  bool converged = false;
  // The largest change of a minimum's basin mass at the last refinement (absolute; with no
  // minimum, moment_change); NaN with a single grid. Errors fall as h^4 (compensated Gaussian
  // noise) or h^2, so the last grid's error is about change / 15 or change / 3 after a doubling.
  double change = kNaN;
  // The largest change of the mean (in standard deviations) and of the variance (relatively) at
  // the last refinement; reported, not judged (NaN with a single grid).
  double moment_change = kNaN;
  // The last grid's values (GridLevel): basin masses per component (NaN for non-minima, summing to
  // 1 over the minima), unclassified mass, leak, partial compensation, mean and variance.
  std::vector<double> basin_mass;
  double unclassified = 0.0;
  double leak = 0.0;
  double partial_compensation = 0.0;
  Eigen::VectorXd mean, variance;
  std::vector<GridLevel> levels;
  double seconds = 0.0;

  // One line: converged or not, grid, change, masses of the minima, leak.
  std::string BriefReport() const;
  // Adds one line per level.
  std::string FullReport() const;
};

// The stationary law of constant step-size SGD at `step_size` on a grid over problem.domain, for
// d <= 2. `components` are the critical components (their minima name the basins). Never throws;
// failures come back in the status.
GridReference ComputeGridReference(const Problem& problem,
                                   const std::vector<CriticalComponent>& components,
                                   double step_size, const GridReferenceOptions& options);

}  // namespace ldsgd

#endif  // LDSGD_SOLVER_THEORY_GRID_REFERENCE_H_
