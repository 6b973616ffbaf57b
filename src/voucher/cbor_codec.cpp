// SID-keyed CBOR codec over the leaf table in model.h, on libcbor
// (draft-ietf-anima-constrained-voucher, RFC 9254, the 8366bis SID files).
#include "voucher/cbor_codec.h"

#include <algorithm>
#include <array>
#include <limits>
#include <string>
#include <type_traits>
#include <vector>

#include "voucher/detail/cbor_handle.h"

namespace vouchsafe::voucher {

namespace detail {
namespace {

// A voucher is a few KiB (a pinned certificate, or a whole PVR inside a
// voucher-request). These bounds leave ample room while keeping libcbor's
// allocations (one cbor_item_t per data item) proportional to honest input.
constexpr std::size_t k_max_cbor_input = std::size_t{1} << 20U;
constexpr std::size_t k_max_items = std::size_t{1} << 14U;

// What one cbor_stream_decode step reported.
enum class HeadKind { none, leaf, array, map, tag, indefinite };
struct Head {
  HeadKind kind = HeadKind::none;
  std::uint64_t argument = 0;
};

void mark(void* context, HeadKind kind, std::uint64_t argument = 0) {
  auto* head = static_cast<Head*>(context);
  head->kind = kind;
  head->argument = argument;
}

const cbor_callbacks& scan_callbacks() {
  static const cbor_callbacks callbacks = [] {
    cbor_callbacks c = cbor_empty_callbacks;
    c.uint8 = [](void* ctx, std::uint8_t) { mark(ctx, HeadKind::leaf); };
    c.uint16 = [](void* ctx, std::uint16_t) { mark(ctx, HeadKind::leaf); };
    c.uint32 = [](void* ctx, std::uint32_t) { mark(ctx, HeadKind::leaf); };
    c.uint64 = [](void* ctx, std::uint64_t) { mark(ctx, HeadKind::leaf); };
    c.negint8 = [](void* ctx, std::uint8_t) { mark(ctx, HeadKind::leaf); };
    c.negint16 = [](void* ctx, std::uint16_t) { mark(ctx, HeadKind::leaf); };
    c.negint32 = [](void* ctx, std::uint32_t) { mark(ctx, HeadKind::leaf); };
    c.negint64 = [](void* ctx, std::uint64_t) { mark(ctx, HeadKind::leaf); };
    // libcbor names these the other way round in its comments: byte_string
    // and string are definite strings, *_start the indefinite ones.
    c.byte_string = [](void* ctx, cbor_data, std::size_t) { mark(ctx, HeadKind::leaf); };
    c.string = [](void* ctx, cbor_data, std::size_t) { mark(ctx, HeadKind::leaf); };
    c.byte_string_start = [](void* ctx) { mark(ctx, HeadKind::indefinite); };
    c.string_start = [](void* ctx) { mark(ctx, HeadKind::indefinite); };
    c.indef_array_start = [](void* ctx) { mark(ctx, HeadKind::indefinite); };
    c.indef_map_start = [](void* ctx) { mark(ctx, HeadKind::indefinite); };
    c.indef_break = [](void* ctx) { mark(ctx, HeadKind::indefinite); };
    c.array_start = [](void* ctx, std::size_t n) { mark(ctx, HeadKind::array, n); };
    c.map_start = [](void* ctx, std::size_t n) { mark(ctx, HeadKind::map, n); };
    c.tag = [](void* ctx, std::uint64_t value) { mark(ctx, HeadKind::tag, value); };
    c.float2 = [](void* ctx, float) { mark(ctx, HeadKind::leaf); };
    c.float4 = [](void* ctx, float) { mark(ctx, HeadKind::leaf); };
    c.float8 = [](void* ctx, double) { mark(ctx, HeadKind::leaf); };
    c.undefined = [](void* ctx) { mark(ctx, HeadKind::leaf); };
    c.null = [](void* ctx) { mark(ctx, HeadKind::leaf); };
    c.boolean = [](void* ctx, bool) { mark(ctx, HeadKind::leaf); };
    return c;
  }();
  return callbacks;
}

Unexpected malformed(std::string what, std::size_t offset) {
  return fail(ErrorCode::malformed_cbor,
              "malformed CBOR at byte " + std::to_string(offset) + ": " + std::move(what));
}

// Walks the heads of one data item without building it: an explicit stack of
// "items still owed" per open container, so the walk itself cannot overflow
// the C++ stack whatever the input.
Status scan(ByteView data, std::size_t max_depth) {
  std::vector<std::uint64_t> open;
  open.reserve(std::min<std::size_t>(max_depth, 32));
  std::size_t offset = 0;
  std::size_t items = 0;
  for (;;) {
    if (offset == data.size()) return malformed("the data ends inside an item", offset);
    Head head;
    const cbor_decoder_result step =
        cbor_stream_decode(data.data() + offset, data.size() - offset, &scan_callbacks(), &head);
    if (step.status == CBOR_DECODER_NEDATA) {
      return malformed("truncated: an item needs more bytes than remain", offset);
    }
    if (step.status != CBOR_DECODER_FINISHED || head.kind == HeadKind::none) {
      // Reserved heads, and a few assigned ones libcbor 0.8 does not know:
      // one-byte tags 6..20 (0xC6..0xD4) and simple values in 0xF8 xx.
      return malformed(
          "reserved or unsupported initial byte 0x" + hex_encode(data.subspan(offset, 1)), offset);
    }
    if (++items > k_max_items) {
      return fail(ErrorCode::input_too_large,
                  "CBOR data holds more than " + std::to_string(k_max_items) + " items");
    }
    const std::size_t start = offset;
    offset += step.read;
    const std::size_t left = data.size() - offset;
    std::uint64_t owed = 0;
    switch (head.kind) {
      case HeadKind::indefinite:
        // Deterministic encoding (RFC 8949 §4.2.1) has definite lengths only.
        return malformed("indefinite-length item; only definite lengths are accepted", start);
      case HeadKind::array:
        // Every element takes at least one byte, every map pair two: a count
        // that cannot fit is refused before libcbor allocates for it.
        if (head.argument > left) return malformed("array longer than the data", start);
        owed = head.argument;
        break;
      case HeadKind::map:
        if (head.argument > left / 2) return malformed("map longer than the data", start);
        owed = 2 * head.argument;
        break;
      case HeadKind::tag:
        owed = 1;
        break;
      default:
        break;
    }
    if (head.kind == HeadKind::array || head.kind == HeadKind::map || head.kind == HeadKind::tag) {
      if (open.size() + 1 > max_depth) {
        return fail(ErrorCode::nesting_too_deep,
                    "CBOR nested deeper than " + std::to_string(max_depth) + " levels");
      }
      if (owed > 0) {
        open.push_back(owed);
        continue;
      }
    }
    // A complete item settles one debt of its container, which may in turn
    // complete that container, and so on up.
    while (!open.empty() && --open.back() == 0) open.pop_back();
    if (open.empty()) break;
  }
  if (offset != data.size()) {
    return malformed(std::to_string(data.size() - offset) + " trailing bytes after the item",
                     offset);
  }
  return ok();
}

}  // namespace

Result<CborItemPtr> load_cbor(ByteView data, std::size_t max_depth) {
  if (data.empty()) return fail(ErrorCode::malformed_cbor, "empty input: no CBOR item");
  if (data.size() > k_max_cbor_input) {
    return fail(ErrorCode::input_too_large, "CBOR input of " + std::to_string(data.size()) +
                                                " bytes exceeds the limit of " +
                                                std::to_string(k_max_cbor_input));
  }
  TRY(scan(data, max_depth));
  cbor_load_result loaded{};
  CborItemPtr item(cbor_load(data.data(), data.size(), &loaded));
  if (loaded.error.code == CBOR_ERR_MEMERROR) {
    return fail(ErrorCode::internal, "out of memory decoding CBOR");
  }
  if (!item || loaded.error.code != CBOR_ERR_NONE) {
    // Well-formed to the scan, but invalid: libcbor's builder refuses text
    // strings that are not UTF-8 (RFC 8949 §3.1, §5.3.1).
    return malformed("invalid item (text that is not UTF-8?)", loaded.error.position);
  }
  if (loaded.read != data.size()) return malformed("trailing bytes after the item", loaded.read);
  return item;
}

}  // namespace detail

namespace {

using detail::CborItemPtr;
using detail::CborWriter;
using detail::is_simple;

std::string_view text_of(const cbor_item_t* item) {
  return {reinterpret_cast<const char*>(cbor_string_handle(item)), cbor_string_length(item)};
}

ByteView bytes_of(const cbor_item_t* item) {
  return {cbor_bytestring_handle(item), cbor_bytestring_length(item)};
}

bool is_bool(const cbor_item_t* item) {
  return is_simple(item, CBOR_CTRL_TRUE) || is_simple(item, CBOR_CTRL_FALSE);
}

std::string_view type_name(const cbor_item_t* item) {
  switch (cbor_typeof(item)) {
    case CBOR_TYPE_UINT:
      return "an unsigned integer";
    case CBOR_TYPE_NEGINT:
      return "a negative integer";
    case CBOR_TYPE_BYTESTRING:
      return "a byte string";
    case CBOR_TYPE_STRING:
      return "a text string";
    case CBOR_TYPE_ARRAY:
      return "an array";
    case CBOR_TYPE_MAP:
      return "a map";
    case CBOR_TYPE_TAG:
      return "a tagged item";
    case CBOR_TYPE_FLOAT_CTRL:
      if (is_bool(item)) return "a boolean";
      if (is_simple(item, CBOR_CTRL_NULL)) return "null";
      return "a float or simple value";
  }
  return "an unknown item";
}

// Printable excerpt of untrusted text for an error message.
std::string excerpt(std::string_view text) {
  std::string out;
  for (const char c : text.substr(0, 64)) {
    out += (c >= 0x20 && c < 0x7F) ? c : '?';
  }
  return out;
}

Unexpected wrong_type(const LeafInfo& leaf, std::string_view expected, const cbor_item_t* got) {
  return fail(ErrorCode::wrong_type, "leaf '" + std::string(leaf.name) + "' must be " +
                                         std::string(expected) + ", got " +
                                         std::string(type_name(got)));
}

// Text is valid UTF-8 here: libcbor refuses anything else while loading
// (RFC 8949 §3.1, major type 3).
Result<std::string> decode_text(const LeafInfo& leaf, const cbor_item_t* item) {
  if (!cbor_isa_string(item)) return wrong_type(leaf, "a text string", item);
  return std::string(text_of(item));
}

Result<Bytes> decode_binary(const LeafInfo& leaf, const cbor_item_t* item) {
  if (!cbor_isa_bytestring(item)) return wrong_type(leaf, "a byte string", item);
  const ByteView bytes = bytes_of(item);
  return Bytes(bytes.begin(), bytes.end());
}

template <typename T>
Status decode_leaf(const LeafInfo& leaf, const cbor_item_t* item, std::optional<T>& out) {
  if constexpr (std::is_same_v<T, DateTime>) {
    // YANG date-and-time stays RFC 3339 text in CBOR (RFC 9254 §6.4).
    if (!cbor_isa_string(item)) return wrong_type(leaf, "a date-and-time text string", item);
    auto parsed = parse_date_time(text_of(item));
    if (!parsed) {
      return fail(ErrorCode::invalid_date,
                  "leaf '" + std::string(leaf.name) + "': " + parsed.error().message);
    }
    out = *parsed;
  } else if constexpr (std::is_same_v<T, Assertion>) {
    // RFC 9254 §6.6: an enumeration is its integer value; names are accepted
    // too, as a mixed-key encoder may write them.
    if (cbor_isa_uint(item)) {
      const std::uint64_t value = cbor_get_int(item);
      if (value > static_cast<std::uint64_t>(Assertion::agent_proximity)) {
        return fail(ErrorCode::invalid_value,
                    "assertion " + std::to_string(value) + " is not one of 0..3");
      }
      out = static_cast<Assertion>(value);
    } else if (cbor_isa_string(item)) {
      ASSIGN_OR_RETURN(out, parse_assertion(text_of(item)));
    } else {
      return wrong_type(leaf, "an assertion (0..3 or its name)", item);
    }
  } else if constexpr (std::is_same_v<T, std::string>) {
    ASSIGN_OR_RETURN(out, decode_text(leaf, item));
  } else if constexpr (std::is_same_v<T, bool>) {
    if (!is_bool(item)) return wrong_type(leaf, "a boolean", item);
    out = is_simple(item, CBOR_CTRL_TRUE);
  } else if constexpr (std::is_same_v<T, Bytes>) {
    ASSIGN_OR_RETURN(out, decode_binary(leaf, item));
  } else if constexpr (std::is_same_v<T, std::vector<Bytes>>) {
    // BRSKI-PRM sends agent-sign-cert as a list; a lone byte string is one entry.
    std::vector<Bytes> list;
    if (cbor_isa_array(item)) {
      const std::size_t n = cbor_array_size(item);
      cbor_item_t** elements = cbor_array_handle(item);
      list.reserve(n);
      for (std::size_t i = 0; i < n; ++i) {
        ASSIGN_OR_RETURN(auto b, decode_binary(leaf, elements[i]));
        list.push_back(std::move(b));
      }
    } else {
      ASSIGN_OR_RETURN(auto b, decode_binary(leaf, item));
      list.push_back(std::move(b));
    }
    out = std::move(list);
  } else if constexpr (std::is_same_v<T, std::vector<ExtensionName>>) {
    // 8366bis: a leaf-list of module names; in CBOR a SID or the name.
    if (!cbor_isa_array(item)) return wrong_type(leaf, "an array", item);
    const std::size_t n = cbor_array_size(item);
    cbor_item_t** elements = cbor_array_handle(item);
    std::vector<ExtensionName> names;
    names.reserve(n);
    for (std::size_t i = 0; i < n; ++i) {
      if (cbor_isa_uint(elements[i])) {
        names.emplace_back(cbor_get_int(elements[i]));
      } else if (cbor_isa_string(elements[i])) {
        ASSIGN_OR_RETURN(auto name, decode_text(leaf, elements[i]));
        names.emplace_back(std::move(name));
      } else {
        return wrong_type(leaf, "an array of SIDs or names", elements[i]);
      }
    }
    out = std::move(names);
  }
  return ok();
}

// The leaf table of model.h flattened once, so a key can be resolved to a
// position before the typed members are visited.
const std::vector<LeafInfo>& leaf_table() {
  static const std::vector<LeafInfo> table = [] {
    std::vector<LeafInfo> t;
    Voucher dummy;
    for_each_leaf(dummy, [&](const LeafInfo& leaf, auto&) { t.push_back(leaf); });
    return t;
  }();
  return table;
}

// Resolves an inner key, a SID delta or a leaf name, to its position in the
// leaf table. RFC 9254 delta encoding: a key is the leaf SID minus the
// container SID.
Result<std::size_t> resolve_key(const cbor_item_t* key, ArtifactKind kind,
                                std::string_view container) {
  const auto& table = leaf_table();
  if (cbor_isa_uint(key)) {
    const std::uint64_t delta = cbor_get_int(key);
    for (std::size_t i = 0; i < table.size(); ++i) {
      const int d = table[i].sid_delta(kind);
      if (d != 0 && static_cast<std::uint64_t>(d) == delta) return i;
    }
    return fail(ErrorCode::unknown_leaf,
                "unknown SID delta " + std::to_string(delta) + " in " + std::string(container));
  }
  if (cbor_isa_negint(key)) {
    return fail(ErrorCode::unknown_leaf, "unknown negative SID delta in " + std::string(container));
  }
  if (cbor_isa_string(key)) {
    const std::string_view name = text_of(key);
    for (std::size_t i = 0; i < table.size(); ++i) {
      if (table[i].sid_delta(kind) != 0 && table[i].name == name) return i;
    }
    return fail(ErrorCode::unknown_leaf,
                "unknown leaf '" + excerpt(name) + "' in " + std::string(container));
  }
  return fail(ErrorCode::wrong_type, "a key in " + std::string(container) +
                                         " must be a SID delta or a leaf name, got " +
                                         std::string(type_name(key)));
}

// The top-level key: the container SID or the module-qualified member name.
Result<ArtifactKind> resolve_container(const cbor_item_t* key) {
  if (cbor_isa_uint(key)) {
    const std::uint64_t sid = cbor_get_int(key);
    if (sid == k_voucher_sid) return ArtifactKind::voucher;
    if (sid == k_voucher_request_sid) return ArtifactKind::voucher_request;
    return fail(ErrorCode::unknown_leaf,
                "unknown top-level SID " + std::to_string(sid) + " (expected 2451 or 2501)");
  }
  if (cbor_isa_string(key)) {
    const std::string_view name = text_of(key);
    if (name == k_voucher_member) return ArtifactKind::voucher;
    if (name == k_voucher_request_member) return ArtifactKind::voucher_request;
    return fail(ErrorCode::unknown_leaf, "unknown top-level member '" + excerpt(name) + "'");
  }
  return fail(ErrorCode::wrong_type, "the top-level key must be a SID or a member name, got " +
                                         std::string(type_name(key)));
}

void encode_value(CborWriter& w, const DateTime& value) {
  w.text_string(format_date_time(value));
}
void encode_value(CborWriter& w, Assertion value) {
  w.unsigned_int(static_cast<std::uint64_t>(value));
}
void encode_value(CborWriter& w, const std::string& value) {
  w.text_string(value);
}
void encode_value(CborWriter& w, bool value) {
  w.boolean(value);
}
void encode_value(CborWriter& w, const Bytes& value) {
  w.byte_string(value);
}
void encode_value(CborWriter& w, const std::vector<Bytes>& value) {
  w.array(value.size());
  for (const auto& b : value) w.byte_string(b);
}
void encode_value(CborWriter& w, const std::vector<ExtensionName>& value) {
  w.array(value.size());
  for (const auto& name : value) {
    if (const auto* sid = std::get_if<std::uint64_t>(&name)) {
      w.unsigned_int(*sid);
    } else {
      w.text_string(std::get<std::string>(name));
    }
  }
}

// RFC 9254 §3.2: tag 47 marks an absolute SID where a delta would go; the
// keys of another module's members (8366bis extensions) take it.
constexpr std::uint64_t k_absolute_sid_tag = 47;

// The SID of an extension member's key: a tag-47 absolute SID, or a delta
// that no leaf of the voucher module claims. Nothing for a leaf's key.
std::optional<std::uint64_t> extension_sid(const cbor_item_t* key, ArtifactKind kind) {
  if (cbor_isa_tag(key) && cbor_tag_value(key) == k_absolute_sid_tag) {
    const CborItemPtr inner(cbor_tag_item(key));  // a new reference
    if (cbor_isa_uint(inner.get())) return cbor_get_int(inner.get());
    return std::nullopt;
  }
  if (!cbor_isa_uint(key)) return std::nullopt;
  const std::uint64_t parent =
      kind == ArtifactKind::voucher ? k_voucher_sid : k_voucher_request_sid;
  if (cbor_get_int(key) + parent == k_enrolling_sid) return k_enrolling_sid;
  return std::nullopt;
}

// The enrolling container: its three leaves by delta from its own SID.
Result<EnrollingExtension> decode_enrolling(const cbor_item_t* item) {
  const std::string where(k_enrolling_member);
  if (!cbor_isa_map(item)) {
    return fail(ErrorCode::wrong_type,
                where + " must be a map, got " + std::string(type_name(item)));
  }
  EnrollingExtension e;
  std::array<bool, 3> seen{};
  const std::size_t n = cbor_map_size(item);
  const cbor_pair* pairs = cbor_map_handle(item);
  for (std::size_t i = 0; i < n; ++i) {
    if (!cbor_isa_uint(pairs[i].key) || cbor_get_int(pairs[i].key) < 1 ||
        cbor_get_int(pairs[i].key) > 3) {
      return fail(ErrorCode::unknown_leaf, "unknown key in " + where);
    }
    const std::uint64_t delta = cbor_get_int(pairs[i].key);
    if (seen[delta - 1]) return fail(ErrorCode::duplicate_member, "a leaf twice in " + where);
    seen[delta - 1] = true;
    Bytes* target = delta == 1 ? &e.device_key : delta == 2 ? &e.encrypted_share : &e.ldevid;
    const LeafInfo info{delta == 1   ? "device-key"
                        : delta == 2 ? "encrypted-share"
                                     : "ldevid",
                        LeafType::binary, 0, 0};
    ASSIGN_OR_RETURN(*target, decode_binary(info, pairs[i].value));
  }
  return e;
}

bool lists_sid(const Voucher& v, std::uint64_t sid) {
  if (!v.extensions) return false;
  return std::any_of(v.extensions->begin(), v.extensions->end(), [sid](const ExtensionName& n) {
    const auto* listed = std::get_if<std::uint64_t>(&n);
    return listed != nullptr && *listed == sid;
  });
}

}  // namespace

Result<Voucher> decode_cbor(ByteView data, const CborLimits& limits) {
  ASSIGN_OR_RETURN(const CborItemPtr root, detail::load_cbor(data, limits.max_depth));
  if (!cbor_isa_map(root.get()) || cbor_map_size(root.get()) != 1) {
    const std::string got =
        cbor_isa_map(root.get())
            ? "a map with " + std::to_string(cbor_map_size(root.get())) + " keys"
            : std::string(type_name(root.get()));
    return fail(ErrorCode::wrong_type,
                "expected a map with one key, 2451 (ietf-voucher:voucher) or 2501 "
                "(ietf-voucher-request:voucher), got " +
                    got);
  }
  const cbor_pair& top = cbor_map_handle(root.get())[0];
  Voucher v;
  ASSIGN_OR_RETURN(v.kind, resolve_container(top.key));
  const std::string_view container =
      v.kind == ArtifactKind::voucher ? k_voucher_member : k_voucher_request_member;
  if (!cbor_isa_map(top.value)) {
    return fail(ErrorCode::wrong_type, std::string(container) + " must be a map, got " +
                                           std::string(type_name(top.value)));
  }

  // First resolve every key, so a leaf given twice (twice by SID, or once by
  // SID and once by name) is refused however it was spelled.
  const auto& table = leaf_table();
  std::vector<const cbor_item_t*> values(table.size(), nullptr);
  const std::size_t pairs = cbor_map_size(top.value);
  const cbor_pair* members = cbor_map_handle(top.value);
  const cbor_item_t* enrolling = nullptr;
  std::vector<std::uint64_t> other_extensions;
  for (std::size_t i = 0; i < pairs; ++i) {
    if (const auto sid = extension_sid(members[i].key, v.kind)) {
      if (*sid != k_enrolling_sid) {
        other_extensions.push_back(*sid);
      } else if (enrolling != nullptr) {
        return fail(ErrorCode::duplicate_member, std::string(k_enrolling_member) +
                                                     " appears twice in " + std::string(container));
      } else {
        enrolling = members[i].value;
      }
      continue;
    }
    ASSIGN_OR_RETURN(const std::size_t index, resolve_key(members[i].key, v.kind, container));
    if (values[index] != nullptr) {
      return fail(ErrorCode::duplicate_member, "leaf '" + std::string(table[index].name) +
                                                   "' appears twice in " + std::string(container));
    }
    values[index] = members[i].value;
  }

  std::size_t position = 0;
  Status status = ok();
  for_each_leaf(v, [&](const LeafInfo& leaf, auto& member) {
    const cbor_item_t* item = values[position++];
    if (item == nullptr || !status) return;
    status = decode_leaf(leaf, item, member);
  });
  TRY(status);
  if (enrolling != nullptr) {
    ASSIGN_OR_RETURN(v.enrolling, decode_enrolling(enrolling));
  }
  // Another module's extension passes (unread) only when the voucher lists it.
  for (const std::uint64_t sid : other_extensions) {
    if (!lists_sid(v, sid)) {
      return fail(ErrorCode::unknown_leaf,
                  "unknown extension SID " + std::to_string(sid) + " in " + std::string(container));
    }
  }
  TRY(validate(v));
  return v;
}

Bytes encode_cbor(const Voucher& v) {
  // 8366bis: the extensions leaf-list names every extension used.
  if (v.enrolling && !lists_sid(v, k_enrolling_sid)) {
    Voucher listed = v;
    if (!listed.extensions) listed.extensions.emplace();
    listed.extensions->emplace_back(k_enrolling_sid);
    return encode_cbor(listed);
  }
  // Values are written once into a scratch buffer in YANG order, then copied
  // out in key order: RFC 8949 §4.2.1 sorts map keys by their encoded bytes,
  // which for unsigned integers is numeric order.
  struct Entry {
    int delta;              // 0 when this module has no SID for the leaf
    std::string_view name;  // the key then, sorted after every integer key
    std::size_t begin;
    std::size_t end;
  };
  std::vector<Entry> entries;
  entries.reserve(leaf_table().size());
  Bytes values;
  values.reserve(256);
  CborWriter value_writer(values);
  for_each_leaf(v, [&](const LeafInfo& leaf, const auto& member) {
    if (!member) return;
    const std::size_t begin = values.size();
    encode_value(value_writer, *member);
    entries.push_back(Entry{leaf.sid_delta(v.kind), leaf.name, begin, values.size()});
  });
  // A leaf this module lacks (which validate() refuses) keeps its name as
  // key rather than being dropped; text keys sort after integers, shorter
  // first, then bytewise.
  std::sort(entries.begin(), entries.end(), [](const Entry& a, const Entry& b) {
    if ((a.delta == 0) != (b.delta == 0)) return a.delta != 0;
    if (a.delta != 0) return a.delta < b.delta;
    if (a.name.size() != b.name.size()) return a.name.size() < b.name.size();
    return a.name < b.name;
  });

  Bytes out;
  out.reserve(values.size() + 8 + 2 * entries.size());
  CborWriter w(out);
  w.map(1);
  w.unsigned_int(v.kind == ArtifactKind::voucher ? k_voucher_sid : k_voucher_request_sid);
  w.map(entries.size() + (v.enrolling ? 1 : 0));
  for (const Entry& e : entries) {
    if (e.delta != 0) {
      w.unsigned_int(static_cast<std::uint64_t>(e.delta));
    } else {
      w.text_string(e.name);
    }
    w.raw(ByteView(values).subspan(e.begin, e.end - e.begin));
  }
  if (v.enrolling) {
    // Tag keys sort after every integer and text key (RFC 8949 §4.2.1).
    w.tag(k_absolute_sid_tag);
    w.unsigned_int(k_enrolling_sid);
    w.map(3);
    for (const auto& [delta, value] :
         {std::pair{1U, &v.enrolling->device_key}, std::pair{2U, &v.enrolling->encrypted_share},
          std::pair{3U, &v.enrolling->ldevid}}) {
      w.unsigned_int(delta);
      w.byte_string(*value);
    }
  }
  return out;
}

}  // namespace vouchsafe::voucher
