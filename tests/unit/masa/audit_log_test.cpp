// The audit log (RFC 8995 §5.8): an entry for every voucher and none for
// a refusal, no voucher when the entry cannot be written, requestauditlog
// for owners only, and the truncation rules.
#include "masa/detail/audit_log.h"

#include <gtest/gtest.h>

#include <functional>
#include <mutex>
#include <nlohmann/json.hpp>

#include "masa/detail/voucher_builder.h"
#include "masa_fixture.h"

namespace vouchsafe::masa::testing {
namespace {

using nlohmann::json;

std::string domain_id_of(X509* cert) {
  return detail::domain_id(*crypto::make_certificate_ref(crypto::share(cert)));
}

TEST_P(MasaTest, EveryVoucherHasItsAuditEntry) {
  MasaService masa(config(), store());
  const std::string serial = device();
  const Bytes nonce = random_nonce();
  auto request = good_request(serial, domain_, Form::cms, nonce);
  ASSERT_EQ(masa.handle(request).status, 200);
  auto log = *store().audit_log(serial);
  ASSERT_EQ(log.size(), 1U);
  EXPECT_EQ(log[0].domain_id, domain_id_of(domain_.ca.get()));
  EXPECT_EQ(log[0].nonce, base64_encode(nonce));
  EXPECT_EQ(log[0].assertion, "proximity");
  EXPECT_EQ(log[0].registrar_fingerprint, request.caller.fingerprint);
  EXPECT_LE(std::abs(log[0].date - std::time(nullptr)), 5);

  ASSERT_EQ(masa.handle(good_request(serial, domain_, Form::jws)).status, 200);
  EXPECT_EQ(store().audit_log(serial)->size(), 2U);
}

TEST_P(MasaTest, ARefusalLeavesNoAuditEntry) {
  MasaService masa(config(), store());
  const std::string serial = device();
  const Bytes pvr = sign_as_device(pvr_fields(serial, domain_.registrar.get(), random_nonce()),
                                   serial, Form::cms);
  const auto response = masa.handle(voucher_request(
      sign_as_registrar(rvr_fields(serial, random_nonce(), pvr), domain_, Form::cms), Form::cms,
      domain_));
  EXPECT_EQ(response.status, 403);
  EXPECT_TRUE(store().audit_log(serial)->empty());
}

// The real store, except that the audit log cannot be written.
class AuditWriteFails final : public ForwardingStore {
 public:
  using ForwardingStore::ForwardingStore;
  Status append_audit(const std::string&, const store::AuditEntry&) override {
    return fail(ErrorCode::io_error, "disk full at /var/lib/secret/path");
  }
};

TEST_P(MasaTest, NoVoucherWhenTheAuditEntryCannotBeWritten) {
  AuditWriteFails failing(store());
  MasaService masa(config(), failing);
  const std::string serial = device();
  const auto response = masa.handle(good_request(serial, domain_, Form::cms));
  EXPECT_EQ(response.status, 503);
  EXPECT_EQ(response.content_type, "text/plain; charset=utf-8");
  // Nothing of the voucher, nothing of our internals.
  EXPECT_FALSE(voucher::detect_form(response.body) &&
               *voucher::detect_form(response.body) == Form::cms);
  EXPECT_EQ(body_text(response).find("/var/lib"), std::string::npos) << body_text(response);
  EXPECT_TRUE(store().audit_log(serial)->empty());
}

// The real store, except that audit appends wait until the test releases
// them, as a slow disk would.
class HeldAuditStore final : public ForwardingStore {
 public:
  using ForwardingStore::ForwardingStore;
  void append_audit_async(const std::string& serial, store::AuditEntry entry,
                          std::optional<store::DeviceEvent> event, AuditDone done) override {
    std::lock_guard lock(mutex_);
    held_.push_back([this, serial, entry = std::move(entry), event = std::move(event),
                     done = std::move(done)]() mutable {
      ForwardingStore::append_audit_async(serial, std::move(entry), std::move(event),
                                          std::move(done));
    });
  }
  void release_all() {
    std::vector<std::function<void()>> held;
    {
      std::lock_guard lock(mutex_);
      held.swap(held_);
    }
    for (auto& h : held) h();
  }

