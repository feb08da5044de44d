// Text for printed reports: aligned tables and numbers, one spelling for every command.
#ifndef LDSGD_SOLVER_IO_TEXT_TABLE_H_
#define LDSGD_SOLVER_IO_TEXT_TABLE_H_

#include <string>
#include <vector>

#include <Eigen/Core>

namespace ldsgd {

// A left-aligned text table with a header row.
class Table {
 public:
  explicit Table(std::vector<std::string> header) : header_(std::move(header)) {}
  void AddRow(std::vector<std::string> row) { rows_.push_back(std::move(row)); }
  std::string ToString() const;

 private:
  std::vector<std::string> header_;
  std::vector<std::vector<std::string>> rows_;
};

// "%.*g" with `digits` significant digits; "inf" and "nan" spelled out.
std::string FormatNumber(double v, int digits = 8);
// "(a, b, c)".
std::string FormatVector(const Eigen::VectorXd& v, int digits = 8);

}  // namespace ldsgd

#endif  // LDSGD_SOLVER_IO_TEXT_TABLE_H_
