// What the figures of `ldsgd report` need beyond report.json, computed where the objective and the
// noise live (Python cannot evaluate them): f on a grid over the box (d = 1, 2) or over the plane
// that best holds the components and paths (d >= 3, principal components), and the profiles of f
// and of the accumulated action along each edge of the ground states' optimal trees.
#ifndef LDSGD_SOLVER_ANALYSIS_FIGURE_DATA_H_
#define LDSGD_SOLVER_ANALYSIS_FIGURE_DATA_H_

#include <nlohmann/json.hpp>

#include "solver/analysis/analysis.h"
#include "solver/problem/problem.h"

namespace ldsgd {

// Grid points per axis: 1-D 801, 2-D and planes 161 x 161 (the contours of data/ resolve at this
// spacing; an evaluation of f costs O(n) for a dataset, so a finer grid would dominate the report).
inline constexpr int kFigureGrid1D = 801;
inline constexpr int kFigureGrid2D = 161;

// {"dimension", "sets", "lower", "upper", "grid": {...}, "profiles": [...]}; see the file comment;
// "sets" holds the sampled points of each non-isolated component. The
// profiles' "action" is the cumulative sum of the segment costs c(midpoint, step) (the discrete
// action, geometric_action.h), so its last value is the path's B up to the closure's rounding.
nlohmann::json FigureData(const Problem& problem, const Analysis& analysis);

// stability.json for the figures: `ldsgd stability`'s sweep of Lam(eta) at the components where the
// noise vanishes, over 100 step sizes up to twice the larger of the stability bound 2 / lambda_max
// and the problem's step sizes; {"applies": false, "message"} where it cannot run.
nlohmann::json StabilityFigureData(const Problem& problem, const Analysis& analysis, int threads);

}  // namespace ldsgd

#endif  // LDSGD_SOLVER_ANALYSIS_FIGURE_DATA_H_
