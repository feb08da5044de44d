#include "solver/theory/stability.h"

#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <sstream>
#include <utility>

#include "solver/io/input_text.h"
#include "solver/numerics/low_discrepancy.h"
#include "solver/analysis/serialization.h"

namespace ldsgd {
namespace {

using Clock = std::chrono::steady_clock;

double SecondsSince(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

// "%.*g", with the infinities and NaN spelled out.
std::string Format(double v, int digits = 10) {
  if (std::isnan(v)) return "nan";
  if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
  char buffer[64];
  std::snprintf(buffer, sizeof buffer, "%.*g", digits, v);
  return buffer;
}

// A whole decimal number (strtod/strtol accept leading blanks and partial input; we do not).
bool ParseDouble(const std::string& text, double* v) {
  if (text.empty() || std::isspace(static_cast<unsigned char>(text[0]))) return false;
  char* end = nullptr;
  *v = std::strtod(text.c_str(), &end);
  return end == text.c_str() + text.size();
}
bool ParseCount(const std::string& text, long* v) {
  if (text.empty() || text.size() > 9) return false;
  for (char c : text) {
    if (c < '0' || c > '9') return false;
  }
  *v = std::strtol(text.c_str(), nullptr, 10);
  return true;
}

// JSON has no infinities: -inf (a collapse, told apart by "collapses": true) and NaN (not run,
// told apart by "method": "not_run") are written as null.
nlohmann::json Exponent(const LyapunovResult& r) { return NumberOrNull(r.exponent); }

nlohmann::json ComponentJson(const ComponentStability& c) {
  return {{"id", c.id},
          {"type", ToString(c.type)},
          {"point", ToJson(c.point)},
          {"noise_ratio", NumberOrNull(c.noise_ratio)},
          {"vanishing_noise", c.vanishing_noise}};
}

std::string NotApplicableMessage(const std::string& reason) {
  return reason.empty() ? std::string(kNoVanishingNoise)
                        : std::string(kNoVanishingNoise) + " (" + reason + ")";
}

}  // namespace

std::string Validate(const StabilityOptions& o) {
  if (!(o.vanishing_noise_tolerance >= 0)) {
    return InvalidOption("vanishing_noise_tolerance", o.vanishing_noise_tolerance,
                         "vanishing_noise_tolerance >= 0");
  }
  if (o.scale_probes < 1) return InvalidOption("scale_probes", o.scale_probes, "scale_probes >= 1");
  if (!(o.window_tolerance > 0)) {
    return InvalidOption("window_tolerance", o.window_tolerance, "window_tolerance > 0");
  }
  LyapunovOptions lyapunov = o.lyapunov;
  lyapunov.batch_size = 1;  // replaced by the problem's
  return Validate(lyapunov);
}

std::vector<double> StepSizeRange::Grid() const {
  std::vector<double> etas;
  for (int i = 0; i < points; ++i) {
    // As in AbsorbingWindows, so that the grids coincide bit for bit.
    etas.push_back(i + 1 == points ? to : from + (to - from) * i / (points - 1));
  }
  return etas;
}

std::string ParseStepSizeRange(const std::string& text, StepSizeRange* range) {
  const std::string expected = "expected A:B:N (N >= 2 step sizes from A to B, 0 < A < B), got '" +
                               text + "'";
  const std::size_t first = text.find(':');
  const std::size_t second = first == std::string::npos ? first : text.find(':', first + 1);
  if (second == std::string::npos || text.find(':', second + 1) != std::string::npos) {
    return expected;
  }
  double from = 0, to = 0;
  long points = 0;
  if (!ParseDouble(text.substr(0, first), &from) ||
      !ParseDouble(text.substr(first + 1, second - first - 1), &to) ||
      !ParseCount(text.substr(second + 1), &points)) {
    return expected;
  }
  if (!(std::isfinite(from) && from > 0)) {
    return "step size A = " + ShortestSpelling(from) + " must be positive, in '" + text + "'";
  }
  if (!(std::isfinite(to) && to > from)) {
    return "step size B = " + ShortestSpelling(to) + " must be above A = " +
           ShortestSpelling(from) + ", in '" + text + "'";
  }
  if (points < 2) {
    return "N = " + std::to_string(points) + " must be >= 2, in '" + text + "'";
  }
  *range = {from, to, static_cast<int>(points)};
  return "";
}

std::string ComponentStability::Conclusion() const {
  if (!vanishing_noise) return "";
  if (!lyapunov.ok()) return "not analysed: " + lyapunov.message;
  switch (stability) {
    case Stability::kAbsorbing:
      if (lyapunov.collapses) {
        return "SGD converges to this point with probability one from its neighbourhood, in "
               "finite time";
      }
      return "SGD converges to this point with probability one from its neighbourhood, at rate "
             "exp(" + Format(lyapunov.exponent, 8) + " t)";
    case Stability::kRepelling:
      return "SGD leaves this point: perturbations grow like exp(" +
             Format(lyapunov.exponent, 8) + " t)";
    case Stability::kUndetermined:
      break;
  }
  return "the sign of the exponent is not resolved (" + Format(lyapunov.exponent, 8) + " +- " +
         Format(lyapunov.half_width, 3) + "): more Monte Carlo steps may decide it";
}

int StabilityReport::num_vanishing() const {
  int n = 0;
  for (const ComponentStability& c : components) n += c.vanishing_noise;
  return n;
}

int StabilitySweep::num_vanishing() const {
  int n = 0;
  for (const ComponentStability& c : components) n += c.vanishing_noise;
  return n;
}

std::string StabilityReport::BriefReport() const {
  if (!status.ok()) return "Stability analysis failed: " + status.message();
  if (num_vanishing() == 0) return NotApplicableMessage(not_applicable);
  std::ostringstream s;
  for (const ComponentStability& c : components) {
    if (!c.vanishing_noise) continue;
    s << "component " << c.id << " (" << ToString(c.type) << "): " << c.Conclusion() << "\n";
  }
  std::string out = s.str();
  out.pop_back();
  return out;
}

std::string StabilitySweep::BriefReport() const {
  if (!status.ok()) return "Stability sweep failed: " + status.message();
  if (num_vanishing() == 0) return NotApplicableMessage(not_applicable);
  std::ostringstream s;
  for (const PhaseDiagram& d : diagrams) {
    s << "component " << d.component << ": ";
    if (!d.message.empty()) {
      s << d.message << "\n";
      continue;
    }
    if (d.windows.empty()) s << "no absorbing window in [" << Format(range.from) << ", "
                             << Format(range.to) << "]";
    for (std::size_t i = 0; i < d.windows.size(); ++i) {
      const EtaWindow& w = d.windows[i];
      s << (i ? ", " : "absorbing for ") << Format(w.lower) << (w.open_below ? " (range end)" : "")
        << " < eta < " << Format(w.upper) << (w.open_above ? " (range end)" : "");
    }
    if (d.has_escape) {
      s << "; fastest escape: Lam = " << Format(d.escape_exponent) << " at eta = " << Format(d.escape_eta);
    }
    s << " (" << d.evaluations << " exponents)\n";
  }
  std::string out = s.str();
  out.pop_back();
  return out;
}

LyapunovOptions StabilityAnalyzer::LyapunovFor(const Problem& problem) const {
  LyapunovOptions o = options_.lyapunov;
  o.batch_size = problem.noise.batch_size();
  return o;
}

std::string StabilityAnalyzer::Examine(const Problem& problem,
                                       const std::vector<CriticalComponent>& components,
                                       std::vector<ComponentStability>* out,
                                       double* gradient_scale, std::string* not_applicable) const {
  out->clear();
  for (const CriticalComponent& c : components) {
    ComponentStability s;
    s.id = c.id;
    s.type = c.type;
    s.point = c.point;
    out->push_back(std::move(s));
  }
  *gradient_scale = 0.0;
  if (!problem.noise.is_finite_sum()) {
    *not_applicable = "Gaussian noise: its covariance is SPD by construction, so it vanishes nowhere";
    return "";
  }
  if (!problem.samples) return "a finite-sum problem without samples";
  const FiniteSum& samples = *problem.samples;
  const int d = samples.dimension(), n = samples.size();
  for (const ComponentStability& s : *out) {
    if (s.point.size() != d) {
      return "component " + std::to_string(s.id) + " has dimension " +
             std::to_string(s.point.size()) + ", the problem " + std::to_string(d);
    }
  }

  // G: the root mean square of the sample gradients over points spread through the box.
  const Eigen::VectorXd lower = problem.domain.lower, width = problem.domain.upper - lower;
  Eigen::MatrixXd g, hessians;
  double sum_squares = 0.0;
  for (int p = 0; p < options_.scale_probes; ++p) {
    const Eigen::VectorXd x = lower + width.cwiseProduct(KroneckerPoint(d, p));
    samples.Gradients(x.data(), &g);
    sum_squares += g.squaredNorm();
  }
  *gradient_scale = std::sqrt(sum_squares / (static_cast<double>(options_.scale_probes) * n));

  for (ComponentStability& s : *out) {
    samples.Gradients(s.point.data(), &g, &hessians);
    const double largest = g.colwise().norm().maxCoeff();
    s.noise_ratio = *gradient_scale > 0 ? largest / *gradient_scale
                                        : (largest == 0 ? 0.0 : std::numeric_limits<double>::infinity());
    s.vanishing_noise = s.noise_ratio <= options_.vanishing_noise_tolerance;
    if (!s.vanishing_noise) continue;
    s.hessians.reserve(n);
    for (int k = 0; k < n; ++k) s.hessians.push_back(hessians.middleCols(k * d, d));
  }
  return "";
}

namespace {
// The Gaussian diffusion approximation of a finite sum has noise N(0, cov_k(g_k)/b), which also
// vanishes at x*, but its linearization is a product of Gaussian matrices, not of sampled
// Hessians: LyapunovSolver does not model it.
constexpr const char* kGaussianApproximation =
    "noise.approximation = \"gaussian\": the linearized chain is not a product of sampled Hessians";
}  // namespace

StabilityReport StabilityAnalyzer::Analyze(const Problem& problem,
                                           const std::vector<CriticalComponent>& components,
                                           double eta) const {
  const Clock::time_point start = Clock::now();
  StabilityReport r;
  r.step_size = eta;
  r.batch_size = problem.noise.batch_size();
  if (std::string bad = Validate(options_); !bad.empty()) {
    r.status = Status(StatusCode::kInvalidOptions, bad);
    return r;
  }
  if (!(std::isfinite(eta) && eta > 0)) {
    r.status = Status(StatusCode::kInvalidOptions, "Invalid step size eta = " + ShortestSpelling(eta) + " (must be positive and finite)");
    return r;
  }
  if (std::string bad = Examine(problem, components, &r.components, &r.gradient_scale,
                                &r.not_applicable);
      !bad.empty()) {
    r.status = Status(StatusCode::kInvalidOptions, bad);
    return r;
  }
  const LyapunovOptions lyapunov = LyapunovFor(problem);
  for (ComponentStability& c : r.components) {
    if (!c.vanishing_noise) continue;
    if (problem.noise.approximation() == NoiseApproximation::kGaussian) {
      c.lyapunov.message = kGaussianApproximation;
      continue;
    }
    const LyapunovSolver solver(c.hessians, lyapunov);
    if (!solver.error().empty()) {
      r.status = Status(StatusCode::kInvalidOptions, "component " + std::to_string(c.id) + ": " + solver.error());
      return r;
    }
    c.lyapunov = solver.Exponent(eta);
    c.stability = Classify(c.lyapunov);
  }
  r.status = Status::Ok();
  r.time_seconds = SecondsSince(start);
  return r;
}

StabilitySweep StabilityAnalyzer::Sweep(const Problem& problem,
                                        const std::vector<CriticalComponent>& components,
                                        const StepSizeRange& range) const {
  const Clock::time_point start = Clock::now();
  StabilitySweep s;
  s.range = range;
  s.batch_size = problem.noise.batch_size();
  if (std::string bad = Validate(options_); !bad.empty()) {
    s.status = Status(StatusCode::kInvalidOptions, bad);
    return s;
  }
  if (!(std::isfinite(range.from) && range.from > 0 && std::isfinite(range.to) &&
        range.to > range.from && range.points >= 2)) {
    s.status = Status(StatusCode::kInvalidOptions, "Invalid step-size range " + ShortestSpelling(range.from) + ":" +
              ShortestSpelling(range.to) + ":" + std::to_string(range.points) +
              " (need 0 < A < B, N >= 2)");
    return s;
  }
  if (std::string bad = Examine(problem, components, &s.components, &s.gradient_scale,
                                &s.not_applicable);
      !bad.empty()) {
    s.status = Status(StatusCode::kInvalidOptions, bad);
    return s;
  }
  const LyapunovOptions lyapunov = LyapunovFor(problem);
  for (const ComponentStability& c : s.components) {
    if (!c.vanishing_noise) continue;
    PhaseDiagram d;
    d.component = c.id;
    if (problem.noise.approximation() == NoiseApproximation::kGaussian) {
      d.message = kGaussianApproximation;
    } else {
      // AbsorbingWindows evaluates the exponent on exactly range.Grid() and keeps it: the phase
      // diagram costs no extra exponents beyond the bisections.
      AbsorbingWindowsResult w = AbsorbingWindows(c.hessians, range.from, range.to, range.points,
                                                  lyapunov, options_.window_tolerance);
      d.message = w.message;
      d.grid = std::move(w.grid);
      d.windows = std::move(w.windows);
      d.evaluations = w.evaluations;
      // The fastest escape is a local maximum of Lam inside the range (beyond the absorbing
      // windows Lam grows without bound with eta: that is instability, not an optimum): the best
      // interior grid point above both neighbours, refined between them.
      int best = -1;
      for (int i = 1; i + 1 < static_cast<int>(d.grid.size()); ++i) {
        const double e = d.grid[i].exponent;
        const bool peak = e > d.grid[i - 1].exponent && e >= d.grid[i + 1].exponent;
        if (std::isfinite(e) && e > 0 && peak && (best < 0 || e > d.grid[best].exponent)) best = i;
      }
      if (best >= 0) {
        const std::vector<double> etas = range.Grid();
        const double lo = etas[best - 1], hi = etas[best + 1];
        const ExponentExtremum m = ExtremeExponent(c.hessians, lo, hi, Extremum::kMaximum, lyapunov,
                                                   options_.window_tolerance);
        d.has_escape = true;
        d.escape_eta = m.ok() ? m.eta : etas[best];
        d.escape_exponent = m.ok() ? m.at.exponent : d.grid[best].exponent;
        d.evaluations += m.evaluations;
      }
    }
    s.diagrams.push_back(std::move(d));
  }
  s.status = Status::Ok();
  s.time_seconds = SecondsSince(start);
  return s;
}

nlohmann::json ToJson(const StabilityReport& report, double vanishing_noise_tolerance) {
  nlohmann::json components = nlohmann::json::array();
  for (const ComponentStability& c : report.components) {
    nlohmann::json j = ComponentJson(c);
    if (c.vanishing_noise) {
      j["exponent"] = Exponent(c.lyapunov);
      j["half_width"] = NumberOrNull(c.lyapunov.half_width);
      j["collapses"] = c.lyapunov.collapses;
      j["method"] = ToString(c.lyapunov.method);
      j["stability"] = ToString(c.stability);
      j["conclusion"] = c.Conclusion();
    }
    components.push_back(std::move(j));
  }
  const bool applies = report.num_vanishing() > 0;
  return {{"step_size", report.step_size},
          {"batch_size", report.batch_size},
          {"gradient_scale", report.gradient_scale},
          {"vanishing_noise_tolerance", vanishing_noise_tolerance},
          {"applies", applies},
          {"message", applies ? "" : NotApplicableMessage(report.not_applicable)},
          {"components", std::move(components)}};
}

nlohmann::json ToJson(const StabilitySweep& sweep, double vanishing_noise_tolerance) {
  nlohmann::json components = nlohmann::json::array();
  for (const ComponentStability& c : sweep.components) components.push_back(ComponentJson(c));
  nlohmann::json rows = nlohmann::json::array(), windows = nlohmann::json::array();
  nlohmann::json escapes = nlohmann::json::array();
  for (const PhaseDiagram& d : sweep.diagrams) {
    if (d.has_escape) {
      escapes.push_back({{"component", d.component}, {"eta", d.escape_eta}, {"exponent", d.escape_exponent}});
    }
    for (const LyapunovResult& r : d.grid) {
      rows.push_back({{"component", d.component},
                      {"eta", r.eta},
                      {"exponent", Exponent(r)},
                      {"half_width", NumberOrNull(r.half_width)},
                      {"collapses", r.collapses},
                      {"method", ToString(r.method)},
                      {"phase", ToString(Classify(r))}});
    }
    for (const EtaWindow& w : d.windows) {
      windows.push_back({{"component", d.component},
                         {"lower", w.lower},
                         {"upper", w.upper},
                         {"open_below", w.open_below},
                         {"open_above", w.open_above}});
    }
  }
  const bool applies = sweep.num_vanishing() > 0;
  return {{"step_sizes", {{"from", sweep.range.from}, {"to", sweep.range.to},
                          {"points", sweep.range.points}}},
          {"batch_size", sweep.batch_size},
          {"gradient_scale", sweep.gradient_scale},
          {"vanishing_noise_tolerance", vanishing_noise_tolerance},
          {"applies", applies},
          {"message", applies ? "" : NotApplicableMessage(sweep.not_applicable)},
          {"components", std::move(components)},
          {"sweep", std::move(rows)},
          {"absorbing_windows", std::move(windows)},
          {"fastest_escape", std::move(escapes)}};
}

std::string SweepCsv(const StabilitySweep& sweep) {
  std::string out = "component,eta,exponent,half_width,phase\n";
  for (const PhaseDiagram& d : sweep.diagrams) {
    for (const LyapunovResult& r : d.grid) {
      out += std::to_string(d.component) + "," + Format(r.eta, 17) + "," + Format(r.exponent, 17) +
             "," + Format(r.half_width, 17) + "," + ToString(Classify(r)) + "\n";
    }
  }
  return out;
}

}  // namespace ldsgd
