// Configuration files as a schema (STYLE.md habit 19): every section and key
// declared once with its C++ member, type, range and comment; reading refuses
// anything else with the file, line and key named, and writing goes through
// toml++'s formatter, so a value is always quoted and escaped correctly.
//
//   config::Schema<Settings> schema;
//   schema.section("limits", "Abuse limits of the public listener.")
//       .key("threads", &Settings::threads, config::integer(0U, 1024U), "0: one per core");
//   ASSIGN_OR_RETURN(auto settings, config::parse(schema, text, "masa.toml"));
#pragma once

#include <toml++/toml.h>

#include <chrono>
#include <concepts>
#include <cstdint>
#include <functional>
#include <limits>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/result.h"

namespace vouchsafe::config {

// Where a value sits, so that a complaint names it as the operator finds it:
// "masa.toml:27: [limits] threads: expected an integer from 0 to 1024, got -1",
// or, for a value from the environment or a flag, "--listen: expected ...".
class Place {
 public:
  Place(std::string origin, std::string section, std::string key, std::string allowed);
  // A value given as text (an environment variable, a flag): its name only.
  Place(std::string origin, std::string allowed);

  // "expected <allowed>, got <got>", at the value's line.
  [[nodiscard]] Unexpected mismatch(const toml::node& value, std::string_view got) const;
  // The same for a value given as text.
  [[nodiscard]] Unexpected mismatch(std::string_view got) const;
  // The prefix of every complaint: "origin:line: [section] key: ".
  [[nodiscard]] std::string prefix(std::uint32_t line) const;

  // An entry of a table-valued key ("[policy.products] widget") and an
  // element of an array-valued one ("[policy] customer_anchors[2]").
  [[nodiscard]] Place entry(std::string_view name, std::string allowed) const;
  [[nodiscard]] Place element(std::size_t index, std::string allowed) const;

