#include "solver/expression.h"

#include <algorithm>
#include <bit>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <limits>
#include <stdexcept>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

namespace ldsgd {
namespace {

using Node = ExpressionGraph::Node;

struct FunctionName {
  std::string_view name;
  OpCode op;
};
constexpr FunctionName kFunctions[] = {
    {"exp", OpCode::kExp},   {"log", OpCode::kLog},   {"sqrt", OpCode::kSqrt},
    {"sin", OpCode::kSin},   {"cos", OpCode::kCos},   {"tan", OpCode::kTan},
    {"atan", OpCode::kAtan}, {"sinh", OpCode::kSinh}, {"cosh", OpCode::kCosh},
    {"tanh", OpCode::kTanh},
};

const FunctionName* FindFunction(std::string_view name) {
  for (const FunctionName& f : kFunctions) {
    if (f.name == name) return &f;
  }
  return nullptr;
}

std::string_view FunctionNameOf(OpCode op) {
  for (const FunctionName& f : kFunctions) {
    if (f.op == op) return f.name;
  }
  return "?";
}

bool IsUnaryFunction(OpCode op) {
  switch (op) {
    case OpCode::kExp: case OpCode::kLog: case OpCode::kSqrt: case OpCode::kSin:
    case OpCode::kCos: case OpCode::kTan: case OpCode::kAtan: case OpCode::kSinh:
    case OpCode::kCosh: case OpCode::kTanh:
      return true;
    default:
      return false;
  }
}

bool HasOperandA(OpCode op) { return op != OpCode::kConstant && op != OpCode::kInput; }

bool HasOperandB(OpCode op) {
  return op == OpCode::kAdd || op == OpCode::kSub || op == OpCode::kMul || op == OpCode::kDiv ||
         op == OpCode::kPow;
}

// The value of one operation on double operands, computed exactly as Program::Evaluate<double>
// computes it.
double Apply(OpCode op, double a, double b, std::int32_t index) {
  switch (op) {
    case OpCode::kConstant: return 0.0;  // not used: constants carry their value
    case OpCode::kInput: return 0.0;     // not used: inputs are never constant
    case OpCode::kAdd: return a + b;
    case OpCode::kSub: return a - b;
    case OpCode::kMul: return a * b;
    case OpCode::kDiv: return a / b;
    case OpCode::kNeg: return -a;
    case OpCode::kPowInt: return expression_internal::PowInt(a, index);
    case OpCode::kPow: return std::pow(a, b);
    case OpCode::kExp: return std::exp(a);
    case OpCode::kLog: return std::log(a);
    case OpCode::kSqrt: return std::sqrt(a);
    case OpCode::kSin: return std::sin(a);
    case OpCode::kCos: return std::cos(a);
    case OpCode::kTan: return std::tan(a);
    case OpCode::kAtan: return std::atan(a);
    case OpCode::kSinh: return std::sinh(a);
    case OpCode::kCosh: return std::cosh(a);
    case OpCode::kTanh: return std::tanh(a);
  }
  return 0.0;
}

std::string FormatNumber(double value) {
  char buffer[64];
  const auto result = std::to_chars(buffer, buffer + sizeof(buffer), value);
  return std::string(buffer, result.ptr);
}

bool IsIdentifierStart(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}
bool IsIdentifierChar(char c) { return IsIdentifierStart(c) || (c >= '0' && c <= '9'); }
bool IsDigit(char c) { return c >= '0' && c <= '9'; }
bool IsSpace(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

}  // namespace

// ------------------------------------------------------------------------------------------------
// Parser.

class ExpressionGraph::Parser {
 public:
  Parser(ExpressionGraph& graph, std::string_view text) : graph_(graph), text_(text) {}

  Node Run() {
    Advance();
    if (token_.kind == Kind::kEnd) throw ExpressionParseError("empty expression", 0);
    const Node result = ParseSum();
    if (token_.kind != Kind::kEnd) throw Unexpected();
    return result;
  }

 private:
  enum class Kind { kNumber, kIdentifier, kOperator, kEnd };
  struct Token {
    Kind kind = Kind::kEnd;
    std::size_t position = 0;
    std::string_view text;
    double value = 0.0;
  };
  // Deep enough for any hand-written expression, shallow enough for the stack.
  static constexpr int kMaxDepth = 1000;

  bool IsOperator(char c) const { return token_.kind == Kind::kOperator && token_.text[0] == c; }

  ExpressionParseError Unexpected() const {
    if (token_.kind == Kind::kEnd) {
      return ExpressionParseError("unexpected end of expression", token_.position);
    }
    return ExpressionParseError("unexpected '" + std::string(token_.text) + "'", token_.position);
  }

