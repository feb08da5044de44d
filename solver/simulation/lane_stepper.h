// One SGD step for a block of lanes (x_{t+1} = x_t - eta G(x_t, w_t), THEORY.md section 1), for
// the rare-event samplers (departures.h, splitting.h). The noise is the simulator's (sgd_noise.h),
// so every noise model is supported with exactly the simulator's sampling, and lane l draws the
// random numbers of (key, first_id + l, step): a lane's path depends on its id and step only.
#ifndef LDSGD_SOLVER_SIMULATION_LANE_STEPPER_H_
#define LDSGD_SOLVER_SIMULATION_LANE_STEPPER_H_

#include <cstdint>
#include <vector>

#include <Eigen/Core>

#include "solver/noise/sgd_noise.h"
#include "solver/problem/problem.h"

namespace ldsgd {

// Lanes per block: the stride of the structure-of-arrays state (the expression engine's batch).
inline constexpr int kLaneBlock = 64;

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

 private:
  const SgdNoise& noise_;
  double eta_;
  int d_;
  Eigen::VectorXd centre_, bound_;
  std::vector<double> g_;
  std::vector<NoiseFailure> failed_;
  SgdNoise::Scratch scratch_;
};

}  // namespace ldsgd

#endif  // LDSGD_SOLVER_SIMULATION_LANE_STEPPER_H_
