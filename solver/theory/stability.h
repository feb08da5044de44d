// Stochastic stability of SGD at the critical components where its noise vanishes (THEORY.md
// section 8; Ziyin, Li, Ueda, "SGD may never escape saddle points", arXiv 2107.11774).
//
// The large-deviation theory of sections 2-5 assumes cov Z > 0. A finite sum can break it at a
// critical point x*: when every sample gradient g_k(x*) is zero, every minibatch step from x* is
// zero, and near x* SGD is the random linear map d_{t+1} = (I - eta M_t) d_t (lyapunov.h). Whether
// SGD is then drawn into x* (even a maximum) or pushed away is the sign of the top Lyapunov
// exponent Lam(eta) of that product. This file finds such components of a Problem and runs the
// Lyapunov analysis there, at one step size or over a grid of them (a phase diagram with the
// absorbing windows).
//
// Vanishing noise. Gaussian noise never vanishes: its covariance is SPD by construction (problem
// files are validated), so a Gaussian problem has no such component. For a finite sum, component
// K with representative point x* has vanishing noise when
//
//   max_k |g_k(x*)| <= vanishing_noise_tolerance * G,
//
// G the gradients' scale elsewhere: the root mean square of |g_k(x)| over the samples k and
// scale_probes points x of a Kronecker sequence over the box. The test is relative so that it is
// unit-free; G = 0 (all samples flat) makes every point noiseless. Only the representative point
// of a non-isolated component is examined.
//
// What "absorbing" means. Lam < 0 makes |d_t| -> 0 almost surely at rate exp(Lam t) for the
// linearized chain, from every d_0 != 0 (Furstenberg-Kesten); for SGD itself the probability of
// converging to x* tends to one as the start approaches x*. Lam > 0: x* repels.
#ifndef LDSGD_SOLVER_THEORY_STABILITY_H_
#define LDSGD_SOLVER_THEORY_STABILITY_H_

#include <limits>
#include <string>
#include <vector>

#include <Eigen/Core>
#include <nlohmann/json.hpp>

#include "solver/landscape/critical_points.h"
#include "solver/theory/lyapunov.h"
#include "solver/problem/problem.h"

namespace ldsgd {

struct StabilityOptions {
  // A component's noise vanishes when max_k |g_k(x*)| <= vanishing_noise_tolerance * G (G above).
  // The critical-point finder leaves x* accurate to near rounding, so at a truly noiseless point
  // the ratio is ~1e-12 or less, while a noisy critical point has a ratio of order one: the
  // default sits far from both. Must be >= 0.
  double vanishing_noise_tolerance = 1e-6;
  // Points of the box at which the sample gradients are evaluated for the scale G (>= 1). Each
  // costs one evaluation of all n samples.
  int scale_probes = 64;
  // The Lyapunov analysis. batch_size is ignored: the problem's batch size is used.
  LyapunovOptions lyapunov;
  // Window ends (AbsorbingWindows) are bisected to this step-size tolerance (> 0).
  double window_tolerance = 1e-10;
};

// "Invalid configuration. Options::FIELD = ..." for the first violated constraint, "" if valid.
std::string Validate(const StabilityOptions& options);

// A linear grid of step sizes "A:B:N": N >= 2 points from A to B inclusive, 0 < A < B. Point i is
// A + (B - A) i / (N - 1), the last exactly B (the grid of AbsorbingWindows).
struct StepSizeRange {
  double from = 0.0, to = 0.0;
  int points = 0;
  std::vector<double> Grid() const;
};
// Parses "A:B:N" into *range. Returns "" on success, else one line saying what is wrong (and
// leaves *range unchanged).
std::string ParseStepSizeRange(const std::string& text, StepSizeRange* range);

// One critical component, examined for vanishing noise and (at one step size) for stability.
struct ComponentStability {
  int id = -1;
  CriticalType type = CriticalType::kDegenerate;
  Eigen::VectorXd point;
  // max_k |g_k(x*)| / G; NaN for Gaussian noise (not a finite sum).
  double noise_ratio = std::numeric_limits<double>::quiet_NaN();
  bool vanishing_noise = false;
  // Vanishing noise only: H_k = Hess f_k(x*), k = 1..n.
  std::vector<Eigen::MatrixXd> hessians;
  // At the report's step size (StabilityAnalyzer::Analyze, vanishing noise only; not run
  // otherwise, or with the reason in lyapunov.message when the analysis does not apply).
  LyapunovResult lyapunov;
  Stability stability = Stability::kUndetermined;

