// Minimum spanning in-arborescences for every root at once (THEORY.md section 5).
//
// An in-arborescence of G rooted at r is an out-arborescence (branching) of the reversed graph G^R
// rooted at r, so Edmonds' algorithm applies with "cheapest entering edge" read as "cheapest
// leaving edge" of G: we never build G^R, each node simply picks its cheapest outgoing edge.
//
// The contraction phase of Edmonds' algorithm, in Tarjan's form (R. E. Tarjan, "Finding optimum
// branchings", Networks 7, 1977; Camerini, Fratta, Maffioli, Networks 9, 1979, for the expansion),
// does not need the root if every node can reach it:
//   - grow a path of super-nodes, each choosing its cheapest outgoing edge at reduced cost y(S);
//     subtract y(S) from all of S's remaining edges (a lazy tag on a mergeable heap);
//   - when the chosen edge closes a cycle on the path, contract the cycle into a new super-node
//     whose heap is the meld of its members' heaps (their edges already reduced);
//   - a super-node with no edge leaving it is a whole sink component: the path ends there; a path
//     that runs into a finished super-node also ends (its nodes lead to the sink).
// The super-nodes form a laminar family (the contraction forest). With y >= 0 and every edge's
// reduced cost >= 0, y is a feasible dual of the arborescence LP for every root r (sets that do
// not contain r must be left by an edge: sum_{S left by e} y(S) <= B_e), so
// E_r >= sum_{S not containing r} y(S). Expanding the forest from r (below) gives a tree leaving
// each such set exactly once and using only tight edges (B_e = the sum of y over the sets e
// leaves), so it meets the bound: it is optimal, for every r in the sink component, from one
// contraction.
//
// Cost: every edge enters one heap and leaves it at most once; melds and pops are O(log m)
// amortised (skew heaps), union-find is near constant: O(m log p) for the contraction, then
// O(p) per root for the expansion and the tree weight.
#include "graph/energies.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

#include "graph/transition_graph.h"
#include "solver/io/input_text.h"

namespace ldsgd {
namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

// A forest of skew heaps of edges keyed by reduced cost, with lazy additive tags so that reducing
// every edge of a super-node (Tarjan's "subtract y(S)") is O(1). Heaps are node indices; -1 is the
// empty heap. Iterative meld: a skew heap's right spine can be long before amortisation pays, and
// recursion there could overflow the stack for large p.
class EdgeHeaps {
 public:
  struct Edge {
    double key;  // reduced cost (valid at a node once its ancestors' tags are pushed to it)
    int tail, head;
  };

  explicit EdgeHeaps(std::size_t capacity) { nodes_.reserve(capacity); }

  // One heap holding `edges`, in O(edges.size()): heapify an array, then link array position k to
  // its children 2k+1 and 2k+2. Any heap-ordered binary tree is a valid skew heap.
  int Build(const std::vector<Edge>& edges) {
    const int first = static_cast<int>(nodes_.size());
    order_.resize(edges.size());
    for (std::size_t k = 0; k < edges.size(); ++k) {
      nodes_.push_back({edges[k], 0.0, -1, -1});
      order_[k] = first + static_cast<int>(k);
    }
    const auto greater = [this](int a, int b) { return nodes_[a].edge.key > nodes_[b].edge.key; };
    std::make_heap(order_.begin(), order_.end(), greater);  // min-heap under `greater`
    const std::size_t n = order_.size();
    for (std::size_t k = 0; k < n; ++k) {
      if (2 * k + 1 < n) nodes_[order_[k]].left = order_[2 * k + 1];
      if (2 * k + 2 < n) nodes_[order_[k]].right = order_[2 * k + 2];
    }
    return n == 0 ? -1 : order_[0];
  }

  // The cheapest edge of non-empty heap h, with its current reduced cost.
  const Edge& Top(int h) {
    Push(h);
    return nodes_[h].edge;
  }

  // Removes the top of non-empty heap h; returns the remaining heap.
  int Pop(int h) {
    Push(h);
    return Meld(nodes_[h].left, nodes_[h].right);
  }

  // Adds delta to every key of heap h.
  void Shift(int h, double delta) {
    if (h >= 0) nodes_[h].lazy += delta;
  }

  // Top-down skew meld: the smaller root keeps its left subtree as its new right one, and its new
  // left subtree is the meld of its old right subtree with the other heap.
  int Meld(int a, int b) {
    if (a < 0) return b;
    if (b < 0) return a;
    Push(a);
    Push(b);
    if (nodes_[b].edge.key < nodes_[a].edge.key) std::swap(a, b);
    const int root = a;
    for (;;) {
      const int r = nodes_[a].right;
      nodes_[a].right = nodes_[a].left;
      if (r < 0) {
        nodes_[a].left = b;
        break;
      }
      Push(r);
      int smaller = r;
      if (nodes_[b].edge.key < nodes_[r].edge.key) std::swap(smaller, b);
      nodes_[a].left = smaller;
      a = smaller;
    }
    return root;
  }

