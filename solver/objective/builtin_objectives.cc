#include "solver/objective/builtin_objectives.h"

#include <cmath>
#include <cstdio>
#include <string>

#include "solver/objective/planted.h"

namespace ldsgd {
namespace {

std::string Num(double v) {
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%.17g", v);
  return buffer;
}

// A fixed-dimension built-in: F supplies kDim, Value, Gradient and Hessian on raw scalars.
// GradientBatch runs F::Gradient lane by lane on local copies so the compiler can inline and
// vectorize it; it is the simulator's baseline.
template <class F>
class FixedBuiltin final : public Objective {
 public:
  explicit FixedBuiltin(F f, std::string name) : f_(f), name_(std::move(name)) {}
  int dimension() const override { return F::kDim; }
  std::string Describe() const override { return "builtin " + name_; }
  double Value(const double* x) const override { return f_.Value(x); }
  double Gradient(const double* x, double* g) const override { return f_.Gradient(x, g); }
  double Hessian(const double* x, double* g, double* h) const override {
    return f_.Hessian(x, g, h);
  }
  void GradientBatch(int count, const double* x, int stride, double* gradient) const override {
    for (int k = 0; k < count; ++k) {
      double p[F::kDim], g[F::kDim];
      for (int i = 0; i < F::kDim; ++i) p[i] = x[i * stride + k];
      f_.Gradient(p, g);
      for (int i = 0; i < F::kDim; ++i) gradient[i * stride + k] = g[i];
    }
  }

