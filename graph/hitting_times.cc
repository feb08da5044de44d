#include "graph/hitting_times.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>

#include "graph/energies.h"
#include "graph/transition_graph.h"

namespace ldsgd {
namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

// The nodes from which `seed` is reachable through finite costs (seed included).
std::vector<bool> Reaching(const Eigen::MatrixXd& v, std::vector<bool> seed) {
  const int p = static_cast<int>(v.rows());
  for (bool grew = true; grew;) {
    grew = false;
    for (int a = 0; a < p; ++a) {
      for (int b = 0; b < p && !seed[a]; ++b) {
        if (a != b && seed[b] && std::isfinite(v(a, b))) seed[a] = grew = true;
      }
    }
  }
  return seed;
}

// The nodes from which a node that cannot reach the targets is reachable (trapped).
std::vector<bool> CanBeTrapped(const Eigen::MatrixXd& v, const std::vector<bool>& target) {
  std::vector<bool> stuck = Reaching(v, target);
  stuck.flip();
  return Reaching(v, stuck);
}

// E(i) by tropical elimination of every node but i and the merged target (see the header). `v`
// holds the free nodes in 0..n-1 and the target in column n.
double EliminateAllBut(Eigen::MatrixXd v, int i) {
  const int n = static_cast<int>(v.rows());
  std::vector<double> t(n, 0.0);
  std::vector<bool> alive(n, true);
  for (int x = 0; x < n; ++x) {
    if (x == i) continue;
    alive[x] = false;
    double out = v(x, n);
    for (int c = 0; c < n; ++c) {
      if (alive[c]) out = std::min(out, v(x, c));
    }
    for (int a = 0; a < n; ++a) {
      if (!alive[a] || !std::isfinite(v(a, x))) continue;
      const double via = v(a, x) - out;  // the arrow a -> x, then x's next step
      for (int b = 0; b < n; ++b) {
        if (alive[b] && b != a) v(a, b) = std::min(v(a, b), via + v(x, b));
      }
      v(a, n) = std::min(v(a, n), via + v(x, n));
      t[a] = std::max(t[a], t[x] - via);
    }
  }
  return t[i] + v(i, n);
}

}  // namespace

HittingExponents ComputeHittingExponents(const Eigen::MatrixXd& costs, const std::vector<int>& targets) {
  HittingExponents out;
  if (const std::string why = ValidateCostMatrix(costs); !why.empty()) {
    out.status = Status(StatusCode::kInvalidInput, why);
    return out;
  }
  const int p = static_cast<int>(costs.rows());
  std::vector<bool> target(p, false);
  for (int w : targets) {
    if (w < 0 || w >= p || target[w]) {
      out.status = Status(StatusCode::kInvalidInput, "target " + std::to_string(w) + " is out of range or repeated");
      return out;
    }
    target[w] = true;
  }
  if (targets.empty()) {
    out.status = Status(StatusCode::kInvalidInput, "no target node");
    return out;
  }
  const std::vector<bool> trapped = CanBeTrapped(costs, target);
  // The free nodes that cannot be trapped, renumbered 0..n-1; the merged target is n. No arrow
  // leads from them to a trapped node (it would make them trappable).
  std::vector<int> free;
  for (int a = 0; a < p; ++a) {
    if (!target[a] && !trapped[a]) free.push_back(a);
  }
  const int n = static_cast<int>(free.size());
  Eigen::MatrixXd v = Eigen::MatrixXd::Constant(n, n + 1, kInf);
  for (int a = 0; a < n; ++a) {
    for (int b = 0; b < n; ++b) v(a, b) = a == b ? kInf : costs(free[a], free[b]);
    for (int w : targets) v(a, n) = std::min(v(a, n), costs(free[a], w));
  }
  out.exponent = Eigen::VectorXd::Zero(p);
  for (int a = 0; a < p; ++a) {
    if (trapped[a] && !target[a]) out.exponent[a] = kInf;
  }
  for (int a = 0; a < n; ++a) out.exponent[free[a]] = EliminateAllBut(v, a);
  // E_0: the minimum spanning in-arborescence of the chain with the targets merged into one root.
  Eigen::MatrixXd merged = Eigen::MatrixXd::Constant(n + 1, n + 1, kInf);
  merged.topLeftCorner(n, n) = v.leftCols(n);
  merged.col(n).head(n) = v.col(n);
  merged.diagonal().setZero();
  const bool any_trapped = std::any_of(trapped.begin(), trapped.end(), [](bool b) { return b; });
  const Energies e = ComputeEnergies(merged);
  out.tree_energy = any_trapped || !e.status.ok() ? kInf : e.absolute[n];
  out.forest_energy = Eigen::VectorXd::Constant(p, out.tree_energy);
  for (int a = 0; a < p; ++a) {
    // A trapped node has E(i) = E_0 = +inf; its forest term is +inf too, not inf - inf.
    if (!target[a]) out.forest_energy[a] = std::isinf(out.exponent[a]) ? kInf : out.tree_energy - out.exponent[a];
  }
  out.status = Status::Ok();
  return out;
}

}  // namespace ldsgd
