// DOT and GraphML exports: Graphviz renders the DOT, boost::read_graphml (a real XML parser)
// reads the GraphML back with every node, edge and value, for connected, disconnected and empty
// graphs.
#include "graph/graph_export.h"

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <limits>
#include <sstream>
#include <string>

#include <unistd.h>

#include <boost/graph/adjacency_list.hpp>
#include <boost/graph/graphml.hpp>
#include <gtest/gtest.h>

namespace ldsgd {
namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

std::size_t Count(const std::string& text, const std::string& what) {
  std::size_t count = 0;
  for (std::size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++count;
  return count;
}

// A scratch directory of this process, removed at the end of the test.
class ScratchDir {
 public:
  ScratchDir()
      : path_(std::filesystem::temp_directory_path() /
              ("ldsgd_graph_export_test_" + std::to_string(::getpid()))) {
    std::filesystem::create_directories(path_);
  }
  ~ScratchDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  std::string File(const std::string& name) const { return (path_ / name).string(); }

 private:
  std::filesystem::path path_;
};

// Runs `dot -Tsvg` on `dot_text`; returns the SVG, or "" with a test failure if dot fails.
std::string RenderSvg(const std::string& dot_text) {
  const ScratchDir dir;
  std::ofstream(dir.File("graph.dot")) << dot_text;
  const std::string command = "dot -Tsvg '" + dir.File("graph.dot") + "' -o '" + dir.File("graph.svg") +
                              "' 2>'" + dir.File("err") + "'";
  const int status = std::system(command.c_str());
  std::stringstream svg, err;
  svg << std::ifstream(dir.File("graph.svg")).rdbuf();
  err << std::ifstream(dir.File("err")).rdbuf();
  EXPECT_EQ(status, 0) << "dot failed: " << err.str() << "\n" << dot_text;
  return svg.str();
}

bool HaveDot() { return std::system("command -v dot >/dev/null 2>&1") == 0; }

// What read_graphml fills in: one field per GraphML key.
struct ReadNode {
  std::string type;
  double f = 0.0, energy = 0.0;
  bool ground_state = false;
};
struct ReadEdge {
  double cost = 0.0;
};
using ReadGraph = boost::adjacency_list<boost::vecS, boost::vecS, boost::directedS, ReadNode, ReadEdge>;

ReadGraph ParseGraphML(const std::string& text) {
  ReadGraph graph;
  boost::dynamic_properties dp;
  dp.property("type", boost::get(&ReadNode::type, graph));
  dp.property("f", boost::get(&ReadNode::f, graph));
  dp.property("energy", boost::get(&ReadNode::energy, graph));
  dp.property("ground_state", boost::get(&ReadNode::ground_state, graph));
  dp.property("cost", boost::get(&ReadEdge::cost, graph));
  std::istringstream in(text);
  boost::read_graphml(in, graph, dp);  // throws on malformed XML or a value of the wrong type
  return graph;
}

// The hand example of energies_test.cc with B_21 = 0 instead of 3.5, so that a zero-cost edge is
// exported: E_0 = 2 {1->0, 2->1}, E_1 = 1 {0->1, 2->1}, E_2 = 2 {0->1, 1->2}; ground state 1.
struct Example {
  Eigen::MatrixXd costs{3, 3};
  std::vector<GraphNode> nodes = {{"minimum", -1.25}, {"saddle", 0.5}, {"min \"deep\" <&>", -2.0}};
  Example() { costs << 0, 1, 5, 2, 0, 1, 4, 0, 0; }
};

TEST(GraphExportTest, DotRendersWithLabelsAndHighlightedGroundState) {
  const Example ex;
  const Energies e = ComputeEnergies(ex.costs);
  ASSERT_EQ(e.ground_states, std::vector<int>({1}));
  const std::string dot = ToDot(ex.costs, ex.nodes, e);
  EXPECT_EQ(Count(dot, "->"), 6u);  // every off-diagonal cost is finite
  EXPECT_NE(dot.find("label=\"0\""), std::string::npos) << dot;  // the zero-cost edge 2 -> 1
  EXPECT_NE(dot.find("0 minimum\\nf = -1.25\\nE = 1\""), std::string::npos) << dot;
  EXPECT_NE(dot.find("2 min \\\"deep\\\" <&>\\nf = -2\\nE = 1\""), std::string::npos) << dot;
  EXPECT_EQ(Count(dot, "style=\"filled"), 1u);  // only the ground state
  // A backslash in a type is escaped, or Graphviz would read \N as "the node's name".
  EXPECT_NE(ToDot(ex.costs, {{"a\\N", 0}}, e).find("0 a\\\\N\\n"), std::string::npos);
  EXPECT_NE(dot.find("1 saddle\\nf = 0.5\\nE = 0\", style=\"filled,bold\""), std::string::npos) << dot;
  if (!HaveDot()) GTEST_SKIP() << "graphviz's dot is not installed";
  const std::string svg = RenderSvg(dot);
  EXPECT_NE(svg.find("<svg"), std::string::npos);
  EXPECT_NE(svg.find("saddle"), std::string::npos);
}

TEST(GraphExportTest, DotRendersDisconnectedAndEmptyGraphs) {
  Eigen::MatrixXd costs = Eigen::MatrixXd::Constant(3, 3, kInf);
  costs.diagonal().setZero();
  costs(0, 1) = 2;  // 1 and 2 are both sinks: every energy is +inf, no ground state
  const Energies e = ComputeEnergies(costs);
  const std::string dot = ToDot(costs, {{"minimum", 0}, {"minimum", 1}, {"maximum", 2}}, e);
  EXPECT_EQ(Count(dot, "->"), 1u);
  EXPECT_EQ(Count(dot, "E = inf"), 3u);
  EXPECT_EQ(Count(dot, "style=\"filled"), 0u);

  const std::string empty = ToDot(Eigen::MatrixXd(0, 0), {}, ComputeEnergies(Eigen::MatrixXd(0, 0)));
  EXPECT_EQ(Count(empty, "->"), 0u);
  if (!HaveDot()) GTEST_SKIP() << "graphviz's dot is not installed";
  EXPECT_NE(RenderSvg(dot).find("<svg"), std::string::npos);
  EXPECT_NE(RenderSvg(empty).find("<svg"), std::string::npos);
}

TEST(GraphExportTest, GraphMLReadsBackExactly) {
  const Example ex;
  const Energies e = ComputeEnergies(ex.costs);
  const std::string xml = ToGraphML(ex.costs, ex.nodes, e);
  EXPECT_NE(xml.find("attr.name=\"energy\" attr.type=\"double\""), std::string::npos) << xml;
  EXPECT_NE(xml.find("attr.name=\"ground_state\" attr.type=\"boolean\""), std::string::npos) << xml;
  const ReadGraph graph = ParseGraphML(xml);
  ASSERT_EQ(boost::num_vertices(graph), 3u);
  ASSERT_EQ(boost::num_edges(graph), 6u);
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(graph[i].type, ex.nodes[i].type);
    EXPECT_EQ(graph[i].f, ex.nodes[i].f);
    EXPECT_EQ(graph[i].energy, e.relative[i]);  // 17 digits: exact
    EXPECT_EQ(graph[i].ground_state, i == 1);
  }
  for (const auto edge : boost::make_iterator_range(boost::edges(graph))) {
    EXPECT_EQ(graph[edge].cost, ex.costs(boost::source(edge, graph), boost::target(edge, graph)));
  }
}

TEST(GraphExportTest, GraphMLDisconnectedAndEmpty) {
  Eigen::MatrixXd costs = Eigen::MatrixXd::Constant(4, 4, kInf);
  costs.diagonal().setZero();
  costs(0, 1) = 0.1;  // 0.1 is not exact in binary: read back bit for bit
  costs(1, 0) = 1.0 / 3.0;
  costs(3, 2) = 7;  // {0, 1} and {2} are both sinks
  const Energies e = ComputeEnergies(costs);
  const ReadGraph graph = ParseGraphML(ToGraphML(costs, {}, e));  // no node labels given
  ASSERT_EQ(boost::num_vertices(graph), 4u);
  ASSERT_EQ(boost::num_edges(graph), 3u);
  for (int i = 0; i < 4; ++i) {
    EXPECT_EQ(graph[i].energy, kInf);
    EXPECT_FALSE(graph[i].ground_state);
    EXPECT_EQ(graph[i].type, "");
    EXPECT_TRUE(std::isnan(graph[i].f));
  }
  for (const auto edge : boost::make_iterator_range(boost::edges(graph))) {
    EXPECT_EQ(graph[edge].cost, costs(boost::source(edge, graph), boost::target(edge, graph)));
  }

  const ReadGraph empty = ParseGraphML(ToGraphML(Eigen::MatrixXd(0, 0), {}, Energies{}));
  EXPECT_EQ(boost::num_vertices(empty), 0u);
  EXPECT_EQ(boost::num_edges(empty), 0u);
}

}  // namespace
}  // namespace ldsgd