 private:
  F f_;
  std::string name_;
};

// f = (x^2 + y - 11)^2 + (x + y^2 - 7)^2.
struct Himmelblau {
  static constexpr int kDim = 2;
  double Value(const double* p) const {
    const double u = p[0] * p[0] + p[1] - 11.0, v = p[0] + p[1] * p[1] - 7.0;
    return u * u + v * v;
  }
  double Gradient(const double* p, double* g) const {
    const double x = p[0], y = p[1];
    const double u = x * x + y - 11.0, v = x + y * y - 7.0;
    g[0] = 4.0 * x * u + 2.0 * v;
    g[1] = 2.0 * u + 4.0 * y * v;
    return u * u + v * v;
  }
  double Hessian(const double* p, double* g, double* h) const {
    const double x = p[0], y = p[1];
    const double u = x * x + y - 11.0, v = x + y * y - 7.0;
    h[0] = 4.0 * u + 8.0 * x * x + 2.0;
    h[1] = h[2] = 4.0 * (x + y);
    h[3] = 2.0 + 4.0 * v + 8.0 * y * y;
    return Gradient(p, g);
  }
};

// Muller-Brown potential, standard parameters (Muller & Brown 1979):
// f = sum_k A_k exp(a_k (x-x0_k)^2 + b_k (x-x0_k)(y-y0_k) + c_k (y-y0_k)^2).
struct MullerBrown {
  static constexpr int kDim = 2;
  static constexpr double A[4] = {-200.0, -100.0, -170.0, 15.0};
  static constexpr double a[4] = {-1.0, -1.0, -6.5, 0.7};
  static constexpr double b[4] = {0.0, 0.0, 11.0, 0.6};
  static constexpr double c[4] = {-10.0, -10.0, -6.5, 0.7};
  static constexpr double x0[4] = {1.0, 0.0, -0.5, -1.0};
  static constexpr double y0[4] = {0.0, 0.5, 1.5, 1.0};
  double Value(const double* p) const {
    double f = 0.0;
    for (int k = 0; k < 4; ++k) {
      const double dx = p[0] - x0[k], dy = p[1] - y0[k];
      f += A[k] * std::exp(a[k] * dx * dx + b[k] * dx * dy + c[k] * dy * dy);
    }
    return f;
  }
  double Gradient(const double* p, double* g) const {
    double f = 0.0, gx = 0.0, gy = 0.0;
    for (int k = 0; k < 4; ++k) {
      const double dx = p[0] - x0[k], dy = p[1] - y0[k];
      const double e = A[k] * std::exp(a[k] * dx * dx + b[k] * dx * dy + c[k] * dy * dy);
      f += e;
      gx += e * (2.0 * a[k] * dx + b[k] * dy);
      gy += e * (b[k] * dx + 2.0 * c[k] * dy);
    }
    g[0] = gx;
    g[1] = gy;
    return f;
  }
  double Hessian(const double* p, double* g, double* h) const {
    double f = 0.0, gx = 0.0, gy = 0.0, hxx = 0.0, hxy = 0.0, hyy = 0.0;
    for (int k = 0; k < 4; ++k) {
      const double dx = p[0] - x0[k], dy = p[1] - y0[k];
      const double e = A[k] * std::exp(a[k] * dx * dx + b[k] * dx * dy + c[k] * dy * dy);
      const double qx = 2.0 * a[k] * dx + b[k] * dy, qy = b[k] * dx + 2.0 * c[k] * dy;
      f += e;
      gx += e * qx;
      gy += e * qy;
      hxx += e * (qx * qx + 2.0 * a[k]);
      hxy += e * (qx * qy + b[k]);
      hyy += e * (qy * qy + 2.0 * c[k]);
    }
    g[0] = gx;
    g[1] = gy;
    h[0] = hxx;
    h[1] = h[2] = hxy;
    h[3] = hyy;
    return f;
  }
};

// f = 2x^2 - 1.05x^4 + x^6/6 + xy + y^2.
struct ThreeHumpCamel {
  static constexpr int kDim = 2;
  double Value(const double* p) const {
    const double x = p[0], y = p[1], x2 = x * x;
    return 2.0 * x2 - 1.05 * x2 * x2 + x2 * x2 * x2 / 6.0 + x * y + y * y;
  }
  double Gradient(const double* p, double* g) const {
    const double x = p[0], y = p[1], x2 = x * x;
    g[0] = 4.0 * x - 4.2 * x2 * x + x2 * x2 * x + y;
    g[1] = x + 2.0 * y;
    return Value(p);
  }
  double Hessian(const double* p, double* g, double* h) const {
    const double x2 = p[0] * p[0];
    h[0] = 4.0 - 12.6 * x2 + 5.0 * x2 * x2;
    h[1] = h[2] = 1.0;
    h[3] = 2.0;
    return Gradient(p, g);
  }
};

// f = x^4/4 - x^2/2 + tilt x.
struct TiltedDoubleWell {
  static constexpr int kDim = 1;
  double tilt = 0.0;
  double Value(const double* p) const {
    const double x2 = p[0] * p[0];
    return 0.25 * x2 * x2 - 0.5 * x2 + tilt * p[0];
  }
  double Gradient(const double* p, double* g) const {
    g[0] = p[0] * p[0] * p[0] - p[0] + tilt;
    return Value(p);
  }
  double Hessian(const double* p, double* g, double* h) const {
    h[0] = 3.0 * p[0] * p[0] - 1.0;
    return Gradient(p, g);
  }
};

// f = (x^2 + y^2 - 1)^2: a circle of minima around a maximum.
struct Ring {
  static constexpr int kDim = 2;
  double Value(const double* p) const {
    const double s = p[0] * p[0] + p[1] * p[1] - 1.0;
    return s * s;
  }
  double Gradient(const double* p, double* g) const {
    const double s = p[0] * p[0] + p[1] * p[1] - 1.0;
    g[0] = 4.0 * p[0] * s;
    g[1] = 4.0 * p[1] * s;
    return s * s;
  }
  double Hessian(const double* p, double* g, double* h) const {
    const double s = p[0] * p[0] + p[1] * p[1] - 1.0;
    h[0] = 4.0 * s + 8.0 * p[0] * p[0];
    h[1] = h[2] = 8.0 * p[0] * p[1];
    h[3] = 4.0 * s + 8.0 * p[1] * p[1];
    return Gradient(p, g);
  }
};

// f = sum_i (x_i^2 - 1)^2 / 4 + tilt x_1 in d dimensions: 3^d critical points.
class SeparableDoubleWell final : public Objective {
 public:
  SeparableDoubleWell(int d, double tilt) : d_(d), tilt_(tilt) {}
  int dimension() const override { return d_; }
  std::string Describe() const override {
    return "builtin separable_double_well (d = " + std::to_string(d_) + ")";
  }
  double Value(const double* x) const override {
    double f = tilt_ * x[0];
    for (int i = 0; i < d_; ++i) {
      const double s = x[i] * x[i] - 1.0;
      f += 0.25 * s * s;
    }
    return f;
  }
  double Gradient(const double* x, double* g) const override {
    for (int i = 0; i < d_; ++i) g[i] = x[i] * (x[i] * x[i] - 1.0);
    g[0] += tilt_;
    return Value(x);
  }
  double Hessian(const double* x, double* g, double* h) const override {
    for (int i = 0; i < d_ * d_; ++i) h[i] = 0.0;
    for (int i = 0; i < d_; ++i) h[i * d_ + i] = 3.0 * x[i] * x[i] - 1.0;
    return Gradient(x, g);
  }
  void GradientBatch(int count, const double* x, int stride, double* g) const override {
    for (int i = 0; i < d_; ++i) {
      const double* xi = x + i * stride;
      double* gi = g + i * stride;
      const double t = i == 0 ? tilt_ : 0.0;
      for (int k = 0; k < count; ++k) gi[k] = xi[k] * (xi[k] * xi[k] - 1.0) + t;
    }
  }

