#include "storage/block_manager.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <stdexcept>
#include <system_error>
#include <utility>

#include "config/secure_fs.hpp"

namespace ember::storage {

block_manager::block_manager(memory_settings settings, std::filesystem::path dir)
  : settings_(settings), dir_(std::move(dir)) {}

block_manager::~block_manager() {
  std::error_code ec;
  if (!dir_.empty())
    std::filesystem::remove_all(dir_, ec);
}

// -- helpers -------------------------------------------------------------------------------------

std::filesystem::path block_manager::path_of(const block_id& id) const { return dir_ / id.name(); }

block_status block_manager::status_of(const block_id& id, const entry& e) const {
  return block_status{id, e.level, e.in_memory ? e.mem_size : 0, e.on_disk ? e.disk_size : 0};
}

size_t block_manager::limit_locked() const {
  auto region = static_cast<size_t>(static_cast<double>(settings_.unified) * settings_.storage_fraction);
  size_t borrowable = settings_.unified > execution_used_ ? settings_.unified - execution_used_ : 0;
  return std::max(region, borrowable);
}

void block_manager::drop_memory_locked(entry& e) {
  if (!e.in_memory)
    return;
  storage_used_ -= e.mem_size;
  lru_.erase(e.lru);
  e.in_memory = false;
  e.values = {};
  e.mem_bytes.reset();
  e.mem_size = 0;
}

void block_manager::write_disk_locked(const block_id& id, entry& e, const std::string& bytes) {
  config::make_private_dirs(dir_);
  auto path = path_of(id);
  auto tmp = path;
  tmp += ".tmp";
  // A leftover of a failed write is ours; then the file must be new (O_EXCL), 0600, no symlink.
  ::unlink(tmp.c_str());
  int fd = config::open_private_file(tmp, O_WRONLY | O_CREAT | O_EXCL);
  const char* p = bytes.data();
  size_t left = bytes.size();
  while (left > 0) {
    auto n = ::write(fd, p, left);
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0) {
      ::close(fd);
      ::unlink(tmp.c_str());
      throw std::runtime_error("block manager: cannot write " + tmp.string() + ": " + std::strerror(errno));
    }
    p += n;
    left -= static_cast<size_t>(n);
  }
  ::close(fd);
  std::filesystem::rename(tmp, path);
  e.on_disk = true;
  e.disk_size = bytes.size();
}

void block_manager::remove_disk_locked(const block_id& id, entry& e) {
  if (!e.on_disk)
    return;
  std::error_code ec;
  std::filesystem::remove(path_of(id), ec);
  e.on_disk = false;
  e.disk_size = 0;
}

void block_manager::evict_locked(const block_id& id, entry& e) {
  if (e.level.use_disk && !e.on_disk) {
    // Spill: the serialized form goes to the disk store before memory is released.
    std::string bytes = e.mem_bytes ? *e.mem_bytes : e.values.serialize();
    write_disk_locked(id, e, bytes);
  }
  drop_memory_locked(e);
  evicted_.push_back(status_of(id, e));
  if (!e.on_disk)
    blocks_.erase(id);
}

bool block_manager::make_room_locked(size_t size, const block_id& for_id) {
  size_t limit = limit_locked();
  if (size > limit)
    return false;
  if (storage_used_ + size <= limit)
    return true;
  size_t need = storage_used_ + size - limit;
  std::vector<block_id> victims;
  size_t freed = 0;
  for (const auto& id : lru_) {
    if (freed >= need)
      break;
    if (for_id.is_rdd() && id.is_rdd() && id.id == for_id.id)
      continue; // never evict a block of the same RDD to make room (Spark's rule)
    if (id == for_id)
      continue;
    victims.push_back(id);
    freed += blocks_.at(id).mem_size;
  }
  if (freed < need)
    return false;
  for (const auto& id : victims)
    evict_locked(id, blocks_.at(id));
  return true;
}

void block_manager::shrink_to_locked(size_t target) {
  while (storage_used_ > target && !lru_.empty()) {
    auto id = lru_.front();
    evict_locked(id, blocks_.at(id));
  }
}

void block_manager::put_memory_locked(const block_id& id, entry& e, size_t size) {
  e.in_memory = true;
  e.mem_size = size;
  e.lru = lru_.insert(lru_.end(), id);
  storage_used_ += size;
}

// -- blocks --------------------------------------------------------------------------------------

block_status block_manager::put_values(const block_id& id, const storage_level& level, block_values v) {
  if (!level.valid())
    throw std::invalid_argument("block manager: cannot store " + id.name() + " at storage level NONE");
  if (!level.use_memory || !level.deserialized)
    return put_bytes(id, level, v.serialize());
  std::lock_guard guard{mtx_};
  if (auto old = blocks_.find(id); old != blocks_.end()) {
    drop_memory_locked(old->second);
    remove_disk_locked(id, old->second);
    blocks_.erase(old);
  }
  size_t size = std::max<size_t>(v.size, 1);
  entry e;
  e.level = level;
  if (make_room_locked(size, id)) {
    e.values = std::move(v);
    auto& slot = blocks_[id] = std::move(e);
    put_memory_locked(id, slot, size);
    return status_of(id, slot);
  }
  if (!level.use_disk)
    return block_status{id, level, 0, 0}; // MEMORY_ONLY that does not fit: not cached
  write_disk_locked(id, e, v.serialize());
  auto& slot = blocks_[id] = std::move(e);
  return status_of(id, slot);
}

