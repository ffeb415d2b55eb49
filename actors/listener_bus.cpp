#include "actors/listener_bus.hpp"

#include <fcntl.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string_view>
#include <vector>

#include <caf/all.hpp>
#include <capnp/compat/json.h>
#include <capnp/dynamic.h>

#include "actors/progress_bar.hpp"
#include "config/log.hpp"
#include "config/secure_fs.hpp"

namespace ember::actors {

std::string event_log_path(const std::string& dir, const std::string& app_id) {
  return (std::filesystem::path{dir} / (app_id + ".jsonl")).string();
}

std::size_t terminal_width() {
  winsize ws{};
  if (::ioctl(STDERR_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0)
    return ws.ws_col;
  if (const char* cols = std::getenv("COLUMNS")) {
    char* end = nullptr;
    long n = std::strtol(cols, &end, 10);
    if (end != cols && *end == '\0' && n > 0 && n < 10000)
      return static_cast<std::size_t>(n);
  }
  return 80;
}

std::string event_kind(proto::ListenerEvent::Reader event) {
  KJ_IF_MAYBE (field, capnp::toDynamic(event).which())
    return field->getProto().getName().cStr();
  return "unknown";
}

namespace {

// The event log file: appends go to a buffer, written out when it fills, at job and application
// end and on close. Write errors are reported once and the log stops; the application goes on.
class event_log_file {
public:
  event_log_file(const std::string& dir, const std::string& app_id, std::size_t buffer_limit)
    : dir_(prepared(dir)), path_(event_log_path(dir_, app_id)), buffer_limit_(buffer_limit) {
    // 0600 and never through a symlink: the log holds the application's configuration.
    fd_ = ::open(path_.c_str(), O_WRONLY | O_CREAT | O_APPEND | config::private_open_flags, config::private_file_mode);
    if (fd_ < 0 && errno == ELOOP)
      throw std::runtime_error("ember.eventLog.dir: refusing to open event log '" + path_ + "': it is a symbolic link");
    if (fd_ < 0)
      throw std::runtime_error("ember.eventLog.dir: cannot open event log '" + path_ + "': " + std::strerror(errno));
  }
  event_log_file(const event_log_file&) = delete;
  event_log_file& operator=(const event_log_file&) = delete;
  ~event_log_file() {
    flush();
    ::close(fd_);
  }

  const std::string& path() const { return path_; }

private:
  static std::string prepared(const std::string& dir) {
    try {
      return config::prepare_dir_setting(dir).string();
    } catch (const std::exception& e) {
      throw std::runtime_error("ember.eventLog.dir: cannot create directory '" + dir + "': " + e.what());
    }
  }

public:

  // On a cluster the application id comes from the master after the log was opened under a
  // provisional one: the open file is renamed (its descriptor stays valid). Empty on success.
  std::string rename_for(const std::string& app_id) {
    auto to = event_log_path(dir_, app_id);
    if (to == path_)
      return {};
    if (::rename(path_.c_str(), to.c_str()) != 0)
      return "cannot rename event log '" + path_ + "' to '" + to + "': " + std::strerror(errno);
    path_ = to;
    return {};
  }

  void append(std::string_view line) {
    if (failed_)
      return;
    buffer_.append(line);
    buffer_.push_back('\n');
    if (buffer_.size() >= buffer_limit_)
      flush();
  }

  // Empty on success, else why the log stopped (reported by the caller once).
  std::string flush() {
    std::size_t done = 0;
    while (!failed_ && done < buffer_.size()) {
      auto n = ::write(fd_, buffer_.data() + done, buffer_.size() - done);
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0) {
        failed_ = true;
        buffer_.clear();
        return "cannot write event log '" + path_ + "': " + std::strerror(errno) + "; no further events are logged";
      }
      done += static_cast<std::size_t>(n);
    }
    buffer_.clear();
    return {};
  }

private:
  std::string dir_;
  std::string path_;
  std::size_t buffer_limit_;
  int fd_ = -1;
  std::string buffer_;
  bool failed_ = false;
};

void write_console(const std::string& text) {
  if (text.empty())
    return;
  std::fwrite(text.data(), 1, text.size(), stderr);
  std::fflush(stderr);
}

struct bus_state {
  std::shared_ptr<event_log_file> file;
  // Behind a pointer: JsonCodec's destructor may throw, CAF needs a noexcept state destructor.
  std::unique_ptr<capnp::JsonCodec> codec = std::make_unique<capnp::JsonCodec>();
  std::optional<progress_bar> progress;
  bool tick_pending = false;
  std::vector<caf::actor> subscribers;
  caf::actor task_source; // the task scheduler: told to post task events once someone listens
  std::shared_ptr<spdlog::logger> log;

  void flush_log() {
    if (!file)
      return;
    if (auto err = file->flush(); !err.empty())
      log->error("{}", err);
  }

  // Also reached when the actor system goes down without a close: the log stays complete up to
  // the last event and no bar is left on the terminal.
  ~bus_state() {
    if (progress)
      write_console(progress->clear());
    flush_log();
  }

  static inline const char* name = "listener_bus";
};

using bus_actor = caf::stateful_actor<bus_state>;

void feed_progress(bus_actor* self, proto::ListenerEvent::Reader ev, std::chrono::milliseconds interval) {
  auto& bar = *self->state.progress;
  auto now = std::chrono::steady_clock::now();
  switch (ev.which()) {
    case proto::ListenerEvent::STAGE_SUBMITTED: {
      auto s = ev.getStageSubmitted();
      bar.stage_submitted(s.getStageId(), s.getAttempt(), s.getNumTasks(), now);
      break;
    }
    case proto::ListenerEvent::STAGE_COMPLETED: {
      auto s = ev.getStageCompleted();
      bar.stage_completed(s.getStageId(), s.getAttempt());
      break;
    }
    case proto::ListenerEvent::TASK_START: {
      auto t = ev.getTaskStart();
      bar.task_started(t.getStageId(), t.getStageAttempt());
      break;
    }
    case proto::ListenerEvent::TASK_END: {
      auto t = ev.getTaskEnd();
      bar.task_ended(t.getStageId(), t.getStageAttempt(), t.getState() == proto::TaskState::FINISHED);
      break;
    }
    default:
      return;
  }
  // The bar redraws on a timer, never per event: thousands of short tasks cost one line per tick.
  if (!self->state.tick_pending && bar.active()) {
    self->state.tick_pending = true;
    self->delayed_send(self, interval, caf::tick_atom::value);
  }
}

caf::behavior listener_bus_actor(bus_actor* self, listener_bus_config cfg, std::shared_ptr<event_log_file> file) {
  auto& st = self->state;
  st.log = log::get("listener_bus");
  st.file = std::move(file);
  if (cfg.console_progress) {
    progress_settings ps;
    ps.width = cfg.console_width;
    st.progress.emplace(ps);
  }
  self->set_down_handler([self](const caf::down_msg& dm) {
    auto& subs = self->state.subscribers;
    std::erase_if(subs, [&](const caf::actor& a) { return a.address() == dm.source; });
  });

  return {
    [=](const wire<proto::ListenerEvent>& msg) {
      auto& st = self->state;
      auto ev = msg.reader();
      try {
        if (st.file) {
          auto line = st.codec->encode(ev);
          st.file->append({line.cStr(), line.size()});
          // A finished job is a natural point for readers (UI, tests) to look: write it out.
          if (ev.isJobEnd() || ev.isApplicationEnd())
            st.flush_log();
        }
        if (st.progress)
          feed_progress(self, ev, cfg.progress_interval);
        for (const auto& sink : cfg.sinks)
          sink(ev);
      } catch (const kj::Exception& e) {
        st.log->warn("dropped a malformed {} event: {}", event_kind(ev), e.getDescription().cStr());
      }
      for (auto& sub : st.subscribers)
        self->send(sub, msg);
    },
    [=](caf::tick_atom) {
      auto& st = self->state;
      st.tick_pending = false;
      if (!st.progress)
        return;
      write_console(st.progress->refresh(std::chrono::steady_clock::now()));
      if (st.progress->active()) {
        st.tick_pending = true;
        self->delayed_send(self, cfg.progress_interval, caf::tick_atom::value);
      }
    },
    [=](caf::subscribe_atom, caf::actor who) {
      auto& subs = self->state.subscribers;
      if (!who || std::find(subs.begin(), subs.end(), who) != subs.end())
        return;
      self->monitor(who);
      subs.push_back(std::move(who));
      if (self->state.task_source)
        self->send(self->state.task_source, caf::subscribe_atom::value);
    },
    [=](caf::join_atom, caf::actor source) {
      self->state.task_source = std::move(source);
      if (!self->state.subscribers.empty())
        self->send(self->state.task_source, caf::subscribe_atom::value);
    },
    [=](caf::unsubscribe_atom, const caf::actor& who) {
      auto& subs = self->state.subscribers;
      if (auto i = std::find(subs.begin(), subs.end(), who); i != subs.end()) {
        self->demonitor(who);
        subs.erase(i);
      }
    },
    [=](caf::put_atom, const std::string& app_id) {
      if (self->state.file)
        if (auto err = self->state.file->rename_for(app_id); !err.empty())
          log::get("listener_bus")->warn("{}", err);
    },
    [=](caf::flush_atom) {
      self->state.flush_log();
      return caf::flush_atom::value;
    },
    [=](caf::close_atom) {
      auto& st = self->state;
      if (st.progress) {
        write_console(st.progress->clear());
        st.progress.reset();
      }
      st.flush_log();
      st.file.reset(); // closes the file
      auto rp = self->make_response_promise();
      rp.deliver(caf::close_atom::value);
      self->quit();
    },
  };
}

} // namespace

caf::actor spawn_listener_bus(caf::actor_system& sys, listener_bus_config cfg) {
  std::shared_ptr<event_log_file> file;
  if (cfg.event_log)
    file = std::make_shared<event_log_file>(cfg.event_log_dir, cfg.app_id, cfg.event_log_buffer);
  return sys.spawn(listener_bus_actor, std::move(cfg), std::move(file));
}

} // namespace ember::actors
