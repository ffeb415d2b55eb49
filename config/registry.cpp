#include "config/registry.hpp"

#include <algorithm>
#include <cstdio>
#include <array>
#include <cctype>
#include <charconv>
#include <climits>
#include <cmath>
#include <stdexcept>

#include "config/keys.hpp"

namespace ember::config {

std::string_view trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front())))
    s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back())))
    s.remove_suffix(1);
  return s;
}

namespace {

// -- key builders (keep the table below one entry per line of intent) --------------

constexpr std::int64_t int_max = INT32_MAX;  // counts fit in int

key_spec make(std::string_view name, key_type type, std::string_view def, std::string_view doc) {
  key_spec spec;
  spec.name = name;
  spec.type = type;
  spec.default_text = def;
  spec.doc = doc;
  return spec;
}

// Each builder takes the key's handle (keys.hpp), so a key declared with one type cannot be
// registered with another, and every registered key has a handle.

key_spec boolean(key<key_type::boolean> k, std::string_view def, std::string_view doc) {
  return make(k.name, key_type::boolean, def, doc);
}

key_spec integer(key<key_type::integer> k, std::string_view def, std::int64_t lo, std::int64_t hi,
                 std::string_view doc) {
  auto spec = make(k.name, key_type::integer, def, doc);
  spec.min_int = lo;
  spec.max_int = hi;
  return spec;
}

key_spec real(key<key_type::real> k, std::string_view def, double lo, double hi, bool lo_exclusive,
              std::string_view doc) {
  auto spec = make(k.name, key_type::real, def, doc);
  spec.min_real = lo;
  spec.max_real = hi;
  spec.min_exclusive = lo_exclusive;
  return spec;
}

key_spec size(key<key_type::size> k, std::string_view def, std::int64_t plain_unit, std::int64_t lo,
              std::int64_t hi, std::string_view doc) {
  auto spec = make(k.name, key_type::size, def, doc);
  spec.plain_unit = plain_unit;
  spec.min_int = lo;
  spec.max_int = hi;
  return spec;
}

key_spec duration(key<key_type::duration> k, std::string_view def, std::int64_t plain_unit,
                  std::int64_t lo, std::int64_t hi, std::string_view doc) {
  auto spec = make(k.name, key_type::duration, def, doc);
  spec.plain_unit = plain_unit;
  spec.min_int = lo;
  spec.max_int = hi;
  return spec;
}

key_spec text(key<key_type::string> k, std::string_view def, std::string_view doc,
              string_check check = nullptr) {
  auto spec = make(k.name, key_type::string, def, doc);
  spec.check = check;
  return spec;
}

key_spec choice(key<key_type::enumeration> k, std::string_view def, std::string_view choices,
                std::string_view doc) {
  auto spec = make(k.name, key_type::enumeration, def, doc);
  spec.choices = choices;
  return spec;
}

key_spec inherits(key_spec spec, std::string_view parent) {
  spec.default_text = {};
  spec.inherits = parent;
  return spec;
}

// -- string checks --------------------------------------------------------------------

bool all_digits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](unsigned char c) { return std::isdigit(c); });
}

// local | local[N] | local[*] | local[N,F] | local[*,F] | ember://host:port
std::optional<std::string> check_master(std::string_view s) {
  static const std::string expected =
      "expected local, local[N], local[*], local[N,F] or ember://host:port";
  if (s == "local")
    return std::nullopt;
  if (s.starts_with("local[") && s.ends_with("]")) {
    auto inner = s.substr(6, s.size() - 7);
    auto comma = inner.find(',');
    auto threads = inner.substr(0, comma);
    bool ok = threads == "*" || (all_digits(threads) && threads != "0" && threads.size() < 6);
    if (comma != std::string_view::npos) {
      auto failures = inner.substr(comma + 1);
      ok = ok && all_digits(failures) && failures != "0" && failures.size() < 6;
    }
    return ok ? std::nullopt : std::optional<std::string>{expected};
  }
  if (s.starts_with("ember://")) {
    auto rest = s.substr(8);
    auto colon = rest.rfind(':');
    if (colon != std::string_view::npos && colon > 0) {
      auto port = rest.substr(colon + 1);
      if (all_digits(port) && port.size() <= 5) {
        int p = 0;
        std::from_chars(port.data(), port.data() + port.size(), p);
        if (p >= 1 && p <= 65535)
          return std::nullopt;
      }
    }
  }
  return expected;
}

std::optional<std::string> check_not_empty(std::string_view s) {
  if (s.empty())
    return std::string{"expected a non-empty value"};
  return std::nullopt;
}

// -- the table ------------------------------------------------------------------------

