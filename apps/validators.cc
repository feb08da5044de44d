#include "apps/validators.h"

#include <string>

namespace ldsgd {
namespace {

CLI::Validator Bound(double bound, bool strict, const std::string& words, const std::string& name) {
  return CLI::Validator(
      [=](std::string& text) {
        double v = 0.0;
        const bool ok = CLI::detail::lexical_cast(text, v) && (strict ? v > bound : v >= bound);
        return ok ? std::string() : "must be " + words + ", got " + text;
      },
      name);
}

}  // namespace

const CLI::Validator kPositive = Bound(0.0, true, "positive", "POSITIVE");
const CLI::Validator kNonNegative = Bound(0.0, false, "non-negative", "NONNEGATIVE");
const CLI::Validator kAtLeastOne = Bound(1.0, false, ">= 1", ">= 1");

}  // namespace ldsgd
