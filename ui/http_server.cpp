#include "ui/http_server.hpp"

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <map>
#include <cstring>
#include <stdexcept>

#include <httplib.h>
#include <openssl/crypto.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "config/log.hpp"

namespace ember::ui {

namespace {

std::optional<std::string> base64_decode(std::string_view in) {
  auto value = [](char c) -> int {
    if (c >= 'A' && c <= 'Z')
      return c - 'A';
    if (c >= 'a' && c <= 'z')
      return c - 'a' + 26;
    if (c >= '0' && c <= '9')
      return c - '0' + 52;
    if (c == '+')
      return 62;
    if (c == '/')
      return 63;
    return -1;
  };
  while (!in.empty() && in.back() == '=')
    in.remove_suffix(1);
  std::string out;
  uint32_t acc = 0;
  int bits = 0;
  for (char c : in) {
    int v = value(c);
    if (v < 0)
      return std::nullopt;
    acc = (acc << 6) | static_cast<uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((acc >> bits) & 0xff));
    }
  }
  return out;
}

bool same_secret(const std::string& a, const std::string& b) {
  return a.size() == b.size() && CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

std::string host_name() {
  char buf[256] = {};
  if (::gethostname(buf, sizeof buf - 1) != 0)
    return "localhost";
  return buf;
}

// The common name of a verified client certificate: who a mutual-TLS request comes from.
std::string client_common_name(const httplib::Request& req) {
  if (req.ssl == nullptr)
    return {};
  X509* cert = SSL_get_peer_certificate(req.ssl);
  if (cert == nullptr)
    return {};
  char cn[256] = {};
  X509_NAME_get_text_by_NID(X509_get_subject_name(cert), NID_commonName, cn, sizeof cn);
  X509_free(cert);
  return cn;
}

void send(httplib::Response& res, const http_reply& r) {
  res.status = r.status;
  for (const auto& [k, v] : r.headers)
    res.set_header(k, v);
  res.set_content(r.body, r.content_type);
}

}  // namespace

std::optional<std::pair<std::string, std::string>> basic_credentials(std::string_view header) {
  constexpr std::string_view scheme = "Basic ";
  if (header.size() <= scheme.size() || header.substr(0, scheme.size()) != scheme)
    return std::nullopt;
  auto decoded = base64_decode(header.substr(scheme.size()));
  if (!decoded)
    return std::nullopt;
  auto colon = decoded->find(':');
  if (colon == std::string::npos)
    return std::nullopt;
  return std::pair{decoded->substr(0, colon), decoded->substr(colon + 1)};
}

struct http_server::impl {
  std::unique_ptr<httplib::Server> server;
  std::vector<std::pair<std::string, handler>> gets, posts;  // longest prefix first

  static void add(std::vector<std::pair<std::string, handler>>& routes, std::string prefix, handler h) {
    routes.emplace_back(std::move(prefix), std::move(h));
    std::stable_sort(routes.begin(), routes.end(),
                     [](const auto& a, const auto& b) { return a.first.size() > b.first.size(); });
  }

  static const handler* find(const std::vector<std::pair<std::string, handler>>& routes, const std::string& path) {
    for (const auto& [prefix, h] : routes)
      if (path.compare(0, prefix.size(), prefix) == 0)
        return &h;
    return nullptr;
  }
};

http_server::http_server(http_settings settings) : impl_(std::make_unique<impl>()), settings_(std::move(settings)) {}

http_server::~http_server() { stop(); }

void http_server::get(std::string prefix, handler h) { impl::add(impl_->gets, std::move(prefix), std::move(h)); }
void http_server::post(std::string prefix, handler h) { impl::add(impl_->posts, std::move(prefix), std::move(h)); }

std::string http_server::url() const {
  auto host = settings_.host;
  if (host.empty() || host == "0.0.0.0" || host == "::")
    host = host_name();
  return std::string(settings_.certificate.empty() ? "http" : "https") + "://" + host + ":" + std::to_string(port_);
}

