// Output helpers of the CLI: atomic file writes (tables and numbers: solver/io/text_table.h).
#ifndef LDSGD_APPS_OUTPUT_H_
#define LDSGD_APPS_OUTPUT_H_

#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "solver/io/text_table.h"

namespace ldsgd {

// Writes `content` to DIR/NAME through a temporary file in DIR and a rename, so a reader never
// sees a partial file. Creates DIR. Throws InputError (naming the path) on failure.
void WriteFileAtomically(const std::string& dir, const std::string& name, const std::string& content);

// What a command produces: the files of --out DIR, the document of --json, the printed text.
struct CommandOutput {
  std::vector<std::pair<std::string, std::string>> files;  // path within DIR ("paths/0_to_1.csv"), content
  nlohmann::json doc;
  std::string text;
  std::string wrote;  // what the files are, for the line "wrote DIR/..." after the text
};

// Writes the files into `dir` (unless empty), in order, then prints the document (json) or the text
// and the "wrote" line. Returns kExitOk.
int Emit(const CommandOutput& output, const std::string& dir, bool json);

}  // namespace ldsgd

#endif  // LDSGD_APPS_OUTPUT_H_
