#include "actors/executor.hpp"

#include <pthread.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <condition_variable>
#include <deque>
#include <filesystem>
#include <map>
#include <mutex>
#include <thread>
#include <unordered_set>
#include <utility>
#include <vector>

#include <caf/all.hpp>

#include "actors/block_server.hpp"
#include "actors/conversions.hpp"
#include "api/broadcast.hpp"
#include "config/fault_injector.hpp"
#include "config/log.hpp"

namespace ember::actors {

// -- running_tasks -----------------------------------------------------------------------------

namespace {

std::chrono::nanoseconds cpu_clock_time(clockid_t id) {
  timespec ts{};
  if (::clock_gettime(id, &ts) != 0)
    return std::chrono::nanoseconds{0};
  return std::chrono::seconds{ts.tv_sec} + std::chrono::nanoseconds{ts.tv_nsec};
}

// The fetch counter of the attempt this task thread runs (null when none is listed).
thread_local std::atomic<uint32_t>* current_fetches = nullptr;

} // namespace

running_tasks::fetch_scope::fetch_scope() : counter_(current_fetches) {
  if (counter_)
    counter_->fetch_add(1, std::memory_order_relaxed);
}

running_tasks::fetch_scope::~fetch_scope() {
  if (counter_)
    counter_->fetch_sub(1, std::memory_order_relaxed);
}

std::chrono::nanoseconds running_tasks::thread_cpu_time() { return cpu_clock_time(CLOCK_THREAD_CPUTIME_ID); }

void running_tasks::started(uint64_t task_id, uint32_t attempt, clock::time_point at, std::chrono::nanoseconds cpu_at) {
  clockid_t cpu_clock{};
  bool has_cpu_clock = ::pthread_getcpuclockid(::pthread_self(), &cpu_clock) == 0;
  std::lock_guard guard{mtx_};
  auto& e = tasks_[{task_id, attempt}]; // map nodes stay put until ended() erases this one
  e.start = at;
  e.cpu_clock = cpu_clock;
  e.has_cpu_clock = has_cpu_clock;
  e.cpu_start = cpu_at;
  e.fetches.store(0, std::memory_order_relaxed);
  current_fetches = &e.fetches;
}

void running_tasks::ended(uint64_t task_id, uint32_t attempt) {
  std::lock_guard guard{mtx_};
  auto it = tasks_.find({task_id, attempt});
  if (it == tasks_.end())
    return;
  if (current_fetches == &it->second.fetches)
    current_fetches = nullptr;
  tasks_.erase(it);
}

std::vector<running_tasks::progress> running_tasks::snapshot(clock::time_point now) const {
  std::vector<progress> out;
  std::lock_guard guard{mtx_};
  out.reserve(tasks_.size());
  for (const auto& [key, e] : tasks_) {
    progress p;
    p.task_id = key.first;
    p.attempt = key.second;
    p.run_time = std::max(std::chrono::nanoseconds{0}, std::chrono::nanoseconds{now - e.start});
    if (e.has_cpu_clock) // another thread's CPU clock, read through its id (Linux allows it)
      p.cpu_time = std::max(std::chrono::nanoseconds{0}, cpu_clock_time(e.cpu_clock) - e.cpu_start);
    p.remote_fetches_in_flight = e.fetches.load(std::memory_order_relaxed);
    out.push_back(p);
  }
  return out;
}

namespace {

// The task threads. The actor only pushes (never waits); threads pop, run user code, and send
// the result back to the actor as a message.
class task_pool {
public:
  using job = std::function<void()>;

  // `on_idle` runs on a task thread that finds no job queued, before it waits for one.
  task_pool(uint32_t threads, std::function<void()> on_idle) : on_idle_(std::move(on_idle)) {
    for (uint32_t i = 0; i < threads; ++i)
      threads_.emplace_back([this] { loop(); });
  }
  ~task_pool() { stop(); }

  // One lock and as many wake-ups as there are jobs (at most one per thread).
  void push_all(std::vector<job>& jobs) {
    {
      std::lock_guard guard{mtx_};
      for (auto& j : jobs)
        queue_.push_back(std::move(j));
    }
    if (jobs.size() >= threads_.size())
      cv_.notify_all();
    else
      for (size_t i = 0; i < jobs.size(); ++i)
        cv_.notify_one();
  }

  // Jobs waiting for a thread (a hint: it may change at once).
  size_t queued() {
    std::lock_guard guard{mtx_};
    return queue_.size();
  }

