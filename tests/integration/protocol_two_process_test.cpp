// Two real OS processes, each with its own CAF actor_system and middleman, exchange one wire<T> of
// every registered message type in both directions over loopback. Then a hostile node sends forged
// (malformed) frames under the real type names: the receiver drops them and keeps answering.
//
//   parent process                                   child process (this binary, re-executed)
//   parent_echo (published, port P)  <----------->   child_echo (published, port C)
//   hostile actor_system (forged types) ---------->  child_echo
#include <doctest/doctest.h>

#include <chrono>
#include <csignal>
#include <cstdlib>
#include <memory>
#include <string>
#include <thread>

#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/atom.hpp>
#include <caf/detail/type_list.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/io/middleman.hpp>
#include <caf/scoped_actor.hpp>

#include "protocol/messages.hpp"
#include "protocol/register_types.hpp"
#include "tests/support/sample_messages.hpp"
#include "protocol/wire.hpp"
#include "tests/support/process.hpp"

using namespace ember;
using namespace std::chrono_literals;

using hello_atom = caf::atom_constant<caf::atom("hello")>;
using stats_atom = caf::atom_constant<caf::atom("stats")>;
using done_atom = caf::atom_constant<caf::atom("done")>;

namespace {

constexpr const char* child_port_env = "EMBER_PROTOCOL_TEST_PARENT_PORT";
constexpr auto reply_timeout = std::chrono::seconds(20);

#define EMBER_AS_TYPE(name) , proto::name
using all_messages =
  caf::detail::tl_tail<caf::detail::type_list<void EMBER_WIRE_MESSAGES(EMBER_AS_TYPE)>>::type;
#undef EMBER_AS_TYPE

template <class F>
void for_each_message(F&& f) {
#define EMBER_VISIT(name) f.template operator()<proto::name>(#name);
  EMBER_WIRE_MESSAGES(EMBER_VISIT)
#undef EMBER_VISIT
}

// The seed each side uses for its samples, so a reply is checked against what was sent.
constexpr uint64_t parent_seed = 3;
constexpr uint64_t child_seed = 8;

void configure(caf::actor_system_config& cfg) {
  register_types(cfg);
  cfg.load<caf::io::middleman>();
  cfg.set("middleman.heartbeat-interval", caf::timespan{200ms});
  cfg.set("middleman.connection-timeout", caf::timespan{10s});
  cfg.set("logger.verbosity", caf::atom("quiet"));
}

// What an echo actor has seen: valid wire<T> messages, and messages that matched nothing (CAF
// 0.17.6 hands a message whose payload failed to deserialize to the receiver as an EMPTY message).
struct echo_counts {
  int received = 0;
  int unexpected_empty = 0;
  int unexpected_other = 0;
};

// Echoes every wire<T> back to the sender and counts; (stats) answers the counts; (hello, ...) and
// (done) are forwarded to `owner` (the test's scoped actor).
template <class... Ts>
caf::behavior echo(caf::event_based_actor* self, caf::actor owner, caf::detail::type_list<Ts...>) {
  auto counts = std::make_shared<echo_counts>();
  self->set_default_handler(
    [counts](caf::scheduled_actor*, caf::message_view& x) -> caf::result<caf::message> {
      if (x.content().empty())
        ++counts->unexpected_empty;
      else
        ++counts->unexpected_other;
      return caf::sec::unexpected_message;
    });
  return {
    [counts](const wire<Ts>& x) {
      ++counts->received;
      return x;
    }...,
    [counts](stats_atom) {
      return caf::make_message(counts->received, counts->unexpected_empty, counts->unexpected_other);
    },
    [owner](hello_atom, const caf::actor& peer, uint16_t port) {
      caf::anon_send(owner, hello_atom::value, peer, port);
    },
    [owner](done_atom) { caf::anon_send(owner, done_atom::value); },
  };
}

caf::actor spawn_echo(caf::actor_system& sys, const caf::actor& owner) {
  // `owner` as a spawn argument, not a capture: see spawn_recorder (tests/actor/actor_fixture.hpp).
  return sys.spawn([](caf::event_based_actor* self, caf::actor owner) { return echo(self, owner, all_messages{}); },
                   owner);
}

// Sends one sample of every message type to `peer` and checks each reply equals what was sent.
int exchange_all(caf::scoped_actor& self, const caf::actor& peer, uint64_t seed) {
  int ok = 0;
  for_each_message([&]<class T>(const char* name) {
    auto sent = sample_wire<T>(seed);
    self->request(peer, reply_timeout, sent)
      .receive(
        [&](const wire<T>& back) {
          if (text_of(back) == text_of(sent))
            ++ok;
          else
            FAIL_CHECK("reply differs for " << name);
        },
        [&](const caf::error& err) { FAIL_CHECK(name << ": " << self->system().render(err)); });
  });
  return ok;
}

echo_counts ask_counts(caf::scoped_actor& self, const caf::actor& peer) {
  echo_counts counts{-1, -1, -1};
  self->request(peer, reply_timeout, stats_atom::value)
    .receive([&](int received, int empty, int other) { counts = {received, empty, other}; },
             [&](const caf::error& err) { FAIL_CHECK(self->system().render(err)); });
  return counts;
}

int ask_count(caf::scoped_actor& self, const caf::actor& peer) {
  return ask_counts(self, peer).received;
}

constexpr int message_count = caf::detail::tl_size<all_messages>::value;

// A hostile node's stand-in for wire<T>: the same CAF encoding (one length-prefixed byte string)
// with arbitrary bytes inside. Registered under the real name "wire<T>" in the hostile system only.
template <class T>
struct forged {
  std::string frame;
};

template <class Inspector, class T>
typename Inspector::result_type inspect(Inspector& f, forged<T>& x) {
  return f(caf::meta::type_name("forged"), x.frame);
}

// The child process: connects to the parent, publishes its own echo, runs the child -> parent
// direction, then waits until the parent says done.
// The child role of this very binary, killed with the test if the test dies first.
ember_test::child start_child(uint16_t parent_port) {
  ember_test::spawn_options o;
  o.die_with_parent = true;
  o.own_group = false;
  o.env.emplace_back(child_port_env, std::to_string(parent_port));
  return ember_test::child{{"/proc/self/exe", "--test-case=protocol two-process: child role", "--no-skip", "--no-version"},
                          o};
}

} // namespace

