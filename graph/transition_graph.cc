#include "graph/transition_graph.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>

#include <boost/graph/strong_components.hpp>

#include "solver/io/input_text.h"

namespace ldsgd {
namespace {

// " at [i][j]", appended piecewise: `"literal" + std::string` trips GCC 12's false -Wrestrict
// (GCC bug 105651) at -O3.
std::string At(int i, int j) {
  std::string s = " at [";
  s += std::to_string(i);
  s += "][";
  s += std::to_string(j);
  s += "]";
  return s;
}


}  // namespace

std::string ValidateCostMatrix(const Eigen::MatrixXd& costs) {
  if (costs.rows() != costs.cols()) {
    return "not square: " + std::to_string(costs.rows()) + "x" + std::to_string(costs.cols());
  }
  for (int i = 0; i < costs.rows(); ++i) {
    for (int j = 0; j < costs.cols(); ++j) {
      const double b = costs(i, j);
      if (std::isnan(b)) return "NaN" + At(i, j);
      if (b < 0.0) return "negative entry " + ShortestSpelling(b) + At(i, j);
      if (i == j && b != 0.0) return "nonzero diagonal entry " + ShortestSpelling(b) + At(i, j);
      if (std::isfinite(b) && b > kMaxFiniteCost) {
        return "entry " + ShortestSpelling(b) + At(i, j) + " too large (finite costs must be <= 1e300, so that a tree's sum stays finite)";
      }
    }
  }
  return "";
}

TransitionGraph MakeTransitionGraph(const Eigen::MatrixXd& costs) {
  const int p = static_cast<int>(costs.rows());
  TransitionGraph graph(p);
  const int columns = std::min(p, static_cast<int>(costs.cols()));  // in range even if not square
  for (int i = 0; i < p; ++i) {
    for (int j = 0; j < columns; ++j) {
      if (i != j && std::isfinite(costs(i, j))) boost::add_edge(i, j, costs(i, j), graph);
    }
  }
  return graph;
}

std::vector<int> UniqueSinkComponent(const TransitionGraph& graph) {
  const int p = static_cast<int>(boost::num_vertices(graph));
  if (p == 0) return {};
  std::vector<int> component(p);
  const int count = boost::strong_components(
      graph, boost::make_iterator_property_map(component.begin(),
                                               boost::get(boost::vertex_index, graph)));
  std::vector<bool> has_exit(count, false);
  for (const auto e : boost::make_iterator_range(boost::edges(graph))) {
    const int from = component[boost::source(e, graph)];
    if (from != component[boost::target(e, graph)]) has_exit[from] = true;
  }
  int sink = -1;
  for (int c = 0; c < count; ++c) {
    if (has_exit[c]) continue;
    if (sink != -1) return {};  // two sinks: neither reaches the other
    sink = c;
  }
  std::vector<int> nodes;
  for (int v = 0; v < p; ++v) {
    if (component[v] == sink) nodes.push_back(v);
  }
  return nodes;
}

}  // namespace ldsgd
