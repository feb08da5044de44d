#include "apps/validators.h"

#include <cmath>
#include <sstream>
#include <vector>
#include <limits>
#include <string>

#include "solver/io/input_error.h"
#include "solver/io/input_text.h"

namespace ldsgd {
namespace {

// A real number in [low, high] (low excluded when `strict`), finite.
CLI::Validator Real(double low, bool strict, const std::string& words) {
  return CLI::Validator(
      [=](std::string& text) {
        double v = 0.0;
        const bool ok = CLI::detail::lexical_cast(text, v) && std::isfinite(v) && (strict ? v > low : v >= low);
        return ok ? std::string() : "must be " + words + ", got " + text;
      },
      words);
}

// A whole number in [low, high], read as a double first so that 1e20 is refused, not wrapped.
CLI::Validator Whole(double low, double high) {
  const std::string words = "an integer from " + ShortestSpelling(low) + " to " + ShortestSpelling(high);
  return CLI::Validator(
      [=](std::string& text) {
        double v = 0.0;
        const bool ok = CLI::detail::lexical_cast(text, v) && std::isfinite(v) && v == std::floor(v) &&
                        v >= low && v <= high;
        return ok ? std::string() : "must be " + words + ", got " + text;
      },
      words);
}

}  // namespace

const CLI::Validator kPositive = Real(0.0, true, "positive and finite");
const CLI::Validator kNonNegative = Real(0.0, false, "non-negative and finite");
const CLI::Validator kAtLeastOne = Real(1.0, false, ">= 1 and finite");
const CLI::Validator kStepCount = Whole(1, 1e12);
const CLI::Validator kBurnInCount = Whole(0, 1e12);
const CLI::Validator kChainCount = Whole(1, 1e8);
const CLI::Validator kThreadCount = Whole(0, 4096);
const CLI::Validator kStartCount = Whole(0, 1e7);
const CLI::Validator kIntervalCount = Whole(0, 1e12);
double DurationSeconds(const std::string& text) {
  std::size_t used = 0;
  double value = std::numeric_limits<double>::quiet_NaN();
  try {
    value = std::stod(text, &used);
  } catch (const std::exception&) {
    return std::numeric_limits<double>::quiet_NaN();
  }
  const std::string unit = text.substr(used);
  const double scale = unit.empty() || unit == "s" ? 1.0 : unit == "m" ? 60.0 : unit == "h" ? 3600.0 : 0.0;
  const double seconds = value * scale;
  return std::isfinite(seconds) && seconds > 0 && seconds <= 7 * 24 * 3600.0 ? seconds
                                                                            : std::numeric_limits<double>::quiet_NaN();
}

const CLI::Validator kDuration = CLI::Validator(
    [](std::string& text) {
      return std::isnan(DurationSeconds(text)) ? "must be a duration like 90s, 2m or 1h (at most a week), got " + text
                                               : std::string();
    },
    "DURATION");
const CLI::Validator kNonEmpty = CLI::Validator(
    [](std::string& text) { return text.empty() ? std::string("must not be empty") : std::string(); }, "PATH");

RatePair ParseRatePair(const std::string& text, int components) {
  RatePair pair;
  const std::size_t colon = text.find(':');
  auto index = [&](const std::string& s, int* v) {
    std::size_t used = 0;
    try {
      *v = std::stoi(s, &used);
    } catch (...) {
      used = 0;
    }
    return used == s.size() && !s.empty();
  };
  const std::string a = colon == std::string::npos ? text : text.substr(0, colon);
  const std::string b = colon == std::string::npos ? "" : text.substr(colon + 1);
  const bool ok = colon != std::string::npos && index(a, &pair.from) && (b == "exit" ? (pair.to = -1, true) : index(b, &pair.to));
  if (!ok) throw InputError("--pairs", "", "'" + text + "' is not FROM:TO or FROM:exit (component ids)");
  if (pair.from < 0 || pair.from >= components || pair.to < -1 || pair.to >= components) {
    throw InputError("--pairs", "", "'" + text + "': components are numbered 0 to " + std::to_string(components - 1));
  }
  if (pair.from == pair.to) throw InputError("--pairs", "", "'" + text + "': a transition needs two different components");
  return pair;
}

Eigen::VectorXd ParsePoint(const std::string& text, const std::string& source, const std::string& field) {
  std::vector<double> v;
  std::stringstream in(text);
  for (std::string cell; std::getline(in, cell, ',');) {
    std::size_t used = 0;
    double x = 0;
    try {
      x = std::stod(cell, &used);
    } catch (const std::exception&) {
      used = 0;
    }
    if (used == 0 || cell.find_first_not_of(" \t", used) != std::string::npos) {
      throw InputError(source, field, "'" + cell + "' is not a number");
    }
    v.push_back(x);
  }
  return Eigen::Map<Eigen::VectorXd>(v.data(), static_cast<Eigen::Index>(v.size()));
}

}  // namespace ldsgd
