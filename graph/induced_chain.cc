#include "graph/induced_chain.h"

#include <cmath>
#include <limits>
#include <vector>

#include "graph/transition_graph.h"

namespace ldsgd {
namespace {

constexpr double kNegInf = -std::numeric_limits<double>::infinity();

// log(exp(a) + exp(b)), exact for -inf operands (a missing transition).
double LogAddExp(double a, double b) {
  if (a < b) std::swap(a, b);
  if (b == kNegInf) return a;
  return a + std::log1p(std::exp(b - a));
}

}  // namespace

Eigen::VectorXd StationaryLogDistribution(const Eigen::MatrixXd& costs, double eta) {
  const int p = static_cast<int>(costs.rows());
  const Eigen::VectorXd undefined = Eigen::VectorXd::Constant(p, std::numeric_limits<double>::quiet_NaN());
  if (!ValidateCostMatrix(costs).empty() || !(std::isfinite(eta) && eta > 0.0)) return undefined;
  if (p == 0) return Eigen::VectorXd(0);

  // The closed class carries all of pi. Restricted to it the chain is irreducible (no mass leaves a
  // sink component), and GTH never divides by zero on an irreducible chain.
  const std::vector<int> closed = UniqueSinkComponent(MakeTransitionGraph(costs));
  if (closed.empty()) return undefined;
  const int n = static_cast<int>(closed.size());

  // L(a, b) = log P_{closed[a], closed[b]} off the diagonal. The diagonal is never read: GTH works
  // from the off-diagonal rates alone, which is what makes it subtraction-free (Grassmann, Taksar,
  // Heyman, Operations Research 33, 1985).
  Eigen::MatrixXd log_p(n, n);
  const double log_inv_p = -std::log(static_cast<double>(p));
  for (int a = 0; a < n; ++a) {
    for (int b = 0; b < n; ++b) {
      const double cost = costs(closed[a], closed[b]);
      log_p(a, b) = (a == b || std::isinf(cost)) ? kNegInf : -cost / eta + log_inv_p;
    }
  }

  // State reduction: eliminate state k = n-1, ..., 1, folding the paths through k into the
  // remaining rates: P_ij += P_ik P_kj / S_k with S_k = sum_{j<k} P_kj.
  std::vector<double> log_s(n, 0.0);
  for (int k = n - 1; k >= 1; --k) {
    double s = kNegInf;
    for (int j = 0; j < k; ++j) s = LogAddExp(s, log_p(k, j));
    log_s[k] = s;
    for (int i = 0; i < k; ++i) {
      if (log_p(i, k) == kNegInf) continue;
      const double through = log_p(i, k) - s;
      for (int j = 0; j < k; ++j) {
        if (i != j) log_p(i, j) = LogAddExp(log_p(i, j), through + log_p(k, j));
      }
    }
  }
  // Back substitution: pi_k = sum_{i<k} pi_i P_ik / S_k, from pi_0 = 1; then normalise.
  Eigen::VectorXd log_pi_closed(n);
  log_pi_closed[0] = 0.0;
  for (int k = 1; k < n; ++k) {
    double total = kNegInf;
    for (int i = 0; i < k; ++i) total = LogAddExp(total, log_pi_closed[i] + log_p(i, k));
    log_pi_closed[k] = total - log_s[k];
  }
  double log_norm = kNegInf;
  for (int k = 0; k < n; ++k) log_norm = LogAddExp(log_norm, log_pi_closed[k]);

  Eigen::VectorXd log_pi = Eigen::VectorXd::Constant(p, kNegInf);
  for (int k = 0; k < n; ++k) log_pi[closed[k]] = log_pi_closed[k] - log_norm;
  return log_pi;
}

}  // namespace ldsgd
