// The schema's reading and writing rules, and its non-template value types.
#include "core/config_schema.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <filesystem>
#include <sstream>
#include <tuple>

namespace vouchsafe::config {
namespace {

bool is_bare_key(std::string_view name) {
  return !name.empty() && std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '-';
  });
}

// TOML's basic-string escaping (toml.io §String); bytes from 0x80 up are
// left as they are.
std::string escape(std::string_view text) {
  std::string out = "\"";
  for (const char c : text) {
    const auto u = static_cast<unsigned char>(c);
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (u < 0x20 || u == 0x7F) {
          static constexpr char k_hex[] = "0123456789ABCDEF";
          out += "\\u00";
          out += k_hex[u >> 4U];
          out += k_hex[u & 0xFU];
        } else {
          out += c;
        }
    }
  }
  return out + "\"";
}

std::string key_text(std::string_view name) {
  return is_bare_key(name) ? std::string(name) : escape(name);
}

std::string format_number(double v) {
  if (std::abs(v) < 1e15 && v == std::floor(v)) return std::to_string(static_cast<std::int64_t>(v));
  char buf[64];
  const auto r = std::to_chars(buf, buf + sizeof buf, v);
  return {buf, r.ptr};
}

constexpr auto k_format_flags = toml::format_flags::allow_unicode_strings;

std::string format_table(const toml::table& table) {
  std::ostringstream out;
  out << toml::toml_formatter{table, k_format_flags};
  return out.str();
}

// Edits between two names, a swap of neighbours counting as one (optimal
// string alignment), so "mian" is one edit from "main".
std::size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<std::vector<std::size_t>> d(a.size() + 1, std::vector<std::size_t>(b.size() + 1));
  for (std::size_t i = 0; i <= a.size(); ++i) d[i][0] = i;
  for (std::size_t j = 0; j <= b.size(); ++j) d[0][j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    for (std::size_t j = 1; j <= b.size(); ++j) {
      const std::size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
      d[i][j] = std::min({d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost});
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1]) {
        d[i][j] = std::min(d[i][j], d[i - 2][j - 2] + 1);
      }
    }
  }
  return d[a.size()][b.size()];
}

// The candidate a misspelling most likely meant, if one is close enough.
std::optional<std::string> closest(std::string_view name, const std::vector<std::string>& known) {
  std::optional<std::string> best;
  std::size_t best_distance = std::max<std::size_t>(1, std::min<std::size_t>(3, name.size() / 3));
  for (const auto& k : known) {
    const auto d = edit_distance(name, k);
    if (d <= best_distance) {
      best = k;
      best_distance = d;
    }
  }
  return best;
}

std::string list(const std::vector<std::string>& names) {
  std::string out;
  for (const auto& n : names) out += (out.empty() ? "" : ", ") + n;
  return out.empty() ? "none" : out;
}

std::uint32_t line_of(const toml::source_region& source) {
  return source.begin.line;
}

// A table's entries as the file has them (toml++ keeps them sorted by
// name), so that problems are reported from the top of the file down.
std::vector<std::pair<const toml::key*, const toml::node*>> in_file_order(const toml::table& t) {
  std::vector<std::pair<const toml::key*, const toml::node*>> out;
  for (const auto& [k, node] : t) out.emplace_back(&k, &node);
  std::stable_sort(out.begin(), out.end(), [](const auto& a, const auto& b) {
    const auto& x = a.first->source().begin;
    const auto& y = b.first->source().begin;
    return std::tie(x.line, x.column) < std::tie(y.line, y.column);
  });
  return out;
}

}  // namespace

Place::Place(std::string origin, std::string section, std::string key, std::string allowed)
    : origin_(std::move(origin)),
      section_(std::move(section)),
      key_(std::move(key)),
      allowed_(std::move(allowed)) {}

Place::Place(std::string origin, std::string allowed)
    : origin_(std::move(origin)), allowed_(std::move(allowed)) {}

std::string Place::prefix(std::uint32_t line) const {
  std::string out = origin_;
  if (line > 0) out += ":" + std::to_string(line);
  out += ": ";
  if (!section_.empty()) out += "[" + section_ + "]" + (key_.empty() ? "" : " ");
  out += key_;
  if (!section_.empty() || !key_.empty()) out += ": ";
  return out;
}

Unexpected Place::mismatch(const toml::node& value, std::string_view got) const {
  return fail(ErrorCode::usage, prefix(line_of(value.source())) + "expected " + allowed_ +
                                    ", got " + std::string(got));
}

