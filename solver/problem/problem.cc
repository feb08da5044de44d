#include "solver/problem/problem.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include <Eigen/Cholesky>
#include <nlohmann/json.hpp>

#include "solver/objective/builtin_objectives.h"
#include "solver/io/csv_table.h"
#include "solver/objective/expression_objective.h"
#include "solver/io/input_error.h"
#include "solver/io/input_text.h"
#include "solver/numerics/cluster.h"
#include "solver/numerics/low_discrepancy.h"
#include "solver/numerics/philox_normals.h"

namespace ldsgd {
namespace {

using json = nlohmann::json;

// Reads fields of one JSON object, naming each by its path ("noise.covariance[0][1]") in errors.
class Reader {
 public:
  explicit Reader(std::string source) : source_(std::move(source)) {}

  [[noreturn]] void Fail(const std::string& field, const std::string& detail) const {
    throw InputError(source_, field, detail);
  }

  void RequireObject(const json& j, const std::string& field) const {
    if (!j.is_object()) Fail(field, std::string("must be an object, got ") + JsonTypeName(j));
  }

  // Rejects fields outside `allowed`: a misspelt optional field must not be ignored silently.
  void CheckKeys(const json& j, const std::string& path, const std::set<std::string>& allowed) const {
    for (const auto& item : j.items()) {
      if (!allowed.count(item.key())) {
        std::string list;
        for (const std::string& a : allowed) list += (list.empty() ? "" : ", ") + a;
        Fail(Join(path, item.key()), "unknown field (expected one of: " + list + ")");
      }
    }
  }

  static std::string Join(const std::string& path, const std::string& key) {
    return path.empty() ? key : path + "." + key;
  }

  const json& Require(const json& j, const std::string& path, const std::string& key) const {
    if (!j.contains(key)) Fail(Join(path, key), "missing");
    return j.at(key);
  }

  double Number(const json& j, const std::string& field) const {
    if (!j.is_number()) Fail(field, std::string("must be a number, got ") + JsonTypeName(j));
    const double v = j.get<double>();
    if (!std::isfinite(v)) Fail(field, "must be finite");
    return v;
  }

  std::string String(const json& j, const std::string& field) const {
    if (!j.is_string()) Fail(field, std::string("must be a string, got ") + JsonTypeName(j));
    return j.get<std::string>();
  }

  const json& Array(const json& j, const std::string& field) const {
    if (!j.is_array()) Fail(field, std::string("must be an array, got ") + JsonTypeName(j));
    return j;
  }

  Eigen::VectorXd Vector(const json& j, const std::string& field, int size) const {
    Array(j, field);
    if (static_cast<int>(j.size()) != size) {
      Fail(field, "must have " + std::to_string(size) + " entries (one per variable), got " +
                      std::to_string(j.size()));
    }
    Eigen::VectorXd v(size);
    for (int i = 0; i < size; ++i) v[i] = Number(j[i], Index(field, i));
    return v;
  }

  // A number stands for the same value in every coordinate (a box or a scale in d = 100).
  Eigen::VectorXd VectorOrNumber(const json& j, const std::string& field, int size) const {
    if (j.is_number()) return Eigen::VectorXd::Constant(size, Number(j, field));
    return Vector(j, field, size);
  }

  int Integer(const json& j, const std::string& field, int lo, int hi) const {
    const double v = Number(j, field);
    if (v != std::floor(v) || v < lo || v > hi) {
      Fail(field, "must be an integer in [" + std::to_string(lo) + ", " + std::to_string(hi) + "]");
    }
    return static_cast<int>(v);
  }

  static std::string Index(const std::string& field, std::size_t i) {
    return field + "[" + std::to_string(i) + "]";
  }

