// Option checks shared by the commands, with plain messages.
#ifndef LDSGD_APPS_VALIDATORS_H_
#define LDSGD_APPS_VALIDATORS_H_

#include <CLI/CLI.hpp>

namespace ldsgd {

// CLI11's PositiveNumber and NonNegativeNumber print the whole range of double in their messages;
// these say it plainly: "must be positive, got -1".
extern const CLI::Validator kPositive;
extern const CLI::Validator kNonNegative;
extern const CLI::Validator kAtLeastOne;

}  // namespace ldsgd

#endif  // LDSGD_APPS_VALIDATORS_H_
