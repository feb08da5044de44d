// The reaction coordinate of rare-event sampling (THEORY.md section 11): progress along a
// minimum-action path, xi(x) = (arc length of the point of the path closest to x) / (its length),
// in [0, 1]. Along the path it is the fraction travelled; off it, the fraction at the foot of the
// perpendicular. In the small-noise limit the trajectories that make a transition concentrate
// around the minimum-action path (THEORY.md section 2), so the progress along it orders states
// nearly as the committor does near the path, which is what keeps the variance of adaptive
// multilevel splitting close to its ideal |log p| / N (splitting.h).
#ifndef LDSGD_SOLVER_SIMULATION_PATH_COORDINATE_H_
#define LDSGD_SOLVER_SIMULATION_PATH_COORDINATE_H_

#include <string>
#include <vector>

#include <Eigen/Core>

namespace ldsgd {

// The most nodes the coordinate keeps: longer paths are resampled to this many nodes at equal arc
// length. Evaluating xi costs O(nodes * d) per SGD step; 65 nodes keep the resampling error below
// 1/64 of the path's length, far finer than the levels AMS needs to tell apart.
inline constexpr int kPathCoordinateMaxNodes = 65;
// Nodes within this fraction of the length from the polyline through the others are dropped
// (Douglas-Peucker): xi moves by at most that much, and a straight path costs one segment.
inline constexpr double kPathSimplifyTolerance = 1e-3;

class PathCoordinate {
 public:
  PathCoordinate() = default;
  // nodes: (N+1) x d, N >= 1, from the start component to the target. Check Validate first.
  explicit PathCoordinate(const Eigen::MatrixXd& nodes);

  // For a start that is a set (a ring of minima), progress along a path from one of its points
  // would reward moving along the set itself; this coordinate is the distance covered toward the
  // path's end instead: xi(x) = clamp(1 - |x - end| / |start - end|, 0, 1).
  static PathCoordinate TowardEnd(const Eigen::MatrixXd& nodes);

  // Empty when the nodes make a usable path (at least two rows, all finite, positive length);
  // else what is wrong, in words.
  static std::string Validate(const Eigen::MatrixXd& nodes);

  // xi(x) in [0, 1]; x has dimension() coordinates.
  double operator()(const double* x) const;
  // xi(x), and in *distance the distance from x to its foot (to the last node for TowardEnd).
  double Project(const double* x, double* distance) const;
  // The unit tangent of the path at the foot of x (toward the end), written to t (dimension()),
  // and, when `distance` is not null, the distance from x to its foot.
  void Tangent(const double* x, double* t, double* distance = nullptr) const;
  // The point of the path at progress xi in [0, 1] (arc fraction) and the unit tangent of the
  // segment holding it, each written to dimension() values.
  void PointAt(double xi, double* x, double* t) const;
  double length() const { return length_; }
  int dimension() const { return dimension_; }
  int nodes() const { return static_cast<int>(arc_.size()); }

 private:
  int dimension_ = 0;
  double length_ = 0.0;
  bool toward_end_ = false;  // TowardEnd: xi from the distance to the last node
  std::vector<double> points_;   // row-major, dimension_ per node
  std::vector<double> arc_;      // arc length at each node, over length_
  std::vector<double> inverse_;  // 1 / |segment|^2 per segment (0 for a degenerate one)
  // The segment holding the foot of x, the fraction along it and the squared distance to it.
  int Foot(const double* x, double* w, double* distance2 = nullptr) const;
};

}  // namespace ldsgd

#endif  // LDSGD_SOLVER_SIMULATION_PATH_COORDINATE_H_
