// A token in a PKCS#11 module, logged in once, with a pool of sessions so
// that threads signing at once do not queue on one session (a session runs
// one operation at a time, PKCS#11 §5.6).
#pragma once

#include <p11-kit/pkcs11.h>

#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "core/bytes.h"
#include "core/result.h"
#include "crypto/key_reference.h"
#include "crypto/pkcs11/module.h"

namespace vouchsafe::crypto::pkcs11 {

class Token : public std::enable_shared_from_this<Token> {
 public:
  // The token the URI names (token label, and serial or manufacturer when
  // given) in the URI's module, logged in as the user. One Token per module
  // and token in the process: the PIN is read and C_Login called once.
  static Result<std::shared_ptr<Token>> open(const Pkcs11Uri& uri);
  ~Token();
  Token(const Token&) = delete;
  Token& operator=(const Token&) = delete;

  // A session from the pool, returned to it when the lease ends. A session
  // whose last operation failed in a way that may have left it busy is
  // closed instead.
  class Session {
   public:
    Session(std::shared_ptr<Token> token, CK_SESSION_HANDLE handle)
        : token_(std::move(token)), handle_(handle) {}
    Session(Session&& other) noexcept
        : token_(std::move(other.token_)), handle_(other.handle_), broken_(other.broken_) {
      other.token_.reset();
    }
    Session(const Session&) = delete;
    Session& operator=(const Session&) = delete;
    Session& operator=(Session&&) = delete;
    ~Session();
    [[nodiscard]] CK_SESSION_HANDLE handle() const { return handle_; }
    void mark_broken() { broken_ = true; }

   private:
    std::shared_ptr<Token> token_;
    CK_SESSION_HANDLE handle_;
    bool broken_ = false;
  };
  Result<Session> session();

  [[nodiscard]] CK_FUNCTION_LIST* functions() const { return module_->functions(); }
  [[nodiscard]] const std::string& label() const { return label_; }
  [[nodiscard]] const std::string& module_path() const { return module_->path(); }
  // "token 'vouchsafe' in PKCS#11 module /usr/lib/softhsm/libsofthsm2.so".
  [[nodiscard]] std::string describe() const;
  // "<what> failed: CKR_... (token '...' in PKCS#11 module ...)" with `hint`.
  [[nodiscard]] Unexpected failure(ErrorCode code, const std::string& what, CK_RV rv,
                                   const std::string& hint = {}) const;

  // Whether the token offers a mechanism (C_GetMechanismList).
  [[nodiscard]] bool offers(CK_MECHANISM_TYPE mechanism) const;

  // Up to `max` objects of a class whose label (and id, when given) match;
  // `what` names them in an error.
  Result<std::vector<CK_OBJECT_HANDLE>> find_objects(Session& s, CK_OBJECT_CLASS object_class,
                                                     const std::string& label,
                                                     const std::optional<Bytes>& id,
                                                     std::size_t max,
                                                     const std::string& what) const;
  // The one object of a class whose label and/or id match; an error naming
  // them when there is none or more than one.
  Result<CK_OBJECT_HANDLE> find_object(Session& s, CK_OBJECT_CLASS object_class,
                                       const std::string& label, const std::optional<Bytes>& id,
                                       const std::string& what) const;
  // An attribute's value; nullopt when the token refuses to reveal it
  // (CKR_ATTRIBUTE_SENSITIVE), an error otherwise.
  Result<std::optional<Bytes>> attribute(Session& s, CK_OBJECT_HANDLE object,
                                         CK_ATTRIBUTE_TYPE type) const;

 private:
  Token(std::shared_ptr<Module> module, CK_SLOT_ID slot, std::string label)
      : module_(std::move(module)), slot_(slot), label_(std::move(label)) {}
  Result<CK_SESSION_HANDLE> open_session() const;
  Status login(const Pkcs11Uri& uri);
  void give_back(CK_SESSION_HANDLE handle, bool broken);

  std::shared_ptr<Module> module_;
  CK_SLOT_ID slot_;
  std::string label_;
  std::vector<CK_MECHANISM_TYPE> mechanisms_;
  std::mutex mutex_;
  std::vector<CK_SESSION_HANDLE> idle_;
  // Kept open for the token's life: the login state of PKCS#11 ends with
  // the application's last session on the token.
  CK_SESSION_HANDLE anchor_session_ = CK_INVALID_HANDLE;
};

}  // namespace vouchsafe::crypto::pkcs11
