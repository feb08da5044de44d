// Network objectives ({"network": [...], ...}): per-sample values, gradients and Hessians against the
// same network written out as a per-sample expression (the symbolic engine, an independent
// implementation), against central differences, Hessian-vector products against the Hessian, the
// symmetries (canonical form and alignment leave every f_k unchanged), and bad input.
#include <cmath>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "solver/io/input_error.h"
#include "solver/objective/network.h"
#include "solver/problem/problem.h"
#include "tests/test_problems.h"

namespace ldsgd {
namespace {

namespace fs = std::filesystem;

// Both engines are exact: their difference is rounding in sums of a few dozen terms.
constexpr double kEngineTolerance = 1e-12;
// Central differences with h = 1e-5 on O(1) third derivatives: error ~ h^2 plus rounding 1e-16 / h.
constexpr double kDifferenceTolerance = 1e-7;

class NetworkFiles : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("ldsgd_network_" + std::to_string(::getpid()) + "_" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    // Seven rows: inputs u, v; class c in {0, 1, 2}; its one-hot columns t0, t1, t2; c2, the
    // classes 1 and 2 merged (two classes); real targets r0, r1 for the squared loss.
    std::ofstream(dir_ / "rows.csv") << "u,v,c,t0,t1,t2,c2,r0,r1\n"
                                        "0.5,-1.2,0,1,0,0,0,0.3,-0.7\n"
                                        "-0.3,0.8,1,0,1,0,1,-1.1,0.2\n"
                                        "1.7,0.1,2,0,0,1,1,0.9,0.4\n"
                                        "-1.4,-0.6,1,0,1,0,1,0.0,1.3\n"
                                        "0.2,1.9,0,1,0,0,0,-0.5,-0.2\n"
                                        "0.9,-0.4,2,0,0,1,1,1.6,0.8\n"
                                        "-0.8,0.3,0,1,0,0,0,-0.9,-1.5\n";
  }
  void TearDown() override { fs::remove_all(dir_); }
  Problem Parse(const std::string& objective, const std::string& variables = "") {
    const std::string text = "{" + variables + R"("objective": )" + objective +
                             R"(, "l2": 0.05, "noise": {"type": "finite_sum", "batch_size": 2},
                             "domain": {"lower": -5, "upper": 5}})";
    std::ofstream(dir_ / "p.json") << text;
    return LoadProblem((dir_ / "p.json").string());
  }
  std::string ErrorOf(const std::string& objective) {
    try {
      Parse(objective);
    } catch (const InputError& e) {
      return e.what();
    }
    return "no error";
  }
  fs::path dir_;
};

std::string Activate(Activation a, const std::string& z) {
  switch (a) {
    case Activation::kTanh: return "tanh(" + z + ")";
    case Activation::kLogistic: return "1/(1+exp(-(" + z + ")))";
    case Activation::kSoftplus: return "log(1+exp(" + z + "))";
  }
  return z;
}

// The 2-2-2 network spelt out for the expression engine.
std::string NetworkExpression(Activation a, NetworkLoss loss) {
  std::string h[2], z[2];
  for (int j = 0; j < 2; ++j) {
    const std::string s = std::to_string(j);
    h[j] = Activate(a, "w1_" + s + "_0*u + w1_" + s + "_1*v + b1_" + s);
  }
  for (int j = 0; j < 2; ++j) {
    const std::string s = std::to_string(j);
    z[j] = "(w2_" + s + "_0*" + h[0] + " + w2_" + s + "_1*" + h[1] + " + b2_" + s + ")";
  }
  switch (loss) {
    case NetworkLoss::kSquared: return "0.5*(" + z[0] + " - r0)^2 + 0.5*(" + z[1] + " - r1)^2";
    case NetworkLoss::kSoftmaxCrossEntropy:  // two classes (c2): t0 marks class 0
      return "log(exp(" + z[0] + ") + exp(" + z[1] + ")) - (t0*" + z[0] + " + (1 - t0)*" + z[1] + ")";
    case NetworkLoss::kLogistic:  // three classes, class 0 the baseline
      return "log(1 + exp(" + z[0] + ") + exp(" + z[1] + ")) - (t1*" + z[0] + " + t2*" + z[1] + ")";
  }
  return "";
}

double Scale(const Eigen::MatrixXd& m) { return std::max(1.0, m.cwiseAbs().maxCoeff()); }

