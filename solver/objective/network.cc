#include "solver/objective/network.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include <ceres/jet.h>

namespace ldsgd {
namespace {

// Directions per forward-mode pass for full Hessians: 8 keeps a Jet in two cache lines' worth of
// registers and needs ceil(P / 8) passes of the backpropagation.
constexpr int kHessianChunk = 8;
using HessianJet = ceres::Jet<double, kHessianChunk>;
using DirectionJet = ceres::Jet<double, 1>;

double Real(double t) { return t; }
template <int N>
double Real(const ceres::Jet<double, N>& t) {
  return t.a;
}

// Written so that neither branch overflows: exp of a non-positive argument only.
template <typename T>
T Logistic(const T& z) {
  using std::exp;
  if (Real(z) >= 0) return 1.0 / (1.0 + exp(-z));
  const T e = exp(z);
  return e / (1.0 + e);
}

template <typename T>
T Softplus(const T& z) {
  using std::exp;
  using std::log1p;
  return Real(z) > 0 ? T(z + log1p(exp(-z))) : T(log1p(exp(z)));
}

template <typename T>
T Activate(Activation kind, const T& z) {
  using std::tanh;
  switch (kind) {
    case Activation::kTanh: return tanh(z);
    case Activation::kLogistic: return Logistic(z);
    case Activation::kSoftplus: return Softplus(z);
  }
  return z;
}

// sigma'(z), from z and a = sigma(z).
template <typename T>
T ActivationSlope(Activation kind, const T& z, const T& a) {
  switch (kind) {
    case Activation::kTanh: return 1.0 - a * a;
    case Activation::kLogistic: return a * (1.0 - a);
    case Activation::kSoftplus: return Logistic(z);
  }
  return T(1.0);
}

// The loss of output z (m entries) against target y, and delta = dloss/dz.
template <typename T>
T LossAndDelta(NetworkLoss loss, const T* z, int m, const double* y, T* delta) {
  using std::exp;
  using std::log;
  switch (loss) {
    case NetworkLoss::kSquared: {
      T total(0.0);
      for (int j = 0; j < m; ++j) {
        delta[j] = z[j] - y[j];
        total += 0.5 * delta[j] * delta[j];
      }
      return total;
    }
    case NetworkLoss::kLogistic: {
      if (m == 1) {  // the binary case in its overflow-free form
        delta[0] = Logistic(z[0]) - y[0];
        return Softplus(z[0]) - y[0] * z[0];
      }
      // Softmax over (0, z_1, ..., z_m), class 0 the baseline: log(1 + sum_j e^{z_j}) - z_y.
      T top(0.0);
      for (int j = 0; j < m; ++j) {
        if (Real(z[j]) > Real(top)) top = z[j];
      }
      T sum = exp(-top);
      for (int j = 0; j < m; ++j) sum += exp(z[j] - top);
      const T log_sum = top + log(sum);
      const int c = static_cast<int>(y[0]) - 1;
      for (int j = 0; j < m; ++j) delta[j] = exp(z[j] - log_sum) - (j == c ? 1.0 : 0.0);
      return c >= 0 ? T(log_sum - z[c]) : log_sum;
    }
    case NetworkLoss::kSoftmaxCrossEntropy: {
      int top = 0;
      for (int j = 1; j < m; ++j) {
        if (Real(z[j]) > Real(z[top])) top = j;
      }
      T sum(0.0);
      for (int j = 0; j < m; ++j) sum += exp(z[j] - z[top]);
      const T log_sum = z[top] + log(sum);
      const int c = static_cast<int>(y[0]);
      for (int j = 0; j < m; ++j) delta[j] = exp(z[j] - log_sum) - (j == c ? 1.0 : 0.0);
      return log_sum - z[c];
    }
  }
  return T(0.0);
}

template <typename T>
struct Scratch {
  std::vector<std::vector<T>> z, a;  // per layer: pre-activations, activations (hidden layers)
  std::vector<T> delta, previous;
  std::vector<int> offset;  // first parameter of each layer
};

// f_k at parameters x for the row (input, target), and its gradient when `gradient` is not null:
// forward pass, then backpropagation of delta_l = dloss/dz_l,
//   dW_l = delta_l a_{l-1}^T,  db_l = delta_l,  delta_{l-1} = (W_l^T delta_l) .* sigma'(z_{l-1}).
// Templated so that Jets differentiate it once more (Hessian-vector products, Hessians).
template <typename T>
T SampleLoss(const NetworkSpec& spec, const T* x, const double* input, const double* target, T* gradient,
             Scratch<T>& s) {
  const int layers = static_cast<int>(spec.layers.size()) - 1;
  s.z.resize(layers);
  s.a.resize(layers);
  std::vector<int>& offset = s.offset;
  offset.resize(layers);
  auto in = [&](int l, int i) { return l == 0 ? T(input[i]) : s.a[l - 1][i]; };
  for (int l = 0, off = 0; l < layers; ++l) {
    const int n_in = spec.layers[l], n_out = spec.layers[l + 1];
    offset[l] = off;
    const T* w = x + off;
    const T* b = w + n_out * n_in;
    s.z[l].resize(n_out);
    s.a[l].resize(n_out);
    for (int j = 0; j < n_out; ++j) {
      T sum = b[j];
      for (int i = 0; i < n_in; ++i) sum += w[j * n_in + i] * in(l, i);
      s.z[l][j] = sum;
      if (l + 1 < layers) s.a[l][j] = Activate(spec.activation, sum);
    }
    off += n_out * n_in + n_out;
  }
  const int outputs = spec.layers.back();
  s.delta.resize(outputs);
  T loss = LossAndDelta(spec.loss, s.z[layers - 1].data(), outputs, target, s.delta.data());
  const int d = spec.num_parameters();
  T norm(0.0);
  for (int i = 0; i < d; ++i) norm += x[i] * x[i];
  loss += 0.5 * spec.l2 * norm;
  if (gradient == nullptr) return loss;
  for (int l = layers - 1; l >= 0; --l) {
    const int n_in = spec.layers[l], n_out = spec.layers[l + 1];
    const T* w = x + offset[l];
    T* gw = gradient + offset[l];
    for (int j = 0; j < n_out; ++j) {
      for (int i = 0; i < n_in; ++i) gw[j * n_in + i] = s.delta[j] * in(l, i);
      gw[n_out * n_in + j] = s.delta[j];
    }
    if (l == 0) break;
    s.previous.assign(n_in, T(0.0));
    for (int j = 0; j < n_out; ++j) {
      for (int i = 0; i < n_in; ++i) s.previous[i] += w[j * n_in + i] * s.delta[j];
    }
    for (int i = 0; i < n_in; ++i) {
      s.previous[i] *= ActivationSlope(spec.activation, s.z[l - 1][i], s.a[l - 1][i]);
    }
    std::swap(s.delta, s.previous);
  }
  for (int i = 0; i < d; ++i) gradient[i] += spec.l2 * x[i];
  return loss;
}

// Lexicographic order of two keys, entries within `tolerance` counting as equal; -1, 0 or 1.
int CompareKeys(const std::vector<double>& a, const std::vector<double>& b, double tolerance) {
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (std::abs(a[i] - b[i]) > tolerance) return a[i] < b[i] ? -1 : 1;
  }
  return 0;
}

}  // namespace

