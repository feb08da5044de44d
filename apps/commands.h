// The subcommands of the ldsgd CLI. Each registers its options on the app and returns the action
// to run when it was chosen; the action returns the process exit code.
#ifndef LDSGD_APPS_COMMANDS_H_
#define LDSGD_APPS_COMMANDS_H_

#include <functional>

#include <string>
#include <vector>

#include <CLI/CLI.hpp>
#include <Eigen/Core>

#include "solver/landscape/critical_points.h"

namespace ldsgd {

// Exit codes shared by every command.
inline constexpr int kExitOk = 0;
inline constexpr int kExitFailure = 1;   // a solver failed, or a verification did not pass
inline constexpr int kExitBadInput = 2;  // bad input: problem file, options, cost file

using Action = std::function<int()>;
Action AddCriticalCommand(CLI::App& app);
Action AddActionsCommand(CLI::App& app);
Action AddAnalyzeCommand(CLI::App& app);
Action AddEnergiesCommand(CLI::App& app);
Action AddSimulateCommand(CLI::App& app);
Action AddVerifyCommand(CLI::App& app);
Action AddStabilityCommand(CLI::App& app);

// The B matrix as a table labelled by component id and type (shared by actions and analyze).
std::string CostTable(const Eigen::MatrixXd& costs, const std::vector<CriticalComponent>& components);

}  // namespace ldsgd

#endif  // LDSGD_APPS_COMMANDS_H_
