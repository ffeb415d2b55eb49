// Who may see and change what on a cluster (Spark's SecurityManager ACLs): with ember.acls.enable,
// a user may view an application or driver they own, or when named in ember.ui.view.acls or
// ember.admin.acls; and kill it when they own it or are named in ember.modify.acls or
// ember.admin.acls. "*" names everyone. The user is the OS user a request says it comes from,
// trusted because only holders of the cluster secret can send one (docs/security.md). Read by
// the master; CAF-free.
#pragma once

#include <set>
#include <string>
#include <string_view>

#include "config/config.hpp"

namespace ember::deploy {

class acls {
 public:
  acls() = default;  // disabled: everyone may do everything
  static acls from(const config::config& c);

  bool enabled() const { return enabled_; }
  bool can_view(std::string_view user, std::string_view owner) const;
  bool can_modify(std::string_view user, std::string_view owner) const;
  // Whether `user` may see everything (admins and view-listed users): the whole cluster state.
  bool can_view_all(std::string_view user) const;

 private:
  static bool listed(const std::set<std::string, std::less<>>& users, std::string_view user);
  bool enabled_ = false;
  std::set<std::string, std::less<>> admins_, modify_, view_;
};

}  // namespace ember::deploy
