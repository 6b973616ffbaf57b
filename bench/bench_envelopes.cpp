// Signing and verifying vouchers in each form, beside raw EVP_DigestSign /
// EVP_DigestVerify on the same P-256 key in the same run. At the end it
// prints each rate as a ratio to the raw OpenSSL rate, with the targets.
#include <benchmark/benchmark.h>
#include <openssl/x509v3.h>

#include <cstdio>
#include <map>
#include <string>

#include "crypto/keys.h"
#include "crypto/signature.h"
#include "crypto/signer.h"
#include "ratio_reporter.h"
#include "voucher/cbor_codec.h"
#include "voucher/cms.h"
#include "voucher/cose.h"
#include "voucher/json_codec.h"
#include "voucher/jws.h"

namespace vouchsafe::bench {
namespace {

using crypto::X509Ptr;

X509Ptr issue(EVP_PKEY* key, const char* cn, EVP_PKEY* ca_key, X509* ca, bool is_ca) {
  X509Ptr cert(X509_new());
  X509_set_version(cert.get(), 2);
  ASN1_INTEGER_set(X509_get_serialNumber(cert.get()), is_ca ? 1 : 2);
  X509_gmtime_adj(X509_getm_notBefore(cert.get()), -60);
  X509_gmtime_adj(X509_getm_notAfter(cert.get()), 86400L * 365);
  X509_NAME_add_entry_by_txt(X509_get_subject_name(cert.get()), "CN", MBSTRING_UTF8,
                             reinterpret_cast<const unsigned char*>(cn), -1, -1, 0);
  X509_set_issuer_name(cert.get(),
                       ca ? X509_get_subject_name(ca) : X509_get_subject_name(cert.get()));
  X509_set_pubkey(cert.get(), key);
  X509V3_CTX ctx;
  X509V3_set_ctx(&ctx, ca ? ca : cert.get(), cert.get(), nullptr, nullptr, 0);
  X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, NID_basic_constraints,
                                            is_ca ? "critical,CA:TRUE" : "critical,CA:FALSE");
  X509_add_ext(cert.get(), ext, -1);
  X509_EXTENSION_free(ext);
  X509_sign(cert.get(), ca_key, EVP_sha256());
  return cert;
}

// One MASA identity and one voucher, shared by every benchmark.
struct Fixture {
  crypto::PkeyPtr ca_key = crypto::generate_key(crypto::KeyType::p256);
  X509Ptr ca = issue(ca_key.get(), "Bench CA", ca_key.get(), nullptr, true);
  std::unique_ptr<crypto::SoftwareSigner> signer;
  voucher::SigningIdentity identity;
  Bytes json_payload;
  Bytes cbor_payload;
  voucher::TrustPolicy policy;

