// Share files and the split / recover ceremonies.
#include "factory/ceremony.h"

#include <openssl/rand.h>
#include <openssl/x509.h>

#include <filesystem>
#include <nlohmann/json.hpp>

#include "core/file.h"
#include "crypto/key_reference.h"
#include "crypto/keys.h"
#include "crypto/secret_sharing.h"

namespace vouchsafe::factory {
namespace {

using nlohmann::json;
namespace fs = std::filesystem;

constexpr std::string_view k_format = "vouchsafe-key-share";
constexpr int k_version = 1;

// What the GCM tag binds besides the share: a share moved into another
// split's file, or given another index, does not decrypt.
Bytes associated_data(const ShareFile& s) {
  return to_bytes(std::string(k_format) + "|1|" + s.key_name + "|" + s.key_fingerprint + "|" +
                  s.split_id + "|" + std::to_string(s.index) + "|" + std::to_string(s.threshold) +
                  "|" + std::to_string(s.shares));
}

json body_of(const ShareFile& s) {
  return json{{"format", k_format},
              {"version", k_version},
              {"key", s.key_name},
              {"key_fingerprint", s.key_fingerprint},
              {"split_id", s.split_id},
              {"index", s.index},
              {"threshold", s.threshold},
              {"shares", s.shares},
              {"kdf",
               {{"name", "scrypt"},
                {"n", s.sealed.cost.n},
                {"r", s.sealed.cost.r},
                {"p", s.sealed.cost.p},
                {"salt", base64_encode(s.sealed.salt)}}},
              {"cipher",
               {{"name", "AES-256-GCM"},
                {"nonce", base64_encode(s.sealed.nonce)},
                {"tag", base64_encode(s.sealed.tag)}}},
              {"ciphertext", base64_encode(s.sealed.ciphertext)}};
}

// SHA-256 of the canonical text of every member but the checksum
// (nlohmann's dump sorts members): catches a corrupted file before its
// holder is asked for a passphrase, and tells corruption from a wrong one.
std::string checksum_of(const json& body) {
  return hex_encode(crypto::sha256(as_bytes(body.dump())));
}

Unexpected bad(const std::string& why) {
  return fail(ErrorCode::invalid_value, "not a valid share file: " + why);
}

Result<std::string> text_field(const json& j, const char* name, std::size_t max) {
  const auto it = j.find(name);
  if (it == j.end() || !it->is_string())
    return bad(std::string("\"") + name + "\" missing or not text");
  const auto& v = it->get_ref<const std::string&>();
  if (v.size() > max) return bad(std::string("\"") + name + "\" too long");
  return v;
}

Result<std::uint64_t> number_field(const json& j, const char* name, std::uint64_t max) {
  const auto it = j.find(name);
  if (it == j.end() || !it->is_number_unsigned() || it->get<std::uint64_t>() > max) {
    return bad(std::string("\"") + name + "\" missing, negative or above " + std::to_string(max));
  }
  return it->get<std::uint64_t>();
}

Result<Bytes> base64_field(const json& j, const char* name, std::size_t max) {
  ASSIGN_OR_RETURN(auto text, text_field(j, name, max * 2));
  auto bytes = base64_decode(text);
  if (!bytes) return bad(std::string("\"") + name + "\" is not base64");
  return std::move(bytes).value();
}

bool hex_of_length(const std::string& s, std::size_t n) {
  return s.size() == n && std::all_of(s.begin(), s.end(), [](char c) {
           return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
         });
}

}  // namespace

std::string share_file_text(const ShareFile& share) {
  json j = body_of(share);
  j["checksum"] = checksum_of(j);
  return j.dump(2) + "\n";
}

Result<ShareFile> parse_share_file(ByteView data) {
  if (data.size() > k_max_share_file) {
    return bad("larger than " + std::to_string(k_max_share_file) + " bytes");
  }
  json j = json::parse(data.begin(), data.end(), nullptr, false);
  if (j.is_discarded() || !j.is_object()) return bad("not a JSON object");
  ASSIGN_OR_RETURN(auto format, text_field(j, "format", 64));
  if (format != k_format) return bad("format is not " + std::string(k_format));
  ASSIGN_OR_RETURN(auto version, number_field(j, "version", 1000));
  if (version != k_version) return bad("version " + std::to_string(version) + " is not 1");
  ASSIGN_OR_RETURN(auto checksum, text_field(j, "checksum", 64));
  json body = j;
  body.erase("checksum");
  if (checksum != checksum_of(body)) {
    return fail(ErrorCode::invalid_value,
                "the share is corrupted: its checksum does not match its contents");
  }
  ShareFile s;
  ASSIGN_OR_RETURN(s.key_name, text_field(j, "key", 64));
  ASSIGN_OR_RETURN(s.key_fingerprint, text_field(j, "key_fingerprint", 64));
  ASSIGN_OR_RETURN(s.split_id, text_field(j, "split_id", 32));
  if (!hex_of_length(s.key_fingerprint, 64) || !hex_of_length(s.split_id, 32)) {
    return bad("key_fingerprint or split_id is not lower-case hex of the right length");
  }
  ASSIGN_OR_RETURN(auto index, number_field(j, "index", 255));
  ASSIGN_OR_RETURN(auto threshold, number_field(j, "threshold", 255));
  ASSIGN_OR_RETURN(auto shares, number_field(j, "shares", 255));
  if (index < 1 || threshold < 2 || shares < threshold || index > shares) {
    return bad("index " + std::to_string(index) + ", threshold " + std::to_string(threshold) +
               " and shares " + std::to_string(shares) + " do not fit together");
  }
  s.index = static_cast<unsigned>(index);
  s.threshold = static_cast<unsigned>(threshold);
  s.shares = static_cast<unsigned>(shares);
  const auto kdf = j.find("kdf");
  const auto cipher = j.find("cipher");
  if (kdf == j.end() || !kdf->is_object() || cipher == j.end() || !cipher->is_object()) {
    return bad("kdf or cipher missing");
  }
  ASSIGN_OR_RETURN(auto kdf_name, text_field(*kdf, "name", 16));
  ASSIGN_OR_RETURN(auto cipher_name, text_field(*cipher, "name", 16));
  if (kdf_name != "scrypt" || cipher_name != "AES-256-GCM") {
    return bad("only scrypt and AES-256-GCM are read");
  }
  ASSIGN_OR_RETURN(s.sealed.cost.n, number_field(*kdf, "n", std::uint64_t{1} << 20U));
  ASSIGN_OR_RETURN(auto r, number_field(*kdf, "r", 16));
  ASSIGN_OR_RETURN(auto p, number_field(*kdf, "p", 4));
  s.sealed.cost.r = static_cast<std::uint32_t>(r);
  s.sealed.cost.p = static_cast<std::uint32_t>(p);
  if (auto cost = crypto::check_scrypt_cost(s.sealed.cost); !cost) return bad(cost.error().message);
  ASSIGN_OR_RETURN(s.sealed.salt, base64_field(*kdf, "salt", 64));
  ASSIGN_OR_RETURN(s.sealed.nonce, base64_field(*cipher, "nonce", 64));
  ASSIGN_OR_RETURN(s.sealed.tag, base64_field(*cipher, "tag", 64));
  ASSIGN_OR_RETURN(s.sealed.ciphertext, base64_field(j, "ciphertext", 4096));
  if (s.sealed.salt.size() != 16 || s.sealed.nonce.size() != 12 || s.sealed.tag.size() != 16 ||
      s.sealed.ciphertext.empty()) {
    return bad("salt, nonce, tag or ciphertext of the wrong size");
  }
  return s;
}

Result<crypto::SecretBytes> pkcs8_der(EVP_PKEY* key) {
  const crypto::Pkcs8InfoPtr info(EVP_PKEY2PKCS8(key));
  if (!info) return fail(ErrorCode::bad_key, "the key cannot be encoded as PKCS#8");
  unsigned char* out = nullptr;
  const int len = i2d_PKCS8_PRIV_KEY_INFO(info.get(), &out);
  if (len <= 0) return fail(ErrorCode::bad_key, "the key cannot be encoded as PKCS#8");
  crypto::SecretBytes der(ByteView(out, static_cast<std::size_t>(len)));
  OPENSSL_clear_free(out, static_cast<std::size_t>(len));
  return der;
}

Result<SplitOutcome> split_key(ByteView pkcs8_der, EVP_PKEY* public_key,
                               const SplitOptions& options) {
  if (options.holder_passphrases.size() != options.shares) {
    return fail(ErrorCode::usage,
                "one passphrase per share holder is needed: " + std::to_string(options.shares) +
                    " shares, " + std::to_string(options.holder_passphrases.size()) +
                    " passphrases");
  }
  for (std::size_t i = 0; i < options.holder_passphrases.size(); ++i) {
    if (options.holder_passphrases[i].size() < 8) {
      return fail(ErrorCode::bad_passphrase, "the passphrase of share holder " +
                                                 std::to_string(i + 1) +
                                                 " has fewer than 8 characters");
    }
  }
  ASSIGN_OR_RETURN(auto pieces, crypto::split_secret(pkcs8_der, options.shares, options.threshold));
  Bytes split(16);
  if (RAND_bytes(split.data(), static_cast<int>(split.size())) != 1) {
    return fail(ErrorCode::internal, "the random number generator failed");
  }
  TRY(create_private_directories(options.out_dir));
  std::vector<std::string> written;
  const auto undo = [&written] {
    for (const auto& f : written) (void)crypto::destroy_key_file(f);
  };
  for (std::size_t i = 0; i < pieces.size(); ++i) {
    ShareFile s;
    s.key_name = options.key_name;
    s.key_fingerprint = crypto::key_fingerprint(public_key);
    s.split_id = hex_encode(split);
    s.index = pieces[i].index;
    s.threshold = options.threshold;
    s.shares = options.shares;
    auto sealed = crypto::seal(pieces[i].data.view(), options.holder_passphrases[i],
                               associated_data(s), options.cost);
    if (!sealed) {
      undo();
      return fail(sealed.error());
    }
    s.sealed = std::move(sealed).value();
    const std::string path = (fs::path(options.out_dir) / ("share-" + options.key_name + "-" +
                                                           std::to_string(s.index) + ".json"))
                                 .string();
    if (fs::exists(path)) {
      undo();
      return fail(ErrorCode::usage, path + " exists; refusing to overwrite a share");
    }
    if (auto w = write_file_atomic(path, as_bytes(share_file_text(s)), 0600); !w) {
      undo();
      return fail(w.error());
    }
    written.push_back(path);
  }
  return SplitOutcome{hex_encode(split), written};
}

Result<std::shared_ptr<const crypto::Signer>> recover_key(const std::vector<ShareInput>& inputs,
                                                          const std::string& expected_key) {
  if (inputs.empty()) return fail(ErrorCode::usage, "no shares given: --share FILE ...");
  std::vector<ShareFile> files;
  for (const auto& in : inputs) {
    auto data = read_file(in.path, k_max_share_file);
    if (!data)
      return fail(ErrorCode::invalid_value, "share " + in.path + ": " + data.error().message);
    auto parsed = parse_share_file(*data);
    if (!parsed)
      return fail(ErrorCode::invalid_value, "share " + in.path + ": " + parsed.error().message);
    files.push_back(std::move(parsed).value());
  }
  const ShareFile& first = files.front();
  if (!expected_key.empty() && first.key_name != expected_key) {
    return fail(ErrorCode::invalid_value, "share " + inputs[0].path + " is a share of the " +
                                              first.key_name + " key, not of the " + expected_key +
                                              " key");
  }
  for (std::size_t i = 1; i < files.size(); ++i) {
    if (files[i].split_id != first.split_id || files[i].key_fingerprint != first.key_fingerprint ||
        files[i].key_name != first.key_name) {
      return fail(ErrorCode::invalid_value,
                  "share " + inputs[i].path + " is from another split (split " +
                      files[i].split_id.substr(0, 8) + "... of the " + files[i].key_name +
                      " key; " + inputs[0].path + " is from split " + first.split_id.substr(0, 8) +
                      "... of the " + first.key_name + " key)");
    }
    for (std::size_t j = 0; j < i; ++j) {
      if (files[j].index == files[i].index) {
        return fail(ErrorCode::invalid_value, "share " + inputs[i].path + " repeats share index " +
                                                  std::to_string(files[i].index) + " of " +
                                                  inputs[j].path +
                                                  ": each holder's share counts once");
      }
    }
  }
  if (files.size() < first.threshold) {
    return fail(ErrorCode::invalid_value, std::to_string(files.size()) + " shares given; the " +
                                              first.key_name + " key needs " +
                                              std::to_string(first.threshold) + " of its " +
                                              std::to_string(first.shares) + " shares");
  }
  std::vector<crypto::SecretShare> shares;
  for (std::size_t i = 0; i < files.size(); ++i) {
    auto opened =
        crypto::open_box(files[i].sealed, inputs[i].passphrase, associated_data(files[i]));
    if (!opened) {
      return fail(opened.error().code == ErrorCode::bad_passphrase ? ErrorCode::bad_passphrase
                                                                   : ErrorCode::invalid_value,
                  "share " + inputs[i].path + ": " + opened.error().message +
                      " (each holder gives their own passphrase)");
    }
    shares.push_back({static_cast<std::uint8_t>(files[i].index), std::move(opened).value()});
  }
  std::vector<const crypto::SecretShare*> picked;
  picked.reserve(shares.size());
  for (const auto& s : shares) picked.push_back(&s);
  ASSIGN_OR_RETURN(auto der, crypto::combine_shares(picked));
  const unsigned char* p = der.data();
  crypto::PkeyPtr key(d2i_AutoPrivateKey(nullptr, &p, static_cast<long>(der.size())));
  if (!key || crypto::key_fingerprint(key.get()) != first.key_fingerprint) {
    return fail(ErrorCode::invalid_value, "the shares do not rebuild the " + first.key_name +
                                              " key (fingerprint " +
                                              first.key_fingerprint.substr(0, 16) +
                                              "...): one of them was altered before it was sealed");
  }
  ASSIGN_OR_RETURN(auto signer, crypto::SoftwareSigner::create(std::move(key)));
  return std::shared_ptr<const crypto::Signer>(std::move(signer));
}

}  // namespace vouchsafe::factory
