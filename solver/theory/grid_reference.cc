#include "solver/theory/grid_reference.h"

#include <algorithm>
#include <array>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <limits>
#include <string>
#include <sstream>
#include <utility>
#include <vector>

#include <Eigen/LU>
#include <Eigen/SparseCore>
#include <Eigen/SparseLU>

#include "solver/numerics/cluster.h"
#include "solver/io/input_text.h"
#include "solver/landscape/basins.h"
#include "solver/numerics/parallel.h"

namespace ldsgd {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr double kInverseSqrtTwoPi = 0.3989422804014327;

// Gaussian tails beyond 8.5 standard deviations hold < 1e-17 of the mass: never visited.
constexpr double kTailStd = 8.5;
// Kernel entries below this fraction of their row are dropped to keep the matrix sparse (a row
// then loses < 1e-12 of its mass, given back by the renormalization).
constexpr double kDropRelative = 1e-15;
// The compensation never removes more than this share of the noise: the kernel keeps at least a
// quarter of eta^2 Sigma (the automatic cell size needs under a sixth where |J| <= 1).
constexpr double kMaxCompensation = 0.75;
// Standard deviations are floored at this fraction of a cell: a covariance that vanishes at a point
// puts the step into the cell of its mean (the Gaussian's limit) instead of dividing by zero.
constexpr double kMinStdCells = 1e-12;
// Correlated 2-D covariance: Gauss-Legendre nodes per piece of a target column, and pieces per
// correlation length l (= the shorter of the marginal std of y0 and the scale over which y1 | y0
// moves by one conditional std). On pieces of length l, 4 nodes integrate the entire integrand to
// ~1e-7 relative (the 8th derivative of a Gaussian of scale l, ~105 / l^8, times the rule's
// 5.7e-10 l^9); the column's exact marginal mass then rescales the nodes.
constexpr int kColumnNodes = 4;
constexpr double kPiecesPerLength = 1.0;
constexpr int kMaxPieces = 256;
// Mehler's series: used up to this |rho| (~40 terms at 0.5, ~600 at 0.95, each a product of two
// axis vectors: cheaper than the conditional quadrature up to there), summed until the bound on
// the rest falls below kMehlerTolerance per cell.
constexpr double kMaxMehlerCorrelation = 0.95;
constexpr double kMehlerTolerance = 1e-14;
constexpr int kMaxMehlerTerms = 1000;
// Automatic cell size: one-step standard deviations per cell, and the least cells per dimension.
constexpr double kStdPerCellCompensated = 1.0;
constexpr double kStdPerCellUncompensated = 4.0;  // relative temperature error (1/4)^2/6 = 1%
constexpr double kStdPerCellDirac = 16.0;         // (1/16)^2/4 = 0.1%; these rows are cheap
constexpr int kMinCells = 16;
constexpr int kProbes = 32;  // per dimension, for the noise scale
// Cost model: the first grid's LU may take this share of options.max_seconds at the rate below (a
// conservative rate for Eigen's SparseLU; measured 2e9 per second on 2-D grids).
constexpr double kInitialBudgetShare = 0.1;
constexpr double kFlopsPerSecond = 1e9;
// Cells a basin boundary crosses (2-D): a quadtree down to squares of h / 2^kQuadtreeDepth, in
// which the boundary is taken straight between edge crossings located by kEdgeBisections halvings
// (to 1e-6 of the square; the straight boundary errs by ~ curvature (h/4)^3 / 12).
constexpr int kQuadtreeDepth = 2;
constexpr int kEdgeBisections = 20;
// Rows per parallel task in 1-D (2-D: one line of cells).
constexpr int kRowsPerTask1D = 64;
// Stationary vector: negative entries above this fraction of the largest are roundoff (else the
// solve failed); the residual |pi^T P - pi^T|_1 must stay below kMaxResidual.
constexpr double kNegativeRoundoff = 1e-12;
constexpr double kMaxResidual = 1e-8;
// The pinned system is column diagonally dominant: the diagonal pivot is always acceptable. A low
// threshold keeps the fill-reducing order against rounding-level ties.
constexpr double kPivotThreshold = 0.01;
// Nested dissection (2-D): separators as wide as the reach of this quantile of the rows, and boxes
// within 2 reach + this many lines of cells not split further.
constexpr double kSeparatorQuantile = 0.9;
constexpr int kNestedLeaf = 8;

// On the root's clock: the refinement's budget decisions are the same on every rank (cluster.h).
double SecondsSince(double start) {
  return Cluster::Get().Seconds() - start;
}

// Gauss-Legendre rule on [-1, 1] (weights sum to 2).
struct Rule {
  std::vector<double> node, weight;
};
Rule GaussLegendre(int n) {
  switch (n) {
    case 1: return {{0.0}, {2.0}};
    case 2: return {{-0.5773502691896257, 0.5773502691896257}, {1.0, 1.0}};
    case 3: return {{-0.7745966692414834, 0.0, 0.7745966692414834},
                    {0.5555555555555556, 0.8888888888888888, 0.5555555555555556}};
    case 4: return {{-0.8611363115940526, -0.3399810435848563, 0.3399810435848563, 0.8611363115940526},
                    {0.3478548451374538, 0.6521451548625461, 0.6521451548625461, 0.3478548451374538}};
    default: return {{-0.9061798459386640, -0.5384693101056831, 0.0, 0.5384693101056831, 0.9061798459386640},
                     {0.2369268850561891, 0.4786286704993665, 0.5688888888888889, 0.4786286704993665,
                      0.2369268850561891}};
  }
}

// N cells per dimension over the box; cell a has coordinates i_k = (a / N^k) % N (first fastest).
struct Grid {
  int d = 1, n = 0;
  Eigen::VectorXd lower, upper, h;
  long states() const { return d == 1 ? n : static_cast<long>(n) * n; }
  int Coordinate(long a, int k) const { return static_cast<int>(k == 0 ? a % n : a / n); }
  void Centre(long a, double* x) const {
    for (int k = 0; k < d; ++k) x[k] = lower[k] + (Coordinate(a, k) + 0.5) * h[k];
  }
};

Grid MakeGrid(const Domain& box, int n) {
  Grid g;
  g.d = static_cast<int>(box.lower.size());
  g.n = n;
  g.lower = box.lower;
  g.upper = box.upper;
  g.h = (box.upper - box.lower) / n;
  return g;
}

// The cell edges of one axis (cells [lower + j h, lower + (j + 1) h), 0 <= j < n) within
// kTailStd s of m, standardized: u_j = (lower + (first + j) h - m) / s for j = 0 .. count, count
// cells from *first; empty when no cell of the box is within reach.
void AxisEdges(double m, double s, double lower, double h, int n, int* first, std::vector<double>* u) {
  u->clear();
  s = std::max(s, kMinStdCells * h);
  const double j0 = std::max(std::floor((m - kTailStd * s - lower) / h), 0.0);
  const double j1 = std::min(std::floor((m + kTailStd * s - lower) / h), n - 1.0);
  if (!(j0 <= j1)) return;  // outside the box (or not finite)
  *first = static_cast<int>(j0);
  for (double j = j0; j <= j1 + 1; ++j) u->push_back((lower + j * h - m) / s);
}

// P(N(0, 1) in [u_j, u_{j+1}]) for consecutive standardized edges. Each edge costs one erfc of
// |z| (the tail beyond the nearer side): no cancellation in either tail.
void CellProbabilities(const std::vector<double>& u, std::vector<double>* p) {
  p->clear();
  if (u.empty()) return;
  const double scale = 1.0 / std::sqrt(2.0);
  double z0 = u[0] * scale, q0 = 0.5 * std::erfc(std::abs(z0));
  for (std::size_t j = 1; j < u.size(); ++j) {
    const double z1 = u[j] * scale, q1 = 0.5 * std::erfc(std::abs(z1));
    p->push_back(std::max(z0 >= 0 ? q0 - q1 : (z1 <= 0 ? q1 - q0 : 1.0 - q0 - q1), 0.0));
    z0 = z1;
    q0 = q1;
  }
}

// P(N(m, s^2) in cell first + j) along one axis, for the cells within kTailStd s of m.
void AxisProbabilities(double m, double s, double lower, double h, int n, int* first,
                       std::vector<double>* p) {
  std::vector<double> u;
  AxisEdges(m, s, lower, h, n, first, &u);
  CellProbabilities(u, p);
}

// A dense row under construction, with the box of indices touched (cleared on extraction).
class RowAccumulator {
 public:
  RowAccumulator(int d, int n) : n_(n), value_(d == 1 ? n : static_cast<std::size_t>(n) * n, 0.0) {}