TEST_F(NetworkFiles, AgreesWithTheExpressionEngineOnEveryActivationAndLoss) {
  std::mt19937_64 rng(7);
  std::normal_distribution<double> normal(0.0, 0.8);
  for (Activation a : {Activation::kTanh, Activation::kLogistic, Activation::kSoftplus}) {
    for (NetworkLoss loss : {NetworkLoss::kSquared, NetworkLoss::kLogistic, NetworkLoss::kSoftmaxCrossEntropy}) {
      SCOPED_TRACE(std::string(ToString(a)) + " " + ToString(loss));
      const std::string targets = loss == NetworkLoss::kSquared ? R"(["r0", "r1"])"
                                  : loss == NetworkLoss::kLogistic ? R"(["c"])" : R"(["c2"])";
      const Problem net = Parse(R"({"network": [2, 2, 2], "activation": ")" + std::string(ToString(a)) +
                                R"(", "loss": ")" + ToString(loss) + R"(", "data": "rows.csv", "inputs": ["u", "v"], "targets": )" +
                                targets + "}");
      std::string names;
      for (const std::string& v : net.variables) names += (names.empty() ? "\"" : ", \"") + v + "\"";
      const Problem expr = Parse(R"({"per_sample": ")" + NetworkExpression(a, loss) + R"(", "data": "rows.csv"})",
                                 "\"variables\": [" + names + "], ");
      ASSERT_EQ(net.dimension(), 12);
      for (int trial = 0; trial < 3; ++trial) {
        Eigen::VectorXd x(12);
        for (int i = 0; i < 12; ++i) x[i] = normal(rng);
        Eigen::VectorXd v1, v2;
        Eigen::MatrixXd g1, g2, h1, h2;
        net.samples->Evaluate(x.data(), &v1, &g1, &h1);
        expr.samples->Evaluate(x.data(), &v2, &g2, &h2);
        EXPECT_LE((v1 - v2).cwiseAbs().maxCoeff(), kEngineTolerance * Scale(v2));
        EXPECT_LE((g1 - g2).cwiseAbs().maxCoeff(), kEngineTolerance * Scale(g2));
        EXPECT_LE((h1 - h2).cwiseAbs().maxCoeff(), kEngineTolerance * Scale(h2));
        // The gradient-only path (no Hessians) gives the same gradients.
        Eigen::MatrixXd g3;
        net.samples->Evaluate(x.data(), nullptr, &g3, nullptr);
        EXPECT_LE((g3 - g2).cwiseAbs().maxCoeff(), kEngineTolerance * Scale(g2));
        EXPECT_NEAR(net.objective->Value(x), expr.objective->Value(x), kEngineTolerance * std::max(1.0, std::abs(v2.mean())));
      }
    }
  }
}

TEST(Network, IrisDerivativesMatchCentralDifferencesAndHessianVectorProducts) {
  const Problem p = test::Load("iris_network.json");
  ASSERT_NE(p.network, nullptr);
  const Network& net = *p.network;
  ASSERT_EQ(net.dimension(), 27);
  ASSERT_EQ(net.size(), 150);
  std::mt19937_64 rng(3);
  std::normal_distribution<double> normal(0.0, 0.7);
  Eigen::VectorXd x(27), v(27);
  for (int i = 0; i < 27; ++i) {
    x[i] = normal(rng);
    v[i] = normal(rng);
  }
  constexpr double h = 1e-5;
  Eigen::VectorXd values;
  Eigen::MatrixXd g, hess;
  net.Evaluate(x.data(), &values, &g, &hess);
  for (int k : {0, 60, 149}) {
    SCOPED_TRACE(k);
    EXPECT_DOUBLE_EQ(net.Value(k, x.data()), values[k]);
    const Eigen::Map<const Eigen::MatrixXd> hk(hess.data() + static_cast<long>(k) * 27 * 27, 27, 27);
    Eigen::VectorXd gu(27), gd(27);
    for (int i = 0; i < 27; ++i) {
      Eigen::VectorXd up = x, down = x;
      up[i] += h;
      down[i] -= h;
      EXPECT_NEAR(g(i, k), (net.Value(k, up.data()) - net.Value(k, down.data())) / (2 * h), kDifferenceTolerance);
      net.SampleGradient(k, up.data(), gu.data());
      net.SampleGradient(k, down.data(), gd.data());
      EXPECT_LE(((gu - gd) / (2 * h) - hk.col(i)).cwiseAbs().maxCoeff(), kDifferenceTolerance);
    }
    Eigen::VectorXd hv(27);
    net.SampleHessianVector(k, x.data(), v.data(), hv.data());
    EXPECT_LE((hv - hk * v).cwiseAbs().maxCoeff(), kEngineTolerance * Scale(hk) * v.cwiseAbs().sum());
  }
  // The simulator's lanes: each adds its drawn row's gradient.
  const int lanes = 5, stride = 8;
  std::vector<double> xs(27 * stride), sum(27 * stride, 1.0);
  const std::vector<std::uint32_t> rows = {3, 77, 149, 0, 77};
  for (int i = 0; i < 27; ++i) {
    for (int l = 0; l < lanes; ++l) xs[i * stride + l] = x[i] + 0.1 * l;
  }
  net.AddSampleGradients(lanes, rows.data(), xs.data(), stride, sum.data());
  for (int l = 0; l < lanes; ++l) {
    Eigen::VectorXd xl = x.array() + 0.1 * l, gl(27);
    net.SampleGradient(static_cast<int>(rows[l]), xl.data(), gl.data());
    for (int i = 0; i < 27; ++i) EXPECT_DOUBLE_EQ(sum[i * stride + l], 1.0 + gl[i]);
  }
}

