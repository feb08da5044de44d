// Output helpers of the CLI: atomic file writes, aligned tables, number formatting.
#ifndef LDSGD_APPS_OUTPUT_H_
#define LDSGD_APPS_OUTPUT_H_

#include <string>
#include <vector>

#include <Eigen/Core>

namespace ldsgd {

// Writes `content` to DIR/NAME through a temporary file in DIR and a rename, so a reader never
// sees a partial file. Creates DIR. Throws InputError (naming the path) on failure.
void WriteFileAtomically(const std::string& dir, const std::string& name, const std::string& content);

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

#endif  // LDSGD_APPS_OUTPUT_H_