std::vector<key_spec> make_registry() {
  constexpr auto k = kib;
  constexpr auto m = mib;
  constexpr auto s = seconds;
  constexpr auto ms = millis;
  constexpr auto size_max = INT64_MAX;
  constexpr auto dur_max = INT64_MAX;
  std::vector<key_spec> r{
      // application and driver
      text(keys::app_name, "",
           "Application name shown by the master and in logs; empty = the application binary's file name."),
      text(keys::master, "local[*]",
           "Cluster to run on: local (1 slot), local[N], local[*] (one slot per core), local[N,F] (F task attempts), or ember://host:port.",
           check_master),
      size(keys::driver_memory, "1g", m, 16 * m, size_max,
           "Memory of the driver process (cluster deploy mode); a plain number is MiB, as in Spark."),
      size(keys::driver_max_result_size, "1g", m, 0, size_max,
           "Limit on the total serialized results of one action returned to the driver; the job fails beyond it. 0 = unlimited; plain number = MiB."),
      text(keys::driver_host, "",
           "Host name or address executors use to reach the driver; empty = this host's name."),
      integer(keys::driver_port, "0", 0, 65535, "Port of the driver's actor system; 0 = any free port."),
      // executors
      integer(keys::executor_instances, "2", 0, int_max,
              "Executors to request when dynamic allocation is off (ignored in local mode)."),
      integer(keys::executor_cores, "1", 1, int_max,
              "Task threads per executor (cores it may use concurrently)."),
      size(keys::executor_memory, "1g", m, 16 * m, size_max,
           "Memory per executor; storage and execution memory are accounted against it. Plain number = MiB, as in Spark."),
      duration(keys::executor_heartbeat_interval, "10s", ms, 10, dur_max,
               "Interval between executor heartbeats to the driver; must be below ember.network.timeout."),
      duration(keys::executor_loss_reason_wait, "2s", ms, 0, dur_max,
               "How long the driver holds the tasks of an executor whose connection dropped, waiting for its worker's account of why it ended: ended by its own tasks (memory limit, crash) they fail and count against ember.task.maxFailures, else they are resubmitted."),
      integer(keys::executor_task_queue_depth, "2", 0, 1024,
              "Tasks queued at an executor per core beyond the running ones, so a task thread never idles for the driver's round trip between tasks (0 = one task per core, as in Spark)."),
      integer(keys::executor_short_task_queue_depth, "64", 0, 1024,
              "Tasks queued at an executor per core, instead of ember.executor.taskQueueDepth, for a stage whose recent tasks ran shorter than ember.executor.shortTaskThreshold on average: tiny tasks are then not bound by the driver's round trip (0 = off)."),
      duration(keys::executor_stop_grace_period, "5s", s, 0, dur_max,
               "How long a stopping executor waits for its running tasks (one stuck in user code or on a peer that never answers) "
               "before its process ends without them; plain number = seconds."),
      duration(keys::executor_short_task_threshold, "1ms", ms, 0, dur_max,
               "Average executor run time of a stage's recent tasks below which they count as short (see ember.executor.shortTaskQueueDepth)."),
      boolean(keys::executor_pin_cores, "false",
              "Pin each executor process to CPUs of its own, as many as its cores; the worker hands them out (Linux sched_setaffinity)."),
      // network
      duration(keys::network_timeout, "120s", s, 1000, dur_max,
               "Silence after which a peer (executor, worker, driver) is considered lost; plain number = seconds."),
      duration(keys::network_timeout_interval, "", ms, 10, dur_max,
               "How often the driver checks for executors silent longer than ember.network.timeout (declared lost, their processes killed); an executor is declared lost at most this long after the timeout."),
      size(keys::network_max_chunk_size, "1m", bytes, 4 * k, 64 * m,
           "Largest chunk of bulk data (shuffle, cached or result blocks) in one message; bounded by Cap'n Proto's 64 MiB traversal limit."),
      duration(keys::rpc_ask_timeout, "", s, 1000, dur_max,
               "Timeout of request/response messages between actors; plain number = seconds."),
      // locality and tasks
      duration(keys::locality_wait, "3s", ms, 0, dur_max,
               "How long to wait for a free slot at a better locality level before trying the next level; 0 = no delay scheduling."),
      duration(keys::locality_wait_process, "", ms, 0, dur_max,
               "Wait for a PROCESS_LOCAL slot (cached partition in that executor)."),
      duration(keys::locality_wait_node, "", ms, 0, dur_max,
               "Wait for a NODE_LOCAL slot (data on the same host)."),
      duration(keys::locality_wait_rack, "", ms, 0, dur_max, "Wait for a RACK_LOCAL slot."),
      integer(keys::task_max_failures, "4", 1, int_max,
              "Attempts of one task before the job fails (executor loss does not count)."),
      integer(keys::task_cpus, "1", 1, int_max,
              "Cores reserved for each task; must not exceed ember.executor.cores."),
      integer(keys::stage_max_consecutive_attempts, "4", 1, int_max,
              "Consecutive attempts of a stage after fetch failures before the job is aborted."),
      integer(keys::default_parallelism, "0", 0, int_max,
              "Partitions of shuffles and parallelize without an explicit count; 0 = total executor cores (local[N]: N)."),
      // dynamic allocation
      boolean(keys::dynamic_allocation_enabled, "false",
              "Scale the number of executors with the task backlog."),
      integer(keys::dynamic_allocation_min_executors, "0", 0, int_max,
              "Lower bound on executors with dynamic allocation."),
      integer(keys::dynamic_allocation_max_executors, "0", 0, int_max,
              "Upper bound on executors with dynamic allocation; 0 = unlimited (Spark: infinity)."),
      integer(keys::dynamic_allocation_initial_executors, "", 0, int_max,
              "Executors to start with when dynamic allocation is on."),
      duration(keys::dynamic_allocation_executor_idle_timeout, "60s", s, 0, dur_max,
               "Release an executor idle this long; plain number = seconds."),
      duration(keys::dynamic_allocation_cached_executor_idle_timeout, "0", s, 0, dur_max,
               "Release an idle executor holding cached blocks after this long; 0 = never (Spark: infinity)."),
      duration(keys::dynamic_allocation_scheduler_backlog_timeout, "1s", s, 1, dur_max,
               "Request executors once tasks have been backlogged this long; plain number = seconds."),
      duration(keys::dynamic_allocation_sustained_scheduler_backlog_timeout, "", s, 1, dur_max,
               "Interval of the following requests (doubling each time) while the backlog persists."),
      boolean(keys::dynamic_allocation_shuffle_tracking_enabled, "true",
              "Keep executors holding live shuffle data instead of releasing them (no shuffle service needed)."),
      // speculation
      boolean(keys::speculation, "false", "Re-launch slow tasks speculatively; the first attempt to finish wins."),
      duration(keys::speculation_interval, "100ms", ms, 1, dur_max, "How often to check for tasks to speculate."),
      real(keys::speculation_multiplier, "1.5", 1.0, 1e6, false,
           "A task is slow when it runs this many times longer than the median of its stage."),
      real(keys::speculation_quantile, "0.75", 0.0, 1.0, false,
           "Fraction of a stage's tasks that must finish before speculation is considered."),
      duration(keys::speculation_min_task_runtime, "100ms", ms, 0, dur_max,
               "Minimum runtime before a task is considered for speculation."),
      // exclusion of failing executors/nodes
      boolean(keys::exclude_on_failure_enabled, "false",
              "Stop scheduling on executors and nodes with too many task failures."),
      integer(keys::exclude_on_failure_task_max_task_attempts_per_executor, "1", 1, int_max,
              "Attempts of one task on one executor before that executor is excluded for the task."),
      integer(keys::exclude_on_failure_task_max_task_attempts_per_node, "2", 1, int_max,
              "Attempts of one task on one node before that node is excluded for the task."),
      integer(keys::exclude_on_failure_stage_max_failed_tasks_per_executor, "2", 1, int_max,
              "Failed tasks of one stage on one executor before it is excluded for the stage."),
      integer(keys::exclude_on_failure_stage_max_failed_executors_per_node, "2", 1, int_max,
              "Executors excluded for a stage on one node before the node is excluded for the stage."),
      integer(keys::exclude_on_failure_application_max_failed_tasks_per_executor, "2", 1, int_max,
              "Failed tasks (in successful stages) on one executor before it is excluded for the application."),
      duration(keys::exclude_on_failure_timeout, "1h", ms, 1, dur_max,
               "How long an executor or node stays excluded for the application."),
      // broadcast variables
      size(keys::broadcast_block_size, "4m", k, 4 * k, 1024 * m,
           "Size of each piece of a broadcast variable before compression (executors fetch pieces from the driver or from peers); plain number = KiB, as in Spark."),
      boolean(keys::broadcast_compress, "true", "Compress broadcast pieces with LZ4 before sending them."),
      size(keys::broadcast_max_size, "8g", m, 1 * m, size_max,
           "Largest serialized broadcast value: ctx.broadcast refuses a larger one, an executor refuses to fetch one. Plain number = MiB."),
      // compression and shuffle
      choice(keys::io_compression_codec, "lz4", "lz4|none",
             "Codec for shuffle files, spills, serialized cached blocks and broadcasts."),
      size(keys::io_compression_lz4_block_size, "32k", bytes, 1 * k, 4 * m,
           "Uncompressed size of the blocks LZ4 compresses independently."),
      boolean(keys::shuffle_compress, "true", "Compress map outputs with ember.io.compression.codec."),
      boolean(keys::shuffle_checksum_enabled, "true",
              "Checksum each shuffle partition so corruption is detected and the block refetched or recomputed."),
      size(keys::shuffle_file_buffer, "32k", k, 1 * k, 64 * m,
           "In-memory buffer of each shuffle file writer; plain number = KiB, as in Spark."),
      boolean(keys::shuffle_service_enabled, "false",
              "Serve shuffle files from the worker's shuffle service so they outlive their executor."),
      integer(keys::block_manager_max_blocks_per_request, "64", 1, 4096,
              "Most block ids one FetchBlocks message may name; an executor's block server answers a request in one go, so this "
              "bounds what one peer's message makes it read and send (Ember's own clients name one)."),
      integer(keys::storage_replication_threads, "2", 1, 64,
              "Detached actors per executor that fetch block replicas (the _2 storage levels) from their holders."),
      integer(keys::storage_replication_max_pending, "256", 1, 1000000,
              "Replication requests an executor queues at most; beyond, a request is answered unserved (a replica is best effort)."),
      duration(keys::shuffle_io_retry_wait, "5s", s, 10, dur_max,
               "A remote shuffle fetch that got no answer at all for this long asks again (CAF may drop a "
               "message when two executors connect to each other at once), until ember.network.timeout; "
               "plain number = seconds."),
      size(keys::reducer_max_size_in_flight, "48m", m, 1 * k, size_max,
           "Most remote shuffle data an executor's reduce tasks fetch at a time (each task fetches one block at a "
           "time; a larger block is fetched alone); plain number = MiB, as in Spark."),
      integer(keys::reducer_max_reqs_in_flight, "0", 0, int_max,
              "Most remote fetch requests an executor's reduce tasks have outstanding together; 0 = unlimited "
              "(Spark: Int.MaxValue)."),
      text(keys::local_dir, "$TMPDIR/ember-$USER",
           "Scratch directories for shuffle files and spills, comma-separated (spread over disks). $TMPDIR/ember-$USER "
           "(TMPDIR unset: /tmp) is created 0700 and refused if another user owns it; Ember's dirs below any root are "
           "0700, its files 0600.",
           check_not_empty),
      size(keys::files_max_partition_bytes, "128m", bytes, 1 * k, size_max,
           "Largest split of an input file read by one task (text_file)."),
      // memory
      real(keys::memory_fraction, "0.6", 0.0, 1.0, true,
           "Fraction of executor memory shared by execution and storage; the rest is for user data structures."),
      real(keys::memory_storage_fraction, "0.5", 0.0, 1.0, false,
           "Part of the unified region where cached blocks are safe from eviction by execution."),
      // standalone cluster
      integer(keys::master_port, "7077", 1, 65535, "Port the standalone master listens on."),
      boolean(keys::deploy_spread_out, "true",
              "Spread an application's executors over as many workers as possible instead of packing them."),
      choice(keys::deploy_recovery_mode, "NONE", "NONE|FILESYSTEM",
             "FILESYSTEM: the master persists workers, applications and cluster-mode drivers to ember.deploy.recoveryDirectory "
             "and a restarted master recovers them; NONE: a restarted master starts empty."),
      text(keys::deploy_recovery_directory, "",
           "Directory of the master's recovery log (required with recoveryMode FILESYSTEM)."),
      integer(keys::deploy_default_cores, "0", 0, int_max,
              "Cores given to applications that do not set ember.cores.max; 0 = unlimited."),
      integer(keys::cores_max, "0", 0, int_max,
              "Most cores an application takes from the cluster; 0 = ember.deploy.defaultCores."),
      duration(keys::worker_timeout, "60s", s, 1000, dur_max,
               "The master declares a worker lost after this long without a heartbeat; plain number = seconds."),
      integer(keys::deploy_max_executor_retries, "10", 0, int_max,
              "Executor failures in a row after which the master removes the application (Spark's maxExecutorRetries); 0 = never."),
      integer(keys::deploy_retained_applications, "200", 1, 100000,
              "Finished applications the master keeps for `ember status`; the oldest are forgotten first."),
      integer(keys::deploy_retained_drivers, "200", 1, 100000,
              "Finished cluster-mode drivers the master keeps for `ember status`; the oldest are forgotten first."),
      integer(keys::dead_worker_persistence, "15", 1, 100000,
              "A worker lost this many times ember.worker.timeout ago is forgotten by the master (Spark's "
              "spark.dead.worker.persistence)."),
      duration(keys::master_worker_check_interval, "5s", s, 10, dur_max,
               "How often the master looks for workers silent longer than ember.worker.timeout; plain number = seconds."),
      size(keys::master_binary_store_max_size, "4g", m, 1, size_max,
           "Total size of the application binaries the master keeps for cluster-mode drivers (ember submit hands each over); "
           "a larger binary is refused, and beyond it the least recently used ones no live driver runs are deleted; plain number = MiB."),
      integer(keys::worker_port, "0", 0, 65535,
              "Port the worker's actor listens on (it names the worker to the master); 0 = any free port."),
      duration(keys::worker_heartbeat_interval, "15s", s, 10, dur_max,
               "Interval between worker heartbeats to the master; keep it well below ember.worker.timeout."),
      duration(keys::worker_registration_retry_interval, "1s", s, 10, dur_max,
               "First wait before a worker retries to reach or register with the master at start-up (doubles up to 16 times this); "
               "once registered, workers and drivers that lose the master retry every interval."),
      text(keys::worker_local_dir, "",
           "Local dirs (comma-separated) for the executors this worker starts, overriding the application's ember.local.dir "
           "(Spark's SPARK_LOCAL_DIRS on a worker: the host's disks are the host's choice); empty = the application's."),
      text(keys::worker_data_dirs, "",
           "Data dirs (comma-separated) whose files this worker declares to the master at registration, so that text_file "
           "splits of those paths prefer this host (also `ember worker --data-dir`); empty = none."),
      duration(keys::worker_kill_grace_period, "5s", s, 0, dur_max,
               "Time an executor or driver process gets between SIGTERM and SIGKILL when the worker stops it."),
      duration(keys::worker_driver_restart_backoff, "1s", s, 10, dur_max,
               "First wait before a worker restarts a supervised driver that exited non-zero; doubles per restart up to 60 times this."),
      size(keys::worker_binary_cache_max_size, "1g", m, 0, size_max,
           "Total size of the application binaries a worker keeps in <work-dir>/binaries (by SHA-256 digest); beyond it the least recently used ones not run by a live process are deleted; plain number = MiB."),
      boolean(keys::worker_cgroup_enabled, "true",
              "Limit executor memory with a cgroup v2 memory.max when the worker's cgroup delegates the memory controller (else RLIMIT_AS)."),
      size(keys::worker_address_space_overhead, "4g", m, 0, size_max,
           "Address space an executor may use beyond ember.executor.memory when the limit is RLIMIT_AS (thread stacks, malloc arenas, mappings); plain number = MiB."),
      choice(keys::scheduler_mode, "FIFO", "FIFO|FAIR",
             "Order of jobs within one application: first come first served, or fair sharing."),
      text(keys::scheduler_allocation_file, "",
           "FAIR pools file: `name schedulingMode=FAIR|FIFO weight=N minShare=N` lines; empty = only the default pool."),
      duration(keys::scheduler_max_registered_resources_waiting_time, "30s", ms, 0, dur_max,
               "Longest wait for executors to register before scheduling starts."),
      real(keys::scheduler_min_registered_resources_ratio, "0.8", 0.0, 1.0, false,
           "Fraction of requested executor cores that must register before a cluster application's first tasks start (Spark standalone: 0; Ember waits, as Spark on YARN does, because an executor queues tasks and the first to register would take the whole first stage)."),
      text(keys::topology_file, "",
           "File mapping host names to racks (`host rack` lines); empty = no rack information."),
      text(keys::topology_script, "",
           "Executable printing the rack of each host given as argument (used when no topology file is set)."),
      duration(keys::topology_script_timeout, "10s", ms, 10, dur_max,
               "Longest run of ember.topology.script; a script still running is killed and the host gets no rack."),
      // UI, event log, security, logging
      boolean(keys::ui_show_console_progress, "true",
              "Show a progress bar of running stages on the driver's console (stderr)."),
      boolean(keys::ui_enabled, "true",
              "Serve the driver's web UI, REST API (/api/v1) and Prometheus metrics (docs/monitoring.md)."),
      text(keys::ui_host, "",
           "Address the driver's UI listens on; empty = every interface, or only 127.0.0.1 on a cluster secured by a shared secret (the browser sends that secret)."),
      integer(keys::ui_port, "4040", 0, 65535,
              "Port of the driver's UI; when taken, the next ones up to ember.port.maxRetries are tried; 0 = any free port."),
      integer(keys::port_max_retries, "16", 0, 1000,
              "How many further ports a UI tries when its configured one is taken."),
      integer(keys::ui_retained_jobs, "1000", 1, int_max,
              "Finished jobs the UI and REST API remember; older ones are forgotten."),
      integer(keys::ui_retained_stages, "1000", 1, int_max,
              "Finished stage attempts the UI and REST API remember; older ones are forgotten."),
      integer(keys::ui_retained_tasks, "100000", 1, int_max,
              "Task attempts of one stage attempt the UI and REST API remember; the oldest are forgotten (stage and job counters still count them)."),
      integer(keys::ui_threads, "16", 1, 256,
              "Threads serving a UI's HTTP requests: one per open connection (a browser opens six), kept up to ember.ui.timeout while idle."),
      boolean(keys::ui_kill_enabled, "true",
              "Let the master UI kill applications and drivers (a POST; with ember.acls.enable only for users ember.modify.acls admits)."),
      integer(keys::master_ui_port, "8080", 0, 65535,
              "Port of the master's web UI (and its /json); when taken, the next ones are tried; 0 = any free port."),
      integer(keys::history_ui_port, "18080", 0, 65535, "Port of `ember history-server`; 0 = any free port."),
      text(keys::history_fs_log_directory, "$TMPDIR/ember-$USER/events",
           "Directory of event logs the history server shows (ember.eventLog.dir of the applications).", check_not_empty),
      duration(keys::history_fs_update_interval, "10s", s, 1, dur_max,
               "How often the history server looks for new and grown event logs (at most once per interval, when asked)."),
      text(keys::metrics_conf, "",
           "File configuring metrics sinks (Spark's metrics.properties: `*.sink.csv.class`, `*.sink.console.period`, ...); empty = none."),
      duration(keys::ui_timeout, "5s", ms, 100, dur_max,
               "Longest a UI waits for a request's bytes, keeps an idle connection open, or waits for the master's answer (master UI)."),
      boolean(keys::event_log_enabled, "false", "Record scheduler events to ember.eventLog.dir for later replay."),
      text(keys::event_log_dir, "$TMPDIR/ember-$USER/events",
           "Directory of the event logs (files 0600, opened without following symlinks); below $TMPDIR/ember-$USER "
           "every dir is created 0700 and refused if another user owns it.",
           check_not_empty),
      size(keys::event_log_buffer, "64k", bytes, 0, size_max,
           "Event log bytes buffered before a write (also written at every job end); 0 writes each event at once, for readers following the log live (ember chaos)."),
      boolean(keys::authenticate, "false",
              "Admit only peers holding the cluster's shared secret (mutual TLS with credentials derived from it); every connection is encrypted."),
      text(keys::authenticate_secret, "",
           "The shared secret itself (Spark compatibility). Prefer ember.authenticate.secret.file: a value shows in process listings."),
      text(keys::authenticate_secret_file, "",
           "File holding the cluster's shared secret (at least 16 bytes; a regular file of this user, mode 0600 or 0400)."),
      boolean(keys::network_crypto_enabled, "true",
              "Encrypt every connection of an authenticated cluster (TLS). Ember authenticates through TLS, so it cannot be turned off while ember.authenticate or ember.ssl.enabled is on."),
      boolean(keys::ssl_enabled, "false",
              "Mutual TLS with certificates from the site's own PKI (ember.ssl.certificate, ember.ssl.key, ember.ssl.caFile) instead of ones derived from the shared secret."),
      text(keys::ssl_certificate, "", "PEM certificate chain of this node (ember.ssl.enabled)."),
      text(keys::ssl_key, "", "PEM private key of this node, unencrypted, mode 0600 (ember.ssl.enabled)."),
      text(keys::ssl_ca_file, "", "PEM file of the CA certificates a peer's certificate must chain to (ember.ssl.enabled)."),
      boolean(keys::acls_enable, "false",
              "Check ember.admin.acls, ember.modify.acls and ember.ui.view.acls against the user of each request."),
      text(keys::admin_acls, "", "Comma-separated users who may view and modify every application and driver (\"*\" = everyone)."),
      text(keys::modify_acls, "", "Comma-separated users who may kill applications and drivers besides their owner (\"*\" = everyone)."),
      text(keys::ui_view_acls, "", "Comma-separated users who may see cluster and application status besides the owner (\"*\" = everyone)."),
      choice(keys::log_level, "info", "trace|debug|info|warn|error|off",
             "Level of every component logger."),
      // Message faults for the chaos harness (docs/chaos.md); off, they cost one branch per send.
      boolean(keys::test_faults_enabled, "false",
              "Inject the message faults of ember.test.faults.* in executors (testing only)."),
      integer(keys::test_faults_seed, "0", 0, INT64_MAX,
              "Seed of the injected message faults: the same seed replays the same decisions per executor and message kind."),
      text(keys::test_faults_executors, "",
           "Comma-separated executor ids the message faults apply to; empty = every executor."),
      real(keys::test_faults_status_updates_drop, "0", 0.0, 1.0, false,
           "Probability that an executor's StatusUpdates batch is not sent (it is resent until the driver acknowledges it)."),
      real(keys::test_faults_status_updates_duplicate, "0", 0.0, 1.0, false,
           "Probability that an executor's StatusUpdates batch is sent twice."),
      duration(keys::test_faults_status_updates_delay, "0", ms, 0, dur_max,
               "Delay added to every StatusUpdates batch an executor sends."),
      real(keys::test_faults_heartbeat_drop, "0", 0.0, 1.0, false,
           "Probability that an executor's heartbeat is not sent."),
      real(keys::test_faults_heartbeat_duplicate, "0", 0.0, 1.0, false,
           "Probability that an executor's heartbeat is sent twice."),
      duration(keys::test_faults_heartbeat_delay, "0", ms, 0, dur_max,
               "Delay added to every heartbeat an executor sends (past ember.network.timeout: a false suspicion)."),
      real(keys::test_faults_fetch_blocks_drop, "0", 0.0, 1.0, false,
           "Probability that a shuffle fetch request to another host is not sent (it is asked again after ember.shuffle.io.retryWait)."),
      real(keys::test_faults_fetch_blocks_duplicate, "0", 0.0, 1.0, false,
           "Probability that a shuffle fetch request is sent twice (the reader keeps the first answer)."),
      duration(keys::test_faults_fetch_blocks_delay, "0", ms, 0, dur_max,
               "Delay added to every shuffle fetch request an executor sends."),
  };
  // A child inherits only from a key of its own type (one template parameter for both).
  auto with_parent = [&]<key_type K>(key<K> child, key<K> parent) {
    for (auto& spec : r)
      if (spec.name == child.name)
        spec = inherits(spec, parent.name);
  };
  using namespace keys;
  with_parent(rpc_ask_timeout, network_timeout);
  with_parent(network_timeout_interval, executor_heartbeat_interval);
  with_parent(locality_wait_process, locality_wait);
  with_parent(locality_wait_node, locality_wait);
  with_parent(locality_wait_rack, locality_wait);
  with_parent(dynamic_allocation_initial_executors, dynamic_allocation_min_executors);
  with_parent(dynamic_allocation_sustained_scheduler_backlog_timeout,
              dynamic_allocation_scheduler_backlog_timeout);
  std::sort(r.begin(), r.end(), [](const key_spec& a, const key_spec& b) { return a.name < b.name; });
  return r;
}

