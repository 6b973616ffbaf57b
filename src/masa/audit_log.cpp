// Audit-log entries and the requestauditlog response.
#include "masa/detail/audit_log.h"

#include <algorithm>
#include <nlohmann/json.hpp>
#include <unordered_map>

#include "core/date_time.h"

namespace vouchsafe::masa::detail {
namespace {

std::int64_t saturated(std::int64_t count) {
  return std::min(count, k_truncation_saturation);
}

}  // namespace

store::AuditEntry make_audit_entry(std::time_t now, std::string domain_id,
                                   std::optional<std::string> nonce_text,
                                   voucher::Assertion assertion, std::string caller_fingerprint) {
  store::AuditEntry entry;
  entry.date = now;
  entry.domain_id = std::move(domain_id);
  entry.nonce = std::move(nonce_text);
  entry.assertion = std::string(voucher::assertion_name(assertion));
  entry.registrar_fingerprint = std::move(caller_fingerprint);
  return entry;
}

bool logged_for_domain(const std::vector<store::AuditEntry>& entries,
                       const std::vector<std::string>& domain_ids) {
  return std::any_of(entries.begin(), entries.end(), [&](const store::AuditEntry& e) {
    return std::find(domain_ids.begin(), domain_ids.end(), e.domain_id) != domain_ids.end();
  });
}

Bytes render_audit_log(const std::vector<store::AuditEntry>& entries, std::size_t max_entries) {
  struct Shown {
    std::size_t index;           // into entries
    std::int64_t truncated = 0;  // earlier duplicates it stands for
  };
  // Newest first, so each (domainID, nonced?) keeps its latest entry.
  std::vector<Shown> shown;
  std::unordered_map<std::string, std::size_t> latest;  // key -> position in shown
  std::int64_t nonced_duplicates = 0;
  std::int64_t nonceless_duplicates = 0;
  for (std::size_t i = entries.size(); i-- > 0;) {
    const store::AuditEntry& e = entries[i];
    const std::string key = (e.nonce ? "n:" : "x:") + e.domain_id;
    if (auto it = latest.find(key); it != latest.end()) {
      ++shown[it->second].truncated;
      ++(e.nonce ? nonced_duplicates : nonceless_duplicates);
      continue;
    }
    latest.emplace(key, shown.size());
    shown.push_back(Shown{i});
  }
  std::reverse(shown.begin(), shown.end());  // oldest first again

  std::int64_t arbitrary = 0;
  if (max_entries != 0 && shown.size() > max_entries) {
    arbitrary = static_cast<std::int64_t>(shown.size() - max_entries);
    shown.erase(shown.begin(),
                shown.begin() + static_cast<std::ptrdiff_t>(shown.size() - max_entries));
  }

  nlohmann::ordered_json events = nlohmann::ordered_json::array();
  for (const Shown& s : shown) {
    const store::AuditEntry& e = entries[s.index];
    nlohmann::ordered_json event;
    event["date"] = format_date_time(DateTime::from_unix_seconds(e.date));
    event["domainID"] = e.domain_id;
    event["nonce"] = e.nonce ? nlohmann::ordered_json(*e.nonce) : nlohmann::ordered_json(nullptr);
    event["assertion"] = e.assertion;
    if (s.truncated > 0) event["truncated"] = saturated(s.truncated);
    events.push_back(std::move(event));
  }
  nlohmann::ordered_json log;
  log["version"] = 1;
  log["events"] = std::move(events);
  if (nonced_duplicates + nonceless_duplicates + arbitrary > 0) {
    nlohmann::ordered_json truncation = nlohmann::ordered_json::object();
    if (nonced_duplicates > 0) truncation["nonced duplicates"] = saturated(nonced_duplicates);
    if (nonceless_duplicates > 0) {
      truncation["nonceless duplicates"] = saturated(nonceless_duplicates);
    }
    if (arbitrary > 0) truncation["arbitrary"] = saturated(arbitrary);
    log["truncation"] = std::move(truncation);
  }
  return to_bytes(log.dump());
}

}  // namespace vouchsafe::masa::detail
