// Partitioned shuffle data file + index (see shuffle_file.hpp for the layout).
#include "shuffle/shuffle_file.hpp"

#include <atomic>
#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <system_error>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <xxhash.h>

#include "config/secure_fs.hpp"

namespace ember::shuffle {

namespace {

constexpr size_t out_flush_threshold = size_t{1} << 20;
constexpr size_t read_chunk = size_t{256} << 10;

[[noreturn]] void throw_errno(const std::string& what, const std::string& path) {
  int e = errno;
  throw std::system_error(e, std::generic_category(), what + " " + path);
}

void write_all(int fd, const char* p, size_t n, const std::string& path) {
  while (n > 0) {
    ssize_t k = ::write(fd, p, n);
    if (k < 0) {
      if (errno == EINTR)
        continue;
      throw_errno("write", path);
    }
    p += k;
    n -= static_cast<size_t>(k);
  }
}

// Every shuffle and spill file is new (unique_temp_path) and private: a file or symlink already
// at the path is an error, never reused or followed.
int open_for_write(const std::string& path) {
  return config::open_private_file(path, O_WRONLY | O_CREAT | O_EXCL);
}

} // namespace

// -- scoped_file ---------------------------------------------------------------

scoped_file& scoped_file::operator=(scoped_file&& other) noexcept {
  if (this != &other) {
    remove();
    path_ = std::move(other.path_);
    other.path_.clear();
  }
  return *this;
}

void scoped_file::remove() noexcept {
  if (!path_.empty()) {
    ::unlink(path_.c_str());
    path_.clear();
  }
}

std::string unique_temp_path(std::string_view dir, std::string_view stem) {
  static std::atomic<uint64_t> counter{0};
  std::string p(dir);
  if (!p.empty() && p.back() != '/')
    p += '/';
  p += stem;
  p += '-';
  p += std::to_string(::getpid());
  p += '-';
  p += std::to_string(counter.fetch_add(1, std::memory_order_relaxed));
  return p;
}

temp_shuffle_file temp_shuffle_file::create(std::string_view dir, std::string_view stem) {
  std::string base = unique_temp_path(dir, stem);
  return temp_shuffle_file{scoped_file(base + ".data"), scoped_file(base + ".index")};
}

// -- writer --------------------------------------------------------------------

shuffle_file_writer::shuffle_file_writer(std::string data_path, std::string index_path,
                                         size_t num_partitions, codec c, size_t block_size)
  : data_path_(std::move(data_path)),
    index_path_(std::move(index_path)),
    num_partitions_(num_partitions),
    codec_(c),
    block_size_(block_size == 0 ? 1 : block_size) {
  data_tmp_ = unique_temp_path("", data_path_ + ".tmp");
  index_tmp_ = unique_temp_path("", index_path_ + ".tmp");
  fd_ = open_for_write(data_tmp_);
  offsets_.reserve(num_partitions_ + 1);
  offsets_.push_back(0);
  raw_.reserve(block_size_);
}

shuffle_file_writer::~shuffle_file_writer() {
  if (!committed_)
    discard();
}

void shuffle_file_writer::discard() noexcept {
  if (fd_ >= 0) {
    ::close(fd_);
    fd_ = -1;
  }
  ::unlink(data_tmp_.c_str());
  ::unlink(index_tmp_.c_str());
}

void shuffle_file_writer::switch_to(size_t partition) {
  if (partition >= num_partitions_)
    throw std::out_of_range("shuffle_file_writer: partition " + std::to_string(partition) +
                            " out of range (" + std::to_string(num_partitions_) +
                            " partitions) for " + data_path_);
  if (partition < current_)
    throw std::logic_error("shuffle_file_writer: partition " + std::to_string(partition) +
                           " written after partition " + std::to_string(current_) + " in " +
                           data_path_ + " (partitions must come in non-decreasing order)");
  if (partition == current_)
    return;
  seal_block();
  while (current_ < partition) {
    offsets_.push_back(position_);
    ++current_;
  }
}

void shuffle_file_writer::seal_block() {
  if (raw_.empty())
    return;
  size_t before = out_.size();
  encode_frame(codec_, raw_.data(), raw_.size(), out_);
  position_ += out_.size() - before;
  raw_.clear();
  if (out_.size() >= out_flush_threshold)
    flush_out();
}

void shuffle_file_writer::flush_out() {
  write_all(fd_, out_.data(), out_.size(), data_tmp_);
  out_.clear();
}

void shuffle_file_writer::write(size_t partition, const char* bytes, size_t n) {
  switch_to(partition);
  if (!raw_.empty() && raw_.size() + n > block_size_)
    seal_block();
  raw_.put(bytes, n);
  if (raw_.size() >= block_size_)
    seal_block();
}

void shuffle_file_writer::append_frames(size_t partition, const char* framed, size_t n) {
  switch_to(partition);
  seal_block();
  if (n == 0)
    return;
  if (n >= out_flush_threshold) {
    flush_out();
    write_all(fd_, framed, n, data_tmp_);
  } else {
    out_.put(framed, n);
    if (out_.size() >= out_flush_threshold)
      flush_out();
  }
  position_ += n;
}

std::vector<uint64_t> shuffle_file_writer::commit() {
  if (committed_)
    throw std::logic_error("shuffle_file_writer: commit() called twice for " + data_path_);
  seal_block();
  while (offsets_.size() < num_partitions_ + 1)
    offsets_.push_back(position_);
  flush_out();
  if (::close(fd_) != 0) {
    fd_ = -1;
    throw_errno("close", data_tmp_);
  }
  fd_ = -1;

  std::vector<uint64_t> index(offsets_);
  uint64_t sum = XXH3_64bits(index.data(), index.size() * sizeof(uint64_t));
  index.push_back(sum);
  int ifd = open_for_write(index_tmp_);
  try {
    write_all(ifd, reinterpret_cast<const char*>(index.data()), index.size() * sizeof(uint64_t),
              index_tmp_);
  } catch (...) {
    ::close(ifd);
    throw;
  }
  if (::close(ifd) != 0)
    throw_errno("close", index_tmp_);
  if (::rename(data_tmp_.c_str(), data_path_.c_str()) != 0)
    throw_errno("rename " + data_tmp_ + " to", data_path_);
  if (::rename(index_tmp_.c_str(), index_path_.c_str()) != 0) {
    int e = errno;
    ::unlink(data_path_.c_str());
    errno = e;
    throw_errno("rename " + index_tmp_ + " to", index_path_);
  }
  committed_ = true;

  std::vector<uint64_t> lengths(num_partitions_);
  for (size_t p = 0; p < num_partitions_; ++p)
    lengths[p] = offsets_[p + 1] - offsets_[p];
  return lengths;
}

// -- index -----------------------------------------------------------------------

std::vector<uint64_t> read_shuffle_index(const std::string& index_path, int64_t data_size) {
  int fd = ::open(index_path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    throw_errno("cannot open shuffle index", index_path);
  std::string bytes;
  char buf[65536];
  for (;;) {
    ssize_t k = ::read(fd, buf, sizeof buf);
    if (k < 0) {
      if (errno == EINTR)
        continue;
      int e = errno;
      ::close(fd);
      errno = e;
      throw_errno("read", index_path);
    }
    if (k == 0)
      break;
    bytes.append(buf, static_cast<size_t>(k));
  }
  ::close(fd);
  if (bytes.size() < 16 || bytes.size() % 8 != 0)
    throw corruption_error(index_path, 0,
                           "bad index size " + std::to_string(bytes.size()) +
                             " (expected 8 * (partitions + 2) bytes)");
  size_t words = bytes.size() / 8;
  std::vector<uint64_t> offsets(words - 1);
  std::memcpy(offsets.data(), bytes.data(), offsets.size() * 8);
  uint64_t stored;
  std::memcpy(&stored, bytes.data() + offsets.size() * 8, 8);
  if (XXH3_64bits(offsets.data(), offsets.size() * 8) != stored)
    throw corruption_error(index_path, offsets.size() * 8, "index checksum mismatch");
  if (offsets[0] != 0)
    throw corruption_error(index_path, 0, "first index offset is not 0");
  for (size_t i = 1; i < offsets.size(); ++i)
    if (offsets[i] < offsets[i - 1])
      throw corruption_error(index_path, i * 8, "index offsets not monotonic");
  if (data_size >= 0 && offsets.back() != static_cast<uint64_t>(data_size))
    throw corruption_error(index_path, (offsets.size() - 1) * 8,
                           "index says the data file has " + std::to_string(offsets.back()) +
                             " bytes but it has " + std::to_string(data_size) +
                             " (truncated or mismatched data file)");
  return offsets;
}

// -- reader ----------------------------------------------------------------------

shuffle_file_reader::shuffle_file_reader(std::string data_path, std::string index_path,
                                         size_t max_frame_size)
  : data_path_(std::move(data_path)), max_frame_size_(max_frame_size) {
  fd_ = ::open(data_path_.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd_ < 0)
    throw_errno("cannot open shuffle data", data_path_);
  struct stat st {};
  if (::fstat(fd_, &st) != 0) {
    int e = errno;
    ::close(fd_);
    errno = e;
    throw_errno("stat", data_path_);
  }
  try {
    offsets_ = read_shuffle_index(index_path, st.st_size);
  } catch (...) {
    ::close(fd_);
    throw;
  }
}

shuffle_file_reader::shuffle_file_reader(shuffle_file_reader&& other) noexcept
  : data_path_(std::move(other.data_path_)),
    max_frame_size_(other.max_frame_size_),
    offsets_(std::move(other.offsets_)),
    fd_(std::exchange(other.fd_, -1)) {}

shuffle_file_reader::~shuffle_file_reader() {
  if (fd_ >= 0)
    ::close(fd_);
}

void shuffle_file_reader::read_at(char* dst, size_t n, uint64_t offset) const {
  while (n > 0) {
    ssize_t k = ::pread(fd_, dst, n, static_cast<off_t>(offset));
    if (k < 0) {
      if (errno == EINTR)
        continue;
      throw_errno("read", data_path_);
    }
    if (k == 0)
      throw corruption_error(data_path_, offset, "unexpected end of file");
    dst += k;
    n -= static_cast<size_t>(k);
    offset += static_cast<uint64_t>(k);
  }
}

void shuffle_file_reader::read_partition_bytes(size_t p, std::string& out) const {
  uint64_t begin = partition_offset(p);
  out.resize(partition_size(p));
  read_at(out.data(), out.size(), begin);
}

partition_cursor shuffle_file_reader::open_partition(size_t p) const {
  if (p >= num_partitions())
    throw std::out_of_range("partition " + std::to_string(p) + " out of range (" +
                            std::to_string(num_partitions()) + " partitions) in " + data_path_);
  return partition_cursor(*this, offsets_[p], offsets_[p + 1]);
}

partition_cursor::partition_cursor(const shuffle_file_reader& file, uint64_t begin, uint64_t end)
  : file_(&file),
    decoder_(file.data_path(), file.max_frame_size()),
    file_pos_(begin),
    end_(end),
    buf_start_(begin) {}

bool partition_cursor::fill(size_t need) {
  if (len_ - pos_ >= need)
    return true;
  // Move the unread tail to the front, grow if one frame is larger than the buffer, read more.
  size_t tail = len_ - pos_;
  if (cap_ < need || cap_ < read_chunk) {
    size_t next = need > read_chunk ? need : read_chunk;
    if (next > cap_) {
      std::unique_ptr<char[]> bigger(new char[next]);
      if (tail > 0)
        std::memcpy(bigger.get(), buf_.get() + pos_, tail);
      buf_ = std::move(bigger);
      cap_ = next;
    } else if (tail > 0) {
      std::memmove(buf_.get(), buf_.get() + pos_, tail);
    }
  } else if (tail > 0) {
    std::memmove(buf_.get(), buf_.get() + pos_, tail);
  }
  buf_start_ += pos_;
  pos_ = 0;
  len_ = tail;
  uint64_t left = end_ - file_pos_;
  size_t want = cap_ - len_;
  if (want > left)
    want = static_cast<size_t>(left);
  if (want > 0) {
    file_->read_at(buf_.get() + len_, want, file_pos_);
    file_pos_ += want;
    len_ += want;
  }
  return len_ >= need;
}

bool partition_cursor::next(std::string_view& raw) {
  if (pos_ == len_ && file_pos_ == end_)
    return false;
  uint64_t offset = buf_start_ + pos_;
  uint64_t avail_in_partition = end_ - offset;
  if (!fill(frame_header_size))
    decoder_.read_header(buf_.get() + pos_, len_ - pos_, offset); // throws "truncated header"
  frame_header h = decoder_.read_header(buf_.get() + pos_, len_ - pos_, offset);
  size_t total = frame_header_size + h.stored_length;
  if (total > avail_in_partition)
    throw corruption_error(file_->data_path(), offset,
                           "truncated frame (needs " + std::to_string(h.stored_length) +
                             " stored bytes, partition has " +
                             std::to_string(avail_in_partition - frame_header_size) + " left)");
  fill(total);
  size_t consumed = 0;
  raw = decoder_.decode(buf_.get() + pos_, len_ - pos_, offset, consumed);
  pos_ += consumed;
  return true;
}

} // namespace ember::shuffle