// -- small string helpers ------------------------------------------------------------------

std::string lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out)
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string quoted(std::string_view s) {
  std::string out;
  out.reserve(s.size() + 2);
  out += '\'';
  out += s;
  out += '\'';
  return out;
}

// Splits "<digits><suffix>"; false when there are no leading digits.
bool split_number(std::string_view s, std::string_view& digits, std::string& suffix) {
  std::size_t i = 0;
  while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i])))
    ++i;
  if (i == 0)
    return false;
  digits = s.substr(0, i);
  suffix = lower(trim(s.substr(i)));
  return true;
}

// digits * unit, or nothing on overflow.
std::optional<std::int64_t> scaled(std::string_view digits, std::int64_t unit) {
  std::int64_t n = 0;
  auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), n);
  if (ec != std::errc{} || end != digits.data() + digits.size())
    return std::nullopt;
  if (unit != 0 && n > INT64_MAX / unit)
    return std::nullopt;
  return n * unit;
}

std::string format_real(double d) {
  std::array<char, 64> buf{};
  auto [end, ec] = std::to_chars(buf.data(), buf.data() + buf.size(), d);
  return std::string(buf.data(), end);
}

}  // namespace

// -- key_type / key_spec ----------------------------------------------------------------

std::string_view to_string(key_type t) {
  switch (t) {
    case key_type::boolean: return "bool";
    case key_type::integer: return "int";
    case key_type::real: return "double";
    case key_type::size: return "size";
    case key_type::duration: return "duration";
    case key_type::string: return "string";
    case key_type::enumeration: return "enum";
  }
  return "?";
}

