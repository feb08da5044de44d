#include "solver/expression/expression.h"

#include <algorithm>
#include <bit>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstdlib>
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
    case OpCode::kAddConst: case OpCode::kSubConst: case OpCode::kConstSub:
    case OpCode::kMulConst: case OpCode::kDivConst: case OpCode::kConstDiv:
      return 0.0;  // not used: instructions only, never graph nodes
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
    case OpCode::kAddConst: case OpCode::kSubConst: case OpCode::kConstSub:
    case OpCode::kMulConst: case OpCode::kDivConst: case OpCode::kConstDiv:
      break;  // instructions only, never graph nodes
  }
  throw std::logic_error("unknown opcode in Derivative");
}

// ------------------------------------------------------------------------------------------------
// Compilation and printing.

Program ExpressionGraph::Compile(const std::vector<Node>& outputs) const {
  for (const Node n : outputs) CheckNode(n);
  // Which operand of an arithmetic node is a kConstant that becomes the immediate of a kAddConst,
  // ... instruction instead of an instruction of its own: 'a', 'b' or 0 for neither. When both
  // are (a non-finite quotient, say), b is the immediate and a keeps its instruction.
  const auto immediate = [this](const NodeData& d) -> char {
    if (d.op != OpCode::kAdd && d.op != OpCode::kSub && d.op != OpCode::kMul &&
        d.op != OpCode::kDiv) {
      return 0;
    }
    if (nodes_[d.b].op == OpCode::kConstant) return 'b';
    if (nodes_[d.a].op == OpCode::kConstant) return 'a';
    return 0;
  };
  // Reachable nodes that need an instruction. Operands always have smaller ids than their users,
  // so increasing id order is a topological order.
  std::vector<char> reachable(nodes_.size(), 0);
  std::vector<Node> stack(outputs.begin(), outputs.end());
  while (!stack.empty()) {
    const Node n = stack.back();
    stack.pop_back();
    if (reachable[n]) continue;
    reachable[n] = 1;
    const NodeData& d = nodes_[n];
    if (d.op == OpCode::kConstant || d.op == OpCode::kInput) continue;
    const char c = immediate(d);
    if (c != 'a') stack.push_back(d.a);
    if (HasOperandB(d.op) && c != 'b') stack.push_back(d.b);
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
    } else if (const char c = immediate(d); c != 0) {
      const bool first = c == 'a';  // the constant is the first operand
      in.value = nodes_[first ? d.a : d.b].value;
      in.a = slot[first ? d.b : d.a];
      switch (d.op) {
        // a + b and a * b are commutative in IEEE arithmetic: c + x is x + c exactly.
        case OpCode::kAdd: in.op = OpCode::kAddConst; break;
        case OpCode::kMul: in.op = OpCode::kMulConst; break;
        case OpCode::kSub: in.op = first ? OpCode::kConstSub : OpCode::kSubConst; break;
        default: in.op = first ? OpCode::kConstDiv : OpCode::kDivConst; break;
      }
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
  program.BuildBatchSteps();
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
// Each step is one tight loop over the lanes of a workspace row (kMaxBatch doubles), which the
// compiler vectorizes. Lanes are processed in blocks of kBlock: an inner loop with a constant trip
// count is what GCC's -O2 ("very cheap") vectorizer accepts. The lanes past `count` up to the
// block boundary are padding: inputs are padded with a copy of the last point, so every padding
// lane holds that point's values and never produces a value the real lanes do not.
//
// The steps do, lane by lane, exactly the IEEE operations Evaluate<double> does, in the same
// order, so the results are bit-identical to it. For that, no floating-point contraction (see
// kMayContract): a product and a sum fused in one step are not when FMA is available, and the
// AVX2 clone below does not enable FMA.

namespace {

using expression_internal::BatchRef;
using expression_internal::BatchStep;
using expression_internal::BatchThen;

constexpr int kBlock = 8;
constexpr std::ptrdiff_t kRow = Program::kMaxBatch;  // doubles per workspace row

#define LDSGD_INLINE [[gnu::always_inline]] inline

// out[k] = f(x[k]) and out[k] = f(x[k], y[k]) for k < lanes, a multiple of kBlock.
template <typename F>
LDSGD_INLINE void Lanes1(int lanes, const double* __restrict x, double* __restrict out, F f) {
  for (int k = 0; k < lanes; k += kBlock) {
    for (int j = 0; j < kBlock; ++j) out[k + j] = f(x[k + j]);
  }
}

template <typename F>
LDSGD_INLINE void Lanes2(int lanes, const double* __restrict x, const double* __restrict y,
                         double* __restrict out, F f) {
  for (int k = 0; k < lanes; k += kBlock) {
    for (int j = 0; j < kBlock; ++j) out[k + j] = f(x[k + j], y[k + j]);
  }
}

template <typename F>
LDSGD_INLINE void Lanes3(int lanes, const double* __restrict x, const double* __restrict y,
                         const double* __restrict z, double* __restrict out, F f) {
  for (int k = 0; k < lanes; k += kBlock) {
    for (int j = 0; j < kBlock; ++j) out[k + j] = f(x[k + j], y[k + j], z[k + j]);
  }
}

// In place: io[k] = f(io[k]) and io[k] = f(io[k], y[k]).
template <typename F>
LDSGD_INLINE void LanesInPlace1(int lanes, double* __restrict io, F f) {
  for (int k = 0; k < lanes; k += kBlock) {
    for (int j = 0; j < kBlock; ++j) io[k + j] = f(io[k + j]);
  }
}

template <typename F>
LDSGD_INLINE void LanesInPlace2(int lanes, double* __restrict io, const double* __restrict y,
                                F f) {
  for (int k = 0; k < lanes; k += kBlock) {
    for (int j = 0; j < kBlock; ++j) io[k + j] = f(io[k + j], y[k + j]);
  }
}

// Scalar library functions do not vectorize: compute the real lanes, copy the last into padding.
template <typename F>
LDSGD_INLINE void CallLanes(int count, int lanes, const double* __restrict x,
                            double* __restrict out, F f) {
  for (int k = 0; k < count; ++k) out[k] = f(x[k]);
  for (int k = count; k < lanes; ++k) out[k] = out[count - 1];
}

// Same multiplication sequence as expression_internal::PowInt, lane by lane.
LDSGD_INLINE void PowIntLanes(int lanes, std::int32_t n, const double* __restrict x,
                              double* __restrict out) {
  const auto copy = [](double v) { return v; };
  const auto square = [](double v) { return v * v; };
  if (n == 0) {
    LanesInPlace1(lanes, out, [](double) { return 1.0; });
    return;
  }
  std::uint32_t m = expression_internal::Magnitude(n);
  if (m == 2) {  // the common case, without the temporary
    Lanes1(lanes, x, out, square);
  } else {
    double base[Program::kMaxBatch];
    Lanes1(lanes, x, base, copy);
    while ((m & 1u) == 0) {
      LanesInPlace1(lanes, base, square);
      m >>= 1;
    }
    Lanes1(lanes, base, out, copy);
    m >>= 1;
    while (m != 0) {
      LanesInPlace1(lanes, base, square);
      if ((m & 1u) != 0) LanesInPlace2(lanes, out, base, [](double r, double v) { return r * v; });
      m >>= 1;
    }
  }
  if (n < 0) LanesInPlace1(lanes, out, [](double r) { return 1.0 / r; });
}

// A fused step: out = then(first(x, y), z or v).
template <typename F>
LDSGD_INLINE void FusedLanes(int lanes, BatchThen then, const double* __restrict x,
                             const double* __restrict y, const double* __restrict z, double v,
                             double* __restrict out, F first) {
  using D = double;
  switch (then) {
    case BatchThen::kNone: break;
    case BatchThen::kAdd:
      Lanes3(lanes, x, y, z, out, [first](D a, D b, D c) { return first(a, b) + c; });
      break;
    case BatchThen::kMul:
      Lanes3(lanes, x, y, z, out, [first](D a, D b, D c) { return first(a, b) * c; });
      break;
    case BatchThen::kSub:
      Lanes3(lanes, x, y, z, out, [first](D a, D b, D c) { return first(a, b) - c; });
      break;
    case BatchThen::kSubFrom:
      Lanes3(lanes, x, y, z, out, [first](D a, D b, D c) { return c - first(a, b); });
      break;
    case BatchThen::kDiv:
      Lanes3(lanes, x, y, z, out, [first](D a, D b, D c) { return first(a, b) / c; });
      break;
    case BatchThen::kDivInto:
      Lanes3(lanes, x, y, z, out, [first](D a, D b, D c) { return c / first(a, b); });
      break;
    case BatchThen::kAddConst:
      Lanes2(lanes, x, y, out, [first, v](D a, D b) { return first(a, b) + v; });
      break;
    case BatchThen::kMulConst:
      Lanes2(lanes, x, y, out, [first, v](D a, D b) { return first(a, b) * v; });
      break;
    case BatchThen::kSubConst:
      Lanes2(lanes, x, y, out, [first, v](D a, D b) { return first(a, b) - v; });
      break;
    case BatchThen::kConstSub:
      Lanes2(lanes, x, y, out, [first, v](D a, D b) { return v - first(a, b); });
      break;
    case BatchThen::kDivConst:
      Lanes2(lanes, x, y, out, [first, v](D a, D b) { return first(a, b) / v; });
      break;
    case BatchThen::kConstDiv:
      Lanes2(lanes, x, y, out, [first, v](D a, D b) { return v / first(a, b); });
      break;
  }
}

// Where the rows of one EvaluateBatch call are.
struct Rows {
  const double* inputs;
  std::ptrdiff_t input_stride;
  double* outputs;
  std::ptrdiff_t output_stride;
  double* workspace;
  const double* constants;
  // Inputs read from and outputs written to the caller's rows directly, not through workspace
  // rows copied in and out.
  bool in_place;

  // The row a step writes: its slot's.
  double* Out(const BatchRef& r) const {
    if (in_place && r.output >= 0) return outputs + r.output * output_stride;
    return workspace + r.slot * kRow;
  }
  // The row an operand reads, or null for none.
  const double* In(const BatchRef& r) const {
    if (r.constant >= 0) return constants + r.constant * kRow;
    if (r.slot < 0) return nullptr;
    if (in_place && r.input >= 0) return inputs + r.input * input_stride;
    return Out(r);
  }
};

// All steps over `lanes` lanes (the first `count` real).
LDSGD_INLINE void RunStepsOn(const BatchStep* steps, std::size_t num_steps, int count, int lanes,
                             const Rows& rows) {
  for (std::size_t k = 0; k < num_steps; ++k) {
    const BatchStep& s = steps[k];
    double* __restrict out = rows.Out(s.out);
    const double* __restrict x = rows.In(s.a);
    const double* __restrict y = rows.In(s.b);
    if (s.then != BatchThen::kNone) {
      const double* __restrict z = rows.In(s.c);
      const double v = s.value;
      using D = double;
      switch (s.op) {
        case OpCode::kAdd: FusedLanes(lanes, s.then, x, y, z, v, out, [](D a, D b) { return a + b; }); break;
        case OpCode::kSub: FusedLanes(lanes, s.then, x, y, z, v, out, [](D a, D b) { return a - b; }); break;
        case OpCode::kMul: FusedLanes(lanes, s.then, x, y, z, v, out, [](D a, D b) { return a * b; }); break;
        case OpCode::kDiv: FusedLanes(lanes, s.then, x, y, z, v, out, [](D a, D b) { return a / b; }); break;
        default: break;  // BuildBatchSteps fuses only these
      }
      continue;
    }
    const double c = s.value;
    switch (s.op) {
      case OpCode::kConstant: LanesInPlace1(lanes, out, [c](double) { return c; }); break;
      case OpCode::kInput: break;  // no steps: inputs are read through their rows
      case OpCode::kAdd: Lanes2(lanes, x, y, out, [](double a, double b) { return a + b; }); break;
      case OpCode::kSub: Lanes2(lanes, x, y, out, [](double a, double b) { return a - b; }); break;
      case OpCode::kMul: Lanes2(lanes, x, y, out, [](double a, double b) { return a * b; }); break;
      case OpCode::kDiv: Lanes2(lanes, x, y, out, [](double a, double b) { return a / b; }); break;
      case OpCode::kAddConst: Lanes1(lanes, x, out, [c](double a) { return a + c; }); break;
      case OpCode::kSubConst: Lanes1(lanes, x, out, [c](double a) { return a - c; }); break;
      case OpCode::kConstSub: Lanes1(lanes, x, out, [c](double a) { return c - a; }); break;
      case OpCode::kMulConst: Lanes1(lanes, x, out, [c](double a) { return a * c; }); break;
      case OpCode::kDivConst: Lanes1(lanes, x, out, [c](double a) { return a / c; }); break;
      case OpCode::kConstDiv: Lanes1(lanes, x, out, [c](double a) { return c / a; }); break;
      case OpCode::kNeg: Lanes1(lanes, x, out, [](double a) { return -a; }); break;
      case OpCode::kPowInt: PowIntLanes(lanes, s.index, x, out); break;
      case OpCode::kPow:
        for (int j = 0; j < count; ++j) out[j] = std::pow(x[j], y[j]);
        for (int j = count; j < lanes; ++j) out[j] = out[count - 1];
        break;
      case OpCode::kExp: CallLanes(count, lanes, x, out, [](double a) { return std::exp(a); }); break;
      case OpCode::kLog: CallLanes(count, lanes, x, out, [](double a) { return std::log(a); }); break;
      case OpCode::kSqrt: CallLanes(count, lanes, x, out, [](double a) { return std::sqrt(a); }); break;
      case OpCode::kSin: CallLanes(count, lanes, x, out, [](double a) { return std::sin(a); }); break;
      case OpCode::kCos: CallLanes(count, lanes, x, out, [](double a) { return std::cos(a); }); break;
      case OpCode::kTan: CallLanes(count, lanes, x, out, [](double a) { return std::tan(a); }); break;
      case OpCode::kAtan: CallLanes(count, lanes, x, out, [](double a) { return std::atan(a); }); break;
      case OpCode::kSinh: CallLanes(count, lanes, x, out, [](double a) { return std::sinh(a); }); break;
      case OpCode::kCosh: CallLanes(count, lanes, x, out, [](double a) { return std::cosh(a); }); break;
      case OpCode::kTanh: CallLanes(count, lanes, x, out, [](double a) { return std::tanh(a); }); break;
    }
  }
}

// Runtime ISA dispatch: an AVX2 clone (4 lanes per instruction instead of SSE2's 2) picked by the
// loader where the CPU has it; the default clone keeps the binary running everywhere. Not "fma"
// (nor an "arch=" that implies it): contracting a * b + c in the fused steps would break
// bit-identity with Evaluate<double>. An AVX-512 clone measured slower (AMD Zen 5).
// Define LDSGD_NO_BATCH_CLONES to build (and test) the portable code alone.
#if defined(__GNUC__) && defined(__x86_64__) && defined(__linux__) && !defined(LDSGD_NO_BATCH_CLONES)
#define LDSGD_BATCH_CLONES __attribute__((target_clones("avx2", "default")))
#else
#define LDSGD_BATCH_CLONES
#endif

LDSGD_BATCH_CLONES void RunSteps(const BatchStep* steps, std::size_t num_steps, int count,
                                 int lanes, const Rows& rows) {
  // A full batch, the common case, gets its own copy with the trip counts known at compile time.
  if (lanes == Program::kMaxBatch) {
    RunStepsOn(steps, num_steps, count, Program::kMaxBatch, rows);
  } else {
    RunStepsOn(steps, num_steps, count, lanes, rows);
  }
}

#undef LDSGD_BATCH_CLONES
#undef LDSGD_INLINE

// The step as one of kAdd, kSub, kMul, kDiv on two rows, if it is one or can be written as one
// with the same result: x ^ 2 is x * x (as PowInt computes it) and an immediate a constant row,
// `add_constant` returns the ref of.
template <typename AddConstant>
bool AsBinary(const BatchStep& s, AddConstant add_constant, OpCode& op, BatchRef& a, BatchRef& b) {
  switch (s.op) {
    case OpCode::kAdd: case OpCode::kSub: case OpCode::kMul: case OpCode::kDiv:
      op = s.op, a = s.a, b = s.b;
      return true;
    case OpCode::kPowInt:
      if (s.index != 2) return false;
      op = OpCode::kMul, a = s.a, b = s.a;
      return true;
    case OpCode::kAddConst: op = OpCode::kAdd, a = s.a, b = add_constant(s.value); return true;
    case OpCode::kSubConst: op = OpCode::kSub, a = s.a, b = add_constant(s.value); return true;
    case OpCode::kMulConst: op = OpCode::kMul, a = s.a, b = add_constant(s.value); return true;
    case OpCode::kDivConst: op = OpCode::kDiv, a = s.a, b = add_constant(s.value); return true;
    case OpCode::kConstSub: op = OpCode::kSub, a = add_constant(s.value), b = s.a; return true;
    case OpCode::kConstDiv: op = OpCode::kDiv, a = add_constant(s.value), b = s.a; return true;
    default:
      return false;
  }
}

// The step as the `then` of a fused step whose first operation computes its operand t (its a, or
// its b when t_is_b) and c its other operand, if it can be one.
bool AsThen(const BatchStep& s, bool t_is_b, BatchThen& then, BatchRef& t, BatchRef& c) {
  t = t_is_b ? s.b : s.a;
  c = t_is_b ? s.a : s.b;
  switch (s.op) {
    // IEEE addition and multiplication are commutative: c + t is t + c exactly.
    case OpCode::kAdd: then = BatchThen::kAdd; return true;
    case OpCode::kMul: then = BatchThen::kMul; return true;
    case OpCode::kSub: then = t_is_b ? BatchThen::kSubFrom : BatchThen::kSub; return true;
    case OpCode::kDiv: then = t_is_b ? BatchThen::kDivInto : BatchThen::kDiv; return true;
    case OpCode::kAddConst: then = BatchThen::kAddConst; return !t_is_b;
    case OpCode::kMulConst: then = BatchThen::kMulConst; return !t_is_b;
    case OpCode::kSubConst: then = BatchThen::kSubConst; return !t_is_b;
    case OpCode::kConstSub: then = BatchThen::kConstSub; return !t_is_b;
    case OpCode::kDivConst: then = BatchThen::kDivConst; return !t_is_b;
    case OpCode::kConstDiv: then = BatchThen::kConstDiv; return !t_is_b;
    default: return false;
  }
}

// Whether the compiler may contract a product and a sum in one expression into a fused
// multiply-add, which rounds once where Evaluate<double> rounds twice: with -ffp-contract=fast
// (GCC's default, also for ISO C++) on a target with FMA instructions. The steps keep products
// and sums apart, in separate passes, then. The AVX2 clone does not enable FMA.
#ifdef __FP_FAST_FMA
constexpr bool kMayContract = true;
#else
constexpr bool kMayContract = false;
#endif

bool IsAdditive(BatchThen then) {
  switch (then) {
    case BatchThen::kAdd: case BatchThen::kSub: case BatchThen::kSubFrom:
    case BatchThen::kAddConst: case BatchThen::kSubConst: case BatchThen::kConstSub:
      return true;
    default:
      return false;
  }
}

}  // namespace

void Program::BuildBatchSteps() {
  batch_steps_.clear();
  batch_inputs_.clear();
  batch_outputs_.clear();
  batch_constants_.clear();
  // The first output of each slot, and the number of uses of each slot.
  std::vector<std::int32_t> output_of(code_.size(), -1);
  std::vector<int> uses(code_.size(), 0);
  for (std::size_t j = outputs_.size(); j-- > 0;) {
    output_of[outputs_[j]] = static_cast<std::int32_t>(j);
    ++uses[outputs_[j]];
  }
  const auto ref = [&](std::int32_t slot) {
    BatchRef r;
    r.slot = slot;
    if (slot >= 0 && code_[slot].op == OpCode::kInput) {
      r.input = code_[slot].index;
    } else if (slot >= 0) {
      r.output = output_of[slot];
    }
    return r;
  };
  std::vector<std::int32_t> step_of(code_.size(), -1);  // the step computing each slot
  for (std::size_t k = 0; k < code_.size(); ++k) {
    const Instruction& in = code_[k];
    const auto slot = static_cast<std::int32_t>(k);
    if (in.a >= 0) ++uses[in.a];
    if (in.b >= 0) ++uses[in.b];
    if (in.op == OpCode::kInput) {
      batch_inputs_.push_back(ref(slot));
      continue;
    }
    step_of[k] = static_cast<std::int32_t>(batch_steps_.size());
    batch_steps_.push_back(BatchStep{in.op, BatchThen::kNone, ref(slot), ref(in.a), ref(in.b),
                                     BatchRef{}, in.index, in.value});
  }
  for (const std::int32_t slot : outputs_) batch_outputs_.push_back(ref(slot));

  // Fusion. The steps are bound by memory traffic, not arithmetic: each reads its operand rows and
  // writes its row. A binary step whose result has a single use, by another arithmetic step, is
  // therefore done within that step's pass over the lanes, which saves writing its row and
  // reading it back (and a dispatch). Each step takes part in at most one fusion. Consumers are
  // visited last to first, so that in a chain the later pair fuses: gradients end in sums of
  // products, the widest steps. The fused step computes the same operations in the same order.
  // Constant operands of the first operation become rows of batch_constants_; the second
  // operation keeps its immediate (a broadcast, where a row would cost a load per lane).
  const auto add_constant = [this](double value) {
    BatchRef r;
    r.constant = static_cast<std::int32_t>(batch_constants_.size() / kRow);
    batch_constants_.insert(batch_constants_.end(), kRow, value);
    return r;
  };
  const auto no_constant = [](double) { return BatchRef{}; };
  std::vector<char> fused(batch_steps_.size(), 0);     // taking part in a fusion already
  std::vector<char> absorbed(batch_steps_.size(), 0);  // done within another step
  for (std::size_t q = batch_steps_.size(); q-- > 0;) {
    if (fused[q]) continue;
    BatchStep& consumer = batch_steps_[q];
    for (const bool t_is_b : {false, true}) {
      BatchThen then;
      BatchRef t, c;
      if (!AsThen(consumer, t_is_b, then, t, c)) continue;
      if (t.slot < 0 || step_of[t.slot] < 0 || uses[t.slot] != 1) continue;
      const std::size_t p = static_cast<std::size_t>(step_of[t.slot]);
      const BatchStep& producer = batch_steps_[p];
      OpCode first;
      BatchRef a, b;
      if (fused[p] || !AsBinary(producer, no_constant, first, a, b)) continue;
      if (kMayContract && first == OpCode::kMul && IsAdditive(then)) continue;
      AsBinary(producer, add_constant, first, a, b);  // now with rows for its constants
      consumer.op = first;
      consumer.then = then;
      consumer.a = a;
      consumer.b = b;
      consumer.c = c;  // consumer.value stays, for the *Const `then`s
      fused[q] = fused[p] = absorbed[p] = 1;
      break;
    }
  }
  std::vector<BatchStep> kept;
  for (std::size_t k = 0; k < batch_steps_.size(); ++k) {
    if (!absorbed[k]) kept.push_back(batch_steps_[k]);
  }
  batch_steps_ = std::move(kept);
}

namespace {

// The address range [first, last) of `rows` rows of `count` doubles, `stride` apart.
std::pair<std::uintptr_t, std::uintptr_t> Extent(const double* base, int rows, int stride,
                                                 int count) {
  const auto row = [&](int i) {
    return reinterpret_cast<std::uintptr_t>(base + static_cast<std::ptrdiff_t>(i) * stride);
  };
  const std::uintptr_t a = row(0), b = row(rows - 1);
  return {std::min(a, b), std::max(a, b) + count * sizeof(double)};
}

}  // namespace

void Program::EvaluateBatch(int count, const double* inputs, int input_stride, double* outputs,
                            int output_stride, double* workspace) const {
  if (count <= 0) return;
  if (count > kMaxBatch) throw std::invalid_argument("EvaluateBatch: count > kMaxBatch");
  const int lanes = (count + kBlock - 1) / kBlock * kBlock;
  // In place, with no copies in or out, unless the lanes need padding past `count`, which the
  // caller's rows may not have, or the outputs overlap the inputs or each other, which would
  // then be overwritten before they are read. Otherwise inputs are copied to their workspace rows
  // and padded, and outputs copied out of theirs at the end.
  bool in_place = lanes == count && (num_outputs() <= 1 || std::abs(output_stride) >= count);
  if (in_place && !batch_inputs_.empty() && !batch_outputs_.empty()) {
    const auto in = Extent(inputs, num_inputs_, input_stride, count);
    const auto out = Extent(outputs, num_outputs(), output_stride, count);
    in_place = out.second <= in.first || in.second <= out.first;
  }
  const Rows rows{inputs, input_stride, outputs, output_stride, workspace,
                  batch_constants_.data(), in_place};
  if (!in_place) {
    for (const BatchRef& r : batch_inputs_) {
      const double* __restrict src = inputs + static_cast<std::ptrdiff_t>(r.input) * input_stride;
      double* __restrict dst = workspace + r.slot * kRow;
      for (int k = 0; k < count; ++k) dst[k] = src[k];
      for (int k = count; k < lanes; ++k) dst[k] = src[count - 1];
    }
  }
  RunSteps(batch_steps_.data(), batch_steps_.size(), count, lanes, rows);
  // The outputs not written in place: all of them, or those that are inputs or repeat a slot.
  for (std::size_t j = 0; j < batch_outputs_.size(); ++j) {
    const BatchRef& r = batch_outputs_[j];
    if (in_place && r.output == static_cast<std::int32_t>(j)) continue;
    const double* __restrict src = rows.In(r);
    double* __restrict dst = outputs + static_cast<std::ptrdiff_t>(j) * output_stride;
    for (int k = 0; k < count; ++k) dst[k] = src[k];
  }
}

}  // namespace ldsgd
