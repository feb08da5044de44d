#include "solver/analysis/serialization.h"

#include <cmath>
#include <cstdio>

namespace ldsgd {

nlohmann::json ToJson(const Eigen::VectorXd& v) {
  nlohmann::json a = nlohmann::json::array();
  for (int i = 0; i < v.size(); ++i) a.push_back(v[i]);
  return a;
}

nlohmann::json ToJson(const CriticalComponent& c) {
  nlohmann::json j = {{"id", c.id},
                      {"type", ToString(c.type)},
                      {"index", c.index},
                      {"point", ToJson(c.point)},
                      {"f", c.f},
                      {"hessian_eigenvalues", ToJson(c.hessian_eigenvalues)},
                      {"size", c.size},
                      {"isolated", c.isolated},
                      {"touches_boundary", c.touches_boundary}};
  if (!c.isolated) {
    nlohmann::json points = nlohmann::json::array();
    for (const Eigen::VectorXd& p : c.points) points.push_back(ToJson(p));
    j["points"] = points;
  }
  return j;
}

nlohmann::json ToJson(const std::vector<CriticalComponent>& components) {
  nlohmann::json a = nlohmann::json::array();
  for (const CriticalComponent& c : components) a.push_back(ToJson(c));
  return a;
}

nlohmann::json NumberOrNull(double v) {
  return std::isfinite(v) ? nlohmann::json(v) : nlohmann::json(nullptr);
}

nlohmann::json VectorOrNulls(const Eigen::VectorXd& v) {
  nlohmann::json a = nlohmann::json::array();
  for (int i = 0; i < v.size(); ++i) a.push_back(NumberOrNull(v[i]));
  return a;
}

nlohmann::json ToJson(const Predictions& p) {
  nlohmann::json steps = nlohmann::json::array();
  for (const StepSizePrediction& s : p.steps) {
    nlohmann::json j = {{"step_size", s.step_size},
                        {"stable", s.stable},
                        {"log_weights", VectorOrNulls(s.log_weight)},
                        {"weights", VectorOrNulls(s.weight)}};
    if (s.laplace_mass.size() > 0) j["laplace_masses"] = VectorOrNulls(s.laplace_mass);
    steps.push_back(j);
  }
  return {{"stability_bound", NumberOrNull(p.stability_bound)}, {"step_sizes", steps}, {"notes", p.notes}};
}

nlohmann::json ToJson(const TransitionCosts& costs) {
  nlohmann::json matrix = nlohmann::json::array();
  for (int i = 0; i < costs.costs.rows(); ++i) {
    nlohmann::json row = nlohmann::json::array();
    for (int j = 0; j < costs.costs.cols(); ++j) row.push_back(NumberOrNull(costs.costs(i, j)));
    matrix.push_back(row);
  }
  nlohmann::json paths = nlohmann::json::array();
  for (const TransitionPath& t : costs.paths) {
    nlohmann::json nodes = nlohmann::json::array();
    for (int k = 0; k < t.nodes.rows(); ++k) nodes.push_back(ToJson(Eigen::VectorXd(t.nodes.row(k).transpose())));
    paths.push_back({{"from", t.from},
                     {"to", t.to},
                     {"action", NumberOrNull(t.action)},
                     {"error_estimate", NumberOrNull(t.error_estimate)},
                     {"method", ToString(t.method)},
                     {"route", t.route},
                     {"nodes", nodes}});
  }
  return {{"costs", matrix}, {"paths", paths}};
}

std::string PathCsv(const TransitionPath& path, const std::vector<std::string>& variables) {
  std::string out = "s";
  for (const std::string& v : variables) out += "," + v;
  out += "\n";
  double s = 0.0;
  char buffer[40];
  for (int k = 0; k < path.nodes.rows(); ++k) {
    if (k > 0) s += (path.nodes.row(k) - path.nodes.row(k - 1)).norm();
    std::snprintf(buffer, sizeof buffer, "%.17g", s);
    out += buffer;
    for (int i = 0; i < path.nodes.cols(); ++i) {
      std::snprintf(buffer, sizeof buffer, ",%.17g", path.nodes(k, i));
      out += buffer;
    }
    out += "\n";
  }
  return out;
}

nlohmann::json ToJson(const AssumptionReport& report) {
  nlohmann::json a = nlohmann::json::array();
  for (const AssumptionCheck& c : report.checks) {
    a.push_back({{"name", ToString(c.name)},
                 {"holds", c.holds},
                 {"where", c.where},
                 {"detail", c.detail},
                 {"affects_predictions", c.affects_predictions}});
  }
  return a;
}

}  // namespace ldsgd
