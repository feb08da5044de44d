// A multilayer perceptron trained on a dataset, as a finite sum (issue 18): f_k(x) is the loss of
// the network with parameters x on row k, plus l2/2 |x|^2, and f = (1/n) sum_k f_k.
//
// Architecture: widths n_0 (inputs), n_1, ..., n_L (outputs); layer l maps a_{l-1} to
// z_l = W_l a_{l-1} + b_l, hidden layers apply the activation, the output layer is linear and feeds
// the loss. Parameters, layer by layer: W_l row-major (n_l x n_{l-1}), then b_l.
//
// Derivatives are exact: gradients by hand-written backpropagation (O(P) per sample, P the number of
// parameters), Hessian-vector products by forward-mode differentiation of the backpropagation
// (Ceres Jets; Pearlmutter's R-operator computed automatically, O(P) per product), full per-sample
// Hessians by the same Jets, eight directions per pass (O(P^2)).
//
// relu is refused: f is not twice differentiable where a unit's input crosses 0, and ldsgd needs the
// Hessian everywhere (critical points are classified by it, the action's minibatch cost uses it);
// softplus(z) = log(1 + e^z) is the smooth relu.
#ifndef LDSGD_SOLVER_OBJECTIVE_NETWORK_H_
#define LDSGD_SOLVER_OBJECTIVE_NETWORK_H_

#include <array>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <Eigen/Core>

#include "solver/io/enum_names.h"
#include "solver/objective/finite_sum.h"

namespace ldsgd {

enum class Activation { kTanh, kLogistic, kSoftplus };
template <>
struct EnumNames<Activation> {
  static constexpr std::array<std::pair<Activation, const char*>, 3> kNames = {
      {{Activation::kTanh, "tanh"}, {Activation::kLogistic, "logistic"}, {Activation::kSoftplus, "softplus"}}};
};

// kSquared: (1/2) sum_j (z_j - y_j)^2 over the outputs. kSoftmaxCrossEntropy: y a class index in
// [0, n_L), log sum_j e^{z_j} - z_y. kLogistic: the same with class 0 as the baseline of logit 0,
// n_L outputs for n_L + 1 classes, y in [0, n_L]: log(1 + sum_j e^{z_j}) - z_y (z_0 = 0); with one
// output the binary logistic loss log(1 + e^z) - y z. The baseline removes softmax's invariance
// under adding one constant to every logit, which makes every per-sample gradient orthogonal to
// the output-shift directions and SGD's noise covariance singular there (THEORY.md section 8
// needs it positive definite).
enum class NetworkLoss { kSquared, kLogistic, kSoftmaxCrossEntropy };
template <>
struct EnumNames<NetworkLoss> {
  static constexpr std::array<std::pair<NetworkLoss, const char*>, 3> kNames = {
      {{NetworkLoss::kSquared, "squared"},
       {NetworkLoss::kLogistic, "logistic"},
       {NetworkLoss::kSoftmaxCrossEntropy, "softmax_cross_entropy"}}};
};

struct NetworkSpec {
  std::vector<int> layers;  // n_0, ..., n_L; at least two entries, each >= 1
  Activation activation = Activation::kTanh;
  NetworkLoss loss = NetworkLoss::kSquared;
  double l2 = 0.0;
  int num_parameters() const;
  // w<l>_<j>_<i>: layer l's weight from unit i of layer l-1 to unit j (1-based l, 0-based i, j);
  // b<l>_<j>: its bias. In the parameter order.
  std::vector<std::string> ParameterNames() const;
  // Empty when valid, else why not (naming the field: "layers", "loss").
  std::string Validate() const;
};

// The rows: inputs column k is row k's input (n_0 x n); targets column k its target (n_L x n for
// the squared loss, 1 x n holding 0/1 or the class index otherwise).
struct NetworkData {
  Eigen::MatrixXd inputs, targets;
  std::string source;  // for descriptions
};

class Network final : public FiniteSum {
 public:
  Network(NetworkSpec spec, NetworkData data);
  int size() const override { return static_cast<int>(data_.inputs.cols()); }
  int dimension() const override { return spec_.num_parameters(); }
  std::string Describe() const override;
  double Value(int k, const double* x) const override;
  void Evaluate(const double* x, Eigen::VectorXd* values, Eigen::MatrixXd* g,
                Eigen::MatrixXd* hessians) const override;
  void AddSampleGradients(int count, const std::uint32_t* sample, const double* x, int stride,
                          double* sum) const override;

  // f_k(x) and grad f_k(x) (gradient may be null).
  double SampleGradient(int k, const double* x, double* gradient) const;
  // Hess f_k(x) v, exact.
  void SampleHessianVector(int k, const double* x, const double* v, double* hv) const;

  // Symmetries: permuting a hidden layer's units (with their incoming and outgoing weights), and
  // for the odd tanh also flipping a unit's sign (incoming weights, bias and outgoing weights), leave
  // every f_k unchanged; l2 is invariant too. SymmetryOrder() is the group's size, prod_l n_l! (times
  // 2^{n_l} for tanh) over hidden layers. Canonicalize maps x to one fixed member of its orbit: for
  // tanh each unit's sign makes its first entry (bias, then incoming weights) that exceeds
  // `tolerance` in magnitude positive; the units are then ordered by (bias, incoming weights),
  // entries within `tolerance` counting as equal.
  double SymmetryOrder() const;
  void Canonicalize(double* x, double tolerance) const;
  // For points a descent reached: entries below this count as zero when choosing signs and order.
  static constexpr double kCanonicalTolerance = 1e-9;
  // Moves x within its orbit toward `target`: hidden layer by hidden layer, the permutation and
  // signs of the units that minimize the distance of their (incoming weights, bias, outgoing
  // weights) blocks to target's, over all permutations when the layer has at most
  // kExactAlignmentWidth units, greedily above. Exact (the orbit member nearest to target) for one
  // hidden layer; with several, each layer is matched given the previous ones.
  void AlignTo(const double* target, double* x) const;
  static constexpr int kExactAlignmentWidth = 8;

  const NetworkSpec& spec() const { return spec_; }

 private:
  NetworkSpec spec_;
  NetworkData data_;
};

}  // namespace ldsgd

#endif  // LDSGD_SOLVER_OBJECTIVE_NETWORK_H_