 private:
  struct Node {
    Edge edge;
    double lazy;  // pending shift for this node's whole subtree, not yet in edge.key
    int left, right;
  };

  void Push(int x) {
    Node& node = nodes_[x];
    if (node.lazy == 0.0) return;
    node.edge.key += node.lazy;
    if (node.left >= 0) nodes_[node.left].lazy += node.lazy;
    if (node.right >= 0) nodes_[node.right].lazy += node.lazy;
    node.lazy = 0.0;
  }

  std::vector<Node> nodes_;
  std::vector<int> order_;  // scratch for Build
};

// The result of the rootless contraction. Nodes 0..p-1 are the graph's nodes; p, p+1, ... are the
// contracted cycles, each numbered after all of its members (so parents have larger ids).
struct ContractionForest {
  // The dual value y(S), the reduced cost of S's chosen edge, is not kept: E_r is taken as the
  // weight of the expanded tree, which equals sum_{S not containing r} y(S) (LP duality, above).
  std::vector<int> parent;  // the cycle a super-node was contracted into; -1 at a top
  std::vector<int> tail;    // its chosen (cheapest reduced) outgoing edge, original endpoints;
  std::vector<int> head;    //   -1 at an edgeless top (a whole sink component)

  int size() const { return static_cast<int>(parent.size()); }
  int AddNode() {
    parent.push_back(-1);
    tail.push_back(-1);
    head.push_back(-1);
    return size() - 1;
  }
};

// Union-find over forest node ids: Find(v) is the current top-level super-node containing v.
class SuperNodes {
 public:
  explicit SuperNodes(int capacity) : link_(capacity) { std::iota(link_.begin(), link_.end(), 0); }
  void Absorb(int member, int cycle) { link_[member] = cycle; }
  int Find(int v) {
    while (link_[v] != v) {
      link_[v] = link_[link_[v]];  // path halving
      v = link_[v];
    }
    return v;
  }

 private:
  std::vector<int> link_;
};

// `sink` lists the nodes of the graph's unique sink component. A super-node holding all of them is
// that component (super-nodes never straddle two strong components), and nothing leaves it: knowing
// that spares popping every remaining, internal, edge of its heap to find out, which on a dense
// graph is most of the m edges.
ContractionForest Contract(const TransitionGraph& graph, const std::vector<int>& sink) {
  const int p = static_cast<int>(boost::num_vertices(graph));
  const int capacity = std::max(1, 2 * p - 1);  // p leaves and at most p - 1 cycles
  ContractionForest forest;
  forest.parent.reserve(capacity);
  for (int v = 0; v < p; ++v) forest.AddNode();
  std::vector<int> sink_nodes(capacity, 0);  // how many nodes of `sink` each super-node holds
  for (const int v : sink) sink_nodes[v] = 1;
  const int whole_sink = static_cast<int>(sink.size());

  EdgeHeaps heaps(boost::num_edges(graph));
  std::vector<int> heap(capacity, -1);
  {
    const auto weight = boost::get(boost::edge_weight, graph);
    std::vector<EdgeHeaps::Edge> out;
    for (int u = 0; u < p; ++u) {
      out.clear();
      for (const auto e : boost::make_iterator_range(boost::out_edges(u, graph))) {
        out.push_back({weight[e], u, static_cast<int>(boost::target(e, graph))});
      }
      heap[u] = heaps.Build(out);
    }
  }

  enum State : char { kUnvisited, kOnPath, kDone };
  std::vector<State> state(capacity, kUnvisited);
  SuperNodes super(capacity);
  std::vector<int> path;
  const auto finish_path = [&] {
    for (const int x : path) state[x] = kDone;
    path.clear();
  };

  for (int start = 0; start < p; ++start) {
    if (state[start] != kUnvisited) continue;
    path.push_back(start);
    state[start] = kOnPath;
    while (!path.empty()) {
      const int x = path.back();
      // Edges inside x are deleted lazily, when they surface.
      int h = sink_nodes[x] == whole_sink ? -1 : heap[x];
      while (h >= 0 && super.Find(heaps.Top(h).head) == x) h = heaps.Pop(h);
      if (h < 0) {  // nothing leaves x: x is a whole sink component
        finish_path();
        break;
      }
      const EdgeHeaps::Edge chosen = heaps.Top(h);
      forest.tail[x] = chosen.tail;
      forest.head[x] = chosen.head;
      h = heaps.Pop(h);
      heaps.Shift(h, -chosen.key);  // reduced costs relative to x's choice, all still >= 0
      heap[x] = h;

      const int z = super.Find(chosen.head);
      if (state[z] == kDone) {  // x now leads into finished territory, and so does the path
        finish_path();
      } else if (state[z] == kUnvisited) {
        state[z] = kOnPath;
        path.push_back(z);
      } else {  // z is on the path: the path from z to x plus the chosen edge is a cycle
        const int cycle = forest.AddNode();
        int melded = -1;
        int member;
        do {
          member = path.back();
          path.pop_back();
          forest.parent[member] = cycle;
          sink_nodes[cycle] += sink_nodes[member];
          super.Absorb(member, cycle);
          melded = heaps.Meld(melded, heap[member]);
          heap[member] = -1;
        } while (member != z);
        heap[cycle] = melded;
        state[cycle] = kOnPath;
        path.push_back(cycle);
      }
    }
  }
  return forest;
}

// Root r's optimal in-arborescence from the contraction forest (Camerini et al.'s expansion): the
// super-nodes containing r get no outgoing edge. Every other super-node S that is a top of what
// remains uses its chosen edge u -> v, which is then u's edge in the tree, and the super-nodes from
// u up to S are consumed (u's edge already leaves all of them). Descending ids visit every cycle
// before its members, so a node not yet consumed when reached is a top. `consumed` is scratch.
void ExpandTree(const ContractionForest& forest, int root, std::vector<char>& consumed,
                std::vector<int>& successor) {
  consumed.assign(forest.size(), 0);
  for (int x = root; x != -1; x = forest.parent[x]) consumed[x] = 1;
  for (int x = forest.size() - 1; x >= 0; --x) {
    if (consumed[x]) continue;
    const int u = forest.tail[x];
    successor[u] = forest.head[x];
    for (int t = u;; t = forest.parent[t]) {
      consumed[t] = 1;
      if (t == x) break;
    }
  }
  successor[root] = -1;
}

}  // namespace