  void stop() {
    {
      std::lock_guard guard{mtx_};
      if (stopping_)
        return;
      stopping_ = true;
    }
    cv_.notify_all();
    for (auto& t : threads_)
      if (t.joinable())
        t.join();
  }

private:
  void loop() {
    for (;;) {
      job j;
      bool idle;
      {
        std::lock_guard guard{mtx_};
        idle = queue_.empty();
      }
      if (idle)
        on_idle_();
      {
        std::unique_lock lock{mtx_};
        cv_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
        if (queue_.empty())
          return;
        j = std::move(queue_.front());
        queue_.pop_front();
      }
      j();
    }
  }

  std::mutex mtx_;
  std::condition_variable cv_;
  std::deque<job> queue_;
  bool stopping_ = false;
  std::function<void()> on_idle_;
  std::vector<std::thread> threads_;
};

// Tasks killed before they started: their queued launches are skipped.
class kill_list {
public:
  void add(uint64_t task_id) {
    std::lock_guard guard{mtx_};
    ids_.insert(task_id);
  }
  bool take(uint64_t task_id) {
    std::lock_guard guard{mtx_};
    return ids_.erase(task_id) > 0;
  }

private:
  std::mutex mtx_;
  std::unordered_set<uint64_t> ids_;
};

// Tasks that ran shorter than this may hold their update back while more tasks are queued.
constexpr uint64_t short_task_ns = 1'000'000;

wire<proto::StatusUpdates> batch_of(const std::vector<wire<proto::StatusUpdate>>& updates) {
  return make_wire<proto::StatusUpdates>([&](proto::StatusUpdates::Builder b) {
    auto list = b.initUpdates(static_cast<unsigned>(updates.size()));
    for (unsigned i = 0; i < updates.size(); ++i)
      list.setWithCaveats(i, updates[i].reader());
  });
}

// Status updates on their way to the scheduler. A task thread that finishes a task appends its
// update; if no other thread is sending, it sends everything in the box as one StatusUpdates,
// straight from the task thread (no extra hop when idle), and goes on sending what the others
// appended meanwhile. Under load, updates pile up behind the sender: one message per burst.
// Short tasks with more queued behind them (`hold`) only append, up to `max_held` updates: a
// 1-core executor would otherwise send one message per task. Whatever is held goes out with
// the next update not held, or before a task that may run long (flush()).
using faulty_send_atom = caf::atom_constant<caf::atom("faultysend")>;
using resend_atom = caf::atom_constant<caf::atom("resend")>;

class status_outbox {
public:
  static constexpr size_t max_held = 32;

  // Where StatusUpdates go (who answered ExecutorRegistered); before that, updates wait here.
  void set_target(caf::actor target) {
    {
      std::lock_guard guard{mtx_};
      target_ = std::move(target);
    }
    flush();
  }

  void post(wire<proto::StatusUpdate> update, bool hold) {
    std::vector<wire<proto::StatusUpdate>> batch;
    {
      std::lock_guard guard{mtx_};
      updates_.push_back(std::move(update));
      if (sending_ || !target_ || (hold && updates_.size() < max_held))
        return;
      sending_ = true;
      batch.swap(updates_);
    }
    drain(batch);
  }

  // Sends what is held (before a task that may take long, so earlier ends are not delayed).
  void flush() {
    std::vector<wire<proto::StatusUpdate>> batch;
    {
      std::lock_guard guard{mtx_};
      if (sending_ || !target_ || updates_.empty())
        return;
      sending_ = true;
      batch.swap(updates_);
    }
    drain(batch);
  }

  // Run times of each stage attempt's last task here: a stage known to be short may hold.
  void ran(std::pair<uint32_t, uint32_t> stage, uint64_t run_ns) {
    std::lock_guard guard{mtx_};
    run_ns_[stage] = run_ns;
  }
  bool known_short(std::pair<uint32_t, uint32_t> stage, uint64_t threshold_ns) {
    std::lock_guard guard{mtx_};
    auto i = run_ns_.find(stage);
    return i != run_ns_.end() && i->second < threshold_ns;
  }
  void forget(std::pair<uint32_t, uint32_t> stage) {
    std::lock_guard guard{mtx_};
    run_ns_.erase(stage);
  }

