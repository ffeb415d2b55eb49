// What every process of a cluster (driver, executor, master, worker, the `ember` clients) sets on
// its actor system before talking over the network: our message types, CAF's middleman, a
// connection heartbeat so a hung peer ends in a down message (CAF switches it off by default),
// and, when the cluster is secured (ember.authenticate or ember.ssl.enabled), mutual TLS through
// CAF's openssl module. Every connection is made through the functions below, so no connection
// of a secured process can be plain TCP.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include <caf/actor.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/expected.hpp>
#include <caf/timespan.hpp>
#include <caf/io/middleman_actor.hpp>

#include "config/config.hpp"

namespace ember::actors {

// Heartbeat every min(ember.executor.heartbeatInterval, ember.network.timeout / 4, 500 ms); a
// connection silent for ember.network.timeout is closed. CAF's own logger off. Secured: loads
// the openssl module with this node's credentials (derived from the shared secret, or the
// ember.ssl.* files); `role` names the node in its certificate ("worker", "driver", ...).
// Throws config::config_error when the secret or the certificates cannot be had.
void configure_remoting(caf::actor_system_config& cfg, const config::config& c, std::string_view role);

// Whether this actor system talks TLS (configure_remoting found the cluster secured).
bool secured(caf::actor_system& sys);

// The middleman actor to send connect/publish requests to: the openssl one when secured.
caf::io::middleman_actor middleman_handle(caf::actor_system& sys);

// Connects to the actor published at host:port (blocking: never call it from an actor's handler).
caf::expected<caf::actor> remote_actor(caf::actor_system& sys, const std::string& host, std::uint16_t port);

// The same, giving up after `timeout` with sec::request_timeout. CAF's own remote_actor waits
// without bound, and a TLS connect whose handshake stalls (seen under load between two executors
// connecting to each other) would hold a task thread forever.
caf::expected<caf::actor> remote_actor(caf::actor_system& sys, const std::string& host, std::uint16_t port,
                                       caf::timespan timeout);

// Publishes `whom` at `port` (0 = any) on `in` (nullptr = every address).
caf::expected<std::uint16_t> publish(caf::actor_system& sys, const caf::actor& whom, std::uint16_t port,
                                     const char* in, bool reuse_address);

// A master or worker listening beyond loopback without authentication says, once and loudly,
// that anyone reaching `host` (empty = every address) can run code on the cluster.
void warn_if_open(caf::actor_system& sys, std::string_view what, const std::string& host, std::uint16_t port);

// A connection failure explained for a person: CAF's reason, plus, for a refused or dropped
// handshake, what is most often behind it (a secured peer and a missing or different secret).
std::string explain_connect_error(caf::actor_system& sys, const caf::error& e);

}  // namespace ember::actors
