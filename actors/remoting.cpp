#include "actors/remoting.hpp"

#include <unistd.h>

#include <arpa/inet.h>
#include <dlfcn.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <mutex>
#include <set>
#include <thread>

#include <caf/actor_system.hpp>
#include <caf/atom.hpp>
#include <caf/io/middleman.hpp>
#include <caf/openssl/manager.hpp>
#include <caf/openssl/publish.hpp>
#include <caf/openssl/remote_actor.hpp>
#include <caf/scoped_actor.hpp>

#include "config/log.hpp"
#include "protocol/register_types.hpp"
#include "protocol/wire.hpp"
#include "security/secret.hpp"
#include "security/tls_identity.hpp"

// -- a work-around for CAF 0.17's openssl module ---------------------------------------------
//
// OpenSSL reports the outcome of SSL_read/SSL_write/SSL_accept/SSL_connect through SSL_get_error,
// which reads the calling thread's error queue, and so requires that queue to be empty before
// each such call. CAF 0.17 never empties it (its logging, which would, is compiled out), and
// OpenSSL 3 queues an error whenever a peer closes a connection without a TLS close_notify, as
// every CAF peer does. The next "would block" on any other connection of that thread then reads
// as a fatal error: a master dropped its workers each time an `ember status` disconnected.
// These definitions take the calls CAF's module makes (the dynamic linker resolves them to the
// executable first), empty the queue, and call OpenSSL's own. A handshake that fails for a
// reason other than the peer going away is the place a rejected peer can be named: it is logged.

namespace ember::actors {

namespace {

template <class F>
F real_ssl_function(const char* name) {
  static_assert(sizeof(F) == sizeof(void*));
  void* f = ::dlsym(RTLD_NEXT, name);
  if (f == nullptr) {
    std::fprintf(stderr, "ember: OpenSSL's %s not found\n", name);
    std::abort();
  }
  F out;
  std::memcpy(&out, &f, sizeof out);
  return out;
}

void log_rejected_peer(SSL* ssl, int ret) {
  if (ret > 0 || SSL_get_error(ssl, ret) != SSL_ERROR_SSL)
    return;
  std::string peer = "an unknown address";
  sockaddr_storage addr{};
  socklen_t len = sizeof addr;
  char host[INET6_ADDRSTRLEN] = {};
  if (::getpeername(SSL_get_fd(ssl), reinterpret_cast<sockaddr*>(&addr), &len) == 0) {
    if (addr.ss_family == AF_INET) {
      auto* a = reinterpret_cast<sockaddr_in*>(&addr);
      ::inet_ntop(AF_INET, &a->sin_addr, host, sizeof host);
      peer = std::string{host} + ":" + std::to_string(ntohs(a->sin_port));
    } else if (addr.ss_family == AF_INET6) {
      auto* a = reinterpret_cast<sockaddr_in6*>(&addr);
      ::inet_ntop(AF_INET6, &a->sin6_addr, host, sizeof host);
      peer = std::string{"["} + host + "]:" + std::to_string(ntohs(a->sin6_port));
    }
  }
  const char* reason = ERR_reason_error_string(ERR_peek_last_error());
  log::get("security")->warn("rejected a connection from {}: TLS handshake failed ({}); a peer needs the "
                             "cluster's secret (ember.authenticate.secret.file)",
                             peer, reason != nullptr ? reason : "unknown reason");
}

}  // namespace

}  // namespace ember::actors

extern "C" {

int SSL_read(SSL* ssl, void* buf, int num) {
  static const auto real = ember::actors::real_ssl_function<int (*)(SSL*, void*, int)>("SSL_read");
  ERR_clear_error();
  return real(ssl, buf, num);
}

int SSL_write(SSL* ssl, const void* buf, int num) {
  static const auto real = ember::actors::real_ssl_function<int (*)(SSL*, const void*, int)>("SSL_write");
  ERR_clear_error();
  return real(ssl, buf, num);
}

int SSL_connect(SSL* ssl) {
  static const auto real = ember::actors::real_ssl_function<int (*)(SSL*)>("SSL_connect");
  ERR_clear_error();
  return real(ssl);
}

int SSL_accept(SSL* ssl) {
  static const auto real = ember::actors::real_ssl_function<int (*)(SSL*)>("SSL_accept");
  ERR_clear_error();
  int ret = real(ssl);
  ember::actors::log_rejected_peer(ssl, ret);
  return ret;
}

}  // extern "C"