  // Absorbing: "SGD converges to this point with probability one from its neighbourhood, at rate
  // exp(-0.32696323 t)"; repelling: "SGD leaves this point: perturbations grow like exp(0.05 t)";
  // else what is known. Empty when the noise does not vanish.
  std::string Conclusion() const;
};

// The analysis at one step size.
struct StabilityReport {
  Status status;  // kNotRun until Analyze() ran; kInvalidOptions: why not
  double step_size = 0.0;
  int batch_size = 0;                // the problem's (finite sums), 0 for Gaussian noise
  double gradient_scale = 0.0;       // G; 0 for Gaussian noise
  std::string not_applicable;        // why no component can have vanishing noise ("" otherwise)
  std::vector<ComponentStability> components;  // in the order given
  double time_seconds = 0.0;

  int num_vanishing() const;
  // One line per vanishing-noise component, or the sentence saying the analysis does not apply.
  std::string BriefReport() const;
};

// The exponent over a grid of step sizes at one vanishing-noise component, and its absorbing
// windows.
struct PhaseDiagram {
  int component = -1;       // component id
  std::string message;      // why the grid or the windows could not be computed ("" if fine)
  std::vector<LyapunovResult> grid;  // one per StepSizeRange::Grid() point
  std::vector<EtaWindow> windows;    // where Lam < 0 (ends to Options::window_tolerance)
  // The fastest escape: the largest positive local maximum of the exponent inside the range (an
  // interior grid point above its neighbours, refined by golden section between them to
  // window_tolerance); none when Lam only grows with eta. For case 8 it is
  // ln((2 - a) / (2 sqrt(1 - a))) at eta = -a / (2 (1 - a)) (THEORY.md section 9).
  bool has_escape = false;
  double escape_eta = 0.0, escape_exponent = 0.0;
  int evaluations = 0;
};

struct StabilitySweep {
  Status status;  // kNotRun until Sweep() ran; kInvalidOptions: why not
  StepSizeRange range;
  int batch_size = 0;
  double gradient_scale = 0.0;
  std::string not_applicable;
  std::vector<ComponentStability> components;  // all of them; lyapunov not run
  std::vector<PhaseDiagram> diagrams;          // one per vanishing-noise component
  double time_seconds = 0.0;

  int num_vanishing() const;
  std::string BriefReport() const;
};

// The sentence printed when no component has vanishing noise.
inline constexpr const char* kNoVanishingNoise =
    "no critical component with vanishing noise: the stochastic-stability analysis does not apply";

class StabilityAnalyzer {
 public:
  using Options = StabilityOptions;
  explicit StabilityAnalyzer(Options options) : options_(std::move(options)) {}

  // Vanishing noise at each component, and the exponent at step size eta where it vanishes.
  // Configuration errors come back in the report (a failed status); never throws.
  StabilityReport Analyze(const Problem& problem, const std::vector<CriticalComponent>& components,
                          double eta) const;
  // The same over range.Grid(), with the absorbing windows in [range.from, range.to].
  StabilitySweep Sweep(const Problem& problem, const std::vector<CriticalComponent>& components,
                       const StepSizeRange& range) const;

 private:
  // Vanishing noise and the Hessians per component; the report's scale and applicability.
  std::string Examine(const Problem& problem, const std::vector<CriticalComponent>& components,
                      std::vector<ComponentStability>* out, double* gradient_scale,
                      std::string* not_applicable) const;
  LyapunovOptions LyapunovFor(const Problem& problem) const;

  Options options_;
};

// JSON forms (exponent -inf, a collapse, is written as null with "collapses": true).
// Analyze: {"step_size", "batch_size", "gradient_scale", "vanishing_noise_tolerance", "applies",
//  "message", "components": [{"id", "type", "point", "noise_ratio", "vanishing_noise",
//  "exponent", "half_width", "collapses", "method", "stability", "conclusion"}]}.
nlohmann::json ToJson(const StabilityReport& report, double vanishing_noise_tolerance);
// Sweep: {"step_sizes": {"from", "to", "points"}, "batch_size", "gradient_scale",
//  "vanishing_noise_tolerance", "applies", "message", "components": [{"id", "type", "point",
//  "noise_ratio", "vanishing_noise"}], "sweep": [{"component", "eta", "exponent", "half_width",
//  "collapses", "method", "phase"}], "fastest_escape": [{"component", "eta", "exponent"}], "absorbing_windows": [{"component", "lower", "upper",
//  "open_below", "open_above"}]}.
nlohmann::json ToJson(const StabilitySweep& sweep, double vanishing_noise_tolerance);
// "component,eta,exponent,half_width,phase" and one row per (component, eta); -inf spelled out.
std::string SweepCsv(const StabilitySweep& sweep);

}  // namespace ldsgd

#endif  // LDSGD_SOLVER_THEORY_STABILITY_H_
