// A progress bar on stderr for long loops run by worker threads (the simulator's chains, the
// critical search's starts). Shown only when asked (the CLI asks when stderr is a terminal and the
// output is not --json); results never depend on it.
#ifndef LDSGD_SOLVER_NUMERICS_PROGRESS_H_
#define LDSGD_SOLVER_NUMERICS_PROGRESS_H_

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <mutex>
#include <string>

namespace ldsgd {

// The whole of a distributed loop over the root's share of it (distributed.h), so that the root's
// bar, the only one shown, counts the whole loop; 1 outside distributed loops.
inline std::atomic<double>& ProgressScale() {
  static std::atomic<double> scale{1.0};
  return scale;
}

// A progress bar on stderr, redrawn at most every 0.25 s by whichever worker gets there first.
class Progress {
 public:
  // `unit` names what is counted ("steps", "starts"), for the rate.
  // `label`, if any, is shown before the bar (e.g. which round of which step size).
  Progress(bool enabled, double total, std::string unit, std::string label = "")
      : enabled_(enabled), total_(total), unit_(std::move(unit)), label_(std::move(label)) {}
  void Add(double count) {
    if (!enabled_) return;
    count *= ProgressScale().load(std::memory_order_relaxed);
    const double done = done_.fetch_add(count) + count;
    std::unique_lock<std::mutex> lock(mutex_, std::try_to_lock);
    if (!lock.owns_lock()) return;
    const double elapsed = Seconds();
    if (elapsed - last_draw_ < 0.25 && done < total_) return;
    last_draw_ = elapsed;
    Draw(done, elapsed);
  }
  void Finish() {
    if (enabled_) std::fputc('\n', stderr);
  }

 private:
  double Seconds() const {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  }
  void Draw(double done, double elapsed) const {
    constexpr int kWidth = 30;
    const double fraction = std::min(1.0, done / total_);
    const int filled = static_cast<int>(fraction * kWidth);
    const double rate = elapsed > 0 ? done / elapsed : 0.0;
    const double left = rate > 0 ? (total_ - done) / rate : 0.0;
    std::fprintf(stderr, "\r%s[%s%s] %3.0f%%  %.3g %s/s  %.0f s left   ", label_.c_str(),
                 std::string(filled, '=').c_str(), std::string(kWidth - filled, ' ').c_str(),
                 100.0 * fraction, rate, unit_.c_str(), left);
    std::fflush(stderr);
  }

  bool enabled_;
  double total_;
  std::string unit_, label_;
  std::atomic<double> done_{0.0};
  std::mutex mutex_;
  double last_draw_ = -1.0;
  std::chrono::steady_clock::time_point start_ = std::chrono::steady_clock::now();
};

}  // namespace ldsgd

#endif  // LDSGD_SOLVER_NUMERICS_PROGRESS_H_
