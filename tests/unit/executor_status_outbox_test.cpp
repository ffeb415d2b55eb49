// The status outbox: nothing leaves before the sink is set, updates not held go out at once
// with everything before them, short tasks' updates are held up to max_held or until a flush,
// updates posted while a batch is being sent follow in the next batch, and with acknowledgements
// tracked the unacknowledged ones come back from stale() after a whole tick.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "executor/status_outbox.hpp"

using outbox = ember::executor::status_outbox<std::string>;
using batches = std::vector<std::vector<std::string>>;

namespace {

outbox::sink record(batches& out) {
  return [&out](const std::vector<std::string>& b) { out.push_back(b); };
}

} // namespace

TEST_CASE("updates wait for the sink, then leave as one batch in posting order") {
  outbox box;
  batches sent;
  box.post({1, 0}, "a", false);
  box.post({2, 0}, "b", false);
  CHECK(sent.empty());
  box.set_sink(record(sent));
  CHECK(sent == batches{{"a", "b"}});
}

TEST_CASE("an update not held goes out at once, with the held ones before it") {
  outbox box;
  batches sent;
  box.set_sink(record(sent));
  box.post({1, 0}, "a", false);
  CHECK(sent == batches{{"a"}});
  box.post({2, 0}, "b", true);
  box.post({3, 0}, "c", true);
  CHECK(sent.size() == 1); // held
  box.post({4, 0}, "d", false);
  CHECK(sent == batches{{"a"}, {"b", "c", "d"}});
}

TEST_CASE("held updates go out on flush, and at max_held") {
  outbox box;
  batches sent;
  box.set_sink(record(sent));
  box.post({1, 0}, "a", true);
  box.flush();
  CHECK(sent == batches{{"a"}});
  box.flush(); // nothing held: nothing sent
  CHECK(sent.size() == 1);
  for (size_t i = 0; i < outbox::max_held - 1; ++i)
    box.post({10 + i, 0}, std::to_string(i), true);
  CHECK(sent.size() == 1);
  box.post({99, 0}, "last", true); // the max_held-th held update sends them all
  REQUIRE(sent.size() == 2);
  CHECK(sent[1].size() == outbox::max_held);
  CHECK(sent[1].front() == "0");
  CHECK(sent[1].back() == "last");
}

TEST_CASE("updates posted while a batch is being sent follow in the next batch of the same sender") {
  outbox box;
  batches sent;
  bool posted = false;
  box.set_sink([&](const std::vector<std::string>& b) {
    sent.push_back(b);
    if (!posted) { // another task thread finishes meanwhile: it only appends
      posted = true;
      box.post({2, 0}, "b", false);
      box.post({3, 0}, "c", false);
      CHECK(sent.size() == 1);
    }
  });
  box.post({1, 0}, "a", false);
  CHECK(sent == batches{{"a"}, {"b", "c"}});
}

TEST_CASE("a stage is known short only after a task of it ran below the threshold, until forgotten") {
  outbox box;
  CHECK_FALSE(box.known_short({1, 0}, 1000)); // no task of it ran here yet
  box.ran({1, 0}, 999);
  CHECK(box.known_short({1, 0}, 1000));
  CHECK_FALSE(box.known_short({1, 1}, 1000)); // another attempt of the stage
  box.ran({1, 0}, 1000);                      // the last task counts, and the bound is strict
  CHECK_FALSE(box.known_short({1, 0}, 1000));
  box.ran({1, 0}, 5);
  box.forget({1, 0});
  CHECK_FALSE(box.known_short({1, 0}, 1000));
}

TEST_CASE("with acknowledgements tracked, unacknowledged updates are stale after a whole tick") {
  outbox box;
  batches sent;
  box.set_sink(record(sent), true);
  box.post({1, 0}, "a", false);
  box.post({2, 1}, "b", false);
  CHECK(sent == batches{{"a"}, {"b"}});
  CHECK(box.stale().empty()); // sent within this tick
  box.acknowledged({{1, 0}});
  CHECK(box.stale() == std::vector<std::string>{"b"});
  CHECK(box.stale() == std::vector<std::string>{"b"}); // until acknowledged
  box.acknowledged({{2, 1}, {7, 0}});                   // unknown keys are ignored
  CHECK(box.stale().empty());
}

TEST_CASE("without acknowledgement tracking nothing is ever stale") {
  outbox box;
  batches sent;
  box.set_sink(record(sent));
  box.post({1, 0}, "a", false);
  box.stale();
  CHECK(box.stale().empty());
}
