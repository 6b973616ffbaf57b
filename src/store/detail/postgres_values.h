// What both PostgreSQL stores (assets, registrar) send and read: statement
// parameters, binary result columns, and a DSN described without its
// password.
#pragma once

#include <libpq-fe.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/bytes.h"
#include "core/result.h"

namespace vouchsafe::store::detail {

// Built-in type OIDs (catalog/pg_type.dat; fixed since PostgreSQL 7).
inline constexpr Oid k_bool_oid = 16;
inline constexpr Oid k_bytea_oid = 17;
inline constexpr Oid k_int8_oid = 20;
inline constexpr Oid k_text_oid = 25;

// A server or libpq message on one line, for error messages.
std::string one_line(std::string_view text);

// "host=... port=... dbname=... user=...": where the store is, for error
// messages. Built from the parsed DSN so that the password never appears;
// a DSN libpq cannot parse is a usage error that shows it only when it
// holds no password.
Result<std::string> describe_dsn(const std::string& dsn);

// A statement's parameters: text for text, integers and booleans; binary
// for bytea.
class Params {
 public:
  Params& text(std::string v) { return add(std::move(v), k_text_oid, 0); }
  Params& optional_text(const std::optional<std::string>& v) {
    return v ? text(*v) : add(std::nullopt, k_text_oid, 0);
  }
  Params& integer(std::int64_t v) { return add(std::to_string(v), k_int8_oid, 0); }
  Params& optional_integer(std::optional<std::int64_t> v) {
    return v ? integer(*v) : add(std::nullopt, k_int8_oid, 0);
  }
  Params& boolean(bool v) { return add(std::string(v ? "t" : "f"), k_bool_oid, 0); }
  Params& bytes(const Bytes& v) { return add(std::string(v.begin(), v.end()), k_bytea_oid, 1); }

  [[nodiscard]] int size() const { return static_cast<int>(values_.size()); }
  [[nodiscard]] const Oid* types() const { return types_.data(); }
  [[nodiscard]] const int* formats() const { return formats_.data(); }
  [[nodiscard]] std::vector<const char*> pointers() const;
  [[nodiscard]] std::vector<int> lengths() const;

 private:
  Params& add(std::optional<std::string> v, Oid type, int format);
  std::vector<std::optional<std::string>> values_;
  std::vector<Oid> types_;
  std::vector<int> formats_;
};

// Column readers for binary-format results.
std::string text_at(const PGresult* r, int row, int col);
Bytes bytes_at(const PGresult* r, int row, int col);
bool null_at(const PGresult* r, int row, int col);
// int2, int4 or int8, big-endian two's complement.
std::int64_t integer_at(const PGresult* r, int row, int col);
bool boolean_at(const PGresult* r, int row, int col);

}  // namespace vouchsafe::store::detail