  void Add(int i0, int i1, double v) {
    value_[i0 + static_cast<std::size_t>(n_) * i1] += v;
    lo_[0] = std::min(lo_[0], i0);
    hi_[0] = std::max(hi_[0], i0);
    lo_[1] = std::min(lo_[1], i1);
    hi_[1] = std::max(hi_[1], i1);
  }
  // w p0 (x) p1 at cells (first0 + i, first1 + j).
  void AddProduct(double w, int first0, const std::vector<double>& p0, int first1,
                  const std::vector<double>& p1) {
    if (p0.empty() || p1.empty()) return;
    for (std::size_t j = 0; j < p1.size(); ++j) {
      const double wj = w * p1[j];
      double* row = &value_[first0 + static_cast<std::size_t>(n_) * (first1 + j)];
      for (std::size_t i = 0; i < p0.size(); ++i) row[i] += wj * p0[i];
    }
    Add(first0, first1, 0.0);
    Add(first0 + static_cast<int>(p0.size()) - 1, first1 + static_cast<int>(p1.size()) - 1, 0.0);
  }
  // Appends the entries >= kDropRelative of the row total to (column, value), normalized to sum 1,
  // in increasing index order, and clears. Returns the total before dropping (1 - leak).
  double Extract(std::vector<int>* column, std::vector<double>* value) {
    double total = 0.0;
    for (int i1 = lo_[1]; i1 <= hi_[1]; ++i1) {
      for (int i0 = lo_[0]; i0 <= hi_[0]; ++i0) total += value_[i0 + static_cast<std::size_t>(n_) * i1];
    }
    const std::size_t start = value->size();
    double kept = 0.0;
    for (int i1 = lo_[1]; i1 <= hi_[1]; ++i1) {
      for (int i0 = lo_[0]; i0 <= hi_[0]; ++i0) {
        double& v = value_[i0 + static_cast<std::size_t>(n_) * i1];
        if (v > kDropRelative * total) {
          column->push_back(i0 + n_ * i1);
          value->push_back(v);
          kept += v;
        }
        v = 0.0;
      }
    }
    for (std::size_t k = start; k < value->size(); ++k) (*value)[k] /= kept;
    lo_[0] = lo_[1] = std::numeric_limits<int>::max();
    hi_[0] = hi_[1] = std::numeric_limits<int>::min();
    return total;
  }

 private:
  int n_;
  std::vector<double> value_;
  int lo_[2] = {std::numeric_limits<int>::max(), std::numeric_limits<int>::max()};
  int hi_[2] = {std::numeric_limits<int>::min(), std::numeric_limits<int>::min()};
};

// A multiset of b sample indices: (index, count) pairs and its probability b!/(prod c!)/n^b.
struct Minibatch {
  std::vector<std::pair<int, int>> counts;
  double weight = 0.0;
};

// C(n + b - 1, b), the number of multisets, as a double (it only needs comparing with a limit).
double MultisetCount(int n, int b) {
  double c = 1.0;
  for (int k = 1; k <= b; ++k) c = c * (n + b - k) / k;
  return c;
}

// All multisets of b indices out of n, in lexicographic order.
std::vector<Minibatch> Minibatches(int n, int b) {
  std::vector<Minibatch> out;
  std::vector<int> pick(b, 0);  // non-decreasing indices
  const double log_norm = std::lgamma(b + 1.0) - b * std::log(static_cast<double>(n));
  for (;;) {
    Minibatch m;
    double log_weight = log_norm;
    for (int j = 0; j < b;) {
      int k = j;
      while (k < b && pick[k] == pick[j]) ++k;
      m.counts.emplace_back(pick[j], k - j);
      log_weight -= std::lgamma(k - j + 1.0);
      j = k;
    }
    m.weight = std::exp(log_weight);
    out.push_back(std::move(m));
    int j = b - 1;
    while (j >= 0 && pick[j] == n - 1) --j;
    if (j < 0) return out;
    ++pick[j];
    for (int k = j + 1; k < b; ++k) pick[k] = pick[j];
  }
}

// What stays the same across the levels of one computation.
struct Setup {
  Setup(const Problem& p, const std::vector<CriticalComponent>& c, double step, const GridReferenceOptions& o)
      : problem(p), components(c), eta(step), options(o), d(p.dimension()) {}

