// The HTTP(S) server of every Ember UI (driver, master, worker, history server): cpp-httplib on
// a small thread pool of its own, never on an actor's thread. It says who may talk to it:
//  - with a secret (ember.authenticate), every request needs HTTP Basic credentials whose password
//    is the cluster secret; the user name is who the ACLs judge (docs/monitoring.md);
//  - `may_view(user)` then decides (ember.acls.enable: the owner, view and admin ACLs);
//  - with a certificate and key (ember.ssl.enabled) it speaks HTTPS only.
// Routes are prefixes, the longest match wins; handlers run on the server's threads.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "ui/rest_api.hpp"

namespace ember::ui {

struct http_settings {
  std::string what = "ember.ui";  // the key prefix errors name ("ember.master.ui")
  std::string host = "0.0.0.0";
  int port = 4040;      // 0: any free port
  int max_retries = 16; // ember.port.maxRetries: further ports tried when one is taken
  std::size_t threads = 16;
  int timeout_seconds = 5;
  std::string certificate, key;  // both set: HTTPS
  std::string ca_file;           // set with them: clients must present a certificate it signed
  std::string secret;            // set: HTTP Basic authentication against it
  std::function<bool(const std::string& user)> may_view;  // empty: everyone authenticated
  std::string javascript_dir = "/usr/share/javascript";   // served under /static/vendor/
};

struct http_request {
  std::string method;  // GET or POST
  std::string path;
  query_params query;
  std::string user;    // from the credentials; empty without authentication
};

class http_server {
public:
  using handler = std::function<http_reply(const http_request&)>;

  explicit http_server(http_settings settings);
  ~http_server();
  http_server(const http_server&) = delete;
  http_server& operator=(const http_server&) = delete;

  void get(std::string prefix, handler h);
  void post(std::string prefix, handler h);

  // Binds (the configured port, else the next free one within max_retries) and serves on a
  // thread of its own. Throws std::runtime_error naming the setting when it cannot.
  void start();
  void stop();
  uint16_t port() const { return port_; }
  // http(s)://<host>:<port>, with this machine's name when bound to every interface.
  std::string url() const;

private:
  struct impl;
  std::unique_ptr<impl> impl_;
  http_settings settings_;
  uint16_t port_ = 0;
  std::thread thread_;
};

// "user:password" from an Authorization header's "Basic <base64>"; nullopt when malformed.
std::optional<std::pair<std::string, std::string>> basic_credentials(std::string_view header);

}  // namespace ember::ui
