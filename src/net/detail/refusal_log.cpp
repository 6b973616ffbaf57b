// JSON lines of the refusal log, written with nlohmann-json so that every
// client-chosen byte is escaped.
#include "net/detail/refusal_log.h"

#include <cstdio>
#include <nlohmann/json.hpp>

#include "core/date_time.h"

namespace vouchsafe::net::detail {

namespace {

using Json = nlohmann::ordered_json;

// RFC 3339 in UTC, to the millisecond.
std::string utc_now() {
  const auto now = std::chrono::floor<std::chrono::milliseconds>(std::chrono::system_clock::now());
  return format_date_time(
      DateTime{std::chrono::time_point_cast<std::chrono::microseconds>(now), 0});
}

Json text_or_null(std::string_view text) {
  return text.empty() ? Json(nullptr) : Json(std::string(text));
}

bool starts_with_ignoring_case(std::string_view text, std::string_view prefix) {
  if (text.size() < prefix.size()) return false;
  for (std::size_t i = 0; i < prefix.size(); ++i) {
    const auto lower = [](char c) {
      return (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c;
    };
    if (lower(text[i]) != lower(prefix[i])) return false;
  }
  return true;
}

// The first line of a plain-text body, cut to the limit; control
// characters in it are escaped by the JSON writer.
std::string first_line(ByteView body, std::size_t limit) {
  std::string line;
  for (const auto byte : body) {
    if (byte == '\n' || byte == '\r' || line.size() == limit) break;
    line += static_cast<char>(byte);
  }
  return line;
}

void write_to_stderr(std::string_view line) {
  static std::mutex mutex;
  const std::lock_guard lock(mutex);
  (void)std::fwrite(line.data(), 1, line.size(), stderr);
  (void)std::fputc('\n', stderr);
  (void)std::fflush(stderr);
}

std::string dump(const Json& j) {
  // Invalid UTF-8 from a client becomes U+FFFD rather than an exception.
  return j.dump(-1, ' ', false, Json::error_handler_t::replace);
}

}  // namespace

RefusalLog::RefusalLog(std::string listener, LogSink sink)
    : listener_(std::move(listener)), sink_(sink ? std::move(sink) : LogSink(write_to_stderr)) {}

void RefusalLog::write(const std::string& line) const {
  try {
    sink_(line);
  } catch (const std::exception&) {
    // A failing sink must not end the connection it reports on.
  }
}

void RefusalLog::response(const Response& r) const {
  Json j;
  j["time"] = utc_now();
  j["listener"] = listener_;
  j["remote"] = std::string(r.remote);
  j["fingerprint"] = text_or_null(r.fingerprint);
  j["method"] = text_or_null(r.method);
  j["endpoint"] = text_or_null(r.endpoint);
  j["status"] = r.status;
  if (starts_with_ignoring_case(r.content_type, "text/plain")) {
    j["reason"] = first_line(r.body, k_max_reason);
  }
  if (!r.error.empty()) j["error"] = std::string(r.error);
  write(dump(j));
}

void RefusalLog::connection(std::string_view remote, std::string_view error,
                            std::string_view reason, Clock::time_point now) {
  std::uint64_t suppressed = 0;
  {
    const std::lock_guard lock(mutex_);
    auto it = suppression_.find(error);
    if (it == suppression_.end()) {
      suppression_.emplace(std::string(error), Suppression{now, 0});
    } else if (now - it->second.last_logged < k_connection_interval) {
      ++it->second.suppressed;
      return;
    } else {
      suppressed = std::exchange(it->second.suppressed, 0);
      it->second.last_logged = now;
    }
  }
  Json j;
  j["time"] = utc_now();
  j["listener"] = listener_;
  j["remote"] = std::string(remote);
  j["fingerprint"] = nullptr;
  j["error"] = std::string(error);
  j["reason"] = std::string(reason);
  if (suppressed > 0) j["suppressed"] = suppressed;
  write(dump(j));
}

}  // namespace vouchsafe::net::detail
