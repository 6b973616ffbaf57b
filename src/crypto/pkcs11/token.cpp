// Tokens, logins and the session pool.
#include "crypto/pkcs11/token.h"

#include <openssl/crypto.h>

#include <algorithm>
#include <cstdlib>
#include <map>

namespace vouchsafe::crypto::pkcs11 {
namespace {

std::mutex& registry_mutex() {
  static std::mutex m;
  return m;
}
// Keyed by module path, token label and serial.
std::map<std::string, std::weak_ptr<Token>>& registry() {
  static std::map<std::string, std::weak_ptr<Token>> r;
  return r;
}

}  // namespace

Token::Session::~Session() {
  if (token_) token_->give_back(handle_, broken_);
}

std::string Token::describe() const {
  return "token '" + label_ + "' in PKCS#11 module " + module_->path();
}

Unexpected Token::failure(ErrorCode code, const std::string& what, CK_RV rv,
                          const std::string& hint) const {
  return fail(code, what + " failed: " + rv_name(rv) + " (" + describe() + ")" +
                        (hint.empty() ? "" : "; " + hint));
}

Result<std::shared_ptr<Token>> Token::open(const Pkcs11Uri& uri) {
  std::string module_path = uri.module_path;
  if (module_path.empty()) {
    if (const char* env = std::getenv(k_pkcs11_module_env); env != nullptr) module_path = env;
  }
  if (uri.token.empty() && uri.serial.empty()) {
    return fail(ErrorCode::usage,
                "the pkcs11: URI names no token: add token=LABEL (the label given to "
                "softhsm2-util --init-token or the HSM's tools)");
  }
  ASSIGN_OR_RETURN(auto module, Module::load(module_path));
  const std::string key = module_path + '\n' + uri.token + '\n' + uri.serial;
  std::lock_guard lock(registry_mutex());
  if (auto existing = registry()[key].lock()) return existing;

  CK_FUNCTION_LIST* f = module->functions();
  CK_ULONG count = 0;
  CK_RV rv = f->C_GetSlotList(CK_TRUE, nullptr, &count);
  std::vector<CK_SLOT_ID> slots(count);
  if (rv == CKR_OK && count > 0) rv = f->C_GetSlotList(CK_TRUE, slots.data(), &count);
  if (rv != CKR_OK) {
    return fail(ErrorCode::usage,
                "cannot list the slots of PKCS#11 module " + module_path + ": " + rv_name(rv));
  }
  slots.resize(count);
  std::optional<CK_SLOT_ID> found;
  std::string seen;
  for (const CK_SLOT_ID slot : slots) {
    CK_TOKEN_INFO info{};
    if (f->C_GetTokenInfo(slot, &info) != CKR_OK) continue;
    const std::string label = padded_text(info.label, sizeof info.label);
    const std::string serial = padded_text(info.serialNumber, sizeof info.serialNumber);
    const std::string maker = padded_text(info.manufacturerID, sizeof info.manufacturerID);
    if ((info.flags & CKF_TOKEN_INITIALIZED) == 0) continue;
    seen += (seen.empty() ? "'" : ", '") + label + "'";
    if (!uri.token.empty() && label != uri.token) continue;
    if (!uri.serial.empty() && serial != uri.serial) continue;
    if (!uri.manufacturer.empty() && maker != uri.manufacturer) continue;
    if (found) {
      return fail(ErrorCode::usage, "more than one token labelled '" + uri.token +
                                        "' in PKCS#11 module " + module_path +
                                        ": add serial=... to the pkcs11: URI");
    }
    found = slot;
  }
  if (!found) {
    return fail(ErrorCode::usage, "no token labelled '" + uri.token + "' in PKCS#11 module " +
                                      module_path +
                                      " (tokens present: " + (seen.empty() ? "none" : seen) +
                                      "); create it (softhsm2-util --init-token --free --label " +
                                      uri.token + ") or fix token= in the URI");
  }
  std::shared_ptr<Token> token(new Token(module, *found, uri.token));
  CK_ULONG mechanism_count = 0;
  if (f->C_GetMechanismList(*found, nullptr, &mechanism_count) == CKR_OK) {
    token->mechanisms_.resize(mechanism_count);
    if (f->C_GetMechanismList(*found, token->mechanisms_.data(), &mechanism_count) != CKR_OK) {
      mechanism_count = 0;
    }
    token->mechanisms_.resize(mechanism_count);
  }
  TRY(token->login(uri));
  registry()[key] = token;
  return token;
}

Status Token::login(const Pkcs11Uri& uri) {
  ASSIGN_OR_RETURN(anchor_session_, open_session());
  CK_SESSION_INFO info{};
  if (functions()->C_GetSessionInfo(anchor_session_, &info) == CKR_OK &&
      (info.state == CKS_RW_USER_FUNCTIONS || info.state == CKS_RO_USER_FUNCTIONS)) {
    return ok();  // another Token of this application logged in already
  }
  ASSIGN_OR_RETURN(auto pin, pkcs11_pin(uri));
  const CK_RV rv = functions()->C_Login(anchor_session_, CKU_USER,
                                        reinterpret_cast<CK_UTF8CHAR*>(pin.data()), pin.size());
  OPENSSL_cleanse(pin.data(), pin.size());
  if (rv == CKR_OK || rv == CKR_USER_ALREADY_LOGGED_IN) return ok();
  const bool wrong_pin = rv == CKR_PIN_INCORRECT || rv == CKR_PIN_INVALID ||
                         rv == CKR_PIN_LEN_RANGE || rv == CKR_PIN_LOCKED || rv == CKR_PIN_EXPIRED;
  return failure(wrong_pin ? ErrorCode::bad_passphrase : ErrorCode::bad_key, "login", rv,
                 wrong_pin ? std::string("check the user PIN in the URI's pin-source file or $") +
                                 k_pkcs11_pin_env
                           : std::string());
}

Token::~Token() {
  CK_FUNCTION_LIST* f = functions();
  for (const auto s : idle_) f->C_CloseSession(s);
  // No C_Logout: the login belongs to the application, and ends by itself
  // with its last session on the token; another Token of this process (the
  // same token named another way) may still be using it.
  if (anchor_session_ != CK_INVALID_HANDLE) f->C_CloseSession(anchor_session_);
}

Result<CK_SESSION_HANDLE> Token::open_session() const {
  CK_SESSION_HANDLE handle = CK_INVALID_HANDLE;
  const CK_RV rv = functions()->C_OpenSession(slot_, CKF_SERIAL_SESSION | CKF_RW_SESSION, nullptr,
                                              nullptr, &handle);
  if (rv != CKR_OK) return failure(ErrorCode::bad_key, "opening a session", rv);
  return handle;
}

Result<Token::Session> Token::session() {
  {
    std::lock_guard lock(mutex_);
    if (!idle_.empty()) {
      const CK_SESSION_HANDLE h = idle_.back();
      idle_.pop_back();
      return Session(shared_from_this(), h);
    }
  }
  // A new session per concurrent user: tokens allow many, and one busy
  // session would serialise every signature.
  ASSIGN_OR_RETURN(const CK_SESSION_HANDLE h, open_session());
  return Session(shared_from_this(), h);
}

void Token::give_back(CK_SESSION_HANDLE handle, bool broken) {
  if (broken) {
    functions()->C_CloseSession(handle);
    return;
  }
  std::lock_guard lock(mutex_);
  idle_.push_back(handle);
}

bool Token::offers(CK_MECHANISM_TYPE mechanism) const {
  return std::find(mechanisms_.begin(), mechanisms_.end(), mechanism) != mechanisms_.end();
}

Result<std::vector<CK_OBJECT_HANDLE>> Token::find_objects(Session& s, CK_OBJECT_CLASS object_class,
                                                          const std::string& label,
                                                          const std::optional<Bytes>& id,
                                                          std::size_t max,
                                                          const std::string& what) const {
  std::vector<CK_ATTRIBUTE> query;
  query.push_back({CKA_CLASS, &object_class, sizeof object_class});
  std::string label_copy = label;
  Bytes id_copy = id ? *id : Bytes{};
  if (!label.empty()) query.push_back({CKA_LABEL, label_copy.data(), label_copy.size()});
  if (id) query.push_back({CKA_ID, id_copy.data(), id_copy.size()});
  CK_FUNCTION_LIST* f = functions();
  CK_RV rv = f->C_FindObjectsInit(s.handle(), query.data(), query.size());
  if (rv != CKR_OK) {
    s.mark_broken();
    return failure(ErrorCode::bad_key, "looking up " + what, rv);
  }
  std::vector<CK_OBJECT_HANDLE> objects(max);
  CK_ULONG found = 0;
  rv = f->C_FindObjects(s.handle(), objects.data(), objects.size(), &found);
  f->C_FindObjectsFinal(s.handle());
  if (rv != CKR_OK) return failure(ErrorCode::bad_key, "looking up " + what, rv);
  objects.resize(found);
  return objects;
}

Result<CK_OBJECT_HANDLE> Token::find_object(Session& s, CK_OBJECT_CLASS object_class,
                                            const std::string& label,
                                            const std::optional<Bytes>& id,
                                            const std::string& what) const {
  if (label.empty() && !id) {
    return fail(ErrorCode::usage, "the pkcs11: URI names no key: add object=LABEL and/or id=%.. (" +
                                      describe() + ")");
  }
  ASSIGN_OR_RETURN(auto objects, find_objects(s, object_class, label, id, 2, what));
  const std::size_t found = objects.size();
  const std::string named =
      (label.empty() ? std::string() : "object '" + label + "'") +
      (id ? std::string(label.empty() ? "" : " ") + "id " + hex_encode(*id) : std::string());
  if (found == 0) {
    return fail(ErrorCode::bad_key, "no " + what + " with " + named + " on " + describe() +
                                        ": fix object= / id= in the pkcs11: URI, or make the key "
                                        "(vouchsafe pki init / masa init --key-store ...)");
  }
  if (found > 1) {
    return fail(ErrorCode::bad_key, "more than one " + what + " with " + named + " on " +
                                        describe() + ": name the key by id= as well");
  }
  return objects.front();
}

Result<std::optional<Bytes>> Token::attribute(Session& s, CK_OBJECT_HANDLE object,
                                              CK_ATTRIBUTE_TYPE type) const {
  CK_ATTRIBUTE a{type, nullptr, 0};
  CK_RV rv = functions()->C_GetAttributeValue(s.handle(), object, &a, 1);
  if (rv == CKR_ATTRIBUTE_SENSITIVE || rv == CKR_ATTRIBUTE_TYPE_INVALID) {
    return std::optional<Bytes>();
  }
  if (rv != CKR_OK || a.ulValueLen == CK_UNAVAILABLE_INFORMATION) {
    return failure(ErrorCode::bad_key, "reading a key attribute", rv);
  }
  Bytes value(a.ulValueLen);
  a.pValue = value.data();
  rv = functions()->C_GetAttributeValue(s.handle(), object, &a, 1);
  if (rv != CKR_OK) return failure(ErrorCode::bad_key, "reading a key attribute", rv);
  value.resize(a.ulValueLen);
  return std::optional<Bytes>(std::move(value));
}

}  // namespace vouchsafe::crypto::pkcs11