Energies ComputeEnergies(const Eigen::MatrixXd& costs, const EnergiesOptions& options) {
  Energies result;
  if (!(std::isfinite(options.tie_tolerance) && options.tie_tolerance >= 0.0)) {
    result.status = Status(StatusCode::kInvalidOptions, "Invalid configuration. EnergiesOptions::tie_tolerance = " +
                                                            ShortestSpelling(options.tie_tolerance) +
                                                            ". Violated constraint: finite and >= 0");
    return result;
  }
  if (std::string invalid = ValidateCostMatrix(costs); !invalid.empty()) {
    result.status = Status(StatusCode::kInvalidInput, "Invalid cost matrix: " + invalid);
    return result;
  }
  result.status = Status::Ok();

  const int p = static_cast<int>(costs.rows());
  result.absolute = Eigen::VectorXd::Constant(p, kInf);
  result.relative = Eigen::VectorXd::Constant(p, kInf);
  result.trees.assign(p, {});

  const TransitionGraph graph = MakeTransitionGraph(costs);
  const std::vector<int> finite_roots = UniqueSinkComponent(graph);
  if (finite_roots.empty()) return result;  // p = 0, or no node reachable from all others

  // Every finite root lies in the sink component, which the contraction turns into one edgeless
  // top, so each expansion below is well defined.
  const ContractionForest forest = Contract(graph, finite_roots);
  std::vector<char> consumed;
  for (const int r : finite_roots) {
    std::vector<int>& tree = result.trees[r];
    tree.assign(p, -1);
    ExpandTree(forest, r, consumed, tree);
    // E_r as the weight of the tree we return (equal to sum_{S not containing r} y(S) by LP
    // duality, but summing original costs keeps E_r and trees[r] exactly consistent).
    double energy = 0.0;
    for (int j = 0; j < p; ++j) {
      if (j != r) energy += costs(j, tree[j]);
    }
    result.absolute[r] = energy;
  }

  double min_energy = kInf, max_abs = 1.0;
  for (const int r : finite_roots) {
    min_energy = std::min(min_energy, result.absolute[r]);
    max_abs = std::max(max_abs, std::abs(result.absolute[r]));
  }
  const double tie = options.tie_tolerance * max_abs;
  for (const int r : finite_roots) {  // ascending
    result.relative[r] = result.absolute[r] - min_energy;
    if (result.relative[r] <= tie) result.ground_states.push_back(r);
  }
  return result;
}

}  // namespace ldsgd
