// libcbor plumbing shared by the SID codec and the COSE envelope: an owning
// handle for decoded items, a strict bounded loader, and a small writer over
// libcbor's allocation-free encoders.
#pragma once

#include <cbor.h>

#include <cstdint>
#include <memory>
#include <string_view>

#include "core/bytes.h"
#include "core/result.h"

namespace vouchsafe::voucher::detail {

// cbor_decref takes the address of the pointer (it nulls it), so a plain
// function-pointer deleter does not fit.
struct CborItemDeleter {
  void operator()(cbor_item_t* item) const { cbor_decref(&item); }
};
using CborItemPtr = std::unique_ptr<cbor_item_t, CborItemDeleter>;

// Whether the item is this simple value (CBOR_CTRL_NULL, _TRUE, ...).
// libcbor 0.8's cbor_is_null and cbor_is_bool assert (and Debian builds it
// with assertions on) when handed a float, so use this instead.
inline bool is_simple(const cbor_item_t* item, std::uint8_t value) {
  return cbor_isa_float_ctrl(item) && cbor_float_ctrl_is_ctrl(item) &&
         cbor_ctrl_value(item) == value;
}

// Decodes exactly one CBOR data item that fills `data`. Before libcbor builds
// anything, a streaming pass checks that the input is well-formed, uses only
// definite lengths, nests at most max_depth containers/tags deep, holds a
// bounded number of items, and that every declared length fits the bytes
// that remain (so a forged count cannot make libcbor allocate gigabytes).
// Errors: malformed_cbor, nesting_too_deep, input_too_large.
Result<CborItemPtr> load_cbor(ByteView data, std::size_t max_depth);

// Appends CBOR heads and values to a byte vector. libcbor's cbor_encode_*
// functions pick the shortest argument encoding (RFC 8949 §4.2.1), and write
// into a caller buffer, so no cbor_item_t is ever allocated when encoding.
class CborWriter {
 public:
  explicit CborWriter(Bytes& out) : out_(out) {}

  void unsigned_int(std::uint64_t value) { put(cbor_encode_uint(value, head_, sizeof head_)); }
  void integer(std::int64_t value) {
    if (value >= 0) {
      unsigned_int(static_cast<std::uint64_t>(value));
    } else {
      // Major type 1 carries -1 - n.
      put(cbor_encode_negint(static_cast<std::uint64_t>(-(value + 1)), head_, sizeof head_));
    }
  }
  void byte_string(ByteView value) {
    put(cbor_encode_bytestring_start(value.size(), head_, sizeof head_));
    out_.insert(out_.end(), value.begin(), value.end());
  }
  void text_string(std::string_view value) {
    put(cbor_encode_string_start(value.size(), head_, sizeof head_));
    const auto raw = as_bytes(value);
    out_.insert(out_.end(), raw.begin(), raw.end());
  }
  void boolean(bool value) { put(cbor_encode_bool(value, head_, sizeof head_)); }
  void array(std::size_t count) { put(cbor_encode_array_start(count, head_, sizeof head_)); }
  void map(std::size_t pairs) { put(cbor_encode_map_start(pairs, head_, sizeof head_)); }
  void tag(std::uint64_t value) { put(cbor_encode_tag(value, head_, sizeof head_)); }
  // Bytes that are already CBOR (a nested encoded item).
  void raw(ByteView encoded) { out_.insert(out_.end(), encoded.begin(), encoded.end()); }

  // Size of a head for a given argument: what byte_string(), text_string(), array()...
  // add before their content. Lets callers reserve exactly once.
  static constexpr std::size_t head_size(std::uint64_t argument) {
    if (argument < 24) return 1;
    if (argument <= 0xFF) return 2;
    if (argument <= 0xFFFF) return 3;
    if (argument <= 0xFFFFFFFF) return 5;
    return 9;
  }

 private:
  void put(std::size_t length) { out_.insert(out_.end(), head_, head_ + length); }

  Bytes& out_;
  unsigned char head_[9] = {};  // the longest head: initial byte + 8-byte argument
};

}  // namespace vouchsafe::voucher::detail
