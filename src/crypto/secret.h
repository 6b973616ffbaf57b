// Bytes that hold key material: wiped with OPENSSL_cleanse when destroyed,
// never copied implicitly.
#pragma once

#include <openssl/crypto.h>

#include <cstdint>
#include <vector>

#include "core/bytes.h"

namespace vouchsafe::crypto {

class SecretBytes {
 public:
  SecretBytes() = default;
  explicit SecretBytes(std::size_t size) : data_(size) {}
  explicit SecretBytes(ByteView data) : data_(data.begin(), data.end()) {}
  SecretBytes(const SecretBytes&) = delete;
  SecretBytes& operator=(const SecretBytes&) = delete;
  SecretBytes(SecretBytes&& other) noexcept : data_(std::move(other.data_)) {}
  SecretBytes& operator=(SecretBytes&& other) noexcept {
    wipe();
    data_ = std::move(other.data_);
    return *this;
  }
  ~SecretBytes() { wipe(); }

  void wipe() {
    if (!data_.empty()) OPENSSL_cleanse(data_.data(), data_.size());
  }
  [[nodiscard]] std::uint8_t* data() { return data_.data(); }
  [[nodiscard]] const std::uint8_t* data() const { return data_.data(); }
  [[nodiscard]] std::size_t size() const { return data_.size(); }
  [[nodiscard]] ByteView view() const { return data_; }

 private:
  std::vector<std::uint8_t> data_;
};

}  // namespace vouchsafe::crypto
