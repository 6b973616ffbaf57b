// Key references: parsing RFC 7512 URIs, opening signers, making keys.
#include "crypto/key_reference.h"

#include <fcntl.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>

#include "core/file.h"
#include "core/secrets.h"
#include "crypto/pkcs11/pkcs11_signer.h"

namespace vouchsafe::crypto {
namespace {

namespace fs = std::filesystem;

constexpr std::string_view k_scheme = "pkcs11:";
constexpr std::size_t k_max_attribute = 1024;

Unexpected bad_uri(const std::string& why) {
  return fail(ErrorCode::usage, "pkcs11: URI: " + why + " (RFC 7512, e.g. pkcs11:token=vouchsafe;" +
                                    "object=root-ca?module-path=/usr/lib/softhsm/libsofthsm2.so)");
}

// RFC 3986 §2.1 percent-decoding; a '%' not followed by two hex digits is refused.
Result<std::string> percent_decode(std::string_view text, std::string_view name) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '%') {
      const bool room = i + 2 < text.size();
      const int hi = room ? hex_digit_value(text[i + 1]) : -1;
      const int lo = room ? hex_digit_value(text[i + 2]) : -1;
      if (hi < 0 || lo < 0) {
        return bad_uri("attribute " + std::string(name) + " has a '%' without two hex digits");
      }
      out += static_cast<char>((hi << 4) | lo);
      i += 2;
    } else if (static_cast<unsigned char>(c) < 0x21 || c == 0x7F) {
      return bad_uri("attribute " + std::string(name) +
                     " holds a space or control character; percent-encode it");
    } else {
      out += c;
    }
  }
  return out;
}

bool unreserved(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '.' || c == '_' || c == '~';
}

std::string percent_encode(std::string_view text, std::string_view keep) {
  static constexpr char k_hex[] = "0123456789ABCDEF";
  std::string out;
  for (const char c : text) {
    if (unreserved(c) || keep.find(c) != std::string_view::npos) {
      out += c;
    } else {
      const auto b = static_cast<unsigned char>(c);
      out += '%';
      out += k_hex[b >> 4U];
      out += k_hex[b & 0xFU];
    }
  }
  return out;
}

std::string encode_bytes(ByteView bytes) {
  std::string out;
  for (const auto b : bytes) out += "%" + hex_encode(ByteView(&b, 1));
  return out;
}

}  // namespace

Result<Pkcs11Uri> parse_pkcs11_uri(std::string_view text) {
  if (text.size() > k_max_key_reference) {
    return bad_uri("longer than " + std::to_string(k_max_key_reference) + " characters");
  }
  if (!text.starts_with(k_scheme)) return bad_uri("it does not start with pkcs11:");
  text.remove_prefix(k_scheme.size());
  if (text.find('#') != std::string_view::npos) return bad_uri("a fragment (#) is not allowed");
  const auto question = text.find('?');
  const std::string_view path = text.substr(0, question);
  const std::string_view query =
      question == std::string_view::npos ? std::string_view() : text.substr(question + 1);
  Pkcs11Uri uri;
  std::vector<std::string> seen;
  const auto each = [&](std::string_view part, char separator, bool in_query) -> Status {
    while (!part.empty()) {
      const auto end = part.find(separator);
      const std::string_view attr = part.substr(0, end);
      part = end == std::string_view::npos ? std::string_view() : part.substr(end + 1);
      if (attr.empty()) continue;
      const auto eq = attr.find('=');
      if (eq == std::string_view::npos || eq == 0) {
        return bad_uri("'" + std::string(attr.substr(0, 64)) + "' is not NAME=VALUE");
      }
      const std::string name(attr.substr(0, eq));
      for (const auto& s : seen) {
        if (s == name) return bad_uri("attribute " + name + " appears twice");
      }
      seen.push_back(name);
      ASSIGN_OR_RETURN(auto value, percent_decode(attr.substr(eq + 1), name));
      // The value's own length: its written form may be encoded differently.
      if (value.size() > k_max_attribute) {
        return bad_uri("attribute " + name + " is longer than " + std::to_string(k_max_attribute));
      }
      if (!in_query) {
        if (name == "token") {
          uri.token = value;
        } else if (name == "object") {
          uri.object = value;
        } else if (name == "id") {
          uri.id = Bytes(value.begin(), value.end());
        } else if (name == "type") {
          if (value != "private" && value != "public" && value != "cert" && value != "secret-key" &&
              value != "data") {
            return bad_uri("type=" + value + " is not private, public, cert, secret-key or data");
          }
          uri.type = value;
        } else if (name == "manufacturer") {
          uri.manufacturer = value;
        } else if (name == "serial") {
          uri.serial = value;
        } else if (name == "model" || name.starts_with("library-") || name.starts_with("slot-") ||
                   name.starts_with("x-")) {
          // Known or vendor attributes that do not change which key we use.
        } else {
          return bad_uri("unknown path attribute '" + name + "'");
        }
      } else {
        if (name == "module-path") {
          uri.module_path = value;
        } else if (name == "pin-source") {
          uri.pin_source = value;
        } else if (name == "pin-value") {
          // STYLE.md habit 15: a PIN in a URI lands in configuration files,
          // the store and process listings.
          return fail(ErrorCode::usage,
                      "pkcs11: URI: pin-value is refused: put the PIN in a file named by "
                      "pin-source=file:/path, or in $" +
                          std::string(k_pkcs11_pin_env));
        } else if (name == "module-name") {
          return bad_uri("module-name is not supported: give module-path=/path/to/module.so");
        } else if (!name.starts_with("x-")) {
          return bad_uri("unknown query attribute '" + name + "'");
        }
      }
    }
    return ok();
  };
  TRY(each(path, ';', false));
  TRY(each(query, '&', true));
  // What we store and print is the canonical form (format_pkcs11_uri),
  // which encodes differently: it must be readable back.
  if (format_pkcs11_uri(uri).size() > k_max_key_reference) {
    return bad_uri("written back in canonical form it is longer than " +
                   std::to_string(k_max_key_reference) + " characters");
  }
  return uri;
}