  // Reads the next token into token_.
  void Advance() {
    while (pos_ < text_.size() && IsSpace(text_[pos_])) ++pos_;
    token_ = Token();
    token_.position = pos_;
    if (pos_ >= text_.size()) return;
    const std::size_t start = pos_;
    const char c = text_[pos_];
    if (IsIdentifierStart(c)) {
      while (pos_ < text_.size() && IsIdentifierChar(text_[pos_])) ++pos_;
      token_.kind = Kind::kIdentifier;
      token_.text = text_.substr(start, pos_ - start);
      return;
    }
    if (IsDigit(c) || (c == '.' && start + 1 < text_.size() && IsDigit(text_[start + 1]))) {
      LexNumber();
      return;
    }
    if (c == '+' || c == '-' || c == '*' || c == '/' || c == '^' || c == '(' || c == ')' ||
        c == ',') {
      ++pos_;
      token_.kind = Kind::kOperator;
      token_.text = text_.substr(start, 1);
      return;
    }
    std::string shown;
    if (static_cast<unsigned char>(c) >= 0x20 && static_cast<unsigned char>(c) < 0x7f) {
      shown = std::string(1, c);
    } else {
      char buffer[8];
      std::snprintf(buffer, sizeof(buffer), "\\x%02x", static_cast<unsigned>(static_cast<unsigned char>(c)));
      shown = buffer;
    }
    throw ExpressionParseError("unexpected character '" + shown + "'", start);
  }

  // digits [. digits] | . digits, then an optional exponent [eE][+-]digits.
  void LexNumber() {
    const std::size_t start = pos_;
    // Decimal exponent of the leading significant digit, to tell overflow from underflow.
    long leading = 0;
    bool seen_nonzero = false;
    long integer_digits = 0;
    while (pos_ < text_.size() && IsDigit(text_[pos_])) {
      if (seen_nonzero || text_[pos_] != '0') {
        seen_nonzero = true;
        ++integer_digits;
      }
      ++pos_;
    }
    leading = integer_digits - 1;
    if (pos_ < text_.size() && text_[pos_] == '.') {
      ++pos_;
      long zeros = 0;
      while (pos_ < text_.size() && IsDigit(text_[pos_])) {
        if (!seen_nonzero) {
          if (text_[pos_] == '0') {
            ++zeros;
          } else {
            seen_nonzero = true;
            leading = -zeros - 1;
          }
        }
        ++pos_;
      }
    }
    if (pos_ < text_.size() && (text_[pos_] == 'e' || text_[pos_] == 'E')) {
      ++pos_;
      bool negative = false;
      if (pos_ < text_.size() && (text_[pos_] == '+' || text_[pos_] == '-')) {
        negative = text_[pos_] == '-';
        ++pos_;
      }
      if (pos_ >= text_.size() || !IsDigit(text_[pos_])) {
        while (pos_ < text_.size() && IsIdentifierChar(text_[pos_])) ++pos_;
        throw ExpressionParseError(
            "malformed number '" + std::string(text_.substr(start, pos_ - start)) + "'", start);
      }
      long exponent = 0;
      while (pos_ < text_.size() && IsDigit(text_[pos_])) {
        if (exponent < 100000000) exponent = exponent * 10 + (text_[pos_] - '0');
        ++pos_;
      }
      leading += negative ? -exponent : exponent;
    }
    token_.kind = Kind::kNumber;
    token_.text = text_.substr(start, pos_ - start);
    const char* first = text_.data() + start;
    const char* last = text_.data() + pos_;
    double value = 0.0;
    const auto result = std::from_chars(first, last, value, std::chars_format::general);
    if (result.ec == std::errc::result_out_of_range) {
      // Too large is an error; too small rounds to zero like any decimal constant would.
      if (seen_nonzero && leading >= 0) {
        throw ExpressionParseError("number out of range '" + std::string(token_.text) + "'",
                                   start);
      }
      value = 0.0;
    } else if (result.ec != std::errc() || result.ptr != last) {
      throw ExpressionParseError("malformed number '" + std::string(token_.text) + "'", start);
    }
    if (!std::isfinite(value)) {
      throw ExpressionParseError("number out of range '" + std::string(token_.text) + "'", start);
    }
    token_.value = value;
  }

  // sum := product (('+' | '-') product)*
  Node ParseSum() {
    Node left = ParseProduct();
    while (IsOperator('+') || IsOperator('-')) {
      const bool plus = IsOperator('+');
      Advance();
      const Node right = ParseProduct();
      left = plus ? graph_.Add(left, right) : graph_.Sub(left, right);
    }
    return left;
  }