block_status block_manager::put_bytes(const block_id& id, const storage_level& level, std::string bytes) {
  if (!level.valid())
    throw std::invalid_argument("block manager: cannot store " + id.name() + " at storage level NONE");
  std::lock_guard guard{mtx_};
  if (auto old = blocks_.find(id); old != blocks_.end()) {
    drop_memory_locked(old->second);
    remove_disk_locked(id, old->second);
    blocks_.erase(old);
  }
  entry e;
  e.level = level;
  size_t size = std::max<size_t>(bytes.size(), 1);
  if (level.use_memory && make_room_locked(size, id)) {
    e.mem_bytes = std::make_shared<const std::string>(std::move(bytes));
    auto& slot = blocks_[id] = std::move(e);
    put_memory_locked(id, slot, size);
    return status_of(id, slot);
  }
  if (!level.use_disk)
    return block_status{id, level, 0, 0};
  write_disk_locked(id, e, bytes);
  auto& slot = blocks_[id] = std::move(e);
  return status_of(id, slot);
}

std::optional<block_data> block_manager::get(const block_id& id) {
  std::filesystem::path path;
  {
    std::lock_guard guard{mtx_};
    auto i = blocks_.find(id);
    if (i == blocks_.end())
      return std::nullopt;
    auto& e = i->second;
    if (e.in_memory) {
      lru_.splice(lru_.end(), lru_, e.lru); // most recently used
      block_data d;
      if (e.mem_bytes)
        d.bytes = e.mem_bytes;
      else
        d.values = e.values.values;
      return d;
    }
    path = path_of(id);
  }
  // Disk reads happen outside the lock; a block removed meanwhile is a miss.
  std::ifstream in{path, std::ios::binary};
  if (!in)
    return std::nullopt;
  std::string bytes{std::istreambuf_iterator<char>{in}, std::istreambuf_iterator<char>{}};
  block_data d;
  d.bytes = std::make_shared<const std::string>(std::move(bytes));
  d.from_disk = true;
  return d;
}

std::optional<std::string> block_manager::get_bytes(const block_id& id) {
  std::function<std::string()> serialize;
  {
    std::lock_guard guard{mtx_};
    auto i = blocks_.find(id);
    if (i == blocks_.end())
      return std::nullopt;
    if (i->second.in_memory && !i->second.mem_bytes)
      serialize = i->second.values.serialize; // holds the values alive by itself
  }
  if (serialize)
    return serialize();
  auto d = get(id);
  if (!d || !d->bytes)
    return std::nullopt;
  return *d->bytes;
}

bool block_manager::contains(const block_id& id) const {
  std::lock_guard guard{mtx_};
  return blocks_.count(id) != 0;
}

std::optional<block_status> block_manager::status(const block_id& id) const {
  std::lock_guard guard{mtx_};
  auto i = blocks_.find(id);
  if (i == blocks_.end())
    return std::nullopt;
  return status_of(id, i->second);
}

bool block_manager::remove(const block_id& id) {
  std::lock_guard guard{mtx_};
  auto i = blocks_.find(id);
  if (i == blocks_.end())
    return false;
  drop_memory_locked(i->second);
  remove_disk_locked(id, i->second);
  blocks_.erase(i);
  return true;
}

std::vector<block_id> block_manager::remove_rdd(uint32_t rdd_id) {
  std::lock_guard guard{mtx_};
  std::vector<block_id> out;
  for (auto& [id, e] : blocks_)
    if (id.is_rdd() && id.id == rdd_id)
      out.push_back(id);
  for (auto& id : out) {
    auto& e = blocks_.at(id);
    drop_memory_locked(e);
    remove_disk_locked(id, e);
    blocks_.erase(id);
  }
  return out;
}

// -- memory --------------------------------------------------------------------------------------

void block_manager::acquire_execution(size_t bytes) {
  std::lock_guard guard{mtx_};
  execution_used_ += bytes;
  shrink_to_locked(limit_locked());
}

void block_manager::release_execution(size_t bytes) {
  std::lock_guard guard{mtx_};
  execution_used_ -= std::min(bytes, execution_used_);
}

std::vector<block_status> block_manager::take_evicted() {
  std::lock_guard guard{mtx_};
  return std::exchange(evicted_, {});
}

size_t block_manager::storage_memory_used() const {
  std::lock_guard guard{mtx_};
  return storage_used_;
}

size_t block_manager::execution_memory_used() const {
  std::lock_guard guard{mtx_};
  return execution_used_;
}

size_t block_manager::storage_memory_limit() const {
  std::lock_guard guard{mtx_};
  return limit_locked();
}

std::vector<block_id> block_manager::memory_blocks_lru() const {
  std::lock_guard guard{mtx_};
  return {lru_.begin(), lru_.end()};
}

} // namespace ember::storage
