#include "solver/theory/convergence.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "solver/io/csv_table.h"
#include "solver/io/input_error.h"
#include "solver/numerics/low_discrepancy.h"
#include "solver/numerics/parallel.h"

namespace ldsgd {
namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

nlohmann::json Number(double v) { return std::isfinite(v) ? nlohmann::json(v) : nlohmann::json(nullptr); }

nlohmann::json Vector(const Eigen::VectorXd& v) {
  nlohmann::json out = nlohmann::json::array();
  for (Eigen::Index k = 0; k < v.size(); ++k) out.push_back(Number(v[k]));
  return out;
}

// kDeltaFraction of the distance from K_0 to the nearest other component.
double DefaultDelta(const std::vector<CriticalComponent>& components, const std::vector<int>& global_minima) {
  double gap = kInf;
  for (int k = 0; k < static_cast<int>(components.size()); ++k) {
    if (std::find(global_minima.begin(), global_minima.end(), k) != global_minima.end()) continue;
    for (const Eigen::VectorXd& q : components[k].points) gap = std::min(gap, DistanceToGlobalMinima(components, global_minima, q));
  }
  return std::isfinite(gap) ? kDeltaFraction * gap : 1.0;
}

// E(x) and its dominant term from the start's restricted costs.
void Exponent(const HittingExponents& e, ConvergenceStart* s) {
  s->exponent = 0.0;
  s->dominant = -1;
  if (s->arrived) return;
  for (Eigen::Index i = 0; i < e.exponent.size(); ++i) {
    const double term = e.exponent[i] - s->costs.restricted[i];  // +inf - +inf never: B0 = inf on K_0 only
    if (std::isfinite(s->costs.restricted[i]) && term > s->exponent) {
      s->exponent = term;
      s->dominant = static_cast<int>(i);
    }
  }
}

}  // namespace

Status ConvergenceOptions::Validate() const {
  if (!(delta >= 0) || !std::isfinite(delta) || num_threads < 0) {
    return Status(StatusCode::kInvalidOptions, "Invalid configuration. delta >= 0 and finite, num_threads >= 0");
  }
  return Status::Ok();
}

std::vector<Eigen::VectorXd> BoxStarts(const Problem& problem, int count) {
  std::vector<Eigen::VectorXd> out;
  const Eigen::VectorXd& lo = problem.domain.lower;
  const Eigen::VectorXd span = problem.domain.upper - lo;
  for (int k = 0; k < count; ++k) out.push_back(lo + span.cwiseProduct(KroneckerPoint(problem.dimension(), k)));
  return out;
}

std::string CheckStart(const Problem& problem, const Eigen::VectorXd& x) {
  if (x.size() != problem.dimension()) {
    return "has " + std::to_string(x.size()) + " coordinates, the problem has " + std::to_string(problem.dimension());
  }
  if (!x.allFinite()) return "is not finite";
  if (!problem.domain.Contains(x)) return "lies outside the problem's box";
  return "";
}

std::vector<Eigen::VectorXd> ReadStarts(const Problem& problem, const std::string& path) {
  const SampleTable table = ReadCsv(path);
  std::vector<int> column;
  for (const std::string& v : problem.variables) {
    const auto it = std::find(table.columns.begin(), table.columns.end(), v);
    if (it == table.columns.end()) throw InputError(path, "columns", "no column named '" + v + "' (the problem's variables name the columns)");
    column.push_back(static_cast<int>(it - table.columns.begin()));
  }
  if (table.rows == 0) throw InputError(path, "rows", "no start in the file");
  std::vector<Eigen::VectorXd> out;
  for (int r = 0; r < table.rows; ++r) {
    Eigen::VectorXd x(problem.dimension());
    for (int i = 0; i < problem.dimension(); ++i) x[i] = table.values[static_cast<std::size_t>(column[i]) * table.rows + r];
    if (const std::string why = CheckStart(problem, x); !why.empty()) {
      throw InputError(path, "row " + std::to_string(r + 1), "the start " + why);
    }
    out.push_back(x);
  }
  return out;
}

double DistanceToGlobalMinima(const std::vector<CriticalComponent>& components, const std::vector<int>& global_minima,
                              const Eigen::VectorXd& x) {
  double d = kInf;
  for (int g : global_minima) {
    for (const Eigen::VectorXd& q : components[g].points) d = std::min(d, (q - x).norm());
  }
  return d;
}

