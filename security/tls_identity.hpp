// TLS credentials derived from the cluster's shared secret, so a cluster needs no PKI: every node
// derives the same CA key from the secret (HKDF-SHA256 -> Ed25519), builds the same self-signed CA
// certificate, and issues itself a fresh leaf certificate at start-up. Mutual TLS against that CA
// then admits exactly the holders of the secret. CAF-free (OpenSSL only).
#pragma once

#include <string>
#include <string_view>

namespace ember::security {

struct tls_identity {
  std::string ca_pem;     // the cluster CA certificate (identical on every node)
  std::string cert_pem;   // this node's leaf certificate, signed by the cluster CA
  std::string key_pem;    // this node's private key (PKCS#8)
};

// Issues a leaf certificate named `common_name` (e.g. "ember worker alice@host") under the CA
// derived from `secret`. Throws std::runtime_error with OpenSSL's reason on failure.
tls_identity issue_identity(std::string_view secret, std::string_view common_name);

// Whether `cert_pem` chains to `ca_pem` (X509_verify_cert); "" when it does, else OpenSSL's reason.
// For tests and for `ember` diagnostics.
std::string verify_certificate(const std::string& ca_pem, const std::string& cert_pem);

}  // namespace ember::security
