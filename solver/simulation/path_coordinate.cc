#include "solver/simulation/path_coordinate.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace ldsgd {
namespace {

// Cumulative arc length along the rows of `nodes`.
std::vector<double> ArcLengths(const Eigen::MatrixXd& nodes) {
  std::vector<double> arc(nodes.rows(), 0.0);
  for (Eigen::Index k = 1; k < nodes.rows(); ++k) {
    arc[k] = arc[k - 1] + (nodes.row(k) - nodes.row(k - 1)).norm();
  }
  return arc;
}

// The path resampled at `count` points equally spaced in arc length (linear interpolation).
Eigen::MatrixXd Resample(const Eigen::MatrixXd& nodes, const std::vector<double>& arc, int count) {
  Eigen::MatrixXd out(count, nodes.cols());
  const double total = arc.back();
  Eigen::Index k = 0;
  for (int m = 0; m < count; ++m) {
    const double s = total * m / (count - 1);
    while (k + 2 < nodes.rows() && arc[k + 1] < s) ++k;
    const double span = arc[k + 1] - arc[k];
    const double w = span > 0 ? std::clamp((s - arc[k]) / span, 0.0, 1.0) : 0.0;
    out.row(m) = (1 - w) * nodes.row(k) + w * nodes.row(k + 1);
  }
  return out;
}

// Douglas-Peucker: the indices of the nodes to keep so that every dropped node is within
// `tolerance` of the kept polyline (a straight path keeps its two ends).
void Simplify(const Eigen::MatrixXd& nodes, Eigen::Index a, Eigen::Index b, double tolerance, std::vector<Eigen::Index>* keep) {
  if (b <= a + 1) return;
  const Eigen::VectorXd pa = nodes.row(a).transpose(), seg = nodes.row(b).transpose() - pa;
  const double n2 = seg.squaredNorm();
  double worst = -1;
  Eigen::Index at = a;
  for (Eigen::Index k = a + 1; k < b; ++k) {
    const Eigen::VectorXd r = nodes.row(k).transpose() - pa;
    const double w = n2 > 0 ? std::clamp(r.dot(seg) / n2, 0.0, 1.0) : 0.0;
    const double dist = (r - w * seg).norm();
    if (dist > worst) worst = dist, at = k;
  }
  if (worst <= tolerance) return;
  Simplify(nodes, a, at, tolerance, keep);
  keep->push_back(at);
  Simplify(nodes, at, b, tolerance, keep);
}

}  // namespace

std::string PathCoordinate::Validate(const Eigen::MatrixXd& nodes) {
  if (nodes.rows() < 2 || nodes.cols() < 1) return "the path has fewer than two nodes";
  if (!nodes.allFinite()) return "the path has a node that is not finite (NaN or inf)";
  const std::vector<double> arc = ArcLengths(nodes);
  if (!(arc.back() > 0.0)) return "the path has zero length (its ends coincide)";
  return "";
}

PathCoordinate::PathCoordinate(const Eigen::MatrixXd& nodes) {
  const std::vector<double> raw_arc = ArcLengths(nodes);
  const Eigen::MatrixXd resampled =
      nodes.rows() > kPathCoordinateMaxNodes ? Resample(nodes, raw_arc, kPathCoordinateMaxNodes) : nodes;
  std::vector<Eigen::Index> keep = {0};
  Simplify(resampled, 0, resampled.rows() - 1, kPathSimplifyTolerance * raw_arc.back(), &keep);
  keep.push_back(resampled.rows() - 1);
  Eigen::MatrixXd path(keep.size(), resampled.cols());
  for (std::size_t k = 0; k < keep.size(); ++k) path.row(k) = resampled.row(keep[k]);
  dimension_ = static_cast<int>(path.cols());
  arc_ = ArcLengths(path);
  length_ = arc_.back();
  for (double& a : arc_) a /= length_;
  points_.resize(path.size());
  for (Eigen::Index k = 0; k < path.rows(); ++k) {
    for (int i = 0; i < dimension_; ++i) points_[k * dimension_ + i] = path(k, i);
  }
  inverse_.resize(path.rows() - 1);
  for (Eigen::Index k = 0; k + 1 < path.rows(); ++k) {
    const double n2 = (path.row(k + 1) - path.row(k)).squaredNorm();
    inverse_[k] = n2 > 0 ? 1.0 / n2 : 0.0;
  }
}

