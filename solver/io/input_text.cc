#include "solver/io/input_text.h"

#include <filesystem>
#include <fstream>
#include <sstream>

#include "solver/io/input_error.h"

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <sstream>

namespace ldsgd {

const char* JsonTypeName(const nlohmann::json& j) {
  if (j.is_null()) return "null";
  if (j.is_boolean()) return "a boolean";
  if (j.is_number()) return "a number";
  if (j.is_string()) return "a string";
  if (j.is_array()) return "an array";
  return "an object";
}

std::string ShortestSpelling(double v) {
  if (std::isnan(v)) return "nan";
  if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
  char buffer[32];
  for (int digits = 1; digits <= 17; ++digits) {
    std::snprintf(buffer, sizeof buffer, "%.*g", digits, v);
    if (std::strtod(buffer, nullptr) == v) break;
  }
  return buffer;
}

std::string InvalidOption(const char* field, double value, const char* constraint) {
  std::ostringstream s;
  s << "Invalid configuration. Options::" << field << " = " << value
    << ". Violated constraint: " << constraint;
  return s.str();
}

std::string ReadInputFile(const std::string& path) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) throw InputError(path, "", "cannot read file: is a directory");
  std::ifstream in(path, std::ios::binary);
  if (!in) throw InputError(path, "", "cannot open file");
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) throw InputError(path, "", "cannot read file");
  return text.str();
}

}  // namespace ldsgd
