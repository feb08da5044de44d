#include "solver/simulation/lane_stepper.h"

#include <cmath>

namespace ldsgd {

LaneStepper::LaneStepper(const Problem& problem, const SgdNoise& noise, double step_size,
                         double divergence_factor)
    : noise_(noise),
      eta_(step_size),
      d_(static_cast<int>(problem.domain.lower.size())),
      centre_((problem.domain.lower + problem.domain.upper) / 2),
      bound_((problem.domain.upper - problem.domain.lower) / 2 * divergence_factor),
      g_(static_cast<std::size_t>(d_) * kLaneBlock),
      failed_(kLaneBlock) {}

void LaneStepper::Step(std::uint32_t first_id, int count, std::uint64_t step, double* x, bool* bad) {
  std::fill(failed_.begin(), failed_.end(), NoiseFailure::kNone);
  const ChainBlock block{first_id, count, kLaneBlock, step, x};
  noise_.StochasticGradient(block, g_.data(), failed_.data(), &scratch_);
  for (int l = 0; l < count; ++l) bad[l] = failed_[l] != NoiseFailure::kNone;
  for (int i = 0; i < d_; ++i) {
    double* xi = x + i * kLaneBlock;
    const double* gi = g_.data() + i * kLaneBlock;
    for (int l = 0; l < count; ++l) {
      xi[l] -= eta_ * gi[l];
      // NaN fails the comparison, so it counts as diverged.
      if (!(std::fabs(xi[l] - centre_[i]) <= bound_[i])) bad[l] = true;
    }
  }
}

}  // namespace ldsgd
