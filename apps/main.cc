// ldsgd: the long-run behaviour of constant step-size SGD. A thin front end over solver/ and graph/.
#include <algorithm>
#include <iostream>
#include <string>
#include <vector>

#include <glog/logging.h>

#include "apps/commands.h"
#include "solver/io/input_error.h"
#include "solver/numerics/cluster.h"

int main(int argc, char** argv) {
  // First: under mpirun every rank but 0 is silenced before anything is printed.
  const ldsgd::ClusterSession cluster(&argc, &argv);
  // Ceres reports through glog; its messages are for us, not for the user, unless --verbose asks.
  google::InitGoogleLogging(argv[0]);
  FLAGS_logtostderr = true;
  FLAGS_minloglevel = google::GLOG_FATAL;
  bool verbose = false;
  for (int i = 1; i < argc; ++i) {
    if (std::string(argv[i]) == "--verbose") FLAGS_minloglevel = google::GLOG_INFO, verbose = true;
  }
  CLI::App app(
      "ldsgd: where SGD spends its time on a landscape, by large-deviation theory (Azizian et al.,\n"
      "ICML 2024). Give a problem file (objective, noise, domain; format in README.md) to a command.",
      "ldsgd");
  app.require_subcommand(1);
  app.set_version_flag("--version", std::string("ldsgd 0.1.0") +
                                        (ldsgd::ClusterBuiltWithMpi() ? " (with MPI: runs under mpirun)" : " (without MPI)"));
  // Every command takes --verbose: the ones without their own pass it here (glog, and the MPI
  // job's communication on stderr at the end).
  // (read from argv above, before any command runs)
  app.add_flag("--verbose")->description("Report more on stderr: the solvers' logs, and in an MPI job its communication.");
  app.fallthrough();
  const ldsgd::Action analyze = ldsgd::AddAnalyzeCommand(app);
  const ldsgd::Action critical = ldsgd::AddCriticalCommand(app);
  const ldsgd::Action actions = ldsgd::AddActionsCommand(app);
  const ldsgd::Action energies = ldsgd::AddEnergiesCommand(app);
  const ldsgd::Action simulate = ldsgd::AddSimulateCommand(app);
  const ldsgd::Action verify = ldsgd::AddVerifyCommand(app);
  const ldsgd::Action stability = ldsgd::AddStabilityCommand(app);
  const ldsgd::Action rates = ldsgd::AddRatesCommand(app);
  const ldsgd::Action report = ldsgd::AddReportCommand(app);
  const ldsgd::Action plot = ldsgd::AddPlotCommand(app);
  const ldsgd::Action convergence = ldsgd::AddConvergenceCommand(app);
  // CLI11 would say only "A subcommand is required".
  const std::string first = argc > 1 ? argv[1] : "";
  const std::vector<std::string> commands = {"analyze", "critical", "actions", "energies", "simulate", "verify",
                                             "stability", "rates", "report", "plot", "convergence"};
  if (!first.empty() && first[0] != '-' && std::find(commands.begin(), commands.end(), first) == commands.end()) {
    std::cerr << "ldsgd: error: unknown command '" << argv[1]
              << "' (commands: analyze, critical, actions, energies, simulate, verify, stability, rates, report, plot, convergence)\n";
    return ldsgd::kExitBadInput;
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    // --help and --version are "errors" with exit code 0 in CLI11; the others are bad input, said
    // on one line like every other error.
    if (e.get_exit_code() == 0) return app.exit(e);
    std::string what = e.what();
    std::replace(what.begin(), what.end(), '\n', ' ');
    std::cerr << "ldsgd: error: " << what << "\n";
    return ldsgd::kExitBadInput;
  }
  const auto run = [&]() -> int {
    if (app.got_subcommand("analyze")) return analyze();
    if (app.got_subcommand("critical")) return critical();
    if (app.got_subcommand("actions")) return actions();
    if (app.got_subcommand("energies")) return energies();
    if (app.got_subcommand("simulate")) return simulate();
    if (app.got_subcommand("verify")) return verify();
    if (app.got_subcommand("stability")) return stability();
    if (app.got_subcommand("rates")) return rates();
    if (app.got_subcommand("report")) return report();
    if (app.got_subcommand("plot")) return plot();
    if (app.got_subcommand("convergence")) return convergence();
    return ldsgd::kExitBadInput;
  };
  try {
    const int code = run();
    // The communication of an MPI job, as rank 0 counted it (docs/SCALING.md).
    if (verbose && ldsgd::Cluster::Get().size() > 1) std::cerr << "ldsgd: MPI: " << ldsgd::Cluster::Get().Describe() << "\n";
    return code;
  } catch (const ldsgd::InputError& e) {
    std::cerr << "ldsgd: error: " << e.what() << "\n";
    return ldsgd::kExitBadInput;
  } catch (const std::exception& e) {
    std::cerr << "ldsgd: internal error: " << e.what() << "\n";
    // A failure one rank may meet alone: the others would wait for it in a collective.
    ldsgd::ClusterSession::Abort(ldsgd::kExitFailure);
    return ldsgd::kExitFailure;
  }
}
