// The TLS credentials derived from the shared secret: two nodes with the same secret trust each
// other's certificates, a node with another secret is not trusted, and OpenSSL's own command
// line tool (an independent verifier) agrees.
#include <doctest/doctest.h>

#include <cstdio>
#include <string>

#include "security/tls_identity.hpp"
#include "tests/support/files.hpp"
#include "tests/support/process.hpp"
#include "tests/support/temp_dir.hpp"

using namespace ember::security;

namespace {
const std::string secret = "0123456789abcdef-cluster-one";
}

TEST_CASE("nodes holding the same secret trust each other") {
  auto a = issue_identity(secret, "ember worker alice@a");
  auto b = issue_identity(secret, "ember master alice@b");
  CHECK(a.ca_pem == b.ca_pem);  // the same CA, built independently
  CHECK(a.cert_pem != b.cert_pem);
  CHECK(a.key_pem != b.key_pem);  // fresh node keys
  CHECK(verify_certificate(a.ca_pem, b.cert_pem) == "");
  CHECK(verify_certificate(b.ca_pem, a.cert_pem) == "");
}

TEST_CASE("a node with another secret is not trusted") {
  auto a = issue_identity(secret, "ember worker");
  auto other = issue_identity("0123456789abcdef-cluster-two", "ember intruder");
  CHECK(a.ca_pem != other.ca_pem);
  CHECK(verify_certificate(a.ca_pem, other.cert_pem) != "");
  CHECK(verify_certificate(other.ca_pem, a.cert_pem) != "");
}

TEST_CASE("openssl verify accepts the chain and rejects a foreign one") {
  ember_test::temp_dir dir{"ember-tls"};
  auto a = issue_identity(secret, "ember driver");
  auto other = issue_identity("another secret of 16+ bytes", "ember intruder");
  ember_test::write_file(dir.path / "ca.pem", a.ca_pem);
  ember_test::write_file(dir.path / "node.pem", a.cert_pem);
  ember_test::write_file(dir.path / "foreign.pem", other.cert_pem);
  auto ok = ember_test::run({"/usr/bin/openssl", "verify", "-CAfile", dir.file("ca.pem"), dir.file("node.pem")});
  CHECK(ok.exit_code == 0);
  CHECK(ok.out.find(": OK") != std::string::npos);
  auto bad = ember_test::run({"/usr/bin/openssl", "verify", "-CAfile", dir.file("ca.pem"), dir.file("foreign.pem")});
  CHECK(bad.exit_code != 0);
  auto subject = ember_test::run({"/usr/bin/openssl", "x509", "-noout", "-subject", "-in", dir.file("node.pem")});
  CHECK(subject.out.find("CN = ember driver") != std::string::npos);
}