int NetworkSpec::num_parameters() const {
  int p = 0;
  for (std::size_t l = 1; l < layers.size(); ++l) p += layers[l] * (layers[l - 1] + 1);
  return p;
}

std::vector<std::string> NetworkSpec::ParameterNames() const {
  std::vector<std::string> names;
  for (std::size_t l = 1; l < layers.size(); ++l) {
    const std::string layer = std::to_string(l);
    for (int j = 0; j < layers[l]; ++j) {
      for (int i = 0; i < layers[l - 1]; ++i) {
        names.push_back("w" + layer + "_" + std::to_string(j) + "_" + std::to_string(i));
      }
    }
    for (int j = 0; j < layers[l]; ++j) names.push_back("b" + layer + "_" + std::to_string(j));
  }
  return names;
}

// Dense d x d Hessians are formed (classification, the minibatch covariance), hence the cap.
constexpr int kMaxNetworkParameters = 5000;
constexpr int kMaxLayerWidth = 1000;

std::string NetworkSpec::Validate() const {
  if (layers.size() < 2) return "layers: needs at least the input and output widths";
  for (int w : layers) {
    if (w < 1 || w > kMaxLayerWidth) return "layers: every width must be in [1, " + std::to_string(kMaxLayerWidth) + "]";
  }
  long p = 0;
  for (std::size_t l = 1; l < layers.size(); ++l) p += static_cast<long>(layers[l]) * (layers[l - 1] + 1);
  if (p > kMaxNetworkParameters) {
    return "layers: " + std::to_string(p) + " parameters, more than the " + std::to_string(kMaxNetworkParameters) +
           " whose dense Hessians ldsgd forms";
  }
  if (loss == NetworkLoss::kSoftmaxCrossEntropy && layers.back() < 2) {
    return "loss: softmax_cross_entropy needs at least two outputs";
  }
  if (!(l2 >= 0) || !std::isfinite(l2)) return "l2: must be finite and >= 0";
  return "";
}

