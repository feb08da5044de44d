// The noise of SGD as the simulator samples it (THEORY.md section 1): one class per noise model,
// each turning the states of a block of chains into their stochastic gradients G(x_t, w_t), so that
// x_{t+1} = x_t - eta G. Gaussian models return grad f(x) + Z with Z ~ N(0, Sigma(x)); the finite
// sum returns the mean of b sampled g_k(x) (true minibatch sampling, no Gaussian).
//
// All randomness comes from Philox keyed by the seed with (chain, step, draw) in the counter
// (philox_normals.h), so a chain's noise never depends on the block or thread it ran in. Draws are
// numbered within a step: Gaussian models use draws 0 .. ceil(d/2) - 1, two normals each
// (coordinates 2j and 2j + 1); the finite sum uses draws 0 .. ceil(b/2) - 1, two indices each
// (samples 2j, 2j + 1).
#ifndef LDSGD_SOLVER_NOISE_SGD_NOISE_H_
#define LDSGD_SOLVER_NOISE_SGD_NOISE_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <Eigen/Core>

#include "solver/numerics/philox_normals.h"
#include "solver/io/status.h"
#include "solver/problem/problem.h"

namespace ldsgd {

// A block of chains at one step, structure-of-arrays: coordinate i of lane l is x[i * stride + l];
// lane l is chain first_chain + l.
struct ChainBlock {
  std::uint32_t first_chain = 0;
  int count = 0;
  int stride = 0;
  std::uint64_t step = 0;  // t, for the move x_t -> x_{t+1}
  const double* x = nullptr;
};

// Why a lane can fail to get its sample.
enum class NoiseFailure : std::uint8_t {
  kNone = 0,
  kCovarianceNotPositiveDefinite,  // Sigma(x) is not SPD (state-dependent covariance)
};

class SgdNoise {
 public:
  // Per-thread scratch the models size as they need (they are shared between threads and const).
  struct Scratch {
    std::vector<double> doubles;
    std::vector<std::uint32_t> indices;
  };

  virtual ~SgdNoise() = default;
  // "isotropic gaussian, sigma = 1", "finite sum, 3 terms, batch 1", ...
  virtual std::string Describe() const = 0;
  // The covariance of G(x) - grad f(x), d x d: Sigma(x), or the minibatch covariance
  // cov_k(g_k(x)) / b of a finite sum (what the default neighbourhood radius needs).
  virtual Eigen::MatrixXd CovarianceAt(const Eigen::VectorXd& x) const = 0;
  // Writes the stochastic gradients of the block to g (same layout as block.x). Sets failed[l] for
  // the lanes whose sample could not be drawn and leaves the other entries untouched; a failed
  // lane's gradient is unspecified. Never throws.
  virtual void StochasticGradient(const ChainBlock& block, double* g, NoiseFailure* failed,
                                  Scratch* scratch) const = 0;
};

// The noise model of a problem: isotropic, constant or state-dependent Gaussian, a finite sum
// (exact minibatch sampling), or a finite sum's Gaussian approximation (Gaussian noise with the
// exact minibatch covariance). Returns nullptr and sets a failed *status when the model cannot be
// built (a constant covariance that is not SPD).
std::unique_ptr<SgdNoise> MakeSgdNoise(const Problem& problem, std::uint64_t seed,
                                       Status* status);

}  // namespace ldsgd

#endif  // LDSGD_SOLVER_NOISE_SGD_NOISE_H_