  // -- injected faults (docs/chaos.md) ----------------------------------------------------
  // With faults on, every batch goes to the executor actor (`sender`, set with the target), which
  // sends it as a request through the injector; updates stay here until acknowledged and those
  // still unacknowledged one resend tick later are sent again (the scheduler ignores duplicates).
  // Called once, before set_target (so before any sending reads it).
  void inject_through(caf::weak_actor_ptr sender) {
    std::lock_guard guard{mtx_};
    faulty_sender_ = std::move(sender);
    inject_ = true;
  }
  void acknowledged(proto::StatusUpdates::Reader ack) {
    std::lock_guard guard{mtx_};
    for (auto u : ack.getUpdates())
      unacked_.erase({u.getTaskId(), u.getAttempt()});
  }
  // Updates unacknowledged for a whole tick; the others age by one tick.
  std::vector<wire<proto::StatusUpdate>> stale() {
    std::lock_guard guard{mtx_};
    std::vector<wire<proto::StatusUpdate>> out;
    for (auto& [key, entry] : unacked_)
      if (entry.second++ > 0)
        out.push_back(entry.first);
    return out;
  }
private:
  void drain(std::vector<wire<proto::StatusUpdate>>& batch) {
    for (;;) {
      if (!inject_) {
        caf::anon_send(target_, batch_of(batch)); // target_ is set once, before any sending
      } else {
        {
          std::lock_guard guard{mtx_};
          for (auto& u : batch)
            unacked_.emplace(std::pair{u.reader().getTaskId(), u.reader().getAttempt()}, std::pair{u, 0});
        }
        if (auto executor = faulty_sender_.lock()) // gone: the process is ending anyway
          caf::anon_send(caf::actor_cast<caf::actor>(executor), faulty_send_atom::value, batch_of(batch));
      }
      batch.clear();
      std::lock_guard guard{mtx_};
      if (updates_.empty()) {
        sending_ = false;
        return;
      }
      batch.swap(updates_);
    }
  }

