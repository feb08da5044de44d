#include "apps/output.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <system_error>

#include <unistd.h>

#include "solver/io/input_error.h"

namespace ldsgd {

void WriteFileAtomically(const std::string& dir, const std::string& name, const std::string& content) {
  namespace fs = std::filesystem;
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) throw InputError(dir, "", "cannot create directory: " + ec.message());
  const fs::path target = fs::path(dir) / name;
  const fs::path temp = fs::path(dir) / ("." + name + ".tmp." + std::to_string(::getpid()));
  {
    std::ofstream out(temp, std::ios::binary | std::ios::trunc);
    out << content;
    out.flush();
    if (!out) {
      fs::remove(temp, ec);
      throw InputError(target.string(), "", "cannot write file");
    }
  }
  fs::rename(temp, target, ec);
  if (ec) {
    fs::remove(temp, ec);
    throw InputError(target.string(), "", "cannot write file: " + ec.message());
  }
}

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
