// ui/http_server's port choice: a port another UI holds is skipped for the next one, never shared
// (httplib's default SO_REUSEPORT would let two servers bind it and split the connections).
#include <doctest/doctest.h>

#include "ui/http_server.hpp"

using namespace ember;

TEST_CASE("a second server on a taken port moves to the next one") {
  ui::http_settings s;
  s.host = "127.0.0.1";
  s.port = 0;
  s.javascript_dir.clear();
  ui::http_server first{s};
  first.start();
  REQUIRE(first.port() != 0);
  auto t = s;
  t.port = first.port();
  t.max_retries = 16;
  ui::http_server second{t};
  second.start();
  CHECK(second.port() != first.port());
  CHECK(second.port() > first.port());
}
