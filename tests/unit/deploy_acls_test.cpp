// Spark's ACL rules as the master applies them: owners, admins, view and modify lists, "*".
#include <doctest/doctest.h>

#include "config/config.hpp"
#include "deploy/acls.hpp"

using ember::deploy::acls;

namespace {
acls with(std::vector<std::string> conf) {
  ember::config::load_options o;
  o.use_environment = false;
  o.conf = std::move(conf);
  return acls::from(ember::config::load(o));
}
}  // namespace

TEST_CASE("disabled ACLs let everyone view and modify") {
  auto a = with({"ember.admin.acls=root"});
  CHECK_FALSE(a.enabled());
  CHECK(a.can_view("mallory", "alice"));
  CHECK(a.can_modify("mallory", "alice"));
}

TEST_CASE("owners, admins, and the view and modify lists") {
  auto a = with({"ember.acls.enable=true", "ember.admin.acls=root", "ember.modify.acls=ops,carol",
                 "ember.ui.view.acls=auditor"});
  CHECK(a.can_view("alice", "alice"));
  CHECK(a.can_modify("alice", "alice"));
  CHECK(a.can_view("root", "alice"));
  CHECK(a.can_modify("root", "alice"));
  CHECK(a.can_modify("carol", "alice"));
  CHECK_FALSE(a.can_view("carol", "alice"));  // modify does not imply view, as in Spark
  CHECK(a.can_view("auditor", "alice"));
  CHECK_FALSE(a.can_modify("auditor", "alice"));
  CHECK_FALSE(a.can_view("mallory", "alice"));
  CHECK_FALSE(a.can_modify("mallory", "alice"));
  CHECK_FALSE(a.can_view("", ""));  // an anonymous request owns nothing
  CHECK(a.can_view_all("root"));
  CHECK(a.can_view_all("auditor"));
  CHECK_FALSE(a.can_view_all("alice"));
}

TEST_CASE("a star lets everyone in") {
  auto a = with({"ember.acls.enable=true", "ember.ui.view.acls=*"});
  CHECK(a.can_view("anyone", "alice"));
  CHECK_FALSE(a.can_modify("anyone", "alice"));
}
