#include "solver/landscape/discovery.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <limits>
#include <set>
#include <sstream>
#include <utility>

#include <Eigen/Eigenvalues>
#include <ceres/ceres.h>

#include "solver/numerics/distributed.h"
#include "solver/numerics/parallel.h"
#include "solver/numerics/progress.h"

namespace ldsgd {
namespace {

using RowMatrix = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

// A point within this fraction of the box's side from a face touches the boundary.
constexpr double kBoundarySlack = 1e-6;
// Critical values closer than this (relative) are ordered by their coordinates instead.
constexpr double kTie = 1e-10;
// Step halvings Newton tries before it stops.
constexpr int kNewtonHalvings = 10;

class DescentFunction final : public ceres::FirstOrderFunction {
 public:
  explicit DescentFunction(const Objective& f) : f_(f) {}
  bool Evaluate(const double* x, double* value, double* gradient) const override {
    *value = gradient != nullptr ? f_.Gradient(x, gradient) : f_.Value(x);
    if (!std::isfinite(*value)) return false;
    if (gradient == nullptr) return true;
    for (int i = 0; i < f_.dimension(); ++i) {
      if (!std::isfinite(gradient[i])) return false;
    }
    return true;
  }
  int NumParameters() const override { return f_.dimension(); }

 private:
  const Objective& f_;
};

// A point where Newton stopped, with what classifies it.
struct Critical {
  Eigen::VectorXd x;
  double f = 0.0, gradient_norm = 0.0;
  Eigen::VectorXd eigenvalues;  // ascending
  int index = 0, zeros = 0;
  bool finite = false;
};

template <class Archive>
void Serialize(Archive& a, Critical& c) {
  a(c.x, c.f, c.gradient_norm, c.eigenvalues, c.index, c.zeros, c.finite);
}

// The point with its value, gradient norm and Hessian eigenvalues, classified by inertia.
Critical Classify(Eigen::VectorXd x, double f, const Eigen::VectorXd& g, const Eigen::VectorXd& eigenvalues,
                  double zero_tolerance) {
  Critical c;
  c.x = std::move(x);
  c.f = f;
  c.finite = true;
  c.gradient_norm = g.norm();
  c.eigenvalues = eigenvalues;
  const double zero = zero_tolerance * std::max(c.eigenvalues.cwiseAbs().maxCoeff(), 1e-300);
  for (Eigen::Index k = 0; k < c.eigenvalues.size(); ++k) {
    c.index += c.eigenvalues[k] < -zero;
    c.zeros += std::abs(c.eigenvalues[k]) <= zero;
  }
  return c;
}

// Newton on grad f = 0 (any index), steps no longer than max_step, for as long as |grad f| falls:
// the last digits of a critical point come from here, not from the descent or the string. The
// eigen-decomposition that makes each step also classifies the point where Newton stops.
Critical Newton(const Objective& f, Eigen::VectorXd x, int steps, double max_step, double zero_tolerance) {
  const int d = f.dimension();
  Eigen::VectorXd g(d), g2(d);
  RowMatrix h(d, d);
  double value = f.Hessian(x.data(), g.data(), h.data());
  if (!std::isfinite(value) || !g.allFinite() || !h.allFinite()) {
    Critical c;
    c.x = std::move(x);
    return c;  // not finite
  }
  Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> eig(h);
  for (int k = 0; k < steps && g.norm() > 0; ++k) {
    const Eigen::VectorXd& lambda = eig.eigenvalues();
    const double floor = 1e-12 * std::max(lambda.cwiseAbs().maxCoeff(), 1e-300);
    Eigen::VectorXd coef = eig.eigenvectors().transpose() * g;
    for (int i = 0; i < d; ++i) coef[i] = std::abs(lambda[i]) > floor ? coef[i] / lambda[i] : 0.0;
    Eigen::VectorXd dx = -(eig.eigenvectors() * coef);
    if (dx.norm() > max_step) dx *= max_step / dx.norm();
    // Backtracking on |grad f|: outside Newton's quadratic region (a shallow saddle next to a
    // minimum, nearly zero curvatures) the full step may overshoot.
    Eigen::VectorXd next;
    double f2 = 0.0;
    bool better = false;
    for (int halving = 0; halving <= kNewtonHalvings && !better; ++halving, dx *= 0.5) {
      next = x + dx;
      f2 = f.Hessian(next.data(), g2.data(), h.data());
      better = std::isfinite(f2) && g2.allFinite() && h.allFinite() && g2.norm() < g.norm();
    }
    if (!better) break;
    x = next;
    value = f2;
    g = g2;
    eig.compute(h);
  }
  return Classify(std::move(x), value, g, eig.eigenvalues(), zero_tolerance);
}

double Scale(const InitDistribution& init) {
  return init.kind == InitKind::kUniform ? (init.b - init.a).norm() : 4.0 * init.b.norm();
}

bool Lexicographic(const Eigen::VectorXd& a, const Eigen::VectorXd& b) {
  for (Eigen::Index i = 0; i < a.size(); ++i) {
    if (a[i] != b[i]) return a[i] < b[i];
  }
  return false;
}

class Discovery {
 public:
  Discovery(const Problem& problem, const DiscoveryOptions& o, DiscoverySummary& s)
      : p_(problem), f_(*problem.objective), o_(o), s_(s), merge_(o.merge_tolerance * Scale(problem.search.init)),
        network_(problem.network != nullptr && problem.network->SymmetryOrder() > 1 ? problem.network.get() : nullptr) {
    s_.symmetry_order = network_ != nullptr ? network_->SymmetryOrder() : 1.0;
  }

