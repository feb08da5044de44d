// Symbolic expressions of the problem file, with exact symbolic derivatives, compiled once into a
// straight-line program (a tape) that evaluates with no re-parsing.
//
// Why symbolic differentiation and a tape: the Monte Carlo simulator evaluates gradients billions of
// times, and the path optimizer needs Hessians and derivatives of state-dependent covariances. The
// derivative expressions are built once on a hash-consed DAG (common subexpressions shared, constants
// folded, x*0, x*1, x+0 simplified), then compiled to a tape that runs with any scalar type (double,
// ceres::Jet) and in batches of points laid out structure-of-arrays, where every tape instruction is
// a tight loop over the batch that the compiler vectorizes.
#ifndef LDSGD_SOLVER_EXPRESSION_EXPRESSION_H_
#define LDSGD_SOLVER_EXPRESSION_EXPRESSION_H_

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace ldsgd {

// A syntax or name error in an expression; position() is the 0-based character offset in the text.
class ExpressionParseError : public std::runtime_error {
 public:
  ExpressionParseError(const std::string& message, std::size_t position)
      : std::runtime_error(message), position_(position) {}
  std::size_t position() const { return position_; }

 private:
  std::size_t position_;
};

enum class OpCode : std::uint8_t {
  kConstant,   // value
  kInput,      // inputs[index]
  kAdd, kSub, kMul, kDiv,
  kNeg,
  kPowInt,     // a ^ n, n a (possibly negative) integer held in `index`
  kPow,        // a ^ b, general real power
  kExp, kLog, kSqrt, kSin, kCos, kTan, kAtan, kSinh, kCosh, kTanh,
  // Arithmetic with a constant operand held in `value`. Compile emits these instead of a separate
  // kConstant instruction for the operand: one instruction less to run, and in batches one pass
  // over the lanes less. The results are those of the kConstant form, bit for bit.
  kAddConst,   // a + value
  kSubConst,   // a - value
  kConstSub,   // value - a
  kMulConst,   // a * value
  kDivConst,   // a / value
  kConstDiv,   // value / a
};

// One instruction of a compiled program. Instruction k writes workspace slot k (SSA form).
struct Instruction {
  OpCode op;
  std::int32_t a = -1;      // first operand slot
  std::int32_t b = -1;      // second operand slot
  std::int32_t index = 0;   // kInput: input index; kPowInt: exponent
  double value = 0.0;       // kConstant and the *Const operations
};

namespace expression_internal {

// Implementation details of Program::EvaluateBatch (expression.cc), not for use elsewhere.
//
// The row of lanes of one slot: a row of the program's constants if `constant` >= 0; else, when
// the batch is evaluated in place, the caller's row of input `input` or of output `output` (the
// slot's first), if >= 0; else workspace row `slot`.
struct BatchRef {
  std::int32_t slot = -1;
  std::int32_t input = -1;
  std::int32_t output = -1;
  std::int32_t constant = -1;
};
// What a fused step does with the result t of its first operation and its row c or its value.
enum class BatchThen : std::uint8_t {
  kNone,       // not fused
  kAdd,        // t + c
  kMul,        // t * c
  kSub,        // t - c
  kSubFrom,    // c - t
  kDiv,        // t / c
  kDivInto,    // c / t
  kAddConst,   // t + value
  kMulConst,   // t * value
  kSubConst,   // t - value
  kConstSub,   // value - t
  kDivConst,   // t / value
  kConstDiv,   // value / t
};
// One instruction of the program, computing row `out` from rows `a` and `b`; or two fused into
// one pass over the lanes: out = (a op b) then c or value. kInput instructions have no step:
// their rows are read through BatchRef.
struct BatchStep {
  OpCode op;
  BatchThen then;
  BatchRef out, a, b, c;
  std::int32_t index;  // kPowInt: exponent
  double value;        // kConstant and the *Const operations
};

}  // namespace expression_internal

// A compiled straight-line program: num_inputs() inputs -> num_outputs() outputs.
// Thread-safe: all evaluation state lives in the caller's workspace.
class Program {
 public:
  int num_inputs() const { return num_inputs_; }
  int num_outputs() const { return static_cast<int>(outputs_.size()); }
  // Number of scalars of type T the workspace of Evaluate<T> needs.
  int workspace_size() const { return static_cast<int>(code_.size()); }
  const std::vector<Instruction>& code() const { return code_; }

  // Scalar evaluation with any scalar type that supports the arithmetic and the functions above by
  // argument-dependent lookup or std:: (double, ceres::Jet<double, N>).
  template <typename T>
  void Evaluate(const T* inputs, T* outputs, T* workspace) const;

  // Batch evaluation of `count` points (count <= kMaxBatch) laid out structure-of-arrays:
  // input i of point k is inputs[i * input_stride + k], output j of point k is
  // outputs[j * output_stride + k]. workspace holds workspace_size() * kMaxBatch doubles.
  static constexpr int kMaxBatch = 64;
  void EvaluateBatch(int count, const double* inputs, int input_stride, double* outputs,
                     int output_stride, double* workspace) const;

 private:
  friend class ExpressionGraph;

  void BuildBatchSteps();  // batch_* from code_ and outputs_

  int num_inputs_ = 0;
  std::vector<Instruction> code_;
  std::vector<std::int32_t> outputs_;  // slot of each output
  // The batch form of the program (EvaluateBatch, expression.cc).
  std::vector<expression_internal::BatchStep> batch_steps_;
  std::vector<expression_internal::BatchRef> batch_inputs_;   // the kInput slots
  std::vector<expression_internal::BatchRef> batch_outputs_;  // outputs_ as rows
  std::vector<double> batch_constants_;  // rows of the constants fused steps read (kMaxBatch each)
};

// Owns a hash-consed DAG of expression nodes over a fixed list of input symbols: the variables
// (differentiable) followed by the parameters (named constants whose values are given at evaluation,
// e.g. the columns of a dataset; never differentiated).
class ExpressionGraph {
 public:
  using Node = std::int32_t;

  explicit ExpressionGraph(std::vector<std::string> variables,
                           std::vector<std::string> parameters = {});

  int num_variables() const { return static_cast<int>(variables_.size()); }
  int num_inputs() const { return static_cast<int>(variables_.size() + parameters_.size()); }

  // Parses numbers (1, 2.5, 1e-3), the symbols, + - * / ^ (right-associative, binds tighter than
  // unary minus: -x^2 = -(x^2)), unary minus and plus, parentheses, and the functions exp, log,
  // sqrt, sin, cos, tan, atan, sinh, cosh, tanh. Throws ExpressionParseError naming the problem
  // and its position (unknown symbol or function, unexpected token, non-finite number, ...).
  Node Parse(std::string_view text);

  // Builders, simplified and hash-consed like parsed nodes.
  Node Constant(double value);
  Node Input(int index);
  Node Add(Node a, Node b);
  Node Sub(Node a, Node b);
  Node Mul(Node a, Node b);
  Node Div(Node a, Node b);
  Node Neg(Node a);
  Node Pow(Node a, Node b);

  // Exact symbolic derivative d node / d variable (variable < num_variables()), simplified and memoized.
  Node Derivative(Node node, int variable);

  // True when the node depends on no input at all (then ConstantValue is its value).
  bool IsConstant(Node node) const;
  double ConstantValue(Node node) const;

  // Compiles the given outputs into one program sharing all common subexpressions.
  Program Compile(const std::vector<Node>& outputs) const;

  // Human-readable form, for messages and tests.
  std::string ToString(Node node) const;

 private:
  struct NodeData {
    OpCode op;
    Node a = -1, b = -1;
    std::int32_t index = 0;
    double value = 0.0;
    bool constant = false;        // depends on no input
    double constant_value = 0.0;  // its value when `constant`
  };
  // Structural identity of a node: op, operands, index and the bits of value.
  struct NodeKey {
    OpCode op;
    Node a, b;
    std::int32_t index;
    std::uint64_t value_bits;
    bool operator==(const NodeKey&) const = default;
  };
  struct NodeKeyHash {
    std::size_t operator()(const NodeKey& key) const;
  };
  class Parser;  // recursive-descent parser (expression.cc)

  Node Intern(const NodeData& data);
  void CheckNode(Node node) const;
  bool IsConstantEqual(Node node, double value) const;  // a kConstant node holding `value`
  Node Unary(OpCode op, Node a);            // exp, log, ..., tanh
  Node PowInt(Node a, std::int32_t n);      // a ^ n by repeated multiplication
  Node FoldBinary(OpCode op, Node a, Node b);  // both operands kConstant; folded or kept
  Node DerivativeOfNode(Node node, int variable);  // one rule; operand derivatives memoized

  std::vector<std::string> variables_;
  std::vector<std::string> parameters_;
  std::unordered_map<std::string, int> symbols_;  // name -> input index
  std::vector<NodeData> nodes_;
  std::unordered_map<NodeKey, Node, NodeKeyHash> intern_;   // structural key -> node
  std::unordered_map<std::int64_t, Node> derivative_memo_;  // (node, variable) -> derivative
};

}  // namespace ldsgd

#include "solver/expression/expression_impl.h"  // Program::Evaluate<T>

#endif  // LDSGD_SOLVER_EXPRESSION_EXPRESSION_H_