PathCoordinate PathCoordinate::TowardEnd(const Eigen::MatrixXd& nodes) {
  Eigen::MatrixXd ends(2, nodes.cols());
  ends.row(0) = nodes.row(0);
  ends.row(1) = nodes.row(nodes.rows() - 1);
  PathCoordinate c(ends);
  c.toward_end_ = true;
  return c;
}

double PathCoordinate::operator()(const double* x) const {
  double distance = 0.0;
  return Project(x, &distance);
}

double PathCoordinate::Project(const double* x, double* distance) const {
  if (toward_end_) {
    const double* end = &points_[dimension_];
    double d2 = 0.0;
    for (int i = 0; i < dimension_; ++i) d2 += (x[i] - end[i]) * (x[i] - end[i]);
    *distance = std::sqrt(d2);
    return std::clamp(1.0 - *distance / length_, 0.0, 1.0);
  }
  double w = 0.0, d2 = 0.0;
  const int k = Foot(x, &w, &d2);
  *distance = std::sqrt(d2);
  return arc_[k] + w * (arc_[k + 1] - arc_[k]);
}

int PathCoordinate::Foot(const double* x, double* foot_w, double* distance2) const {
  double best = std::numeric_limits<double>::infinity();
  int foot = 0;
  const int d = dimension_;
  for (std::size_t k = 0; k < inverse_.size(); ++k) {
    const double* a = &points_[k * d];
    const double* b = a + d;
    double dot = 0.0;
    for (int i = 0; i < d; ++i) dot += (x[i] - a[i]) * (b[i] - a[i]);
    const double w = std::clamp(dot * inverse_[k], 0.0, 1.0);
    double dist2 = 0.0;
    for (int i = 0; i < d; ++i) {
      const double r = x[i] - a[i] - w * (b[i] - a[i]);
      dist2 += r * r;
    }
    // Strict: of equally near feet the first (least progress) wins, so xi is a function of x.
    if (dist2 < best) {
      best = dist2;
      foot = static_cast<int>(k);
      *foot_w = w;
    }
  }
  if (distance2 != nullptr) *distance2 = best;
  return foot;
}

void PathCoordinate::Tangent(const double* x, double* t, double* distance) const {
  double w = 0.0;
  if (toward_end_ && distance != nullptr) Project(x, distance);
  double d2 = 0.0;
  const int k = toward_end_ ? 0 : Foot(x, &w, &d2);
  if (!toward_end_ && distance != nullptr) *distance = std::sqrt(d2);
  const double* a = &points_[k * dimension_];
  const double scale = std::sqrt(inverse_[k]);
  for (int i = 0; i < dimension_; ++i) t[i] = (a[dimension_ + i] - a[i]) * scale;
}

void PathCoordinate::PointAt(double xi, double* x, double* t) const {
  const double s = std::clamp(xi, 0.0, 1.0);
  std::size_t k = 0;
  while (k + 2 < arc_.size() && arc_[k + 1] < s) ++k;
  const double span = arc_[k + 1] - arc_[k];
  const double w = span > 0 ? std::clamp((s - arc_[k]) / span, 0.0, 1.0) : 0.0;
  const double* a = &points_[k * dimension_];
  const double scale = std::sqrt(inverse_[k]);
  for (int i = 0; i < dimension_; ++i) {
    x[i] = a[i] + w * (a[dimension_ + i] - a[i]);
    t[i] = (a[dimension_ + i] - a[i]) * scale;
  }
}

}  // namespace ldsgd
