// Loading PKCS#11 modules.
#include "crypto/pkcs11/module.h"

#include <dlfcn.h>

#include <cstdio>
#include <filesystem>
#include <map>
#include <mutex>

namespace vouchsafe::crypto::pkcs11 {

std::string rv_name(CK_RV rv) {
  switch (rv) {
#define VS_CKR(name) \
  case name:         \
    return #name;
    VS_CKR(CKR_OK)
    VS_CKR(CKR_CANCEL)
    VS_CKR(CKR_HOST_MEMORY)
    VS_CKR(CKR_SLOT_ID_INVALID)
    VS_CKR(CKR_GENERAL_ERROR)
    VS_CKR(CKR_FUNCTION_FAILED)
    VS_CKR(CKR_ARGUMENTS_BAD)
    VS_CKR(CKR_ATTRIBUTE_READ_ONLY)
    VS_CKR(CKR_ATTRIBUTE_SENSITIVE)
    VS_CKR(CKR_ATTRIBUTE_TYPE_INVALID)
    VS_CKR(CKR_ATTRIBUTE_VALUE_INVALID)
    VS_CKR(CKR_DATA_INVALID)
    VS_CKR(CKR_DATA_LEN_RANGE)
    VS_CKR(CKR_DEVICE_ERROR)
    VS_CKR(CKR_DEVICE_MEMORY)
    VS_CKR(CKR_DEVICE_REMOVED)
    VS_CKR(CKR_FUNCTION_NOT_SUPPORTED)
    VS_CKR(CKR_KEY_HANDLE_INVALID)
    VS_CKR(CKR_KEY_TYPE_INCONSISTENT)
    VS_CKR(CKR_KEY_FUNCTION_NOT_PERMITTED)
    VS_CKR(CKR_KEY_UNEXTRACTABLE)
    VS_CKR(CKR_MECHANISM_INVALID)
    VS_CKR(CKR_MECHANISM_PARAM_INVALID)
    VS_CKR(CKR_OBJECT_HANDLE_INVALID)
    VS_CKR(CKR_OPERATION_ACTIVE)
    VS_CKR(CKR_OPERATION_NOT_INITIALIZED)
    VS_CKR(CKR_PIN_INCORRECT)
    VS_CKR(CKR_PIN_INVALID)
    VS_CKR(CKR_PIN_LEN_RANGE)
    VS_CKR(CKR_PIN_EXPIRED)
    VS_CKR(CKR_PIN_LOCKED)
    VS_CKR(CKR_SESSION_CLOSED)
    VS_CKR(CKR_SESSION_COUNT)
    VS_CKR(CKR_SESSION_HANDLE_INVALID)
    VS_CKR(CKR_SESSION_READ_ONLY)
    VS_CKR(CKR_SIGNATURE_INVALID)
    VS_CKR(CKR_TEMPLATE_INCOMPLETE)
    VS_CKR(CKR_TEMPLATE_INCONSISTENT)
    VS_CKR(CKR_TOKEN_NOT_PRESENT)
    VS_CKR(CKR_TOKEN_NOT_RECOGNIZED)
    VS_CKR(CKR_TOKEN_WRITE_PROTECTED)
    VS_CKR(CKR_USER_ALREADY_LOGGED_IN)
    VS_CKR(CKR_USER_NOT_LOGGED_IN)
    VS_CKR(CKR_USER_PIN_NOT_INITIALIZED)
    VS_CKR(CKR_USER_TYPE_INVALID)
    VS_CKR(CKR_BUFFER_TOO_SMALL)
    VS_CKR(CKR_CRYPTOKI_NOT_INITIALIZED)
    VS_CKR(CKR_CRYPTOKI_ALREADY_INITIALIZED)
    VS_CKR(CKR_CURVE_NOT_SUPPORTED)
#undef VS_CKR
    default: {
      char text[32];
      (void)std::snprintf(text, sizeof text, "CKR_0x%08lX", static_cast<unsigned long>(rv));
      return text;
    }
  }
}

std::string padded_text(const unsigned char* field, std::size_t size) {
  std::string out(reinterpret_cast<const char*>(field), size);
  while (!out.empty() && (out.back() == ' ' || out.back() == '\0')) out.pop_back();
  return out;
}

namespace {

// One Module per path for the whole process; a weak reference, so a module
// nobody uses any more is finalised and unloaded.
std::mutex& registry_mutex() {
  static std::mutex m;
  return m;
}
std::map<std::string, std::weak_ptr<Module>>& registry() {
  static std::map<std::string, std::weak_ptr<Module>> r;
  return r;
}

}  // namespace

Result<std::shared_ptr<Module>> Module::load(const std::string& path) {
  if (path.empty()) {
    return fail(ErrorCode::usage,
                "no PKCS#11 module: add module-path=/path/to/module.so to the pkcs11: URI "
                "(SoftHSM2: /usr/lib/softhsm/libsofthsm2.so) or set $VOUCHSAFE_PKCS11_MODULE");
  }
  std::lock_guard lock(registry_mutex());
  if (auto existing = registry()[path].lock()) return existing;
  if (!std::filesystem::exists(path)) {
    return fail(ErrorCode::usage, "PKCS#11 module " + path +
                                      " does not exist: install the HSM's PKCS#11 library "
                                      "(SoftHSM2: apt-get install softhsm2) or fix module-path");
  }
  // RTLD_NODELETE: a module may leave thread-local destructors or atexit
  // handlers behind (OpenSSL-based ones do), which must not outlive its
  // code, and sanitizer reports can then still name its frames.
  void* handle = ::dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL | RTLD_NODELETE);
  if (handle == nullptr) {
    const char* why = ::dlerror();
    return fail(ErrorCode::usage, "cannot load PKCS#11 module " + path + ": " +
                                      (why != nullptr ? why : "dlopen failed"));
  }
  // dlsym returns an object pointer; PKCS#11 §5.2 names the one function
  // every module exports.
  auto* get_list = reinterpret_cast<CK_C_GetFunctionList>(::dlsym(handle, "C_GetFunctionList"));
  CK_FUNCTION_LIST* functions = nullptr;
  if (get_list == nullptr || get_list(&functions) != CKR_OK || functions == nullptr) {
    ::dlclose(handle);
    return fail(ErrorCode::usage,
                path + " is not a PKCS#11 module (it has no working C_GetFunctionList)");
  }
  // The MASA signs on many threads: the module must lock with the OS's
  // primitives (PKCS#11 §5.4: CKF_OS_LOCKING_OK).
  CK_C_INITIALIZE_ARGS args{};
  args.flags = CKF_OS_LOCKING_OK;
  const CK_RV rv = functions->C_Initialize(&args);
  if (rv != CKR_OK && rv != CKR_CRYPTOKI_ALREADY_INITIALIZED) {
    ::dlclose(handle);
    return fail(ErrorCode::usage, "PKCS#11 module " + path +
                                      ": C_Initialize failed: " + rv_name(rv) +
                                      " (for SoftHSM2, check that SOFTHSM2_CONF names a readable "
                                      "configuration whose tokendir exists)");
  }
  std::shared_ptr<Module> module(
      new Module(path, handle, functions, rv != CKR_CRYPTOKI_ALREADY_INITIALIZED));
  registry()[path] = module;
  return module;
}

Module::~Module() {
  if (finalize_) functions_->C_Finalize(nullptr);
  ::dlclose(handle_);
}

}  // namespace vouchsafe::crypto::pkcs11