  void Descend() {
    const SearchSpec& spec = p_.search;
    s_.starts = spec.starts;
    std::vector<Eigen::VectorXd> starts(spec.starts);
    std::vector<double> start_gradients(spec.starts);
    for (int k = 0; k < spec.starts; ++k) {
      starts[k] = spec.init.Sample(spec.seed, static_cast<std::uint32_t>(k));
      start_gradients[k] = f_.Gradient(starts[k]).norm();
    }
    // Non-finite gradients (a start where f is undefined) sort last; a zero median (starts on
    // critical points) falls back to 1 so that the test stays relative to something.
    for (double& g : start_gradients) g = std::isfinite(g) ? g : std::numeric_limits<double>::max();
    std::nth_element(start_gradients.begin(), start_gradients.begin() + spec.starts / 2, start_gradients.end());
    gradient_scale_ = start_gradients[spec.starts / 2];
    if (!(gradient_scale_ > 0) || gradient_scale_ == std::numeric_limits<double>::max()) gradient_scale_ = 1.0;
    std::vector<Critical> ends(spec.starts);
    Progress bar(o_.progress, spec.starts, "descents", "discovery: minima ");
    DistributedFor(
        spec.starts, o_.num_threads,
        [&](int k) {
          ends[k] = Newton(f_, Minimize(starts[k]), o_.newton_steps, NewtonStep(), o_.zero_eigenvalue_tolerance);
          bar.Add(1);
        },
        [&](auto& archive, int k) { archive(ends[k]); });
    bar.Finish();
    for (Critical& c : ends) AddMinimum(std::move(c));
  }

  void FindSaddles() {
    const std::vector<std::pair<int, int>> pairs = NearestPairs();
    s_.string_pairs = static_cast<int>(pairs.size());
    std::vector<std::vector<Critical>> found(pairs.size());
    std::vector<Eigen::VectorXd> ends(pairs.size());
    Progress bar(o_.progress, static_cast<double>(pairs.size()), "strings", "discovery: saddles ");
    DistributedFor(static_cast<int>(pairs.size()), o_.num_threads, [&](int n) {
      const Eigen::VectorXd& a = minima_[pairs[n].first].x;
      const Eigen::VectorXd b = Aligned(a, minima_[pairs[n].second].x);
      ends[n] = b;
      const StringResult r = RunString(f_, a, b, o_.string);
      // Steps no longer than the images' spacing: the climbing image is that close to its saddle.
      const double step = (a - b).norm() / (o_.string.images - 1);
      for (const Eigen::VectorXd& c : r.climbers) {
        found[n].push_back(Newton(f_, c, o_.newton_steps, step, o_.zero_eigenvalue_tolerance));
      }
      bar.Add(1);
    }, [&](auto& archive, int n) { archive(found[n], ends[n]); });
    bar.Finish();
    for (std::size_t n = 0; n < pairs.size(); ++n) {
      for (Critical& c : found[n]) {
        // The copy of the far minimum this saddle was found toward is where its flow arrives.
        if (AddSaddle(std::move(c))) AddCopy(pairs[n].second, ends[n]);
      }
    }
  }