  const Problem& problem;
  const std::vector<CriticalComponent>& components;
  double eta = 0.0;
  const GridReferenceOptions& options;
  int d = 1;
  bool dirac = false;             // exact finite sum: a mixture of Diracs
  std::vector<Minibatch> batches;  // dirac only
  Rule source;                    // Gauss-Legendre over the source cell
  // Derivatives of the Lagrange basis through the source nodes, at the nodes, on [-1, 1]:
  // first_derivative(i, j) = l_j'(node_i), second_derivative(i, j) = l_j''(node_i).
  Eigen::MatrixXd first_derivative, second_derivative;
  std::vector<Eigen::VectorXd> probe_std;    // one-step std per coordinate at the probes
  std::vector<Eigen::VectorXd> probe_reach;  // |eta grad f| + kTailStd std per coordinate
  double min_std = 0.0;           // eta sqrt(min lambda_min(Sigma)) over the probes
  Eigen::VectorXd pin_point;      // the lowest minimum (or the box centre): pinned in the solve
};

// What a grid's rows need besides the setup.
struct RowContext {
  const Setup& s;
  const Grid& grid;
};

// The largest alpha <= 1 with alpha C <= kMaxCompensation S (2 x 2, S SPD): the generalized
// eigenvalue problem det(C - lambda S) = 0.
double CompensationShare(const Eigen::Matrix2d& S, const Eigen::Matrix2d& C) {
  const double det_s = S.determinant();
  if (!(det_s > 0)) return 0.0;
  const double b = S(0, 0) * C(1, 1) + S(1, 1) * C(0, 0) - 2 * S(0, 1) * C(0, 1);
  const double disc = std::max(b * b - 4 * det_s * C.determinant(), 0.0);
  const double lambda = (b + std::sqrt(disc)) / (2 * det_s);
  return lambda > 0 ? std::min(1.0, kMaxCompensation / lambda) : 1.0;
}

// A 2-D Gaussian with correlation |rho| <= kMaxMehlerCorrelation over the cells, by Mehler's
// expansion of its density, phi(x) phi(y) sum_n rho^n / n! He_n(x) He_n(y) (x, y standardized),
// integrated over each cell: P = dPhi(x) dPhi(y) + sum_{n >= 1} rho^n / n dF_{n-1}(x) dF_{n-1}(y),
// F_k = phi h_k with h_k = He_k / sqrt(k!) (since the integral of phi He_n is -phi He_{n-1}). Every
// term is a product of two axis vectors, so a correlated step costs little more than a diagonal
// one. |F_k| <= 1.0864 / sqrt(2 pi) (Cramer's inequality), so the terms after the N-th add up to
// at most 0.75 |rho|^(N+1) / ((N+1)(1 - |rho|)) per cell: the series stops below kMehlerTolerance.
void AddMehler(const Grid& g, const Eigen::Vector2d& m, double s0, double s1, double rho, double w,
               RowAccumulator* acc) {
  int first[2] = {0, 0};
  std::vector<double> u[2], p[2], phi[2], previous[2], current[2], dF[2];
  for (int k = 0; k < 2; ++k) {
    AxisEdges(m[k], k == 0 ? s0 : s1, g.lower[k], g.h[k], g.n, &first[k], &u[k]);
    if (u[k].empty()) return;
    CellProbabilities(u[k], &p[k]);
    for (double x : u[k]) phi[k].push_back(std::exp(-0.5 * x * x) * kInverseSqrtTwoPi);
    previous[k].assign(u[k].size(), 0.0);  // h_{-1}
    current[k].assign(u[k].size(), 1.0);   // h_0
    dF[k].resize(p[k].size());
  }
  acc->AddProduct(w, first[0], p[0], first[1], p[1]);
  const double r = std::abs(rho);
  double power = 1.0;  // rho^n
  for (int n = 1; n < kMaxMehlerTerms; ++n) {
    power *= rho;
    for (int k = 0; k < 2; ++k) {
      for (std::size_t j = 0; j < dF[k].size(); ++j) {
        dF[k][j] = phi[k][j + 1] * current[k][j + 1] - phi[k][j] * current[k][j];
      }
    }
    acc->AddProduct(w * power / n, first[0], dF[0], first[1], dF[1]);
    if (0.75 * std::pow(r, n + 1) / ((n + 1) * (1 - r)) <= kMehlerTolerance) return;
    for (int k = 0; k < 2; ++k) {  // h_n = (x h_{n-1} - sqrt(n - 1) h_{n-2}) / sqrt(n)
      for (std::size_t j = 0; j < u[k].size(); ++j) {
        const double next = (u[k][j] * current[k][j] - std::sqrt(n - 1.0) * previous[k][j]) / std::sqrt(n);
        previous[k][j] = current[k][j];
        current[k][j] = next;
      }
    }
  }
}

// Correlated 2-D Gaussian N(m, S) over the cells: exact in y1 given y0, Gauss-Legendre in y0 with
// each column's weights rescaled to its exact marginal mass.
void AddCorrelated(const Grid& g, const Eigen::Vector2d& m, const Eigen::Matrix2d& S, double w,
                   RowAccumulator* acc) {
  static const Rule kColumn = GaussLegendre(kColumnNodes);
  const double s0 = std::max(std::sqrt(std::max(S(0, 0), 0.0)), kMinStdCells * g.h[0]);
  const double beta = S(0, 1) / (s0 * s0);
  const double sc = std::sqrt(std::max(S(1, 1) - S(0, 1) * beta, 0.0));
  const double length = beta != 0 ? std::min(s0, std::max(sc, kMinStdCells * g.h[1]) / std::abs(beta)) : s0;
  const int pieces = static_cast<int>(std::clamp(std::ceil(kPiecesPerLength * g.h[0] / length), 1.0,
                                                 static_cast<double>(kMaxPieces)));
  std::vector<double> column, rows, node_mass;
  const std::vector<double> one{1.0};
  int first0 = 0, first1 = 0;
  AxisProbabilities(m[0], s0, g.lower[0], g.h[0], g.n, &first0, &column);
  const double piece = g.h[0] / pieces;
  for (std::size_t j = 0; j < column.size(); ++j) {
    if (column[j] == 0.0) continue;
    const double left = g.lower[0] + (first0 + j) * g.h[0];
    node_mass.clear();
    double quadrature = 0.0;
    for (int p = 0; p < pieces; ++p) {
      for (int q = 0; q < kColumnNodes; ++q) {
        const double y0 = left + piece * (p + 0.5 * (1.0 + kColumn.node[q]));
        const double z = (y0 - m[0]) / s0;
        node_mass.push_back(0.5 * piece * kColumn.weight[q] * std::exp(-0.5 * z * z));
        quadrature += node_mass.back();
      }
    }
    if (!(quadrature > 0)) continue;
    const double rescale = w * column[j] / quadrature;
    for (int p = 0, k = 0; p < pieces; ++p) {
      for (int q = 0; q < kColumnNodes; ++q, ++k) {
        const double y0 = left + piece * (p + 0.5 * (1.0 + kColumn.node[q]));
        AxisProbabilities(m[1] + beta * (y0 - m[0]), sc, g.lower[1], g.h[1], g.n, &first1, &rows);
        acc->AddProduct(rescale * node_mass[k], first0 + static_cast<int>(j), one, first1, rows);
      }
    }
  }
}

// The Gaussian step N(m, S), weight w, into acc: a product of axis vectors when S is diagonal,
// Mehler's series for a moderate correlation, the conditional quadrature beyond.
void AddGaussianStep(const Grid& g, const Eigen::Vector2d& m, const Eigen::Matrix2d& S, double w,
                     RowAccumulator* acc) {
  std::vector<double> p0, p1{1.0};
  int first0 = 0, first1 = 0;
  const double s0 = std::sqrt(std::max(S(0, 0), 0.0));
  if (g.d == 1 || S(0, 1) == 0.0) {
    AxisProbabilities(m[0], s0, g.lower[0], g.h[0], g.n, &first0, &p0);
    if (g.d == 2) AxisProbabilities(m[1], std::sqrt(std::max(S(1, 1), 0.0)), g.lower[1], g.h[1], g.n, &first1, &p1);
    acc->AddProduct(w, first0, p0, first1, p1);
    return;
  }
  const double f0 = std::max(s0, kMinStdCells * g.h[0]);
  const double f1 = std::max(std::sqrt(std::max(S(1, 1), 0.0)), kMinStdCells * g.h[1]);
  const double rho = std::clamp(S(0, 1) / (f0 * f1), -1.0, 1.0);
  if (std::abs(rho) <= kMaxMehlerCorrelation) {
    AddMehler(g, m, f0, f1, rho, w, acc);
  } else {
    AddCorrelated(g, m, S, w, acc);
  }
}

// Limits the compensation C of the step covariance S to kMaxCompensation of S and applies it:
// per coordinate when S and C are diagonal, else through the generalized eigenvalues (2-D).
void ApplyCompensation(int d, bool diagonal, const Eigen::Matrix2d& C, Eigen::Matrix2d* S, bool* limited) {
  if (diagonal) {
    for (int k = 0; k < d; ++k) {
      const double alpha = C(k, k) > 0 ? std::min(1.0, kMaxCompensation * (*S)(k, k) / C(k, k)) : 1.0;
      *limited = *limited || alpha < 1.0;
      (*S)(k, k) -= alpha * C(k, k);
    }
    return;
  }
  const double alpha = CompensationShare(*S, C);
  *limited = *limited || alpha < 1.0;
  *S -= alpha * C;
}

// A source point of a cell (Gauss-Legendre node i + q j and its weight) and, for Gaussian noise,
// grad f, Hess f and Sigma there (the top-left d x d block is used).
struct SourcePoint {
  Eigen::Vector2d x = Eigen::Vector2d::Zero();
  double weight = 0.0;
  Eigen::Vector2d g = Eigen::Vector2d::Zero();
  Eigen::Matrix2d H = Eigen::Matrix2d::Zero();
  Eigen::Matrix2d sigma = Eigen::Matrix2d::Zero();
};

std::vector<SourcePoint> SourcePoints(const RowContext& c, long a) {
  const Grid& g = c.grid;
  const Rule& rule = c.s.source;
  const int q = static_cast<int>(rule.node.size());
  double centre[2];
  g.Centre(a, centre);
  std::vector<SourcePoint> points(g.d == 1 ? q : q * q);
  for (std::size_t t = 0; t < points.size(); ++t) {
    const int node[2] = {static_cast<int>(t) % q, static_cast<int>(t) / q};
    points[t].weight = 1.0;
    for (int k = 0; k < g.d; ++k) {
      points[t].x[k] = centre[k] + 0.5 * g.h[k] * rule.node[node[k]];
      points[t].weight *= 0.5 * rule.weight[node[k]];
    }
  }
  return points;
}

// grad f, Hess f and Sigma at p; "" or why the step cannot be taken there.
std::string EvaluateGaussian(const RowContext& c, SourcePoint* p) {
  const int d = c.grid.d;
  double g[2] = {0, 0}, H[4] = {0, 0, 0, 0};
  c.s.problem.objective->Hessian(p->x.data(), g, H);
  const Eigen::MatrixXd sigma = c.s.problem.noise.CovarianceAt(p->x.data());
  const Eigen::VectorXd gradient = Eigen::Map<const Eigen::VectorXd>(g, d);
  const Eigen::MatrixXd hessian = Eigen::Map<const Eigen::MatrixXd>(H, d, d);
  const Definiteness definiteness = Noise::Classify(sigma, gradient);
  if (definiteness == Definiteness::kNotFinite || definiteness == Definiteness::kIndefinite ||
      !hessian.allFinite()) {
    std::ostringstream why;
    why << (definiteness == Definiteness::kIndefinite ? "the covariance is not positive semi-definite"
                                                      : "grad f, Hess f or the covariance is not finite")
        << " at x = (" << p->x.head(d).transpose() << ")";
    return why.str();
  }
  p->g.head(d) = gradient;
  p->H.topLeftCorner(d, d) = hessian;
  p->sigma.topLeftCorner(d, d) = sigma;
  return "";
}

// Mean and covariance of the kernel's Gaussian step from source point t (see the header). In a
// cell of centre c, Ulam's step (cell mass x the mean over the cell of the kernel k~ as evaluated)
// differs from the true one (the integral of g k) by h [(h^2/24) g (k~_xx - k_xx) - (h^2/12) g' k_x]
// (Taylor in the source offset; _x: derivatives along the source). Summed over cells and by parts,
// the defect per unit mass is (h^2/24) (k_xx + k~_xx): the cells' extra noise D = diag(h^2/6)
// before the drift. With T(x) = x - eta grad f, J = I - eta Hess f, S = eta^2 Sigma, and the
// covariance taken at c + b (x - c), it is (h^2/12) [T'' d_m + J^2 d_mm + (1 + b) J S' d_mS +
// (1 + b^2)/2 (S'' d_S + S'^2 d_SS)] k: a mean shift T''[D] / 2 and a covariance J D J^T +
// S''[D] / 2, both subtracted here; a third cumulant 3 (1 + b) J S' D / 2, which no Gaussian can
// cancel; and a variance mixture (1 + b^2) S'^2 D / 2 (a fourth cumulant, whose effect on the law
// is a further factor ~eta smaller). b = -1, Sigma at the source node mirrored through the centre
// (no extra evaluation with a symmetric rule), removes the third cumulant: then state-dependent
// noise converges as h^4 too (cases 2 and 2b: ~16x per halving of h; as h^2 with b = 1). The
// derivatives along each axis come from the Lagrange interpolant through the cell's source points
// on that axis.
void StepMoments(const RowContext& c, const std::vector<SourcePoint>& points, int t,
                 Eigen::Vector2d* m, Eigen::Matrix2d* S, bool* limited) {
  const int d = c.grid.d, q = static_cast<int>(c.s.source.node.size());
  const double eta = c.s.eta;
  const SourcePoint& p = points[t];
  *m = p.x - eta * p.g;
  *S = eta * eta * p.sigma;
  if (!c.s.options.compensate) return;
  *S = eta * eta * points[points.size() - 1 - t].sigma;  // the mirrored node (symmetric rule)
  const Eigen::Matrix2d J = Eigen::Matrix2d::Identity() - eta * p.H;
  Eigen::Matrix2d C = Eigen::Matrix2d::Zero();
  for (int k = 0; k < d; ++k) {
    const double D = c.grid.h[k] * c.grid.h[k] / 6.0;
    const int node = k == 0 ? t % q : t / q, stride = k == 0 ? 1 : q, base = t - node * stride;
    Eigen::Vector2d dH = Eigen::Vector2d::Zero();  // d/dx_k of Hess f's column k
    Eigen::Matrix2d ddS = Eigen::Matrix2d::Zero();  // d^2/dx_k^2 of Sigma
    for (int j = 0; j < q; ++j) {
      dH += c.s.first_derivative(node, j) * points[base + j * stride].H.col(k);
      ddS += c.s.second_derivative(node, j) * points[base + j * stride].sigma;
    }
    dH *= 2.0 / c.grid.h[k];
    ddS *= 4.0 / (c.grid.h[k] * c.grid.h[k]);
    *m += 0.5 * eta * D * dH;
    C += D * J.col(k) * J.col(k).transpose() + 0.5 * D * eta * eta * ddS;
  }
  if (d == 1) C(0, 1) = C(1, 0) = C(1, 1) = 0.0;
  ApplyCompensation(d, C(0, 1) == 0.0 && (*S)(0, 1) == 0.0, C, S, limited);
}

// The Gaussian steps from cell a's source points into acc. Returns "" or why they cannot be taken.
std::string AddGaussianCell(const RowContext& c, long a, RowAccumulator* acc, bool* limited) {
  const Grid& g = c.grid;
  std::vector<SourcePoint> points = SourcePoints(c, a);
  for (SourcePoint& p : points) {
    if (std::string why = EvaluateGaussian(c, &p); !why.empty()) return why;
  }
  for (int t = 0; t < static_cast<int>(points.size()); ++t) {
    Eigen::Vector2d m;
    Eigen::Matrix2d S;
    StepMoments(c, points, t, &m, &S, limited);
    AddGaussianStep(g, m, S, points[t].weight, acc);
  }
  return "";
}

// Cloud-in-cell: the point y, weight w, onto the nearest cell centres (linear weights; a point
// between the last centre and the box's edge goes to the edge cell). Outside the box: nothing.
void Deposit(const Grid& g, const double* y, double w, RowAccumulator* acc) {
  int index[2][2] = {{0, 0}, {0, 0}};
  double weight[2][2] = {{1.0, 0.0}, {1.0, 0.0}};
  for (int k = 0; k < g.d; ++k) {
    if (!(y[k] >= g.lower[k] && y[k] <= g.upper[k])) return;
    const double t = (y[k] - g.lower[k]) / g.h[k] - 0.5;
    const double i = std::floor(t);
    index[k][0] = static_cast<int>(std::clamp(i, 0.0, g.n - 1.0));
    index[k][1] = static_cast<int>(std::clamp(i + 1, 0.0, g.n - 1.0));
    weight[k][0] = 1.0 - (t - i);
    weight[k][1] = t - i;
  }
  for (int b = 0; b < (g.d == 2 ? 2 : 1); ++b) {
    for (int a = 0; a < 2; ++a) {
      const double v = w * weight[0][a] * weight[1][b];
      if (v > 0) acc->Add(index[0][a], index[1][b], v);
    }
  }
}

// The exact minibatch steps (a mixture of Diracs) from cell a's source points into acc.
std::string AddDiracCell(const RowContext& c, long a, RowAccumulator* acc) {
  const int d = c.grid.d;
  const double step = c.s.eta / c.s.problem.noise.batch_size();
  Eigen::MatrixXd G;
  double y[2];
  for (const SourcePoint& p : SourcePoints(c, a)) {
    c.s.problem.noise.samples()->Gradients(p.x.data(), &G);
    if (!G.allFinite()) {
      std::ostringstream why;
      why << "a sample gradient is not finite at x = (" << p.x.head(d).transpose() << ")";
      return why.str();
    }
    for (const Minibatch& batch : c.s.batches) {
      for (int k = 0; k < d; ++k) y[k] = p.x[k];
      for (const auto& [index, count] : batch.counts) {
        for (int k = 0; k < d; ++k) y[k] -= step * count * G(k, index);
      }
      Deposit(c.grid, y, p.weight * batch.weight, acc);
    }
  }
  return "";
}

// The rows of P for cells [begin, end): normalized entries, leak and limited compensation per row.
struct RowBlock {
  std::vector<long> end;  // cumulative entry count after each row
  std::vector<int> column;
  std::vector<double> value;
  std::vector<double> leak;
  std::vector<char> limited;
  std::string error;
};

void BuildRows(const RowContext& c, long begin, long end, long pin, RowBlock* out) {
  RowAccumulator acc(c.grid.d, c.grid.n);
  for (long a = begin; a < end; ++a) {
    bool limited = false;
    std::string why = c.s.dirac ? AddDiracCell(c, a, &acc) : AddGaussianCell(c, a, &acc, &limited);
    if (!why.empty()) {
      out->error = std::move(why);
      return;
    }
    const double total = acc.Extract(&out->column, &out->value);
    if (!(total > 1e-300)) {
      // Every step from here leaves the box: "conditioned to stay" is undefined. Restart at the
      // pinned cell (its leak of 1 is reported).
      out->column.push_back(static_cast<int>(pin));
      out->value.push_back(1.0);
    }
    out->end.push_back(static_cast<long>(out->value.size()));
    out->leak.push_back(std::clamp(1.0 - total, 0.0, 1.0));
    out->limited.push_back(limited);
  }
}

// P as compressed rows (row a: entries row_start[a] .. row_start[a + 1]).
struct Kernel {
  std::vector<long> row_start;
  std::vector<int> column;
  std::vector<double> value;
  std::vector<double> leak;
  std::vector<char> limited;
};

Status AssembleKernel(const RowContext& c, long pin, Kernel* P) {
  const long states = c.grid.states();
  const long per_task = c.grid.d == 1 ? kRowsPerTask1D : c.grid.n;
  const int tasks = static_cast<int>((states + per_task - 1) / per_task);
  std::vector<RowBlock> blocks(tasks);
  ParallelFor(tasks, c.s.options.num_threads, [&](int t) {
    BuildRows(c, t * per_task, std::min(states, (t + 1) * per_task), pin, &blocks[t]);
  });
  P->row_start.assign(1, 0);
  for (RowBlock& b : blocks) {
    if (!b.error.empty()) return Status(StatusCode::kInvalidInput, b.error);
    const long offset = static_cast<long>(P->column.size());
    for (long e : b.end) P->row_start.push_back(offset + e);
    P->column.insert(P->column.end(), b.column.begin(), b.column.end());
    P->value.insert(P->value.end(), b.value.begin(), b.value.end());
    P->leak.insert(P->leak.end(), b.leak.begin(), b.leak.end());
    P->limited.insert(P->limited.end(), b.limited.begin(), b.limited.end());
    b = RowBlock();
  }
  return Status::Ok();
}

// A = (P - I)^T with row `pin` replaced by e_pin^T, its states renumbered by `position` (state a
// becomes position[a]), compressed by columns: column a of A is row a of P (minus 1 on the
// diagonal), without its entry in row `pin`.
Eigen::SparseMatrix<double> PinnedSystem(const Kernel& P, long pin, const std::vector<long>& position) {
  const long n = static_cast<long>(P.row_start.size()) - 1;
  std::vector<long> order(n);  // order[position[a]] = a
  for (long a = 0; a < n; ++a) order[position[a]] = a;
  std::vector<int> outer(1, 0), inner;
  std::vector<double> value;
  inner.reserve(P.column.size() + n);
  value.reserve(P.column.size() + n);
  std::vector<std::pair<int, double>> column;
  for (long k = 0; k < n; ++k) {
    const long a = order[k];
    column.clear();
    bool diagonal = false;
    for (long e = P.row_start[a]; e < P.row_start[a + 1]; ++e) {
      const long b = P.column[e];
      if (b == a) diagonal = true;
      if (b == pin && a != pin) continue;
      column.emplace_back(static_cast<int>(position[b]), b == a ? (a == pin ? 1.0 : P.value[e] - 1.0) : P.value[e]);
    }
    if (!diagonal) column.emplace_back(static_cast<int>(k), a == pin ? 1.0 : -1.0);
    std::sort(column.begin(), column.end());
    for (const auto& [row, v] : column) {
      inner.push_back(row);
      value.push_back(v);
    }
    outer.push_back(static_cast<int>(inner.size()));
  }
  Eigen::SparseMatrix<double> A(n, n);
  A.resizeNonZeros(static_cast<Eigen::Index>(inner.size()));
  std::copy(outer.begin(), outer.end(), A.outerIndexPtr());
  std::copy(inner.begin(), inner.end(), A.innerIndexPtr());
  std::copy(value.begin(), value.end(), A.valuePtr());
  return A;
}

// The reach of a row of P in cells along either axis (its farthest entry), at the given quantile
// over the rows: a few far-reaching rows (steep walls) should not widen every separator.
int RowReach(const Kernel& P, const Grid& g, double quantile) {
  std::vector<int> reach;
  for (long a = 0; a + 1 < static_cast<long>(P.row_start.size()); ++a) {
    int r = 0;
    for (long e = P.row_start[a]; e < P.row_start[a + 1]; ++e) {
      for (int k = 0; k < g.d; ++k) r = std::max(r, std::abs(g.Coordinate(P.column[e], k) - g.Coordinate(a, k)));
    }
    reach.push_back(r);
  }
  const std::size_t at = static_cast<std::size_t>(quantile * (reach.size() - 1));
  std::nth_element(reach.begin(), reach.begin() + at, reach.end());
  return reach[at];
}

// Positions of the N x N cells in a nested-dissection order: a box is split across its longer side
// by a band of `reach` lines (which no entry of most rows crosses), its halves numbered first and
// the band last, recursively; small boxes in any order. An LU then costs ~(reach N)^3 (the top
// separator's dense front) instead of the N^2 (reach N)^2 of a banded order: the grid geometry
// gives what METIS would find, and Eigen's AMD does not.
std::vector<long> NestedDissection(int n, int reach) {
  std::vector<long> position(static_cast<std::size_t>(n) * n);
  long next = 0;
  const auto emit = [&](int i0, int i1, int j0, int j1) {
    for (int j = j0; j < j1; ++j) {
      for (int i = i0; i < i1; ++i) position[i + static_cast<long>(n) * j] = next++;
    }
  };
  const auto dissect = [&](const auto& self, int i0, int i1, int j0, int j1) -> void {
    const int wi = i1 - i0, wj = j1 - j0;
    if (wi <= 0 || wj <= 0) return;
    if (std::max(wi, wj) <= 2 * reach + kNestedLeaf) return emit(i0, i1, j0, j1);
    if (wi >= wj) {
      const int cut = i0 + (wi - reach) / 2;
      self(self, i0, cut, j0, j1);
      self(self, cut + reach, i1, j0, j1);
      emit(cut, cut + reach, j0, j1);
    } else {
      const int cut = j0 + (wj - reach) / 2;
      self(self, i0, i1, j0, cut);
      self(self, i0, i1, cut + reach, j1);
      emit(i0, i1, cut, cut + reach);
    }
  };
  dissect(dissect, 0, n, 0, n);
  return position;
}

// |pi^T P - pi^T|_1.
double Residual(const Kernel& P, const Eigen::VectorXd& pi) {
  Eigen::VectorXd next = Eigen::VectorXd::Zero(pi.size());
  for (long a = 0; a < pi.size(); ++a) {
    for (long e = P.row_start[a]; e < P.row_start[a + 1]; ++e) next[P.column[e]] += pi[a] * P.value[e];
  }
  return (next - pi).lpNorm<1>();
}

// A x = rhs by Eigen's SparseLU with the given column ordering and diagonal pivots; "" or why not.
template <class Ordering>
std::string SparseSolve(const Eigen::SparseMatrix<double>& A, const Eigen::VectorXd& rhs, Eigen::VectorXd* x) {
  Eigen::SparseLU<Eigen::SparseMatrix<double>, Ordering> lu;
  lu.setPivotThreshold(kPivotThreshold);
  lu.isSymmetric(true);
  lu.analyzePattern(A);
  lu.factorize(A);
  if (lu.info() != Eigen::Success) {
    return lu.lastErrorMessage().empty() ? "factorization failed" : lu.lastErrorMessage();
  }
  *x = lu.solve(rhs);
  return "";
}

// The stationary vector by one sparse LU solve (see the header: why not power iteration).
Status Stationary(const Kernel& P, const Grid& g, long pin, Eigen::VectorXd* pi, double* residual) {
  // Diagonal pivots (symmetric mode): the system is column diagonally dominant. 1-D: AMD on the
  // pattern of A + A^T (a banded matrix keeps its band). 2-D: nested dissection of the grid.
  std::vector<long> position(g.states());
  for (long a = 0; a < g.states(); ++a) position[a] = a;
  if (g.d == 2) position = NestedDissection(g.n, std::max(1, RowReach(P, g, kSeparatorQuantile)));
  const Eigen::SparseMatrix<double> A = PinnedSystem(P, pin, position);
  Eigen::VectorXd rhs = Eigen::VectorXd::Zero(A.rows()), x;
  rhs[position[pin]] = 1.0;
  std::string failure;
  if (g.d == 2) {
    failure = SparseSolve<Eigen::NaturalOrdering<int>>(A, rhs, &x);
  } else {
    failure = SparseSolve<Eigen::AMDOrdering<int>>(A, rhs, &x);
  }
  if (!failure.empty()) {
    return Status(StatusCode::kNumericalIssue,
                  "the stationary solve failed (" + failure + "): the grid chain may have more than one closed class");
  }
  pi->resize(g.states());
  for (long a = 0; a < g.states(); ++a) (*pi)[a] = x[position[a]];
  const double largest = pi->maxCoeff();
  if (!pi->allFinite() || !(largest > 0) || pi->minCoeff() < -kNegativeRoundoff * largest) {
    return Status(StatusCode::kNumericalIssue,
                  "the stationary solve gave a non-finite or negative vector: the grid chain may "
                  "have more than one closed class");
  }
  *pi = pi->cwiseMax(0.0);
  *pi /= pi->sum();
  *residual = Residual(P, *pi);
  if (!(*residual <= kMaxResidual)) {
    return Status(StatusCode::kNumericalIssue,
                  "the stationary solve's residual |pi^T P - pi^T|_1 = " + ShortestSpelling(*residual) +
                      " exceeds " + ShortestSpelling(kMaxResidual));
  }
  return Status::Ok();
}

// Basin masses from the cell masses: cells inside a basin count whole; a cell that a basin
// boundary crosses is split, with the density inside it reconstructed from its neighbours' masses
// (quadratic in 1-D, linear in 2-D: the cell's own mass is kept exactly), so that the boundary
// costs O(h^3) per cell rather than the O(h) of counting a cell by its centre. In 1-D the boundary
// between two centres of different basins is found by bisection to rounding; in 2-D by a quadtree
// and marching squares with bisected edge crossings.
class BasinMasses {
 public:
  BasinMasses(const Setup& s, const Grid& g, const Eigen::VectorXd& pi)
      : s_(s), g_(g), pi_(pi), classifier_(*s.problem.objective, s.components) {}

