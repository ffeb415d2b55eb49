#include "security/tls_identity.hpp"

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <array>
#include <memory>
#include <stdexcept>

namespace ember::security {

namespace {

template <class T, void (*Free)(T*)>
struct deleter {
  void operator()(T* p) const { Free(p); }
};
using pkey_ptr = std::unique_ptr<EVP_PKEY, deleter<EVP_PKEY, EVP_PKEY_free>>;
using x509_ptr = std::unique_ptr<X509, deleter<X509, X509_free>>;
using bio_ptr = std::unique_ptr<BIO, deleter<BIO, BIO_free_all>>;
using store_ptr = std::unique_ptr<X509_STORE, deleter<X509_STORE, X509_STORE_free>>;
using store_ctx_ptr = std::unique_ptr<X509_STORE_CTX, deleter<X509_STORE_CTX, X509_STORE_CTX_free>>;
using kdf_ptr = std::unique_ptr<EVP_KDF, deleter<EVP_KDF, EVP_KDF_free>>;
using kdf_ctx_ptr = std::unique_ptr<EVP_KDF_CTX, deleter<EVP_KDF_CTX, EVP_KDF_CTX_free>>;

[[noreturn]] void fail(const std::string& what) {
  std::string reason;
  while (auto e = ERR_get_error()) {
    char buf[256];
    ERR_error_string_n(e, buf, sizeof buf);
    reason += reason.empty() ? "" : "; ";
    reason += buf;
  }
  throw std::runtime_error("TLS credentials: " + what + (reason.empty() ? "" : ": " + reason));
}

void check(int ok, const char* what) {
  if (ok != 1)
    fail(what);
}

// The CA's Ed25519 seed: HKDF-SHA256 over the secret. The salt and info pin this use of the
// secret, so the same secret used elsewhere yields unrelated keys.
std::array<unsigned char, 32> ca_seed(std::string_view secret) {
  kdf_ptr kdf{EVP_KDF_fetch(nullptr, "HKDF", nullptr)};
  if (!kdf)
    fail("HKDF unavailable");
  kdf_ctx_ptr ctx{EVP_KDF_CTX_new(kdf.get())};
  static const char salt[] = "ember cluster CA";
  static const char info[] = "ed25519 seed v1";
  char digest[] = "SHA256";
  OSSL_PARAM params[] = {
      OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, digest, 0),
      OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, const_cast<char*>(secret.data()), secret.size()),
      OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SALT, const_cast<char*>(salt), sizeof salt - 1),
      OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO, const_cast<char*>(info), sizeof info - 1),
      OSSL_PARAM_construct_end()};
  std::array<unsigned char, 32> seed{};
  check(EVP_KDF_derive(ctx.get(), seed.data(), seed.size(), params) > 0 ? 1 : 0, "HKDF");
  return seed;
}

void add_extension(X509* cert, X509* issuer, int nid, const char* value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
  X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value);
  if (ext == nullptr)
    fail(std::string{"extension "} + value);
  int ok = X509_add_ext(cert, ext, -1);
  X509_EXTENSION_free(ext);
  check(ok, "add extension");
}

void set_name(X509_NAME* name, std::string_view common_name) {
  check(X509_NAME_add_entry_by_txt(name, "O", MBSTRING_UTF8, reinterpret_cast<const unsigned char*>("Ember"), -1, -1, 0),
        "name O");
  check(X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8, reinterpret_cast<const unsigned char*>(common_name.data()),
                                   static_cast<int>(common_name.size()), -1, 0),
        "name CN");
}

// Identical on every node (fixed serial and dates, deterministic Ed25519 signature), so every
// node trusts exactly the certificates this key signs.
x509_ptr make_ca(EVP_PKEY* ca_key) {
  x509_ptr ca{X509_new()};
  check(X509_set_version(ca.get(), 2), "version");
  check(ASN1_INTEGER_set(X509_get_serialNumber(ca.get()), 1), "serial");
  check(ASN1_TIME_set_string_X509(X509_getm_notBefore(ca.get()), "20200101000000Z"), "notBefore");
  check(ASN1_TIME_set_string_X509(X509_getm_notAfter(ca.get()), "99991231235959Z"), "notAfter");
  set_name(X509_get_subject_name(ca.get()), "Ember cluster CA");
  check(X509_set_issuer_name(ca.get(), X509_get_subject_name(ca.get())), "issuer");
  check(X509_set_pubkey(ca.get(), ca_key), "CA public key");
  add_extension(ca.get(), ca.get(), NID_basic_constraints, "critical,CA:TRUE,pathlen:0");
  add_extension(ca.get(), ca.get(), NID_key_usage, "critical,keyCertSign,cRLSign");
  add_extension(ca.get(), ca.get(), NID_subject_key_identifier, "hash");
  if (X509_sign(ca.get(), ca_key, nullptr) <= 0)  // Ed25519 signs without a separate digest
    fail("sign CA");
  return ca;
}

