#include "solver/analysis/reports.h"

#include <algorithm>
#include <cmath>
#include <sstream>

#include "solver/analysis/serialization.h"
#include "solver/io/text_table.h"

namespace ldsgd {
namespace {

std::string Components(std::size_t n) {
  return std::to_string(n) + (n == 1 ? " critical component" : " critical components");
}

// "batch size 1" with the vanishing-noise criterion, or "Gaussian noise".
std::string NoiseLine(int batch_size, double tolerance, double gradient_scale) {
  if (batch_size == 0) return "Gaussian noise";
  return "batch size " + std::to_string(batch_size) + " (noise vanishes where max|g_k(x*)| <= " +
         FormatNumber(tolerance, 3) + " G, G = " + FormatNumber(gradient_scale, 6) + ")";
}

std::string Exponent(const LyapunovResult& r) {
  if (!r.ok()) return "-";
  return FormatNumber(r.exponent, 10) + " +- " + FormatNumber(r.half_width, 3);
}

std::string StabilityTable(const std::vector<ComponentStability>& components, bool with_exponent) {
  std::vector<std::string> header = {"id", "type", "point", "noise at x*", "max|g_k|/G"};
  if (with_exponent) {
    for (const char* h : {"exponent", "method", "phase"}) header.push_back(h);
  }
  Table table(header);
  for (const ComponentStability& c : components) {
    std::vector<std::string> row = {std::to_string(c.id), ToString(c.type), FormatVector(c.point),
                                    c.vanishing_noise ? "vanishing" : "present",
                                    std::isnan(c.noise_ratio) ? "-" : FormatNumber(c.noise_ratio, 3)};
    if (with_exponent) {
      const bool analysed = c.vanishing_noise && c.lyapunov.ok();
      row.push_back(analysed ? Exponent(c.lyapunov) : "-");
      row.push_back(analysed ? ToString(c.lyapunov.method) : "-");
      row.push_back(analysed ? ToString(c.stability) : "-");
    }
    table.AddRow(row);
  }
  return table.ToString();
}

std::string SweepTable(const StabilitySweep& sweep) {
  Table table({"component", "eta", "exponent", "phase"});
  for (const PhaseDiagram& d : sweep.diagrams) {
    for (const LyapunovResult& r : d.grid) {
      table.AddRow({std::to_string(d.component), FormatNumber(r.eta, 6), Exponent(r),
                    ToString(Classify(r))});
    }
  }
  return table.ToString();
}

}  // namespace

std::string Title(const Problem& problem) { return problem.name.empty() ? problem.source : problem.name; }

void AddProblem(const Problem& problem, nlohmann::json* doc) {
  (*doc)["problem"] = problem.name;
  (*doc)["variables"] = problem.variables;
}

std::string CostTable(const Eigen::MatrixXd& costs, const std::vector<CriticalComponent>& components) {
  std::vector<std::string> header = {"from \\ to"};
  for (const CriticalComponent& c : components) header.push_back(std::to_string(c.id) + " " + ToString(c.type));
  Table table(header);
  for (int i = 0; i < costs.rows(); ++i) {
    std::vector<std::string> row = {std::to_string(components[i].id) + " " + ToString(components[i].type)};
    for (int j = 0; j < costs.cols(); ++j) row.push_back(FormatNumber(costs(i, j), 9));
    table.AddRow(row);
  }
  return table.ToString();
}

std::string ComponentTable(const std::vector<CriticalComponent>& components) {
  Table table({"id", "type", "index", "point", "f", "hessian eigenvalues", "size"});
  for (const CriticalComponent& c : components) {
    table.AddRow({std::to_string(c.id), ToString(c.type), std::to_string(c.index),
                  FormatVector(c.point), FormatNumber(c.f, 10), FormatVector(c.hessian_eigenvalues, 6),
                  std::to_string(c.size)});
  }
  return table.ToString();
}

std::string AssumptionLines(const AssumptionReport& report) {
  std::string out;
  bool needed_fail = false;
  for (const AssumptionCheck& c : report.checks) {
    if (c.holds) continue;
    needed_fail = needed_fail || c.affects_predictions;
    out += std::string(c.affects_predictions ? "warning" : "note") + ": assumption " + ToString(c.name) + " fails" +
           (c.where.empty() ? "" : " at " + c.where) + ": " + c.detail + "\n";
  }
  if (!needed_fail) {
    out += "assumptions the predictions need: all hold (noise positive definite at the components and "
           "finite, f increasing outward on the box and bounded below, components inside the box)\n";
  } else {
    out += "large-deviation predictions (energies, weights, exit costs) UNRELIABLE: they assume what fails "
           "above (THEORY.md section 8)\n";
  }
  return out;
}

std::string OccupationTable(const std::vector<CriticalComponent>& components,
                            const SimulationResult& r) {
  const bool basins = r.basin_interval > 0;
  std::vector<std::string> header = {"component", "type", "radius", "occupation", "exits",
                                     "mean exit time"};
  if (basins) header.push_back("basin");
  Table table(header);
  for (std::size_t i = 0; i < components.size(); ++i) {
    const ExitTimes& e = r.exit_times[i];
    std::vector<std::string> row = {std::to_string(components[i].id), ToString(components[i].type),
                                    FormatNumber(r.radius[i], 6), FormatNumber(r.occupation[i], 6),
                                    std::to_string(e.count),
                                    e.count > 0 ? FormatNumber(e.mean(), 6) : "-"};
    if (basins) {
      row.push_back(components[i].type == CriticalType::kMinimum
                        ? FormatNumber(r.basin_occupation[i], 6)
                        : "");
    }
    table.AddRow(row);
  }
  std::vector<std::string> last = {"outside", "", "", FormatNumber(r.outside, 6), "", ""};
  if (basins) last.push_back(FormatNumber(r.basin_unclassified, 6));
  table.AddRow(last);
  return table.ToString();
}

std::string SimulationText(const Problem& problem, const std::vector<CriticalComponent>& components,
                           const SimulationResult& r, const std::string& report) {
  std::ostringstream text;
  text << Title(problem) << "\n"
       << "eta = " << FormatNumber(r.step_size) << ", " << r.chains << " chains x " << r.steps << " steps (burn-in "
       << r.burn_in << "), seed " << r.seed << ", " << r.diverged << " diverged\n\n"
       << OccupationTable(components, r) << "\n"
       << report << "\n";
  return text.str();
}

namespace {

// The component table of `analyze`: id, type, point, f, E (and the compared E), weights.
std::string EnergyTable(const Problem& problem, const Analysis& a) {
  std::vector<std::string> header = {"id", "type", "point", "f", "E"};
  const bool approximated = problem.noise.approximation() == NoiseApproximation::kGaussian;
  if (a.comparison) header.push_back(approximated ? "E(exact)" : "E(gaussian)");
  const std::string mark = a.assumptions.predictions_reliable() ? "" : "*";
  for (const StepSizePrediction& s : a.predictions.steps) {
    header.push_back("weight(eta=" + FormatNumber(s.step_size, 4) + ")" + mark);
  }
  Table table(header);
  for (std::size_t i = 0; i < a.components.size(); ++i) {
    const CriticalComponent& c = a.components[i];
    std::string type = ToString(c.type);
    if (c.type == CriticalType::kSaddle) type += " (index " + std::to_string(c.index) + ")";
    std::vector<std::string> row = {std::to_string(c.id), type, FormatVector(c.point, 7), FormatNumber(c.f, 8),
                                    FormatNumber(a.energies.relative[i], 8)};
    if (a.comparison) row.push_back(FormatNumber(a.comparison->energies.relative[i], 8));
    for (const StepSizePrediction& s : a.predictions.steps) row.push_back(FormatNumber(s.weight[i], 4));
    table.AddRow(row);
  }
  return table.ToString();
}

// "ground states: 0 1", and the other noise treatment's ground states and costs.
std::string GroundStateLines(const Problem& problem, const Analysis& a) {
  std::ostringstream out;
  out << "ground state" << (a.energies.ground_states.size() > 1 ? "s" : "") << ":";
  for (int g : a.energies.ground_states) out << " " << g;
  if (a.energies.ground_states.empty()) {
    out << " none (every energy is +inf: no component is reachable from all the others at finite "
           "cost, so the long-run law depends on where SGD starts)";
  }
  out << "\n";
  if (a.comparison) {
    const bool approximated = problem.noise.approximation() == NoiseApproximation::kGaussian;
    out << (approximated ? "exact minibatch noise" : "gaussian approximation") << ": ground state";
    for (int g : a.comparison->energies.ground_states) out << " " << g;
    if (a.comparison->energies.ground_states.empty()) out << " none";
    out << "; transition costs B[from][to]:\n" << CostTable(a.comparison->costs.costs, a.components);
  }
  return out.str();
}

// Stability warnings, Laplace masses, notes and uncertified +inf costs.
std::string PredictionLines(const Analysis& a, const AnalysisSummary& summary) {
  std::ostringstream out;
  const Predictions& predictions = a.predictions;
  for (const StepSizePrediction& s : predictions.steps) {
    if (!s.stable) {
      out << "warning: eta = " << FormatNumber(s.step_size, 4) << " exceeds the stability bound 2/lambda_max = "
          << FormatNumber(predictions.stability_bound, 4) << ": the chain is not SGD-like near the minima\n";
    }
  }
  if (!predictions.steps.empty() && predictions.steps[0].laplace_mass.size() > 0) {
    out << "Laplace-corrected masses of the minima (isotropic noise, THEORY.md section 6):\n";
    for (const StepSizePrediction& s : predictions.steps) {
      out << "  eta = " << FormatNumber(s.step_size, 4) << ":";
      for (std::size_t i = 0; i < a.components.size(); ++i) {
        if (!std::isnan(s.laplace_mass[i])) out << "  [" << i << "] " << FormatNumber(s.laplace_mass[i], 4);
      }
      out << "\n";
    }
  }
  for (const std::string& note : predictions.notes) out << "note: " << note << "\n";
  const auto& uncertified = summary.costs.uncertified_infinite;
  if (!uncertified.empty()) {
    out << "warning: " << uncertified.size()
        << " costs are +inf only because every path tried crossed a region the sample steps cannot "
           "move through; a curved path of finite cost may exist (finite sum in d >= 2):";
    for (const auto& [i, j] : uncertified) out << " " << i << "->" << j;
    out << "\n";
  }
  return out.str();
}

}  // namespace

std::string AnalysisText(const Problem& problem, const Analysis& a, const AnalysisSummary& summary,
                         bool verbose) {
  std::ostringstream out;
  out << Title(problem) << "\n\n" << EnergyTable(problem, a) << "\n" << GroundStateLines(problem, a)
      << PredictionLines(a, summary) << AssumptionLines(a.assumptions);
  if (!a.assumptions.predictions_reliable()) out << "(*: unreliable weights)\n";
  if (verbose) out << "\ntransition costs B[from][to]:\n" << CostTable(a.costs.costs, a.components);
  out << "\n" << (verbose ? summary.FullReport() : summary.BriefReport()) << "\n";
  return out.str();
}

std::string StabilityText(const Problem& problem, std::size_t num_components, const StabilityReport& report,
                          double tolerance, bool verbose) {
  std::ostringstream out;
  out << Title(problem) << "\n"
      << "eta = " << FormatNumber(report.step_size) << ", "
      << NoiseLine(report.batch_size, tolerance, report.gradient_scale) << "\n"
      << Components(num_components) << ", " << report.num_vanishing() << " with vanishing noise\n\n"
      << StabilityTable(report.components, report.num_vanishing() > 0) << "\n"
      << report.BriefReport() << "\n";
  if (verbose) {
    for (const ComponentStability& c : report.components) {
      if (c.vanishing_noise) out << "component " << c.id << ": " << c.lyapunov.FullReport();
    }
  }
  return out.str();
}

std::string StabilitySweepText(const Problem& problem, std::size_t num_components, const StabilitySweep& sweep,
                               const StepSizeRange& range, double tolerance, bool verbose) {
  std::ostringstream out;
  out << Title(problem) << "\n"
      << "eta from " << FormatNumber(range.from) << " to " << FormatNumber(range.to) << " (" << range.points
      << " points), " << NoiseLine(sweep.batch_size, tolerance, sweep.gradient_scale) << "\n"
      << Components(num_components) << ", " << sweep.num_vanishing() << " with vanishing noise\n\n"
      << StabilityTable(sweep.components, false) << "\n";
  if (sweep.num_vanishing() > 0 && verbose) out << SweepTable(sweep) << "\n";
  out << sweep.BriefReport() << "\n";
  return out.str();
}

namespace {

nlohmann::json CheckJson(const VerifyCheck& c) {
  nlohmann::json j = {{"name", c.name},
                      {"predicted", NumberOrNull(c.predicted)},
                      {"measured", NumberOrNull(c.measured)},
                      {"interval", {NumberOrNull(c.lower), NumberOrNull(c.upper)}},
                      {"verdict", ToString(c.verdict)},
                      {"regime", c.regime},
                      {"method", c.method},
                      {"allowance", NumberOrNull(c.allowance)},
                      {"steps", c.steps},
                      {"transitions", c.transitions},
                      {"detail", c.detail}};
  if (c.needed_steps_per_chain > 0) j["needed_steps_per_chain"] = c.needed_steps_per_chain;
  return j;
}

nlohmann::json ReferenceJson(const GridReference& g) {
  if (!g.status.ok()) return {{"step_size", g.step_size}, {"available", false}, {"reason", g.status.message()}};
  return {{"step_size", g.step_size},
          {"available", true},
          {"cells_per_dimension", g.cells_per_dimension},
          {"converged", g.converged},
          {"change", NumberOrNull(g.change)},
          {"leak", NumberOrNull(g.leak)},
          {"basin_mass", VectorOrNulls(Eigen::Map<const Eigen::VectorXd>(g.basin_mass.data(), g.basin_mass.size()))}};
}

// Per step size: the exact basin masses of the minima (grid) and how far the leading-order and
// Laplace predictions are from them.
nlohmann::json TheoryErrorJson(const std::vector<TheoryError>& errors) {
  nlohmann::json rows = nlohmann::json::array();
  for (const TheoryError& e : errors) {
    rows.push_back({{"step_size", e.step_size},
                    {"minima", e.minima},
                    {"exact", e.exact},
                    {"leading_order", e.leading_order},
                    {"laplace", e.laplace.empty() ? nlohmann::json() : nlohmann::json(e.laplace)},
                    {"leading_order_error", NumberOrNull(e.leading_order_error)},
                    {"laplace_error", NumberOrNull(e.laplace_error)}});
  }
  return rows;
}

std::string TheoryErrorText(const std::vector<TheoryError>& errors) {
  if (errors.empty()) return "";
  Table table({"eta", "exact masses (grid)", "leading-order error", "Laplace error"});
  for (const TheoryError& e : errors) {
    std::string masses;
    for (double m : e.exact) masses += (masses.empty() ? "" : " ") + FormatNumber(m, 4);
    table.AddRow({FormatNumber(e.step_size, 4), masses, FormatNumber(e.leading_order_error, 3),
                  e.laplace.empty() ? "-" : FormatNumber(e.laplace_error, 3)});
  }
  return "The theory against the exact stationary law of the chain (largest |predicted - exact| basin mass):\n" +
         table.ToString();
}

}  // namespace

nlohmann::json ToJson(const VerifyReport& r, const Analysis& analysis) {
  nlohmann::json checks = nlohmann::json::array();
  for (const VerifyCheck& c : r.checks) checks.push_back(CheckJson(c));
  nlohmann::json simulations = nlohmann::json::array();
  for (const SimulationResult& s : r.simulations) simulations.push_back(ToJson(s, false));
  nlohmann::json references = nlohmann::json::array();
  for (const GridReference& g : r.references) references.push_back(ReferenceJson(g));
  return {{"step_sizes", r.step_sizes},
          {"chosen_step_sizes", r.chosen_step_sizes},
          {"automatic_step_sizes", r.automatic_step_sizes},
          {"components", ToJson(analysis.components)},
          {"energies", VectorOrNulls(analysis.energies.relative)},
          {"ground_states", analysis.energies.ground_states},
          {"simulations", simulations},
          {"references", references},
          {"theory_error", TheoryErrorJson(r.theory_errors)},
          {"checks", checks},
          {"assumptions", ToJson(r.assumptions)},
          {"predictions_reliable", r.assumptions.predictions_reliable()},
          {"verdict", ToString(r.verdict)},
          {"verdict_reason", r.verdict_reason}};
}

std::string VerifyText(const Problem& problem, const VerifyReport& report) {
  std::ostringstream out;
  out << Title(problem) << "\n\nstep sizes:";
  for (std::size_t k = 0; k < report.step_sizes.size(); ++k) {
    out << " " << FormatNumber(report.step_sizes[k], 4) << (report.chosen_step_sizes[k] ? "*" : "");
  }
  out << "  (* chosen for the budget)\n";
  if (!report.simulations.empty()) {
    out << report.simulations.front().chains << " chains x " << report.simulations.front().steps << " steps per step size, "
        << report.rounds << " round" << (report.rounds == 1 ? "" : "s") << "; " << FormatNumber(report.seconds, 3)
        << " s (simulation " << FormatNumber(report.simulation_seconds, 3) << " s, grid reference "
        << FormatNumber(report.reference_seconds, 3) << " s"
        << (report.rare_event_seconds > 0 ? ", rare events " + FormatNumber(report.rare_event_seconds, 3) + " s" : "")
        << "); ended: " << report.ended_by << "\n";
  }
  out << "\n";
  Table table({"check", "method", "predicted", "measured", "95% interval", "allowance", "transitions", "verdict"});
  for (const VerifyCheck& c : report.checks) {
    table.AddRow({c.name, c.method, FormatNumber(c.predicted, 5), FormatNumber(c.measured, 5),
                  "[" + FormatNumber(c.lower, 4) + ", " + FormatNumber(c.upper, 4) + "]", FormatNumber(c.allowance, 3),
                  c.transitions >= 0 ? std::to_string(c.transitions) : "-", ToString(c.verdict)});
  }
  out << table.ToString();
  for (const VerifyCheck& c : report.checks) {
    out << "  " << c.name << ": ";
    if (c.verdict == Verdict::kSkipped) {
      out << c.detail;  // says the regime
    } else {
      out << c.regime;
      if (c.verdict != Verdict::kPass || c.name.rfind("collapse", 0) == 0) out << "; " << c.detail;
    }
    out << "\n";
  }
  if (const std::string theory = TheoryErrorText(report.theory_errors); !theory.empty()) out << "\n" << theory;
  out << "\n" << AssumptionLines(report.assumptions);
  out << "verdict: " << ToString(report.verdict)
      << (report.verdict_reason.empty() ? "" : " (" + report.verdict_reason + ")") << "\n";
  return out.str();
}

namespace {

std::string RateInterval(double lo, double hi) { return "[" + FormatNumber(lo, 5) + ", " + FormatNumber(hi, 5) + "]"; }

}  // namespace

std::string RatesText(const Problem& problem, const std::vector<RateEstimate>& estimates) {
  std::ostringstream s;
  s << "Rates of " << problem.name << " by adaptive multilevel splitting (natural logs; per SGD step)\n";
  Table table({"pair", "eta", "departures", "loop steps", "ln P(reach before return) [95%]", "ln rate [95%]",
               "ln exit steps [95%]", "direct successes"});
  for (const RateEstimate& e : estimates) {
    const std::string pair = std::to_string(e.pair.from) + " -> " + (e.pair.to >= 0 ? std::to_string(e.pair.to) : "exit");
    if (!e.complete) {
      table.AddRow({pair, FormatNumber(e.step_size, 4), "", "", "incomplete (step cap)", "", "", ""});
      continue;
    }
    table.AddRow({pair, FormatNumber(e.step_size, 4), std::to_string(e.departures.departures),
                  FormatNumber(e.departures.loop_steps, 4),
                  FormatNumber(e.log_probability, 6) + " " + RateInterval(e.log_probability_lower, e.log_probability_upper),
                  FormatNumber(e.log_rate, 6) + " " + RateInterval(e.log_rate_lower, e.log_rate_upper),
                  FormatNumber(e.log_exit_steps, 6) + " " + RateInterval(e.log_exit_lower, e.log_exit_upper),
                  std::to_string(e.departures.successes)});
  }
  s << table.ToString();
  return s.str();
}

}  // namespace ldsgd

