#include "solver/io/csv_table.h"

#include <cmath>
#include <cstdlib>
#include <set>
#include <vector>

#include "solver/io/input_error.h"
#include "solver/io/input_text.h"

namespace ldsgd {
namespace {

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
  return s;
}

std::vector<std::string_view> SplitCells(std::string_view line) {
  std::vector<std::string_view> cells;
  for (;;) {
    const std::size_t comma = line.find(',');
    cells.push_back(Trim(line.substr(0, comma)));
    if (comma == std::string_view::npos) return cells;
    line.remove_prefix(comma + 1);
  }
}

bool IsIdentifier(std::string_view s) {
  if (s.empty() || !(std::isalpha(static_cast<unsigned char>(s[0])) || s[0] == '_')) return false;
  for (char c : s) {
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_')) return false;
  }
  return true;
}

}  // namespace

SampleTable ParseCsv(std::string_view text, const std::string& source) {
  SampleTable table;
  table.source = source;
  std::vector<std::vector<double>> columns;
  bool have_header = false;
  int line_number = 0;
  auto fail = [&](const std::string& detail) {
    throw InputError(source, "", "line " + std::to_string(line_number) + ": " + detail);
  };
  // A UTF-8 byte-order mark (spreadsheets write one) is not part of the first column's name.
  if (text.substr(0, 3) == "\xEF\xBB\xBF") text.remove_prefix(3);
  while (!text.empty()) {
    const std::size_t end = text.find('\n');
    const std::string_view line = Trim(text.substr(0, end));
    text.remove_prefix(end == std::string_view::npos ? text.size() : end + 1);
    ++line_number;
    if (line.empty() || line.front() == '#') continue;
    const std::vector<std::string_view> cells = SplitCells(line);
    if (!have_header) {
      std::set<std::string_view> seen;
      for (std::size_t c = 0; c < cells.size(); ++c) {
        const std::string name(cells[c]);
        if (!IsIdentifier(name)) {
          fail("column " + std::to_string(c + 1) + ": header '" + name +
               "' is not a valid name (letters, digits and _, not starting with a digit)");
        }
        if (!seen.insert(cells[c]).second) fail("duplicate column '" + name + "'");
        table.columns.push_back(name);
      }
      columns.resize(cells.size());
      have_header = true;
      continue;
    }
    if (!columns.empty() && columns.front().size() >= kMaxCsvRows) {
      fail("more than " + std::to_string(kMaxCsvRows) + " data rows, the limit for a dataset");
    }
    if (cells.size() != table.columns.size()) {
      fail("expected " + std::to_string(table.columns.size()) + " cells (one per column), got " +
           std::to_string(cells.size()));
    }
    for (std::size_t c = 0; c < cells.size(); ++c) {
      const std::string cell(cells[c]);
      char* stop = nullptr;
      // Overflow gives inf (rejected); underflow to a subnormal or zero is a fine number.
      const double v = cell.empty() ? 0.0 : std::strtod(cell.c_str(), &stop);
      if (cell.empty() || stop != cell.c_str() + cell.size() || !std::isfinite(v)) {
        fail("column '" + table.columns[c] + "': '" + cell + "' is not a finite number");
      }
      columns[c].push_back(v);
    }
  }
  if (!have_header) throw InputError(source, "", "empty dataset (no header line)");
  table.rows = columns.empty() ? 0 : static_cast<int>(columns.front().size());
  if (table.rows == 0) throw InputError(source, "", "empty dataset (a header but no data rows)");
  for (const std::vector<double>& column : columns) {
    table.values.insert(table.values.end(), column.begin(), column.end());
  }
  return table;
}

SampleTable ReadCsv(const std::string& path) { return ParseCsv(ReadInputFile(path, kMaxCsvBytes), path); }

}  // namespace ldsgd