std::string format_pkcs11_uri(const Pkcs11Uri& uri) {
  std::string path;
  const auto add_path = [&path](std::string_view name, const std::string& encoded) {
    path += (path.empty() ? "" : ";") + std::string(name) + "=" + encoded;
  };
  // RFC 7512 §2.3 pk11-res-avail characters may stay as they are in the path.
  constexpr std::string_view k_path_keep = ":[]@!$'()*+,=";
  if (!uri.token.empty()) add_path("token", percent_encode(uri.token, k_path_keep));
  if (!uri.manufacturer.empty()) {
    add_path("manufacturer", percent_encode(uri.manufacturer, k_path_keep));
  }
  if (!uri.serial.empty()) add_path("serial", percent_encode(uri.serial, k_path_keep));
  if (!uri.object.empty()) add_path("object", percent_encode(uri.object, k_path_keep));
  if (uri.id) add_path("id", encode_bytes(*uri.id));
  if (!uri.type.empty()) add_path("type", uri.type);
  std::string query;
  const auto add_query = [&query](std::string_view name, const std::string& encoded) {
    query += (query.empty() ? "" : "&") + std::string(name) + "=" + encoded;
  };
  constexpr std::string_view k_query_keep = ":[]@!$'()*+,=/?|";
  if (!uri.module_path.empty()) {
    add_query("module-path", percent_encode(uri.module_path, k_query_keep));
  }
  if (!uri.pin_source.empty())
    add_query("pin-source", percent_encode(uri.pin_source, k_query_keep));
  return std::string(k_scheme) + path + (query.empty() ? "" : "?" + query);
}

std::string KeyReference::text() const {
  return kind == Kind::pkcs11 ? format_pkcs11_uri(uri) : path;
}

Result<KeyReference> parse_key_reference(std::string_view text) {
  if (text.size() > k_max_key_reference) {
    return fail(ErrorCode::usage, "a key reference is at most " +
                                      std::to_string(k_max_key_reference) + " characters");
  }
  KeyReference ref;
  if (text.starts_with(k_scheme)) {
    ref.kind = KeyReference::Kind::pkcs11;
    ASSIGN_OR_RETURN(ref.uri, parse_pkcs11_uri(text));
    return ref;
  }
  if (text.empty()) return fail(ErrorCode::usage, "an empty key reference names no key");
  if (text.find('\0') != std::string_view::npos) {
    return fail(ErrorCode::usage, "a key file path cannot hold a NUL byte");
  }
  ref.path = std::string(text);
  return ref;
}

Result<std::string> pkcs11_pin(const Pkcs11Uri& uri) {
  if (!uri.pin_source.empty()) {
    std::string path = uri.pin_source;
    if (path.starts_with("file:")) path = path.substr(5);
    if (path.starts_with("//")) path = path.substr(2);  // file:///etc/pin
    if (path.starts_with("|")) {
      return fail(ErrorCode::usage, "pin-source commands (|...) are not run: name a file");
    }
    auto pin = read_passphrase(path, k_pkcs11_pin_env);
    if (!pin) {
      return fail(ErrorCode::bad_passphrase,
                  "cannot read the token PIN from pin-source " + path + ": " + pin.error().message);
    }
    return **pin;
  }
  if (const char* env = std::getenv(k_pkcs11_pin_env); env != nullptr) return std::string(env);
  return fail(ErrorCode::bad_passphrase, "the token '" + uri.token +
                                             "' needs its user PIN: add pin-source=file:/path to "
                                             "the pkcs11: URI, or set $" +
                                             k_pkcs11_pin_env);
}