  // Stationary mass per label: [0] unclassified, [1 + i] the basin of component i.
  std::vector<double> Compute() {
    ClassifyCentres();
    std::vector<double> mass(s_.components.size() + 1, 0.0);
    return g_.d == 1 ? Masses1D(std::move(mass)) : Masses2D(std::move(mass));
  }

 private:
  int Classify(const double* x) const { return classifier_.Classify(x); }

  void ClassifyCentres() {
    const long states = g_.states();
    label_.assign(states, -1);
    ParallelFor(static_cast<int>((states + 255) / 256), s_.options.num_threads, [&](int t) {
      double x[2];
      for (long a = 256L * t; a < std::min(states, 256L * (t + 1)); ++a) {
        g_.Centre(a, x);
        label_[a] = Classify(x);
      }
    });
  }

  // The point in [left, right] where the label changes from Classify(left) (bisection).
  double Switch(double left, double right) const {
    const int from = Classify(&left);
    for (int it = 0; it < 200 && right - left > 1e-14 * (std::abs(left) + std::abs(right) + g_.h[0]); ++it) {
      double middle = 0.5 * (left + right);
      (Classify(&middle) == from ? left : right) = middle;
    }
    return 0.5 * (left + right);
  }

  std::vector<double> Masses1D(std::vector<double> mass) const {
    const int n = g_.n;
    std::vector<double> cut(n, kNaN);  // cut[a]: the switch between centres a and a + 1
    std::vector<int> at;
    for (int a = 0; a + 1 < n; ++a) {
      if (label_[a] != label_[a + 1]) at.push_back(a);
    }
    ParallelFor(static_cast<int>(at.size()), s_.options.num_threads, [&](int t) {
      double x[2];
      g_.Centre(at[t], x);
      cut[at[t]] = Switch(x[0], x[0] + g_.h[0]);
    });
    for (int a = 0; a < n; ++a) {
      // Mass per unit xi in [-1/2, 1/2]: pi_a + d1 xi + d2 (xi^2 - 1/12), the parabola with the
      // cell averages of a - 1, a, a + 1 (one-sided at the ends of the box).
      const double left = a > 0 ? pi_[a - 1] : pi_[a], right = a + 1 < n ? pi_[a + 1] : pi_[a];
      const double d1 = 0.5 * (right - left), d2 = a > 0 && a + 1 < n ? 0.5 * (right - 2 * pi_[a] + left) : 0.0;
      const auto integral = [&](double u, double v) {  // of the parabola over [u, v], in xi
        return pi_[a] * (v - u) + d1 * (v * v - u * u) / 2 + d2 * ((v * v * v - u * u * u) / 3 - (v - u) / 12);
      };
      const double centre = g_.lower[0] + (a + 0.5) * g_.h[0];
      double lo = -0.5, hi = 0.5;
      if (a > 0 && !std::isnan(cut[a - 1]) && (cut[a - 1] - centre) / g_.h[0] > lo) {
        const double c = (cut[a - 1] - centre) / g_.h[0];
        mass[label_[a - 1] + 1] += integral(lo, c);
        lo = c;
      }
      if (!std::isnan(cut[a]) && (cut[a] - centre) / g_.h[0] < hi) {
        const double c = (cut[a] - centre) / g_.h[0];
        mass[label_[a + 1] + 1] += integral(c, hi);
        hi = c;
      }
      mass[label_[a] + 1] += integral(lo, hi);
    }
    return mass;
  }