std::string key_spec::unit() const {
  if (type == key_type::size) {
    switch (plain_unit) {
      case bytes: return "B";
      case kib: return "KiB";
      case mib: return "MiB";
      case gib: return "GiB";
    }
  } else if (type == key_type::duration) {
    return plain_unit == seconds ? "s" : "ms";
  }
  return "";
}

std::vector<std::string_view> key_spec::allowed() const {
  std::vector<std::string_view> out;
  std::string_view rest = choices;
  while (!rest.empty()) {
    auto bar = rest.find('|');
    out.push_back(rest.substr(0, bar));
    if (bar == std::string_view::npos)
      break;
    rest.remove_prefix(bar + 1);
  }
  return out;
}

std::string key_spec::valid() const {
  auto bound = [this](std::int64_t v) {
    if (type == key_type::size)
      return format_size(v);
    if (type == key_type::duration)
      return format_duration(v);
    return std::to_string(v);
  };
  auto open_max = [this] {
    return max_int == INT64_MAX || (type == key_type::integer && max_int == INT32_MAX);
  };
  switch (type) {
    case key_type::boolean: return "true, false";
    case key_type::integer:
    case key_type::size:
    case key_type::duration:
      if (open_max())
        return ">= " + bound(min_int);
      return bound(min_int) + " .. " + bound(max_int);
    case key_type::real:
      return format_real(min_real) + (min_exclusive ? " < x <= " : " <= x <= ") + format_real(max_real);
    case key_type::enumeration: {
      std::string out;
      for (auto v : allowed())
        out += (out.empty() ? "" : ", ") + std::string(v);
      return out;
    }
    case key_type::string:
      if (name == keys::master.name)
        return "local[N|*|N,F], ember://host:port";
      return check ? "non-empty" : "any";
  }
  return "";
}

