// The subcommands of the ldsgd CLI. Each registers its options on the app and returns the action
// to run when it was chosen; the action returns the process exit code.
#ifndef LDSGD_APPS_COMMANDS_H_
#define LDSGD_APPS_COMMANDS_H_

#include <functional>

#include <CLI/CLI.hpp>

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
Action AddRatesCommand(CLI::App& app);
Action AddReportCommand(CLI::App& app);
Action AddPlotCommand(CLI::App& app);
Action AddConvergenceCommand(CLI::App& app);

}  // namespace ldsgd

#endif  // LDSGD_APPS_COMMANDS_H_