  // Whether a neighbour (8-neighbourhood) of cell (i, j) has another label, or the cell none.
  bool OnBoundary(int i, int j) const {
    const int own = label_[i + static_cast<long>(g_.n) * j];
    if (own < 0) return true;
    for (int dj = -1; dj <= 1; ++dj) {
      for (int di = -1; di <= 1; ++di) {
        const int u = i + di, v = j + dj;
        if (u >= 0 && v >= 0 && u < g_.n && v < g_.n && label_[u + static_cast<long>(g_.n) * v] != own) return true;
      }
    }
    return false;
  }

  // The density inside cell (i, j), reconstructed from the 3 x 3 cells around it: mass per unit
  // area in cell coordinates (xi, eta) in [-1/2, 1/2]^2, the quadratic
  //   pi_a + d0 xi + d1 eta + e0 (xi^2 - 1/12) + e1 (eta^2 - 1/12) + c xi eta
  // with the cell averages of the cell and its four neighbours and the corners' cross difference.
  struct CellDensity {
    double p, d0, d1, e0, e1, c;
    double At(double x, double y) const {
      return p + d0 * x + d1 * y + e0 * (x * x - 1.0 / 12) + e1 * (y * y - 1.0 / 12) + c * x * y;
    }
    double Integral(double x0, double x1, double y0, double y1) const {
      const double wx = x1 - x0, wy = y1 - y0, mx = 0.5 * (x0 + x1), my = 0.5 * (y0 + y1);
      const double sx = (x1 * x1 * x1 - x0 * x0 * x0) / 3, sy = (y1 * y1 * y1 - y0 * y0 * y0) / 3;
      return wx * wy * (p + d0 * mx + d1 * my + c * mx * my) + e0 * (sx - wx / 12) * wy + e1 * (sy - wy / 12) * wx;
    }
  };
  CellDensity Density(int i, int j) const {
    const auto at = [&](int u, int v) {
      return pi_[std::clamp(u, 0, g_.n - 1) + static_cast<long>(g_.n) * std::clamp(v, 0, g_.n - 1)];
    };
    const double p = at(i, j);
    return {p, 0.5 * (at(i + 1, j) - at(i - 1, j)), 0.5 * (at(i, j + 1) - at(i, j - 1)),
            0.5 * (at(i + 1, j) - 2 * p + at(i - 1, j)), 0.5 * (at(i, j + 1) - 2 * p + at(i, j - 1)),
            0.25 * (at(i + 1, j + 1) - at(i + 1, j - 1) - at(i - 1, j + 1) + at(i - 1, j - 1))};
  }