// -- registry ----------------------------------------------------------------------------

const std::vector<key_spec>& registry() {
  static const std::vector<key_spec> r = make_registry();
  return r;
}

const key_spec* find_key(std::string_view name) {
  const auto& r = registry();
  auto it = std::lower_bound(r.begin(), r.end(), name,
                             [](const key_spec& s, std::string_view n) { return s.name < n; });
  return it != r.end() && it->name == name ? &*it : nullptr;
}

std::size_t edit_distance(std::string_view a, std::string_view b) {
  const std::size_t n = a.size();
  const std::size_t m = b.size();
  std::vector<std::vector<std::size_t>> d(n + 1, std::vector<std::size_t>(m + 1));
  for (std::size_t i = 0; i <= n; ++i)
    d[i][0] = i;
  for (std::size_t j = 0; j <= m; ++j)
    d[0][j] = j;
  for (std::size_t i = 1; i <= n; ++i) {
    for (std::size_t j = 1; j <= m; ++j) {
      std::size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
      d[i][j] = std::min({d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost});
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1])
        d[i][j] = std::min(d[i][j], d[i - 2][j - 2] + 1);
    }
  }
  return d[n][m];
}

std::optional<std::string_view> suggest_key(std::string_view name) {
  if (name.starts_with("spark.")) {
    std::string twin = "ember." + std::string(name.substr(6));
    if (auto spec = find_key(twin))
      return spec->name;
  }
  // Compare case-insensitively: "heartbeatinterval" is one key, not a typo of three letters.
  const std::string needle = lower(name);
  constexpr std::size_t max_distance = 3;
  std::optional<std::string_view> best;
  std::size_t best_distance = max_distance + 1;
  for (const auto& spec : registry()) {
    auto dist = edit_distance(needle, lower(spec.name));
    if (dist < best_distance) {
      best_distance = dist;
      best = spec.name;
    }
  }
  return best;
}

