// Reading the audit log and judging it.
#include "registrar/audit_log_policy.h"

#include <algorithm>
#include <charconv>

#include "voucher/json_reader.h"

namespace vouchsafe::registrar {
namespace {

using voucher::JsonValue;

// The log is flat: an object of arrays of objects, and an enhanced log
// (version > 1) may nest a little more.
constexpr std::size_t k_max_depth = 8;

// RFC 8995 §5.8.1 says uint; Appendix C's example writes "1" and "0".
Result<std::uint64_t> count(const JsonValue* v, const std::string& what) {
  if (v == nullptr) return std::uint64_t{0};
  if (v->kind == JsonValue::Kind::number) {
    if (auto n = v->as_unsigned_integer()) return *n;
  } else if (v->kind == JsonValue::Kind::string && !v->text.empty() && v->text.size() <= 20) {
    std::uint64_t n = 0;
    const char* end = v->text.data() + v->text.size();
    if (std::from_chars(v->text.data(), end, n).ptr == end) return n;
  }
  return fail(ErrorCode::wrong_type, "the audit log's " + what + " is not a non-negative integer");
}

Result<std::string> text(const JsonValue* v, const std::string& what, bool required) {
  if (v == nullptr) {
    if (required) return fail(ErrorCode::missing_leaf, "an audit log event has no " + what);
    return std::string();
  }
  if (v->kind != JsonValue::Kind::string) {
    return fail(ErrorCode::wrong_type, "an audit log event's " + what + " is not a string");
  }
  return v->text;
}

bool listed(const std::vector<std::string>& list, const std::string& domain) {
  return std::find(list.begin(), list.end(), domain) != list.end();
}

}  // namespace

Result<AuditLog> parse_audit_log(ByteView json, std::size_t max_bytes) {
  if (json.size() > max_bytes) {
    return fail(ErrorCode::input_too_large,
                "the audit log is larger than " + std::to_string(max_bytes) + " bytes");
  }
  ASSIGN_OR_RETURN(const JsonValue doc, voucher::read_json(json, k_max_depth));
  if (doc.kind != JsonValue::Kind::object) {
    return fail(ErrorCode::wrong_type, "the audit log is not a JSON object");
  }
  AuditLog log;
  const JsonValue* version = doc.find("version");
  if (version == nullptr) return fail(ErrorCode::missing_leaf, "the audit log has no version");
  ASSIGN_OR_RETURN(log.version, count(version, "version"));
  // RFC 8995 §5.8.1: a version above 1 is an enhanced log that removes
  // nothing; what it adds is ignored here.
  if (log.version < 1) return fail(ErrorCode::invalid_value, "the audit log's version is 0");
  const JsonValue* events = doc.find("events");
  if (events == nullptr || events->kind != JsonValue::Kind::array) {
    return fail(ErrorCode::missing_leaf, "the audit log has no \"events\" array");
  }
  for (const JsonValue& e : events->items) {
    if (e.kind != JsonValue::Kind::object) {
      return fail(ErrorCode::wrong_type, "an audit log event is not an object");
    }
    AuditLogEvent event;
    ASSIGN_OR_RETURN(event.date, text(e.find("date"), "date", false));
    ASSIGN_OR_RETURN(event.domain_id, text(e.find("domainID"), "domainID", true));
    ASSIGN_OR_RETURN(event.assertion, text(e.find("assertion"), "assertion", false));
    const JsonValue* nonce = e.find("nonce");
    if (nonce != nullptr && nonce->kind != JsonValue::Kind::null) {
      ASSIGN_OR_RETURN(event.nonce, text(nonce, "nonce", true));
    }
    ASSIGN_OR_RETURN(event.truncated, count(e.find("truncated"), "truncated"));
    log.events.push_back(std::move(event));
  }
  if (const JsonValue* t = doc.find("truncation"); t != nullptr) {
    if (t->kind != JsonValue::Kind::object) {
      return fail(ErrorCode::wrong_type, "the audit log's truncation is not an object");
    }
    ASSIGN_OR_RETURN(log.nonced_duplicates, count(t->find("nonced duplicates"), "truncation"));
    ASSIGN_OR_RETURN(log.nonceless_duplicates,
                     count(t->find("nonceless duplicates"), "truncation"));
    ASSIGN_OR_RETURN(log.arbitrary, count(t->find("arbitrary"), "truncation"));
  }
  return log;
}

AuditVerdict apply_audit_log_policy(const AuditLog& log, const std::string& own_domain_id,
                                    const AuditLogPolicy& policy) {
  // RFC 8995 §5.8.3: the registrar may refuse when entries it cannot see
  // could hide a previous owner.
  if (log.arbitrary > policy.max_arbitrary_truncation) {
    return {false, "the MASA left out " + std::to_string(log.arbitrary) +
                       " entries of the device's history (\"arbitrary\" truncation); this "
                       "registrar accepts " +
                       std::to_string(policy.max_arbitrary_truncation)};
  }
  for (const AuditLogEvent& e : log.events) {
    if (e.domain_id == own_domain_id) continue;
    const std::string when = e.date.empty() ? std::string() : " on " + e.date;
    // A nonceless voucher stays valid wherever the device goes (§5.8.3:
    // "nonceless entries ... from a subset of domains").
    if (!e.nonce && !policy.allow_nonceless_other_domains &&
        !listed(policy.nonceless_domains, e.domain_id)) {
      return {false,
              "a nonceless voucher went to another domain (domainID " + e.domain_id + ")" + when};
    }
    if (!policy.allow_other_domains && !listed(policy.accepted_domains, e.domain_id)) {
      return {false, "the device has had a voucher for another domain (domainID " + e.domain_id +
                         ")" + when + ": a previous owner"};
    }
  }
  return {};
}

}  // namespace vouchsafe::registrar
