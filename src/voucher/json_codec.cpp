// JSON codec over the leaf table in model.h.
#include "voucher/json_codec.h"

#include <set>
#include <type_traits>

namespace vouchsafe::voucher {
namespace {

using nlohmann::json;

std::string json_type_name(const json& j) {
  return j.type_name();
}

Unexpected wrong_type(const LeafInfo& leaf, const char* expected, const json& got) {
  return fail(ErrorCode::wrong_type, "leaf '" + std::string(leaf.name) + "' must be " + expected +
                                         ", got " + json_type_name(got));
}

Result<Bytes> decode_binary(const LeafInfo& leaf, const json& j) {
  if (!j.is_string()) return wrong_type(leaf, "a base64 string", j);
  const auto& text = j.get_ref<const std::string&>();
  auto bytes = base64_decode(text);
  if (bytes) return bytes;
  return fail(ErrorCode::malformed_base64,
              "leaf '" + std::string(leaf.name) + "': " + bytes.error().message);
}

// The nonce's bytes and the form its text had: base64 as RFC 7951 says,
// else base64url (RFC 8995 App. C), else the text itself, as opaque bytes.
Status decode_nonce(const json& j, Voucher& v) {
  static constexpr LeafInfo k_nonce{"nonce", LeafType::binary, 7, 7};
  if (!j.is_string()) return wrong_type(k_nonce, "a base64 string", j);
  const auto& text = j.get_ref<const std::string&>();
  if (auto bytes = base64_decode(text)) {
    v.nonce = std::move(bytes).value();
    v.nonce_text = Voucher::NonceText::base64;
  } else if (auto url = base64url_decode(text)) {
    v.nonce = std::move(url).value();
    v.nonce_text = Voucher::NonceText::base64url;
  } else {
    v.nonce = to_bytes(text);
    v.nonce_text = Voucher::NonceText::verbatim;
  }
  return ok();
}

template <typename T>
Status decode_leaf(const LeafInfo& leaf, const json& j, std::optional<T>& out) {
  if constexpr (std::is_same_v<T, DateTime>) {
    if (!j.is_string()) return wrong_type(leaf, "a date-and-time string", j);
    auto dt = parse_date_time(j.get_ref<const std::string&>());
    if (!dt)
      return fail(ErrorCode::invalid_date,
                  "leaf '" + std::string(leaf.name) + "': " + dt.error().message);
    out = *dt;
  } else if constexpr (std::is_same_v<T, Assertion>) {
    if (!j.is_string()) return wrong_type(leaf, "an assertion name", j);
    ASSIGN_OR_RETURN(out, parse_assertion(j.get_ref<const std::string&>()));
  } else if constexpr (std::is_same_v<T, std::string>) {
    if (!j.is_string()) return wrong_type(leaf, "a string", j);
    out = j.get<std::string>();
  } else if constexpr (std::is_same_v<T, bool>) {
    if (j.is_boolean()) {
      out = j.get<bool>();
    } else if (j.is_string() && (j == "true" || j == "false")) {
      out = j == "true";  // RFC 8366 §5.2 example 2 writes "true"
    } else {
      return wrong_type(leaf, "a boolean", j);
    }
  } else if constexpr (std::is_same_v<T, Bytes>) {
    ASSIGN_OR_RETURN(out, decode_binary(leaf, j));
  } else if constexpr (std::is_same_v<T, std::vector<Bytes>>) {
    std::vector<Bytes> list;
    if (j.is_array()) {
      for (const auto& item : j) {
        ASSIGN_OR_RETURN(auto b, decode_binary(leaf, item));
        list.push_back(std::move(b));
      }
    } else {
      ASSIGN_OR_RETURN(auto b, decode_binary(leaf, j));
      list.push_back(std::move(b));
    }
    out = std::move(list);
  } else if constexpr (std::is_same_v<T, std::vector<ExtensionName>>) {
    if (!j.is_array()) return wrong_type(leaf, "an array", j);
    std::vector<ExtensionName> names;
    for (const auto& item : j) {
      if (item.is_string()) {
        names.emplace_back(item.get<std::string>());
      } else if (item.is_number_unsigned()) {
        names.emplace_back(item.get<std::uint64_t>());
      } else {
        return wrong_type(leaf, "an array of names", item);
      }
    }
    out = std::move(names);
  }
  return ok();
}

template <typename T>
json encode_leaf(const T& value) {
  if constexpr (std::is_same_v<T, DateTime>) {
    return format_date_time(value);
  } else if constexpr (std::is_same_v<T, Assertion>) {
    return std::string(assertion_name(value));
  } else if constexpr (std::is_same_v<T, Bytes>) {
    return base64_encode(value);
  } else if constexpr (std::is_same_v<T, std::vector<Bytes>>) {
    json list = json::array();
    for (const auto& b : value) list.push_back(base64_encode(b));
    return list;
  } else if constexpr (std::is_same_v<T, std::vector<ExtensionName>>) {
    json list = json::array();
    for (const auto& n : value) std::visit([&](const auto& x) { list.push_back(x); }, n);
    return list;
  } else {
    return value;
  }
}

// nlohmann's DOM builder, which keeps the last of duplicate members
// silently, behind a SAX handler that refuses them and bounds the nesting.
// (A parser callback does the same but builds a JSON value for every key.)
class StrictDomBuilder {
 public:
  StrictDomBuilder(json& doc, std::size_t max_depth) : dom_(doc, false), max_depth_(max_depth) {}

