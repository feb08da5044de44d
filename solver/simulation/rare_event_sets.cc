#include "solver/simulation/rare_event_sets.h"

#include <cmath>
#include <sstream>

namespace ldsgd {
namespace {

std::string CheckBall(const Ball& b, int d, const std::string& name) {
  if (b.centre.size() != d) return name + " has dimension " + std::to_string(b.centre.size()) +
                                    ", not " + std::to_string(d);
  if (!b.centre.allFinite()) return name + " has a centre that is not finite";
  if (!(b.radius > 0.0) || !std::isfinite(b.radius)) {
    std::ostringstream s;
    s << name << " is empty (radius " << b.radius << "; it must be positive and finite)";
    return s.str();
  }
  return "";
}

bool Meet(const Ball& a, const Ball& b) { return (a.centre - b.centre).norm() < a.radius + b.radius; }

}  // namespace

std::string RareEventSets::Validate(int d) const {
  if (std::string e = CheckBall(start, d, "the start set U_i"); !e.empty()) return e;
  if (targets.empty()) return "there is no target set U_j";
  for (std::size_t k = 0; k < targets.size(); ++k) {
    if (std::string e = CheckBall(targets[k], d, "target set " + std::to_string(k)); !e.empty()) return e;
    if (Meet(start, targets[k])) return "the start set U_i meets target set " + std::to_string(k);
  }
  for (const Ball& a : start_more) {
    if (std::string e = CheckBall(a, d, "the start set U_i"); !e.empty()) return e;
    for (std::size_t k = 0; k < targets.size(); ++k) {
      if (Meet(a, targets[k])) return "the start set U_i meets target set " + std::to_string(k);
    }
    for (std::size_t k = 0; k < others.size(); ++k) {
      if (Meet(a, others[k])) return "the start set U_i meets stopping set " + std::to_string(k);
    }
  }
  for (std::size_t k = 0; k < others.size(); ++k) {
    if (std::string e = CheckBall(others[k], d, "stopping set " + std::to_string(k)); !e.empty()) return e;
    if (Meet(start, others[k])) return "the start set U_i meets stopping set " + std::to_string(k);
  }
  return "";
}

}  // namespace ldsgd