 private:
  std::string origin_, section_, key_, allowed_;
};

// A value as the operator wrote it, for messages: "-1", "\"1000\"", "a table".
std::string show(const toml::node& value);
// The same with its TOML type first: "a string, \"1000\"", "a float, 1.5".
std::string show_with_type(const toml::node& value);
// Text in TOML's basic-string quoting, shortened if long.
std::string quote(std::string_view text);

// One kind of value: how it is read from TOML and from text (environment
// variables, flags), how it is written back, and what it allows, in words
// that complete "expected ...". Build one with the functions below; a module
// with a syntax of its own (HOST:PORT, an OID) uses `parsed` or
// `string_where`.
template <typename T>
struct Type {
  std::string allowed;
  std::function<Result<T>(const toml::node&, const Place&)> read;
  // Empty when the type has no text form (arrays, tables).
  std::function<Result<T>(std::string_view, const Place&)> parse;
  std::function<void(toml::table&, std::string_view key, const T&)> write;
};

// Reads a value given as text with a type's rules: `origin` names its source
// ("VOUCHSAFE_MASA_LISTEN", "--listen") in the message.
template <typename T>
Result<T> parse_text(const Type<T>& type, std::string_view text, std::string origin) {
  const Place at(std::move(origin), type.allowed);
  if (!type.parse) return at.mismatch(quote(text));
  return type.parse(text, at);
}

Type<bool> boolean();
Type<std::string> string();
// A string that `problem` accepts: it returns what is wrong, or nothing.
Type<std::string> string_where(
    std::string allowed,
    const std::function<std::optional<std::string>(std::string_view)>& problem);
// A string of min..max characters (UTF-8 code points).
Type<std::string> text(std::size_t min_chars, std::size_t max_chars);
// The path of something that exists and is not a directory (a file, a pipe);
// with may_be_empty, "" stands for none.
Type<std::string> file_path(bool may_be_empty);
Type<std::string> directory_path(bool may_be_empty);
// A number; integers are taken too. NaN and infinities never are.
Type<double> number(double min, double max);
// A number above zero (not equal to it).
Type<double> positive_number(double max);

namespace detail {
std::optional<std::int64_t> parse_int64(std::string_view text);
std::optional<double> parse_double(std::string_view text);
Result<std::chrono::milliseconds> parse_duration(std::string_view text);
std::string format_duration(std::chrono::milliseconds d);
}  // namespace detail

template <std::integral I>
Type<I> integer(I min, I max) {
  constexpr auto k_low = std::numeric_limits<std::int64_t>::min();
  constexpr auto k_high = std::numeric_limits<std::int64_t>::max();
  const std::int64_t lo = std::cmp_less(min, k_low) ? k_low : static_cast<std::int64_t>(min);
  const std::int64_t hi = std::cmp_greater(max, k_high) ? k_high : static_cast<std::int64_t>(max);
  Type<I> t;
  t.allowed = "an integer from " + std::to_string(min) + " to " + std::to_string(max);
  t.read = [lo, hi](const toml::node& n, const Place& at) -> Result<I> {
    const auto* v = n.as_integer();
    if (v == nullptr) return at.mismatch(n, show_with_type(n));
    if (v->get() < lo || v->get() > hi) return at.mismatch(n, std::to_string(v->get()));
    return static_cast<I>(v->get());
  };
  t.parse = [lo, hi](std::string_view s, const Place& at) -> Result<I> {
    const auto v = detail::parse_int64(s);
    if (!v || *v < lo || *v > hi) return at.mismatch(quote(s));
    return static_cast<I>(*v);
  };
  t.write = [](toml::table& into, std::string_view key, const I& value) {
    into.insert_or_assign(key, static_cast<std::int64_t>(value));
  };
  return t;
}

// A duration written with its unit: a whole number and one of ms, s, m, h,
// d ("500ms", "20m", "12h", "30d"). A bare number is refused: nobody should
// have to guess whether 30 means seconds or days.
template <typename Rep, typename Period>
Type<std::chrono::duration<Rep, Period>> duration(std::chrono::duration<Rep, Period> min,
                                                  std::chrono::duration<Rep, Period> max) {
  using D = std::chrono::duration<Rep, Period>;
  using std::chrono::milliseconds;
  const auto check = [min, max](std::string_view s) -> Result<D> {
    ASSIGN_OR_RETURN(const auto ms, detail::parse_duration(s));
    const auto d = std::chrono::duration_cast<D>(ms);
    if (std::chrono::duration_cast<milliseconds>(d) != ms) {
      return fail(ErrorCode::usage, "finer than the key's resolution");
    }
    if (d < min || d > max) return fail(ErrorCode::usage, "out of range");
    return d;
  };
  Type<D> t;
  t.allowed = "a duration from " +
              detail::format_duration(std::chrono::duration_cast<milliseconds>(min)) + " to " +
              detail::format_duration(std::chrono::duration_cast<milliseconds>(max)) +
              R"(: a whole number and a unit (ms, s, m, h or d), as in "20m", "12h" or "30d")";
  t.read = [check](const toml::node& n, const Place& at) -> Result<D> {
    const auto* v = n.as_string();
    if (v == nullptr) return at.mismatch(n, show_with_type(n));
    auto d = check(v->get());
    if (!d) return at.mismatch(n, show(n) + " (" + d.error().message + ")");
    return d;
  };
  t.parse = [check](std::string_view s, const Place& at) -> Result<D> {
    auto d = check(s);
    if (!d) return at.mismatch(quote(s) + " (" + d.error().message + ")");
    return d;
  };
  t.write = [](toml::table& into, std::string_view key, const D& value) {
    into.insert_or_assign(
        key, detail::format_duration(std::chrono::duration_cast<std::chrono::milliseconds>(value)));
  };
  return t;
}

// A duration as a bare count of `unit`s (max_nonceless_days = 30): for keys
// older files still carry; new keys take `duration`.
template <typename D>
Type<D> count_of(D unit, const std::string& unit_name, std::int64_t min, std::int64_t max) {
  const auto count = integer(min, max);
  Type<D> t;
  t.allowed = "a whole number of " + unit_name + " from " + std::to_string(min) + " to " +
              std::to_string(max);
  t.read = [count, unit](const toml::node& n, const Place& at) -> Result<D> {
    ASSIGN_OR_RETURN(const auto c, count.read(n, at));
    return c * unit;
  };
  t.parse = [count, unit](std::string_view s, const Place& at) -> Result<D> {
    ASSIGN_OR_RETURN(const auto c, count.parse(s, at));
    return c * unit;
  };
  t.write = [unit](toml::table& into, std::string_view key, const D& value) {
    into.insert_or_assign(key, static_cast<std::int64_t>(value / unit));
  };
  return t;
}

// One of a fixed set of names, each standing for a C++ value.
template <typename T>
Type<T> one_of(std::vector<std::pair<std::string, T>> choices) {
  std::string allowed = "one of ";
  for (std::size_t i = 0; i < choices.size(); ++i) {
    allowed += (i == 0 ? "" : ", ") + quote(choices[i].first);
  }
  Type<T> t;
  t.allowed = std::move(allowed);
  t.parse = [choices](std::string_view s, const Place& at) -> Result<T> {
    for (const auto& [name, value] : choices) {
      if (name == s) return value;
    }
    return at.mismatch(quote(s));
  };
  t.read = [parse = t.parse](const toml::node& n, const Place& at) -> Result<T> {
    const auto* v = n.as_string();
    if (v == nullptr) return at.mismatch(n, show_with_type(n));
    auto value = parse(v->get(), at);
    if (!value) return at.mismatch(n, show(n));
    return value;
  };
  t.write = [choices](toml::table& into, std::string_view key, const T& value) {
    for (const auto& [name, v] : choices) {
      if (v == value) {
        into.insert_or_assign(key, name);
        return;
      }
    }
  };
  return t;
}

// A string with a syntax of its own: `read` turns the text into a T or says
// what is wrong with it, `format` turns a T back into the text.
template <typename T>
// NOLINTNEXTLINE(performance-unnecessary-value-param): moved into t.allowed (tidy 14 misses it)
Type<T> parsed(std::string allowed, const std::function<Result<T>(std::string_view)>& read,
               const std::function<std::string(const T&)>& format) {
  Type<T> t;
  t.allowed = std::move(allowed);
  t.parse = [read](std::string_view s, const Place& at) -> Result<T> {
    auto value = read(s);
    if (!value) return at.mismatch(quote(s) + " (" + value.error().message + ")");
    return value;
  };
  t.read = [read](const toml::node& n, const Place& at) -> Result<T> {
    const auto* v = n.as_string();
    if (v == nullptr) return at.mismatch(n, show_with_type(n));
    auto value = read(v->get());
    if (!value) return at.mismatch(n, show(n) + " (" + value.error().message + ")");
    return value;
  };
  t.write = [format](toml::table& into, std::string_view key, const T& value) {
    into.insert_or_assign(key, format(value));
  };
  return t;
}

template <typename T>
Type<std::vector<T>> array_of(Type<T> element) {
  Type<std::vector<T>> t;
  t.allowed = "an array, each " + element.allowed;
  t.read = [element](const toml::node& n, const Place& at) -> Result<std::vector<T>> {
    const auto* array = n.as_array();
    if (array == nullptr) return at.mismatch(n, show_with_type(n));
    std::vector<T> out;
    for (std::size_t i = 0; i < array->size(); ++i) {
      ASSIGN_OR_RETURN(auto value, element.read(*array->get(i), at.element(i, element.allowed)));
      out.push_back(std::move(value));
    }
    return out;
  };
  t.write = [element](toml::table& into, std::string_view key, const std::vector<T>& values) {
    toml::array array;
    for (const auto& value : values) {
      toml::table one;
      element.write(one, "v", value);
      if (auto* node = one.get("v")) {
        node->visit([&array](auto& concrete) { array.push_back(std::move(concrete)); });
      }
    }
    into.insert_or_assign(key, std::move(array));
  };
  return t;
}

// A table of NAME = value entries, e.g. per-product policies; written as a
// [section.key] table of its own.
template <typename T>
Type<std::map<std::string, T>> table_of(Type<T> value) {
  Type<std::map<std::string, T>> t;
  t.allowed = "a table of NAME = " + value.allowed;
  t.read = [value](const toml::node& n, const Place& at) -> Result<std::map<std::string, T>> {
    const auto* table = n.as_table();
    if (table == nullptr) return at.mismatch(n, show_with_type(n));
    std::map<std::string, T> out;
    for (const auto& [name, node] : *table) {
      ASSIGN_OR_RETURN(auto v, value.read(node, at.entry(name.str(), value.allowed)));
      out.emplace(std::string(name.str()), std::move(v));
    }
    return out;
  };
  t.write = [value](toml::table& into, std::string_view key,
                    const std::map<std::string, T>& entries) {
    toml::table table;
    for (const auto& [name, v] : entries) value.write(table, name, v);
    into.insert_or_assign(key, std::move(table));
  };
  return t;
}

namespace detail {

// The schema's declarations with the C++ members left out; the reading and
// writing rules live in config_schema.cpp, apart from the templates.
struct KeySpec {
  std::string name, doc, allowed;
  bool required = false;
  std::string replaced_by;  // non-empty: a key older files carry, read but never written
};

struct SectionSpec {
  std::string name;  // "" for keys at the top of the table
  std::string doc;
  bool family = false;  // [name.ITEM] tables, each read with an item schema
  std::vector<KeySpec> keys;
};

// Reads one key's value into the settings; `section` and `key` index the
// specs.
using ReadKey =
    std::function<Status(std::size_t section, std::size_t key, const toml::node&, const Place&)>;
// Reads one [family.ITEM] table into the settings.
using ReadItem = std::function<Status(std::size_t section, std::string_view item,
                                      const toml::table&, const std::string& path)>;

// Checks every name in `table` against the specs and calls back for each
// value; every problem found is collected, one line each.
void read_table(const std::vector<SectionSpec>& specs, const toml::table& table,
                std::string_view origin, const std::string& path, const ReadKey& read_key,
                const ReadItem& read_item, std::vector<std::string>& problems);

// "# ..." lines for a key or section: the doc, then "Allowed: ...".
std::string comment(std::string_view doc, std::string_view allowed);
// One "key = value" line, or a "[path]" table with its entries, formatted by toml++.
std::string format_entry(const std::string& path, const toml::table& one);
// A table header "[a.b]" with each name quoted if it must be.
std::string header(const std::string& path);
std::string join_path(const std::string& path, std::string_view name);

Status problems_to_status(const std::vector<std::string>& problems);

}  // namespace detail

// The sections and keys of one file (or of one [family.ITEM] table), bound to
// the members of S that hold their values.
template <typename S>
class Schema {
 public:
  // The keys declared next belong to [name]; "" for keys at the top.
  Schema& section(std::string name, std::string doc = {}) {
    specs_.push_back({std::move(name), std::move(doc), false, {}});
    keys_.emplace_back();
    items_.emplace_back();
    return *this;
  }