Network::Network(NetworkSpec spec, NetworkData data) : spec_(std::move(spec)), data_(std::move(data)) {}

std::string Network::Describe() const {
  std::string widths;
  for (int w : spec_.layers) widths += (widths.empty() ? "" : "-") + std::to_string(w);
  return "network " + widths + " " + ToString(spec_.activation) + " " + ToString(spec_.loss) + " on " +
         std::to_string(size()) + " rows of " + data_.source;
}

double Network::SampleGradient(int k, const double* x, double* gradient) const {
  thread_local Scratch<double> s;
  return SampleLoss(spec_, x, data_.inputs.col(k).data(), data_.targets.col(k).data(), gradient, s);
}

double Network::Value(int k, const double* x) const { return SampleGradient(k, x, nullptr); }

void Network::SampleHessianVector(int k, const double* x, const double* v, double* hv) const {
  const int d = dimension();
  thread_local Scratch<DirectionJet> s;
  thread_local std::vector<DirectionJet> xj, gj;
  xj.resize(d);
  gj.resize(d);
  for (int i = 0; i < d; ++i) {
    xj[i] = DirectionJet(x[i]);
    xj[i].v[0] = v[i];
  }
  SampleLoss(spec_, xj.data(), data_.inputs.col(k).data(), data_.targets.col(k).data(), gj.data(), s);
  for (int i = 0; i < d; ++i) hv[i] = gj[i].v[0];
}