Unexpected Place::mismatch(std::string_view got) const {
  return fail(ErrorCode::usage, prefix(0) + "expected " + allowed_ + ", got " + std::string(got));
}

Place Place::entry(std::string_view name, std::string allowed) const {
  return {origin_, detail::join_path(section_, key_), key_text(name), std::move(allowed)};
}

Place Place::element(std::size_t index, std::string allowed) const {
  return {origin_, section_, key_ + "[" + std::to_string(index) + "]", std::move(allowed)};
}

std::string quote(std::string_view text) {
  constexpr std::size_t k_max = 80;
  if (text.size() <= k_max) return escape(text);
  std::size_t cut = k_max;
  while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xC0U) == 0x80U) --cut;
  return escape(text.substr(0, cut)) + "...";
}

std::string show(const toml::node& value) {
  if (const auto* s = value.as_string()) return quote(s->get());
  if (value.is_table()) return "a table";
  if (value.is_array()) return "an array";
  std::ostringstream out;
  value.visit([&out](const auto& v) {
    if constexpr (toml::is_value<decltype(v)>) out << toml::toml_formatter{v};
  });
  return out.str();
}

std::string show_with_type(const toml::node& value) {
  switch (value.type()) {
    case toml::node_type::string:
      return "a string, " + show(value);
    case toml::node_type::integer:
      return "an integer, " + show(value);
    case toml::node_type::floating_point:
      return "a float, " + show(value);
    case toml::node_type::boolean:
      return "a boolean, " + show(value);
    case toml::node_type::date:
    case toml::node_type::time:
    case toml::node_type::date_time:
      return "a date or time, " + show(value);
    default:
      return show(value);
  }
}

Type<bool> boolean() {
  Type<bool> t;
  t.allowed = "true or false";
  t.read = [](const toml::node& n, const Place& at) -> Result<bool> {
    const auto* v = n.as_boolean();
    if (v == nullptr) return at.mismatch(n, show_with_type(n));
    return v->get();
  };
  t.parse = [](std::string_view s, const Place& at) -> Result<bool> {
    if (s == "true") return true;
    if (s == "false") return false;
    return at.mismatch(quote(s));
  };
  t.write = [](toml::table& into, std::string_view key, const bool& value) {
    into.insert_or_assign(key, value);
  };
  return t;
}

Type<std::string> string_where(
    std::string allowed,
    const std::function<std::optional<std::string>(std::string_view)>& problem) {
  Type<std::string> t;
  t.allowed = std::move(allowed);
  t.parse = [problem](std::string_view s, const Place& at) -> Result<std::string> {
    if (const auto p = problem(s)) return at.mismatch(quote(s) + " (" + *p + ")");
    return std::string(s);
  };
  t.read = [problem](const toml::node& n, const Place& at) -> Result<std::string> {
    const auto* v = n.as_string();
    if (v == nullptr) return at.mismatch(n, show_with_type(n));
    if (const auto p = problem(v->get())) return at.mismatch(n, show(n) + " (" + *p + ")");
    return v->get();
  };
  t.write = [](toml::table& into, std::string_view key, const std::string& value) {
    into.insert_or_assign(key, value);
  };
  return t;
}

Type<std::string> string() {
  return string_where("a string", [](std::string_view) { return std::nullopt; });
}

Type<std::string> text(std::size_t min_chars, std::size_t max_chars) {
  std::string allowed = min_chars == 0 ? "a string of at most " + std::to_string(max_chars)
                                       : "a string of " + std::to_string(min_chars) + " to " +
                                             std::to_string(max_chars);
  return string_where(allowed + " characters",
                      [min_chars, max_chars](std::string_view s) -> std::optional<std::string> {
                        const auto n =
                            static_cast<std::size_t>(std::count_if(s.begin(), s.end(), [](char c) {
                              return (static_cast<unsigned char>(c) & 0xC0U) != 0x80U;
                            }));
                        if (n < min_chars) return n == 0 ? "empty" : "too short";
                        if (n > max_chars) return std::to_string(n) + " characters";
                        return std::nullopt;
                      });
}

