// Fuzz target for decode_json (the RFC 7951 voucher codec). Whatever it
// accepts must survive a round trip: encoding the model and decoding it again
// gives the same model, or the codec lost or invented a leaf.
#include <cstddef>
#include <cstdint>

#include "core/bytes.h"
#include "voucher/json_codec.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using vouchsafe::voucher::decode_json;
  auto decoded = decode_json(vouchsafe::ByteView(data, size));
  if (!decoded) return 0;
  auto again = decode_json(vouchsafe::voucher::encode_json(*decoded));
  if (!again || !(*again == *decoded)) __builtin_trap();
  return 0;
}