  template <typename T>
  Schema& key(std::string name, T S::*member, Type<T> type, std::string doc = {}) {
    if (specs_.empty()) section("");
    specs_.back().keys.push_back({name, std::move(doc), type.allowed, false, {}});
    keys_.back().push_back(
        Binding{[member, type](const toml::node& n, const Place& at, S& s) -> Status {
                  ASSIGN_OR_RETURN(s.*member, type.read(n, at));
                  return ok();
                },
                [member, type, name](const S& s, toml::table& into) {
                  type.write(into, name, s.*member);
                }});
    return *this;
  }

  // The key declared last must be present.
  Schema& required() {
    specs_.back().keys.back().required = true;
    return *this;
  }

  // A key of older files that `replaced_by` (of the same section) took over:
  // still read, never written, and refused beside the new key.
  template <typename T>
  Schema& legacy_key(std::string name, T S::*member, Type<T> type, std::string replaced_by) {
    key(std::move(name), member, std::move(type));
    specs_.back().keys.back().replaced_by = std::move(replaced_by);
    return *this;
  }

  // [name.ITEM] tables, each read with `items` into (s.*member)[ITEM].
  template <typename Item>
  Schema& tables(std::string name, std::map<std::string, Item> S::*member, Schema<Item> items,
                 std::string doc = {}) {
    specs_.push_back({std::move(name), std::move(doc), true, {}});
    keys_.emplace_back();
    items_.push_back(ItemBinding{
        [member, items](std::string_view item, const toml::table& t, std::string_view origin,
                        const std::string& path, std::vector<std::string>& problems, S& s) {
          Item value{};
          if (items.read_into(t, origin, path, value, problems)) {
            (s.*member).insert_or_assign(std::string(item), std::move(value));
          }
        },
        [member, items](const S& s, const std::string& path) {
          std::string out;
          for (const auto& [item, value] : s.*member) {
            out +=
                (out.empty() ? "" : "\n") + items.write_table(value, detail::join_path(path, item));
          }
          return out;
        }});
    return *this;
  }

