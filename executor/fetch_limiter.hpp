// Bounds the remote shuffle fetches of one executor process: its task threads together have at
// most ember.reducer.maxReqsInFlight requests and ember.reducer.maxSizeInFlight bytes outstanding
// (a reduce task fetches one block at a time; many tasks run at once). Used by the fetch client
// (actors/block_server.cpp) on task threads, which wait here. No CAF.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <mutex>

namespace ember::executor {

class fetch_limiter {
public:
  // max_requests 0 = unlimited; a block larger than max_bytes is fetched when nothing else is.
  fetch_limiter(std::size_t max_requests, std::uint64_t max_bytes);

  // Released on destruction: the fetch is over (its bytes handed to the task).
  class permit {
  public:
    permit() = default;
    permit(permit&& o) noexcept : owner_(o.owner_), bytes_(o.bytes_) { o.owner_ = nullptr; }
    permit& operator=(permit&&) = delete;
    permit(const permit&) = delete;
    ~permit() {
      if (owner_)
        owner_->release(bytes_);
    }

  private:
    friend class fetch_limiter;
    permit(fetch_limiter* owner, std::uint64_t bytes) : owner_(owner), bytes_(bytes) {}
    fetch_limiter* owner_ = nullptr;
    std::uint64_t bytes_ = 0;
  };

  // Waits until one more request of `bytes` fits.
  permit acquire(std::uint64_t bytes);

  std::size_t requests_in_flight() const;
  std::uint64_t bytes_in_flight() const;

private:
  void release(std::uint64_t bytes);
  bool fits(std::uint64_t bytes) const;

  const std::size_t max_requests_;
  const std::uint64_t max_bytes_;
  mutable std::mutex mtx_;
  std::condition_variable cv_;
  std::size_t requests_ = 0;
  std::uint64_t bytes_ = 0;
};

} // namespace ember::executor
