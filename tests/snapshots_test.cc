// SimulateSnapshots (solver/simulation/snapshots.h): the same states for any thread count, the
// start at t = 0, the states at t lying on the trajectories of a simulation of t steps, and bad
// options said in the status.
#include "solver/simulation/snapshots.h"

#include <string>

#include <gtest/gtest.h>

#include "solver/numerics/low_discrepancy.h"
#include "solver/simulation/simulator.h"

namespace ldsgd {
namespace {

Problem DoubleWell() { return LoadProblem(std::string(LDSGD_DATA_DIR) + "/tilted_double_well.json"); }

TEST(Snapshots, SameStatesForAnyThreadCountAndOnTheSimulatedTrajectories) {
  const Problem p = DoubleWell();
  const std::vector<CriticalComponent> c = CriticalPointFinder({}).Find(*p.objective, p.domain, nullptr);
  SnapshotOptions o;
  o.step_size = 0.1;
  o.times = {0, 10, 100};
  o.chains = 300;
  o.seed = 4;
  o.num_threads = 1;
  const Snapshots one = SimulateSnapshots(p, c, o);
  o.num_threads = 2;
  const Snapshots two = SimulateSnapshots(p, c, o);
  ASSERT_TRUE(one.status.ok()) << one.status.message();
  ASSERT_EQ(one.points.size(), 3u);
  for (std::size_t k = 0; k < 3; ++k) EXPECT_EQ(one.points[k], two.points[k]);
  for (int r = 0; r < 300; ++r) {
    EXPECT_DOUBLE_EQ(one.points[0](r, 0), p.domain.lower[0] + (p.domain.upper[0] - p.domain.lower[0]) * KroneckerPoint(1, r)[0]);
  }
  // The simulator's own run of 100 steps from the same starts ends where the snapshot says.
  SimulationOptions so;
  so.step_size = 0.1;
  so.steps = 100;
  so.burn_in = 0;
  so.chains = 300;
  so.seed = 4;
  so.record_final_states = true;
  for (int r = 0; r < 300; ++r) so.initial_points.push_back(one.points[0].row(r).transpose());
  Simulator::Summary summary;
  const SimulationResult run = Simulator(so).Simulate(p, c, &summary);
  ASSERT_EQ(one.diverged[2], 0);
  for (int r = 0; r < 300; ++r) EXPECT_EQ(run.per_chain[r].final_state[0], one.points[2](r, 0));
}

TEST(Snapshots, BadOptionsAreSaid) {
  const Problem p = DoubleWell();
  SnapshotOptions o;
  o.step_size = 0.1;
  o.times = {10, 5};
  EXPECT_FALSE(SimulateSnapshots(p, {}, o).status.ok());
  o.times = {};
  EXPECT_NE(SimulateSnapshots(p, {}, o).status.message().find("no snapshot times"), std::string::npos);
  o.times = {1};
  o.step_size = -1;
  EXPECT_FALSE(SimulateSnapshots(p, {}, o).status.ok());
}

}  // namespace
}  // namespace ldsgd
