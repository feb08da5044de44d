// The one status type of ldsgd's solvers (Eigen's ComputationInfo, Ceres' termination types): a
// code saying what kind of outcome, and a one-line message saying why. Kernels return it in their
// Summary and never throw; the CLI maps codes to exit codes (kInvalidInput and kInvalidOptions: 2).
#ifndef LDSGD_SOLVER_IO_STATUS_H_
#define LDSGD_SOLVER_IO_STATUS_H_

#include <array>
#include <string>
#include <utility>

#include "solver/io/enum_names.h"

namespace ldsgd {

enum class StatusCode {
  kOk,               // ran to the end
  kNotRun,           // the solver has not been called (a Summary's initial state)
  kInvalidOptions,   // "Invalid configuration. Options::X = V. Violated constraint: ..."
  kInvalidInput,     // the problem itself is wrong for this solver (e.g. a covariance < 0)
  kNumericalIssue,   // a computation failed on valid input (non-finite values, a failed factorization)
};

template <>
struct EnumNames<StatusCode> {
  static constexpr std::array<std::pair<StatusCode, const char*>, 5> kNames = {{
      {StatusCode::kOk, "ok"},
      {StatusCode::kNotRun, "not_run"},
      {StatusCode::kInvalidOptions, "invalid_options"},
      {StatusCode::kInvalidInput, "invalid_input"},
      {StatusCode::kNumericalIssue, "numerical_issue"},
  }};
};

class Status {
 public:
  Status() = default;  // not run
  Status(StatusCode code, std::string message) : code_(code), message_(std::move(message)) {}
  static Status Ok() { return {StatusCode::kOk, ""}; }

  bool ok() const { return code_ == StatusCode::kOk; }
  StatusCode code() const { return code_; }
  // "" when ok; one line otherwise.
  const std::string& message() const { return message_; }

 private:
  StatusCode code_ = StatusCode::kNotRun;
  std::string message_ = "not run";
};

}  // namespace ldsgd

#endif  // LDSGD_SOLVER_IO_STATUS_H_
