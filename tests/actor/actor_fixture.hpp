// Shared pieces of the actor tests (tests/actor): a deterministic CAF system (test coordinator,
// virtual time) with every Ember message type registered, and `recorder` actors that stand in for
// the peers of the actor under test and keep every message they get, in order.
#pragma once

#include <memory>
#include <vector>

#include <caf/all.hpp>
#include <caf/test/dsl.hpp>

#include "protocol/messages.hpp"
#include "protocol/register_types.hpp"
#include "protocol/wire.hpp"

namespace ember::actor_test {

struct ember_test_config : caf::actor_system_config {
  ember_test_config() { register_types(*this); }
};

// A stand-in peer: answers nothing, records everything.
struct recorder {
  caf::actor handle;
  std::shared_ptr<std::vector<caf::message>> log;

  // The recorded messages holding exactly one wire<T>, in order of arrival.
  template <class T>
  std::vector<wire<T>> all() const {
    std::vector<wire<T>> out;
    for (auto& m : *log)
      if (m.match_elements<wire<T>>())
        out.push_back(m.get_as<wire<T>>(0));
    return out;
  }
  size_t size() const { return log->size(); }
};

// The log goes in as a spawn argument, not a capture: CAF 0.17.6 starts a function-based actor
// spawned without arguments through `*args_` on a null shared_ptr<tuple<>>
// (caf/detail/init_fun_factory.hpp), a reference bound to null that UBSan stops on.
inline recorder spawn_recorder(caf::actor_system& sys) {
  auto log = std::make_shared<std::vector<caf::message>>();
  auto handle = sys.spawn(
    [](caf::event_based_actor* self, std::shared_ptr<std::vector<caf::message>> log) -> caf::behavior {
      self->set_default_handler([log](caf::scheduled_actor*, caf::message_view& x) -> caf::result<caf::message> {
        log->push_back(x.move_content_to_message());
        return caf::message{};
      });
      return {[](caf::ok_atom) {}}; // never sent: a behavior keeps the actor alive
    },
    log);
  return {handle, log};
}

struct fixture : test_coordinator_fixture<ember_test_config> {
  // Every actor a test starts ends with it: a periodic timer would otherwise keep the base
  // fixture's final run() going forever, and a live actor would hold up the system's shutdown.
  ~fixture() override {
    for (auto& a : spawned_)
      caf::anon_send_exit(a, caf::exit_reason::kill);
    sched.run();
  }

  recorder stand_in() {
    auto r = spawn_recorder(sys);
    spawned_.push_back(r.handle);
    return r;
  }
  caf::actor started(caf::actor a) {
    spawned_.push_back(a);
    return a;
  }

  // Virtual time moves on in steps; after each step the actors handle what became due, so a
  // periodic timer re-armed by its handler fires at its own pace.
  void tick(caf::timespan step, int steps = 1) {
    for (int i = 0; i < steps; ++i) {
      advance_time(step);
      sched.run();
    }
  }

private:
  std::vector<caf::actor> spawned_;
};

} // namespace ember::actor_test