 private:
  int d_;
  double tilt_;
};

double Param(const std::string& name, const std::map<std::string, double>& params,
             const std::string& key) {
  if (auto it = params.find(key); it != params.end()) return it->second;
  return FindBuiltin(name)->defaults.at(key);
}

// Largest dimension accepted for separable_double_well: 3^d critical points must stay enumerable.
constexpr double kMaxSeparableDimension = 8;
// Largest dimension of planted_himmelblau: its dense d x d rotation costs d^2 per gradient.
constexpr double kMaxPlantedDimension = 2000;

// x1..xd.
std::vector<std::string> Numbered(int d) {
  std::vector<std::string> v;
  for (int i = 1; i <= d; ++i) v.push_back(std::string(1, 'x').append(std::to_string(i)));
  return v;
}

std::unique_ptr<PlantedHimmelblau> MakePlanted(const std::string& name, const std::map<std::string, double>& params) {
  return std::make_unique<PlantedHimmelblau>(static_cast<int>(Param(name, params, "dimension")),
                                             static_cast<std::uint64_t>(Param(name, params, "seed")),
                                             Param(name, params, "curvature_min"), Param(name, params, "curvature_max"));
}

// y_k written out as sum_j Q_kj x_j.
std::string PlantedCoordinate(const Eigen::MatrixXd& q, int k) {
  std::string e = "(";
  for (int j = 0; j < q.cols(); ++j) e += (j ? " + " : "") + Num(q(k, j)) + "*x" + std::to_string(j + 1);
  return e + ")";
}

std::string PlantedExpression(const PlantedHimmelblau& f) {
  const std::string y1 = PlantedCoordinate(f.rotation(), 0), y2 = PlantedCoordinate(f.rotation(), 1);
  std::string e = "(" + y1 + "^2 + " + y2 + " - 11)^2 + (" + y1 + " + " + y2 + "^2 - 7)^2";
  for (int k = 0; k < f.curvatures().size(); ++k) {
    e += " + " + Num(0.5 * f.curvatures()[k]) + "*" + PlantedCoordinate(f.rotation(), k + 2) + "^2";
  }
  return e;
}

}  // namespace

const std::vector<BuiltinInfo>& BuiltinCatalog() {
  static const std::vector<BuiltinInfo> catalog = {
      {"himmelblau", "(x^2 + y - 11)^2 + (x + y^2 - 7)^2", {}},
      {"muller_brown",
       "sum_k A_k exp(a_k (x-x0_k)^2 + b_k (x-x0_k)(y-y0_k) + c_k (y-y0_k)^2), standard "
       "parameters A = (-200,-100,-170,15), a = (-1,-1,-6.5,0.7), b = (0,0,11,0.6), "
       "c = (-10,-10,-6.5,0.7), x0 = (1,0,-0.5,-1), y0 = (0,0.5,1.5,1)",
       {}},
      {"three_hump_camel", "2x^2 - 1.05x^4 + x^6/6 + xy + y^2", {}},
      {"tilted_double_well", "x^4/4 - x^2/2 + tilt*x", {{"tilt", 0.1}}},
      {"ring", "(x^2 + y^2 - 1)^2", {}},
      {"separable_double_well", "sum_{i=1..d} (x_i^2 - 1)^2/4 + tilt*x_1, variables x1..xd",
       {{"dimension", 3.0}, {"tilt", 0.05}}},
      {"planted_himmelblau",
       "Himmelblau in y1, y2 plus sum_{k=3..d} c_k y_k^2/2, y = Q x with Q a random orthogonal matrix fixed by "
       "seed, c geometric from curvature_min to curvature_max; variables x1..xd (critical points and costs "
       "those of Himmelblau)",
       {{"dimension", 100.0}, {"seed", 1.0}, {"curvature_min", 1.0}, {"curvature_max", 50.0}}},
  };
  return catalog;
}

const BuiltinInfo* FindBuiltin(const std::string& name) {
  for (const BuiltinInfo& info : BuiltinCatalog()) {
    if (info.name == name) return &info;
  }
  return nullptr;
}

std::string ValidateBuiltinParams(const std::string& name,
                                  const std::map<std::string, double>& params) {
  const BuiltinInfo* info = FindBuiltin(name);
  if (info == nullptr) return "unknown builtin '" + name + "'";
  for (const auto& [key, value] : params) {
    if (!info->defaults.count(key)) return "unknown parameter '" + key + "' of builtin " + name;
    if (!std::isfinite(value)) return "parameter '" + key + "' must be finite";
  }
  if (name == "separable_double_well") {
    const double d = Param(name, params, "dimension");
    if (d != std::floor(d) || d < 1 || d > kMaxSeparableDimension) {
      return "parameter 'dimension' must be an integer in [1, " +
             Num(kMaxSeparableDimension) + "]";
    }
  }
  if (name == "planted_himmelblau") {
    const double d = Param(name, params, "dimension"), seed = Param(name, params, "seed");
    const double lo = Param(name, params, "curvature_min"), hi = Param(name, params, "curvature_max");
    if (d != std::floor(d) || d < 2 || d > kMaxPlantedDimension) {
      return "parameter 'dimension' must be an integer in [2, " + Num(kMaxPlantedDimension) + "]";
    }
    if (seed != std::floor(seed) || seed < 0 || seed > 9007199254740992.0) return "parameter 'seed' must be an integer in [0, 2^53]";
    if (!(lo > 0) || !(hi >= lo)) return "parameters must satisfy 0 < curvature_min <= curvature_max";
  }
  return "";
}

std::unique_ptr<Objective> MakeBuiltin(const std::string& name,
                                       const std::map<std::string, double>& params) {
  if (!ValidateBuiltinParams(name, params).empty()) return nullptr;
  if (name == "himmelblau") return std::make_unique<FixedBuiltin<Himmelblau>>(Himmelblau{}, name);
  if (name == "muller_brown") {
    return std::make_unique<FixedBuiltin<MullerBrown>>(MullerBrown{}, name);
  }
  if (name == "three_hump_camel") {
    return std::make_unique<FixedBuiltin<ThreeHumpCamel>>(ThreeHumpCamel{}, name);
  }
  if (name == "tilted_double_well") {
    return std::make_unique<FixedBuiltin<TiltedDoubleWell>>(
        TiltedDoubleWell{Param(name, params, "tilt")}, name);
  }
  if (name == "ring") return std::make_unique<FixedBuiltin<Ring>>(Ring{}, name);
  if (name == "planted_himmelblau") return MakePlanted(name, params);
  if (name == "separable_double_well") {
    return std::make_unique<SeparableDoubleWell>(
        static_cast<int>(Param(name, params, "dimension")), Param(name, params, "tilt"));
  }
  return nullptr;
}

std::vector<std::string> BuiltinVariables(const std::string& name,
                                          const std::map<std::string, double>& params) {
  if (name == "tilted_double_well") return {"x"};
  if (name == "separable_double_well" || name == "planted_himmelblau") {
    return Numbered(static_cast<int>(Param(name, params, "dimension")));
  }
  return {"x", "y"};
}

std::string BuiltinExpression(const std::string& name,
                              const std::map<std::string, double>& params) {
  if (name == "himmelblau") return "(x^2 + y - 11)^2 + (x + y^2 - 7)^2";
  if (name == "muller_brown") {
    std::string e;
    for (int k = 0; k < 4; ++k) {
      const auto shift = [](const char* v, double c) {
        if (c == 0.0) return std::string(v);
        // snprintf, not operator+: GCC 12 warns falsely (-Wrestrict) on "(" + std::string.
        char buffer[48];
        std::snprintf(buffer, sizeof buffer, "(%s - %.17g)", v, c);
        return std::string(buffer);
      };
      const std::string dx = shift("x", MullerBrown::x0[k]), dy = shift("y", MullerBrown::y0[k]);
      e += (k ? " + " : "") + Num(MullerBrown::A[k]) + "*exp(" + Num(MullerBrown::a[k]) + "*" +
           dx + "^2 + " + Num(MullerBrown::b[k]) + "*" + dx + "*" + dy + " + " +
           Num(MullerBrown::c[k]) + "*" + dy + "^2)";
    }
    return e;
  }
  if (name == "three_hump_camel") return "2*x^2 - 1.05*x^4 + x^6/6 + x*y + y^2";
  if (name == "tilted_double_well") {
    return "x^4/4 - x^2/2 + " + Num(Param(name, params, "tilt")) + "*x";
  }
  if (name == "ring") return "(x^2 + y^2 - 1)^2";
  if (name == "separable_double_well") {
    std::string e;
    for (const std::string& v : BuiltinVariables(name, params)) e += "(" + v + "^2 - 1)^2/4 + ";
    return e + Num(Param(name, params, "tilt")) + "*x1";
  }
  if (name == "planted_himmelblau") return PlantedExpression(*MakePlanted(name, params));
  return "";
}

}  // namespace ldsgd