  int ClassifyAt(int i, int j, const Eigen::Vector2d& xi) const {
    const double x[2] = {g_.lower[0] + (i + 0.5 + xi[0]) * g_.h[0], g_.lower[1] + (j + 0.5 + xi[1]) * g_.h[1]};
    return Classify(x);
  }

  // Where the label changes on the segment from p (label `from`) to q, by bisection.
  Eigen::Vector2d Crossing(int i, int j, Eigen::Vector2d p, Eigen::Vector2d q, int from) const {
    for (int it = 0; it < kEdgeBisections; ++it) {
      const Eigen::Vector2d m = 0.5 * (p + q);
      (ClassifyAt(i, j, m) == from ? p : q) = m;
    }
    return 0.5 * (p + q);
  }

  // A leaf [x0, x0 + w] x [y0, y0 + w] whose corners (counter-clockwise from (x0, y0)) carry two
  // labels, split by the boundary taken straight between the crossings on its edges (marching
  // squares): the first corner's part is a polygon, of mass area x density at its centroid (exact
  // for a linear density); the rest of the leaf's mass goes to the other label.
  void SplitLeaf(int i, int j, const CellDensity& rho, double x0, double y0, double w, const int l[4],
                 std::vector<double>* mass) const {
    const Eigen::Vector2d corner[4] = {{x0, y0}, {x0 + w, y0}, {x0 + w, y0 + w}, {x0, y0 + w}};
    std::vector<Eigen::Vector2d> polygon;
    int other = l[0];
    for (int k = 0; k < 4; ++k) {
      const int next = (k + 1) % 4;
      if (l[k] == l[0]) polygon.push_back(corner[k]);
      if (l[k] != l[0]) other = l[k];
      if (l[k] != l[next]) polygon.push_back(Crossing(i, j, corner[k], corner[next], l[k]));
    }
    double area = 0.0;
    Eigen::Vector2d centroid = Eigen::Vector2d::Zero();
    for (std::size_t k = 0; k < polygon.size(); ++k) {
      const Eigen::Vector2d &p = polygon[k], &q = polygon[(k + 1) % polygon.size()];
      const double cross = p[0] * q[1] - q[0] * p[1];
      area += 0.5 * cross;
      centroid += (p + q) * cross / 6.0;
    }
    const double part = area != 0.0 ? std::abs(area) * rho.At(centroid[0] / area, centroid[1] / area) : 0.0;
    (*mass)[l[0] + 1] += part;
    (*mass)[other + 1] += rho.Integral(x0, x0 + w, y0, y0 + w) - part;
  }

  // Adds to `mass` the split of the boundary cell (i, j): a quadtree down to leaves of h /
  // 2^kQuadtreeDepth (classifying corners); leaves with two labels are split by SplitLeaf, with more
  // (next to a saddle) by corner votes.
  void SplitCell(int i, int j, std::vector<double>* mass) const {
    const CellDensity rho = Density(i, j);
    const int side = 1 << kQuadtreeDepth, own = label_[i + static_cast<long>(g_.n) * j];
    std::vector<int> corner((side + 1) * (side + 1), -2);  // labels on the sub-lattice, -2 = not yet
    const auto label = [&](int u, int v) {
      int& l = corner[u + (side + 1) * v];
      if (l == -2) {
        l = ClassifyAt(i, j, Eigen::Vector2d(static_cast<double>(u) / side - 0.5, static_cast<double>(v) / side - 0.5));
      }
      return l;
    };
    std::vector<std::array<int, 3>> stack{{0, 0, side}};
    while (!stack.empty()) {
      const auto [u, v, size] = stack.back();
      stack.pop_back();
      const int l[4] = {label(u, v), label(u + size, v), label(u + size, v + size), label(u, v + size)};
      const double x0 = static_cast<double>(u) / side - 0.5, y0 = static_cast<double>(v) / side - 0.5;
      const double w = static_cast<double>(size) / side;
      const int distinct = 1 + (l[1] != l[0]) + (l[2] != l[0] && l[2] != l[1]) +
                           (l[3] != l[0] && l[3] != l[1] && l[3] != l[2]);
      if (distinct == 1 && (size < side || l[0] == own)) {
        (*mass)[l[0] + 1] += rho.Integral(x0, x0 + w, y0, y0 + w);
      } else if (size > 1) {
        const int half = size / 2;
        for (int k = 0; k < 4; ++k) stack.push_back({u + (k % 2) * half, v + (k / 2) * half, half});
      } else if (distinct == 2) {
        SplitLeaf(i, j, rho, x0, y0, w, l, mass);
      } else {
        for (int k = 0; k < 4; ++k) (*mass)[l[k] + 1] += 0.25 * rho.Integral(x0, x0 + w, y0, y0 + w);
      }
    }
  }

  std::vector<double> Masses2D(std::vector<double> mass) const {
    std::vector<long> boundary;
    for (long a = 0; a < g_.states(); ++a) {
      if (OnBoundary(g_.Coordinate(a, 0), g_.Coordinate(a, 1))) {
        boundary.push_back(a);
      } else {
        mass[label_[a] + 1] += pi_[a];
      }
    }
    std::vector<std::vector<double>> split(boundary.size(), std::vector<double>(mass.size(), 0.0));
    ParallelFor(static_cast<int>(boundary.size()), s_.options.num_threads, [&](int t) {
      SplitCell(g_.Coordinate(boundary[t], 0), g_.Coordinate(boundary[t], 1), &split[t]);
    });
    for (const std::vector<double>& part : split) {
      for (std::size_t k = 0; k < mass.size(); ++k) mass[k] += part[k];
    }
    return mass;
  }