  Fixture() {
    auto key = crypto::generate_key(crypto::KeyType::p256);
    auto cert = issue(key.get(), "Bench MASA", ca_key.get(), ca.get(), false);
    signer = std::move(crypto::SoftwareSigner::create(std::move(key))).value();
    identity.signer = signer.get();
    identity.chain.push_back(crypto::make_certificate_ref(std::move(cert)));
    identity.chain.push_back(crypto::make_certificate_ref(crypto::share(ca.get())));
    voucher::Voucher v;
    v.created_on = now_date_time();
    v.assertion = voucher::Assertion::proximity;
    v.serial_number = "BENCH-00000001";
    v.nonce = Bytes(16, 0x5a);
    v.pinned_domain_cert = identity.chain[1]->der;
    json_payload = voucher::encode_json(v);
    cbor_payload = voucher::encode_cbor(v);
    std::vector<X509Ptr> anchors;
    anchors.push_back(crypto::share(ca.get()));
    policy = voucher::TrustPolicy::with_anchors(std::move(anchors));
  }
};

Fixture& fixture() {
  static Fixture f;
  return f;
}

void BM_RawDigestSign(benchmark::State& state) {
  auto& f = fixture();
  for (auto _ : state) {
    auto sig = crypto::sign_bytes(f.signer->public_key(), crypto::SignatureAlgorithm::es256,
                                  f.json_payload);
    benchmark::DoNotOptimize(sig);
  }
  state.SetItemsProcessed(state.iterations());
}

void BM_RawDigestVerify(benchmark::State& state) {
  auto& f = fixture();
  const auto sig = *crypto::sign_bytes(f.signer->public_key(), crypto::SignatureAlgorithm::es256,
                                       f.json_payload);
  for (auto _ : state) {
    auto ok = crypto::verify_bytes(f.signer->public_key(), crypto::SignatureAlgorithm::es256,
                                   f.json_payload, sig, crypto::SignatureEncoding::der);
    if (!ok) state.SkipWithError("raw verify failed");
  }
  state.SetItemsProcessed(state.iterations());
}

// Runs op once per iteration; op returns a Result whose error stops the run.
template <typename Op>
void run(benchmark::State& state, Op op) {
  for (auto _ : state) {
    auto out = op();
    if (!out) state.SkipWithError(out.error().message.c_str());
    benchmark::DoNotOptimize(out);
  }
  state.SetItemsProcessed(state.iterations());
}

void BM_SignCms(benchmark::State& state) {
  auto& f = fixture();
  run(state, [&] { return voucher::sign_cms(f.json_payload, f.identity); });
}
void BM_SignCose(benchmark::State& state) {
  auto& f = fixture();
  run(state, [&] { return voucher::sign_cose(f.cbor_payload, f.identity); });
}
void BM_SignJws(benchmark::State& state) {
  auto& f = fixture();
  run(state, [&] { return voucher::sign_jws(f.json_payload, f.identity); });
}
// Verification with anchors; the signer certificate is seen before (cached).
void BM_VerifyCms(benchmark::State& state) {
  auto& f = fixture();
  const Bytes signed_bytes = *voucher::sign_cms(f.json_payload, f.identity);
  run(state, [&] { return voucher::verify_cms(signed_bytes, f.policy); });
}
void BM_VerifyCose(benchmark::State& state) {
  auto& f = fixture();
  const Bytes signed_bytes = *voucher::sign_cose(f.cbor_payload, f.identity);
  run(state, [&] { return voucher::verify_cose(signed_bytes, f.policy); });
}
void BM_VerifyJws(benchmark::State& state) {
  auto& f = fixture();
  const Bytes signed_bytes = *voucher::sign_jws(f.json_payload, f.identity);
  run(state, [&] { return voucher::verify_jws(signed_bytes, f.policy); });
}

BENCHMARK(BM_RawDigestSign);
BENCHMARK(BM_RawDigestVerify);
BENCHMARK(BM_SignCms);
BENCHMARK(BM_SignCose);
BENCHMARK(BM_SignJws);
BENCHMARK(BM_VerifyCms);
BENCHMARK(BM_VerifyCose);
BENCHMARK(BM_VerifyJws);

}  // namespace
}  // namespace vouchsafe::bench

int main(int argc, char** argv) {
  vouchsafe::bench::initialize_interleaved(argc, argv, 5);
  vouchsafe::bench::RatioReporter reporter;
  benchmark::RunSpecifiedBenchmarks(&reporter);
  auto& r = reporter.rates;
  const double raw_sign = r["BM_RawDigestSign"];
  const double raw_verify = r["BM_RawDigestVerify"];
  if (raw_sign <= 0 || raw_verify <= 0) return 0;
  struct Row {
    const char* name;
    const char* key;
    double base;
    double target;
  };
  const Row rows[] = {
      {"CMS sign / raw sign", "BM_SignCms", raw_sign, 0.50},
      {"COSE sign / raw sign", "BM_SignCose", raw_sign, 0.80},
      {"JWS sign / raw sign", "BM_SignJws", raw_sign, 0.80},
      {"CMS verify (seen signer) / raw verify", "BM_VerifyCms", raw_verify, 0.50},
      {"COSE verify / raw verify", "BM_VerifyCose", raw_verify, 0.0},
      {"JWS verify / raw verify", "BM_VerifyJws", raw_verify, 0.0},
  };
  std::printf("\nraw EVP_DigestSign P-256: %.0f/s   raw EVP_DigestVerify P-256: %.0f/s\n", raw_sign,
              raw_verify);
  for (const auto& row : rows) {
    auto it = r.find(row.key);
    if (it == r.end()) continue;
    const double ratio = it->second / row.base;
    std::printf("%-40s %6.0f/s  %5.1f%%", row.name, it->second, 100 * ratio);
    if (row.target > 0)
      std::printf("  (target >= %.0f%%: %s)", 100 * row.target,
                  ratio >= row.target ? "met" : "MISSED");
    std::printf("\n");
  }
  return 0;
}
