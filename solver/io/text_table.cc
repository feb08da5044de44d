#include "solver/io/text_table.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace ldsgd {

std::string Table::ToString() const {
  std::vector<std::size_t> width(header_.size(), 0);
  for (std::size_t c = 0; c < header_.size(); ++c) width[c] = header_[c].size();
  for (const auto& row : rows_) {
    for (std::size_t c = 0; c < row.size() && c < width.size(); ++c) {
      width[c] = std::max(width[c], row[c].size());
    }
  }
  auto line = [&](const std::vector<std::string>& row) {
    std::string s;
    for (std::size_t c = 0; c < row.size(); ++c) {
      s += row[c];
      if (c + 1 < row.size()) s += std::string(width[c] - row[c].size() + 2, ' ');
    }
    return s + "\n";
  };
  std::string out = line(header_);
  for (const auto& row : rows_) out += line(row);
  return out;
}

std::string FormatNumber(double v, int digits) {
  if (std::isnan(v)) return "nan";
  if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
  char buffer[64];
  std::snprintf(buffer, sizeof buffer, "%.*g", digits, v);
  return buffer;
}

std::string FormatVector(const Eigen::VectorXd& v, int digits) {
  std::string s = "(";
  for (int i = 0; i < v.size(); ++i) s += (i ? ", " : "") + FormatNumber(v[i], digits);
  return s + ")";
}

}  // namespace ldsgd
