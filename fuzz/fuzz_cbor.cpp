// Fuzz target for decode_cbor (the SID-keyed CBOR voucher codec). Whatever it
// accepts must survive a round trip: encoding the model and decoding it again
// gives the same model, or the codec lost or invented a leaf.
#include <cstddef>
#include <cstdint>

#include "core/bytes.h"
#include "voucher/cbor_codec.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using vouchsafe::voucher::decode_cbor;
  auto decoded = decode_cbor(vouchsafe::ByteView(data, size));
  if (!decoded) return 0;
  auto again = decode_cbor(vouchsafe::voucher::encode_cbor(*decoded));
  if (!again || !(*again == *decoded)) __builtin_trap();
  return 0;
}