  // Reads `doc` into `into` (which holds the defaults); every problem is
  // reported, one line each, with the file, line and key.
  [[nodiscard]] Status read(const toml::table& doc, std::string_view origin, S& into) const {
    std::vector<std::string> problems;
    read_into(doc, origin, "", into, problems);
    return detail::problems_to_status(problems);
  }

  // The file for `from`: `preamble` (comment lines), then every section with
  // its keys, each under a comment saying what it is and allows.
  [[nodiscard]] std::string write(const S& from, std::string_view preamble) const {
    std::string out(preamble);
    for (std::size_t i = 0; i < specs_.size(); ++i) {
      const auto& spec = specs_[i];
      if (spec.family) {
        out += "\n" + detail::comment(spec.doc, "");
        out += items_[i].write(from, spec.name);
      } else {
        out += write_section(from, i, spec.name);
      }
    }
    return out;
  }

  // Reads one table (an item of a family) into `into`; false if it had a problem.
  bool read_into(const toml::table& table, std::string_view origin, const std::string& path,
                 S& into, std::vector<std::string>& problems) const {
    const auto before = problems.size();
    detail::read_table(
        specs_, table, origin, path,
        [&](std::size_t section, std::size_t key, const toml::node& n, const Place& at) {
          return keys_[section][key].read(n, at, into);
        },
        [&](std::size_t section, std::string_view item, const toml::table& t,
            const std::string& item_path) {
          items_[section].read(item, t, origin, item_path, problems, into);
          return ok();
        },
        problems);
    return problems.size() == before;
  }