// Permuting hidden units and flipping tanh signs: f_k unchanged, the canonical form shared.
TEST(Network, SymmetriesLeaveTheLossUnchangedAndShareOneCanonicalForm) {
  const Problem p = test::Load("iris_network.json");
  const Network& net = *p.network;
  EXPECT_EQ(net.SymmetryOrder(), 48.0);  // 3! permutations times 2^3 sign flips
  std::mt19937_64 rng(5);
  std::normal_distribution<double> normal(0.0, 1.0);
  Eigen::VectorXd x(27);
  for (int i = 0; i < 27; ++i) x[i] = normal(rng);
  // A copy: swap hidden units 0 and 2 and flip unit 1 by hand (layout of network.h).
  Eigen::VectorXd y = x;
  for (int i = 0; i < 4; ++i) std::swap(y[0 * 4 + i], y[2 * 4 + i]);
  std::swap(y[12], y[14]);
  for (int r = 0; r < 3; ++r) std::swap(y[15 + r * 3 + 0], y[15 + r * 3 + 2]);
  for (int i = 0; i < 4; ++i) y[4 + i] = -y[4 + i];
  y[13] = -y[13];
  for (int r = 0; r < 3; ++r) y[15 + r * 3 + 1] = -y[15 + r * 3 + 1];
  ASSERT_GT((x - y).norm(), 1.0);
  for (int k : {0, 99}) EXPECT_NEAR(net.Value(k, x.data()), net.Value(k, y.data()), 1e-14);
  Eigen::VectorXd cx = x, cy = y;
  net.Canonicalize(cx.data(), 1e-9);
  net.Canonicalize(cy.data(), 1e-9);
  EXPECT_LE((cx - cy).cwiseAbs().maxCoeff(), 1e-15);
  for (int k : {0, 99}) EXPECT_NEAR(net.Value(k, cx.data()), net.Value(k, x.data()), 1e-14);
  // Alignment brings the copy back onto x exactly.
  Eigen::VectorXd aligned = y;
  net.AlignTo(x.data(), aligned.data());
  EXPECT_LE((aligned - x).cwiseAbs().maxCoeff(), 1e-15);
}

TEST_F(NetworkFiles, BadNetworksAreRefusedWithTheField) {
  const std::string tail = R"(, "data": "rows.csv", "inputs": ["u", "v"], "targets": ["c"]})";
  {
    const std::string e = ErrorOf(R"({"network": [2, 3, 3], "activation": "relu", "loss": "softmax_cross_entropy")" + tail);
    EXPECT_NE(e.find("objective.activation"), std::string::npos) << e;
    EXPECT_NE(e.find("softplus"), std::string::npos) << e;
  }
  EXPECT_NE(ErrorOf(R"({"network": [2, 3, 2], "activation": "tanh", "loss": "softmax_cross_entropy")" + tail).find("target 2"),
            std::string::npos);
  EXPECT_NE(ErrorOf(R"({"network": [3, 3, 3], "activation": "tanh", "loss": "softmax_cross_entropy")" + tail).find("objective.inputs"),
            std::string::npos);
  EXPECT_NE(ErrorOf(R"({"network": [2, 3, 3], "activation": "tanh", "loss": "softmax_cross_entropy", "data": "rows.csv", "inputs": ["u", "w"], "targets": ["c"]})")
                .find("no column 'w'"),
            std::string::npos);
  EXPECT_NE(ErrorOf(R"({"network": [2], "activation": "tanh", "loss": "squared")" + tail).find("objective.network"), std::string::npos);
  EXPECT_NE(ErrorOf(R"({"network": [2, 3, 3], "activation": "tanh", "loss": "hinge")" + tail).find("objective.loss"), std::string::npos);
  EXPECT_NE(ErrorOf(R"({"network": [2, 3, 1], "activation": "tanh", "loss": "softmax_cross_entropy")" + tail).find("two outputs"),
            std::string::npos);
}

}  // namespace
}  // namespace ldsgd