  std::vector<CriticalComponent> Components() {
    std::vector<std::pair<const Critical*, int>> all;
    for (std::size_t k = 0; k < minima_.size(); ++k) all.emplace_back(&minima_[k], hits_[k]);
    for (const Critical& c : saddles_) all.emplace_back(&c, 0);
    // By f, values within kTie x (1 + |f|) counting as equal (degenerate minima differ by rounding,
    // 1e-30 on the planted problem), then by coordinates: an order rounding cannot change.
    std::stable_sort(all.begin(), all.end(), [](const auto& a, const auto& b) {
      const double fa = a.first->f, fb = b.first->f;
      if (std::abs(fa - fb) > kTie * (1 + std::max(std::abs(fa), std::abs(fb)))) return fa < fb;
      return Lexicographic(a.first->x, b.first->x);
    });
    std::vector<CriticalComponent> out;
    for (const auto& [c, hits] : all) {
      CriticalComponent k;
      k.id = static_cast<int>(out.size());
      k.index = c->index;
      k.type = c->index == 0 ? CriticalType::kMinimum : CriticalType::kSaddle;
      k.point = c->x;
      k.f = c->f;
      k.hessian_eigenvalues = c->eigenvalues;
      k.gradient_norm = c->gradient_norm;
      k.zero_eigenvalues = c->zeros;
      k.touches_boundary = !p_.domain.Contains(c->x, -kBoundarySlack);
      k.points = {c->x};
      if (const int m = MinimumIndex(c); m >= 0) k.points.insert(k.points.end(), copies_[m].begin(), copies_[m].end());
      out.push_back(std::move(k));
      s_.hits.push_back(hits);
    }
    return out;
  }

 private:
  double NewtonStep() const { return 0.1 * Scale(p_.search.init); }

  Eigen::VectorXd Minimize(Eigen::VectorXd x) const {
    ceres::GradientProblem problem(new DescentFunction(f_));
    ceres::GradientProblemSolver::Options options;
    options.line_search_direction_type = ceres::LBFGS;
    options.max_num_iterations = o_.max_iterations;
    options.function_tolerance = 1e-16;
    options.parameter_tolerance = 1e-16;
    options.gradient_tolerance = 1e-3 * o_.gradient_tolerance * gradient_scale_;
    options.logging_type = ceres::SILENT;
    ceres::GradientProblemSolver::Summary summary;
    ceres::Solve(options, problem, x.data(), &summary);
    return x;
  }

  bool IsCritical(const Critical& c) const { return c.finite && c.gradient_norm <= o_.gradient_tolerance * gradient_scale_; }

  // The class of a converged descent, first found first (the order of the starts, so that the
  // result does not depend on the threads).
  void AddMinimum(Critical c) {
    if (!IsCritical(c) || c.index != 0) return void(++s_.not_converged);
    ++s_.converged;
    if (!p_.domain.Contains(c.x)) return void(++s_.left_domain);
    // One representative per symmetry class (an isometry: f, gradient norm and spectrum unchanged).
    if (network_ != nullptr) network_->Canonicalize(c.x.data(), merge_);
    for (std::size_t k = 0; k < minima_.size(); ++k) {
      if ((minima_[k].x - c.x).norm() <= merge_) return void(++hits_[k]);
    }
    minima_.push_back(std::move(c));
    hits_.push_back(1);
    copies_.emplace_back();
  }