  bool null() { return dom_.null(); }
  bool boolean(bool v) { return dom_.boolean(v); }
  bool number_integer(json::number_integer_t v) { return dom_.number_integer(v); }
  bool number_unsigned(json::number_unsigned_t v) { return dom_.number_unsigned(v); }
  bool number_float(json::number_float_t v, const json::string_t& text) {
    return dom_.number_float(v, text);
  }
  bool string(json::string_t& v) { return dom_.string(v); }
  bool binary(json::binary_t& v) { return dom_.binary(v); }

  bool start_object(std::size_t n) {
    if (!enter()) return false;
    open_objects_.emplace_back();
    return dom_.start_object(n);
  }
  bool key(json::string_t& k) {
    if (!open_objects_.back().insert(k).second) {
      return refuse(ErrorCode::duplicate_member, "duplicate JSON member '" + k.substr(0, 64) + "'");
    }
    return dom_.key(k);
  }
  bool end_object() {
    open_objects_.pop_back();
    --depth_;
    return dom_.end_object();
  }
  bool start_array(std::size_t n) { return enter() && dom_.start_array(n); }
  bool end_array() {
    --depth_;
    return dom_.end_array();
  }
  bool parse_error(std::size_t /*position*/, const std::string& /*last_token*/,
                   const nlohmann::detail::exception& e) {
    return refuse(ErrorCode::malformed_json, std::string("not valid JSON: ") + e.what());
  }

  [[nodiscard]] ErrorCode problem_code() const { return problem_code_; }
  [[nodiscard]] const std::string& problem() const { return problem_; }

 private:
  bool enter() {
    if (++depth_ <= max_depth_) return true;
    return refuse(ErrorCode::nesting_too_deep,
                  "JSON nested deeper than " + std::to_string(max_depth_) + " levels");
  }
  bool refuse(ErrorCode code, std::string problem) {
    problem_code_ = code;
    problem_ = std::move(problem);
    return false;
  }

  nlohmann::detail::json_sax_dom_parser<json> dom_;
  std::size_t max_depth_;
  std::size_t depth_ = 0;
  std::vector<std::set<std::string>> open_objects_;
  ErrorCode problem_code_ = ErrorCode::malformed_json;
  std::string problem_ = "not valid JSON";
};

bool listed_extension(const Voucher& v, std::string_view member) {
  const auto colon = member.find(':');
  if (colon == std::string_view::npos || !v.extensions) return false;
  const auto name = member.substr(colon + 1);
  for (const auto& e : *v.extensions) {
    if (const auto* s = std::get_if<std::string>(&e); s != nullptr && *s == name) return true;
  }
  return false;
}

}  // namespace

Result<json> parse_strict_json(ByteView text, std::size_t max_depth) {
  json doc;
  StrictDomBuilder builder(doc, max_depth);
  const bool parsed = json::sax_parse(text.begin(), text.end(), &builder,
                                      json::input_format_t::json, /*strict=*/true,
                                      /*ignore_comments=*/false);
  if (!parsed) return fail(builder.problem_code(), builder.problem());
  return doc;
}

Result<Voucher> decode_json(ByteView text, const JsonLimits& limits) {
  ASSIGN_OR_RETURN(auto doc, parse_strict_json(text, limits.max_depth));
  if (!doc.is_object() || doc.size() != 1) {
    return fail(ErrorCode::wrong_type,
                "expected one top-level member, \"ietf-voucher:voucher\" or "
                "\"ietf-voucher-request:voucher\"");
  }
  const auto top = doc.begin();
  const std::string& top_name = top.key();
  const json& body = top.value();
  Voucher v;
  if (top_name == k_voucher_member) {
    v.kind = ArtifactKind::voucher;
  } else if (top_name == k_voucher_request_member ||
             top_name == "ietf-voucher-request-prm:voucher") {
    // BRSKI-PRM -23 examples still use the older "-prm" module name.
    v.kind = ArtifactKind::voucher_request;
  } else {
    return fail(ErrorCode::unknown_leaf,
                "unknown top-level member '" + top_name.substr(0, 64) + "'");
  }
  if (!body.is_object())
    return fail(ErrorCode::wrong_type, "the voucher container must be an object");

  std::set<std::string_view> known;
  Status status = ok();
  for_each_leaf(v, [&](const LeafInfo& leaf, auto& member) {
    if (leaf.sid_delta(v.kind) == 0) return;
    known.insert(leaf.name);
    if (!status) return;
    if (auto it = body.find(std::string(leaf.name)); it != body.end()) {
      status = leaf.name == "nonce" ? decode_nonce(*it, v) : decode_leaf(leaf, *it, member);
    }
  });
  TRY(status);
  for (const auto& [name, value] : body.items()) {
    if (!known.contains(name) && !listed_extension(v, name)) {
      return fail(ErrorCode::unknown_leaf,
                  "unknown leaf '" + name.substr(0, 64) + "' in " + top_name);
    }
  }
  TRY(validate(v));
  return v;
}

std::string json_nonce_text(const Voucher& v) {
  switch (v.nonce_text) {
    case Voucher::NonceText::base64url:
      return base64url_encode(*v.nonce);
    case Voucher::NonceText::verbatim:
      return {v.nonce->begin(), v.nonce->end()};
    case Voucher::NonceText::base64:
      break;
  }
  return base64_encode(*v.nonce);
}

json to_json(const Voucher& v) {
  json body = json::object();
  for_each_leaf(v, [&](const LeafInfo& leaf, const auto& member) {
    if (member) body[std::string(leaf.name)] = encode_leaf(*member);
  });
  if (v.nonce) body["nonce"] = json_nonce_text(v);
  json doc;
  doc[std::string(v.kind == ArtifactKind::voucher ? k_voucher_member : k_voucher_request_member)] =
      std::move(body);
  return doc;
}

Bytes encode_json(const Voucher& v) {
  return to_bytes(to_json(v).dump());
}

}  // namespace vouchsafe::voucher