namespace {

Type<std::string> existing_path(bool directory, bool may_be_empty) {
  std::string allowed =
      directory ? "the path of an existing directory" : "the path of an existing file";
  if (may_be_empty) allowed += ", or \"\" for none";
  return string_where(std::move(allowed),
                      [directory, may_be_empty](std::string_view s) -> std::optional<std::string> {
                        if (s.empty())
                          return may_be_empty ? std::nullopt : std::optional<std::string>("empty");
                        std::error_code ec;
                        const auto status = std::filesystem::status(std::filesystem::path(s), ec);
                        if (!std::filesystem::exists(status)) return "no such file or directory";
                        if (directory && !std::filesystem::is_directory(status))
                          return "not a directory";
                        if (!directory && std::filesystem::is_directory(status))
                          return "a directory";
                        return std::nullopt;
                      });
}

}  // namespace

Type<std::string> file_path(bool may_be_empty) {
  return existing_path(false, may_be_empty);
}

Type<std::string> directory_path(bool may_be_empty) {
  return existing_path(true, may_be_empty);
}

namespace {

Type<double> bounded_number(std::string allowed, double min, double max, bool above_min) {
  const auto check = [min, max, above_min](double v) {
    return std::isfinite(v) && (above_min ? v > min : v >= min) && v <= max;
  };
  Type<double> t;
  t.allowed = std::move(allowed);
  t.read = [check](const toml::node& n, const Place& at) -> Result<double> {
    double v = 0;
    if (const auto* f = n.as_floating_point()) {
      v = f->get();
    } else if (const auto* i = n.as_integer()) {
      v = static_cast<double>(i->get());
    } else {
      return at.mismatch(n, show_with_type(n));
    }
    if (!check(v)) return at.mismatch(n, show(n));
    return v;
  };
  t.parse = [check](std::string_view s, const Place& at) -> Result<double> {
    const auto v = detail::parse_double(s);
    if (!v || !check(*v)) return at.mismatch(quote(s));
    return *v;
  };
  t.write = [](toml::table& into, std::string_view key, const double& value) {
    into.insert_or_assign(key, value);
  };
  return t;
}

}  // namespace

Type<double> number(double min, double max) {
  return bounded_number("a number from " + format_number(min) + " to " + format_number(max), min,
                        max, false);
}

Type<double> positive_number(double max) {
  return bounded_number("a number above 0, at most " + format_number(max), 0, max, true);
}

