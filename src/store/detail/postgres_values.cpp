// Parameters, binary result columns and DSN descriptions for libpq.
#include "store/detail/postgres_values.h"

#include "store/postgres_handles.h"

namespace vouchsafe::store::detail {
namespace {

// libpq quotes the offending part of a DSN it cannot parse, which may be
// (part of) the password: such details are only shown for DSNs without one.
bool may_hold_password(std::string_view dsn) {
  if (dsn.find("password") != std::string_view::npos) return true;
  const auto scheme = dsn.find("://");
  if (scheme == std::string_view::npos) return false;
  const auto at = dsn.find('@', scheme);
  return at != std::string_view::npos &&
         dsn.substr(scheme, at - scheme).find(':', 3) != std::string_view::npos;
}

}  // namespace

std::string one_line(std::string_view text) {
  std::string out;
  for (char c : text) {
    if (c == '\n' || c == '\r' || c == '\t') c = ' ';
    if (c == ' ' && (out.empty() || out.back() == ' ')) continue;
    out += c;
  }
  while (!out.empty() && out.back() == ' ') out.pop_back();
  return out;
}

Result<std::string> describe_dsn(const std::string& dsn) {
  char* raw_error = nullptr;
  PgConninfoPtr options(PQconninfoParse(dsn.c_str(), &raw_error));
  PgCharPtr error(raw_error);
  if (!options) {
    std::string message =
        "the PostgreSQL store DSN cannot be parsed: write key=value pairs "
        "('host=db.example port=5432 dbname=vouchsafe user=masa') or a URI "
        "('postgresql://masa@db.example/vouchsafe')";
    if (error && !may_hold_password(dsn)) message += " (" + one_line(error.get()) + ")";
    return fail(ErrorCode::usage, message);
  }
  std::string out;
  for (const auto* o = options.get(); o->keyword != nullptr; ++o) {
    const std::string_view key = o->keyword;
    if (o->val == nullptr || *o->val == '\0') continue;
    if (key == "host" || key == "hostaddr" || key == "port" || key == "dbname" || key == "user") {
      if (!out.empty()) out += ' ';
      out += std::string(key) + '=' + o->val;
    }
  }
  return out.empty() ? std::string("libpq defaults") : out;
}

std::vector<const char*> Params::pointers() const {
  std::vector<const char*> out;
  out.reserve(values_.size());
  for (const auto& v : values_) out.push_back(v ? v->data() : nullptr);
  return out;
}

std::vector<int> Params::lengths() const {
  std::vector<int> out;
  out.reserve(values_.size());
  for (const auto& v : values_) out.push_back(v ? static_cast<int>(v->size()) : 0);
  return out;
}

Params& Params::add(std::optional<std::string> v, Oid type, int format) {
  values_.push_back(std::move(v));
  types_.push_back(type);
  formats_.push_back(format);
  return *this;
}

std::string text_at(const PGresult* r, int row, int col) {
  return {PQgetvalue(r, row, col), static_cast<std::size_t>(PQgetlength(r, row, col))};
}

Bytes bytes_at(const PGresult* r, int row, int col) {
  const auto* p = reinterpret_cast<const std::uint8_t*>(PQgetvalue(r, row, col));
  return {p, p + PQgetlength(r, row, col)};
}

bool null_at(const PGresult* r, int row, int col) {
  return PQgetisnull(r, row, col) != 0;
}

std::int64_t integer_at(const PGresult* r, int row, int col) {
  const auto* p = reinterpret_cast<const std::uint8_t*>(PQgetvalue(r, row, col));
  const int n = PQgetlength(r, row, col);
  std::uint64_t v = 0;
  for (int i = 0; i < n; ++i) v = (v << 8U) | p[i];
  if (n > 0 && n < 8 && (p[0] & 0x80U) != 0) {
    v |= ~std::uint64_t{0} << (8U * static_cast<unsigned>(n));
  }
  return static_cast<std::int64_t>(v);
}

bool boolean_at(const PGresult* r, int row, int col) {
  return PQgetlength(r, row, col) == 1 && *PQgetvalue(r, row, col) != 0;
}

}  // namespace vouchsafe::store::detail