// -- parsing ----------------------------------------------------------------------------

parsed<std::int64_t> parse_size(std::string_view text, std::int64_t plain_unit) {
  const auto s = trim(text);
  const std::string not_a_size = quoted(text) + " is not a size (expected e.g. 512m, 4g)";
  std::string_view digits;
  std::string suffix;
  if (!split_number(s, digits, suffix))
    return {std::nullopt, not_a_size};
  std::int64_t unit = 0;
  if (suffix.empty())
    unit = plain_unit;
  else if (suffix == "b")
    unit = 1;
  else if (suffix == "k" || suffix == "kb")
    unit = kib;
  else if (suffix == "m" || suffix == "mb")
    unit = mib;
  else if (suffix == "g" || suffix == "gb")
    unit = gib;
  else if (suffix == "t" || suffix == "tb")
    unit = gib * 1024;
  else if (suffix == "p" || suffix == "pb")
    unit = gib * 1024 * 1024;
  else
    return {std::nullopt, not_a_size};
  auto v = scaled(digits, unit);
  if (!v || *v > max_size_bytes)
    return {std::nullopt, quoted(text) + " is too large for a size (at most 1p)"};
  return {v, {}};
}

parsed<std::int64_t> parse_duration(std::string_view text, std::int64_t plain_unit) {
  const auto s = trim(text);
  const std::string not_a_duration =
      quoted(text) + " is not a duration (expected e.g. 500ms, 30s, 2min, 1h)";
  std::string_view digits;
  std::string suffix;
  if (!split_number(s, digits, suffix))
    return {std::nullopt, not_a_duration};
  std::int64_t unit = 0;
  if (suffix.empty())
    unit = plain_unit;
  else if (suffix == "ms")
    unit = 1;
  else if (suffix == "s" || suffix == "sec")
    unit = 1000;
  else if (suffix == "m" || suffix == "min" || suffix == "mins")
    unit = 60 * 1000;
  else if (suffix == "h")
    unit = 3600 * 1000;
  else if (suffix == "d")
    unit = 24 * 3600 * 1000;
  else
    return {std::nullopt, not_a_duration};
  auto v = scaled(digits, unit);
  if (!v || *v > max_duration_ms)
    return {std::nullopt, quoted(text) + " is too large for a duration (at most 365d)"};
  return {v, {}};
}

