// Zero-cost transitions (THEORY.md section 4): B_ij = 0 when a gradient-flow trajectory joins K_i
// to K_j. Descent from each component along its unstable directions reaches minima (generically);
// ascent along its stable directions reaches maxima, which gives B(max -> this component) = 0,
// including maximum -> saddle connections that no descent from the maximum would hit.
#ifndef LDSGD_SOLVER_LANDSCAPE_GRADIENT_FLOW_H_
#define LDSGD_SOLVER_LANDSCAPE_GRADIENT_FLOW_H_

#include <vector>

#include <Eigen/Core>

#include "solver/landscape/critical_points.h"
#include "solver/objective/objective.h"
#include "solver/problem/problem.h"

namespace ldsgd {

struct FlowConnection {
  int from = -1, to = -1;  // B(from -> to) = 0
  Eigen::MatrixXd path;    // nodes from K_from to K_to along the gradient flow
};

struct GradientFlowOptions {
  // Arc-length step of the normalized flow, relative to the box diameter (RK2 midpoint steps).
  double step = 1e-3;
  // First displacement from the critical point along an eigenvector, relative to the diameter.
  double offset = 1e-4;
  // Arrival: within this distance (relative to the diameter) of a component's point; capped at a
  // quarter of the smallest distance between two components so arrival is unambiguous.
  double arrival_radius = 1e-2;
  // Give up after this many diameters of arc length (the flow may circle or stall).
  double max_length = 20.0;
  // Nodes kept per trajectory (evenly in arc length) for the exported path.
  int path_nodes = 65;
};

// All connections found, deduplicated (one per ordered pair, the shortest trajectory), sorted by
// (from, to). Deterministic.
std::vector<FlowConnection> FindFlowConnections(const Objective& f, const Domain& domain,
                                                const std::vector<CriticalComponent>& components,
                                                const GradientFlowOptions& options);

}  // namespace ldsgd

#endif  // LDSGD_SOLVER_LANDSCAPE_GRADIENT_FLOW_H_
