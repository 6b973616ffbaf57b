// Test helpers.
#include "support/test_support.h"

#include <gtest/gtest.h>
#include <openssl/x509v3.h>

#include <array>
#include <cstdio>
#include <fstream>
#include <sstream>

#include "core/date_time.h"
#include "core/file.h"

namespace vouchsafe::testing {

std::string vector_path(const std::string& relative) {
  return std::string(VOUCHSAFE_VECTORS_DIR) + "/" + relative;
}

std::string first_line_of(const std::string& command) {
  std::array<char, 4096> line{};
  FILE* pipe = ::popen(command.c_str(), "r");
  if (pipe == nullptr) return "";
  std::string out;
  if (std::fgets(line.data(), line.size(), pipe) != nullptr) out = line.data();
  ::pclose(pipe);
  while (!out.empty() && (out.back() == '\n' || out.back() == '\r')) out.pop_back();
  return out;
}

std::string interop_dir() {
  return std::string(VOUCHSAFE_SOURCE_DIR) + "/tests/interop/";
}

Bytes read_vector(const std::string& relative) {
  auto data = read_file(vector_path(relative));
  if (!data) ADD_FAILURE() << data.error().message;
  return data ? *data : Bytes{};
}

namespace {
std::string strip(const Bytes& data, bool unfold) {
  std::string text(data.begin(), data.end());
  std::string out;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (unfold && c == '\\' && i + 1 < text.size() && text[i + 1] == '\n') {
      ++i;
      continue;
    }
    if (c == ' ' || c == '\n' || c == '\r' || c == '\t') continue;
    out += c;
  }
  return out;
}
}  // namespace

Bytes read_vector_base64(const std::string& relative) {
  auto decoded = base64_decode(strip(read_vector(relative), true));
  if (!decoded) ADD_FAILURE() << relative << ": " << decoded.error().message;
  return decoded ? *decoded : Bytes{};
}

Bytes read_vector_hex(const std::string& relative) {
  auto decoded = hex_decode(strip(read_vector(relative), true));
  if (!decoded) ADD_FAILURE() << relative << ": " << decoded.error().message;
  return decoded ? *decoded : Bytes{};
}

std::vector<crypto::X509Ptr> vector_certs(const std::string& relative) {
  auto certs = crypto::load_certificates(vector_path(relative));
  if (!certs) ADD_FAILURE() << certs.error().message;
  return certs ? std::move(certs).value() : std::vector<crypto::X509Ptr>{};
}

crypto::PkeyPtr vector_key(const std::string& relative) {
  auto key = crypto::load_private_key(vector_path(relative), std::nullopt);
  if (!key) ADD_FAILURE() << key.error().message;
  return key ? std::move(key).value() : nullptr;
}

std::time_t at(const std::string& iso) {
  auto dt = parse_date_time(iso);
  if (!dt) ADD_FAILURE() << dt.error().message;
  return dt ? static_cast<std::time_t>(dt->unix_seconds()) : 0;
}

crypto::X509Ptr make_certificate(EVP_PKEY* subject_key, const std::string& cn, EVP_PKEY* issuer_key,
                                 X509* issuer, bool is_ca, long days) {
  crypto::X509Ptr cert(X509_new());
  X509_set_version(cert.get(), 2);
  static long serial = 1000;
  ASN1_INTEGER_set(X509_get_serialNumber(cert.get()), ++serial);
  X509_gmtime_adj(X509_getm_notBefore(cert.get()), -3600);
  X509_gmtime_adj(X509_getm_notAfter(cert.get()), days * 86400);
  X509_NAME* name = X509_get_subject_name(cert.get());
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8,
                             reinterpret_cast<const unsigned char*>(cn.c_str()), -1, -1, 0);
  X509_set_issuer_name(cert.get(), issuer ? X509_get_subject_name(issuer) : name);
  X509_set_pubkey(cert.get(), subject_key);
  X509V3_CTX ctx;
  X509V3_set_ctx(&ctx, issuer ? issuer : cert.get(), cert.get(), nullptr, nullptr, 0);
  auto add = [&](int nid, const char* value) {
    X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value);
    X509_add_ext(cert.get(), ext, -1);
    X509_EXTENSION_free(ext);
  };
  add(NID_basic_constraints, is_ca ? "critical,CA:TRUE" : "critical,CA:FALSE");
  add(NID_key_usage, is_ca ? "critical,keyCertSign,cRLSign" : "critical,digitalSignature");
  add(NID_subject_key_identifier, "hash");
  add(NID_authority_key_identifier, "keyid:always");
  const EVP_MD* md = EVP_PKEY_is_a(issuer_key, "ED25519") ? nullptr : EVP_sha256();
  X509_sign(cert.get(), issuer_key, md);
  return cert;
}

TestPki make_test_pki(crypto::KeyType signer_type, const std::string& signer_cn) {
  TestPki pki;
  pki.root_key = crypto::generate_key(crypto::KeyType::p256);
  pki.root =
      make_certificate(pki.root_key.get(), "Test Root CA", pki.root_key.get(), nullptr, true);
  pki.signer_key = crypto::generate_key(signer_type);
  pki.signer =
      make_certificate(pki.signer_key.get(), signer_cn, pki.root_key.get(), pki.root.get(), false);
  return pki;
}

TestIdentity signing_identity(const TestPki& pki) {
  TestIdentity out;
  out.signer =
      std::move(crypto::SoftwareSigner::create(crypto::share(pki.signer_key.get()))).value();
  out.identity.signer = out.signer.get();
  out.identity.chain = {crypto::make_certificate_ref(crypto::share(pki.signer.get())),
                        crypto::make_certificate_ref(crypto::share(pki.root.get()))};
  return out;
}

std::string key_type_name(const ::testing::TestParamInfo<crypto::KeyType>& param) {
  switch (param.param) {
    case crypto::KeyType::p256:
      return "P256";
    case crypto::KeyType::p384:
      return "P384";
    case crypto::KeyType::p521:
      return "P521";
    case crypto::KeyType::ed25519:
      return "Ed25519";
  }
  return "unknown";
}

}  // namespace vouchsafe::testing
