#include "ui/ui_settings.hpp"

#include "deploy/acls.hpp"
#include "security/secret.hpp"

namespace ember::ui {

retention retention_from(const config::config& c) {
  retention r;
  r.jobs = static_cast<std::size_t>(c.get(config::keys::ui_retained_jobs));
  r.stages = static_cast<std::size_t>(c.get(config::keys::ui_retained_stages));
  r.tasks = static_cast<std::size_t>(c.get(config::keys::ui_retained_tasks));
  return r;
}

http_settings settings_from(const config::config& c, std::string what, int port, const std::string& host,
                            const std::string& owner, std::vector<std::string>& warnings) {
  http_settings s;
  s.what = std::move(what);
  s.port = port;
  s.max_retries = static_cast<int>(c.get(config::keys::port_max_retries));
  s.threads = static_cast<std::size_t>(c.get(config::keys::ui_threads));
  s.timeout_seconds = static_cast<int>(std::max<int64_t>(1, c.get(config::keys::ui_timeout).count() / 1000));
  auto sec = security::resolve(c, warnings);
  s.host = host;
  switch (sec.mode) {
    case security::cluster_security::kind::none:
      if (s.host.empty())
        s.host = "0.0.0.0";
      break;
    case security::cluster_security::kind::shared_secret:
      // The browser sends the secret itself, and without certificates that is plain HTTP:
      // only this machine may listen unless the operator says otherwise.
      s.secret = sec.secret;
      if (s.host.empty())
        s.host = "127.0.0.1";
      else if (s.host != "127.0.0.1" && s.host != "localhost" && s.host != "::1")
        warnings.push_back(s.what + ".host " + s.host +
                           ": browsers send the cluster secret over plain HTTP (set ember.ssl.enabled for HTTPS)");
      break;
    case security::cluster_security::kind::certificates:
      s.certificate = sec.certificate;
      s.key = sec.key;
      s.ca_file = sec.ca_file;
      if (s.host.empty())
        s.host = "0.0.0.0";
      break;
  }
  auto acls = deploy::acls::from(c);
  if (acls.enabled())
    s.may_view = [acls, owner](const std::string& user) { return acls.can_view(user, owner); };
  return s;
}

}  // namespace ember::ui
