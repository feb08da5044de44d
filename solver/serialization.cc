#include "solver/serialization.h"

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

}  // namespace ldsgd
