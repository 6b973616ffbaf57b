// Fuzz target for the configuration files, the home's vouchsafe.toml, the
// MASA's masa.toml and the registrar's registrar.toml, read through their
// schemas. Whatever one accepts must survive a round trip: writing the
// settings and reading them again gives the same values, or the writer
// lost, invented or mis-quoted one.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "factory/home.h"
#include "service/masa_settings.h"
#include "service/registrar_settings.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  if (auto config = vouchsafe::factory::parse_config(text, "fuzz.toml")) {
    auto again =
        vouchsafe::factory::parse_config(vouchsafe::factory::config_text(*config), "again");
    if (!again || !(*again == *config)) __builtin_trap();
  }
  if (auto settings = vouchsafe::service::parse_masa_settings(text, "fuzz.toml")) {
    auto again = vouchsafe::service::parse_masa_settings(
        vouchsafe::service::masa_settings_text(*settings), "again");
    if (!again || !(*again == *settings)) __builtin_trap();
  }
  if (auto settings = vouchsafe::service::parse_registrar_settings(text, "fuzz.toml")) {
    auto again = vouchsafe::service::parse_registrar_settings(
        vouchsafe::service::registrar_settings_text(*settings), "again");
    if (!again || !(*again == *settings)) __builtin_trap();
  }
  return 0;
}
