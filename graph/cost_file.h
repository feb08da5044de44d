// Cost files: {"costs": [[B_00, B_01, ...], ...]}, null = +infinity (no transition). Other fields
// (components, paths, ... as written by `ldsgd actions --out`) are ignored.
#ifndef LDSGD_GRAPH_COST_FILE_H_
#define LDSGD_GRAPH_COST_FILE_H_

#include <string>
#include <string_view>

#include <Eigen/Core>

namespace ldsgd {

// The cost matrix of the file at `path`, valid in the sense of ValidateCostMatrix. Throws
// ldsgd::InputError naming the file and the position, e.g.
//   "costs.json: field 'costs[1][0]': must be >= 0, got -0.5",
// for an unreadable file, invalid JSON, a missing or malformed "costs", a row of the wrong length,
// an entry that is neither a number nor null, a negative entry, or a nonzero diagonal entry.
Eigen::MatrixXd LoadCostFile(const std::string& path);
// The same from the file's text; `source` names it in messages.
Eigen::MatrixXd ParseCostFile(std::string_view text, const std::string& source);

}  // namespace ldsgd

#endif  // LDSGD_GRAPH_COST_FILE_H_
