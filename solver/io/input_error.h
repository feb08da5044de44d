// The one error type thrown at the input boundary (problem files, cost files, CLI values).
// Numerical kernels never throw; they report status in their Summary.
#ifndef LDSGD_SOLVER_IO_INPUT_ERROR_H_
#define LDSGD_SOLVER_IO_INPUT_ERROR_H_

#include <stdexcept>
#include <string>

namespace ldsgd {

// what() is one line: "FILE: field 'FIELD': DETAIL" (or "FILE: DETAIL" without a field).
class InputError : public std::runtime_error {
 public:
  InputError(const std::string& file, const std::string& field, const std::string& detail);
  const std::string& file() const { return file_; }
  const std::string& field() const { return field_; }
  const std::string& detail() const { return detail_; }

 private:
  std::string file_, field_, detail_;
};

}  // namespace ldsgd

#endif  // LDSGD_SOLVER_IO_INPUT_ERROR_H_
