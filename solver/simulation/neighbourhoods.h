// The neighbourhoods U_i of the critical components, where the simulator measures occupation,
// last-visited transitions and exit times (THEORY.md section 7).
//
// U_i is the open ball of radius r_i around an isolated component's point, and for a non-isolated
// component (CriticalComponent::isolated == false, e.g. the ring's circle of minima) the set of x
// closer than r_i to the nearest of its sampled `points`. The neighbourhoods must be disjoint:
// r_i + r_j < dist(K_i, K_j), the distance between the two point sets.
//
// Default radius rule (DefaultRadii), at step size eta:
//   r_i = clamp(3 s_i, 0.01 c_i, c_i),
//   s_i^2 = sum_k eta v_k / (|lambda_k| (2 - eta |lambda_k|)),
//   c_i = min(0.45 min_{j != i} dist(K_i, K_j), 0.25 diam(box)).
// lambda_k, e_k are the eigenpairs of Hess f at the component's point and v_k = e_k^T Sigma e_k the
// noise variance along e_k (Sigma the Gaussian covariance there, or the minibatch covariance
// cov_k(g_k)/b of a finite sum). At a minimum s_i^2 is the mean squared distance of the linearized
// chain from the point in its stationary law (THEORY.md section 6: eta sigma^2 / (lambda (2 - eta
// lambda)) per direction, exact for a quadratic), so the ball holds all but a sliver of a minimum's
// local mass; at a saddle or maximum the same formula with |lambda| is the noise's local length
// scale. A direction with no stationary spread (lambda = 0, or eta |lambda| >= 2) makes s_i
// infinite, and a non-isolated component leaves out its `zero_eigenvalues` tangent directions. The
// cap c_i, 0.45 of the distance to the nearest other component, keeps every pair of default
// neighbourhoods disjoint (0.45 + 0.45 < 1); the floor 0.01 c_i keeps a radius positive where the
// noise vanishes.
#ifndef LDSGD_SOLVER_SIMULATION_NEIGHBOURHOODS_H_
#define LDSGD_SOLVER_SIMULATION_NEIGHBOURHOODS_H_

#include <string>
#include <vector>

#include <Eigen/Core>

#include "solver/landscape/critical_points.h"
#include "solver/objective/objective.h"
#include "solver/problem/problem.h"
#include "solver/noise/sgd_noise.h"

namespace ldsgd {

// Constants of the default radius rule above.
inline constexpr double kRadiusStandardDeviations = 3.0;
inline constexpr double kRadiusCapFraction = 0.45;
inline constexpr double kRadiusMaxBoxFraction = 0.25;
inline constexpr double kRadiusFloorFraction = 0.01;

// dist(K_i, K_j): the smallest distance between the components' sampled points (+inf on the
// diagonal).
Eigen::MatrixXd ComponentDistances(const std::vector<CriticalComponent>& components);

// s_i of the rule above: the stationary standard deviation of the linearized chain around the
// component (NaN where it is undefined).
double NoiseScale(const CriticalComponent& c, const Objective& f, const SgdNoise& noise, double step_size);

// The default radii (rule above).
std::vector<double> DefaultRadii(const std::vector<CriticalComponent>& components,
                                 const Objective& f, const SgdNoise& noise, const Domain& domain,
                                 double step_size);

// Empty when `radius` has one positive finite entry per component and the neighbourhoods are
// disjoint; else what is wrong, naming the entries.
std::string ValidateRadii(const std::vector<CriticalComponent>& components,
                          const std::vector<double>& radius);

class Neighbourhoods {
 public:
  Neighbourhoods() = default;
  // The radii must be valid (ValidateRadii).
  Neighbourhoods(const std::vector<CriticalComponent>& components, std::vector<double> radius);

  int size() const { return static_cast<int>(radius_.size()); }
  const std::vector<double>& radius() const { return radius_; }

  // The index of the neighbourhood containing x, or -1.
  int Locate(const double* x) const;
  // Locate for `count` points laid out structure-of-arrays (coordinate i of point l is
  // x[i * stride + l]): region[l].
  void LocateBatch(int count, const double* x, int stride, int* region) const;
  // The same for points that moved a little: region[l] holds point l's previous neighbourhood on
  // entry and its new one on return. A point still in its previous ball costs one distance; only
  // the others are located from scratch (the simulator's hot path: chains mostly stay put).
  // point[l] (optional, initialize to 0) remembers which sampled point of a non-isolated component
  // the point was last near, so that staying near it costs one distance too. Returns whether any
  // region changed.
  bool Update(int count, const double* x, int stride, int* region, int* point = nullptr) const;

 private:
  struct Set {  // a non-isolated component
    int index;
    double radius2;
    Eigen::VectorXd lower, upper;  // bounding box of the points, enlarged by the radius
    std::vector<double> points;    // row-major, d per point
  };
  template <int kDim>
  void LocateIsolated(int count, const double* x, int stride, int* region) const;
  template <int kDim>
  bool UpdateImpl(int count, const double* x, int stride, int* region, int* point) const;
  // Locates point l of a batch by scanning every neighbourhood; *near: the sampled point of a set
  // it is near (when it is in one). kDim: the dimension when known at compile time, else 0.
  template <int kDim>
  int LocateOne(const double* x, int stride, int l, int* near) const;
  // Whether point l is within the set's radius of one of its points, trying *near first; updates
  // *near.
  bool InSet(const Set& set, const double* x, int stride, int l, int* near) const;

  int dimension_ = 0;
  std::vector<double> radius_;
  // Isolated components: index, squared radius, centre (d each).
  std::vector<int> ball_index_;
  std::vector<double> ball_radius2_;
  std::vector<double> ball_centre_;
  std::vector<Set> sets_;
  // Per component: its position among the balls or among the sets, -1 in the other.
  std::vector<int> ball_of_, set_of_;
};

}  // namespace ldsgd

#endif  // LDSGD_SOLVER_SIMULATION_NEIGHBOURHOODS_H_
