// Output of the CLI's commands: the --out DIR they write, --json, or the printed text (tables and
// numbers: solver/io/text_table.h).
#ifndef LDSGD_APPS_OUTPUT_H_
#define LDSGD_APPS_OUTPUT_H_

#include <string>
#include <utility>
#include <vector>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "solver/io/text_table.h"

namespace ldsgd {

// --out DIR and --force of a command.
struct OutputTarget {
  std::string dir;     // "" = no files
  bool force = false;  // replace a DIR that holds files ldsgd did not write
  bool empty() const { return dir.empty(); }
};

// Registers --out (with `help`) and --force on `cmd`.
void AddOutputOptions(CLI::App* cmd, OutputTarget* target, const std::string& help);

// What a command produces: the files of --out DIR, the document of --json, the printed text.
struct CommandOutput {
  std::vector<std::pair<std::string, std::string>> files;  // path within DIR ("paths/0_to_1.csv"), content
  nlohmann::json doc;
  std::string text;
  std::string wrote;  // what the files are, for the line "wrote DIR/..." after the text
};

// DIR as a whole: the files are written into a sibling temporary folder, which then takes DIR's
// place in one atomic exchange (renameat2 RENAME_EXCHANGE), so that after any run DIR holds exactly
// that run's files, or, if the run failed or was killed, exactly what it held before; nothing of an
// earlier run survives. An existing DIR that holds anything but ldsgd's own outputs (IsOutputName)
// is refused (InputError) unless target.force. Then prints the document (json) or the text and the
// "wrote" line. Returns kExitOk.
int Emit(const CommandOutput& output, const OutputTarget& target, bool json);

}  // namespace ldsgd

#endif  // LDSGD_APPS_OUTPUT_H_