TEST_CASE("protocol two-process: child role" * doctest::skip()) {
  const char* port_text = std::getenv(child_port_env);
  REQUIRE(port_text != nullptr);
  auto parent_port = static_cast<uint16_t>(std::stoi(port_text));
  caf::actor_system_config cfg;
  configure(cfg);
  caf::actor_system sys{cfg};
  caf::scoped_actor self{sys};
  auto parent = sys.middleman().remote_actor("127.0.0.1", parent_port);
  REQUIRE_MESSAGE(parent, sys.render(parent.error()));
  auto child_echo = spawn_echo(sys, caf::actor{self});
  auto port = sys.middleman().publish(child_echo, 0, "127.0.0.1", true);
  REQUIRE(port);
  self->send(*parent, hello_atom::value, child_echo, *port);
  CHECK(exchange_all(self, *parent, child_seed) == message_count);
  bool done = false;
  self->receive([&](done_atom) { done = true; },
                caf::after(std::chrono::seconds(120)) >> [] { FAIL_CHECK("parent never said done"); });
  CHECK(done);
  caf::anon_send_exit(child_echo, caf::exit_reason::user_shutdown);
}

TEST_CASE("protocol two-process: every message crosses both ways; malformed frames are dropped") {
  caf::actor_system_config cfg;
  configure(cfg);
  caf::actor_system sys{cfg};
  CHECK(caf::get_or(sys.config(), "middleman.heartbeat-interval", caf::timespan{0}) == caf::timespan{200ms});
  caf::scoped_actor self{sys};
  auto parent_echo = spawn_echo(sys, caf::actor{self});
  auto parent_port = sys.middleman().publish(parent_echo, 0, "127.0.0.1", true);
  REQUIRE(parent_port);
  REQUIRE(*parent_port != 0);

  auto child = start_child(*parent_port);

  caf::actor child_echo;
  uint16_t child_port = 0;
  self->receive(
    [&](hello_atom, const caf::actor& peer, uint16_t port) {
      child_echo = peer;
      child_port = port;
    },
    caf::after(std::chrono::seconds(30)) >> [] { FAIL("child never said hello"); });
  REQUIRE(child_echo);

  // Parent -> child: every type, checked on the way back.
  CHECK(exchange_all(self, child_echo, parent_seed) == message_count);
  CHECK(ask_count(self, child_echo) == message_count);

  {
    // A hostile node: forged frames under the real type names, sent over its own connection.
    caf::actor_system_config hostile_cfg;
    hostile_cfg.add_message_type<forged<proto::StatusUpdate>>("wire<StatusUpdate>");
    hostile_cfg.add_message_type<forged<proto::Heartbeat>>("wire<Heartbeat>");
    hostile_cfg.load<caf::io::middleman>();
    hostile_cfg.set("logger.verbosity", caf::atom("quiet"));
    caf::actor_system hostile{hostile_cfg};
    caf::scoped_actor attacker{hostile};
    auto target = hostile.middleman().remote_actor("127.0.0.1", child_port);
    REQUIRE_MESSAGE(target, hostile.render(target.error()));

    auto valid = sample_wire<proto::StatusUpdate>(1).encode();
    auto truncated = valid.substr(0, valid.size() / 2);
    auto wrong_type = sample_wire<proto::KillTask>(1).encode();
    auto huge = valid;
    huge[4] = huge[5] = huge[6] = '\xff';
    auto bad_enum = make_wire<proto::StatusUpdate>([](proto::StatusUpdate::Builder b) {
                      b.setExecutorId("1");
                      b.setState(static_cast<proto::TaskState>(42));
                    }).encode();
    std::string garbage(200, '\0');
    for (size_t i = 0; i < garbage.size(); ++i)
      garbage[i] = static_cast<char>(i * 37 + 11);
    auto bad_pointer = valid;
    for (size_t i = frame_header_bytes + 8; i < frame_header_bytes + 16; ++i)
      bad_pointer[i] = '\x7f';
    for (const auto& frame : {truncated, wrong_type, huge, bad_enum, garbage, bad_pointer, std::string{}})
      caf::anon_send(*target, forged<proto::StatusUpdate>{frame});
    caf::anon_send(*target, forged<proto::Heartbeat>{valid});  // a StatusUpdate labelled Heartbeat

    // Same connection, after the forged ones (FIFO): the receiver is alive, no forged frame reached
    // a handler as a wire<T>, and nothing but empty messages (CAF's rendering of a payload that
    // failed to deserialize) reached its default handler.
    auto counts = ask_counts(attacker, *target);
    CHECK(counts.received == message_count);
    CHECK(counts.unexpected_other == 0);
    CHECK(counts.unexpected_empty <= 8);
    MESSAGE("forged frames that reached the default handler as empty messages: " << counts.unexpected_empty);
    // The forging path itself works: correct bytes under the forged type are delivered and counted.
    caf::anon_send(*target, forged<proto::StatusUpdate>{valid});
    CHECK(ask_count(attacker, *target) == message_count + 1);
  }

  // The child still serves the parent's connection.
  CHECK(exchange_all(self, child_echo, parent_seed + 1) == message_count);
  CHECK(ask_count(self, child_echo) == 2 * message_count + 1);
  // The child -> parent direction ran in the child (its checks decide its exit status).
  self->send(child_echo, done_atom::value);
  auto status = child.wait_for(std::chrono::seconds(60));
  REQUIRE_MESSAGE(status, "child did not exit");
  CHECK(WIFEXITED(*status));
  CHECK(WEXITSTATUS(*status) == 0);
  CHECK(ask_count(self, parent_echo) == message_count);
  caf::anon_send_exit(parent_echo, caf::exit_reason::user_shutdown);
}