void Network::Evaluate(const double* x, Eigen::VectorXd* values, Eigen::MatrixXd* g,
                       Eigen::MatrixXd* hessians) const {
  const int d = dimension(), n = size();
  if (values != nullptr) values->resize(n);
  if (g != nullptr) g->resize(d, n);
  if (hessians == nullptr) {
    for (int k = 0; k < n; ++k) {
      const double f = SampleGradient(k, x, g != nullptr ? g->col(k).data() : nullptr);
      if (values != nullptr) (*values)[k] = f;
    }
    return;
  }
  hessians->resize(d, static_cast<long>(d) * n);
  thread_local Scratch<HessianJet> s;
  thread_local std::vector<HessianJet> xj, gj;
  xj.resize(d);
  gj.resize(d);
  for (int k = 0; k < n; ++k) {
    double* h = hessians->data() + static_cast<long>(k) * d * d;
    HessianJet f;
    for (int c0 = 0; c0 < d; c0 += kHessianChunk) {
      for (int i = 0; i < d; ++i) xj[i] = HessianJet(x[i]);
      for (int m = 0; m < kHessianChunk && c0 + m < d; ++m) xj[c0 + m].v[m] = 1.0;
      f = SampleLoss(spec_, xj.data(), data_.inputs.col(k).data(), data_.targets.col(k).data(), gj.data(), s);
      for (int i = 0; i < d; ++i) {
        for (int m = 0; m < kHessianChunk && c0 + m < d; ++m) h[(c0 + m) * d + i] = gj[i].v[m];
      }
    }
    // Forward over reverse gives d(grad_i)/dx_j, symmetric up to rounding: symmetrize exactly.
    Eigen::Map<Eigen::MatrixXd> block(h, d, d);
    block = (0.5 * (block + block.transpose())).eval();
    if (values != nullptr) (*values)[k] = f.a;
    if (g != nullptr) {
      for (int i = 0; i < d; ++i) (*g)(i, k) = gj[i].a;
    }
  }
}

void Network::AddSampleGradients(int count, const std::uint32_t* sample, const double* x, int stride,
                                 double* sum) const {
  const int d = dimension();
  thread_local std::vector<double> point, gradient;
  point.resize(d);
  gradient.resize(d);
  for (int l = 0; l < count; ++l) {
    for (int i = 0; i < d; ++i) point[i] = x[i * stride + l];
    SampleGradient(static_cast<int>(sample[l]), point.data(), gradient.data());
    for (int i = 0; i < d; ++i) sum[i * stride + l] += gradient[i];
  }
}

double Network::SymmetryOrder() const {
  double order = 1.0;
  for (std::size_t l = 1; l + 1 < spec_.layers.size(); ++l) {
    for (int j = 1; j <= spec_.layers[l]; ++j) order *= j * (spec_.activation == Activation::kTanh ? 2.0 : 1.0);
  }
  return order;
}

void Network::Canonicalize(double* x, double tolerance) const {
  const int hidden = static_cast<int>(spec_.layers.size()) - 2;
  for (int l = 0, off = 0; l < hidden; ++l) {
    const int n_in = spec_.layers[l], n = spec_.layers[l + 1], n_next = spec_.layers[l + 2];
    double* w = x + off;
    double* b = w + n * n_in;
    double* next = b + n;  // the next layer's weights, n_next x n
    // Unit j's key: (b_j, W_j0, W_j1, ...).
    std::vector<std::vector<double>> key(n, std::vector<double>(n_in + 1));
    for (int j = 0; j < n; ++j) {
      if (spec_.activation == Activation::kTanh) {
        double lead = b[j];
        for (int i = 0; std::abs(lead) <= tolerance && i < n_in; ++i) lead = w[j * n_in + i];
        if (lead < -tolerance) {
          b[j] = -b[j];
          for (int i = 0; i < n_in; ++i) w[j * n_in + i] = -w[j * n_in + i];
          for (int r = 0; r < n_next; ++r) next[r * n + j] = -next[r * n + j];
        }
      }
      key[j][0] = b[j];
      for (int i = 0; i < n_in; ++i) key[j][1 + i] = w[j * n_in + i];
    }
    // Insertion sort: needs no strict weak order (the tolerance breaks transitivity).
    std::vector<int> order(n);
    for (int j = 0; j < n; ++j) {
      int at = j;
      while (at > 0 && CompareKeys(key[j], key[order[at - 1]], tolerance) < 0) {
        order[at] = order[at - 1];
        --at;
      }
      order[at] = j;
    }
    const std::vector<double> old_w(w, w + n * n_in), old_b(b, b + n), old_next(next, next + n_next * n);
    for (int j = 0; j < n; ++j) {
      const int from = order[j];
      std::copy_n(old_w.data() + from * n_in, n_in, w + j * n_in);
      b[j] = old_b[from];
      for (int r = 0; r < n_next; ++r) next[r * n + j] = old_next[r * n + from];
    }
    off += n * n_in + n;
  }
}

