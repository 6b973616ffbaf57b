// A PKCS#11 module loaded with dlopen (PKCS#11 2.40 declarations from
// p11-kit's header): the library handle, its function list, and
// C_Initialize / C_Finalize, owned once per process and path.
#pragma once

#include <p11-kit/pkcs11.h>

#include <memory>
#include <string>

#include "core/result.h"

namespace vouchsafe::crypto::pkcs11 {

// "CKR_PIN_INCORRECT", or "CKR_0x..." for a vendor code: what an operator
// looks up in the HSM's manual.
std::string rv_name(CK_RV rv);

// Text of a fixed-width, blank-padded PKCS#11 field (labels, serials).
std::string padded_text(const unsigned char* field, std::size_t size);

class Module {
 public:
  // The module at `path`, loaded and initialised once per process: PKCS#11
  // allows one C_Initialize per application, and tokens logged in through
  // one handle stay logged in for every session of it. Errors (usage) name
  // the path and say what to fix.
  static Result<std::shared_ptr<Module>> load(const std::string& path);
  ~Module();
  Module(const Module&) = delete;
  Module& operator=(const Module&) = delete;

  [[nodiscard]] CK_FUNCTION_LIST* functions() const { return functions_; }
  [[nodiscard]] const std::string& path() const { return path_; }

 private:
  Module(std::string path, void* handle, CK_FUNCTION_LIST* functions, bool finalize)
      : path_(std::move(path)), handle_(handle), functions_(functions), finalize_(finalize) {}
  std::string path_;
  void* handle_;                 // dlopen handle, closed last
  CK_FUNCTION_LIST* functions_;  // owned by the module
  bool finalize_;                // false when someone else in the process initialised it
};

}  // namespace vouchsafe::crypto::pkcs11
