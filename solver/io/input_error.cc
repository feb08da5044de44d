#include "solver/io/input_error.h"

namespace ldsgd {
namespace {

std::string Compose(const std::string& file, const std::string& field, const std::string& detail) {
  std::string line = file + ": ";
  if (!field.empty()) line += "field '" + field + "': ";
  line += detail;
  // One line, always: a stray newline in a detail would break the contract with scripts.
  for (char& c : line) {
    if (c == '\n' || c == '\r') c = ' ';
  }
  return line;
}

}  // namespace

InputError::InputError(const std::string& file, const std::string& field,
                       const std::string& detail)
    : std::runtime_error(Compose(file, field, detail)), file_(file), field_(field), detail_(detail) {}

}  // namespace ldsgd