namespace ldsgd {
namespace {

std::string Ids(const std::vector<int>& ids) {
  std::string s;
  for (int i : ids) s += (s.empty() ? "" : ", ") + std::to_string(i);
  return s;
}

}  // namespace

std::string ConvergenceText(const Problem& problem, const std::vector<CriticalComponent>& components,
                            const ConvergenceReport& report, const std::vector<double>& step_sizes,
                            const std::vector<VerifyCheck>& checks) {
  std::ostringstream out;
  out << problem.name << "\n\nglobal minima K_0: " << Ids(report.global_minima) << " (tau: first step within delta = "
      << FormatNumber(report.delta, 4) << " of them)\n\n";
  Table comps({"id", "type", "point", "E (mean time from it ~ exp(E/eta))"});
  for (std::size_t i = 0; i < components.size(); ++i) {
    const bool global = std::find(report.global_minima.begin(), report.global_minima.end(), static_cast<int>(i)) != report.global_minima.end();
    comps.AddRow({std::to_string(i), ToString(components[i].type), FormatVector(components[i].point),
                  global ? "0 (K_0)" : FormatNumber(report.exponents.exponent[i], 8)});
  }
  out << comps.ToString() << "\n";
  std::vector<std::string> header = {"start", "point", "flows to", "E(x)", "dominant"};
  for (double eta : step_sizes) header.push_back("ln E tau ~ E/eta (eta=" + FormatNumber(eta, 4) + ")");
  Table starts(header);
  for (std::size_t k = 0; k < report.starts.size(); ++k) {
    const ConvergenceStart& s = report.starts[k];
    std::vector<std::string> row = {std::to_string(k), FormatVector(s.point),
                                    s.costs.flows_to >= 0 ? std::to_string(s.costs.flows_to) : "-",
                                    s.arrived ? "0 (within delta)" : FormatNumber(s.exponent, 8),
                                    s.dominant >= 0 ? std::to_string(s.dominant) : "-"};
    for (double eta : step_sizes) row.push_back(FormatNumber(s.exponent / eta, 4));
    starts.AddRow(row);
  }
  out << starts.ToString();
  if (report.starts.size() > 1) {
    const nlohmann::json summary = ToJson(report)["summary"];
    out << "\n" << report.starts.size() << " starts: E(x) = 0 (no exponential wait) for "
        << FormatNumber(100 * summary["fraction_zero"].get<double>(), 3) << "%; quantiles of E(x) (min, 25%, median, 75%, max):";
    for (const auto& q : summary["E_quantiles"]) out << " " << (q.is_null() ? "inf" : FormatNumber(q.get<double>(), 5));
    out << "\n";
  }
  if (checks.empty()) return out.str();
  out << "\n";
  Table table({"check", "method", "predicted E(x)", "measured slope", "95% interval", "allowance", "verdict"});
  for (const VerifyCheck& c : checks) {
    table.AddRow({c.name, c.method, FormatNumber(c.predicted, 5), FormatNumber(c.measured, 5),
                  "[" + FormatNumber(c.lower, 4) + ", " + FormatNumber(c.upper, 4) + "]", FormatNumber(c.allowance, 3),
                  ToString(c.verdict)});
  }
  out << table.ToString();
  for (const VerifyCheck& c : checks) {
    out << "  " << c.name << ": " << (c.verdict == Verdict::kSkipped ? c.detail : c.regime + "; " + c.detail) << "\n";
  }
  out << "verdict: " << ToString(ConvergenceVerdict(checks)) << "\n";
  return out.str();
}

Verdict ConvergenceVerdict(const std::vector<VerifyCheck>& checks) {
  bool inconclusive = false, decided = false;
  for (const VerifyCheck& c : checks) {
    if (c.verdict == Verdict::kFail) return Verdict::kFail;
    inconclusive = inconclusive || c.verdict == Verdict::kInconclusive;
    decided = decided || c.verdict == Verdict::kPass;
  }
  return inconclusive || !decided ? Verdict::kInconclusive : Verdict::kPass;
}

nlohmann::json ConvergenceJson(const Problem& problem, const std::vector<CriticalComponent>& components,
                               const ConvergenceReport& report, const std::vector<double>& step_sizes,
                               const std::vector<VerifyCheck>* checks) {
  nlohmann::json j = ToJson(report);
  j["problem"] = problem.name;
  j["step_sizes"] = step_sizes;
  nlohmann::json types = nlohmann::json::array();
  for (const CriticalComponent& c : components) types.push_back(ToString(c.type));
  j["component_types"] = types;
  if (checks != nullptr) {
    nlohmann::json list = nlohmann::json::array();
    for (const VerifyCheck& c : *checks) {
      const auto num = [](double v) { return std::isfinite(v) ? nlohmann::json(v) : nlohmann::json(nullptr); };
      list.push_back({{"name", c.name}, {"method", c.method}, {"predicted", num(c.predicted)}, {"measured", num(c.measured)},
                      {"interval", {num(c.lower), num(c.upper)}}, {"allowance", num(c.allowance)}, {"regime", c.regime},
                      {"detail", c.detail}, {"verdict", ToString(c.verdict)}, {"steps", c.steps}});
    }
    j["checks"] = list;
    j["verdict"] = ToString(ConvergenceVerdict(*checks));
  }
  return j;
}

}  // namespace ldsgd
