#include "deploy/acls.hpp"

namespace ember::deploy {

acls acls::from(const config::config& c) {
  acls a;
  a.enabled_ = c.get(config::keys::acls_enable);
  for (auto [key, into] : {std::pair{config::keys::admin_acls, &a.admins_}, std::pair{config::keys::modify_acls, &a.modify_},
                           std::pair{config::keys::ui_view_acls, &a.view_}})
    for (auto& u : config::split_list(c.get(key)))
      into->insert(u);
  return a;
}

bool acls::listed(const std::set<std::string, std::less<>>& users, std::string_view user) {
  return users.contains("*") || (!user.empty() && users.contains(user));
}

bool acls::can_view_all(std::string_view user) const {
  return !enabled_ || listed(admins_, user) || listed(view_, user);
}

bool acls::can_view(std::string_view user, std::string_view owner) const {
  return can_view_all(user) || (!user.empty() && user == owner);
}

bool acls::can_modify(std::string_view user, std::string_view owner) const {
  return !enabled_ || listed(admins_, user) || listed(modify_, user) || (!user.empty() && user == owner);
}

}  // namespace ember::deploy
