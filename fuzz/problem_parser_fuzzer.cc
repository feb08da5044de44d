// libFuzzer target: the problem parser on arbitrary text, then f, its gradient and Hessian and the
// noise covariance at the box centre. Bad input must come back as InputError, nothing else.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "solver/io/input_error.h"
#include "solver/problem/problem.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  try {
    const ldsgd::Problem p = ldsgd::ParseProblem(text, "fuzz.json");
    const Eigen::VectorXd centre = 0.5 * (p.domain.lower + p.domain.upper);
    const int d = p.dimension();
    Eigen::VectorXd g(d);
    Eigen::MatrixXd h(d, d);
    p.objective->Hessian(centre.data(), g.data(), h.data());
    p.noise.CovarianceAt(centre.data());
  } catch (const ldsgd::InputError&) {
  }
  return 0;
}