  // product := unary (('*' | '/') unary)*
  Node ParseProduct() {
    Node left = ParseUnary();
    while (IsOperator('*') || IsOperator('/')) {
      const bool times = IsOperator('*');
      Advance();
      const Node right = ParseUnary();
      left = times ? graph_.Mul(left, right) : graph_.Div(left, right);
    }
    return left;
  }

  // unary := ('-' | '+') unary | power. Every nesting passes here, so the depth is counted here.
  Node ParseUnary() {
    if (++depth_ > kMaxDepth) {
      throw ExpressionParseError("expression nested too deeply", token_.position);
    }
    Node result;
    if (IsOperator('-')) {
      Advance();
      result = graph_.Neg(ParseUnary());
    } else if (IsOperator('+')) {
      Advance();
      result = ParseUnary();
    } else {
      result = ParsePower();
    }
    --depth_;
    return result;
  }

  // power := primary ('^' unary)?   (right-associative through unary)
  Node ParsePower() {
    const Node base = ParsePrimary();
    if (!IsOperator('^')) return base;
    Advance();
    const Node exponent = ParseUnary();
    return graph_.Pow(base, exponent);
  }

  // primary := number | symbol | function '(' sum ')' | '(' sum ')'
  Node ParsePrimary() {
    if (token_.kind == Kind::kNumber) {
      const double value = token_.value;
      Advance();
      return graph_.Constant(value);
    }
    if (token_.kind == Kind::kIdentifier) {
      const Token name = token_;
      Advance();
      const FunctionName* function = FindFunction(name.text);
      if (IsOperator('(')) {
        if (function == nullptr) {
          throw ExpressionParseError("unknown function '" + std::string(name.text) + "'",
                                     name.position);
        }
        Advance();
        const Node argument = ParseSum();
        if (IsOperator(',')) {
          throw ExpressionParseError(
              "function '" + std::string(name.text) + "' takes one argument", token_.position);
        }
        if (!IsOperator(')')) throw ExpressionParseError("expected ')'", token_.position);
        Advance();
        return graph_.Unary(function->op, argument);
      }
      const auto symbol = graph_.symbols_.find(std::string(name.text));
      if (symbol != graph_.symbols_.end()) return graph_.Input(symbol->second);
      if (function != nullptr) {
        throw ExpressionParseError(
            "expected '(' after function '" + std::string(name.text) + "'", token_.position);
      }
      throw ExpressionParseError("unknown symbol '" + std::string(name.text) + "'",
                                 name.position);
    }
    if (IsOperator('(')) {
      Advance();
      const Node inner = ParseSum();
      if (!IsOperator(')')) throw ExpressionParseError("expected ')'", token_.position);
      Advance();
      return inner;
    }
    throw Unexpected();
  }