std::string human_bytes(std::uint64_t n) {
  static const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  double v = static_cast<double>(n);
  int u = 0;
  while (v >= 1024 && u < 4) {
    v /= 1024;
    ++u;
  }
  char buf[32];
  std::snprintf(buf, sizeof buf, u == 0 ? "%.0f %s" : "%.1f %s", v, units[u]);
  return buf;
}

std::string format_size(std::int64_t n) {
  if (n == 0)
    return "0";
  static constexpr std::array<std::pair<std::int64_t, const char*>, 5> units{{
      {gib * 1024 * 1024, "p"}, {gib * 1024, "t"}, {gib, "g"}, {mib, "m"}, {kib, "k"}}};
  for (auto [unit, suffix] : units)
    if (n % unit == 0)
      return std::to_string(n / unit) + suffix;
  return std::to_string(n) + "b";
}

std::string format_duration(std::int64_t ms) {
  if (ms == 0)
    return "0";
  if (ms % (3600 * 1000) == 0)
    return std::to_string(ms / (3600 * 1000)) + "h";
  if (ms % 1000 == 0)
    return std::to_string(ms / 1000) + "s";
  return std::to_string(ms) + "ms";
}

parsed<value> parse_value(const key_spec& spec, std::string_view text) {
  auto out_of_range = [&](std::string_view t) {
    return parsed<value>{std::nullopt, quoted(t) + " is out of range (expected " + spec.valid() + ")"};
  };
  auto ranged = [&](parsed<std::int64_t> p) -> parsed<value> {
    if (!p)
      return {std::nullopt, p.error};
    if (*p.value < spec.min_int || *p.value > spec.max_int)
      return out_of_range(text);
    return {value{*p.value}, {}};
  };
  switch (spec.type) {
    case key_type::boolean: {
      auto l = lower(trim(text));
      if (l == "true")
        return {value{true}, {}};
      if (l == "false")
        return {value{false}, {}};
      return {std::nullopt, quoted(text) + " is not a boolean (expected true or false)"};
    }
    case key_type::integer: {
      auto s = trim(text);
      std::int64_t n = 0;
      auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), n);
      if (s.empty() || end != s.data() + s.size()) {
        return {std::nullopt, quoted(text) + " is not an integer"};
      }
      if (ec == std::errc::result_out_of_range)
        return out_of_range(text);
      return ranged({n, {}});
    }
    case key_type::size: return ranged(parse_size(text, spec.plain_unit));
    case key_type::duration: return ranged(parse_duration(text, spec.plain_unit));
    case key_type::real: {
      auto s = trim(text);
      double d = 0;
      auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), d, std::chars_format::fixed);
      if (s.empty() || ec != std::errc{} || end != s.data() + s.size() || !std::isfinite(d))
        return {std::nullopt, quoted(text) + " is not a number (expected e.g. 0.6)"};
      bool low_ok = spec.min_exclusive ? d > spec.min_real : d >= spec.min_real;
      if (!low_ok || d > spec.max_real)
        return out_of_range(text);
      return {value{d}, {}};
    }
    case key_type::enumeration: {
      auto l = lower(trim(text));
      for (auto choice : spec.allowed())
        if (lower(choice) == l)
          return {value{std::string(choice)}, {}};
      return {std::nullopt, quoted(text) + " is not one of " + spec.valid()};
    }
    case key_type::string:
      if (spec.check)
        if (auto err = spec.check(text))
          return {std::nullopt, quoted(text) + " is not valid (" + *err + ")"};
      return {value{std::string(text)}, {}};
  }
  return {std::nullopt, "unsupported key type"};
}

