#include "solver/simulation/neighbourhoods.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <sstream>

#include <Eigen/Eigenvalues>

namespace ldsgd {
namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

const std::vector<Eigen::VectorXd>& PointsOf(const CriticalComponent& c,
                                             std::vector<Eigen::VectorXd>* single) {
  if (!c.points.empty()) return c.points;
  single->assign(1, c.point);
  return *single;
}

double SetDistance(const CriticalComponent& a, const CriticalComponent& b) {
  std::vector<Eigen::VectorXd> sa, sb;
  const std::vector<Eigen::VectorXd>& pa = PointsOf(a, &sa);
  const std::vector<Eigen::VectorXd>& pb = PointsOf(b, &sb);
  double best = kInf;
  for (const Eigen::VectorXd& p : pa) {
    for (const Eigen::VectorXd& q : pb) best = std::min(best, (p - q).squaredNorm());
  }
  return std::sqrt(best);
}


}  // namespace

// The noise length scale s_i of the default rule (neighbourhoods.h).
double NoiseScale(const CriticalComponent& c, const Objective& f, const SgdNoise& noise,
                  double eta) {
  const Eigen::MatrixXd hessian = f.Hessian(c.point);
  const Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> eigen(hessian);
  if (eigen.info() != Eigen::Success) return kInf;
  const Eigen::MatrixXd sigma = noise.CovarianceAt(c.point);
  const int d = static_cast<int>(c.point.size());
  // Directions by increasing |lambda|; a non-isolated component skips its tangent directions.
  std::vector<int> order(d);
  for (int k = 0; k < d; ++k) order[k] = k;
  std::sort(order.begin(), order.end(), [&](int a, int b) {
    return std::abs(eigen.eigenvalues()[a]) < std::abs(eigen.eigenvalues()[b]);
  });
  const int skip = c.isolated ? 0 : std::min(c.zero_eigenvalues, d);
  double sum = 0.0;
  for (int m = skip; m < d; ++m) {
    const int k = order[m];
    const double lambda = std::abs(eigen.eigenvalues()[k]);
    const Eigen::VectorXd e = eigen.eigenvectors().col(k);
    const double v = e.dot(sigma * e);
    if (!(v > 0.0)) {
      if (std::isnan(v)) return kInf;
      continue;  // no noise along e
    }
    const double spread = lambda * (2.0 - eta * lambda);
    if (!(spread > 0.0)) return kInf;
    sum += eta * v / spread;
  }
  return std::sqrt(sum);
}

Eigen::MatrixXd ComponentDistances(const std::vector<CriticalComponent>& components) {
  const int k = static_cast<int>(components.size());
  Eigen::MatrixXd dist = Eigen::MatrixXd::Constant(k, k, kInf);
  for (int i = 0; i < k; ++i) {
    for (int j = i + 1; j < k; ++j)
      dist(i, j) = dist(j, i) = SetDistance(components[i], components[j]);
  }
  return dist;
}

std::vector<double> DefaultRadii(const std::vector<CriticalComponent>& components,
                                 const Objective& f, const SgdNoise& noise, const Domain& domain,
                                 double step_size) {
  const int k = static_cast<int>(components.size());
  const Eigen::MatrixXd dist = ComponentDistances(components);
  const double diameter = (domain.upper - domain.lower).norm();
  std::vector<double> radius(k);
  for (int i = 0; i < k; ++i) {
    const double nearest = k > 1 ? dist.row(i).minCoeff() : kInf;
    const double cap = std::min(kRadiusCapFraction * nearest, kRadiusMaxBoxFraction * diameter);
    const double scale = kRadiusStandardDeviations * NoiseScale(components[i], f, noise, step_size);
    // NaN (an undefined noise scale) takes the cap.
    radius[i] = std::isnan(scale) ? cap : std::clamp(scale, kRadiusFloorFraction * cap, cap);
  }
  return radius;
}

std::string ValidateRadii(const std::vector<CriticalComponent>& components,
                          const std::vector<double>& radius) {
  std::ostringstream out;
  out.precision(10);
  if (radius.size() != components.size()) {
    out << "radius has " << radius.size() << " entries for " << components.size() << " components";
    return out.str();
  }
  for (std::size_t i = 0; i < radius.size(); ++i) {
    if (!(radius[i] > 0.0) || !std::isfinite(radius[i])) {
      out << "radius[" << i << "] = " << radius[i] << " must be positive and finite";
      return out.str();
    }
  }
  const Eigen::MatrixXd dist = ComponentDistances(components);
  for (std::size_t i = 0; i < radius.size(); ++i) {
    for (std::size_t j = i + 1; j < radius.size(); ++j) {
      if (!(radius[i] + radius[j] < dist(i, j))) {
        out << "radius[" << i << "] + radius[" << j << "] = " << radius[i] + radius[j]
            << " >= " << dist(i, j) << ", the distance between components " << i << " and " << j
            << ": their neighbourhoods overlap";
        return out.str();
      }
    }
  }
  return "";
}

