// Option checks shared by the commands, applied to the option's text before it is converted, so
// that nan, inf, 1e20 steps or an empty --out are refused before any work with a plain message
// ("--steps: must be an integer from 1 to 1e+12, got 1e20"). CLI11's PositiveNumber lets nan
// through and prints the whole range of double.
#ifndef LDSGD_APPS_VALIDATORS_H_
#define LDSGD_APPS_VALIDATORS_H_

#include <CLI/CLI.hpp>
#include <Eigen/Core>

#include "solver/theory/rates.h"

namespace ldsgd {

// Real numbers, finite.
extern const CLI::Validator kPositive;     // > 0
extern const CLI::Validator kNonNegative;  // >= 0
extern const CLI::Validator kAtLeastOne;   // >= 1

// Whole numbers in a range. The upper bounds keep a run finite: 1e12 steps of one chain take
// hours at 2e8 steps/s; 1e8 chains of even one step need gigabytes.
extern const CLI::Validator kStepCount;      // steps per chain: 1 .. 1e12
extern const CLI::Validator kBurnInCount;    // 0 .. 1e12
extern const CLI::Validator kChainCount;     // 1 .. 1e8
extern const CLI::Validator kThreadCount;    // 0 (all cores) .. 4096
extern const CLI::Validator kStartCount;     // 0 (automatic) .. 1e7
extern const CLI::Validator kIntervalCount;  // 0 (off) .. 1e12

// A duration: a positive number of seconds, or with a unit s, m or h ("90s", "2m", "1.5h"), at
// most a week.
extern const CLI::Validator kDuration;
// The seconds of a duration kDuration accepted.
double DurationSeconds(const std::string& text);

// `ldsgd rates --pairs`: "FROM:TO" or "FROM:exit" (to = -1) with ids below `components`; a bad one
// throws InputError naming --pairs.
// Comma-separated numbers ("1.5,-2") as a point; throws InputError naming `source` and `field` for
// a cell that is not a number.
Eigen::VectorXd ParsePoint(const std::string& text, const std::string& source, const std::string& field);

RatePair ParseRatePair(const std::string& text, int components);

// A path that names something: --out ''.
extern const CLI::Validator kNonEmpty;

}  // namespace ldsgd

#endif  // LDSGD_APPS_VALIDATORS_H_