  ExpressionGraph& graph_;
  std::string_view text_;
  std::size_t pos_ = 0;
  Token token_;
  int depth_ = 0;
};

// ------------------------------------------------------------------------------------------------
// Graph construction.

std::size_t ExpressionGraph::NodeKeyHash::operator()(const NodeKey& key) const {
  std::uint64_t h = static_cast<std::uint64_t>(key.op);
  const auto mix = [&h](std::uint64_t v) {
    h ^= v + 0x9e3779b97f4a7c15ull + (h << 6) + (h >> 2);
  };
  mix(static_cast<std::uint32_t>(key.a));
  mix(static_cast<std::uint32_t>(key.b));
  mix(static_cast<std::uint32_t>(key.index));
  mix(key.value_bits);
  return static_cast<std::size_t>(h);
}

ExpressionGraph::ExpressionGraph(std::vector<std::string> variables,
                                 std::vector<std::string> parameters)
    : variables_(std::move(variables)), parameters_(std::move(parameters)) {
  const int n = num_inputs();
  for (int i = 0; i < n; ++i) {
    const std::string& name =
        i < num_variables() ? variables_[i] : parameters_[i - num_variables()];
    if (!symbols_.emplace(name, i).second) {
      throw std::invalid_argument("duplicate symbol '" + name + "'");
    }
  }
}

ExpressionGraph::Node ExpressionGraph::Parse(std::string_view text) {
  return Parser(*this, text).Run();
}

void ExpressionGraph::CheckNode(Node node) const {
  if (node < 0 || node >= static_cast<Node>(nodes_.size())) {
    throw std::out_of_range("invalid expression node " + std::to_string(node));
  }
}

ExpressionGraph::Node ExpressionGraph::Intern(const NodeData& data) {
  const NodeKey key{data.op, data.a, data.b, data.index, std::bit_cast<std::uint64_t>(data.value)};
  const auto found = intern_.find(key);
  if (found != intern_.end()) return found->second;
  NodeData stored = data;
  if (data.op == OpCode::kConstant) {
    stored.constant = true;
    stored.constant_value = data.value;
  } else if (data.op != OpCode::kInput) {
    const NodeData& a = nodes_[data.a];
    const bool b_constant = data.b < 0 || nodes_[data.b].constant;
    if (a.constant && b_constant) {
      stored.constant = true;
      stored.constant_value = Apply(data.op, a.constant_value,
                                    data.b < 0 ? 0.0 : nodes_[data.b].constant_value, data.index);
    }
  }
  const Node node = static_cast<Node>(nodes_.size());
  nodes_.push_back(stored);
  intern_.emplace(key, node);
  return node;
}

bool ExpressionGraph::IsConstantEqual(Node node, double value) const {
  const NodeData& d = nodes_[node];
  return d.op == OpCode::kConstant && d.value == value;
}

ExpressionGraph::Node ExpressionGraph::Constant(double value) {
  if (value == 0.0) value = 0.0;  // one zero: -0 and +0 share a node
  NodeData d{OpCode::kConstant};
  d.value = value;
  return Intern(d);
}

ExpressionGraph::Node ExpressionGraph::Input(int index) {
  if (index < 0 || index >= num_inputs()) {
    throw std::out_of_range("invalid input index " + std::to_string(index));
  }
  NodeData d{OpCode::kInput};
  d.index = index;
  return Intern(d);
}

ExpressionGraph::Node ExpressionGraph::FoldBinary(OpCode op, Node a, Node b) {
  const double value = Apply(op, nodes_[a].value, nodes_[b].value, 0);
  if (std::isfinite(value)) return Constant(value);
  NodeData d{op};
  const bool commutative = op == OpCode::kAdd || op == OpCode::kMul;
  d.a = commutative ? std::min(a, b) : a;
  d.b = commutative ? std::max(a, b) : b;
  return Intern(d);
}

ExpressionGraph::Node ExpressionGraph::Add(Node a, Node b) {
  CheckNode(a);
  CheckNode(b);
  if (nodes_[a].op == OpCode::kConstant && nodes_[b].op == OpCode::kConstant) {
    return FoldBinary(OpCode::kAdd, a, b);
  }
  if (IsConstantEqual(a, 0.0)) return b;
  if (IsConstantEqual(b, 0.0)) return a;
  // a + (-c) is a - c exactly (IEEE subtraction is addition of the negation).
  if (nodes_[b].op == OpCode::kNeg) return Sub(a, nodes_[b].a);
  if (nodes_[a].op == OpCode::kNeg) return Sub(b, nodes_[a].a);
  NodeData d{OpCode::kAdd};
  d.a = std::min(a, b);  // canonical order: a + b and b + a are one node
  d.b = std::max(a, b);
  return Intern(d);
}

ExpressionGraph::Node ExpressionGraph::Sub(Node a, Node b) {
  CheckNode(a);
  CheckNode(b);
  if (nodes_[a].op == OpCode::kConstant && nodes_[b].op == OpCode::kConstant) {
    return FoldBinary(OpCode::kSub, a, b);
  }
  if (IsConstantEqual(b, 0.0)) return a;
  if (a == b) return Constant(0.0);
  if (IsConstantEqual(a, 0.0)) return Neg(b);
  if (nodes_[b].op == OpCode::kNeg) return Add(a, nodes_[b].a);
  NodeData d{OpCode::kSub};
  d.a = a;
  d.b = b;
  return Intern(d);
}

ExpressionGraph::Node ExpressionGraph::Mul(Node a, Node b) {
  CheckNode(a);
  CheckNode(b);
  if (nodes_[a].op == OpCode::kConstant && nodes_[b].op == OpCode::kConstant) {
    return FoldBinary(OpCode::kMul, a, b);
  }
  if (IsConstantEqual(a, 0.0) || IsConstantEqual(b, 0.0)) return Constant(0.0);
  if (IsConstantEqual(a, 1.0)) return b;
  if (IsConstantEqual(b, 1.0)) return a;
  if (IsConstantEqual(a, -1.0)) return Neg(b);
  if (IsConstantEqual(b, -1.0)) return Neg(a);
  NodeData d{OpCode::kMul};
  d.a = std::min(a, b);  // canonical order: a * b and b * a are one node
  d.b = std::max(a, b);
  return Intern(d);
}

ExpressionGraph::Node ExpressionGraph::Div(Node a, Node b) {
  CheckNode(a);
  CheckNode(b);
  if (nodes_[a].op == OpCode::kConstant && nodes_[b].op == OpCode::kConstant) {
    return FoldBinary(OpCode::kDiv, a, b);
  }
  if (IsConstantEqual(b, 1.0)) return a;
  if (IsConstantEqual(b, -1.0)) return Neg(a);
  if (IsConstantEqual(a, 0.0)) return Constant(0.0);
  NodeData d{OpCode::kDiv};
  d.a = a;
  d.b = b;
  return Intern(d);
}

ExpressionGraph::Node ExpressionGraph::Neg(Node a) {
  CheckNode(a);
  const NodeData& da = nodes_[a];
  if (da.op == OpCode::kConstant) return Constant(-da.value);
  if (da.op == OpCode::kNeg) return da.a;
  NodeData d{OpCode::kNeg};
  d.a = a;
  return Intern(d);
}

ExpressionGraph::Node ExpressionGraph::PowInt(Node a, std::int32_t n) {
  CheckNode(a);
  if (n == 0) return Constant(1.0);
  if (n == 1) return a;
  NodeData d{OpCode::kPowInt};
  d.a = a;
  d.index = n;
  if (nodes_[a].op == OpCode::kConstant) {
    const double value = expression_internal::PowInt(nodes_[a].value, n);
    if (std::isfinite(value)) return Constant(value);
  }
  return Intern(d);
}

ExpressionGraph::Node ExpressionGraph::Pow(Node a, Node b) {
  CheckNode(a);
  CheckNode(b);
  const NodeData& db = nodes_[b];
  if (db.op == OpCode::kConstant && std::abs(db.value) <= 64.0 &&
      db.value == std::trunc(db.value)) {
    return PowInt(a, static_cast<std::int32_t>(db.value));
  }
  if (nodes_[a].op == OpCode::kConstant && db.op == OpCode::kConstant) {
    return FoldBinary(OpCode::kPow, a, b);
  }
  NodeData d{OpCode::kPow};
  d.a = a;
  d.b = b;
  return Intern(d);
}

ExpressionGraph::Node ExpressionGraph::Unary(OpCode op, Node a) {
  CheckNode(a);
  if (nodes_[a].op == OpCode::kConstant) {
    const double value = Apply(op, nodes_[a].value, 0.0, 0);
    if (std::isfinite(value)) return Constant(value);
  }
  NodeData d{op};
  d.a = a;
  return Intern(d);
}

bool ExpressionGraph::IsConstant(Node node) const {
  CheckNode(node);
  return nodes_[node].constant;
}

double ExpressionGraph::ConstantValue(Node node) const {
  CheckNode(node);
  if (!nodes_[node].constant) {
    throw std::logic_error("ConstantValue of an expression that depends on inputs");
  }
  return nodes_[node].constant_value;
}

// ------------------------------------------------------------------------------------------------
// Derivatives.

ExpressionGraph::Node ExpressionGraph::Derivative(Node node, int variable) {
  CheckNode(node);
  if (variable < 0 || variable >= num_variables()) {
    throw std::out_of_range("invalid variable index " + std::to_string(variable));
  }
  const auto key = [variable](Node n) {
    return (static_cast<std::int64_t>(n) << 32) | static_cast<std::int64_t>(variable);
  };
  // Post-order walk with an explicit stack (sums of many terms make deep graphs): a node's rule
  // runs once the derivatives of its operands are memoized.
  std::vector<Node> stack = {node};
  while (!stack.empty()) {
    const Node n = stack.back();
    if (derivative_memo_.count(key(n)) != 0) {
      stack.pop_back();
      continue;
    }
    const NodeData& d = nodes_[n];
    bool ready = true;
    if (!d.constant) {
      for (const Node operand : {d.a, HasOperandB(d.op) ? d.b : Node(-1)}) {
        if (operand >= 0 && HasOperandA(d.op) && derivative_memo_.count(key(operand)) == 0) {
          stack.push_back(operand);
          ready = false;
        }
      }
    }
    if (!ready) continue;
    const Node derivative = DerivativeOfNode(n, variable);
    derivative_memo_.emplace(key(n), derivative);
    stack.pop_back();
  }
  return derivative_memo_.at(key(node));
}

ExpressionGraph::Node ExpressionGraph::DerivativeOfNode(Node node, int variable) {
  const NodeData d = nodes_[node];  // a copy: building nodes may reallocate nodes_
  if (d.constant) return Constant(0.0);
  if (d.op == OpCode::kInput) return Constant(d.index == variable ? 1.0 : 0.0);
  const auto memo = [&](Node n) {
    return derivative_memo_.at((static_cast<std::int64_t>(n) << 32) | variable);
  };
  const Node u = d.a;
  const Node du = memo(u);
  const auto one = [this] { return Constant(1.0); };
  switch (d.op) {
    case OpCode::kConstant:
    case OpCode::kInput:
      break;
    case OpCode::kAdd: return Add(du, memo(d.b));
    case OpCode::kSub: return Sub(du, memo(d.b));
    case OpCode::kNeg: return Neg(du);
    case OpCode::kMul: return Add(Mul(du, d.b), Mul(u, memo(d.b)));
    case OpCode::kDiv:
      // (u / v)' = (u' - (u / v) v') / v, reusing the quotient node.
      return Div(Sub(du, Mul(node, memo(d.b))), d.b);
    case OpCode::kPowInt:
      // n u^(n-1) u'; for n = 2, (u + u) u', which is exactly 2 u u' without a constant.
      if (d.index == 2) return Mul(Add(u, u), du);
      return Mul(Mul(Constant(d.index), PowInt(u, d.index - 1)), du);
    case OpCode::kPow: {
      const Node v = d.b;
      if (nodes_[v].op == OpCode::kConstant) {
        const double exponent = nodes_[v].value;
        return Mul(Mul(v, Pow(u, Constant(exponent - 1.0))), du);
      }
      // (u^v)' = u^v (v' log u + v u' / u)
      const Node dv = memo(v);
      return Mul(node, Add(Mul(dv, Unary(OpCode::kLog, u)), Div(Mul(v, du), u)));
    }
    case OpCode::kExp: return Mul(node, du);
    case OpCode::kLog: return Div(du, u);
    case OpCode::kSqrt: return Div(du, Add(node, node));  // u' / (2 sqrt u); s + s = 2 s exactly
    case OpCode::kSin: return Mul(Unary(OpCode::kCos, u), du);
    case OpCode::kCos: return Neg(Mul(Unary(OpCode::kSin, u), du));
    case OpCode::kTan: return Mul(Add(one(), PowInt(node, 2)), du);
    case OpCode::kAtan: return Div(du, Add(one(), PowInt(u, 2)));
    case OpCode::kSinh: return Mul(Unary(OpCode::kCosh, u), du);
    case OpCode::kCosh: return Mul(Unary(OpCode::kSinh, u), du);
    case OpCode::kTanh: return Mul(Sub(one(), PowInt(node, 2)), du);
  }
  throw std::logic_error("unknown opcode in Derivative");
}

// ------------------------------------------------------------------------------------------------
// Compilation and printing.

Program ExpressionGraph::Compile(const std::vector<Node>& outputs) const {
  for (const Node n : outputs) CheckNode(n);
  // Reachable nodes. Operands always have smaller ids than their users, so increasing id order is
  // a topological order.
  std::vector<char> reachable(nodes_.size(), 0);
  std::vector<Node> stack(outputs.begin(), outputs.end());
  while (!stack.empty()) {
    const Node n = stack.back();
    stack.pop_back();
    if (reachable[n]) continue;
    reachable[n] = 1;
    const NodeData& d = nodes_[n];
    if (d.op == OpCode::kConstant || d.op == OpCode::kInput) continue;
    stack.push_back(d.a);
    if (HasOperandB(d.op)) stack.push_back(d.b);
  }
  Program program;
  program.num_inputs_ = num_inputs();
  std::vector<std::int32_t> slot(nodes_.size(), -1);
  for (std::size_t n = 0; n < nodes_.size(); ++n) {
    if (!reachable[n]) continue;
    const NodeData& d = nodes_[n];
    Instruction in{d.op};
    if (d.op == OpCode::kConstant) {
      in.value = d.value;
    } else if (d.op == OpCode::kInput) {
      in.index = d.index;
    } else {
      in.a = slot[d.a];
      if (HasOperandB(d.op)) in.b = slot[d.b];
      if (d.op == OpCode::kPowInt) in.index = d.index;
    }
    slot[n] = static_cast<std::int32_t>(program.code_.size());
    program.code_.push_back(in);
  }
  program.outputs_.reserve(outputs.size());
  for (const Node n : outputs) program.outputs_.push_back(slot[n]);
  return program;
}

std::string ExpressionGraph::ToString(Node node) const {
  CheckNode(node);
  // Iterative: an item is either a node to print or a literal.
  struct Item {
    Node node;            // -1 for a literal
    bool bare;            // print a compound node without its outer parentheses
    std::string literal;
  };
  std::string out;
  std::vector<Item> stack;
  stack.push_back({node, false, {}});
  while (!stack.empty()) {
    Item item = std::move(stack.back());
    stack.pop_back();
    if (item.node < 0) {
      out += item.literal;
      continue;
    }
    const NodeData& d = nodes_[item.node];
    const std::string open = item.bare ? "" : "(";
    const std::string close = item.bare ? "" : ")";
    const auto binary = [&](const char* op) {
      stack.push_back({-1, false, close});
      stack.push_back({d.b, false, {}});
      stack.push_back({-1, false, op});
      stack.push_back({d.a, false, {}});
      stack.push_back({-1, false, open});
    };
    switch (d.op) {
      case OpCode::kConstant:
        out += d.value < 0 ? "(" + FormatNumber(d.value) + ")" : FormatNumber(d.value);
        break;
      case OpCode::kInput:
        out += d.index < num_variables() ? variables_[d.index]
                                         : parameters_[d.index - num_variables()];
        break;
      case OpCode::kAdd: binary(" + "); break;
      case OpCode::kSub: binary(" - "); break;
      case OpCode::kMul: binary(" * "); break;
      case OpCode::kDiv: binary(" / "); break;
      case OpCode::kPow: binary(" ^ "); break;
      case OpCode::kNeg:
        stack.push_back({-1, false, close});
        stack.push_back({d.a, false, {}});
        stack.push_back({-1, false, open + "-"});
        break;
      case OpCode::kPowInt:
        stack.push_back({-1, false, " ^ " + std::to_string(d.index) + close});
        stack.push_back({d.a, false, {}});
        stack.push_back({-1, false, open});
        break;
      default:
        if (IsUnaryFunction(d.op)) {
          stack.push_back({-1, false, ")"});
          stack.push_back({d.a, true, {}});
          stack.push_back({-1, false, std::string(FunctionNameOf(d.op)) + "("});
        }
        break;
    }
  }
  return out;
}

// ------------------------------------------------------------------------------------------------
// Batch evaluation.
//
// Lanes are processed in blocks of kBlock: an inner loop with a constant trip count is what GCC's
// -O2 ("very cheap") vectorizer accepts. The lanes past `count` up to the block boundary are
// padding: inputs are padded with a copy of the last point, so every padding lane holds that
// point's values and never produces a value the real lanes do not.

namespace {

constexpr int kBlock = 8;

template <typename F>
inline void Lanes1(int blocks, const double* __restrict x, double* __restrict out, F f) {
  for (int blk = 0; blk < blocks; ++blk) {
    const double* __restrict xb = x + blk * kBlock;
    double* __restrict ob = out + blk * kBlock;
    for (int j = 0; j < kBlock; ++j) ob[j] = f(xb[j]);
  }
}

template <typename F>
inline void Lanes2(int blocks, const double* __restrict x, const double* __restrict y,
                   double* __restrict out, F f) {
  for (int blk = 0; blk < blocks; ++blk) {
    const double* __restrict xb = x + blk * kBlock;
    const double* __restrict yb = y + blk * kBlock;
    double* __restrict ob = out + blk * kBlock;
    for (int j = 0; j < kBlock; ++j) ob[j] = f(xb[j], yb[j]);
  }
}

// Scalar library functions do not vectorize: compute the real lanes, copy the last into padding.
template <typename F>
inline void CallLanes(int count, int padded, const double* __restrict x, double* __restrict out,
                      F f) {
  for (int k = 0; k < count; ++k) out[k] = f(x[k]);
  for (int k = count; k < padded; ++k) out[k] = out[count - 1];
}

// In place: io[j] = f(io[j]) and io[j] = f(io[j], y[j]).
template <typename F>
inline void LanesInPlace1(int blocks, double* __restrict io, F f) {
  for (int blk = 0; blk < blocks; ++blk) {
    double* __restrict b = io + blk * kBlock;
    for (int j = 0; j < kBlock; ++j) b[j] = f(b[j]);
  }
}

template <typename F>
inline void LanesInPlace2(int blocks, double* __restrict io, const double* __restrict y, F f) {
  for (int blk = 0; blk < blocks; ++blk) {
    double* __restrict b = io + blk * kBlock;
    const double* __restrict yb = y + blk * kBlock;
    for (int j = 0; j < kBlock; ++j) b[j] = f(b[j], yb[j]);
  }
}

// Same multiplication sequence as expression_internal::PowInt, lane by lane.
void PowIntLanes(int blocks, std::int32_t n, const double* __restrict x, double* __restrict out) {
  const auto copy = [](double v) { return v; };
  const auto square = [](double v) { return v * v; };
  if (n == 0) {
    for (int k = 0; k < blocks * kBlock; ++k) out[k] = 1.0;
    return;
  }
  std::uint32_t m = expression_internal::Magnitude(n);
  if (m == 2) {  // the common case, without the temporary
    Lanes1(blocks, x, out, square);
  } else {
    double base[Program::kMaxBatch];
    Lanes1(blocks, x, base, copy);
    while ((m & 1u) == 0) {
      LanesInPlace1(blocks, base, square);
      m >>= 1;
    }
    Lanes1(blocks, base, out, copy);
    m >>= 1;
    while (m != 0) {
      LanesInPlace1(blocks, base, square);
      if ((m & 1u) != 0) LanesInPlace2(blocks, out, base, [](double r, double v) { return r * v; });
      m >>= 1;
    }
  }
  if (n < 0) LanesInPlace1(blocks, out, [](double r) { return 1.0 / r; });
}

}  // namespace

void Program::EvaluateBatch(int count, const double* inputs, int input_stride, double* outputs,
                            int output_stride, double* workspace) const {
  if (count <= 0) return;
  if (count > kMaxBatch) throw std::invalid_argument("EvaluateBatch: count > kMaxBatch");
  const int blocks = (count + kBlock - 1) / kBlock;
  const int padded = blocks * kBlock;
  const std::size_t size = code_.size();
  for (std::size_t k = 0; k < size; ++k) {
    const Instruction& in = code_[k];
    double* __restrict out = workspace + k * kMaxBatch;
    const double* __restrict x = in.a >= 0 ? workspace + static_cast<std::size_t>(in.a) * kMaxBatch
                                           : nullptr;
    const double* __restrict y = in.b >= 0 ? workspace + static_cast<std::size_t>(in.b) * kMaxBatch
                                           : nullptr;
    switch (in.op) {
      case OpCode::kConstant: {
        const double value = in.value;
        LanesInPlace1(blocks, out, [value](double) { return value; });
        break;
      }
      case OpCode::kInput: {
        const double* __restrict src =
            inputs + static_cast<std::ptrdiff_t>(in.index) * input_stride;
        for (int j = 0; j < count; ++j) out[j] = src[j];
        for (int j = count; j < padded; ++j) out[j] = src[count - 1];
        break;
      }
      case OpCode::kAdd: Lanes2(blocks, x, y, out, [](double a, double b) { return a + b; }); break;
      case OpCode::kSub: Lanes2(blocks, x, y, out, [](double a, double b) { return a - b; }); break;
      case OpCode::kMul: Lanes2(blocks, x, y, out, [](double a, double b) { return a * b; }); break;
      case OpCode::kDiv: Lanes2(blocks, x, y, out, [](double a, double b) { return a / b; }); break;
      case OpCode::kNeg: Lanes1(blocks, x, out, [](double a) { return -a; }); break;
      case OpCode::kPowInt: PowIntLanes(blocks, in.index, x, out); break;
      case OpCode::kPow:
        for (int j = 0; j < count; ++j) out[j] = std::pow(x[j], y[j]);
        for (int j = count; j < padded; ++j) out[j] = out[count - 1];
        break;
      case OpCode::kExp: CallLanes(count, padded, x, out, [](double a) { return std::exp(a); }); break;
      case OpCode::kLog: CallLanes(count, padded, x, out, [](double a) { return std::log(a); }); break;
      case OpCode::kSqrt: CallLanes(count, padded, x, out, [](double a) { return std::sqrt(a); }); break;
      case OpCode::kSin: CallLanes(count, padded, x, out, [](double a) { return std::sin(a); }); break;
      case OpCode::kCos: CallLanes(count, padded, x, out, [](double a) { return std::cos(a); }); break;
      case OpCode::kTan: CallLanes(count, padded, x, out, [](double a) { return std::tan(a); }); break;
      case OpCode::kAtan: CallLanes(count, padded, x, out, [](double a) { return std::atan(a); }); break;
      case OpCode::kSinh: CallLanes(count, padded, x, out, [](double a) { return std::sinh(a); }); break;
      case OpCode::kCosh: CallLanes(count, padded, x, out, [](double a) { return std::cosh(a); }); break;
      case OpCode::kTanh: CallLanes(count, padded, x, out, [](double a) { return std::tanh(a); }); break;
    }
  }
  const std::size_t num_outputs = outputs_.size();
  for (std::size_t j = 0; j < num_outputs; ++j) {
    const double* __restrict src = workspace + static_cast<std::size_t>(outputs_[j]) * kMaxBatch;
    double* __restrict dst = outputs + static_cast<std::ptrdiff_t>(j) * output_stride;
    for (int k = 0; k < count; ++k) dst[k] = src[k];
  }
}

}  // namespace ldsgd