  const Setup& s_;
  const Grid& g_;
  const Eigen::VectorXd& pi_;
  const BasinClassifier classifier_;
  std::vector<int> label_;
};

// Basin masses, unclassified mass, moments (with Sheppard's correction), leak and limited
// compensation of the stationary vector.
void Summarize(const Setup& s, const Grid& g, const Kernel& P, const Eigen::VectorXd& pi,
               const std::vector<double>& mass, GridLevel* level) {
  const int p = static_cast<int>(s.components.size());
  level->mean = Eigen::VectorXd::Zero(g.d);
  Eigen::VectorXd second = Eigen::VectorXd::Zero(g.d);
  double x[2];
  for (long a = 0; a < g.states(); ++a) {
    g.Centre(a, x);
    for (int k = 0; k < g.d; ++k) {
      level->mean[k] += pi[a] * x[k];
      second[k] += pi[a] * x[k] * x[k];
    }
    level->leak += pi[a] * P.leak[a];
    if (P.limited[a]) level->partial_compensation += pi[a];
  }
  // Sheppard: grouped second moments exceed the continuous law's by h^2/12 (exact cell integrals)
  // or by h^2/6 (cloud-in-cell: E t(1 - t) h^2 for the fractional position t).
  const double sheppard = s.dirac ? 1.0 / 6.0 : 1.0 / 12.0;
  level->variance = (second.array() - level->mean.array().square() - sheppard * g.h.array().square()).matrix();
  double total = 0.0;
  for (double m : mass) total += m;
  level->unclassified = std::clamp(mass[0] / total, 0.0, 1.0);
  const double classified = total - mass[0];
  level->basin_mass.assign(p, kNaN);
  for (int i = 0; i < p; ++i) {
    if (s.components[i].type == CriticalType::kMinimum) {
      level->basin_mass[i] = classified > 0 ? mass[i + 1] / classified : kNaN;
    }
  }
}

long CellOf(const Grid& g, const Eigen::VectorXd& x) {
  long a = 0;
  for (int k = g.d - 1; k >= 0; --k) {
    const double i = std::clamp(std::floor((x[k] - g.lower[k]) / g.h[k]), 0.0, g.n - 1.0);
    a = a * g.n + static_cast<long>(i);
  }
  return a;
}

// One grid: kernel, stationary vector, summary.
Status SolveLevel(const Setup& s, int n, GridLevel* level) {
  const double start = Cluster::Get().Seconds();
  const Grid g = MakeGrid(s.problem.domain, n);
  const RowContext context{s, g};
  const long pin = CellOf(g, s.pin_point);
  Kernel P;
  if (Status st = AssembleKernel(context, pin, &P); !st.ok()) return st;
  Eigen::VectorXd pi;
  const double solve = Cluster::Get().Seconds();
  if (Status st = Stationary(P, g, pin, &pi, &level->residual); !st.ok()) return st;
  level->solve_seconds = SecondsSince(solve);
  const std::vector<double> mass = BasinMasses(s, g, pi).Compute();
  level->cells_per_dimension = n;
  level->states = g.states();
  level->nonzeros = static_cast<long>(P.value.size());
  Summarize(s, g, P, pi, mass, level);
  level->seconds = SecondsSince(start);
  return Status::Ok();
}

// Noise scale at a 32^d lattice of the box and at the minima: the smallest one-step standard
// deviation over all directions (for the cell size), and per point and coordinate the one-step
// standard deviation and the reach of a step, |eta grad f| + kTailStd std (for the cost model).
void ProbeNoise(Setup* s) {
  const Domain& box = s->problem.domain;
  std::vector<Eigen::VectorXd> points;
  const int count = s->d == 1 ? kProbes : kProbes * kProbes;
  for (int p = 0; p < count; ++p) {
    Eigen::VectorXd x(s->d);
    for (int k = 0; k < s->d; ++k) {
      const int i = k == 0 ? p % kProbes : p / kProbes;
      x[k] = box.lower[k] + (i + 0.5) * (box.upper[k] - box.lower[k]) / kProbes;
    }
    points.push_back(x);
  }
  for (const CriticalComponent& c : s->components) {
    if (c.type == CriticalType::kMinimum) points.push_back(c.point);
  }
  s->min_std = std::numeric_limits<double>::infinity();
  for (const Eigen::VectorXd& x : points) {
    const Eigen::MatrixXd S = s->eta * s->eta * s->problem.noise.CovarianceAt(x.data());
    const Eigen::VectorXd drift = s->eta * s->problem.objective->Gradient(x);
    if (!S.allFinite() || !drift.allFinite()) continue;
    const Eigen::VectorXd std_k = S.diagonal().cwiseMax(0.0).cwiseSqrt();
    s->probe_std.push_back(std_k);
    s->probe_reach.push_back(drift.cwiseAbs() + kTailStd * std_k);
    const double lambda = s->d == 1 ? S(0, 0)
                                    : 0.5 * (S(0, 0) + S(1, 1)) -
                                          std::hypot(0.5 * (S(0, 0) - S(1, 1)), S(0, 1));
    s->min_std = std::min(s->min_std, std::sqrt(std::max(lambda, 0.0)));
  }
}

// Kernel entries of an N-grid, estimated: per row the cells within the tails of the Gaussian
// (averaged over the probes), or the Dirac targets; 2 cells of slack per dimension.
double EstimateNonzeros(const Setup& s, double n) {
  const double states = std::pow(n, s.d);
  const Eigen::VectorXd width = s.problem.domain.upper - s.problem.domain.lower;
  if (s.dirac) {
    const double targets = std::pow(s.source.node.size() * 2.0, s.d) * static_cast<double>(s.batches.size());
    return states * std::min(states, targets);
  }
  double per_row = 0.0;
  for (const Eigen::VectorXd& std_k : s.probe_std) {
    double cells = 1.0;
    for (int k = 0; k < s.d; ++k) cells *= std::min(n, 2 * kTailStd * std_k[k] * n / width[k] + 2);
    per_row += cells / static_cast<double>(s.probe_std.size());
  }
  return states * per_row;
}

// The LU's cost on an N-grid, in floating-point operations, by the banded model: states x
// bandwidth^2, the bandwidth being the mean reach of a step along the last coordinate in cells
// (times N in 2-D, where the next line of cells is N indices away). Fill and time of the measured
// factorizations follow it within a factor of two (AMD ordering).
double EstimateSolveFlops(const Setup& s, double n) {
  const int last = s.d - 1;
  const double width = s.problem.domain.upper[last] - s.problem.domain.lower[last];
  double reach = 0.0;
  for (const Eigen::VectorXd& r : s.probe_reach) {
    reach += std::min(n, r[last] * n / width + 1) / static_cast<double>(s.probe_reach.size());
  }
  const double band = s.d == 1 ? reach : reach * n;
  return std::pow(n, s.d) * band * band;
}

bool Fits(const Setup& s, double n) {
  if (!(n >= 1) || n > 1e9) return false;
  return std::pow(n, s.d) <= static_cast<double>(s.options.max_states) &&
         EstimateNonzeros(s, n) <= static_cast<double>(s.options.max_nonzeros);
}

// The first grid (see the header's rule), or 0 when not even kMinCells fit. It leaves room for a
// refinement (1.5 N fits), and its LU is predicted to take at most a tenth of the time budget.
int InitialCells(const Setup& s) {
  if (s.options.initial_cells > 0) return Fits(s, s.options.initial_cells) ? s.options.initial_cells : 0;
  const double per_cell = s.dirac ? kStdPerCellDirac
                                  : (s.options.compensate ? kStdPerCellCompensated : kStdPerCellUncompensated);
  const double width = (s.problem.domain.upper - s.problem.domain.lower).maxCoeff();
  const double wanted = s.min_std > 0 ? std::ceil(width * per_cell / s.min_std) : 1e9;
  const double most = std::pow(static_cast<double>(s.options.max_states), 1.0 / s.d);
  double n = std::max<double>(kMinCells, std::min(wanted, most));
  const auto affordable = [&](double m) {
    return Fits(s, std::floor(1.5 * m)) &&
           EstimateSolveFlops(s, m) <= kInitialBudgetShare * s.options.max_seconds * kFlopsPerSecond;
  };
  while (n > kMinCells && !affordable(n)) n = std::max<double>(kMinCells, std::floor(0.95 * n));
  return Fits(s, n) ? static_cast<int>(n) : 0;
}

// The next grid, 2 N or else 1.5 N, when it fits the limits and the time left (`left` seconds):
// its time predicted from the last grid's, the LU scaled by the banded model, the rest by the
// entries. 0 when none does.
int NextCells(const Setup& s, const GridLevel& last, double left) {
  const double n = last.cells_per_dimension;
  for (const double factor : {2.0, 1.5}) {
    const double next = std::floor(factor * n);
    const double seconds = (last.seconds - last.solve_seconds) * EstimateNonzeros(s, next) / EstimateNonzeros(s, n) +
                           last.solve_seconds * EstimateSolveFlops(s, next) / EstimateSolveFlops(s, n);
    if (Fits(s, next) && seconds <= left) return static_cast<int>(next);
  }
  return 0;
}

// The largest change of the basin masses of the minima between two grids.
double MassChange(const GridLevel& a, const GridLevel& b) {
  double change = 0.0;
  for (std::size_t i = 0; i < a.basin_mass.size(); ++i) {
    if (!std::isnan(a.basin_mass[i])) change = std::max(change, std::abs(a.basin_mass[i] - b.basin_mass[i]));
  }
  return std::isnan(change) ? std::numeric_limits<double>::infinity() : change;
}

// The largest change of the mean (in standard deviations) and of the variance (relatively).
double MomentChange(const GridLevel& a, const GridLevel& b) {
  double change = 0.0;
  for (int k = 0; k < a.mean.size(); ++k) {
    const double sd = std::sqrt(std::max(b.variance[k], 0.0));
    change = std::max(change, std::abs(a.mean[k] - b.mean[k]) / sd);
    change = std::max(change, std::abs(a.variance[k] - b.variance[k]) / std::abs(b.variance[k]));
  }
  return std::isnan(change) ? std::numeric_limits<double>::infinity() : change;
}

// Derivatives at the nodes of the Lagrange basis polynomials through them (coefficients from the
// inverse Vandermonde matrix; at most 5 nodes).
void LagrangeDerivatives(const std::vector<double>& node, Eigen::MatrixXd* first, Eigen::MatrixXd* second) {
  const int q = static_cast<int>(node.size());
  Eigen::MatrixXd V(q, q);
  for (int i = 0; i < q; ++i) {
    for (int p = 0; p < q; ++p) V(i, p) = std::pow(node[i], p);
  }
  const Eigen::MatrixXd A = V.inverse();  // column j: the coefficients of l_j
  first->setZero(q, q);
  second->setZero(q, q);
  for (int i = 0; i < q; ++i) {
    for (int j = 0; j < q; ++j) {
      for (int p = 1; p < q; ++p) (*first)(i, j) += p * A(p, j) * std::pow(node[i], p - 1);
      for (int p = 2; p < q; ++p) (*second)(i, j) += p * (p - 1) * A(p, j) * std::pow(node[i], p - 2);
    }
  }
}

// Whether the problem is one the reference covers; the setup's model parts when it is.
Status Prepare(Setup* s) {
  const Problem& p = s->problem;
  if (s->d < 1 || s->d > 2) {
    return Status(StatusCode::kInvalidInput,
                  "the grid reference covers d <= 2; this problem has d = " + std::to_string(s->d));
  }
  s->dirac = p.noise.is_exact_finite_sum();
  if (s->dirac) {
    const int n = p.noise.samples()->size(), b = p.noise.batch_size();
    const double count = MultisetCount(n, b);
    if (count > static_cast<double>(s->options.max_minibatches)) {
      return Status(StatusCode::kInvalidInput,
                    "not available: a step is a mixture of C(n + b - 1, b) = " + ShortestSpelling(count) +
                        " minibatches (n = " + std::to_string(n) + ", b = " + std::to_string(b) +
                        "), more than Options::max_minibatches = " + std::to_string(s->options.max_minibatches));
    }
    s->batches = Minibatches(n, b);
  } else if (!p.noise.covariance()) {
    return Status(StatusCode::kInvalidInput, "the noise model has no covariance");
  }
  s->source = GaussLegendre(s->options.quadrature_points);
  LagrangeDerivatives(s->source.node, &s->first_derivative, &s->second_derivative);
  s->pin_point = 0.5 * (p.domain.lower + p.domain.upper);
  double lowest = std::numeric_limits<double>::infinity();
  for (const CriticalComponent& c : s->components) {
    if (c.type == CriticalType::kMinimum && c.f < lowest && p.domain.Contains(c.point)) {
      lowest = c.f;
      s->pin_point = c.point;
    }
  }
  ProbeNoise(s);
  return Status::Ok();
}

std::string Masses(const std::vector<double>& mass) {
  std::ostringstream out;
  for (std::size_t i = 0; i < mass.size(); ++i) {
    if (!std::isnan(mass[i])) out << " [" << i << "] " << ShortestSpelling(std::round(mass[i] * 1e6) / 1e6);
  }
  return out.str();
}

}  // namespace