namespace detail {

std::optional<std::int64_t> parse_int64(std::string_view text) {
  std::int64_t v = 0;
  const auto* end = text.data() + text.size();
  const auto r = std::from_chars(text.data(), end, v);
  if (text.empty() || r.ec != std::errc() || r.ptr != end) return std::nullopt;
  return v;
}

std::optional<double> parse_double(std::string_view text) {
  double v = 0;
  const auto* end = text.data() + text.size();
  const auto r = std::from_chars(text.data(), end, v);
  if (text.empty() || r.ec != std::errc() || r.ptr != end || !std::isfinite(v)) return std::nullopt;
  return v;
}

namespace {

struct Unit {
  std::string_view suffix;
  std::int64_t ms;
};
// Largest first, for formatting.
constexpr Unit k_units[] = {
    {"d", 86'400'000}, {"h", 3'600'000}, {"m", 60'000}, {"s", 1000}, {"ms", 1}};

}  // namespace

Result<std::chrono::milliseconds> parse_duration(std::string_view text) {
  std::size_t digits = 0;
  while (digits < text.size() && text[digits] >= '0' && text[digits] <= '9') ++digits;
  if (digits == 0) return fail(ErrorCode::usage, "a whole number first, then the unit");
  const auto suffix = text.substr(digits);
  if (suffix.empty()) return fail(ErrorCode::usage, "no unit");
  const auto* unit = std::find_if(std::begin(k_units), std::end(k_units),
                                  [suffix](const Unit& u) { return u.suffix == suffix; });
  if (unit == std::end(k_units)) return fail(ErrorCode::usage, "unknown unit");
  const auto count = parse_int64(text.substr(0, digits));
  if (!count || *count > std::numeric_limits<std::int64_t>::max() / unit->ms) {
    return fail(ErrorCode::usage, "out of range");
  }
  return std::chrono::milliseconds(*count * unit->ms);
}

std::string format_duration(std::chrono::milliseconds d) {
  const auto ms = d.count();
  for (const auto& unit : k_units) {
    if (ms % unit.ms == 0 && (ms != 0 || unit.suffix == "s")) {
      return std::to_string(ms / unit.ms) + std::string(unit.suffix);
    }
  }
  return std::to_string(ms) + "ms";
}

std::string join_path(const std::string& path, std::string_view name) {
  return (path.empty() ? "" : path + ".") + key_text(name);
}

std::string header(const std::string& path) {
  return "[" + path + "]";
}

std::string comment(std::string_view doc, std::string_view allowed) {
  std::string text(doc);
  if (!allowed.empty()) {
    text += (text.empty() ? "" : " ") + std::string("Allowed: ") + std::string(allowed) + ".";
  }
  if (text.empty()) return "";
  // Word-wrapped "# " lines; a '\n' in the doc starts a new one.
  constexpr std::size_t k_width = 78;
  std::string out;
  std::string line;
  const auto flush = [&] {
    out += "#" + (line.empty() ? "" : " " + line) + "\n";
    line.clear();
  };
  std::istringstream paragraphs(text);
  for (std::string paragraph; std::getline(paragraphs, paragraph);) {
    std::istringstream words(paragraph);
    for (std::string word; words >> word;) {
      if (!line.empty() && line.size() + 1 + word.size() > k_width) flush();
      line += (line.empty() ? "" : " ") + word;
    }
    flush();
  }
  return out;
}

std::string format_entry(const std::string& path, const toml::table& one) {
  if (one.empty()) return "";
  // toml++'s iterator returns a reference to a pair it holds itself: keep
  // the iterator alive while the pair is used.
  const auto first = one.begin();
  const auto& [name, node] = *first;
  if (const auto* table = node.as_table()) {
    std::string out = header(join_path(path, name.str())) + "\n";
    for (const auto& [entry, value] : *table) {
      toml::table line;
      line.insert(entry, value);
      out += format_table(line) + "\n";
    }
    return out;
  }
  return format_table(one) + "\n";
}

Status problems_to_status(const std::vector<std::string>& problems) {
  if (problems.empty()) return ok();
  std::string message;
  for (const auto& p : problems) message += (message.empty() ? "" : "\n") + p;
  return fail(ErrorCode::usage, std::move(message));
}

namespace {

std::optional<std::size_t> find_key(const SectionSpec& spec, std::string_view name) {
  for (std::size_t i = 0; i < spec.keys.size(); ++i) {
    if (spec.keys[i].name == name) return i;
  }
  return std::nullopt;
}

std::vector<std::string> key_names(const SectionSpec& spec) {
  std::vector<std::string> out;
  for (const auto& k : spec.keys) {
    if (k.replaced_by.empty()) out.push_back(k.name);
  }
  return out;
}

// The keys of one section's table (or the keys at the top of a table whose
// schema has a "" section); names that are not keys go to `other`.
void read_keys(const std::vector<SectionSpec>& specs, std::size_t s, const toml::table& table,
               std::string_view origin, const std::string& path, const ReadKey& read_key,
               const std::function<void(std::string_view, const toml::node&)>& other,
               std::vector<std::string>& problems) {
  const auto& spec = specs[s];
  for (const auto& [key_ptr, node_ptr] : in_file_order(table)) {
    const auto& k = *key_ptr;
    const auto& node = *node_ptr;
    const auto name = k.str();
    const auto index = find_key(spec, name);
    if (!index) {
      other(name, node);
      continue;
    }
    const auto& key = spec.keys[*index];
    if (auto read =
            read_key(s, *index, node, Place(std::string(origin), path, key.name, key.allowed));
        !read) {
      problems.push_back(read.error().message);
    }
    if (!key.replaced_by.empty()) {
      if (const auto* newer = table.get(key.replaced_by)) {
        problems.push_back(
            Place(std::string(origin), path, key.name, "").prefix(line_of(k.source())) +
            "replaced by " + key.replaced_by + ", which line " +
            std::to_string(line_of(newer->source())) + " sets too; keep only " + key.replaced_by);
      }
    }
  }
  for (const auto& key : spec.keys) {
    if (key.required && !table.contains(key.name)) {
      problems.push_back(
          Place(std::string(origin), path, key.name, "").prefix(line_of(table.source())) +
          "missing; expected " + key.allowed);
    }
  }
}

}  // namespace

void read_table(const std::vector<SectionSpec>& specs, const toml::table& table,
                std::string_view origin, const std::string& path, const ReadKey& read_key,
                const ReadItem& read_item, std::vector<std::string>& problems) {
  std::optional<std::size_t> root;
  std::vector<std::string> sections;
  std::vector<std::string> root_keys;
  std::vector<std::size_t> section_specs;  // the spec of each of `sections`
  for (std::size_t i = 0; i < specs.size(); ++i) {
    if (specs[i].name.empty() && !specs[i].family) {
      root = i;
      root_keys = key_names(specs[i]);
    } else {
      sections.push_back(specs[i].name);
      section_specs.push_back(i);
    }
  }
  std::vector<std::string> section_headers;
  section_headers.reserve(sections.size());
  for (const auto& s : sections) section_headers.push_back(header(join_path(path, s)));

  // A name that is neither a key here nor a section.
  const auto unknown = [&](std::string_view name, const toml::node& node) {
    const auto line = line_of(node.source());
    if (node.is_table() && !sections.empty()) {
      const Place at(std::string(origin), join_path(path, name), "", "");
      const auto guess = closest(name, sections);
      problems.push_back(at.prefix(line) + "unknown section; " +
                         (guess ? "did you mean " + header(join_path(path, *guess)) + "?"
                                : "known: " + list(section_headers)));
      return;
    }
    const Place at(std::string(origin), path, key_text(name), "");
    if (const auto guess = closest(name, root_keys)) {
      problems.push_back(at.prefix(line) + "unknown key; did you mean " + *guess + "?");
    } else if (!root_keys.empty()) {
      problems.push_back(at.prefix(line) + "unknown key; " +
                         (path.empty() ? "known" : header(path) + " takes") + ": " +
                         list(root_keys));
    } else {
      problems.push_back(at.prefix(line) +
                         "unknown key; keys belong in a section: " + list(section_headers));
    }
  };

  const auto section_or_unknown = [&](std::string_view name, const toml::node& node) {
    const auto it = std::find(sections.begin(), sections.end(), name);
    if (it == sections.end()) return unknown(name, node);
    const auto s = section_specs[static_cast<std::size_t>(it - sections.begin())];
    const auto& spec = specs[s];
    const auto sub_path = join_path(path, name);
    const auto* sub = node.as_table();
    if (sub == nullptr) {
      problems.push_back(
          Place(std::string(origin), "", key_text(name), "").prefix(line_of(node.source())) +
          "expected the table " + header(sub_path) + ", got " + show_with_type(node));
      return;
    }
    if (!spec.family) {
      read_keys(
          specs, s, *sub, origin, sub_path, read_key,
          [&](std::string_view key, const toml::node& value) {
            const Place at(std::string(origin), sub_path, key_text(key), "");
            const auto names = key_names(spec);
            const auto guess = closest(key, names);
            problems.push_back(at.prefix(line_of(value.source())) + "unknown key; " +
                               (guess ? "did you mean " + *guess + "?"
                                      : header(sub_path) + " takes " + list(names)));
          },
          problems);
      return;
    }
    for (const auto& [item_ptr, item_node_ptr] : in_file_order(*sub)) {
      const auto& item = *item_ptr;
      const auto& item_node = *item_node_ptr;
      const auto* item_table = item_node.as_table();
      if (item_table == nullptr) {
        problems.push_back(Place(std::string(origin), sub_path, key_text(item.str()), "")
                               .prefix(line_of(item_node.source())) +
                           "expected a table " + header(join_path(sub_path, "NAME")) +
                           " per entry, got " + show_with_type(item_node));
        continue;
      }
      if (auto read = read_item(s, item.str(), *item_table, join_path(sub_path, item.str()));
          !read) {
        problems.push_back(read.error().message);
      }
    }
  };

  if (root) {
    read_keys(specs, *root, table, origin, path, read_key, section_or_unknown, problems);
  } else {
    for (const auto& [k, node] : in_file_order(table)) section_or_unknown(k->str(), *node);
  }
  // A section left out has its required keys missing too: the defaults of
  // required keys are no values (an empty path), and nothing would say so.
  for (std::size_t i = 0; i < sections.size(); ++i) {
    const auto& spec = specs[section_specs[i]];
    if (spec.family || table.contains(sections[i])) continue;
    std::vector<std::string> required;
    for (const auto& key : spec.keys) {
      if (key.required) required.push_back(key.name);
    }
    if (required.empty()) continue;
    problems.push_back(std::string(origin) + ": " + section_headers[i] +
                       " is missing; it must set " + list(required));
  }
}

}  // namespace detail

Result<toml::table> parse_toml(std::string_view text, std::string_view origin) {
  try {
    return toml::parse(text, origin);
  } catch (const toml::parse_error& e) {
    return fail(ErrorCode::usage, std::string(origin) + ":" +
                                      std::to_string(e.source().begin.line) + ": " +
                                      std::string(e.description()));
  }
}

}  // namespace vouchsafe::config
