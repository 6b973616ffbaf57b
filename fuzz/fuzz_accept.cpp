// Fuzz target for the MASA's reading of Content-Type and Accept (RFC 9110
// §12.5.1 media ranges with q weights): which voucher form a request is and
// which form the answer takes. The input is "content-type\naccept". A form
// chosen is always one of the three voucher media types.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "masa/detail/request_validation.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace vouchsafe::masa::detail;
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  const auto newline = input.find('\n');
  const std::string_view content_type = input.substr(0, newline);
  const std::string_view accept =
      newline == std::string_view::npos ? std::string_view{} : input.substr(newline + 1);
  (void)accepts_json(accept);
  (void)accepts_json(input);
  auto request = request_form(content_type);
  if (!request) return 0;
  auto answer = response_form(accept, *request);
  if (answer && answer->media_type != "application/voucher-cms+json" &&
      answer->media_type != "application/voucher-jws+json" &&
      answer->media_type != "application/voucher+cose" &&
      answer->media_type != "application/voucher-cose+cbor") {
    __builtin_trap();
  }
  return 0;
}
