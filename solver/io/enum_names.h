// One spelling per enum value, shared by the CLI, JSON files and printed reports (Ceres types.h:
// every enum has ToString/FromString). Each enum lists its names once, in a table beside it:
//
//   template <> struct EnumNames<Verdict> {
//     static constexpr std::array<std::pair<Verdict, const char*>, 3> kNames = {{...}};
//   };
//
// and gets ToString(value) and FromString(text, &value) from the templates below.
#ifndef LDSGD_SOLVER_IO_ENUM_NAMES_H_
#define LDSGD_SOLVER_IO_ENUM_NAMES_H_

#include <ostream>
#include <string_view>
#include <type_traits>

namespace ldsgd {

template <typename E>
struct EnumNames;  // specialized beside each enum

// The spelling of `value`; "unknown" for a value outside the table (a cast, never a valid value).
template <typename E>
  requires std::is_enum_v<E> && requires { EnumNames<E>::kNames; }
const char* ToString(E value) {
  for (const auto& [v, name] : EnumNames<E>::kNames) {
    if (v == value) return name;
  }
  return "unknown";
}

// Sets *value and returns true when `text` is one of the spellings; else leaves it and returns false.
template <typename E>
  requires std::is_enum_v<E> && requires { EnumNames<E>::kNames; }
bool FromString(std::string_view text, E* value) {
  for (const auto& [v, name] : EnumNames<E>::kNames) {
    if (text == name) {
      *value = v;
      return true;
    }
  }
  return false;
}

// Streams the spelling (messages, and GoogleTest's failure output).
template <typename E>
  requires std::is_enum_v<E> && requires { EnumNames<E>::kNames; }
std::ostream& operator<<(std::ostream& out, E value) {
  return out << ToString(value);
}

}  // namespace ldsgd

#endif  // LDSGD_SOLVER_IO_ENUM_NAMES_H_