ConvergenceReport AnalyzeConvergence(const Problem& problem, const std::vector<CriticalComponent>& components,
                                     const TransitionCosts& costs, const std::vector<Eigen::VectorXd>& starts,
                                     const ConvergenceOptions& options) {
  ConvergenceReport out;
  if (out.status = options.Validate(); !out.status.ok()) return out;
  if (costs.global_minima.empty() || costs.restricted.rows() != static_cast<Eigen::Index>(components.size())) {
    out.status = Status(StatusCode::kInvalidInput, "no global minimum among the components, or no restricted costs");
    return out;
  }
  out.global_minima = costs.global_minima;
  out.restricted = costs.restricted;
  out.delta = options.delta > 0 ? options.delta : DefaultDelta(components, out.global_minima);
  out.exponents = ComputeHittingExponents(costs.restricted, out.global_minima);
  if (out.status = out.exponents.status; !out.status.ok()) return out;
  // What reaching K_k can add to E(x): gain[k] = max_i [E(i) - B0_ki]_+ (point_costs.h prunes by it).
  // A reachable K_i with E(i) = +inf (a trap) makes gain[k] = +inf, so that k is never pruned.
  const int p = static_cast<int>(components.size());
  Eigen::VectorXd gain = Eigen::VectorXd::Zero(p);
  for (int k = 0; k < p; ++k) {
    for (int i = 0; i < p; ++i) {
      const double b = costs.restricted(k, i);
      if (std::isfinite(b)) gain[k] = std::max(gain[k], out.exponents.exponent[i] - b);
    }
  }
  out.starts.resize(starts.size());
  ParallelFor(static_cast<int>(starts.size()), options.num_threads, [&](int n) {
    ConvergenceStart& s = out.starts[n];
    s.point = starts[n];
    s.arrived = DistanceToGlobalMinima(components, out.global_minima, s.point) <= out.delta;
    s.costs = ComputePointCosts(problem, components, costs, s.point, options.costs, &gain);
    if (s.costs.status.ok()) Exponent(out.exponents, &s);
  });
  for (const ConvergenceStart& s : out.starts) {
    if (!s.costs.status.ok()) return out.status = s.costs.status, out;
  }
  out.status = Status::Ok();
  return out;
}

nlohmann::json ToJson(const ConvergenceReport& r) {
  nlohmann::json j;
  j["global_minima"] = r.global_minima;
  j["delta"] = r.delta;
  nlohmann::json b = nlohmann::json::array();
  for (Eigen::Index i = 0; i < r.restricted.rows(); ++i) b.push_back(Vector(r.restricted.row(i).transpose()));
  j["restricted_costs"] = b;
  j["E_components"] = Vector(r.exponents.exponent);
  j["E_tree"] = Number(r.exponents.tree_energy);
  j["E_forest"] = Vector(r.exponents.forest_energy);
  nlohmann::json starts = nlohmann::json::array();
  std::vector<double> values;
  int zero = 0;
  for (const ConvergenceStart& s : r.starts) {
    nlohmann::json e;
    e["point"] = std::vector<double>(s.point.data(), s.point.data() + s.point.size());
    e["flows_to"] = s.costs.flows_to >= 0 ? nlohmann::json(s.costs.flows_to) : nlohmann::json(nullptr);
    e["E"] = Number(s.exponent);
    e["dominant"] = s.dominant >= 0 ? nlohmann::json(s.dominant) : nlohmann::json(nullptr);
    e["arrived"] = s.arrived;
    starts.push_back(e);
    values.push_back(s.exponent);
    zero += s.exponent == 0.0;
  }
  j["starts"] = starts;
  std::sort(values.begin(), values.end());
  nlohmann::json q = nlohmann::json::array();
  for (double f : {0.0, 0.25, 0.5, 0.75, 1.0}) {
    if (!values.empty()) q.push_back(Number(values[static_cast<std::size_t>(std::lround(f * (values.size() - 1)))]));
  }
  j["summary"] = {{"starts", r.starts.size()},
                  {"fraction_zero", r.starts.empty() ? nlohmann::json(nullptr) : nlohmann::json(static_cast<double>(zero) / r.starts.size())},
                  {"E_quantiles", q}};
  return j;
}

}  // namespace ldsgd
