// Fuzz target for the MASA's whole request path: an HTTP POST body with its
// Content-Type and Accept, from a TLS client, through the binding's routes
// and every check of masa::MasaService to the HTTP answer, over an asset
// store in memory. The manufacturers and registrars are those of the
// published vectors (RFC 8995 Appendix C, the JWS voucher draft §8, cBRSKI
// Appendix C), so their registrar voucher-requests reach the end and get a
// voucher; the seeds are those requests.
//
// Input: one header byte, then the body. Header bits 0-1 pick the
// Content-Type, bit 2 the endpoint (requestvoucher, or requestvoucher then
// requestauditlog with the same body),
// bits 3-4 the Accept header, bits 5-6 whose vectors: the clock and the TLS
// client certificate (RFC 8995 / JWS / cBRSKI / an unknown client).
//
// Every request gets exactly one answer; a refusal is plain text; a voucher
// (200) verifies under the MASA's anchor, is for a recorded device and has
// its audit-log entry: nothing leaves unlogged (RFC 8995 §5.8).
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <memory>
#include <optional>
#include <string>

#include "crypto/keys.h"
#include "crypto/signer.h"
#include "masa/masa_service.h"
#include "service/masa_binding.h"
#include "support/memory_store.h"
#include "voucher/artifact.h"

namespace {

using namespace vouchsafe;

std::string vector_path(const std::string& relative) {
  return std::string(VOUCHSAFE_VECTORS_DIR) + "/" + relative;
}

[[noreturn]] void die(const std::string& why) {
  std::fprintf(stderr, "fuzz_masa_request: %s\n", why.c_str());
  std::abort();
}

std::vector<crypto::X509Ptr> certs(const std::string& relative) {
  auto loaded = crypto::load_certificates(vector_path(relative));
  if (!loaded) die(loaded.error().message);
  return std::move(loaded).value();
}

Bytes der_of(const std::string& relative, std::size_t index = 0) {
  return crypto::certificate_der(certs(relative).at(index).get());
}

// One family of vectors: when its requests were made, and who posts them.
struct Family {
  std::time_t now;
  Bytes client_der;
};

struct World {
  fuzzing::MemoryStore store;
  std::vector<Family> families;
  std::time_t now = 0;
  std::unique_ptr<masa::MasaService> masa;
  net::AsyncHandler routes;
  crypto::X509Ptr masa_anchor;

  void add_device(const std::string& ca_name, const Bytes& ca_der, const std::string& serial,
                  const Bytes& idevid_der, std::time_t when) {
    store::CaRecord ca;
    ca.name = ca_name;
    ca.role = store::CaRole::issuing;
    ca.certificate_der = ca_der;
    ca.created_at = when;
    (void)store.add_ca(ca);
    store::DeviceRecord device;
    device.serial = serial;
    device.product = ca_name;
    device.issuing_ca = ca_name;
    device.certificate_der = idevid_der;
    device.key_mode = store::KeyMode::imported;
    device.issued_at = when;
    (void)store.add_devices({&device, 1});
  }

