// Datasets for finite-sum objectives: a CSV file with a header of column names and one row of
// numbers per sample.
#ifndef LDSGD_SOLVER_IO_CSV_TABLE_H_
#define LDSGD_SOLVER_IO_CSV_TABLE_H_

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace ldsgd {

// A numeric table read from a dataset: named columns, values column-major (column j, row k at
// values[j * rows + k]).
struct SampleTable {
  std::string source;  // the file, for descriptions
  std::vector<std::string> columns;
  int rows = 0;
  std::vector<double> values;
};

// Format: the first non-comment line names the columns (comma-separated identifiers, as they will
// appear in expressions); every further line holds one finite number per column. Lines starting
// with '#' are comments (provenance: how the data was made); blank lines are skipped; spaces around
// cells and CRLF line ends are accepted. Throws InputError naming `source`, the line and the column.
// Limits: every row is evaluated at every point of every path, so a dataset beyond them would not
// finish; they also stop an endless stream (/dev/zero) at once.
inline constexpr std::size_t kMaxCsvBytes = std::size_t{1} << 30;  // 1 GiB
inline constexpr std::size_t kMaxCsvRows = 10'000'000;
SampleTable ParseCsv(std::string_view text, const std::string& source);
SampleTable ReadCsv(const std::string& path);

}  // namespace ldsgd

#endif  // LDSGD_SOLVER_IO_CSV_TABLE_H_
