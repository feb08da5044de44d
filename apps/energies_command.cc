// `ldsgd energies`: energies, ground states and optimal trees of a cost matrix (THEORY.md section 5).
#include <algorithm>
#include <cmath>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "apps/commands.h"
#include "apps/output.h"
#include "apps/validators.h"
#include "graph/cost_file.h"
#include "graph/energies.h"

namespace ldsgd {
namespace {

struct EnergiesArgs {
  std::string costs;
  bool json = false;
  EnergiesOptions options;
};

// "1->2 2->0": every node but the root with the node it moves to.
std::string TreeEdges(const std::vector<int>& tree) {
  std::string s;
  for (std::size_t j = 0; j < tree.size(); ++j) {
    if (tree[j] < 0) continue;
    s += (s.empty() ? "" : " ") + std::to_string(j) + "->" + std::to_string(tree[j]);
  }
  return s;
}

nlohmann::json ToJson(const Energies& e) {
  nlohmann::json energies = nlohmann::json::array(), trees = nlohmann::json::array();
  for (int i = 0; i < e.relative.size(); ++i) {
    energies.push_back(std::isinf(e.relative[i]) ? nlohmann::json(nullptr) : nlohmann::json(e.relative[i]));
    if (e.trees[i].empty()) {
      trees.push_back(nullptr);
      continue;
    }
    nlohmann::json tree = nlohmann::json::array();
    for (const int next : e.trees[i]) {
      tree.push_back(next < 0 ? nlohmann::json(nullptr) : nlohmann::json(next));
    }
    trees.push_back(tree);
  }
  return {{"energies", energies}, {"ground_states", e.ground_states}, {"trees", trees}};
}

int Run(const EnergiesArgs& args) {
  const Eigen::MatrixXd costs = LoadCostFile(args.costs);  // throws InputError
  const Energies e = ComputeEnergies(costs, args.options);
  if (!e.status.ok()) {
    std::cerr << "ldsgd: error: " << e.status.message() << "\n";
    return kExitBadInput;
  }
  if (args.json) {
    std::cout << ToJson(e).dump(2) << "\n";
    return kExitOk;
  }
  Table table({"id", "E - min E", "ground", "optimal in-tree (node->next)"});
  for (int i = 0; i < e.relative.size(); ++i) {
    const bool ground = std::find(e.ground_states.begin(), e.ground_states.end(), i) != e.ground_states.end();
    table.AddRow({std::to_string(i), FormatNumber(e.relative[i], 10), ground ? "yes" : "",
                  e.trees[i].empty() ? "(not reachable from every node)" : TreeEdges(e.trees[i])});
  }
  std::cout << args.costs << ": " << costs.rows() << " components\n\n"
            << table.ToString() << "\nground states:";
  for (const int g : e.ground_states) std::cout << " " << g;
  if (e.ground_states.empty()) std::cout << " none (no component is reachable from every other)";
  std::cout << "\n";
  return kExitOk;
}

}  // namespace

Action AddEnergiesCommand(CLI::App& app) {
  auto args = std::make_shared<EnergiesArgs>();
  CLI::App* cmd = app.add_subcommand(
      "energies",
      "Energies of a transition-cost matrix: E_i = the minimum total cost B of a spanning tree in\n"
      "which every other component moves, edge by edge, to i (THEORY.md section 5). Prints E_i - min E\n"
      "(inf: some component cannot reach i), the ground states (argmin E) and each root's optimal tree.");
  cmd->add_option("costs", args->costs,
                  "Cost file (JSON): {\"costs\": [[B_00, B_01, ...], ...]}, null = +infinity; the\n"
                  "costs.json of `ldsgd actions --out` works as is.")
      ->required();
  cmd->add_flag("--json", args->json,
                "Print {\"energies\": [E_i - min E, null = +inf], \"ground_states\": [ids], \"trees\":\n"
                "[per root: the node each node moves to, null at the root; null if E = +inf]}.");
  cmd->add_option("--tie-tolerance", args->options.tie_tolerance,
                  "Ground-state ties: E_i - min E <= tolerance * max(1, max |E|).")
      ->check(kNonNegative)
      ->capture_default_str();
  return [args] { return Run(*args); };
}

}  // namespace ldsgd
