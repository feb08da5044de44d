// The finite-eta cross-check of THEORY.md section 5: the stationary distribution of the induced
// chain against a direct linear solve, and -eta log pi -> E - min E as eta -> 0 at the rate the
// Markov chain tree theorem predicts.
#include "graph/induced_chain.h"

#include <cmath>
#include <limits>
#include <random>

#include <Eigen/Dense>
#include <gtest/gtest.h>

#include "graph/energies.h"

namespace ldsgd {
namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();
// Direct solve of the 7x7 stationary equations, entries of P >= exp(-5)/7 ~ 1e-3: the condition
// number stays below ~1e3, so the LU solution is good to ~1e-13; GTH is good to a few ulps.
constexpr double kLinearSolve = 1e-12;
// pi sums to 1 up to the rounding of one log-sum-exp over <= 7 terms.
constexpr double kNormalisation = 1e-14;
// Rounding of -eta log pi itself: log-space values reach B/eta <= 5e6 (eta = 1e-6), each carrying
// ~p ulps, i.e. ~1e-8 in log pi and 1e-14 after the factor eta. Far below the theory's bound.
constexpr double kLogRounding = 1e-9;

Eigen::MatrixXd RandomCosts(int p, double absent_probability, std::mt19937& rng) {
  std::uniform_real_distribution<double> uniform(0.0, 5.0);
  std::bernoulli_distribution absent(absent_probability);
  Eigen::MatrixXd costs(p, p);
  for (int i = 0; i < p; ++i) {
    for (int j = 0; j < p; ++j) costs(i, j) = i == j ? 0.0 : (absent(rng) ? kInf : uniform(rng));
  }
  return costs;
}

// pi from pi^T P = pi^T, sum pi = 1, by LU on (P^T - I) with its last equation replaced by the
// normalisation (nonsingular iff the stationary distribution is unique).
Eigen::VectorXd DirectStationary(const Eigen::MatrixXd& costs, double eta) {
  const int p = static_cast<int>(costs.rows());
  Eigen::MatrixXd transition = Eigen::MatrixXd::Zero(p, p);
  for (int i = 0; i < p; ++i) {
    for (int j = 0; j < p; ++j) {
      if (i != j) transition(i, j) = std::exp(-costs(i, j) / eta) / p;  // exp(-inf) = 0
    }
    transition(i, i) = 1.0 - (transition.row(i).sum() - transition(i, i));
  }
  Eigen::MatrixXd system = transition.transpose() - Eigen::MatrixXd::Identity(p, p);
  system.row(p - 1).setOnes();
  Eigen::VectorXd rhs = Eigen::VectorXd::Zero(p);
  rhs[p - 1] = 1.0;
  return system.partialPivLu().solve(rhs);
}

TEST(InducedChainTest, MatchesDirectSolveAtModerateEta) {
  std::mt19937 rng(11);
  for (int trial = 0; trial < 40; ++trial) {
    const int p = 2 + trial % 6;
    // Half the trials sparse: pi lives on the closed class (checked below), or is undefined.
    const Eigen::MatrixXd costs = RandomCosts(p, trial % 2 ? 0.5 : 0.0, rng);
    const Energies energies = ComputeEnergies(costs);
    const Eigen::VectorXd log_pi = StationaryLogDistribution(costs, 1.0);
    ASSERT_EQ(log_pi.size(), p);
    if (energies.ground_states.empty()) {  // several closed classes: no unique pi
      EXPECT_TRUE(log_pi.array().isNaN().all()) << "trial " << trial;
      continue;
    }
    const Eigen::VectorXd pi = log_pi.array().exp();
    EXPECT_NEAR(pi.sum(), 1.0, kNormalisation) << "trial " << trial;
    const Eigen::VectorXd direct = DirectStationary(costs, 1.0);
    for (int i = 0; i < p; ++i) {
      EXPECT_NEAR(pi[i], direct[i], kLinearSolve) << "trial " << trial << " node " << i;
      // Mass only where every node can go: exactly where the energy is finite.
      EXPECT_EQ(std::isinf(log_pi[i]), std::isinf(energies.absolute[i])) << "trial " << trial;
    }
  }
}

// Markov chain tree theorem: pi_i = W_i / sum_j W_j with W_i = p^-(p-1) sum_{T rooted at i}
// exp(-w(T)/eta). Hence -eta log pi_i - (E_i - E_min) lies in [-eta ln N_i, eta ln N], N_i <= p^(p-2)
// the number of trees rooted at i (Cayley) and N <= p^(p-1) their total: |error| <= eta (p-1) ln p.
double TreeTheoremBound(int p, double eta) { return eta * (p - 1) * std::log(static_cast<double>(p)); }

double MaxError(const Eigen::VectorXd& log_pi, const Energies& energies, double eta) {
  double error = 0.0;
  for (int i = 0; i < log_pi.size(); ++i) {
    if (std::isinf(energies.relative[i])) {
      EXPECT_EQ(log_pi[i], -kInf);
      continue;
    }
    error = std::max(error, std::abs(-eta * log_pi[i] - energies.relative[i]));
  }
  return error;
}

TEST(InducedChainTest, MinusEtaLogPiConvergesToRelativeEnergies) {
  std::mt19937 rng(12);
  int checked = 0;
  for (int trial = 0; trial < 30; ++trial) {
    const int p = 3 + trial % 5;
    const Eigen::MatrixXd costs = RandomCosts(p, trial % 3 == 2 ? 0.4 : 0.0, rng);
    const Energies energies = ComputeEnergies(costs);
    if (energies.ground_states.empty()) continue;  // no unique pi to converge
    ++checked;
    double previous = kInf;
    for (const double eta : {0.1, 0.01, 0.001}) {
      const double error = MaxError(StationaryLogDistribution(costs, eta), energies, eta);
      EXPECT_LE(error, TreeTheoremBound(p, eta) + kLogRounding) << "trial " << trial << " eta " << eta;
      // Shrinking until it reaches the rounding floor (already there when one tree dominates).
      if (previous > kLogRounding) {
        EXPECT_LT(error, previous) << "trial " << trial << " eta " << eta;
      }
      previous = error;
    }
  }
  EXPECT_GE(checked, 20);
}

TEST(InducedChainTest, NoUnderflowForTinyEta) {
  // exp(-B/eta) underflows to 0 for B/eta > ~745; in log space nothing does.
  std::mt19937 rng(13);
  const Eigen::MatrixXd costs = RandomCosts(6, 0.0, rng);
  const Energies energies = ComputeEnergies(costs);
  const double eta = 1e-6;
  const Eigen::VectorXd log_pi = StationaryLogDistribution(costs, eta);
  ASSERT_TRUE(log_pi.allFinite());
  EXPECT_LE(MaxError(log_pi, energies, eta), TreeTheoremBound(6, eta) + kLogRounding);
}

TEST(InducedChainTest, EdgeCases) {
  EXPECT_EQ(StationaryLogDistribution(Eigen::MatrixXd(0, 0), 1.0).size(), 0);
  EXPECT_EQ(StationaryLogDistribution(Eigen::MatrixXd::Zero(1, 1), 1.0), Eigen::VectorXd::Zero(1));

  Eigen::MatrixXd costs(2, 2);
  costs << 0, 1, kInf, 0;  // 1 never leaves: all mass there
  EXPECT_EQ(StationaryLogDistribution(costs, 0.5), Eigen::Vector2d(-kInf, 0.0));
  costs(0, 1) = kInf;  // two closed classes
  EXPECT_TRUE(StationaryLogDistribution(costs, 0.5).array().isNaN().all());

  costs << 0, 1, 1, 0;
  EXPECT_TRUE(StationaryLogDistribution(costs, 0.0).array().isNaN().all());
  EXPECT_TRUE(StationaryLogDistribution(costs, -1.0).array().isNaN().all());
  costs(0, 1) = -1;
  EXPECT_TRUE(StationaryLogDistribution(costs, 1.0).array().isNaN().all());
}

}  // namespace
}  // namespace ldsgd
