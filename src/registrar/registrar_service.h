// The registrar (RFC 8995 §5.3-§5.9) as a transport-free service: a
// function from (caller identity = the pledge's TLS client certificate,
// endpoint, media types, body) to (status, media type, body), as the MASA
// is. service/registrar_binding.h maps HTTPS onto it; tests drive it
// directly, with a MasaService behind the MasaClient interface.
#pragma once

#include <chrono>
#include <ctime>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/bytes.h"
#include "crypto/certificate_cache.h"
#include "crypto/handles.h"
#include "crypto/signer.h"
#include "registrar/audit_log_policy.h"
#include "registrar/domain_ca.h"
#include "registrar/est.h"
#include "registrar/masa_client.h"
#include "registrar/status_table.h"
#include "store/registrar_store.h"
#include "voucher/trust_policy.h"

namespace vouchsafe::registrar {

enum class Endpoint {
  request_voucher,  // POST /.well-known/brski/requestvoucher
  voucher_status,   // POST /.well-known/brski/voucher_status
  enroll_status,    // POST /.well-known/brski/enrollstatus
  cacerts,          // GET  /.well-known/est/cacerts
  csrattrs,         // GET  /.well-known/est/csrattrs
  simple_enroll,    // POST /.well-known/est/simpleenroll
  simple_reenroll,  // POST /.well-known/est/simplereenroll
};

// Who is calling: the TLS client certificate and the chain it sent.
struct Caller {
  Bytes certificate_der;
  std::vector<Bytes> chain_der;
};

struct RegistrarRequest {
  Endpoint endpoint = Endpoint::request_voucher;
  std::string content_type;
  std::string accept;
  Bytes body;
  Caller caller;
};

// Where the registrar sends a pledge's voucher-request (RFC 8995 §2.3.2:
// the IDevID's MASA URL extension names an authority).
struct MasaRouting {
  // Authorities ("masa.example.com:443") whose MASAs this registrar asks.
  std::vector<std::string> allowed_authorities;
  // When set, every voucher-request goes here ("https://127.0.0.1:8443"),
  // whatever the IDevID names: a MASA mirror, a test, the demo.
  std::string override_url;
};

struct RegistrarConfig {
  // The registrar's identity: it signs registrar voucher-requests and is
  // the TLS server certificate pledges see (RFC 8995 §5.2:
  // proximity-registrar-cert). chain: its certificate first, then up to
  // the domain CA, as the MASA wants it (RFC 8995 §5.5.2).
  std::shared_ptr<const crypto::Signer> signer;
  std::vector<crypto::CertificateRef> chain;
  // The TLS server certificate, when it is not chain.front().
  Bytes tls_certificate_der;

  std::shared_ptr<const DomainCa> domain_ca;
  LdevidProfile ldevid;
  crypto::KeyType ldevid_key_type = crypto::KeyType::p256;

  // IDevIDs accepted: those chaining to one of these (a manufacturer's
  // root or issuing CA).
  std::vector<crypto::X509Ptr> manufacturer_anchors;

  MasaRouting masa;
  AuditLogPolicy audit_log;

  std::size_t max_request_bytes = std::size_t{64} * 1024;
  // The clock; std::time(nullptr) when unset. Tests fix it.
  std::function<std::time_t()> now;
};

// Thread-safe: handle() may run on any number of threads at once.
class RegistrarService {
 public:
  // Throws std::invalid_argument for a configuration without a signer,
  // a chain or a domain CA (start-up failures).
  RegistrarService(RegistrarConfig config, store::RegistrarStore& store, MasaClient& masa);
  ~RegistrarService();
  RegistrarService(const RegistrarService&) = delete;
  RegistrarService& operator=(const RegistrarService&) = delete;

  RegistrarResponse handle(const RegistrarRequest& request);

  // The enrolling voucher (docs/enrolling-voucher.md), for a device that
  // need not be reachable: the owner's share of a co-generated key for the
  // IDevID given (first, with the CA certificates it came with; it must
  // chain to a manufacturer anchor), in a nonceless
  // registrar voucher-request to the device's MASA, which answers only a
  // known customer that is the device's recorded owner. The voucher comes
  // back as the MASA signed it, to travel to the device as a file; the
  // LDevID in it is recorded as issued.
  RegistrarOutcome<Bytes> enroll_offline(const std::vector<Bytes>& idevid_chain,
                                         voucher::Form form);

 private:
  struct State;
  std::unique_ptr<State> state_;
};

// RFC 8995 §5.8.2: base64 of the certificate's SubjectKeyIdentifier, else
// of the SHA-256 of its SubjectPublicKeyInfo (RFC 7469).
std::string domain_id_of(const crypto::DecodedCertificate& cert);

// The media type of a voucher form, and the form of a media type (both
// COSE names, SPEC.md §1).
std::string_view voucher_media_type(voucher::Form form);
std::optional<voucher::Form> voucher_form_of(std::string_view media_type);

}  // namespace vouchsafe::registrar