namespace ember::actors {

namespace {

std::string host_name() {
  char buf[256] = {};
  ::gethostname(buf, sizeof buf - 1);
  return buf;
}

// CAF's openssl module reads the certificate, key and CA by path at every connection, so the
// memory files holding them live as long as the process.
std::deque<security::memory_file>& credential_files() {
  static std::deque<security::memory_file> files;
  return files;
}

}  // namespace

void configure_remoting(caf::actor_system_config& cfg, const config::config& c, std::string_view role) {
  register_types(cfg);
  cfg.load<caf::io::middleman>();
  auto timeout = c.get(config::keys::network_timeout);
  // Also at most 500 ms: a peer closes a connection silent for *its own* ember.network.timeout,
  // and an application may set a short one (2 s) that the master and workers, with their own
  // settings, know nothing about; their heartbeats must keep such a driver's connection open.
  auto heartbeat = std::min({c.get(config::keys::executor_heartbeat_interval), timeout / 4,
                             std::chrono::milliseconds{500}});
  cfg.set("middleman.heartbeat-interval", caf::timespan{std::chrono::duration_cast<caf::timespan>(heartbeat)});
  cfg.set("middleman.connection-timeout", caf::timespan{std::chrono::duration_cast<caf::timespan>(timeout)});
  cfg.set("logger.verbosity", caf::atom("quiet"));

  std::vector<std::string> warnings;
  auto security = security::resolve(c, warnings);
  for (const auto& w : warnings)
    log::get("security")->warn("{}", w);
  if (!security.enabled())
    return;
  cfg.load<caf::openssl::manager>();
  if (security.mode == security::cluster_security::kind::certificates) {
    cfg.openssl_certificate = security.certificate;
    cfg.openssl_key = security.key;
    cfg.openssl_cafile = security.ca_file;
    return;
  }
  static std::mutex mutex;  // one process may configure several systems (tests, the CLI)
  std::lock_guard lock{mutex};
  auto id = security::issue_identity(security.secret,
                                     "ember " + std::string{role} + " " + security::os_user() + "@" + host_name());
  auto& files = credential_files();
  files.emplace_back("ember-tls-ca", id.ca_pem);
  cfg.openssl_cafile = files.back().path();
  files.emplace_back("ember-tls-cert", id.cert_pem);
  cfg.openssl_certificate = files.back().path();
  files.emplace_back("ember-tls-key", id.key_pem);
  cfg.openssl_key = files.back().path();
  std::fill(id.key_pem.begin(), id.key_pem.end(), '\0');
}

bool secured(caf::actor_system& sys) { return sys.has_openssl_manager(); }

caf::io::middleman_actor middleman_handle(caf::actor_system& sys) {
  if (secured(sys))
    return sys.openssl_manager().actor_handle();
  return sys.middleman().actor_handle();
}

namespace {

// CAF 0.17's openssl module sometimes fails a TLS connect on a loaded machine: connection_timeout
// or disconnect_during_handshake within a second or two, where a plain TCP connect succeeds. Such
// a connect is tried twice more after a short pause. A peer that rejects our certificate fails
// the same way three times, ~0.4 s later than it would.
bool transient_tls_failure(caf::actor_system& sys, const caf::error& err) {
  return secured(sys) && (err == caf::sec::connection_timeout || err == caf::sec::disconnect_during_handshake);
}

// One connect through the middleman actor, bounded by `timeout`.
caf::expected<caf::actor> connect_once(caf::actor_system& sys, const std::string& host, std::uint16_t port,
                                       caf::timespan timeout) {
  caf::expected<caf::actor> result{caf::make_error(caf::sec::request_timeout)};
  caf::scoped_actor self{sys};
  self->request(middleman_handle(sys), timeout, caf::connect_atom::value, host, port)
      .receive(
          [&](const caf::node_id&, caf::strong_actor_ptr& ptr, const std::set<std::string>&) {
            if (ptr)
              result = caf::actor_cast<caf::actor>(std::move(ptr));
            else
              result = caf::make_error(caf::sec::no_actor_published_at_port, "no actor published at " + host + ":"
                                                                                 + std::to_string(port));
          },
          [&](caf::error& err) { result = std::move(err); });
  return result;
}

template <class Connect>
caf::expected<caf::actor> connect_with_retries(caf::actor_system& sys, Connect connect) {
  auto result = connect();
  for (auto pause : {std::chrono::milliseconds{100}, std::chrono::milliseconds{300}}) {
    if (result || !transient_tls_failure(sys, result.error()))
      break;
    std::this_thread::sleep_for(pause);
    result = connect();
  }
  return result;
}

}  // namespace

caf::expected<caf::actor> remote_actor(caf::actor_system& sys, const std::string& host, std::uint16_t port) {
  return connect_with_retries(sys, [&]() -> caf::expected<caf::actor> {
    if (secured(sys))
      return caf::openssl::remote_actor(sys, host, port);
    return sys.middleman().remote_actor(host, port);
  });
}

caf::expected<caf::actor> remote_actor(caf::actor_system& sys, const std::string& host, std::uint16_t port,
                                       caf::timespan timeout) {
  return connect_with_retries(sys, [&] { return connect_once(sys, host, port, timeout); });
}

caf::expected<std::uint16_t> publish(caf::actor_system& sys, const caf::actor& whom, std::uint16_t port,
                                     const char* in, bool reuse_address) {
  if (secured(sys))
    return caf::openssl::publish(whom, port, in, reuse_address);
  return sys.middleman().publish(whom, port, in, reuse_address);
}

void warn_if_open(caf::actor_system& sys, std::string_view what, const std::string& host, std::uint16_t port) {
  if (secured(sys))
    return;
  bool loopback = host == "localhost" || host == "::1" || host.starts_with("127.");
  if (loopback)
    return;
  log::get("security")->warn("{} listens on {}:{} WITHOUT AUTHENTICATION: anyone who can reach this port can run "
                             "code on every worker of the cluster. Set ember.authenticate=true and "
                             "ember.authenticate.secret.file (docs/security.md)",
                             what, host.empty() ? "0.0.0.0" : host, port);
}

std::string explain_connect_error(caf::actor_system& sys, const caf::error& e) {
  auto text = describe(e);
  if (e == caf::sec::disconnect_during_handshake || e == caf::sec::cannot_connect_to_node) {
    if (secured(sys))
      text += " (if the peer is up: does it hold the same ember.authenticate.secret.file?)";
    else
      text += " (if the peer is up: it may require authentication; set ember.authenticate=true and "
              "ember.authenticate.secret.file)";
  }
  return text;
}

}  // namespace ember::actors
