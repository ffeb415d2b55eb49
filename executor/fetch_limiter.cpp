#include "executor/fetch_limiter.hpp"

namespace ember::executor {

fetch_limiter::fetch_limiter(std::size_t max_requests, std::uint64_t max_bytes)
  : max_requests_(max_requests), max_bytes_(max_bytes) {}

bool fetch_limiter::fits(std::uint64_t bytes) const {
  if (requests_ == 0)
    return true;  // alone, any block goes (else one larger than max_bytes would never be fetched)
  if (max_requests_ != 0 && requests_ >= max_requests_)
    return false;
  return bytes_ + bytes <= max_bytes_;
}

fetch_limiter::permit fetch_limiter::acquire(std::uint64_t bytes) {
  std::unique_lock lock{mtx_};
  cv_.wait(lock, [&] { return fits(bytes); });
  ++requests_;
  bytes_ += bytes;
  return permit{this, bytes};
}

void fetch_limiter::release(std::uint64_t bytes) {
  {
    std::lock_guard lock{mtx_};
    --requests_;
    bytes_ -= bytes;
  }
  cv_.notify_all();
}

std::size_t fetch_limiter::requests_in_flight() const {
  std::lock_guard lock{mtx_};
  return requests_;
}

std::uint64_t fetch_limiter::bytes_in_flight() const {
  std::lock_guard lock{mtx_};
  return bytes_;
}

} // namespace ember::executor