std::string format_value(const key_spec& spec, const value& v) {
  switch (spec.type) {
    case key_type::boolean: return std::get<bool>(v) ? "true" : "false";
    case key_type::integer: return std::to_string(std::get<std::int64_t>(v));
    case key_type::size: return format_size(std::get<std::int64_t>(v));
    case key_type::duration: return format_duration(std::get<std::int64_t>(v));
    case key_type::real: return format_real(std::get<double>(v));
    case key_type::string:
    case key_type::enumeration: return std::get<std::string>(v);
  }
  return {};
}

std::string registry_markdown() {
  auto cell = [](std::string_view s) {
    std::string out;
    for (char c : s) {
      if (c == '|')
        out += "\\|";
      else
        out += c;
    }
    return out;
  };
  std::string out = "| key | type | default | unit | valid | description |\n"
                    "| --- | --- | --- | --- | --- | --- |\n";
  for (const auto& spec : registry()) {
    std::string def;
    if (!spec.inherits.empty())
      def.append("= `").append(spec.inherits).append("`");
    else if (spec.default_text.empty())
      def = "(empty)";
    else
      def.append("`").append(spec.default_text).append("`");
    out += "| `" + std::string(spec.name) + "` | " + std::string(to_string(spec.type)) + " | "
           + def + " | " + spec.unit() + " | " + cell(spec.valid()) + " | " + cell(spec.doc) + " |\n";
  }
  return out;
}

}  // namespace ember::config