namespace {

// Unit j of a hidden layer as one block: incoming weights, bias, outgoing weights.
struct UnitView {
  double* w;
  double* b;
  double* next;
  int n_in, n, n_next;
  std::vector<double> Block(int j) const {
    std::vector<double> v(w + j * n_in, w + (j + 1) * n_in);
    v.push_back(b[j]);
    for (int r = 0; r < n_next; ++r) v.push_back(next[r * n + j]);
    return v;
  }
  void Set(int j, const std::vector<double>& v) const {
    std::copy_n(v.data(), n_in, w + j * n_in);
    b[j] = v[n_in];
    for (int r = 0; r < n_next; ++r) next[r * n + j] = v[n_in + 1 + r];
  }
};

double SquaredDistance(const std::vector<double>& a, const std::vector<double>& b, double sign) {
  double s = 0.0;
  for (std::size_t i = 0; i < a.size(); ++i) s += (a[i] - sign * b[i]) * (a[i] - sign * b[i]);
  return s;
}

// The assignment (unit j of the target <- unit order[j] of x) of least total cost.
std::vector<int> BestAssignment(const std::vector<std::vector<double>>& cost, bool exact) {
  const int n = static_cast<int>(cost.size());
  std::vector<int> order(n);
  for (int j = 0; j < n; ++j) order[j] = j;
  if (exact) {
    std::vector<int> best = order;
    double best_cost = std::numeric_limits<double>::infinity();
    do {
      double c = 0.0;
      for (int j = 0; j < n; ++j) c += cost[j][order[j]];
      if (c < best_cost) {
        best_cost = c;
        best = order;
      }
    } while (std::next_permutation(order.begin(), order.end()));
    return best;
  }
  std::vector<bool> used(n, false);
  for (int j = 0; j < n; ++j) {
    int pick = -1;
    for (int k = 0; k < n; ++k) {
      if (!used[k] && (pick < 0 || cost[j][k] < cost[j][pick])) pick = k;
    }
    used[pick] = true;
    order[j] = pick;
  }
  return order;
}

}  // namespace

void Network::AlignTo(const double* target, double* x) const {
  const int hidden = static_cast<int>(spec_.layers.size()) - 2;
  const bool odd = spec_.activation == Activation::kTanh;
  std::vector<double> t(target, target + dimension());
  for (int l = 0, off = 0; l < hidden; ++l) {
    const int n_in = spec_.layers[l], n = spec_.layers[l + 1], n_next = spec_.layers[l + 2];
    const UnitView xv{x + off, x + off + n * n_in, x + off + n * n_in + n, n_in, n, n_next};
    const UnitView tv{t.data() + off, t.data() + off + n * n_in, t.data() + off + n * n_in + n, n_in, n, n_next};
    std::vector<std::vector<double>> xs(n), ts(n), cost(n, std::vector<double>(n));
    for (int j = 0; j < n; ++j) {
      xs[j] = xv.Block(j);
      ts[j] = tv.Block(j);
    }
    for (int j = 0; j < n; ++j) {
      for (int k = 0; k < n; ++k) {
        cost[j][k] = SquaredDistance(ts[j], xs[k], 1.0);
        if (odd) cost[j][k] = std::min(cost[j][k], SquaredDistance(ts[j], xs[k], -1.0));
      }
    }
    const std::vector<int> order = BestAssignment(cost, n <= kExactAlignmentWidth);
    for (int j = 0; j < n; ++j) {
      std::vector<double> v = xs[order[j]];
      if (odd && SquaredDistance(ts[j], v, -1.0) < SquaredDistance(ts[j], v, 1.0)) {
        for (double& e : v) e = -e;
      }
      xv.Set(j, v);
    }
    off += n * n_in + n;
  }
}

}  // namespace ldsgd
