// spawn_binary_submitter (what `ember submit --deploy-mode cluster` talks to the master through)
// under the test coordinator: a RequestSubmitDriver goes to the master as sent and the master's
// answer comes back to the asker. Under CI's UBSan run it also guards how the actor is spawned:
// once without spawn arguments, which CAF 0.17.6 starts through a null reference (see
// spawn_recorder in actor_fixture.hpp).
#define CAF_SUITE binary_submitter
#include "tests/actor/actor_fixture.hpp"

#include "actors/binary_store.hpp"
#include "actors/conversions.hpp"

using namespace std::chrono_literals;
using namespace ember;
using namespace ember::actors;
using ember::actor_test::recorder;

namespace {

struct submitter_fixture : actor_test::fixture {
  recorder user = stand_in(); // `ember submit`
  // The master: answers with `driver_id` and the submitting user's name, so the reply names both.
  caf::actor master = started(sys.spawn(
    [](caf::event_based_actor*, std::string driver_id) -> caf::behavior {
      return {[driver_id](const wire<proto::RequestSubmitDriver>& r) {
        return make_wire<proto::SubmitDriverResponse>([&](proto::SubmitDriverResponse::Builder b) {
          b.setSuccess(true);
          b.setDriverId(driver_id + " for " + str(r.reader().getDescription().getUser()));
        });
      }};
    },
    std::string{"driver-7"}));
  caf::actor submitter = started(spawn_binary_submitter(sys, master, "/nonexistent/driver", "hash", 1 << 20, 10s));
};

} // namespace

CAF_TEST_FIXTURE_SCOPE(binary_submitter_tests, submitter_fixture)

CAF_TEST(a RequestSubmitDriver goes to the master and its answer back to the asker) {
  caf::send_as(user.handle, submitter,
               make_wire<proto::RequestSubmitDriver>([](proto::RequestSubmitDriver::Builder b) {
                 b.initDescription().setUser("alice");
               }));
  sched.run();
  auto answers = user.all<proto::SubmitDriverResponse>();
  CAF_REQUIRE_EQUAL(answers.size(), 1u);
  CAF_CHECK(answers[0].reader().getSuccess());
  CAF_CHECK_EQUAL(str(answers[0].reader().getDriverId()), "driver-7 for alice");
}

CAF_TEST_FIXTURE_SCOPE_END()