  // Parses an expression; errors name the field and the character position.
  ExpressionGraph::Node Expression(ExpressionGraph& graph, const std::string& text,
                                   const std::string& field) const {
    try {
      return graph.Parse(text);
    } catch (const ExpressionParseError& e) {
      Fail(field, std::string(e.what()) + " at position " + std::to_string(e.position()) +
                      " of \"" + text + "\"");
    }
  }

  const std::string& source() const { return source_; }

 private:
  std::string source_;
};

bool IsIdentifier(const std::string& s) {
  if (s.empty() || !(std::isalpha(static_cast<unsigned char>(s[0])) || s[0] == '_')) return false;
  for (char c : s) {
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_')) return false;
  }
  return true;
}

bool IsFunctionName(const std::string& s) {
  static const std::set<std::string> kFunctions = {"exp",  "log",  "sqrt", "sin",  "cos",
                                                   "tan",  "atan", "sinh", "cosh", "tanh"};
  return kFunctions.count(s) > 0;
}

std::vector<std::string> ParseVariables(const Reader& r, const json& j) {
  r.Array(j, "variables");
  if (j.empty()) r.Fail("variables", "must name at least one variable");
  std::vector<std::string> names;
  std::set<std::string> seen;
  for (std::size_t i = 0; i < j.size(); ++i) {
    const std::string field = Reader::Index("variables", i);
    std::string name = r.String(j[i], field);
    if (!IsIdentifier(name)) r.Fail(field, "'" + name + "' is not a valid name");
    if (IsFunctionName(name)) r.Fail(field, "'" + name + "' is a function name");
    if (!seen.insert(name).second) r.Fail(field, "duplicate variable '" + name + "'");
    names.push_back(std::move(name));
  }
  return names;
}

// Adds l2/2 |x|^2 symbolically.
ExpressionGraph::Node AddL2(ExpressionGraph& g, ExpressionGraph::Node f, double l2) {
  if (l2 == 0.0) return f;
  ExpressionGraph::Node s = g.Constant(0.0);
  for (int i = 0; i < g.num_variables(); ++i) s = g.Add(s, g.Mul(g.Input(i), g.Input(i)));
  return g.Add(f, g.Mul(g.Constant(0.5 * l2), s));
}

Noise ParseNoise(const Reader& r, const json& j, Problem& p) {
  r.RequireObject(j, "noise");
  const std::string type = r.String(r.Require(j, "noise", "type"), "noise.type");
  const int d = p.dimension();
  if (type == "gaussian") {
    r.CheckKeys(j, "noise", {"type", "sigma", "covariance"});
    const bool has_sigma = j.contains("sigma"), has_cov = j.contains("covariance");
    if (has_sigma == has_cov) r.Fail("noise", "gaussian noise needs exactly one of 'sigma' and 'covariance'");
    if (has_sigma) {
      const double sigma = r.Number(j["sigma"], "noise.sigma");
      if (!(sigma > 0.0)) r.Fail("noise.sigma", "must be positive");
      return Noise::Gaussian(std::make_shared<Covariance>(Covariance::Isotropic(d, sigma)));
    }
    const json& m = r.Array(j["covariance"], "noise.covariance");
    if (static_cast<int>(m.size()) != d) {
      r.Fail("noise.covariance", "must be " + std::to_string(d) + " x " + std::to_string(d) +
                                     " (one row per variable), got " + std::to_string(m.size()) + " rows");
    }
    ExpressionGraph graph(p.variables);
    std::vector<ExpressionGraph::Node> entries(d * d);
    bool constant = true;
    for (int i = 0; i < d; ++i) {
      const std::string row_field = Reader::Index("noise.covariance", i);
      const json& row = r.Array(m[i], row_field);
      if (static_cast<int>(row.size()) != d) {
        r.Fail(row_field, "must have " + std::to_string(d) + " entries, got " + std::to_string(row.size()));
      }
      for (int k = 0; k < d; ++k) {
        const std::string field = Reader::Index(row_field, k);
        if (row[k].is_number()) {
          entries[i * d + k] = graph.Constant(r.Number(row[k], field));
        } else if (row[k].is_string()) {
          entries[i * d + k] = r.Expression(graph, row[k].get<std::string>(), field);
        } else {
          r.Fail(field, std::string("must be a number or an expression string, got ") + JsonTypeName(row[k]));
        }
        constant = constant && graph.IsConstant(entries[i * d + k]);
      }
    }
    // Symmetry: structurally equal entries are the same node (hash-consing); others, such as
    // "0.1*x*y" and "0.1*y*x", must agree to rounding at sample points of the box. The upper entry
    // then serves for both, so Sigma(x) is exactly symmetric.
    for (int i = 0; i < d; ++i) {
      for (int k = 0; k < i; ++k) {
        const ExpressionGraph::Node lower = entries[i * d + k], upper = entries[k * d + i];
        if (lower == upper) continue;
        const Program both = graph.Compile({lower, upper});
        std::vector<double> work(both.workspace_size());
        for (long n = 0; n < 64; ++n) {
          const Eigen::VectorXd x =
              p.domain.lower + KroneckerPoint(d, n).cwiseProduct(p.domain.upper - p.domain.lower);
          double v[2];
          both.Evaluate(x.data(), v, work.data());
          // 1e-12 relative: the two forms differ only by rounding in a different order.
          if (!(std::abs(v[0] - v[1]) <= 1e-12 * std::max({1.0, std::abs(v[0]), std::abs(v[1])}))) {
            r.Fail(Reader::Index(Reader::Index("noise.covariance", i), k),
                   "covariance must be symmetric: differs from entry [" + std::to_string(k) + "][" +
                       std::to_string(i) + "]");
          }
        }
        entries[i * d + k] = upper;
      }
    }
    if (constant) {
      Eigen::MatrixXd s(d, d);
      for (int e = 0; e < d * d; ++e) s(e / d, e % d) = graph.ConstantValue(entries[e]);
      if (Noise::Classify(s, Eigen::VectorXd()) != Definiteness::kPositive) {
        r.Fail("noise.covariance", "must be positive definite");
      }
      return Noise::Gaussian(std::make_shared<Covariance>(Covariance::Constant(s)));
    }
    return Noise::Gaussian(std::make_shared<Covariance>(Covariance::StateDependent(graph, entries)));
  }
  if (type == "finite_sum") {
    r.CheckKeys(j, "noise", {"type", "batch_size", "approximation"});
    const json& b = r.Require(j, "noise", "batch_size");
    const double batch = r.Number(b, "noise.batch_size");
    if (batch != std::floor(batch) || batch < 1 || batch > 1e9) {
      r.Fail("noise.batch_size", "must be an integer >= 1");
    }
    NoiseApproximation approximation = NoiseApproximation::kExact;
    if (j.contains("approximation")) {
      const std::string a = r.String(j["approximation"], "noise.approximation");
      if (!FromString(a, &approximation)) {
        r.Fail("noise.approximation", "must be \"exact\" or \"gaussian\", got \"" + a + "\"");
      }
    }
    if (!p.samples) {
      r.Fail("noise.type", "finite_sum noise needs a finite-sum objective {\"sum\": [...]} or "
                           "{\"per_sample\": EXPR, \"data\": FILE}");
    }
    return Noise::FiniteSum(p.samples, static_cast<int>(batch), approximation);
  }
  r.Fail("noise.type", "must be \"gaussian\" or \"finite_sum\", got \"" + type + "\"");
}

// Opens the CSV named by `field` (relative to the problem file's folder).
SampleTable ReadDataFile(const Reader& r, const json& obj, const std::string& field, std::string* resolved_path) {
  const std::string file = r.String(r.Require(obj, "objective", "data"), field);
  if (file.empty()) r.Fail(field, "must name a CSV file");
  std::filesystem::path path(file);
  if (path.is_relative()) path = std::filesystem::path(r.source()).parent_path() / path;
  const std::string resolved = path.lexically_normal().string();
  // The root's answer: in an MPI job only the root reads input files (input_text.h).
  Cluster& cluster = Cluster::Get();
  const bool readable = cluster.RootValue(cluster.is_root() && std::ifstream(resolved) ? 1.0 : 0.0) != 0.0;
  if (!readable) r.Fail(field, "cannot open '" + resolved + "'");
  if (resolved_path != nullptr) *resolved_path = resolved;
  return ReadCsv(resolved);
}

// {"per_sample": EXPR, "data": FILE}: f = mean over the rows of EXPR, the CSV's columns as
// per-sample constants; FILE relative to the problem file's folder.
void ParseDataObjective(const Reader& r, const json& obj, Problem& p) {
  r.CheckKeys(obj, "objective", {"per_sample", "data"});
  const std::string text =
      r.String(r.Require(obj, "objective", "per_sample"), "objective.per_sample");
  std::string resolved;
  const SampleTable table = ReadDataFile(r, obj, "objective.data", &resolved);
  for (const std::string& column : table.columns) {
    if (IsFunctionName(column)) {
      throw InputError(resolved, "", "column '" + column + "' has the name of a function");
    }
    if (std::find(p.variables.begin(), p.variables.end(), column) != p.variables.end()) {
      r.Fail("variables", "'" + column + "' is also a column of " + resolved +
                              " (variables and columns need distinct names)");
    }
  }
  ExpressionGraph graph(p.variables, table.columns);
  ExpressionGraph::Node f;
  try {
    f = graph.Parse(text);
  } catch (const ExpressionParseError& e) {
    // An unknown symbol is most often a column the file lacks: list what there is.
    std::string names;
    for (const std::string& v : p.variables) names += (names.empty() ? "" : ", ") + v;
    std::string columns;
    for (const std::string& c : table.columns) columns += (columns.empty() ? "" : ", ") + c;
    r.Fail("objective.per_sample", std::string(e.what()) + " at position " +
                                       std::to_string(e.position()) + " of \"" + text +
                                       "\" (variables: " + names + "; columns of " + resolved +
                                       ": " + columns + ")");
  }
  p.samples = MakeDataSum(graph, AddL2(graph, f, p.l2), table);
  p.objective = MeanObjective(p.samples);
}

// Rows of the named columns of `table` (names.size() x rows).
Eigen::MatrixXd Columns(const Reader& r, const json& j, const std::string& field, const SampleTable& table,
                        int expected) {
  r.Array(j, field);
  if (static_cast<int>(j.size()) != expected) {
    r.Fail(field, "must name " + std::to_string(expected) + " columns, got " + std::to_string(j.size()));
  }
  Eigen::MatrixXd m(expected, table.rows);
  for (int c = 0; c < expected; ++c) {
    const std::string name = r.String(j[c], Reader::Index(field, c));
    const auto it = std::find(table.columns.begin(), table.columns.end(), name);
    if (it == table.columns.end()) r.Fail(Reader::Index(field, c), "no column '" + name + "' in " + table.source);
    const long col = it - table.columns.begin();
    for (int k = 0; k < table.rows; ++k) m(c, k) = table.values[col * table.rows + k];
  }
  return m;
}

// {"network": [n_0, ..., n_L], "activation", "loss", "data", "inputs", "targets", "standardize"}.
void ParseNetworkObjective(const Reader& r, const json& root, const json& obj, Problem& p) {
  r.CheckKeys(obj, "objective", {"network", "activation", "loss", "data", "inputs", "targets", "standardize"});
  NetworkSpec spec;
  const json& layers = r.Array(obj["network"], "objective.network");
  for (std::size_t l = 0; l < layers.size(); ++l) {
    spec.layers.push_back(r.Integer(layers[l], Reader::Index("objective.network", l), 1, 1000000));
  }
  const std::string activation = r.String(r.Require(obj, "objective", "activation"), "objective.activation");
  if (activation == "relu") {
    r.Fail("objective.activation", "relu is not twice differentiable at 0 and ldsgd needs Hessians; use "
                                   "\"softplus\" (the smooth relu)");
  }
  if (!FromString(activation, &spec.activation)) {
    r.Fail("objective.activation", "must be \"tanh\", \"logistic\" or \"softplus\", got \"" + activation + "\"");
  }
  const std::string loss = r.String(r.Require(obj, "objective", "loss"), "objective.loss");
  if (!FromString(loss, &spec.loss)) {
    r.Fail("objective.loss", "must be \"squared\", \"logistic\" or \"softmax_cross_entropy\", got \"" + loss + "\"");
  }
  spec.l2 = p.l2;
  if (std::string why = spec.Validate(); !why.empty()) {
    const std::size_t colon = why.find(':');
    const std::string key = why.substr(0, colon);
    r.Fail(key == "layers" ? "objective.network" : key == "l2" ? "l2" : "objective." + key, why.substr(colon + 2));
  }
  const SampleTable table = ReadDataFile(r, obj, "objective.data", nullptr);
  const bool classes = spec.loss != NetworkLoss::kSquared;
  NetworkData data;
  data.source = table.source;
  data.inputs = Columns(r, r.Require(obj, "objective", "inputs"), "objective.inputs", table, spec.layers.front());
  data.targets = Columns(r, r.Require(obj, "objective", "targets"), "objective.targets", table,
                         classes ? 1 : spec.layers.back());
  const int labels = spec.loss == NetworkLoss::kLogistic ? spec.layers.back() + 1 : spec.layers.back();
  for (int k = 0; classes && k < table.rows; ++k) {
    const double y = data.targets(0, k);
    if (y != std::floor(y) || y < 0 || y >= labels) {
      throw InputError(table.source, "", "row " + std::to_string(k + 1) + ": target " + ShortestSpelling(y) +
                                             " is not a class in 0.." + std::to_string(labels - 1));
    }
  }
  if (obj.contains("standardize") && (!obj["standardize"].is_boolean())) r.Fail("objective.standardize", "must be true or false");
  if (obj.value("standardize", false)) {
    // z-scores with the dataset's own mean and (population) standard deviation, as a user would
    // preprocess before training; a constant column is only centred.
    for (int i = 0; i < data.inputs.rows(); ++i) {
      auto row = data.inputs.row(i);
      const double mean = row.mean();
      const double sd = std::sqrt((row.array() - mean).square().mean());
      row = (row.array() - mean) / (sd > 0 ? sd : 1.0);
    }
  }
  const std::vector<std::string> names = spec.ParameterNames();
  if (root.contains("variables")) {
    p.variables = ParseVariables(r, root["variables"]);
    if (p.variables.size() != names.size()) {
      r.Fail("variables", "the network has " + std::to_string(names.size()) + " parameters, got " +
                              std::to_string(p.variables.size()) + " names");
    }
  } else {
    p.variables = names;
  }
  p.network = std::make_shared<Network>(std::move(spec), std::move(data));
  p.samples = p.network;
  p.objective = MeanObjective(p.samples);
}

void ParseObjective(const Reader& r, const json& root, Problem& p) {
  const json& obj = r.Require(root, "", "objective");
  const bool has_variables = root.contains("variables");
  if (obj.is_object() && obj.contains("builtin")) {
    r.CheckKeys(obj, "objective", {"builtin", "params"});
    const std::string name = r.String(obj["builtin"], "objective.builtin");
    if (FindBuiltin(name) == nullptr) {
      std::string list;
      for (const BuiltinInfo& b : BuiltinCatalog()) list += (list.empty() ? "" : ", ") + b.name;
      r.Fail("objective.builtin", "unknown builtin '" + name + "' (known: " + list + ")");
    }
    std::map<std::string, double> params;
    if (obj.contains("params")) {
      r.RequireObject(obj["params"], "objective.params");
      for (const auto& item : obj["params"].items()) {
        params[item.key()] = r.Number(item.value(), "objective.params." + item.key());
      }
    }
    if (std::string why = ValidateBuiltinParams(name, params); !why.empty()) {
      r.Fail("objective.params", why);
    }
    const std::vector<std::string> names = BuiltinVariables(name, params);
    if (has_variables) {
      p.variables = ParseVariables(r, root["variables"]);
      if (p.variables.size() != names.size()) {
        r.Fail("variables", "builtin " + name + " has " + std::to_string(names.size()) +
                                " variables, got " + std::to_string(p.variables.size()));
      }
    } else {
      p.variables = names;
    }
    std::unique_ptr<Objective> f = MakeBuiltin(name, params);
    if (p.l2 != 0.0) f = std::make_unique<L2Regularized>(std::move(f), p.l2);
    p.objective = std::move(f);
    return;
  }
  if (obj.is_object() && obj.contains("network")) {
    ParseNetworkObjective(r, root, obj, p);
    return;
  }
  if (!has_variables) r.Fail("variables", "missing (required with an expression objective)");
  p.variables = ParseVariables(r, root["variables"]);
  ExpressionGraph graph(p.variables);
  if (obj.is_string()) {
    const std::string text = obj.get<std::string>();
    const ExpressionGraph::Node f = AddL2(graph, r.Expression(graph, text, "objective"), p.l2);
    p.objective = std::make_shared<ExpressionObjective>(graph, f, "expression " + text);
    return;
  }
  if (obj.is_object() && obj.contains("sum")) {
    r.CheckKeys(obj, "objective", {"sum"});
    const json& terms = r.Array(obj["sum"], "objective.sum");
    if (terms.empty()) r.Fail("objective.sum", "must have at least one term");
    ExpressionGraph::Node total = graph.Constant(0.0);
    std::vector<std::shared_ptr<const Objective>> objectives;
    for (std::size_t k = 0; k < terms.size(); ++k) {
      const std::string field = Reader::Index("objective.sum", k);
      const std::string text = r.String(terms[k], field);
      const ExpressionGraph::Node term = r.Expression(graph, text, field);
      total = graph.Add(total, term);
      objectives.push_back(std::make_shared<ExpressionObjective>(
          graph, AddL2(graph, term, p.l2), "term " + std::to_string(k) + ": " + text));
    }
    p.samples = MakeTermSum(std::move(objectives));
    const ExpressionGraph::Node mean =
        AddL2(graph, graph.Mul(graph.Constant(1.0 / static_cast<double>(terms.size())), total), p.l2);
    p.objective = std::make_shared<ExpressionObjective>(
        graph, mean, "mean of " + std::to_string(terms.size()) + " terms");
    return;
  }
  if (obj.is_object() && (obj.contains("per_sample") || obj.contains("data"))) {
    ParseDataObjective(r, obj, p);
    return;
  }
  r.Fail("objective", std::string("must be an expression string, {\"builtin\": NAME, \"params\": "
                                  "{...}}, {\"sum\": [EXPR, ...]} or {\"per_sample\": EXPR, "
                                  "\"data\": FILE}, got ") + JsonTypeName(obj));
}

// Box points where f, its gradient and its Hessian must be finite: the centre and a low-discrepancy
// set. An objective that is infinite or undefined there (1/0, log of a negative, sqrt(x) on x < 0)
// has no landscape to analyse; a pole between the points (f unbounded below) is for the
// assumption checks (bounded_below), which look for it where f is lowest.
constexpr int kFiniteCheckPoints = 64;

void CheckFiniteOnBox(const Reader& r, const Problem& p) {
  const int d = p.dimension();
  Eigen::VectorXd g(d);
  Eigen::MatrixXd h(d, d);
  for (long n = -1; n < kFiniteCheckPoints; ++n) {
    const Eigen::VectorXd x = n < 0 ? Eigen::VectorXd(0.5 * (p.domain.lower + p.domain.upper))
                                    : Eigen::VectorXd(p.domain.lower + KroneckerPoint(d, n).cwiseProduct(
                                                                           p.domain.upper - p.domain.lower));
    const double f = p.objective->Hessian(x.data(), g.data(), h.data());
    if (std::isfinite(f) && g.allFinite() && h.allFinite()) continue;
    std::string where = "(";
    for (int i = 0; i < d; ++i) where += (i ? ", " : "") + ShortestSpelling(x[i]);
    const std::string what = !std::isfinite(f) ? "f = " + ShortestSpelling(f)
                                               : (!g.allFinite() ? "its gradient is not finite" : "its Hessian is not finite");
    r.Fail("objective", "not finite at " + where + "): " + what + " (f must be finite and smooth on the whole box)");
  }
}

// "search.init": {"distribution": "uniform", "lower", "upper"} (default: the domain) or
// {"distribution": "normal", "mean", "std"}; each a number or one entry per variable.
InitDistribution ParseInit(const Reader& r, const json& j, const Problem& p) {
  InitDistribution init;
  init.a = p.domain.lower;
  init.b = p.domain.upper;
  if (j.is_null()) return init;
  r.RequireObject(j, "search.init");
  const std::string kind = r.String(r.Require(j, "search.init", "distribution"), "search.init.distribution");
  if (!FromString(kind, &init.kind)) r.Fail("search.init.distribution", "must be \"uniform\" or \"normal\", got \"" + kind + "\"");
  const int d = p.dimension();
  if (init.kind == InitKind::kUniform) {
    r.CheckKeys(j, "search.init", {"distribution", "lower", "upper"});
    if (j.contains("lower")) init.a = r.VectorOrNumber(j["lower"], "search.init.lower", d);
    if (j.contains("upper")) init.b = r.VectorOrNumber(j["upper"], "search.init.upper", d);
    for (int i = 0; i < d; ++i) {
      if (!(init.a[i] < init.b[i])) r.Fail(Reader::Index("search.init.upper", i), "must be greater than search.init.lower");
    }
  } else {
    r.CheckKeys(j, "search.init", {"distribution", "mean", "std"});
    init.a = r.VectorOrNumber(r.Require(j, "search.init", "mean"), "search.init.mean", d);
    init.b = r.VectorOrNumber(r.Require(j, "search.init", "std"), "search.init.std", d);
    for (int i = 0; i < d; ++i) {
      if (!(init.b[i] > 0)) r.Fail(Reader::Index("search.init.std", i), "must be positive");
    }
  }
  return init;
}

SearchSpec ParseSearch(const Reader& r, const json& root, const Problem& p) {
  SearchSpec spec;
  spec.init = ParseInit(r, json(), p);
  if (!root.contains("search")) return spec;
  const json& j = root["search"];
  r.RequireObject(j, "search");
  r.CheckKeys(j, "search", {"method", "starts", "neighbours", "seed", "init"});
  const std::string method = r.String(r.Require(j, "search", "method"), "search.method");
  if (!FromString(method, &spec.method)) r.Fail("search.method", "must be \"box\" or \"descent\", got \"" + method + "\"");
  if (spec.method == SearchMethod::kBox) {
    r.CheckKeys(j, "search", {"method"});
    return spec;
  }
  if (j.contains("starts")) spec.starts = r.Integer(j["starts"], "search.starts", 2, 1000000);
  if (j.contains("neighbours")) spec.neighbours = r.Integer(j["neighbours"], "search.neighbours", 1, 1000);
  if (j.contains("seed")) spec.seed = static_cast<std::uint64_t>(r.Integer(j["seed"], "search.seed", 0, 2147483647));
  if (j.contains("init")) spec.init = ParseInit(r, j["init"], p);
  return spec;
}

Problem Parse(const json& root, const std::string& source) {
  const Reader r(source);
  r.RequireObject(root, "");
  r.CheckKeys(root, "", {"name", "variables", "objective", "l2", "noise", "domain", "step_sizes", "search"});
  Problem p;
  p.source = source;
  if (root.contains("name")) p.name = r.String(root["name"], "name");
  if (root.contains("l2")) {
    p.l2 = r.Number(root["l2"], "l2");
    if (p.l2 < 0.0) r.Fail("l2", "must be >= 0");
  }
  ParseObjective(r, root, p);
  const int d = p.dimension();

  const json& domain = r.Require(root, "", "domain");
  r.RequireObject(domain, "domain");
  r.CheckKeys(domain, "domain", {"lower", "upper"});
  p.domain.lower = r.VectorOrNumber(r.Require(domain, "domain", "lower"), "domain.lower", d);
  p.domain.upper = r.VectorOrNumber(r.Require(domain, "domain", "upper"), "domain.upper", d);
  for (int i = 0; i < d; ++i) {
    if (!(p.domain.lower[i] < p.domain.upper[i])) {
      r.Fail(Reader::Index("domain.upper", i),
             "must be greater than domain.lower[" + std::to_string(i) + "] (variable '" +
                 p.variables[i] + "')");
    }
  }

  p.search = ParseSearch(r, root, p);
  CheckFiniteOnBox(r, p);
  p.noise = ParseNoise(r, r.Require(root, "", "noise"), p);

  if (root.contains("step_sizes")) {
    const json& s = r.Array(root["step_sizes"], "step_sizes");
    for (std::size_t i = 0; i < s.size(); ++i) {
      const double eta = r.Number(s[i], Reader::Index("step_sizes", i));
      if (!(eta > 0.0)) r.Fail(Reader::Index("step_sizes", i), "must be positive");
      p.step_sizes.push_back(eta);
    }
  }
  return p;
}

}  // namespace

Eigen::VectorXd InitDistribution::Sample(std::uint64_t seed, std::uint32_t index) const {
  const Eigen::Index d = a.size();
  Eigen::VectorXd x(d);
  const PhiloxKey key = KeyFromSeed(seed);
  for (Eigen::Index i = 0; i < d; i += 2) {
    // Draw word 1 is this stream's own (planted.cc uses 2): the same seed elsewhere gives other numbers.
    const std::array<std::uint32_t, 4> w = PhiloxBlock(key, index, static_cast<std::uint64_t>(i / 2), 1);
    double z[2];
    if (kind == InitKind::kNormal) {
      BoxMuller(w, &z[0], &z[1]);
    } else {  // two uniforms in [0, 1) from the top 53 bits of words (0, 1) and (2, 3)
      z[0] = static_cast<double>(((static_cast<std::uint64_t>(w[0]) << 32) | w[1]) >> 11) * 0x1p-53;
      z[1] = static_cast<double>(((static_cast<std::uint64_t>(w[2]) << 32) | w[3]) >> 11) * 0x1p-53;
    }
    for (int k = 0; k < 2 && i + k < d; ++k) {
      x[i + k] = kind == InitKind::kNormal ? a[i + k] + b[i + k] * z[k] : a[i + k] + (b[i + k] - a[i + k]) * z[k];
    }
  }
  return x;
}

bool Domain::Contains(const Eigen::VectorXd& x, double slack) const {
  for (int i = 0; i < x.size(); ++i) {
    const double pad = slack * (upper[i] - lower[i]);
    if (!(x[i] >= lower[i] - pad && x[i] <= upper[i] + pad)) return false;
  }
  return true;
}


Problem ParseProblem(std::string_view json_text, const std::string& source) {
  return Parse(ParseJson(json_text, source), source);
}

Problem LoadProblem(const std::string& path) { return ParseProblem(ReadInputFile(path), path); }

}  // namespace ldsgd