  std::mutex mtx_;
  bool sending_ = false;
  std::vector<wire<proto::StatusUpdate>> updates_;
  std::map<std::pair<uint32_t, uint32_t>, uint64_t> run_ns_;
  caf::actor target_;
  bool inject_ = false;             // faults injected: batches go through the executor actor
  caf::weak_actor_ptr faulty_sender_; // weak: the actor's state owns this outbox
  std::map<std::pair<uint64_t, uint32_t>, std::pair<wire<proto::StatusUpdate>, int>> unacked_; // -> (update, ticks)
};

// One stage attempt's binary, as LaunchTasks brought it: the bytes stay inside that message
// (`holder`), shared by every task of the attempt and by the cache until ForgetStages.
struct stage_binary {
  wire<proto::LaunchTasks> holder;
  std::string_view bytes;
};

struct executor_state {
  caf::actor scheduler; // who answered ExecutorRegistered: StatusUpdates go there
  std::shared_ptr<task_pool> pool;
  std::shared_ptr<kill_list> killed = std::make_shared<kill_list>();
  std::shared_ptr<status_outbox> outbox = std::make_shared<status_outbox>();
  std::map<std::pair<uint32_t, uint32_t>, std::shared_ptr<const stage_binary>> stages; // (stage, attempt)
  std::shared_ptr<spdlog::logger> log;
  ~executor_state() {
    if (pool)
      pool->stop();
  }
  static inline const char* name = "executor";
};

void fill_metrics(proto::TaskMetrics::Builder m, const detail::task_env& env, uint64_t run_ns, uint64_t cpu_ns) {
  m.setExecutorRunTimeNs(run_ns);
  m.setExecutorCpuTimeNs(cpu_ns);
  m.setInputBytes(env.bytes_read);
  m.setInputRecords(env.records_read);
  m.setOutputRecords(env.records_written);
  m.setOutputBytes(env.bytes_written);
  m.setShuffleReadRecords(env.shuffle_records_read);
  m.setShuffleReadLocalBytes(env.shuffle_bytes_read);
  m.setShuffleReadRemoteBytes(env.shuffle_remote_bytes_read);
  m.setShuffleRemoteBlocksFetched(env.shuffle_remote_blocks_fetched);
  m.setShuffleWriteRecords(env.shuffle_records_written);
  m.setShuffleWriteBytes(env.shuffle_bytes_written);
  m.setDiskBytesSpilled(env.spill_bytes);
}

// Runs on a task thread: decodes, computes, reports.
// What every task of this executor shares, built once (not per task, on the hot path).
struct executor_shared {
  executor_config cfg;
  std::string dir; // <app dir>/<executor id>: this executor's shuffle files and spills
  std::shared_ptr<map_output_index> outputs; // cluster: what the block server may serve
  std::shared_ptr<storage::block_manager> blocks; // cached partitions
  caf::weak_actor_ptr self;                       // the executor actor: block reports go through it
};

// Block status changes of a task (api/cached.hpp), reported to the block_manager_master through
// the executor actor (so the master learns which actor to send RemoveRdd to), one acknowledged
// request each: the task's StatusUpdate goes out only after the master knows its blocks, so the
// next job already prefers this executor for them.
void report_blocks(caf::actor_system& sys, const executor_shared& shared, const std::vector<storage::block_status>& changes) {
  auto me = caf::actor_cast<caf::actor>(shared.self.lock());
  if (!me)
    return;
  caf::scoped_actor self{sys};
  for (const auto& s : changes) {
    auto msg = make_wire<proto::UpdateBlockInfo>([&](proto::UpdateBlockInfo::Builder b) {
      b.setExecutorId(shared.cfg.executor_id);
      auto id = b.initBlockId();
      if (s.id.is_rdd()) {
        auto r = id.initRdd();
        r.setRddId(static_cast<uint32_t>(s.id.id));
        r.setPartition(s.id.index);
      } else {
        auto r = id.initBroadcast();
        r.setBroadcastId(s.id.id);
        r.setPiece(s.id.index);
      }
      auto l = b.initLevel();
      l.setUseMemory(s.level.use_memory);
      l.setUseDisk(s.level.use_disk);
      l.setDeserialized(s.level.deserialized);
      l.setReplication(s.level.replication);
      b.setMemSize(s.mem_size);
      b.setDiskSize(s.disk_size);
      b.setHost(shared.cfg.host);
      b.setPort(shared.cfg.block_port);
    });
    self->request(me, shared.cfg.ask_timeout, msg)
      .receive([](const wire<proto::UpdateBlockInfo>&) {},
               [&](const caf::error& err) {
                 log::get("executor")->warn("executor {}: block {} not reported to the driver: {}", shared.cfg.executor_id,
                                            s.id.name(), describe(err));
               });
  }
}

// A partition cached on another executor (cluster): ask the block_manager_master who holds it,
// then fetch it from the first holder whose block server serves it.
std::optional<std::string> fetch_cached(caf::actor_system& sys, const executor_shared& shared, caf::actor tracker,
                                        const storage::block_id& id) {
  const auto& cfg = shared.cfg;
  auto req = make_wire<proto::GetBlockLocations>([&](proto::GetBlockLocations::Builder b) {
    auto r = b.initBlockIds(1)[0].initRdd();
    r.setRddId(static_cast<uint32_t>(id.id));
    r.setPartition(id.index);
  });
  std::vector<std::pair<std::string, uint16_t>> holders;
  {
    caf::scoped_actor self{sys};
    self->request(tracker, cfg.ask_timeout, req)
      .receive(
        [&](const wire<proto::BlockLocations>& reply) {
          for (auto loc : reply.reader().getLocations())
            for (auto h : loc.getHolders())
              if (str(h.getExecutorId()) != cfg.executor_id && h.getPort() != 0)
                holders.emplace_back(str(h.getHost()), h.getPort());
        },
        [](const caf::error&) {});
  }
  for (auto& [host, port] : holders)
    if (auto bytes = fetch_rdd_block(sys, host, port, static_cast<uint32_t>(id.id), id.index, cfg.max_chunk_size,
                                     cfg.fetch_timeout, cfg.fetch_retry_wait))
      return bytes;
  return std::nullopt;
}

// ReplicateBlock (the _2 levels): a copy of a block another executor holds, fetched from its
// block server, stored at the block's level and reported like a task's block. Runs on a detached
// actor of its own (the fetch blocks), which answers for the executor actor and ends.
caf::behavior replicator(caf::event_based_actor* self, std::shared_ptr<const executor_shared> shared) {
  return {
    [self, shared](const wire<proto::ReplicateBlock>& msg) {
      auto r = msg.reader();
      const auto& cfg = shared->cfg;
      self->quit(); // one block per replicator
      if (!r.getBlockId().isRdd()) // the master replicates rdd blocks only
        return msg;
      auto rdd = r.getBlockId().getRdd();
      auto id = storage::block_id::rdd(rdd.getRddId(), rdd.getPartition());
      auto l = r.getLevel();
      storage_level level{l.getUseMemory(), l.getUseDisk(), l.getDeserialized(), l.getReplication()};
      auto holder = r.getHolder();
      auto bytes = fetch_rdd_block(self->system(), str(holder.getHost()), holder.getPort(), rdd.getRddId(),
                                rdd.getPartition(), cfg.max_chunk_size, cfg.fetch_timeout, cfg.fetch_retry_wait);
      if (!bytes) {
        log::get("executor")->warn("executor {}: no replica of block {}: cannot fetch it from executor {} ({}:{})",
                                   cfg.executor_id, id.name(), str(holder.getExecutorId()), str(holder.getHost()),
                                   holder.getPort());
      } else {
        std::vector<storage::block_status> changes;
        auto status = shared->blocks->put_bytes(id, level, std::move(*bytes));
        if (status.stored())
          changes.push_back(status);
        for (auto& e : shared->blocks->take_evicted())
          changes.push_back(e);
        if (!changes.empty())
          report_blocks(self->system(), *shared, changes);
        log::get("executor")->debug("executor {}: replica of block {} from executor {}", cfg.executor_id, id.name(),
                                    str(holder.getExecutorId()));
      }
      return msg;
    },
  };
}

wire<proto::StatusUpdate> run_one(caf::actor_system& sys, const executor_shared& shared, caf::actor tracker,
                                  proto::LaunchTask::Reader lt, std::string_view binary) {
  const auto& cfg = shared.cfg;
  detail::task_env env;
  env.task_id = lt.getTaskId();
  env.attempt = lt.getAttempt();
  env.stage_id = lt.getStageId();
  env.stage_attempt = lt.getStageAttempt();
  env.partition = lt.getPartition();
  env.executor_id = cfg.executor_id;
  env.host = cfg.host;
  env.local_dir = shared.dir;
  env.memory_limit = cfg.task_memory;
  env.compress = cfg.compress;
  env.block_size = cfg.block_size;
  auto timeout = cfg.ask_timeout;
  env.map_outputs = [&sys, tracker, timeout](uint32_t shuffle) {
    caf::scoped_actor self{sys};
    std::vector<scheduler::map_status> out;
    std::string failure;
    uint32_t missing = 0;
    auto req = make_wire<proto::GetMapOutputs>([&](auto b) { b.setShuffleId(shuffle); });
    self->request(tracker, timeout, req)
      .receive(
        [&](const wire<proto::MapOutputs>& reply) {
          auto r = reply.reader();
          if (r.getMissingMapIndexes().size() > 0) {
            missing = r.getMissingMapIndexes()[0];
            failure = "map output " + std::to_string(r.getMissingMapIndexes()[0]) + " of shuffle "
                      + std::to_string(shuffle) + " is missing";
            return;
          }
          for (auto s : r.getStatuses())
            out.push_back(to_status(s));
        },
        [&](const caf::error& err) { failure = "cannot get map outputs of shuffle " + std::to_string(shuffle) + ": " + describe(err); });
    if (!failure.empty())
      throw detail::fetch_failed_error(shuffle, missing, "", failure); // names the missing output, not map 0
    return out;
  };

  env.blocks = shared.blocks.get();
  env.report_blocks = [&sys, &shared](const std::vector<storage::block_status>& changes) {
    report_blocks(sys, shared, changes);
  };
  if (cfg.process_mode) {
    env.fetch_cached = [&sys, &shared, tracker](const storage::block_id& id) { return fetch_cached(sys, shared, tracker, id); };
    env.block_port = cfg.block_port;
    env.fetch_remote = [&sys, &cfg, tracker](const scheduler::map_status& s, uint32_t p) {
      // Asked at each retryWait tick of a slow fetch: has the driver unregistered this output
      // (it unregisters all of an executor's when it declares it lost)? No answer = not known lost.
      auto holder_lost = [&sys, &cfg, tracker, &s] {
        caf::scoped_actor self{sys};
        bool lost = false;
        auto req = make_wire<proto::GetMapOutputs>([&](auto b) { b.setShuffleId(s.shuffle_id); });
        self->request(tracker, cfg.ask_timeout, req)
          .receive(
            [&](const wire<proto::MapOutputs>& reply) {
              auto r = reply.reader();
              for (auto m : r.getMissingMapIndexes())
                lost = lost || m == s.map_id;
              for (auto st : r.getStatuses()) {
                auto m = to_status(st);
                if (m.map_id == s.map_id)
                  lost = lost || m.executor_id != s.executor_id || m.map_task_id != s.map_task_id;
              }
            },
            [&](const caf::error&) {});
        return lost;
      };
      return fetch_remote_block(sys, s, p, cfg.max_chunk_size, cfg.fetch_timeout, cfg.fetch_retry_wait,
                                cfg.faults.get(), holder_lost);
    };
  }

  // The attempt runs from here, on this thread (whatever time it waited in the queue before).
  // An executor process lists it for its heartbeats and measures its thread's CPU time (a system
  // call at each end: local mode, where tiny tasks are the benchmark, skips both).
  auto start = std::chrono::steady_clock::now();
  auto cpu_start = cfg.running ? running_tasks::thread_cpu_time() : std::chrono::nanoseconds{0};
  struct running_guard {
    running_tasks* table;
    uint64_t task_id;
    uint32_t attempt;
    ~running_guard() {
      if (table)
        table->ended(task_id, attempt);
    }
  } listed{cfg.running.get(), env.task_id, env.attempt};
  if (cfg.running)
    cfg.running->started(env.task_id, env.attempt, start, cpu_start);
  detail::broadcast_scope broadcasts{cfg.broadcasts.get()}; // b.value() in user code finds them
  // The task's execution memory is reserved for its run: storage borrowing it gives it back.
  shared.blocks->acquire_execution(cfg.task_memory);
  auto outcome = detail::run_task(binary, env);
  shared.blocks->release_execution(cfg.task_memory);
  if (cfg.process_mode && outcome.what == detail::task_outcome::kind::error && outcome.error_kind == "std::bad_alloc") {
    // The process may be in no state to go on; the worker reports exit 52 as "exceeded
    // ember.executor.memory" and the driver reruns the task elsewhere.
    log::get("executor")->error("task {}.{} ran out of memory; executor {} exits", env.task_id, env.attempt,
                                cfg.executor_id);
    std::_Exit(executor_oom_exit_code);
  }
  if (shared.outputs && outcome.what == detail::task_outcome::kind::map_output)
    shared.outputs->add(outcome.status.shuffle_id, outcome.status.map_task_id, outcome.status.data_path);
  auto run_ns = static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                        std::chrono::steady_clock::now() - start).count());
  uint64_t cpu_ns = 0;
  if (cfg.running)
    cpu_ns = static_cast<uint64_t>(std::max(std::chrono::nanoseconds{0}, running_tasks::thread_cpu_time() - cpu_start).count());
  return make_wire<proto::StatusUpdate>([&](proto::StatusUpdate::Builder b) {
    b.setExecutorId(cfg.executor_id);
    b.setTaskId(env.task_id);
    b.setAttempt(env.attempt);
    auto res = b.initResult();
    switch (outcome.what) {
      case detail::task_outcome::kind::result:
        b.setState(proto::TaskState::FINISHED);
        res.setDirect(bytes(outcome.result));
        break;
      case detail::task_outcome::kind::map_output:
        b.setState(proto::TaskState::FINISHED);
        fill(res.initMapOutput(), outcome.status);
        break;
      case detail::task_outcome::kind::error: {
        b.setState(proto::TaskState::FAILED);
        auto e = res.initError();
        e.setKind(outcome.error_kind);
        e.setMessage(outcome.error_message);
        break;
      }
      case detail::task_outcome::kind::fetch_failed: {
        b.setState(proto::TaskState::FAILED);
        auto f = res.initFetchFailed();
        f.setShuffleId(outcome.failed_shuffle);
        f.setMapIndex(outcome.failed_map);
        f.setExecutorId(outcome.failed_executor);
        f.setCorruptBlock(outcome.failed_block_corrupt);
        f.setMessage(outcome.error_message);
        break;
      }
    }
    fill_metrics(b.initMetrics(), env, run_ns, cpu_ns);
  });
}

