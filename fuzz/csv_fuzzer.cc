// libFuzzer target: the dataset (CSV) reader. Bad input must come back as InputError; a table that
// parses has as many finite values as rows times columns.
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "solver/io/csv_table.h"
#include "solver/io/input_error.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  try {
    const ldsgd::SampleTable t = ldsgd::ParseCsv(text, "fuzz.csv");
    if (t.values.size() != static_cast<std::size_t>(t.rows) * t.columns.size()) __builtin_trap();
    for (double v : t.values) {
      if (!std::isfinite(v)) __builtin_trap();
    }
  } catch (const ldsgd::InputError&) {
  }
  return 0;
}
