// GnuTLS configuration of the server's sessions and peer identity.
#include "net/detail/gnutls_context.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "crypto/keys.h"
#include "net/ticket_keys.h"

namespace vouchsafe::net::detail {

namespace {

Unexpected gnutls_fail(ErrorCode code, const std::string& what, int rc) {
  return fail(code, what + ": " + gnutls_strerror(rc));
}

// The TLS signature schemes a signer's one algorithm answers to: TLS 1.3
// names ECDSA schemes by curve and hash, TLS 1.2 by hash alone.
struct Schemes {
  gnutls_pk_algorithm_t key = GNUTLS_PK_UNKNOWN;
  gnutls_sign_algorithm_t tls13 = GNUTLS_SIGN_UNKNOWN;
  gnutls_sign_algorithm_t tls12 = GNUTLS_SIGN_UNKNOWN;
};

Schemes schemes_for(crypto::SignatureAlgorithm algorithm) {
  using A = crypto::SignatureAlgorithm;
  switch (algorithm) {
    case A::es256:
      return {GNUTLS_PK_ECDSA, GNUTLS_SIGN_ECDSA_SECP256R1_SHA256, GNUTLS_SIGN_ECDSA_SHA256};
    case A::es384:
      return {GNUTLS_PK_ECDSA, GNUTLS_SIGN_ECDSA_SECP384R1_SHA384, GNUTLS_SIGN_ECDSA_SHA384};
    case A::es512:
      return {GNUTLS_PK_ECDSA, GNUTLS_SIGN_ECDSA_SECP521R1_SHA512, GNUTLS_SIGN_ECDSA_SHA512};
    case A::ed25519:
      return {GNUTLS_PK_EDDSA_ED25519, GNUTLS_SIGN_EDDSA_ED25519, GNUTLS_SIGN_EDDSA_ED25519};
  }
  return {};
}

// The certificate chain as GnuTLS's parsed form; the credentials take the
// entries over once gnutls_certificate_set_key succeeds.
struct CertificateChain {
  std::vector<gnutls_pcert_st> certs;
  bool owned = true;
  CertificateChain() = default;
  CertificateChain(const CertificateChain&) = delete;
  CertificateChain& operator=(const CertificateChain&) = delete;
  ~CertificateChain() {
    if (!owned) return;
    for (auto& c : certs) gnutls_pcert_deinit(&c);
  }
};

struct PrivateKey {
  gnutls_privkey_t key = nullptr;
  PrivateKey() = default;
  PrivateKey(const PrivateKey&) = delete;
  PrivateKey& operator=(const PrivateKey&) = delete;
  ~PrivateKey() {
    if (key != nullptr) gnutls_privkey_deinit(key);
  }
};

// The certificate file's chain, checked to hold the signer's public key:
// a mismatch is named here rather than as a failed handshake.
Status load_chain(const ServerOptions& options, const crypto::Signer& signer,
                  CertificateChain& out) {
  ASSIGN_OR_RETURN(auto certs, crypto::load_certificates(options.cert_file));
  if (certs.empty()) {
    return fail(ErrorCode::bad_key, options.cert_file + ": no certificate in the file");
  }
  const std::string key_name = options.key_file.empty() ? "the TLS key" : options.key_file;
  if (EVP_PKEY_eq(X509_get0_pubkey(certs.front().get()), signer.public_key()) != 1) {
    return fail(ErrorCode::bad_key, key_name + ": does not match " + options.cert_file);
  }
  out.certs.reserve(certs.size());
  for (const auto& cert : certs) {
    Bytes der = crypto::certificate_der(cert.get());
    const gnutls_datum_t datum{der.data(), static_cast<unsigned>(der.size())};
    gnutls_pcert_st parsed{};
    if (const int rc = gnutls_pcert_import_x509_raw(&parsed, &datum, GNUTLS_X509_FMT_DER, 0);
        rc != 0) {
      return gnutls_fail(ErrorCode::bad_key, options.cert_file, rc);
    }
    out.certs.push_back(parsed);
  }
  return ok();
}

Result<std::shared_ptr<const crypto::Signer>> signer_of(const ServerOptions& options) {
  if (options.key_signer) return options.key_signer;
  ASSIGN_OR_RETURN(auto key, crypto::load_private_key(options.key_file, options.key_passphrase));
  ASSIGN_OR_RETURN(auto signer, crypto::SoftwareSigner::create(std::move(key)));
  return std::shared_ptr<const crypto::Signer>(std::move(signer));
}

}  // namespace

Result<std::unique_ptr<GnuTlsServerContext>> GnuTlsServerContext::make(
    const ServerOptions& options) {
  if (!options.client_anchors.empty()) {
    return fail(ErrorCode::usage,
                "https server: client_anchors (chained client certificates) need the OpenSSL "
                "listener; set tls_library = openssl");
  }
  std::unique_ptr<GnuTlsServerContext> context(new GnuTlsServerContext);
  context->require_client_certificate_ = options.require_client_certificate;
  context->ticket_keys_ = options.ticket_keys;

  ASSIGN_OR_RETURN(context->signer_, signer_of(options));
  if (schemes_for(context->signer_->algorithm()).key == GNUTLS_PK_UNKNOWN) {
    return fail(ErrorCode::bad_key, "the TLS key's algorithm has no TLS signature scheme");
  }
  CertificateChain chain;
  TRY(load_chain(options, *context->signer_, chain));
  PrivateKey key;
  if (const int rc = gnutls_privkey_init(&key.key); rc != 0) {
    return gnutls_fail(ErrorCode::internal, "TLS key", rc);
  }
  // The signer outlives the credentials: both belong to the context.
  if (const int rc = gnutls_privkey_import_ext4(
          key.key, const_cast<crypto::Signer*>(context->signer_.get()),
          &GnuTlsServerContext::sign_data, &GnuTlsServerContext::sign_hash, nullptr, nullptr,
          &GnuTlsServerContext::describe, 0);
      rc != 0) {
    return gnutls_fail(ErrorCode::internal, "TLS key", rc);
  }
  if (const int rc = gnutls_certificate_allocate_credentials(&context->credentials_); rc != 0) {
    return gnutls_fail(ErrorCode::internal, "TLS credentials", rc);
  }
  // load_chain has matched key and certificate. GnuTLS's own check would
  // sign with the key (a token operation at every start) and, failing,
  // leave the chain and key half owned by the credentials.
  gnutls_certificate_set_flags(context->credentials_, GNUTLS_CERTIFICATE_SKIP_KEY_CERT_MATCH);
  // On success the credentials own the parsed chain and the key.
  if (const int rc =
          gnutls_certificate_set_key(context->credentials_, nullptr, 0, chain.certs.data(),
                                     static_cast<int>(chain.certs.size()), key.key);
      rc < 0) {
    return gnutls_fail(ErrorCode::bad_key, options.cert_file, rc);
  }
  chain.owned = false;
  key.key = nullptr;
  const char* error_at = nullptr;
  if (const int rc = gnutls_priority_init(&context->priorities_, k_gnutls_priorities, &error_at);
      rc != 0) {
    return gnutls_fail(
        ErrorCode::internal,
        std::string("TLS priorities at '") + (error_at != nullptr ? error_at : "") + "'", rc);
  }
  if (!context->ticket_keys_) {
    if (const int rc = gnutls_session_ticket_key_generate(&context->own_ticket_master_); rc != 0) {
      return gnutls_fail(ErrorCode::internal, "session-ticket key", rc);
    }
  }
  return context;
}

namespace {

// One signature for GnuTLS, in memory it allocated, or its error code.
int hand_over(const Result<Bytes>& signed_data, gnutls_datum_t* signature) {
  if (!signed_data) {
    // A token that went away, typically: the operator needs the reason,
    // which the failed handshake's GnuTLS error does not give.
    (void)std::fprintf(stderr, "vouchsafe: TLS key: %s\n", signed_data.error().message.c_str());
    return GNUTLS_E_PK_SIGN_FAILED;
  }
  signature->data = static_cast<unsigned char*>(gnutls_malloc(signed_data->size()));
  if (signature->data == nullptr) return GNUTLS_E_MEMORY_ERROR;
  std::memcpy(signature->data, signed_data->data(), signed_data->size());
  signature->size = static_cast<unsigned>(signed_data->size());
  return 0;
}

bool answers_to(const Schemes& schemes, gnutls_sign_algorithm_t algorithm) {
  return algorithm == schemes.tls13 || algorithm == schemes.tls12;
}

// One signature over `input` by `sign` (the message, or its digest), if the
// signer answers to the scheme GnuTLS asks for.
template <typename Sign>
int sign_for_gnutls(void* signer, gnutls_sign_algorithm_t algorithm, const gnutls_datum_t* input,
                    gnutls_datum_t* signature, Sign sign) {
  const auto& s = *static_cast<const crypto::Signer*>(signer);
  if (!answers_to(schemes_for(s.algorithm()), algorithm)) {
    return GNUTLS_E_UNSUPPORTED_SIGNATURE_ALGORITHM;
  }
  // ECDSA signatures come back DER-encoded, as TLS carries them.
  return hand_over((s.*sign)(ByteView(input->data, input->size)), signature);
}

}  // namespace

int GnuTlsServerContext::sign_data(gnutls_privkey_t /*key*/, gnutls_sign_algorithm_t algorithm,
                                   void* signer, unsigned /*flags*/, const gnutls_datum_t* data,
                                   gnutls_datum_t* signature) {
  return sign_for_gnutls(signer, algorithm, data, signature, &crypto::Signer::sign);
}

int GnuTlsServerContext::sign_hash(gnutls_privkey_t /*key*/, gnutls_sign_algorithm_t algorithm,
                                   void* signer, unsigned /*flags*/, const gnutls_datum_t* hash,
                                   gnutls_datum_t* signature) {
  return sign_for_gnutls(signer, algorithm, hash, signature, &crypto::Signer::sign_digest);
}

int GnuTlsServerContext::describe(gnutls_privkey_t /*key*/, unsigned flags, void* signer) {
  const auto& s = *static_cast<const crypto::Signer*>(signer);
  const Schemes schemes = schemes_for(s.algorithm());
  if ((flags & GNUTLS_PRIVKEY_INFO_PK_ALGO) != 0) return schemes.key;
  if ((flags & GNUTLS_PRIVKEY_INFO_SIGN_ALGO) != 0) return schemes.tls13;
  if ((flags & GNUTLS_PRIVKEY_INFO_HAVE_SIGN_ALGO) != 0) {
    const auto asked = static_cast<gnutls_sign_algorithm_t>(GNUTLS_FLAGS_TO_SIGN_ALGO(flags));
    return answers_to(schemes, asked) ? 1 : 0;
  }
  if ((flags & GNUTLS_PRIVKEY_INFO_PK_ALGO_BITS) != 0) return EVP_PKEY_get_bits(s.public_key());
  return GNUTLS_E_UNKNOWN_ALGORITHM;
}

GnuTlsServerContext::~GnuTlsServerContext() {
  if (own_ticket_master_.data != nullptr) {
    OPENSSL_cleanse(own_ticket_master_.data, own_ticket_master_.size);
    gnutls_free(own_ticket_master_.data);
  }
  if (priorities_ != nullptr) gnutls_priority_deinit(priorities_);
  if (credentials_ != nullptr) gnutls_certificate_free_credentials(credentials_);
}

int GnuTlsServerContext::set_up(gnutls_session_t session, bool& tickets) const {
  tickets = false;
  if (int rc = gnutls_priority_set(session, priorities_); rc != 0) return rc;
  if (int rc = gnutls_credentials_set(session, GNUTLS_CRD_CERTIFICATE, credentials_); rc != 0) {
    return rc;
  }
  // The server's timeouts bound the handshake, not GnuTLS's own clock.
  gnutls_handshake_set_timeout(session, 0);
  // Requested and required, checked only for the proof of possession
  // (CertificateVerify): no trust anchors are set, so GnuTLS chains it to
  // nothing, as the OpenSSL listener's verify callback does.
  gnutls_certificate_server_set_request(
      session, require_client_certificate_ ? GNUTLS_CERT_REQUIRE : GNUTLS_CERT_IGNORE);
  int rc = 0;
  if (!ticket_keys_) {
    rc = gnutls_session_ticket_enable_server(session, &own_ticket_master_);
  } else {
    TicketKeyring::GnuTlsMaster master;
    if (!ticket_keys_->gnutls_master(master)) return 0;  // no key yet: no ticket
    const gnutls_datum_t datum{master.data(), static_cast<unsigned>(master.size())};
    rc = gnutls_session_ticket_enable_server(session, &datum);  // copies it
    OPENSSL_cleanse(master.data(), master.size());
  }
  tickets = rc == 0;
  return rc;
}

bool session_resumed(gnutls_session_t session) {
  return gnutls_session_is_resumed(session) != 0;
}

PeerCertificate peer_certificate(gnutls_session_t session) {
  PeerCertificate peer;
  unsigned count = 0;
  const gnutls_datum_t* certs = gnutls_certificate_get_peers(session, &count);
  if (certs == nullptr || count == 0) return peer;
  peer.der.assign(certs[0].data, certs[0].data + certs[0].size);
  peer.fingerprint = hex_encode(crypto::sha256(peer.der));
  for (unsigned i = 1; i < count; ++i) {
    peer.chain.emplace_back(certs[i].data, certs[i].data + certs[i].size);
  }
  return peer;
}

}  // namespace vouchsafe::net::detail
