#include "graph/cycle_tree.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>

#include "graph/energies.h"
#include "graph/transition_graph.h"

namespace ldsgd {
namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

// Fills the exit (R, target) and bottom of `node` from B and the global energies.
void Describe(const Eigen::MatrixXd& costs, const Eigen::VectorXd& energy, CycleNode* node) {
  const std::vector<int>& m = node->members;
  const int size = static_cast<int>(m.size());
  node->bottom = m.front();
  for (int i : m) node->bottom = energy[i] < energy[node->bottom] ? i : node->bottom;
  // E^C: energies within the cycle (B restricted to C).
  Eigen::MatrixXd sub(size, size);
  for (int a = 0; a < size; ++a) {
    for (int b = 0; b < size; ++b) sub(a, b) = a == b ? 0.0 : costs(m[a], m[b]);
  }
  const Energies inside = ComputeEnergies(sub);
  node->exit_cost = kInf;
  node->exit_to = -1;
  if (!inside.status.ok()) return;
  for (int a = 0; a < size; ++a) {
    const double depth = inside.relative[a];
    if (!std::isfinite(depth)) continue;
    for (int j = 0; j < costs.cols(); ++j) {
      if (std::binary_search(m.begin(), m.end(), j) || !std::isfinite(costs(m[a], j))) continue;
      const double r = depth + costs(m[a], j);
      if (r < node->exit_cost || (r == node->exit_cost && j < node->exit_to)) node->exit_cost = r, node->exit_to = j;
    }
  }
}

}  // namespace

CycleTree BuildCycleTree(const Eigen::MatrixXd& costs) {
  CycleTree tree;
  if (std::string invalid = ValidateCostMatrix(costs); !invalid.empty()) {
    tree.status = Status(StatusCode::kInvalidInput, invalid);
    return tree;
  }
  const Energies global = ComputeEnergies(costs);
  if (!global.status.ok()) {
    tree.status = global.status;
    return tree;
  }
  const int p = static_cast<int>(costs.rows());
  std::vector<int> cycle_of(p);  // the current top cycle of each component
  std::vector<int> current;      // the current level's cycles
  for (int i = 0; i < p; ++i) {
    CycleNode leaf;
    leaf.members = {i};
    Describe(costs, global.relative, &leaf);
    leaf.height = global.relative[i];
    leaf.exit_height = global.relative[i] + leaf.exit_cost;
    tree.nodes.push_back(leaf);
    cycle_of[i] = i;
    current.push_back(i);
  }
  for (int level = 1;; ++level) {
    // Each cycle points to the cycle of its cheapest exit; follow the pointers to find loops.
    std::vector<int> next(current.size(), -1);
    std::vector<int> slot(tree.nodes.size(), -1);
    for (std::size_t c = 0; c < current.size(); ++c) slot[current[c]] = static_cast<int>(c);
    for (std::size_t c = 0; c < current.size(); ++c) {
      const CycleNode& n = tree.nodes[current[c]];
      if (n.exit_to >= 0) next[c] = slot[cycle_of[n.exit_to]];
    }
    std::vector<int> state(current.size(), 0);  // 0 unseen, 1 on the walk, 2 done
    std::vector<std::vector<int>> loops;
    for (std::size_t start = 0; start < current.size(); ++start) {
      std::vector<int> walk;
      int c = static_cast<int>(start);
      while (c >= 0 && state[c] == 0) {
        state[c] = 1;
        walk.push_back(c);
        c = next[c];
      }
      if (c >= 0 && state[c] == 1) loops.push_back(std::vector<int>(std::find(walk.begin(), walk.end(), c), walk.end()));
      for (int w : walk) state[w] = 2;
    }
    if (loops.empty()) break;
    std::vector<bool> merged(current.size(), false);
    std::vector<int> upper;
    for (const std::vector<int>& loop : loops) {
      CycleNode node;
      node.level = level;
      const int id = static_cast<int>(tree.nodes.size());
      for (int c : loop) {
        merged[c] = true;
        node.children.push_back(current[c]);
        tree.nodes[current[c]].parent = id;
        const std::vector<int>& m = tree.nodes[current[c]].members;
        node.members.insert(node.members.end(), m.begin(), m.end());
      }
      std::sort(node.members.begin(), node.members.end());
      std::sort(node.children.begin(), node.children.end());
      Describe(costs, global.relative, &node);
      node.exit_height = global.relative[node.bottom] + node.exit_cost;
      node.height = -kInf;
      for (int child : node.children) node.height = std::max(node.height, tree.nodes[child].exit_height);
      for (int i : node.members) cycle_of[i] = id;
      tree.nodes.push_back(node);
      upper.push_back(id);
    }
    for (std::size_t c = 0; c < current.size(); ++c) {
      if (!merged[c]) upper.push_back(current[c]);
    }
    std::sort(upper.begin(), upper.end());
    current = upper;
  }
  tree.roots = current;
  tree.status = Status::Ok();
  return tree;
}

double MergeHeight(const CycleTree& tree, int a, int b) {
  if (a == b) return tree.nodes[a].height;
  std::vector<int> up;
  for (int n = a; n >= 0; n = tree.nodes[n].parent) up.push_back(n);
  for (int n = b; n >= 0; n = tree.nodes[n].parent) {
    if (std::find(up.begin(), up.end(), n) != up.end()) return tree.nodes[n].height;
  }
  return kInf;
}

}  // namespace ldsgd
