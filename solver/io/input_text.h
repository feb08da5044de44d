// Words for input-error messages, shared by every reader of user files.
#ifndef LDSGD_SOLVER_IO_INPUT_TEXT_H_
#define LDSGD_SOLVER_IO_INPUT_TEXT_H_

#include <cstddef>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace ldsgd {

// "null", "a boolean", "a number", "a string", "an array", "an object".
const char* JsonTypeName(const nlohmann::json& j);

// The shortest "%g" spelling that reads back as v ("-0.5", not "-0.50000000000000000"), so a
// message names the very number of the input; "inf" / "-inf" / "nan" spelled out.
std::string ShortestSpelling(double v);

// The whole text of a user's file, at most `max_bytes`. Throws InputError naming the file: "cannot
// open file", "cannot read file" (a directory opens as a stream that reads nothing, which would
// pass for empty text), "not a regular file" (/dev/zero and other endless streams), "larger
// than ...".
inline constexpr std::size_t kMaxProblemFileBytes = std::size_t{64} << 20;  // 64 MiB: JSON by hand
std::string ReadInputFile(const std::string& path, std::size_t max_bytes = kMaxProblemFileBytes);

// JSON text parsed strictly: "invalid JSON: ..." with nlohmann's position, and a key given twice in
// one object is an error naming it ("field 'noise.type': given twice"), never last-wins.
nlohmann::json ParseJson(std::string_view text, const std::string& source);

// "Invalid configuration. Options::FIELD = VALUE. Violated constraint: CONSTRAINT" (Ceres style),
// for the solvers' option checks.
std::string InvalidOption(const char* field, double value, const char* constraint);

}  // namespace ldsgd

#endif  // LDSGD_SOLVER_IO_INPUT_TEXT_H_
