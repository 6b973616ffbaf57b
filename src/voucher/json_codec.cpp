// JSON codec over the leaf table in model.h.
#include "voucher/json_codec.h"

#include <algorithm>
#include <array>
#include <charconv>
#include <type_traits>

#include "voucher/json_reader.h"

namespace vouchsafe::voucher {
namespace {

using nlohmann::json;
using Kind = JsonValue::Kind;

Unexpected wrong_type(const LeafInfo& leaf, const char* expected, const JsonValue& got) {
  return fail(ErrorCode::wrong_type, "leaf '" + std::string(leaf.name) + "' must be " + expected +
                                         ", got " + std::string(json_kind_name(got.kind)));
}

Result<Bytes> decode_binary(const LeafInfo& leaf, const JsonValue& j) {
  if (j.kind != Kind::string) return wrong_type(leaf, "a base64 string", j);
  auto bytes = base64_decode(j.text);
  if (bytes) return bytes;
  return fail(ErrorCode::malformed_base64,
              "leaf '" + std::string(leaf.name) + "': " + bytes.error().message);
}

// The nonce's bytes from its text: base64 as RFC 7951 says, else base64url
// (RFC 8995 App. C), else the text itself, as opaque bytes.
Bytes nonce_bytes(std::string_view text) {
  if (auto bytes = base64_decode(text)) return std::move(bytes).value();
  if (auto url = base64url_decode(text)) return std::move(url).value();
  return to_bytes(text);
}

// The nonce's bytes, and its text kept as the sender spelled it.
Status decode_nonce(const JsonValue& j, Voucher& v) {
  static constexpr LeafInfo k_nonce{"nonce", LeafType::binary, 7, 7};
  if (j.kind != Kind::string) return wrong_type(k_nonce, "a base64 string", j);
  v.nonce = nonce_bytes(j.text);
  v.nonce_spelling.text = j.text;
  return ok();
}

template <typename T>
Status decode_leaf(const LeafInfo& leaf, const JsonValue& j, std::optional<T>& out) {
  if constexpr (std::is_same_v<T, DateTime>) {
    if (j.kind != Kind::string) return wrong_type(leaf, "a date-and-time string", j);
    auto dt = parse_date_time(j.text);
    if (!dt)
      return fail(ErrorCode::invalid_date,
                  "leaf '" + std::string(leaf.name) + "': " + dt.error().message);
    out = *dt;
  } else if constexpr (std::is_same_v<T, Assertion>) {
    if (j.kind != Kind::string) return wrong_type(leaf, "an assertion name", j);
    ASSIGN_OR_RETURN(out, parse_assertion(j.text));
  } else if constexpr (std::is_same_v<T, std::string>) {
    if (j.kind != Kind::string) return wrong_type(leaf, "a string", j);
    out = j.text;
  } else if constexpr (std::is_same_v<T, bool>) {
    if (j.kind == Kind::boolean) {
      out = j.boolean;
    } else if (j.kind == Kind::string && (j.text == "true" || j.text == "false")) {
      out = j.text == "true";  // RFC 8366 §5.2 example 2 writes "true"
    } else {
      return wrong_type(leaf, "a boolean", j);
    }
  } else if constexpr (std::is_same_v<T, Bytes>) {
    ASSIGN_OR_RETURN(out, decode_binary(leaf, j));
  } else if constexpr (std::is_same_v<T, std::vector<Bytes>>) {
    std::vector<Bytes> list;
    if (j.kind == Kind::array) {
      for (const auto& item : j.items) {
        ASSIGN_OR_RETURN(auto b, decode_binary(leaf, item));
        list.push_back(std::move(b));
      }
    } else {
      ASSIGN_OR_RETURN(auto b, decode_binary(leaf, j));
      list.push_back(std::move(b));
    }
    out = std::move(list);
  } else if constexpr (std::is_same_v<T, std::vector<ExtensionName>>) {
    if (j.kind != Kind::array) return wrong_type(leaf, "an array", j);
    std::vector<ExtensionName> names;
    for (const auto& item : j.items) {
      if (item.kind == Kind::string) {
        names.emplace_back(item.text);
      } else if (const auto n = item.as_unsigned_integer()) {
        names.emplace_back(*n);
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

// A number as nlohmann reads one: unsigned, else signed, else floating.
json number_to_json(const JsonValue& number) {
  json out;
  if (const auto u = number.as_unsigned_integer()) {
    out = *u;
    return out;
  }
  const std::string& text = number.text;
  const char* begin = text.data();
  const char* end = begin + text.size();
  std::int64_t i = 0;
  if (const auto r = std::from_chars(begin, end, i); r.ec == std::errc() && r.ptr == end) {
    out = i;
    return out;
  }
  // read_json refused what overflows; what underflows is zero.
  double d = 0;
  if (std::from_chars(begin, end, d).ec != std::errc()) d = text[0] == '-' ? -0.0 : 0.0;
  out = d;
  return out;
}

// read_json has refused all it would refuse; conversion cannot fail.
// Braced returns would be nlohmann initializer lists, which build arrays.
// NOLINTBEGIN(modernize-return-braced-init-list)
json to_nlohmann(JsonValue&& v) {
  switch (v.kind) {
    case Kind::null:
      return json(nullptr);
    case Kind::boolean:
      return json(v.boolean);
    case Kind::number:
      return number_to_json(v);
    case Kind::string:
      return json(std::move(v.text));
    case Kind::array: {
      json out = json::array();
      for (auto& item : v.items) out.push_back(to_nlohmann(std::move(item)));
      return out;
    }
    case Kind::object: {
      json out = json::object();
      for (auto& [name, member] : v.members)
        out.emplace(std::move(name), to_nlohmann(std::move(member)));
      return out;
    }
  }
  return json(nullptr);
}
// NOLINTEND(modernize-return-braced-init-list)

// The enrolling extension's leaves, by their JSON names.
constexpr std::array<std::pair<std::string_view, Bytes EnrollingExtension::*>, 3>
    k_enrolling_leaves{{{"device-key", &EnrollingExtension::device_key},
                        {"encrypted-share", &EnrollingExtension::encrypted_share},
                        {"ldevid", &EnrollingExtension::ldevid}}};

Result<EnrollingExtension> decode_enrolling(const JsonValue& j) {
  const std::string where(k_enrolling_member);
  if (j.kind != Kind::object) {
    return fail(ErrorCode::wrong_type,
                "'" + where + "' must be an object, got " + std::string(json_kind_name(j.kind)));
  }
  EnrollingExtension e;
  for (const auto& member : j.members) {
    const auto* leaf = std::find_if(k_enrolling_leaves.begin(), k_enrolling_leaves.end(),
                                    [&](const auto& l) { return l.first == member.name; });
    if (leaf == k_enrolling_leaves.end()) {
      return fail(ErrorCode::unknown_leaf,
                  "unknown leaf '" + member.name.substr(0, 64) + "' in " + where);
    }
    const LeafInfo info{leaf->first, LeafType::binary, 0, 0};
    ASSIGN_OR_RETURN(e.*(leaf->second), decode_binary(info, member.value));
  }
  return e;
}

json encode_enrolling(const EnrollingExtension& e) {
  json out = json::object();
  for (const auto& [name, member] : k_enrolling_leaves) {
    out[std::string(name)] = base64_encode(e.*member);
  }
  return out;
}

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
  ASSIGN_OR_RETURN(auto doc, read_json(text, max_depth));
  return to_nlohmann(std::move(doc));
}

Result<Voucher> decode_json(ByteView text, const JsonLimits& limits) {
  ASSIGN_OR_RETURN(const JsonValue doc, read_json(text, limits.max_depth));
  if (doc.kind != Kind::object || doc.members.size() != 1) {
    return fail(ErrorCode::wrong_type,
                "expected one top-level member, \"ietf-voucher:voucher\" or "
                "\"ietf-voucher-request:voucher\"");
  }
  const std::string& top_name = doc.members.front().name;
  const JsonValue& body = doc.members.front().value;
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
  if (body.kind != Kind::object)
    return fail(ErrorCode::wrong_type, "the voucher container must be an object");

  // Members are unique (read_json), so counting the known ones found tells
  // whether any other is left.
  std::size_t known_found = 0;
  Status status = ok();
  for_each_leaf(v, [&](const LeafInfo& leaf, auto& member) {
    if (leaf.sid_delta(v.kind) == 0 || !status) return;
    if (const JsonValue* j = body.find(leaf.name)) {
      ++known_found;
      status = leaf.name == "nonce" ? decode_nonce(*j, v) : decode_leaf(leaf, *j, member);
    }
  });
  TRY(status);
  if (const JsonValue* enrolling = body.find(k_enrolling_member)) {
    ASSIGN_OR_RETURN(v.enrolling, decode_enrolling(*enrolling));
    ++known_found;
  }
  if (known_found != body.members.size()) {
    for (const auto& member : body.members) {
      const std::string& name = member.name;
      if (name == k_enrolling_member) continue;
      bool known = false;
      for_each_leaf(v, [&](const LeafInfo& leaf, const auto&) {
        known = known || (leaf.sid_delta(v.kind) != 0 && leaf.name == name);
      });
      if (!known && !listed_extension(v, name)) {
        return fail(ErrorCode::unknown_leaf,
                    "unknown leaf '" + name.substr(0, 64) + "' in " + top_name);
      }
    }
  }
  TRY(validate(v));
  return v;
}

std::string json_nonce_text(const Voucher& v) {
  // The sender's spelling, as long as it still spells these bytes.
  const std::string& spelled = v.nonce_spelling.text;
  if (!spelled.empty() && nonce_bytes(spelled) == *v.nonce) return spelled;
  return base64_encode(*v.nonce);
}

json to_json(const Voucher& v) {
  json body = json::object();
  for_each_leaf(v, [&](const LeafInfo& leaf, const auto& member) {
    if (member) body[std::string(leaf.name)] = encode_leaf(*member);
  });
  if (v.nonce) body["nonce"] = json_nonce_text(v);
  if (v.enrolling) {
    // 8366bis: the extensions leaf-list names every extension used.
    json& names = body["extensions"];
    if (!names.is_array()) names = json::array();
    if (std::find(names.begin(), names.end(), k_enrolling_module) == names.end()) {
      names.push_back(k_enrolling_module);
    }
    body[std::string(k_enrolling_member)] = encode_enrolling(*v.enrolling);
  }
  json doc;
  doc[std::string(v.kind == ArtifactKind::voucher ? k_voucher_member : k_voucher_request_member)] =
      std::move(body);
  return doc;
}

Bytes encode_json(const Voucher& v) {
  return to_bytes(to_json(v).dump());
}

}  // namespace vouchsafe::voucher
