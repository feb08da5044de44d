#include "graph/graph_export.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <ostream>
#include <sstream>

// GCC 12 reports a false -Wmaybe-uninitialized inside adjacency_list's edge iterator (a
// boost::optional it fills lazily) once write_graphviz / write_graphml are inlined.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <boost/graph/graphml.hpp>
#include <boost/graph/graphviz.hpp>
#pragma GCC diagnostic pop

#include "graph/transition_graph.h"

namespace ldsgd {
namespace {

using Vertex = boost::graph_traits<TransitionGraph>::vertex_descriptor;

// Per-node data with the gaps (fewer nodes or energies than rows) filled in, so no writer indexes
// out of range.
struct NodeData {
  std::vector<std::string> type;
  std::vector<double> f, energy;
  std::vector<char> ground;

  NodeData(int p, const std::vector<GraphNode>& nodes, const Energies& e)
      : type(p), f(p, std::numeric_limits<double>::quiet_NaN()), energy(f), ground(p, 0) {
    for (int i = 0; i < p && i < static_cast<int>(nodes.size()); ++i) {
      type[i] = nodes[i].type;
      f[i] = nodes[i].f;
    }
    for (int i = 0; i < p && i < e.relative.size(); ++i) energy[i] = e.relative[i];
    for (const int g : e.ground_states) {
      if (g >= 0 && g < p) ground[g] = 1;
    }
  }
};

std::string Short(double v) {
  if (std::isnan(v)) return "nan";
  if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%.6g", v);
  return buffer;
}

// Text inside a DOT string literal: quotes and backslashes escaped, since a type label is free
// text and Graphviz would otherwise read a \N or \G in it as its own escapes.
std::string DotEscaped(const std::string& s) {
  std::string out;
  for (const char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out;
}

class DotVertexWriter {
 public:
  explicit DotVertexWriter(const NodeData& data) : data_(&data) {}
  void operator()(std::ostream& out, Vertex v) const {
    // Backslash-n inside a DOT label is Graphviz's centred line break.
    const std::string& type = data_->type[v];
    out << "[label=\"" << v << (type.empty() ? "" : " " + DotEscaped(type)) << "\\nf = " << Short(data_->f[v])
        << "\\nE = " << Short(data_->energy[v]) << "\"";
    if (data_->ground[v]) out << ", style=\"filled,bold\", fillcolor=\"lightblue\", penwidth=2";
    out << "]";
  }

 private:
  const NodeData* data_;
};

class DotEdgeWriter {
 public:
  explicit DotEdgeWriter(const TransitionGraph& graph) : graph_(&graph) {}
  void operator()(std::ostream& out, boost::graph_traits<TransitionGraph>::edge_descriptor e) const {
    out << "[label=\"" << Short(boost::get(boost::edge_weight, *graph_, e)) << "\"]";
  }

 private:
  const TransitionGraph* graph_;
};

struct DotGraphWriter {
  void operator()(std::ostream& out) const {
    out << "label=\"transition costs B (edges) and relative energies E (nodes); ground states filled\";\n"
        << "node [shape=box];\n";
  }
};

// A readable property map whose value_type is double (so write_graphml declares attr.type="double")
// but whose get() returns a proxy printing 17 significant digits: dynamic_properties formats values
// with a default-precision ostringstream, which would keep only 6.
struct FullPrecision {
  double value;
  friend std::ostream& operator<<(std::ostream& out, FullPrecision x) {
    if (std::isnan(x.value)) return out << "nan";
    if (std::isinf(x.value)) return out << (x.value > 0 ? "inf" : "-inf");
    char buffer[32];
    std::snprintf(buffer, sizeof buffer, "%.17g", x.value);
    return out << buffer;
  }
};

// A read-only property map computed by `lookup`, for dynamic_properties. Value is what
// write_graphml names the GraphML type after; Reference is what get() returns and is printed.
template <typename Key, typename Value, typename Reference, typename Lookup>
class ComputedMap {
 public:
  using key_type = Key;
  using value_type = Value;
  using reference = Reference;
  using category = boost::readable_property_map_tag;

  explicit ComputedMap(Lookup lookup) : lookup_(lookup) {}
  friend Reference get(const ComputedMap& map, const Key& key) { return Reference{map.lookup_(key)}; }

 private:
  Lookup lookup_;
};

// A double-typed attribute printed to 17 digits.
template <typename Key, typename Lookup>
ComputedMap<Key, double, FullPrecision, Lookup> DoubleMap(Lookup lookup) {
  return ComputedMap<Key, double, FullPrecision, Lookup>(lookup);
}

// A boolean attribute, printed "1"/"0" (both valid xsd:boolean, and what read_graphml parses).
template <typename Key, typename Lookup>
ComputedMap<Key, bool, bool, Lookup> BoolMap(Lookup lookup) {
  return ComputedMap<Key, bool, bool, Lookup>(lookup);
}

// A string attribute.
template <typename Key, typename Lookup>
ComputedMap<Key, std::string, std::string, Lookup> StringMap(Lookup lookup) {
  return ComputedMap<Key, std::string, std::string, Lookup>(lookup);
}

}  // namespace

std::string ToDot(const Eigen::MatrixXd& costs, const std::vector<GraphNode>& nodes, const Energies& e) {
  const TransitionGraph graph = MakeTransitionGraph(costs);
  const NodeData data(static_cast<int>(costs.rows()), nodes, e);
  std::ostringstream out;
  boost::write_graphviz(out, graph, DotVertexWriter(data), DotEdgeWriter(graph), DotGraphWriter());
  return out.str();
}

std::string ToGraphML(const Eigen::MatrixXd& costs, const std::vector<GraphNode>& nodes,
                      const Energies& e) {
  using Edge = boost::graph_traits<TransitionGraph>::edge_descriptor;
  const TransitionGraph graph = MakeTransitionGraph(costs);
  const NodeData data(static_cast<int>(costs.rows()), nodes, e);
  boost::dynamic_properties dp;
  dp.property("type", StringMap<Vertex>([&data](Vertex v) { return data.type[v]; }));
  dp.property("f", DoubleMap<Vertex>([&data](Vertex v) { return data.f[v]; }));
  dp.property("energy", DoubleMap<Vertex>([&data](Vertex v) { return data.energy[v]; }));
  dp.property("ground_state", BoolMap<Vertex>([&data](Vertex v) { return data.ground[v] != 0; }));
  dp.property("cost",
              DoubleMap<Edge>([&graph](Edge edge) { return boost::get(boost::edge_weight, graph, edge); }));
  std::ostringstream out;
  boost::write_graphml(out, graph, dp, /*ordered_vertices=*/true);
  return out.str();
}

}  // namespace ldsgd
