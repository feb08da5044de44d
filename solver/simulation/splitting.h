// Adaptive multilevel splitting (AMS) for the SGD chain (THEORY.md section 11): the probability p
// that an excursion of SGD, started at a departure state from the start set A (departures.h),
// reaches a target B before it returns to A or stops in another set, however small p is.
//
// Algorithm (Cérou & Guyader 2007, in the generalized form of Bréhier, Gazeau, Goudenège,
// Lelièvre & Rousset, Ann. Appl. Probab. 2016, which stays unbiased for a discrete-time chain
// whose levels tie): N replicas are simulated to their stopping time; the score of a replica is
// the largest reaction coordinate xi along it (path_coordinate.h; 2 inside B, so B = {score = 2}).
// At each iteration the level Z is the k-th smallest score; if Z = 2 the run stops. Every replica
// with score <= Z is killed (K >= k of them, ties included; K = N ends the run with p = 0) and
// restarted as a copy of a survivor, drawn uniformly, up to the first state above Z, then
// continued with new noise. p_hat = prod (1 - K_q / N) x (replicas in B) / N is unbiased, and its
// logarithm has variance close to |log p| / N when xi orders states as the committor does.
// Probabilities are carried as logarithms: 1e-1000 is as routine as 1e-3.
//
// Independent runs (different Philox streams) give the estimate and its 95% interval. For N much
// larger than 1, log p_hat is close to Gaussian (the number of iterations is nearly Poisson in the
// ideal case), so p_hat is log-normal: E p_hat = p gives log p = mean(log p_hat) + var(log p_hat)/2,
// estimated from the runs with the uncertainty of both terms (Student t on the mean, chi-square on
// the variance).
//
// Storage: a replica keeps only its record states (where its running maximum of xi rises), since
// the first state above any level is a record; memory is O(N records d), not O(N length d).
//
// Reproducible: run m uses Philox keyed by MixSeed(seed, m); replica trajectories are numbered in
// creation order within the run, and trajectory n's step s draws (key, n, s); survivor choices use
// a reserved id. Runs never interact, so results are bit-identical for any thread count.
#ifndef LDSGD_SOLVER_SIMULATION_SPLITTING_H_
#define LDSGD_SOLVER_SIMULATION_SPLITTING_H_

#include <cstdint>
#include <limits>
#include <vector>

#include <Eigen/Core>

#include "solver/io/status.h"
#include "solver/problem/problem.h"
#include "solver/simulation/path_coordinate.h"
#include "solver/simulation/rare_event_sets.h"

namespace ldsgd {

// The score of a state inside a target.
inline constexpr double kTargetScore = 2.0;

struct SplittingOptions {
  double step_size = 0.0;
  // N: replicas per run. The relative error of p from one run is about sqrt(|log p| / N).
  int replicas = 100;
  // Independent runs: at least 2, for the interval.
  int runs = 16;
  // k, replicas killed per iteration (at least; ties add more); 0 = ceil(N / 10), at most 64.
  // The K killed replicas are resimulated together as one block of the noise's batch.
  int killed = 0;
  std::uint64_t seed = 0;
  int num_threads = 0;
  // One excursion longer than this is an error (no hang): it neither returned nor arrived.
  long max_trajectory_steps = 10000000;
  // SGD steps one run may take; a run that needs more stops incomplete (no estimate). 0 = no cap.
  double max_steps_per_run = 0.0;
  double divergence_factor = 10.0;
  // Importance sampling inside the splitting (isotropic Gaussian noise, or a finite sum's sample
  // draws, lane_stepper.h): the noise is tilted toward the climb along the path by this fraction, each replica
  // carries its likelihood ratio, and p_hat = prod (1 - K_q/N) x (sum of the ratios of the
  // replicas in B) / N, still unbiased (the generalized algorithm estimates the mean of any
  // functional of the stopped path). 1 makes climbing a well as likely as falling: the remedy
  // where uphill steps are too rare for plain splitting. 0 = plain splitting.
  double tilt = 0.0;
  // The tilt acts within this distance of the path only (LaneStepper::SetTilt); > 0.
  double tilt_tube = std::numeric_limits<double>::infinity();
  Status Validate() const;
};

struct SplittingRun {
  double log_probability = 0.0;  // -inf when extinct
  long iterations = 0;
  double steps = 0.0;
  int reached = 0;          // replicas in B at the end
  bool complete = false;    // stopped by the algorithm, not by max_steps_per_run
  bool extinct = false;     // all replicas tied at a level below B
  double success_steps = 0.0;  // mean length (steps from departure) of the replicas in B
  long diverged = 0;        // replicas that diverged (they count as not reaching B)
};

// Its bytes, for the ranks of an MPI job (byte_archive.h).
template <class Archive>
void Serialize(Archive& a, SplittingRun& r) {
  a(r.log_probability, r.iterations, r.steps, r.reached, r.complete, r.extinct, r.success_steps, r.diverged);
}

struct SplittingResult {
  // kInvalidOptions / kInvalidInput (sets, path, starts): nothing else is set. kNumericalIssue: an
  // excursion exceeded max_trajectory_steps (the message says where).
  Status status;
  std::vector<SplittingRun> runs;
  int replicas = 0, killed = 0;
  // ln p and its 95% interval; every run must be complete. With extinct runs: the plain mean of
  // the runs' p_hat (some of them 0) and a delta-method interval (lower -inf when it reaches 0);
  // all extinct: -inf, with upper the largest ln prod (1 - K/N) reached, a bound on ln p.
  double log_probability = 0.0, log_lower = 0.0, log_upper = 0.0;
  bool complete = false;  // every run complete
  double steps = 0.0;
  long iterations = 0, diverged = 0;
  double success_steps = 0.0;  // mean length of the successful replicas, over all runs
};

// starts: the departure states (at least one, of dimension d; one inside a set stops there); each
// run draws its N initial states uniformly from them.
SplittingResult RunSplitting(const Problem& problem, const PathCoordinate& xi, const RareEventSets& sets,
                             const std::vector<Eigen::VectorXd>& starts, const SplittingOptions& options);

}  // namespace ldsgd

#endif  // LDSGD_SOLVER_SIMULATION_SPLITTING_H_
