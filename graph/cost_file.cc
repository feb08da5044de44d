#include "graph/cost_file.h"

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <limits>
#include <sstream>

#include <nlohmann/json.hpp>

#include "graph/transition_graph.h"
#include "solver/io/input_error.h"
#include "solver/io/input_text.h"
#include "solver/io/input_text.h"

namespace ldsgd {
namespace {

using json = nlohmann::json;

// What the value was, for messages: a string is quoted ("nan" must be recognisable as a string).
std::string Describe(const json& j) {
  if (j.is_string()) return "a string " + j.dump();
  return JsonTypeName(j);
}


std::string Entry(std::size_t i, std::size_t j) {
  return "costs[" + std::to_string(i) + "][" + std::to_string(j) + "]";
}

}  // namespace

Eigen::MatrixXd LoadCostFile(const std::string& path) { return ParseCostFile(ReadInputFile(path), path); }

Eigen::MatrixXd ParseCostFile(std::string_view text, const std::string& path) {
  const json root = ParseJson(text, path);
  if (!root.is_object()) throw InputError(path, "", std::string("must be an object, got ") + JsonTypeName(root));
  if (!root.contains("costs")) throw InputError(path, "costs", "missing");
  const json& rows = root["costs"];
  if (!rows.is_array()) {
    throw InputError(path, "costs", std::string("must be an array of rows, got ") + JsonTypeName(rows));
  }

  const std::size_t p = rows.size();
  Eigen::MatrixXd costs(p, p);
  for (std::size_t i = 0; i < p; ++i) {
    const std::string row_field = "costs[" + std::to_string(i) + "]";
    const json& row = rows[i];
    if (!row.is_array()) {
      throw InputError(path, row_field, std::string("must be an array, got ") + JsonTypeName(row));
    }
    if (row.size() != p) {
      throw InputError(path, row_field,
                       "has " + std::to_string(row.size()) + " entries, expected " + std::to_string(p) +
                           " (the matrix must be square)");
    }
    for (std::size_t j = 0; j < p; ++j) {
      const json& entry = row[j];
      double b;
      if (entry.is_null()) {
        b = std::numeric_limits<double>::infinity();
      } else if (entry.is_number()) {
        b = entry.get<double>();
      } else {
        throw InputError(path, Entry(i, j), "must be a number or null (+infinity), got " + Describe(entry));
      }
      // JSON has no NaN literal, but a parser extension or a future format might deliver one.
      if (std::isnan(b)) throw InputError(path, Entry(i, j), "must be a number, got NaN");
      if (b < 0.0) throw InputError(path, Entry(i, j), "must be >= 0, got " + ShortestSpelling(b));
      if (std::isfinite(b) && b > kMaxFiniteCost) {
        throw InputError(path, Entry(i, j), "must be <= 1e300 (or null for +infinity), got " + ShortestSpelling(b) +
                                                ": a tree's sum of such costs overflows to +inf");
      }
      if (i == j && b != 0.0) {
        const std::string got = entry.is_null() ? "null (+infinity)" : ShortestSpelling(b);
        throw InputError(path, Entry(i, j), "diagonal entry must be 0, got " + got);
      }
      costs(i, j) = b;
    }
  }
  return costs;
}

}  // namespace ldsgd
