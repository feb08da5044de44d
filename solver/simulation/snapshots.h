// Where SGD's iterates are at given times: many chains started uniformly over the box (a Kronecker
// low-discrepancy sample), each run t steps; the picture of SGD spreading over a landscape (the
// seeds' Himmelblau figure at t = 50, 200, 500). A chain's path depends on its id and step only
// (Philox), so the states at t1 < t2 lie on the same trajectories, for any thread count.
#ifndef LDSGD_SOLVER_SIMULATION_SNAPSHOTS_H_
#define LDSGD_SOLVER_SIMULATION_SNAPSHOTS_H_

#include <cstdint>
#include <vector>

#include <Eigen/Core>
#include <nlohmann/json.hpp>

#include "solver/io/status.h"
#include "solver/landscape/critical_points.h"
#include "solver/problem/problem.h"

namespace ldsgd {

struct SnapshotOptions {
  double step_size = 0.0;   // eta > 0
  std::vector<long> times;  // steps, each >= 0, ascending
  int chains = 2000;        // >= 1
  std::uint64_t seed = 0;
  int num_threads = 0;
  Status Validate() const;
};

struct Snapshots {
  std::vector<long> times;
  // points[k]: the states at times[k], one row per chain that had not diverged by then.
  std::vector<Eigen::MatrixXd> points;
  std::vector<int> diverged;  // chains diverged by times[k]
  Status status;
};

// {"step_size", "times", "chains", "seed", "start", "diverged", "points": [[[x...]...] per time]},
// the file snapshots.json that `ldsgd report` and `ldsgd simulate` write.
nlohmann::json ToJson(const Snapshots& snapshots, const SnapshotOptions& options);

Snapshots SimulateSnapshots(const Problem& problem, const std::vector<CriticalComponent>& components,
                            const SnapshotOptions& options);

}  // namespace ldsgd

#endif  // LDSGD_SOLVER_SIMULATION_SNAPSHOTS_H_