Result<std::shared_ptr<const Signer>> open_signer(const KeyReference& ref,
                                                  const std::optional<std::string>& passphrase) {
  if (ref.on_token()) {
    ASSIGN_OR_RETURN(auto signer, pkcs11::Pkcs11Signer::open(ref.uri));
    return std::shared_ptr<const Signer>(std::move(signer));
  }
  ASSIGN_OR_RETURN(auto key, load_private_key(ref.path, passphrase));
  auto signer = SoftwareSigner::create(std::move(key));
  if (!signer) return fail(signer.error().code, ref.path + ": " + signer.error().message);
  return std::shared_ptr<const Signer>(std::move(signer).value());
}

Result<std::shared_ptr<const Signer>> open_signer(std::string_view reference,
                                                  const std::optional<std::string>& passphrase) {
  ASSIGN_OR_RETURN(auto ref, parse_key_reference(reference));
  return open_signer(ref, passphrase);
}

Result<KeyStore> parse_key_store(std::string_view text) {
  ASSIGN_OR_RETURN(auto ref, parse_key_reference(text));
  if (ref.on_token() && (!ref.uri.object.empty() || ref.uri.id)) {
    return fail(ErrorCode::usage,
                "--key-store names a token, not a key: leave object= and id= out (each key "
                "gets its own)");
  }
  return KeyStore{std::move(ref)};
}

Result<GeneratedKey> generate_key_in(const KeyStore& store, KeyType type, const std::string& name,
                                     const std::optional<std::string>& passphrase) {
  GeneratedKey out;
  if (store.on_token()) {
    out.reference.kind = KeyReference::Kind::pkcs11;
    ASSIGN_OR_RETURN(out.reference.uri, pkcs11::generate_key_pair(store.location.uri, type, name));
    auto signer = open_signer(out.reference, std::nullopt);
    if (!signer) {
      (void)destroy_key(out.reference);
      return fail(signer.error());
    }
    out.signer = std::move(signer).value();
    return out;
  }
  if (!passphrase || passphrase->size() < 8) {
    return fail(ErrorCode::bad_passphrase,
                "a key kept in a file is encrypted: its passphrase needs at least 8 characters");
  }
  const fs::path path = fs::path(store.location.path) / (name + ".key.pem");
  if (fs::exists(path)) {
    return fail(ErrorCode::usage, path.string() + " exists; refusing to overwrite a key");
  }
  TRY(create_private_directories(store.location.path));
  auto key = generate_key(type);
  if (!key) return fail(ErrorCode::internal, "cannot generate a key");
  ASSIGN_OR_RETURN(auto pem, private_key_pem(key.get(), passphrase));
  auto written = write_file_atomic(path.string(), as_bytes(pem), 0600);
  OPENSSL_cleanse(pem.data(), pem.size());
  TRY(written);
  out.reference.path = path.string();
  ASSIGN_OR_RETURN(auto signer, SoftwareSigner::create(std::move(key)));
  out.signer = std::shared_ptr<const Signer>(std::move(signer));
  return out;
}

Status destroy_key(const KeyReference& ref) {
  if (ref.on_token()) return pkcs11::destroy_key_pair(ref.uri);
  return destroy_key_file(ref.path);
}

Status destroy_key_file(const std::string& path) {
  if (path.empty() || !fs::exists(path)) return ok();
  const auto size = fs::file_size(path);
  const int fd = ::open(path.c_str(), O_WRONLY | O_CLOEXEC);
  if (fd >= 0) {
    const std::vector<char> zeros(size, 0);
    // Best effort: the unlink below happens whatever the write managed.
    [[maybe_unused]] const auto written = ::write(fd, zeros.data(), zeros.size());
    ::fsync(fd);
    ::close(fd);
  }
  std::error_code ec;
  fs::remove(path, ec);
  if (ec) return fail(ErrorCode::io_error, "cannot remove " + path + ": " + ec.message());
  return ok();
}

std::string key_fingerprint(EVP_PKEY* public_key) {
  return hex_encode(sha256(public_key_der(public_key)));
}

}  // namespace vouchsafe::crypto