  // The member of x's symmetry orbit nearest to `target` (x itself without symmetries).
  Eigen::VectorXd Aligned(const Eigen::VectorXd& target, Eigen::VectorXd x) const {
    if (network_ != nullptr) network_->AlignTo(target.data(), x.data());
    return x;
  }

  // A copy of minimum m other than its representative, kept as one more point of its component.
  void AddCopy(int m, const Eigen::VectorXd& x) {
    if ((x - minima_[m].x).norm() <= merge_) return;
    for (const Eigen::VectorXd& y : copies_[m]) {
      if ((x - y).norm() <= merge_) return;
    }
    copies_[m].push_back(x);
  }

  int MinimumIndex(const Critical* c) const {
    for (std::size_t m = 0; m < minima_.size(); ++m) {
      if (&minima_[m] == c) return static_cast<int>(m);
    }
    return -1;
  }

  // True when c is a new index-1 saddle (a new symmetry class of them).
  bool AddSaddle(Critical c) {
    if (!IsCritical(c)) return ++s_.saddle_failures, false;
    if (c.index != 1) return ++s_.other_critical, false;
    if (!p_.domain.Contains(c.x)) return false;
    for (const auto& known : saddles_) {
      if ((known.x - Aligned(known.x, c.x)).norm() <= merge_) return false;
    }
    saddles_.push_back(std::move(c));
    return true;
  }

  // Each minimum with its `neighbours` nearest other minima (ties by number), as unordered pairs.
  std::vector<std::pair<int, int>> NearestPairs() const {
    std::set<std::pair<int, int>> pairs;
    const int m = static_cast<int>(minima_.size());
    for (int i = 0; i < m; ++i) {
      std::vector<std::pair<double, int>> near;
      for (int j = 0; j < m; ++j) {
        if (j != i) near.emplace_back((minima_[i].x - Aligned(minima_[i].x, minima_[j].x)).norm(), j);
      }
      std::sort(near.begin(), near.end());
      for (int k = 0; k < std::min<int>(p_.search.neighbours, static_cast<int>(near.size())); ++k) {
        pairs.insert({std::min(i, near[k].second), std::max(i, near[k].second)});
      }
    }
    return {pairs.begin(), pairs.end()};
  }