 private:
  std::mutex mutex_;
  std::vector<std::function<void()>> held_;
};

TEST_P(MasaTest, AnAsynchronousVoucherLeavesOnlyOnceItsEntryIsDurable) {
  HeldAuditStore held(store());
  MasaService masa(config(), held);
  const std::string serial = device();
  std::optional<MasaResponse> answer;
  masa.handle_async(good_request(serial, domain_, Form::cms),
                    [&answer](MasaResponse r) { answer = std::move(r); });
  // Checked and signed, but its entry is not yet written: no answer.
  EXPECT_FALSE(answer);
  EXPECT_TRUE(store().audit_log(serial)->empty());
  held.release_all();
  ASSERT_TRUE(answer);
  EXPECT_EQ(answer->status, 200);
  EXPECT_EQ(store().audit_log(serial)->size(), 1U);
}

TEST_P(MasaTest, AnAsynchronousRefusalIsAnsweredAtOnce) {
  HeldAuditStore held(store());
  MasaService masa(config(), held);
  std::optional<MasaResponse> answer;
  auto request = good_request(device(), domain_, Form::cms);
  request.content_type = "text/plain";
  masa.handle_async(request, [&answer](MasaResponse r) { answer = std::move(r); });
  ASSERT_TRUE(answer);
  EXPECT_EQ(answer->status, 415);
}

// ------------------------------------------------------------ requestauditlog

MasaRequest audit_request(MasaRequest r) {
  r.endpoint = std::string(k_request_audit_log);
  r.accept = "application/json";
  return r;
}

TEST_P(MasaTest, AnOwnerReadsTheDevicesAuditLog) {
  MasaService masa(config(), store());
  const std::string serial = device();
  const Bytes nonce = random_nonce();
  const auto request = good_request(serial, domain_, Form::cms, nonce);
  ASSERT_EQ(masa.handle(request).status, 200);

  const auto response = masa.handle(audit_request(request));
  ASSERT_EQ(response.status, 200) << body_text(response);
  EXPECT_EQ(response.content_type, "application/json");
  const json log = json::parse(body_text(response));
  EXPECT_EQ(log["version"], 1);
  ASSERT_EQ(log["events"].size(), 1U);
  const json& e = log["events"][0];
  EXPECT_EQ(e["domainID"], domain_id_of(domain_.ca.get()));
  EXPECT_EQ(e["nonce"], base64_encode(nonce));
  EXPECT_EQ(e["assertion"], "proximity");
  EXPECT_TRUE(parse_date_time(e["date"].get<std::string>()));
  EXPECT_FALSE(e.contains("truncated"));
  EXPECT_FALSE(log.contains("truncation"));
}

TEST_P(MasaTest, AStrangerGetsNotFoundForTheAuditLog) {
  MasaService masa(config(), store());
  const std::string serial = device();
  ASSERT_EQ(masa.handle(good_request(serial, domain_, Form::cms)).status, 200);
  const Domain stranger = make_domain("Stranger");
  const auto response = masa.handle(audit_request(good_request(serial, stranger, Form::cms)));
  EXPECT_EQ(response.status, 404);
  EXPECT_NE(body_text(response).find("No audit log"), std::string::npos);
  // Nor for a device nobody has claimed yet.
  EXPECT_EQ(masa.handle(audit_request(good_request(device(), domain_, Form::cms))).status, 404);
}

TEST_P(MasaTest, TheAuditLogIsJsonOnly) {
  MasaService masa(config(), store());
  auto request = audit_request(good_request(device(), domain_, Form::cms));
  request.accept = "application/voucher-cms+json";
  EXPECT_EQ(masa.handle(request).status, 406);
}

TEST_P(MasaTest, TheAuditLogCollapsesRepeatsOfOneDomain) {
  auto c = config();
  c.customer_anchors.push_back(crypto::share(domain_.ca.get()));
  MasaService masa(std::move(c), store());
  const std::string serial = device();
  for (int i = 0; i < 3; ++i) {
    ASSERT_EQ(masa.handle(good_request(serial, domain_, Form::cms)).status, 200);
  }
  for (int i = 0; i < 2; ++i) {
    ASSERT_EQ(masa.handle(good_request(serial, domain_, Form::cms, std::nullopt)).status, 200);
  }
  const Domain second = make_domain("Second");
  ASSERT_EQ(masa.handle(good_request(serial, second, Form::cms)).status, 200);

  const auto response = masa.handle(audit_request(good_request(serial, domain_, Form::cms)));
  ASSERT_EQ(response.status, 200) << body_text(response);
  const json log = json::parse(body_text(response));
  ASSERT_EQ(log["events"].size(), 3U);
  EXPECT_EQ(log["events"][0]["truncated"], 2);       // 3 nonced -> 1
  EXPECT_TRUE(log["events"][1]["nonce"].is_null());  // 2 nonceless -> 1
  EXPECT_EQ(log["events"][1]["truncated"], 1);
  EXPECT_EQ(log["events"][2]["domainID"], domain_id_of(second.ca.get()));
  EXPECT_EQ(log["truncation"]["nonced duplicates"], 2);
  EXPECT_EQ(log["truncation"]["nonceless duplicates"], 1);
  EXPECT_FALSE(log["truncation"].contains("arbitrary"));
}

// ------------------------------------------------------- truncation rules

store::AuditEntry entry(std::int64_t date, const std::string& domain, bool nonced) {
  store::AuditEntry e;
  e.date = date;
  e.domain_id = domain;
  if (nonced) e.nonce = "bm9uY2Vub25jZQ==";
  e.assertion = "proximity";
  return e;
}

json render(const std::vector<store::AuditEntry>& entries, std::size_t max) {
  return json::parse(detail::render_audit_log(entries, max));
}

TEST(AuditLogResponse, KeepsEachDomainsLatestEntryInHistoricalOrder) {
  const json log = render(
      {entry(100, "A", true), entry(200, "B", true), entry(300, "A", true), entry(400, "A", false)},
      0);
  ASSERT_EQ(log["events"].size(), 3U);
  EXPECT_EQ(log["events"][0]["domainID"], "B");
  EXPECT_EQ(log["events"][1]["domainID"], "A");
  EXPECT_EQ(log["events"][1]["date"], "1970-01-01T00:05:00Z");
  EXPECT_EQ(log["events"][1]["truncated"], 1);
  EXPECT_TRUE(log["events"][2]["nonce"].is_null());
  EXPECT_EQ(log["truncation"], json::parse(R"({"nonced duplicates": 1})"));
}

TEST(AuditLogResponse, DropsTheOldestBeyondTheMaximumAsArbitrary) {
  std::vector<store::AuditEntry> entries;
  entries.reserve(10);
  for (int i = 0; i < 10; ++i) entries.push_back(entry(i, "D" + std::to_string(i), true));
  const json log = render(entries, 4);
  ASSERT_EQ(log["events"].size(), 4U);
  EXPECT_EQ(log["events"][0]["domainID"], "D6");
  EXPECT_EQ(log["truncation"]["arbitrary"], 6);
}

TEST(AuditLogResponse, CountsSaturateAt1024) {
  std::vector<store::AuditEntry> entries;
  entries.reserve(3000);
  for (int i = 0; i < 1500; ++i) entries.push_back(entry(i, "A", false));
  for (int i = 0; i < 1500; ++i) entries.push_back(entry(2000 + i, "X" + std::to_string(i), true));
  const json log = render(entries, 10);
  EXPECT_EQ(log["events"].size(), 10U);
  EXPECT_EQ(log["truncation"]["nonceless duplicates"], 1024);
  EXPECT_EQ(log["truncation"]["arbitrary"], 1024);  // 1491 dropped
  EXPECT_FALSE(log["truncation"].contains("nonced duplicates"));
}

TEST(AuditLogResponse, AnEmptyLogIsStillAValidResponse) {
  EXPECT_EQ(render({}, 0), json::parse(R"({"version": 1, "events": []})"));
}

}  // namespace
}  // namespace vouchsafe::masa::testing
