// Exports of the transition graph with its energies: Graphviz DOT (for `dot -Tsvg`) and GraphML
// (for yEd, Gephi, networkx). Nodes are the components, edges the finite costs B_ij (i != j).
#ifndef LDSGD_GRAPH_GRAPH_EXPORT_H_
#define LDSGD_GRAPH_GRAPH_EXPORT_H_

#include <string>
#include <vector>

#include <Eigen/Core>

#include "graph/energies.h"

namespace ldsgd {

// What the exports say about a component besides its id. graph/ knows nothing of objectives: the
// caller supplies the labels.
struct GraphNode {
  std::string type;  // "minimum", "saddle", ... (any label)
  double f = 0.0;    // objective value at the component
};

// Node i is labelled with its id, nodes[i].type, nodes[i].f and its relative energy e.relative[i]
// ("inf" when +inf); ground states are drawn filled and bold; edge i -> j is labelled with B_ij.
// `nodes` and `e` should have one entry per row of `costs` (ComputeEnergies(costs)); missing entries
// print as an empty type and "nan". Never throws.
std::string ToDot(const Eigen::MatrixXd& costs, const std::vector<GraphNode>& nodes, const Energies& e);

// GraphML: node ids "n0", "n1", ...; node keys type (string), f (double), energy (double, the
// relative energy, "inf" for +inf), ground_state (boolean, "1"/"0"); edge key cost (double).
// Doubles are written to 17 significant digits, so they read back exactly.
std::string ToGraphML(const Eigen::MatrixXd& costs, const std::vector<GraphNode>& nodes, const Energies& e);

}  // namespace ldsgd

#endif  // LDSGD_GRAPH_GRAPH_EXPORT_H_