std::string pem_of(X509* cert) {
  bio_ptr bio{BIO_new(BIO_s_mem())};
  check(PEM_write_bio_X509(bio.get(), cert), "PEM certificate");
  char* data = nullptr;
  long n = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<std::size_t>(n));
}

x509_ptr cert_of(const std::string& pem) {
  bio_ptr bio{BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()))};
  x509_ptr cert{PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr)};
  if (!cert)
    fail("not a PEM certificate");
  return cert;
}

}  // namespace

tls_identity issue_identity(std::string_view secret, std::string_view common_name) {
  auto seed = ca_seed(secret);
  pkey_ptr ca_key{EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, nullptr, seed.data(), seed.size())};
  OPENSSL_cleanse(seed.data(), seed.size());
  if (!ca_key)
    fail("CA key");
  auto ca = make_ca(ca_key.get());

  pkey_ptr key{EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519")};
  if (!key)
    fail("node key");
  x509_ptr cert{X509_new()};
  check(X509_set_version(cert.get(), 2), "version");
  std::array<unsigned char, 16> serial{};
  check(RAND_bytes(serial.data(), static_cast<int>(serial.size())), "serial");
  serial[0] &= 0x7f;  // a positive INTEGER
  BIGNUM* bn = BN_bin2bn(serial.data(), static_cast<int>(serial.size()), nullptr);
  if (bn == nullptr || BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(cert.get())) == nullptr)
    fail("serial");
  BN_free(bn);
  // Valid from a day ago (clocks of a cluster disagree a little) for as long as a node may run.
  if (X509_gmtime_adj(X509_getm_notBefore(cert.get()), -86400) == nullptr
      || X509_gmtime_adj(X509_getm_notAfter(cert.get()), 100L * 365 * 86400) == nullptr)
    fail("validity");
  set_name(X509_get_subject_name(cert.get()), common_name);
  check(X509_set_issuer_name(cert.get(), X509_get_subject_name(ca.get())), "issuer");
  check(X509_set_pubkey(cert.get(), key.get()), "public key");
  add_extension(cert.get(), ca.get(), NID_basic_constraints, "critical,CA:FALSE");
  add_extension(cert.get(), ca.get(), NID_key_usage, "critical,digitalSignature");
  add_extension(cert.get(), ca.get(), NID_ext_key_usage, "serverAuth,clientAuth");
  add_extension(cert.get(), ca.get(), NID_authority_key_identifier, "keyid:always");
  if (X509_sign(cert.get(), ca_key.get(), nullptr) <= 0)
    fail("sign node certificate");

  tls_identity id;
  id.ca_pem = pem_of(ca.get());
  id.cert_pem = pem_of(cert.get());
  bio_ptr bio{BIO_new(BIO_s_mem())};
  check(PEM_write_bio_PrivateKey(bio.get(), key.get(), nullptr, nullptr, 0, nullptr, nullptr), "PEM key");
  char* data = nullptr;
  long n = BIO_get_mem_data(bio.get(), &data);
  id.key_pem.assign(data, static_cast<std::size_t>(n));
  return id;
}

std::string verify_certificate(const std::string& ca_pem, const std::string& cert_pem) {
  auto ca = cert_of(ca_pem);
  auto cert = cert_of(cert_pem);
  store_ptr store{X509_STORE_new()};
  check(X509_STORE_add_cert(store.get(), ca.get()), "trust CA");
  store_ctx_ptr ctx{X509_STORE_CTX_new()};
  check(X509_STORE_CTX_init(ctx.get(), store.get(), cert.get(), nullptr), "verify context");
  if (X509_verify_cert(ctx.get()) == 1)
    return {};
  return X509_verify_cert_error_string(X509_STORE_CTX_get_error(ctx.get()));
}

}  // namespace ember::security
