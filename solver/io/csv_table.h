// Datasets for finite-sum objectives: a CSV file with a header of column names and one row of
// numbers per sample.
#ifndef LDSGD_SOLVER_IO_CSV_TABLE_H_
#define LDSGD_SOLVER_IO_CSV_TABLE_H_

#include <string>
#include <string_view>

#include "solver/objective/finite_sum.h"

namespace ldsgd {

// Format: the first non-comment line names the columns (comma-separated identifiers, as they will
// appear in expressions); every further line holds one finite number per column. Lines starting
// with '#' are comments (provenance: how the data was made); blank lines are skipped; spaces around
// cells and CRLF line ends are accepted. Throws InputError naming `source`, the line and the column.
SampleTable ParseCsv(std::string_view text, const std::string& source);
SampleTable ReadCsv(const std::string& path);

}  // namespace ldsgd

#endif  // LDSGD_SOLVER_IO_CSV_TABLE_H_
