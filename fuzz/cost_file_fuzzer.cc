// libFuzzer target: the cost-file reader, then the energies of what it accepts. Bad input must come
// back as InputError; every finite energy must equal the cost of the tree reported with it.
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "graph/cost_file.h"
#include "graph/energies.h"
#include "solver/io/input_error.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  Eigen::MatrixXd costs;
  try {
    costs = ldsgd::ParseCostFile(text, "fuzz.json");
  } catch (const ldsgd::InputError&) {
    return 0;
  }
  if (costs.rows() > 64) return 0;  // O(p^2 log p): keep each input fast
  const ldsgd::Energies e = ldsgd::ComputeEnergies(costs);
  if (!e.status.ok()) __builtin_trap();  // the reader accepted it, so the kernel must
  for (int r = 0; r < e.absolute.size(); ++r) {
    if (!std::isfinite(e.absolute[r])) continue;
    double sum = 0.0;
    for (int j = 0; j < costs.rows(); ++j) {
      if (j != r) sum += costs(j, e.trees[r][j]);
    }
    if (!(std::abs(sum - e.absolute[r]) <= 1e-9 * (1.0 + std::abs(sum)))) __builtin_trap();
  }
  return 0;
}