  World() {
    // RFC 8995 Appendix C: 2021-04-13T22:00:00Z, after the RVR's created-on.
    const std::time_t rfc8995 = 1618351200;
    add_device("highway", der_of("rfc8995/C.1.1-vendor-ca.cert.pem"), "00-D0-E5-F2-00-02",
               der_of("rfc8995/C.2.1-pledge-voucher-request_vr_00-D0-E5-F2-00-02.derived."
                      "embedded-certs.pem"),
               rfc8995);
    families.push_back({rfc8995, der_of("rfc8995/C.1.4-registrar-jrc_prime256v1.cert.pem")});
    // The JWS voucher draft §8: 2024-11-29T09:40:00Z, minutes after its RVR.
    const std::time_t jws = 1732873200;
    const std::string pledge_chain = "jws-voucher/s8.1-pledge-idevid-key-and-chain.pem";
    add_device("manufacturer001", der_of(pledge_chain, 1), "kit-987654321", der_of(pledge_chain, 0),
               jws);
    families.push_back({jws, der_of("jws-voucher/s8.2-registrar-key-and-chain.pem")});
    // cBRSKI Appendix C: 2022-12-09T13:00:00Z, inside the IDevID's validity.
    const std::time_t cbrski = 1670590800;
    add_device("stok", der_of("cbrski/C.2.4-masa-ca.cert.derived.pem"), "JADA123456789",
               der_of("cbrski/C.2.1-pledge-idevid.cert.derived.pem"), cbrski);
    families.push_back({cbrski, der_of("cbrski/C.2.2-registrar.cert.derived.pem")});
    // A client whose certificate chains to nothing (the MASA's own).
    families.push_back({rfc8995, der_of("rfc8995/C.1.2-masa.cert.pem")});

    auto key = crypto::load_private_key(vector_path("rfc8995/C.1.2-masa.key.pem"), std::nullopt);
    if (!key) die(key.error().message);
    auto signer = crypto::SoftwareSigner::create(std::move(key).value());
    if (!signer) die(signer.error().message);
    masa::MasaConfig config;
    config.signer = std::shared_ptr<const crypto::Signer>(std::move(signer).value());
    config.signer_chain = {
        crypto::make_certificate_ref(std::move(certs("rfc8995/C.1.2-masa.cert.pem").front())),
        crypto::make_certificate_ref(std::move(certs("rfc8995/C.1.1-vendor-ca.cert.pem").front()))};
    masa_anchor = std::move(certs("rfc8995/C.1.1-vendor-ca.cert.pem").front());
    // The cBRSKI request was made three days before its IDevID's validity
    // allows it to be answered.
    config.max_request_age = std::chrono::hours(24 * 4);
    config.now = [this] { return now; };
    masa = std::make_unique<masa::MasaService>(std::move(config), store);
    routes = service::masa_routes(*masa);
  }
};

constexpr const char* k_content_types[] = {"application/voucher-cms+json",
                                           "application/voucher-jws+json",
                                           "application/voucher+cose", "application/json"};
constexpr const char* k_accepts[] = {"", "*/*",
                                     "application/voucher-jws+json;q=0.5, application/*;q=0.9",
                                     "application/voucher+cose, application/json"};

bool is_voucher_type(const std::string& t) {
  return t == "application/voucher-cms+json" || t == "application/voucher-jws+json" ||
         t == "application/voucher+cose" || t == "application/voucher-cose+cbor";
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static World world;
  if (size == 0) return 0;
  const std::uint8_t header = data[0];
  const Family& family = world.families[(header >> 5U) & 3U];
  world.now = family.now;
  world.store.forget_requests();

  const bool audit_log = (header & 4U) != 0;
  net::HttpRequest request;
  request.method = "POST";
  request.target = std::string(service::k_brski_prefix) +
                   std::string(audit_log ? masa::k_request_audit_log : masa::k_request_voucher);
  request.content_type = k_content_types[header & 3U];
  request.accept = k_accepts[(header >> 3U) & 3U];
  request.body.assign(data + 1, data + size);
  request.client_certificate_der = family.client_der;
  request.client_fingerprint = hex_encode(crypto::sha256(family.client_der));

  if (audit_log) {
    // The same body as a voucher request first, so that the log has the
    // entry the audit-log request then reads back (the store forgets every
    // input's requests).
    net::HttpRequest first = request;
    first.target = std::string(service::k_brski_prefix) + std::string(masa::k_request_voucher);
    int first_answers = 0;
    world.routes(first, [&](const net::HttpResponse&) { ++first_answers; });
    if (first_answers != 1) __builtin_trap();
  }
  int answers = 0;
  net::HttpResponse response;
  world.routes(request, [&](net::HttpResponse r) {
    ++answers;
    response = std::move(r);
  });
  if (answers != 1) __builtin_trap();
  // FUZZ_MASA_VERBOSE=1: each answer's status and refusal, to see how far
  // the seeds get.
  static const bool verbose = std::getenv("FUZZ_MASA_VERBOSE") != nullptr;
  if (verbose) std::fprintf(stderr, "%d %s\n", response.status, response.log_error.c_str());
  if (response.status != 200) {
    if (response.content_type != net::k_text_plain) __builtin_trap();
    return 0;
  }
  if (audit_log) {
    if (response.content_type != "application/json") __builtin_trap();
    return 0;
  }
  if (!is_voucher_type(response.content_type)) __builtin_trap();
  std::vector<crypto::X509Ptr> anchors;
  anchors.push_back(crypto::share(world.masa_anchor.get()));
  auto policy = voucher::TrustPolicy::with_anchors(std::move(anchors));
  policy.at = world.now;
  auto voucher = voucher::verify_artifact(response.body, policy);
  if (!voucher) __builtin_trap();
  const auto log = world.store.audit_log(voucher->payload.serial_number.value_or(""));
  if (!log || log->empty()) __builtin_trap();
  return 0;
}
