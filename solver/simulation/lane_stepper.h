// One SGD step for a block of lanes (x_{t+1} = x_t - eta G(x_t, w_t), THEORY.md section 1), for
// the rare-event samplers (departures.h, splitting.h). The noise is the simulator's (sgd_noise.h),
// so every noise model is supported with exactly the simulator's sampling, and lane l draws the
// random numbers of (key, first_id + l, step): a lane's path depends on its id and step only.
#ifndef LDSGD_SOLVER_SIMULATION_LANE_STEPPER_H_
#define LDSGD_SOLVER_SIMULATION_LANE_STEPPER_H_

#include <cstdint>
#include <limits>
#include <vector>

#include <Eigen/Core>

#include "solver/noise/sgd_noise.h"
#include "solver/problem/problem.h"
#include "solver/simulation/path_coordinate.h"

namespace ldsgd {

// Lanes per block: the stride of the structure-of-arrays state (the expression engine's batch).
inline constexpr int kLaneBlock = 64;
// Points of equal progress at which a finite sum's tilt is tabled (SetTilt): phi* varies on the
// scale of the path's features, which 65 nodes resolve (path_coordinate.h).
inline constexpr int kMomentumNodes = 64;

class LaneStepper {
 public:
  // `noise` must outlive the stepper. Divergence: a state outside the problem's box enlarged by
  // `divergence_factor` around its centre, or not finite (as in the simulator).
  LaneStepper(const Problem& problem, const SgdNoise& noise, double step_size, double divergence_factor);

  int dimension() const { return d_; }
  // x: structure-of-arrays, coordinate i of lane l at x[i * kLaneBlock + l], count <= kLaneBlock.
  // Moves the lanes one step; bad[l] = true for a lane that diverged or whose noise could not be
  // drawn (its x is then unspecified).
  void Step(std::uint32_t first_id, int count, std::uint64_t step, double* x, bool* bad);

  // Importance sampling for isotropic Gaussian noise sigma^2 I (problem.noise.is_isotropic()):
  // the noise mean is moved from 0 to m(x) = -2 theta (grad f . t)+ t, t the unit tangent of
  // `path` at the foot of x, so that theta = 1 climbs along the path as the reversed gradient flow
  // does, the large-deviation optimal way up a well (THEORY.md sections 2, 4: the quasi-potential
  // is 2 f / sigma^2), while the transverse motion keeps SGD's own restoring drift (the full
  // reversal would throw the chain off the path and up the walls). Step() adds to log_weight[l]
  // the log likelihood ratio of the step under SGD's own noise, -(Z . m + |m|^2 / 2) / sigma^2, Z
  // the drawn noise before the shift; along the path the sum telescopes to about
  // -2 (f(end) - f(start)) / (eta sigma^2), which keeps its variance small. theta = 0 turns it
  // off; `path` must outlive the stepper.
  //
  // For a finite sum (batch b) the noise cannot be shifted: the sample indices are drawn instead
  // from the exponential tilt q_k = exp(-<phi, g_k(x)>) / Z(x) of the finite sum's Hamiltonian
  // (THEORY.md section 2), with phi = theta phi*(xi(x)): phi* is the optimal momentum (per draw,
  // theta / b) of the minimum-action path at the point of the path with the same progress xi,
  // the maximizer of <t, phi> subject to G(phi) = log mean_k exp(-<phi, g_k>) <= 0 for the path's
  // tangent t (finite_sum_cost.h). Under it the mean step -E_q g is along t and the tilted chain
  // follows the path uphill as the large-deviation optimal path does (on the path phi* is the
  // gradient of the quasi-potential over b, which the importance-sampling theory of Dupuis and
  // Wang names the optimal tilt); off the path SGD's own restoring drift remains. phi* is tabled at
  // kMomentumNodes + 1 points of equal progress once per SetTilt and interpolated; it is zero where
  // the path runs downhill (the gradient flow costs nothing) and where no tilt moves along t. Each
  // draw adds log(1 / (n q_k)) to log_weight, so the estimate stays unbiased whatever phi is. This
  // costs the n sample gradients per step. `key` keys these draws (the noise's own stream is not
  // used).
  //
  // Both tilts act only within `tube` of the path (x farther from its foot takes SGD's own step,
  // with no weight). The tilt of the path's point of the same progress is the optimal one near the
  // path only: applied far from it, where the foot can jump between the branches of a curved path,
  // it can balance SGD's drift and hold a replica for a time that grows exponentially as eta
  // shrinks (the robust regression's U-shaped exit path, docs/VERIFICATION.md). A tilt that
  // depends on x alone keeps the estimate unbiased whatever the tube.
  void SetTilt(double theta, const PathCoordinate* path, PhiloxKey key = {},
               double tube = std::numeric_limits<double>::infinity());
  bool tilted() const { return theta_ != 0.0; }
  void Step(std::uint32_t first_id, int count, std::uint64_t step, double* x, bool* bad, double* log_weight);

 private:
  // x -= eta g_ for the lanes, flagging divergence.
  void Move(int count, double* x, bool* bad) const;

  const SgdNoise& noise_;
  const Objective& objective_;
  double sigma_ = 0.0, theta_ = 0.0, tube_ = 0.0;
  const PathCoordinate* path_ = nullptr;
  const FiniteSum* samples_ = nullptr;
  int batch_ = 0;
  PhiloxKey key_;
  // Scratch of the tilted steps, sized once (they run once per lane and step).
  std::vector<double> point_, tangent_, phi_, cumulative_;
  Eigen::MatrixXd sample_gradients_;
  Eigen::VectorXd exponent_, draw_sum_;
  // theta phi* at progress m / kMomentumNodes, row m (finite sums).
  Eigen::MatrixXd momentum_;
  void TableMomentum();
  // The finite sum's tilted step for lane l (SetTilt).
  void TiltedSampleStep(std::uint32_t id, std::uint64_t step, const double* point, int l, double* log_weight);
  std::vector<double> grad_;
  double eta_;
  int d_;
  Eigen::VectorXd centre_, bound_;
  std::vector<double> g_;
  std::vector<NoiseFailure> failed_;
  SgdNoise::Scratch scratch_;
};

}  // namespace ldsgd

#endif  // LDSGD_SOLVER_SIMULATION_LANE_STEPPER_H_
