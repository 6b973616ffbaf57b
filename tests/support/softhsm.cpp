// Throw-away SoftHSM2 tokens.
#include "support/softhsm.h"

#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "core/file.h"

namespace vouchsafe::testing {
namespace {

namespace fs = std::filesystem;

struct SoftHsmDir {
  fs::path root;
  std::string conf;
  SoftHsmDir() {
    char pattern[] = "/tmp/vouchsafe-softhsm-XXXXXX";
    const char* made = ::mkdtemp(pattern);
    root = made != nullptr ? fs::path(made) : fs::temp_directory_path() / "vouchsafe-softhsm";
    fs::create_directories(root / "tokens");
    conf = (root / "softhsm2.conf").string();
    std::ofstream(conf) << "directories.tokendir = " << (root / "tokens").string() << "\n"
                        << "objectstore.backend = file\nlog.level = ERROR\n"
                        << "slots.removable = false\nslots.mechanisms = ALL\n";
    ::setenv("SOFTHSM2_CONF", conf.c_str(), 1);
  }
  ~SoftHsmDir() {
    std::error_code ec;
    fs::remove_all(root, ec);
  }
};

SoftHsmDir& dir() {
  static SoftHsmDir d;
  return d;
}

}  // namespace

const std::string& softhsm_conf() {
  return dir().conf;
}

Result<TestToken> make_test_token(const std::string& label) {
  static std::atomic<int> counter{0};
  auto& d = dir();
  if (!fs::exists(k_softhsm_module)) {
    return fail(ErrorCode::usage, std::string(k_softhsm_module) +
                                      " is missing: run scripts/setup (it installs softhsm2)");
  }
  TestToken t;
  t.label = label + "-" + std::to_string(::getpid()) + "-" + std::to_string(counter++);
  t.pin = "1234-" + t.label;
  t.pin_file = (d.root / (t.label + ".pin")).string();
  TRY(write_file_atomic(t.pin_file, as_bytes(t.pin + "\n"), 0600));
  const std::string command = "softhsm2-util --init-token --free --label '" + t.label +
                              "' --pin '" + t.pin + "' --so-pin 'so-" + t.pin + "' >/dev/null";
  if (std::system(command.c_str()) != 0) {
    return fail(ErrorCode::usage, "softhsm2-util --init-token failed (is softhsm2 installed?)");
  }
  t.store.token = t.label;
  t.store.module_path = k_softhsm_module;
  t.store.pin_source = "file:" + t.pin_file;
  return t;
}

}  // namespace vouchsafe::testing
