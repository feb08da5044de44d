#include "solver/simulation/snapshots.h"

#include <algorithm>
#include <cmath>
#include <sstream>

#include "solver/numerics/low_discrepancy.h"
#include "solver/simulation/simulator.h"

namespace ldsgd {

Status SnapshotOptions::Validate() const {
  std::ostringstream why;
  if (!(step_size > 0) || !std::isfinite(step_size)) why << "step_size = " << step_size << " (must be positive)";
  else if (times.empty()) why << "no snapshot times";
  else if (times.front() < 0 || !std::is_sorted(times.begin(), times.end())) why << "snapshot times must be >= 0 and ascending";
  else if (chains < 1) why << "chains = " << chains << " (must be >= 1)";
  else if (num_threads < 0) why << "num_threads = " << num_threads << " (must be >= 0)";
  else return Status::Ok();
  return Status(StatusCode::kInvalidOptions, "Invalid configuration. " + why.str());
}

Snapshots SimulateSnapshots(const Problem& problem, const std::vector<CriticalComponent>& components,
                            const SnapshotOptions& options) {
  Snapshots out;
  out.status = options.Validate();
  if (!out.status.ok()) return out;
  const Eigen::VectorXd& lo = problem.domain.lower;
  const Eigen::VectorXd& hi = problem.domain.upper;
  const int d = static_cast<int>(lo.size());
  std::vector<Eigen::VectorXd> starts(options.chains);
  for (int c = 0; c < options.chains; ++c) starts[c] = lo + (hi - lo).cwiseProduct(KroneckerPoint(d, c));
  out.times = options.times;
  for (long t : options.times) {
    Eigen::MatrixXd points(options.chains, d);
    int kept = 0, diverged = 0;
    if (t == 0) {
      for (const Eigen::VectorXd& s : starts) points.row(kept++) = s.transpose();
    } else {
      SimulationOptions so;
      so.step_size = options.step_size;
      so.steps = t;
      so.burn_in = 0;
      so.chains = options.chains;
      so.seed = options.seed;
      so.num_threads = options.num_threads;
      so.initial_points = starts;
      so.record_final_states = true;
      Simulator::Summary summary;
      const SimulationResult r = Simulator(so).Simulate(problem, components, &summary);
      if (!summary.status.ok()) {
        out.status = summary.status;
        return out;
      }
      for (const SimulationChain& chain : r.per_chain) {
        if (chain.diverged) ++diverged;
        else points.row(kept++) = chain.final_state.transpose();
      }
    }
    out.points.push_back(points.topRows(kept));
    out.diverged.push_back(diverged);
  }
  return out;
}

nlohmann::json ToJson(const Snapshots& s, const SnapshotOptions& o) {
  nlohmann::json points = nlohmann::json::array();
  for (const Eigen::MatrixXd& m : s.points) {
    nlohmann::json rows = nlohmann::json::array();
    for (Eigen::Index r = 0; r < m.rows(); ++r) {
      std::vector<double> row(m.cols());
      for (Eigen::Index c = 0; c < m.cols(); ++c) row[c] = m(r, c);
      rows.push_back(row);
    }
    points.push_back(rows);
  }
  return {{"step_size", o.step_size}, {"times", s.times}, {"chains", o.chains}, {"seed", o.seed},
          {"start", "uniform over the box (Kronecker low-discrepancy points)"}, {"diverged", s.diverged},
          {"points", points}};
}

}  // namespace ldsgd