  const Problem& p_;
  const Objective& f_;
  const DiscoveryOptions& o_;
  DiscoverySummary& s_;
  double merge_;
  double gradient_scale_ = 1.0;
  const Network* network_;  // set when the objective has symmetries (discovery works on their classes)
  std::vector<Critical> minima_, saddles_;
  std::vector<int> hits_;
  std::vector<std::vector<Eigen::VectorXd>> copies_;  // per minimum: its copies next to found saddles
};

}  // namespace

Status DiscoveryOptions::Validate() const {
  if (max_iterations < 1 || newton_steps < 0 || !(gradient_tolerance > 0) || !(merge_tolerance > 0) ||
      !(zero_eigenvalue_tolerance > 0) || string.images < 3 || string.iterations < 1 || num_threads < 0 ||
      !(string.warm_up_fraction >= 0 && string.warm_up_fraction < 1) || !(string.tolerance >= 0)) {
    return Status(StatusCode::kInvalidOptions,
                  "Invalid configuration. max_iterations >= 1, newton_steps >= 0, tolerances > 0, "
                  "string.images >= 3, string.iterations >= 1, 0 <= string.warm_up_fraction < 1, "
                  "string.tolerance >= 0, num_threads >= 0");
  }
  return Status::Ok();
}

std::vector<CriticalComponent> DiscoverComponents(const Problem& problem, const DiscoveryOptions& options,
                                                  DiscoverySummary* summary) {
  const auto t0 = std::chrono::steady_clock::now();
  DiscoverySummary local;
  DiscoverySummary& s = summary != nullptr ? *summary : local;
  s = DiscoverySummary();
  if (s.status = options.Validate(); !s.status.ok()) return {};
  const SearchSpec& spec = problem.search;
  const Eigen::Index d = problem.dimension();
  if (spec.starts < 1 || spec.neighbours < 1 || spec.init.a.size() != d || spec.init.b.size() != d) {
    s.status = Status(StatusCode::kInvalidOptions, "Invalid search: starts >= 1, neighbours >= 1, an init distribution of the problem's dimension");
    return {};
  }
  Discovery run(problem, options, s);
  run.Descend();
  run.FindSaddles();
  std::vector<CriticalComponent> out = run.Components();
  for (const CriticalComponent& c : out) (c.type == CriticalType::kMinimum ? s.minima : s.saddles) += 1;
  for (int h : s.hits) {
    s.found_once += h == 1;
    s.found_twice += h == 2;
  }
  // Good-Turing and the bias-corrected Chao1, S + (N-1)/N f1 (f1 - 1) / (2 (f2 + 1)) (Chao 2005),
  // which stays finite when f2 = 0.
  const double f1 = s.found_once, f2 = s.found_twice, n = s.converged - s.left_domain;
  s.unseen_mass = n > 0 ? f1 / n : 1.0;
  s.estimated_minima = s.minima + (n > 0 ? (n - 1) / n * f1 * (f1 - 1) / (2 * (f2 + 1)) : 0.0);
  s.status = s.minima > 0 ? Status::Ok() : Status(StatusCode::kInvalidInput, "no descent from search.init converged to a minimum in the domain");
  s.time_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return out;
}

nlohmann::json ToJson(const DiscoverySummary& s) {
  return {{"starts", s.starts},
          {"converged", s.converged},
          {"not_converged", s.not_converged},
          {"outside_domain", s.left_domain},
          {"minima", s.minima},
          {"saddles", s.saddles},
          {"string_pairs", s.string_pairs},
          {"saddle_failures", s.saddle_failures},
          {"other_critical", s.other_critical},
          {"hits", s.hits},
          {"symmetry_order", s.symmetry_order},
          {"coverage", {{"found_once", s.found_once}, {"found_twice", s.found_twice}, {"unseen_mass", s.unseen_mass},
                        {"estimated_minima", s.estimated_minima}}}};
}

std::string DiscoverySummary::BriefReport() const {
  if (!status.ok()) return "Discovery failed: " + status.message();
  char buffer[420];
  std::snprintf(buffer, sizeof buffer,
                "Discovery: %d minima and %d index-1 saddles from %d descents (%d converged); coverage: %d minima found once, "
                "%d twice, unseen mass %.3g (Good-Turing), about %.3g minima in all (Chao1); %.3f s",
                minima, saddles, starts, converged, found_once, found_twice, unseen_mass, estimated_minima, time_seconds);
  std::string out = buffer;
  // Multiplicities: how many descents reached each minimum (its share of the init distribution).
  constexpr std::size_t kListed = 20;
  std::string list;
  for (std::size_t k = 0, shown = 0; k < hits.size() && shown < kListed; ++k) {
    if (hits[k] == 0) continue;
    list += (list.empty() ? "" : ", ") + std::to_string(k) + ": " + std::to_string(hits[k]);
    ++shown;
  }
  if (!list.empty()) out += "\n  descents per minimum (id: count): " + list + (minima > static_cast<int>(kListed) ? ", ..." : "");
  if (symmetry_order > 1) {
    std::snprintf(buffer, sizeof buffer, "\n  (up to the network's symmetries, a group of order %.6g: each minimum and saddle stands for its class of copies)",
                  symmetry_order);
    out += buffer;
  }
  return out;
}

std::string DiscoverySummary::FullReport() const {
  std::ostringstream out;
  out << BriefReport();
  if (status.ok()) {
    out << "\n  descents that did not converge:        " << not_converged
        << "\n  minima outside the domain (dropped):   " << left_domain
        << "\n  strings between neighbouring minima:   " << string_pairs
        << "\n  climbing images at a point of index != 1: " << other_critical
        << "\n  climbing images Newton did not converge from: " << saddle_failures;
  }
  return out.str();
}

}  // namespace ldsgd
