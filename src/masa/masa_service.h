// The MASA (RFC 8995 §5.5–5.8) as a transport-free service: a function
// from (caller identity, endpoint, media types, body) to (status, media
// type, body). The HTTPS server is a thin adapter over MasaService::handle;
// tests drive it directly.
#pragma once

#include <chrono>
#include <ctime>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/bytes.h"
#include "crypto/certificate_cache.h"
#include "crypto/handles.h"
#include "crypto/signer.h"
#include "masa/key_set.h"
#include "masa/status_table.h"
#include "store/asset_store.h"
#include "voucher/model.h"

namespace vouchsafe::masa {

inline constexpr std::string_view k_request_voucher = "requestvoucher";
inline constexpr std::string_view k_request_audit_log = "requestauditlog";

// Who is calling: the TLS client certificate (required on every connection,
// not necessarily chained to anything; SPEC.md §6).
struct Caller {
  std::string fingerprint;  // hex SHA-256 of the client certificate's DER
  Bytes certificate_der;
  // Set by a transport that has itself validated the client certificate
  // against MasaConfig::customer_anchors. When false the service checks
  // certificate_der against those anchors on its own.
  bool authenticated = false;
};

struct MasaRequest {
  std::string endpoint;  // k_request_voucher or k_request_audit_log
  std::string content_type;
  std::string accept;
  Bytes body;
  Caller caller;
};

struct MasaConfig {
  // The voucher-signing identity: key and chain, signer certificate first.
  // Without `keys`, the only key (architecture 3.1).
  std::shared_ptr<const crypto::Signer> signer;
  std::vector<crypto::CertificateRef> signer_chain;
  // The key architecture and its keys; replaced whole on rollover. When
  // set, it decides which key signs each voucher and `signer` is only the
  // default key readiness checks.
  std::shared_ptr<KeyRing> keys;

  // Who may obtain vouchers: the device's own override, else its product's
  // policy, else this default.
  store::OwnershipPolicy default_ownership = store::OwnershipPolicy::open;
  std::map<std::string, store::OwnershipPolicy> product_ownership;

  // Which certificate of the registrar's chain the voucher pins (RFC 8995
  // §5.5.2: the MASA's policy picks from the end-entity up to the farthest
  // CA). The domain CA is the default: the pledge then trusts every
  // registrar of the domain and survives the registrar's certificate
  // renewal; the registrar certificate pins one server only.
  enum class Pinning { registrar_certificate, domain_ca };
  Pinning pinning = Pinning::domain_ca;

  // RFC 8995 §5.5.5: the assertion when the pledge's proximity to the
  // registrar cannot be shown (e.g. logged); nullopt refuses the request.
  std::optional<voucher::Assertion> fallback_assertion;

  // Nonceless vouchers (RFC 8995 §5.5.4, SPEC.md §2) go only to
  // authenticated registrars: always for known-customer devices, and for
  // open devices only when this is set.
  bool allow_nonceless = true;
  std::chrono::seconds max_nonceless_lifetime{std::chrono::hours(24 * 30)};

  // Anchors whose certificates mark a registrar as an authenticated, known
  // customer (PEM/DER loaded by the caller).
  std::vector<crypto::X509Ptr> customer_anchors;

  // requestauditlog: entries beyond this are dropped, oldest first, and
  // counted as "arbitrary" truncation (RFC 8995 §5.8.1).
  std::size_t audit_log_max_entries = 1024;

  // Replays (RFC 8995 §5.5.4 lets the MASA tie the request to the TLS
  // session): the registrar voucher-request must be signed by the TLS
  // client certificate, or by another certificate of the same key, so a
  // request captured once cannot be posted again by anyone else.
  bool bind_request_to_tls_client = true;
  // A registrar voucher-request whose created-on is older than this, or
  // later than the clock skew allows, is refused as stale. A request
  // without created-on carries no time to judge and is not refused for it.
  std::chrono::seconds max_request_age{std::chrono::hours(1)};
  std::chrono::seconds max_clock_skew{std::chrono::minutes(5)};

  // RFC 8366bis idevid-issuer in the voucher: only where device serial
  // numbers are not unique across the issuing CAs (pledges then tell their
  // vouchers apart by issuer); otherwise it SHOULD NOT be there. The value
  // is always computed from the IDevID, never copied from the request.
  bool voucher_idevid_issuer = false;

  // Bodies larger than this are refused with 413.
  std::size_t max_request_bytes = std::size_t{64} * 1024;

  // The clock; std::time(nullptr) when unset. Tests fix it.
  std::function<std::time_t()> now;
};

// Thread-safe: handle() and handle_async() may run on any number of threads at once. Its
// only mutable state is a few caches behind mutexes; the store serialises
// its own connection.
class MasaService {
 public:
  // Throws std::invalid_argument for a configuration without a signer or
  // key set (a start-up failure, not a request error).
  MasaService(MasaConfig config, store::AssetStore& store);
  ~MasaService();
  MasaService(const MasaService&) = delete;
  MasaService& operator=(const MasaService&) = delete;

  MasaResponse handle(const MasaRequest& request);

  // The same without blocking the calling thread while the voucher's audit
  // entry is synced: the checks and signing run here, and done(response)
  // runs once, on this thread or on the store's writer thread. For servers
  // whose worker threads must keep working while the disk syncs.
  using Completion = std::function<void(MasaResponse)>;
  void handle_async(const MasaRequest& request, Completion done);

 private:
  struct State;
  std::unique_ptr<State> state_;
};

}  // namespace vouchsafe::masa
