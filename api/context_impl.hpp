// What datasets and the context need from the running application: ids, settings, a way to run
// a job, its configuration, broadcasts and its end. The runtime (actors/runtime.cpp) implements
// it over the driver's actors; this header keeps the typed API free of CAF, and api/ free of
// actors/ (bootstrap/ creates the runtime).
#pragma once

#include <atomic>
#include <map>
#include <mutex>
#include <thread>
#include <cstdint>
#include <string>
#include <vector>

#include "api/narrow.hpp"
#include "api/node.hpp"

namespace ember::config {
class config;
}

namespace ember::detail {

class broadcast_control;

// Settings datasets read when they are built.
struct dataset_settings {
  uint32_t default_parallelism = 2;   // ember.default.parallelism (local: the number of cores)
  uint64_t max_partition_bytes = 128ull << 20; // ember.files.maxPartitionBytes
};

class context_impl {
public:
  explicit context_impl(dataset_settings s) : settings_(s) {}
  virtual ~context_impl() = default;

  uint32_t next_node_id() { return next_node_.fetch_add(1); }
  uint32_t next_shuffle_id() { return next_shuffle_.fetch_add(1); }
  const dataset_settings& settings() const { return settings_; }

  // Partitions of a shuffle's output when the user does not say: ember.default.parallelism.
  uint32_t default_partitions() const { return settings_.default_parallelism; }

  // Runs `fn` over `partitions` of `rdd` and returns each partition's bytes, in the order of
  // `partitions`. Blocks the calling (user) thread; throws job_error when the job fails.
  virtual std::vector<std::string> run_job(const node_ptr& rdd, const std::vector<uint32_t>& partitions,
                                           const result_fn& fn)
    = 0;

  // Drops every cached partition of rdd `rdd_id` on every executor (dataset::unpersist); with
  // `blocking`, returns once the executors have removed them.
  virtual void unpersist(uint32_t rdd_id, bool blocking) = 0;

  // The application's configuration (context::conf).
  virtual const config::config& conf() const = 0;
  // Stops the application's actors and executors (context::stop); a second call does nothing.
  virtual void stop() = 0;
  // The files only the workers' hosts hold (text_file splits prefer those hosts); empty in local
  // mode.
  virtual declared_files data_files() const = 0;
  // ctx.broadcast's driver half.
  virtual std::shared_ptr<broadcast_control> broadcasts() const = 0;

  // Local properties of the calling thread (context::set_local_property).
  void set_local_property(const std::string& key, const std::string& value) {
    std::lock_guard guard{props_mtx_};
    auto& mine = props_[std::this_thread::get_id()];
    if (value.empty())
      mine.erase(key);
    else
      mine[key] = value;
  }
  std::string local_property(const std::string& key) const {
    std::lock_guard guard{props_mtx_};
    if (auto t = props_.find(std::this_thread::get_id()); t != props_.end())
      if (auto p = t->second.find(key); p != t->second.end())
        return p->second;
    return {};
  }
  std::map<std::string, std::string> local_properties() const {
    std::lock_guard guard{props_mtx_};
    auto t = props_.find(std::this_thread::get_id());
    return t == props_.end() ? std::map<std::string, std::string>{} : t->second;
  }

private:
  dataset_settings settings_;
  mutable std::mutex props_mtx_;
  std::map<std::thread::id, std::map<std::string, std::string>> props_;
  std::atomic<uint32_t> next_node_{1};
  std::atomic<uint32_t> next_shuffle_{0};
};

// A job that failed: one line naming job, stage, partition, attempt and the cause.
class job_error : public std::runtime_error {
public:
  using std::runtime_error::runtime_error;
};

// Moves each partition's committed attempt file into place and writes _SUCCESS (the driver's
// half of the output commit protocol); removes the attempts that lost.
void commit_text_output(const std::string& dir, const std::vector<std::string>& attempt_files);

// Before a save (the driver's job setup): `dir` must not exist, or hold an output that was never
// committed (no _SUCCESS, nothing but part files and _temporary): what a driver killed mid-save
// left, removed so that its relaunch (cluster mode, --supervise) writes the whole output again.
// Then creates dir/_temporary, under which task attempts write: an attempt that starts after the
// commit removed it finds none and fails, instead of leaving a _temporary in the committed output.
// Throws std::invalid_argument for a committed output or a directory holding anything else.
void setup_text_output(const std::string& dir);

} // namespace ember::detail