caf::behavior executor_actor(caf::stateful_actor<executor_state>* self, executor_config cfg,
                             caf::actor driver, caf::actor tracker, std::shared_ptr<map_output_index> outputs) {
  self->state.log = log::get("executor");
  self->state.pool = std::make_shared<task_pool>(cfg.cores, [outbox = self->state.outbox] { outbox->flush(); });
  auto dir = std::filesystem::path{cfg.app_dir} / cfg.executor_id;
  auto blocks = cfg.blocks ? cfg.blocks : std::make_shared<storage::block_manager>(cfg.storage_memory, dir / "blocks");
  auto shared = std::make_shared<const executor_shared>(
    executor_shared{cfg, dir.string(), std::move(outputs), blocks, caf::actor_cast<caf::weak_actor_ptr>(self)});
  std::filesystem::create_directories(shared->dir);
  if (cfg.process_mode) {
    // The driver's process may die or its connection drop: then this executor has no purpose.
    self->monitor(driver);
    self->set_down_handler([self](const caf::down_msg& dm) {
      self->state.log->error("lost the driver ({}); executor exits", to_string(dm.reason));
      self->quit(dm.reason);
    });
  } else {
    self->link_to(driver); // local mode: executor and driver live and die together
  }
  auto reg = make_wire<proto::RegisterExecutor>([&](proto::RegisterExecutor::Builder b) {
    b.setExecutorId(cfg.executor_id);
    b.setHost(cfg.host);
    b.setCores(cfg.cores);
    b.setMemoryBytes(cfg.task_memory * cfg.cores);
    b.setPid(static_cast<uint32_t>(::getpid()));
    b.setWorkDir(cfg.app_dir);
    b.setWorkerId(cfg.worker_id);
    b.setPort(cfg.block_port);
    b.setReportsTaskStarts(cfg.running != nullptr);
  });
  self->send(driver, reg);
  return {
    // Every launch of one offer round. Task threads report through the outbox, straight to the
    // scheduler; a task killed while still queued is reported killed without running.
    [=](const wire<proto::LaunchTasks>& msg) {
      auto& st = self->state;
      auto r = msg.reader();
      for (auto b : r.getBinaries())
        st.stages[{b.getStageId(), b.getStageAttempt()}]
          = std::make_shared<const stage_binary>(stage_binary{msg, view(b.getBinary())});
      auto& sys = self->system();
      std::vector<task_pool::job> jobs;
      jobs.reserve(r.getTasks().size());
      for (unsigned i = 0; i < r.getTasks().size(); ++i) {
        auto lt = r.getTasks()[i];
        auto stage = st.stages.find({lt.getStageId(), lt.getStageAttempt()});
        std::shared_ptr<const stage_binary> binary;
        if (stage != st.stages.end())
          binary = stage->second;
        else // the scheduler sends a binary before its first task here: a bug, but not a hang
          st.log->error("task {}.{}: executor {} has no binary for stage {}.{}", lt.getTaskId(), lt.getAttempt(),
                        cfg.executor_id, lt.getStageId(), lt.getStageAttempt());
        jobs.emplace_back([&sys, shared, killed = st.killed, outbox = st.outbox, pool = st.pool.get(), tracker, msg, i,
                           binary] {
          auto lt = msg.reader().getTasks()[i];
          std::pair<uint32_t, uint32_t> stage{lt.getStageId(), lt.getStageAttempt()};
          // Held updates must not wait for a task that may run long.
          bool short_stage = outbox->known_short(stage, short_task_ns);
          if (!short_stage)
            outbox->flush();
          wire<proto::StatusUpdate> update;
          if (killed->take(lt.getTaskId()) || !binary)
            update = make_wire<proto::StatusUpdate>([&](proto::StatusUpdate::Builder b) {
              b.setExecutorId(shared->cfg.executor_id);
              b.setTaskId(lt.getTaskId());
              b.setAttempt(lt.getAttempt());
              if (binary) {
                b.setState(proto::TaskState::KILLED);
                return;
              }
              b.setState(proto::TaskState::FAILED);
              auto e = b.initResult().initError();
              e.setKind("ember::protocol_error");
              e.setMessage("executor " + shared->cfg.executor_id + " has no binary for stage "
                           + std::to_string(lt.getStageId()) + "." + std::to_string(lt.getStageAttempt()));
            });
          else
            update = run_one(sys, *shared, tracker, lt, binary->bytes);
          auto run_ns = update.reader().getMetrics().getExecutorRunTimeNs();
          outbox->ran(stage, run_ns);
          bool hold = run_ns < short_task_ns && pool->queued() > 0;
          outbox->post(std::move(update), hold);
        });
      }
      st.pool->push_all(jobs);
    },
    [=](const wire<proto::ForgetStages>& msg) {
      for (auto s : msg.reader().getStages()) {
        self->state.stages.erase({s.getStageId(), s.getStageAttempt()});
        self->state.outbox->forget({s.getStageId(), s.getStageAttempt()});
      }
    },
    [=](const wire<proto::KillTask>& msg) {
      // A running task finishes (C++ cannot interrupt it safely); the scheduler ignores its result.
      self->state.killed->add(msg.reader().getTaskId());
    },
    [=](const wire<proto::ExecutorRegistered>&) {
      self->state.scheduler = caf::actor_cast<caf::actor>(self->current_sender());
      if (cfg.faults && cfg.faults->enabled() && self->state.scheduler) {
        self->state.outbox->inject_through(caf::actor_cast<caf::weak_actor_ptr>(self));
        self->delayed_send(self, cfg.resend_interval, resend_atom::value);
      }
      self->state.outbox->set_target(self->state.scheduler);
      self->state.log->debug("executor {} registered", cfg.executor_id);
    },
    [=](const wire<proto::RegisterExecutorFailed>& msg) {
      self->state.log->error("executor {}: the driver refused registration: {}", cfg.executor_id,
                             str(msg.reader().getReason()));
      self->quit(caf::make_error(caf::sec::runtime_error, str(msg.reader().getReason())));
    },
    [=](const wire<proto::StopExecutor>&) { self->quit(); },
    // -- cached blocks ---------------------------------------------------------------------
    // A task thread's block report, passed on to the block_manager_master (in the driver's
    // dag scheduler) as this actor: the master sends RemoveRdd back here.
    [=](const wire<proto::UpdateBlockInfo>& msg) {
      auto rp = self->make_response_promise();
      self->request(tracker, cfg.ask_timeout, msg)
        .then([rp](const wire<proto::UpdateBlockInfo>& ack) mutable { rp.deliver(ack); },
              [rp](caf::error& err) mutable { rp.deliver(std::move(err)); });
      return rp;
    },
    [=](const wire<proto::ReplicateBlock>& msg) {
      auto worker = self->spawn<caf::detached>(replicator, shared);
      return self->delegate(worker, msg);
    },
    [=](const wire<proto::RemoveRdd>& msg) {
      auto n = shared->blocks->remove_rdd(msg.reader().getRddId()).size();
      self->state.log->debug("executor {}: removed {} blocks of rdd {}", cfg.executor_id, n, msg.reader().getRddId());
      return msg;
    },
    // -- injected faults: the StatusUpdates send point with faults on ---------------------
    [=](faulty_send_atom, const wire<proto::StatusUpdates>& batch) {
      auto d = cfg.faults->decide(config::fault_kind::status_updates);
      for (unsigned copy = 0; copy < d.copies; ++copy) {
        if (d.delay.count() > 0) {
          self->delayed_send(self, d.delay, faulty_send_atom::value, resend_atom::value, batch);
          continue;
        }
        self->request(self->state.scheduler, caf::infinite, batch)
          .then([outbox = self->state.outbox](const wire<proto::StatusUpdates>& ack) { outbox->acknowledged(ack.reader()); },
                [](const caf::error&) {}); // unacknowledged: the next resend tick sends it again
      }
    },
    [=](faulty_send_atom, resend_atom, const wire<proto::StatusUpdates>& batch) { // a delayed one, now
      self->request(self->state.scheduler, caf::infinite, batch)
        .then([outbox = self->state.outbox](const wire<proto::StatusUpdates>& ack) { outbox->acknowledged(ack.reader()); },
              [](const caf::error&) {});
    },
    [=](resend_atom) {
      auto stale = self->state.outbox->stale();
      if (!stale.empty()) {
        self->state.log->info("executor {}: resending {} unacknowledged status updates", cfg.executor_id, stale.size());
        self->send(self, faulty_send_atom::value, batch_of(stale));
      }
      self->delayed_send(self, cfg.resend_interval, resend_atom::value);
    },
  };
}

} // namespace

caf::actor spawn_executor(caf::actor_system& sys, executor_config cfg, caf::actor driver, caf::actor tracker,
                          std::shared_ptr<map_output_index> outputs) {
  return sys.spawn(executor_actor, std::move(cfg), std::move(driver), std::move(tracker), std::move(outputs));
}

} // namespace ember::actors
