// Program::Evaluate<T>, included at the end of solver/expression.h. Not to be included directly.
#ifndef LDSGD_SOLVER_EXPRESSION_EXPRESSION_IMPL_H_
#define LDSGD_SOLVER_EXPRESSION_EXPRESSION_IMPL_H_

#include <cmath>
#include <cstddef>
#include <cstdint>

#include "solver/expression/expression.h"

namespace ldsgd {
namespace expression_internal {

// |n| without overflow for n = INT32_MIN.
inline std::uint32_t Magnitude(std::int32_t n) {
  return n < 0 ? 0u - static_cast<std::uint32_t>(n) : static_cast<std::uint32_t>(n);
}

// a ^ n by binary exponentiation; a ^ -n = 1 / a ^ n. The sequence of multiplications is the one
// EvaluateBatch performs lane by lane, so both give bit-identical results.
template <typename T>
T PowInt(T a, std::int32_t n) {
  if (n == 0) return T(1.0);
  std::uint32_t m = Magnitude(n);
  while ((m & 1u) == 0) {
    a = a * a;
    m >>= 1;
  }
  T r = a;
  m >>= 1;
  while (m != 0) {
    a = a * a;
    if ((m & 1u) != 0) r = r * a;
    m >>= 1;
  }
  if (n < 0) return T(1.0) / r;
  return r;
}

}  // namespace expression_internal

template <typename T>
void Program::Evaluate(const T* inputs, T* outputs, T* workspace) const {
  using std::atan;
  using std::cos;
  using std::cosh;
  using std::exp;
  using std::log;
  using std::pow;
  using std::sin;
  using std::sinh;
  using std::sqrt;
  using std::tan;
  using std::tanh;
  T* w = workspace;
  const Instruction* code = code_.data();
  const std::size_t size = code_.size();
  for (std::size_t k = 0; k < size; ++k) {
    const Instruction& in = code[k];
    switch (in.op) {
      case OpCode::kConstant: w[k] = T(in.value); break;
      case OpCode::kInput: w[k] = inputs[in.index]; break;
      case OpCode::kAdd: w[k] = w[in.a] + w[in.b]; break;
      case OpCode::kSub: w[k] = w[in.a] - w[in.b]; break;
      case OpCode::kMul: w[k] = w[in.a] * w[in.b]; break;
      case OpCode::kDiv: w[k] = w[in.a] / w[in.b]; break;
      case OpCode::kNeg: w[k] = -w[in.a]; break;
      case OpCode::kPowInt:
        // Squares, the common case, without the loop; PowInt(a, 2) is also a * a.
        w[k] = in.index == 2 ? w[in.a] * w[in.a] : expression_internal::PowInt(w[in.a], in.index);
        break;
      case OpCode::kPow: w[k] = pow(w[in.a], w[in.b]); break;
      case OpCode::kExp: w[k] = exp(w[in.a]); break;
      case OpCode::kLog: w[k] = log(w[in.a]); break;
      case OpCode::kSqrt: w[k] = sqrt(w[in.a]); break;
      case OpCode::kSin: w[k] = sin(w[in.a]); break;
      case OpCode::kCos: w[k] = cos(w[in.a]); break;
      case OpCode::kTan: w[k] = tan(w[in.a]); break;
      case OpCode::kAtan: w[k] = atan(w[in.a]); break;
      case OpCode::kSinh: w[k] = sinh(w[in.a]); break;
      case OpCode::kCosh: w[k] = cosh(w[in.a]); break;
      case OpCode::kTanh: w[k] = tanh(w[in.a]); break;
      // T(value), not the bare double: the same operation as on a kConstant slot (for Jets too).
      case OpCode::kAddConst: w[k] = w[in.a] + T(in.value); break;
      case OpCode::kSubConst: w[k] = w[in.a] - T(in.value); break;
      case OpCode::kConstSub: w[k] = T(in.value) - w[in.a]; break;
      case OpCode::kMulConst: w[k] = w[in.a] * T(in.value); break;
      case OpCode::kDivConst: w[k] = w[in.a] / T(in.value); break;
      case OpCode::kConstDiv: w[k] = T(in.value) / w[in.a]; break;
    }
  }
  const std::size_t num_outputs = outputs_.size();
  for (std::size_t j = 0; j < num_outputs; ++j) outputs[j] = w[outputs_[j]];
}

}  // namespace ldsgd

#endif  // LDSGD_SOLVER_EXPRESSION_EXPRESSION_IMPL_H_