Status GridReferenceOptions::Validate() const {
  const auto bad = [](const char* field, double value, const char* constraint) {
    return Status(StatusCode::kInvalidOptions, InvalidOption(field, value, constraint));
  };
  if (initial_cells != 0 && initial_cells < 4) {
    return bad("initial_cells", initial_cells, "initial_cells == 0 or >= 4");
  }
  if (!(tolerance > 0)) return bad("tolerance", tolerance, "tolerance > 0");
  if (max_refinements < 0) return bad("max_refinements", max_refinements, "max_refinements >= 0");
  if (max_states < 16) return bad("max_states", max_states, "max_states >= 16");
  if (max_nonzeros < 16) return bad("max_nonzeros", max_nonzeros, "max_nonzeros >= 16");
  if (!(max_seconds > 0)) return bad("max_seconds", max_seconds, "max_seconds > 0");
  if (max_minibatches < 1) return bad("max_minibatches", max_minibatches, "max_minibatches >= 1");
  if (quadrature_points < 1 || quadrature_points > 5) {
    return bad("quadrature_points", quadrature_points, "1 <= quadrature_points <= 5");
  }
  if (num_threads < 0) return bad("num_threads", num_threads, "num_threads >= 0");
  return Status::Ok();
}

GridReference ComputeGridReference(const Problem& problem,
                                   const std::vector<CriticalComponent>& components,
                                   double step_size, const GridReferenceOptions& options) {
  const double start = Cluster::Get().Seconds();
  GridReference r;
  r.step_size = step_size;
  r.status = options.Validate();
  if (r.status.ok() && !(std::isfinite(step_size) && step_size > 0)) {
    r.status = Status(StatusCode::kInvalidOptions,
                      "Invalid step size eta = " + ShortestSpelling(step_size) + " (must be positive and finite)");
  }
  Setup s(problem, components, step_size, options);
  if (r.status.ok()) r.status = Prepare(&s);
  int n = r.status.ok() ? InitialCells(s) : 0;
  if (r.status.ok() && n == 0) {
    r.status = Status(StatusCode::kInvalidOptions, "Invalid configuration. Options::max_states = " +
                                                       std::to_string(options.max_states) + ", max_nonzeros = " +
                                                       std::to_string(options.max_nonzeros) + ": not even a " +
                                                       std::to_string(kMinCells) + "-cell grid fits");
  }
  bool has_minima = false;
  for (const CriticalComponent& c : components) has_minima = has_minima || c.type == CriticalType::kMinimum;
  while (r.status.ok() && n > 0) {
    GridLevel level;
    r.status = SolveLevel(s, n, &level);
    if (!r.status.ok()) break;
    r.levels.push_back(std::move(level));
    const int count = static_cast<int>(r.levels.size());
    if (count >= 2) {
      const GridLevel &fine = r.levels[count - 1], &coarse = r.levels[count - 2];
      r.moment_change = MomentChange(fine, coarse);
      // Without a minimum there are no basins: the moments judge convergence.
      r.change = has_minima ? MassChange(fine, coarse) : r.moment_change;
      r.converged = r.change <= options.tolerance;
    }
    if (r.converged || count > options.max_refinements) break;
    n = NextCells(s, r.levels.back(), options.max_seconds - SecondsSince(start));
  }
  if (!r.levels.empty() && r.status.ok()) {
    const GridLevel& last = r.levels.back();
    r.cells_per_dimension = last.cells_per_dimension;
    r.refinements = static_cast<int>(r.levels.size()) - 1;
    r.basin_mass = last.basin_mass;
    r.unclassified = last.unclassified;
    r.leak = last.leak;
    r.partial_compensation = last.partial_compensation;
    r.mean = last.mean;
    r.variance = last.variance;
  }
  r.seconds = SecondsSince(start);
  return r;
}

std::string GridReference::BriefReport() const {
  std::ostringstream out;
  out << "grid reference at eta = " << ShortestSpelling(step_size) << ": ";
  if (!status.ok()) return out.str() + "not available (" + status.message() + ")";
  out << (converged ? "converged" : "NOT converged") << " (change " << ShortestSpelling(change) << ") on "
      << cells_per_dimension << " cells per dimension after " << refinements << " refinements; basin masses"
      << Masses(basin_mass) << "; leak " << ShortestSpelling(leak);
  // Where cells are much wider than a step the scheme is only O(h^2): say so.
  if (partial_compensation > 1e-6) {
    out << "; cells wider than a step hold " << ShortestSpelling(std::round(partial_compensation * 1e4) / 1e4)
        << " of the mass";
  }
  out << "; " << ShortestSpelling(seconds) << " s";
  return out.str();
}

std::string GridReference::FullReport() const {
  std::ostringstream out;
  out << BriefReport() << "\n";
  for (const GridLevel& l : levels) {
    out << "  N = " << l.cells_per_dimension << " (" << l.states << " states, " << l.nonzeros
        << " entries): masses" << Masses(l.basin_mass) << "; unclassified " << ShortestSpelling(l.unclassified)
        << "; mean " << l.mean.transpose() << "; variance " << l.variance.transpose() << "; leak "
        << ShortestSpelling(l.leak) << "; partial compensation " << ShortestSpelling(l.partial_compensation)
        << "; residual " << ShortestSpelling(l.residual) << "; " << ShortestSpelling(l.seconds) << " s (LU "
        << ShortestSpelling(l.solve_seconds) << " s)\n";
  }
  return out.str();
}

}  // namespace ldsgd