void http_server::start() {
  const auto& s = settings_;
  bool tls = !s.certificate.empty();
  if (tls) {
    // Mutual TLS: browsers and tools present a certificate of the cluster's CA (docs/security.md).
    auto server = std::make_unique<httplib::SSLServer>(s.certificate.c_str(), s.key.c_str(),
                                                       s.ca_file.empty() ? nullptr : s.ca_file.c_str());
    if (!server->is_valid())
      throw std::runtime_error(s.what + ": cannot serve HTTPS with ember.ssl.certificate '" + s.certificate +
                               "' and ember.ssl.key: unreadable or not a matching pair");
    impl_->server = std::move(server);
  } else {
    impl_->server = std::make_unique<httplib::Server>();
  }
  auto& srv = *impl_->server;
  auto threads = std::max<std::size_t>(1, s.threads);
  srv.new_task_queue = [threads] { return new httplib::ThreadPool(threads); };
  srv.set_read_timeout(s.timeout_seconds, 0);
  srv.set_write_timeout(s.timeout_seconds, 0);
  srv.set_keep_alive_timeout(s.timeout_seconds);
  srv.set_payload_max_length(64 << 10);  // the UI takes no uploads; a kill request is tiny
  // httplib's default sets SO_REUSEPORT: a second UI of the same user (two drivers on 4040, two
  // masters on 8080) would then share the port, the kernel spreading connections over both,
  // instead of moving to the next one. SO_REUSEADDR alone still allows a quick restart.
  srv.set_socket_options([](socket_t sock) {
    int yes = 1;
    ::setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
  });

  // Who may talk to it, before any route (mount points included).
  srv.set_pre_routing_handler([this, tls](const httplib::Request& req, httplib::Response& res) {
    std::string user;
    if (tls)
      user = client_common_name(req);
    if (!settings_.secret.empty()) {
      auto creds = basic_credentials(req.get_header_value("Authorization"));
      if (!creds || !same_secret(creds->second, settings_.secret)) {
        res.set_header("WWW-Authenticate", "Basic realm=\"Ember\", charset=\"UTF-8\"");
        send(res, json_error(401, "authentication required: user name and the cluster secret (ember.authenticate)"));
        return httplib::Server::HandlerResponse::Handled;
      }
      user = creds->first;
    }
    if (settings_.may_view && !settings_.may_view(user)) {
      send(res, json_error(403, "user '" + user + "' may not view this (ember.ui.view.acls, ember.admin.acls)"));
      return httplib::Server::HandlerResponse::Handled;
    }
    return httplib::Server::HandlerResponse::Unhandled;
  });
  if (!s.javascript_dir.empty())
    srv.set_mount_point("/static/vendor", s.javascript_dir);

  auto dispatch = [this](const std::vector<std::pair<std::string, handler>>& routes, const httplib::Request& req,
                         httplib::Response& res) {
    http_request r;
    r.method = req.method;
    r.path = req.path;
    r.query.insert(req.params.begin(), req.params.end());
    if (!settings_.secret.empty())
      if (auto creds = basic_credentials(req.get_header_value("Authorization")))
        r.user = creds->first;
    if (r.user.empty())
      r.user = client_common_name(req);
    const handler* h = impl::find(routes, r.path);
    if (h == nullptr) {
      send(res, json_error(404, "no page at " + r.path));
      return;
    }
    try {
      send(res, (*h)(r));
    } catch (const std::exception& e) {
      log::get("ui")->warn("{} {}: {}", r.method, r.path, e.what());
      send(res, json_error(500, e.what()));
    }
  };
  srv.Get(".*", [this, dispatch](const httplib::Request& req, httplib::Response& res) {
    dispatch(impl_->gets, req, res);
  });
  srv.Post(".*", [this, dispatch](const httplib::Request& req, httplib::Response& res) {
    dispatch(impl_->posts, req, res);
  });

  if (s.port == 0) {
    int p = srv.bind_to_any_port(s.host);
    if (p <= 0)
      throw std::runtime_error(s.what + ".host: cannot listen on " + s.host + ": " + std::strerror(errno));
    port_ = static_cast<uint16_t>(p);
  } else {
    bool bound = false;
    for (int i = 0; i <= s.max_retries && s.port + i <= 65535; ++i) {
      if (srv.bind_to_port(s.host, s.port + i)) {
        port_ = static_cast<uint16_t>(s.port + i);
        bound = true;
        break;
      }
    }
    if (!bound)
      throw std::runtime_error(s.what + ".port: cannot listen on " + s.host + " ports " + std::to_string(s.port) + "-" +
                               std::to_string(s.port + s.max_retries) +
                               " (all taken? see ember.port.maxRetries)");
  }
  auto listening = std::make_shared<std::atomic<bool>>(false);  // listen_after_bind returned
  thread_ = std::thread([this, listening] {
    impl_->server->listen_after_bind();
    *listening = true;
  });
  // httplib's stop() does nothing until the loop runs (is_running): a stop() right after start()
  // would leave the loop running and join it forever. Return only once it runs (or failed).
  while (!impl_->server->is_running() && !*listening)
    std::this_thread::sleep_for(std::chrono::milliseconds{1});
}

void http_server::stop() {
  if (impl_->server)
    impl_->server->stop();
  if (thread_.joinable())
    thread_.join();
}

}  // namespace ember::ui
