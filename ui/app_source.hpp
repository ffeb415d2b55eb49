// Where the UI's REST API and pages find applications: the driver has one, live (fed by its
// listener bus); the history server has those of an event-log directory. Each store is guarded
// by its source: a query runs under the lock of the one store it reads.
#pragma once

#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "ui/app_store.hpp"

namespace ember::ui {

class app_source {
public:
  virtual ~app_source() = default;
  // Runs `fn` with every known application's store, newest first, each under its lock.
  virtual void for_each(const std::function<void(const app_store&)>& fn) = 0;
  // Runs `fn` with the store of application `id` under its lock; false if there is none.
  virtual bool with(const std::string& id, const std::function<void(const app_store&)>& fn) = 0;
};

// One application whose store is fed from elsewhere (the driver's ui_listener actor).
class live_app : public app_source {
public:
  explicit live_app(retention limits) : store_(limits) {}

  template <class F>
  void update(F&& f) {
    std::lock_guard guard{mutex_};
    f(store_);
  }

  void for_each(const std::function<void(const app_store&)>& fn) override {
    std::lock_guard guard{mutex_};
    if (store_.started())
      fn(store_);
  }

  bool with(const std::string& id, const std::function<void(const app_store&)>& fn) override {
    std::lock_guard guard{mutex_};
    if (!store_.started() || store_.app_id() != id)
      return false;
    fn(store_);
    return true;
  }

private:
  std::mutex mutex_;
  app_store store_;
};

}  // namespace ember::ui
