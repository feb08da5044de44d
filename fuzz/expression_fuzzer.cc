// libFuzzer target: the expression compiler. Any text either fails to parse with
// ExpressionParseError or compiles (with its exact derivatives) into a program whose batch
// evaluation gives the same bits as its scalar evaluation at every point.
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string_view>
#include <vector>

#include "solver/expression/expression.h"

namespace {

bool SameBits(double a, double b) {
  if (std::isnan(a) && std::isnan(b)) return true;  // NaN payloads may differ; NaN-ness may not
  return std::memcmp(&a, &b, sizeof a) == 0;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  ldsgd::ExpressionGraph graph({"x", "y"});
  ldsgd::ExpressionGraph::Node f;
  try {
    f = graph.Parse(text);
  } catch (const ldsgd::ExpressionParseError&) {
    return 0;
  }
  const ldsgd::Program program = graph.Compile({f, graph.Derivative(f, 0), graph.Derivative(f, 1)});
  constexpr int kPoints = 5;
  const double xs[kPoints] = {0.0, 1.0, -0.5, 2.5, 1e-3}, ys[kPoints] = {0.0, -1.0, 0.25, 3.0, -7.0};
  const int outputs = program.num_outputs();
  std::vector<double> inputs(2 * kPoints), batch(outputs * kPoints);
  std::vector<double> work(program.workspace_size() * ldsgd::Program::kMaxBatch);
  for (int k = 0; k < kPoints; ++k) {
    inputs[k] = xs[k];
    inputs[kPoints + k] = ys[k];
  }
  program.EvaluateBatch(kPoints, inputs.data(), kPoints, batch.data(), kPoints, work.data());
  std::vector<double> scalar(outputs), scalar_work(program.workspace_size());
  for (int k = 0; k < kPoints; ++k) {
    const double point[2] = {xs[k], ys[k]};
    program.Evaluate(point, scalar.data(), scalar_work.data());
    for (int j = 0; j < outputs; ++j) {
      if (!SameBits(scalar[j], batch[j * kPoints + k])) __builtin_trap();
    }
  }
  return 0;
}
