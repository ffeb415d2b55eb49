#include "ui/history.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <set>
#include <vector>

#include <capnp/compat/json.h>
#include <capnp/dynamic.h>
#include <capnp/message.h>

#include "config/log.hpp"

namespace ember::ui {

namespace fs = std::filesystem;

void history_provider::maybe_scan() {
  auto now = std::chrono::steady_clock::now();
  if (scanned_ && now - last_scan_ < settings_.update_interval)
    return;
  scanned_ = true;
  last_scan_ = now;
  std::error_code ec;
  std::set<std::string> present;
  for (fs::directory_iterator it{settings_.log_directory, ec}, end; !ec && it != end; it.increment(ec)) {
    const auto& p = it->path();
    // Regular files only, never through a symlink: the directory may be shared by many users.
    if (p.extension() != ".jsonl" || !it->is_regular_file(ec) || it->is_symlink(ec))
      continue;
    auto name = p.filename().string();
    present.insert(name);
    auto& f = logs_[name];
    if (!f.store) {
      f.path = p.string();
      f.store = std::make_unique<app_store>(settings_.limits);
    }
    read_new(f);
  }
  if (ec)
    log::get("history")->warn("ember.history.fs.logDirectory '{}': {}", settings_.log_directory, ec.message());
  // A renamed log (a cluster application learns its id after it started) or a deleted one.
  std::erase_if(logs_, [&](const auto& entry) { return present.count(entry.first) == 0; });
}

std::size_t history_provider::read_new(log_file& f) {
  int fd = ::open(f.path.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) {
    log::get("history")->warn("cannot read event log '{}': {}", f.path, std::strerror(errno));
    return 0;
  }
  std::string data;
  char buf[1 << 16];
  if (::lseek(fd, static_cast<off_t>(f.offset), SEEK_SET) < 0) {
    ::close(fd);
    return 0;
  }
  for (;;) {
    auto n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      break;
    data.append(buf, static_cast<std::size_t>(n));
  }
  ::close(fd);
  std::size_t applied = 0;
  std::size_t pos = 0;
  capnp::JsonCodec codec;
  while (pos < data.size()) {
    auto nl = data.find('\n', pos);
    if (nl == std::string::npos) {
      // An unfinished last line: read again from its start next time, unless it can never end.
      if (data.size() - pos > settings_.max_line) {
        ++f.bad_lines;
        pos = data.size();
      }
      break;
    }
    std::string_view line(data.data() + pos, nl - pos);
    pos = nl + 1;
    if (line.empty())
      continue;
    try {
      capnp::MallocMessageBuilder msg;
      auto root = msg.initRoot<proto::ListenerEvent>();
      codec.decode(kj::ArrayPtr<const char>(line.data(), line.size()), capnp::toDynamic(root));
      f.store->apply(root.asReader());
      ++applied;
    } catch (const kj::Exception& e) {
      if (f.bad_lines++ == 0)
        log::get("history")->warn("{}: skipping a line that is not an event: {}", f.path, e.getDescription().cStr());
    }
  }
  f.offset += pos;
  return applied;
}

void history_provider::for_each(const std::function<void(const app_store&)>& fn) {
  std::lock_guard guard{mutex_};
  maybe_scan();
  std::vector<const app_store*> apps;
  for (auto& [name, f] : logs_)
    if (f.store->started())
      apps.push_back(f.store.get());
  // Newest first, as Spark's history server lists them.
  std::sort(apps.begin(), apps.end(), [](const app_store* a, const app_store* b) {
    return a->start_time() > b->start_time();
  });
  for (auto* a : apps)
    fn(*a);
}

bool history_provider::with(const std::string& id, const std::function<void(const app_store&)>& fn) {
  std::lock_guard guard{mutex_};
  maybe_scan();
  for (auto& [name, f] : logs_)
    if (f.store->started() && f.store->app_id() == id) {
      fn(*f.store);
      return true;
    }
  return false;
}

}  // namespace ember::ui