Neighbourhoods::Neighbourhoods(const std::vector<CriticalComponent>& components,
                               std::vector<double> radius)
    : dimension_(components.empty() ? 0 : static_cast<int>(components.front().point.size())),
      radius_(std::move(radius)) {
  const int d = dimension_;
  for (std::size_t i = 0; i < components.size(); ++i) {
    const CriticalComponent& c = components[i];
    const double r = radius_[i];
    if (c.isolated || c.points.size() <= 1) {
      ball_of_.push_back(static_cast<int>(ball_index_.size()));
      set_of_.push_back(-1);
      ball_index_.push_back(static_cast<int>(i));
      ball_radius2_.push_back(r * r);
      for (int j = 0; j < d; ++j) ball_centre_.push_back(c.point[j]);
      continue;
    }
    ball_of_.push_back(-1);
    set_of_.push_back(static_cast<int>(sets_.size()));
    Set set;
    set.index = static_cast<int>(i);
    set.radius2 = r * r;
    set.lower = Eigen::VectorXd::Constant(d, kInf);
    set.upper = Eigen::VectorXd::Constant(d, -kInf);
    for (const Eigen::VectorXd& p : c.points) {
      set.lower = set.lower.cwiseMin(p);
      set.upper = set.upper.cwiseMax(p);
      for (int j = 0; j < d; ++j) set.points.push_back(p[j]);
    }
    set.lower.array() -= r;
    set.upper.array() += r;
    sets_.push_back(std::move(set));
  }
}

int Neighbourhoods::Locate(const double* x) const {
  int region = -1;
  LocateBatch(1, x, 1, &region);
  return region;
}

template <int kDim>
void Neighbourhoods::LocateIsolated(int count, const double* x, int stride, int* region) const {
  const int d = kDim > 0 ? kDim : dimension_;
  for (std::size_t b = 0; b < ball_index_.size(); ++b) {
    const double* c = &ball_centre_[b * d];
    const double r2 = ball_radius2_[b];
    const int index = ball_index_[b];
    for (int l = 0; l < count; ++l) {
      double d2 = 0.0;
      for (int i = 0; i < d; ++i) {
        const double delta = x[i * stride + l] - c[i];
        d2 += delta * delta;
      }
      region[l] = d2 < r2 ? index : region[l];
    }
  }
}

void Neighbourhoods::LocateBatch(int count, const double* x, int stride, int* region) const {
  std::fill(region, region + count, -1);
  switch (dimension_) {
    case 1: LocateIsolated<1>(count, x, stride, region); break;
    case 2: LocateIsolated<2>(count, x, stride, region); break;
    case 3: LocateIsolated<3>(count, x, stride, region); break;
    default: LocateIsolated<0>(count, x, stride, region); break;
  }
  if (sets_.empty()) return;
  for (int l = 0; l < count; ++l) {
    int near = 0;
    if (region[l] < 0) region[l] = LocateOne<0>(x, stride, l, &near);
  }
}

template <int kDim>
int Neighbourhoods::LocateOne(const double* x, int stride, int l, int* near) const {
  const int d = kDim > 0 ? kDim : dimension_;
  for (std::size_t b = 0; b < ball_index_.size(); ++b) {
    const double* c = &ball_centre_[b * d];
    double d2 = 0.0;
    for (int i = 0; i < d; ++i) {
      const double delta = x[i * stride + l] - c[i];
      d2 += delta * delta;
    }
    if (d2 < ball_radius2_[b]) return ball_index_[b];
  }
  for (const Set& set : sets_) {
    if (InSet(set, x, stride, l, near)) return set.index;
  }
  return -1;
}

bool Neighbourhoods::InSet(const Set& set, const double* x, int stride, int l, int* near) const {
  const int d = dimension_;
  for (int i = 0; i < d; ++i) {
    const double v = x[i * stride + l];
    if (!(v > set.lower[i] && v < set.upper[i])) return false;
  }
  const int num_points = static_cast<int>(set.points.size()) / d;
  auto close = [&](int p) {
    double d2 = 0.0;
    for (int i = 0; i < d; ++i) {
      const double delta = x[i * stride + l] - set.points[p * d + i];
      d2 += delta * delta;
    }
    return d2 < set.radius2;
  };
  if (*near >= 0 && *near < num_points && close(*near)) return true;
  for (int p = 0; p < num_points; ++p) {
    if (close(p)) {
      *near = p;
      return true;
    }
  }
  return false;
}

template <int kDim>
bool Neighbourhoods::UpdateImpl(int count, const double* x, int stride, int* region,
                                int* point) const {
  const int d = kDim > 0 ? kDim : dimension_;
  bool changed = false;
  for (int l = 0; l < count; ++l) {
    const int previous = region[l];
    const int ball = previous >= 0 ? ball_of_[previous] : -1;
    if (ball >= 0) {
      const double* c = &ball_centre_[ball * d];
      double d2 = 0.0;
      for (int i = 0; i < d; ++i) {
        const double delta = x[i * stride + l] - c[i];
        d2 += delta * delta;
      }
      if (d2 < ball_radius2_[ball]) continue;
    } else if (previous >= 0) {
      int near = point != nullptr ? point[l] : 0;
      const bool stayed = InSet(sets_[set_of_[previous]], x, stride, l, &near);
      if (point != nullptr) point[l] = near;
      if (stayed) continue;
    }
    // Chains between neighbourhoods (hot runs spend a fifth of their steps there) come here every
    // step: the scan runs with the dimension known at compile time.
    int near = point != nullptr ? point[l] : 0;
    const int now = LocateOne<kDim>(x, stride, l, &near);
    if (point != nullptr) point[l] = near;
    changed |= now != previous;
    region[l] = now;
  }
  return changed;
}

bool Neighbourhoods::Update(int count, const double* x, int stride, int* region, int* point) const {
  switch (dimension_) {
    case 1: return UpdateImpl<1>(count, x, stride, region, point);
    case 2: return UpdateImpl<2>(count, x, stride, region, point);
    case 3: return UpdateImpl<3>(count, x, stride, region, point);
    default: return UpdateImpl<0>(count, x, stride, region, point);
  }
}

}  // namespace ldsgd