  // One item's table: its header, then its keys without comments (the
  // family's comment says what they are).
  [[nodiscard]] std::string write_table(const S& from, const std::string& path) const {
    std::string out = detail::header(path) + "\n";
    for (std::size_t i = 0; i < specs_.size(); ++i) {
      if (specs_[i].family || !specs_[i].name.empty()) continue;
      for (std::size_t k = 0; k < specs_[i].keys.size(); ++k) {
        if (!specs_[i].keys[k].replaced_by.empty()) continue;
        toml::table one;
        keys_[i][k].write(from, one);
        out += detail::format_entry(path, one);
      }
    }
    return out;
  }

 private:
  struct Binding {
    std::function<Status(const toml::node&, const Place&, S&)> read;
    std::function<void(const S&, toml::table&)> write;
  };
  struct ItemBinding {
    std::function<void(std::string_view, const toml::table&, std::string_view, const std::string&,
                       std::vector<std::string>&, S&)>
        read;
    std::function<std::string(const S&, const std::string&)> write;
  };

  [[nodiscard]] std::string write_section(const S& from, std::size_t i,
                                          const std::string& name) const {
    const auto& spec = specs_[i];
    std::string values;
    std::string tables;
    for (std::size_t k = 0; k < spec.keys.size(); ++k) {
      const auto& key = spec.keys[k];
      if (!key.replaced_by.empty()) continue;
      toml::table one;
      keys_[i][k].write(from, one);
      // TOML needs a section's plain values before any table under it.
      auto& target =
          one.get(key.name) != nullptr && one.get(key.name)->is_table() ? tables : values;
      target += (target.empty() ? "" : "\n") + detail::comment(key.doc, key.allowed) +
                detail::format_entry(name, one);
    }
    std::string out = "\n" + detail::comment(spec.doc, "");
    if (!name.empty()) out += detail::header(name) + "\n";
    out += values;
    if (!tables.empty()) out += "\n" + tables;
    return out;
  }

  std::vector<detail::SectionSpec> specs_;
  std::vector<std::vector<Binding>> keys_;  // per section, per key
  std::vector<ItemBinding> items_;          // per section; set for families only
};

// TOML text as a table; a syntax error names `origin` and the line.
Result<toml::table> parse_toml(std::string_view text, std::string_view origin);

// Parses TOML text and reads it with a schema over `defaults`. `origin`
// (usually the file's path) starts every message.
template <typename S>
Result<S> parse(const Schema<S>& schema, std::string_view text, std::string_view origin,
                S defaults = {}) {
  ASSIGN_OR_RETURN(const auto doc, parse_toml(text, origin));
  TRY(schema.read(doc, origin, defaults));
  return defaults;
}

}  // namespace vouchsafe::config
