// Key files derived in parallel, each once.
#include "service/masa_key_opener.h"

#include <algorithm>
#include <atomic>
#include <system_error>
#include <thread>

#include "crypto/key_reference.h"

namespace vouchsafe::service {

Status MasaKeyOpener::open(const std::vector<std::string>& references) {
  struct Pending {
    std::string key;  // the canonical reference text
    crypto::KeyReference reference;
    std::optional<Result<std::shared_ptr<const crypto::Signer>>> opened;
  };
  std::vector<Pending> pending;
  {
    const std::lock_guard lock(mutex_);
    for (const auto& text : references) {
      ASSIGN_OR_RETURN(auto reference, crypto::parse_key_reference(text));
      std::string key = reference.text();
      const bool queued = std::any_of(pending.begin(), pending.end(),
                                      [&key](const Pending& p) { return p.key == key; });
      if (!opened_.contains(key) && !queued) {
        pending.push_back({std::move(key), std::move(reference), std::nullopt});
      }
    }
  }
  // Token keys on this thread: a login and a look-up, no derivation.
  std::size_t files = 0;
  for (auto& p : pending) {
    if (p.reference.on_token()) {
      p.opened = crypto::open_signer(p.reference, passphrase_);
    } else {
      ++files;
    }
  }
  std::atomic<std::size_t> next{0};
  const auto derive = [&] {
    for (std::size_t i = next++; i < pending.size(); i = next++) {
      if (!pending[i].opened)
        pending[i].opened = crypto::open_signer(pending[i].reference, passphrase_);
    }
  };
  const std::size_t workers = std::min<std::size_t>(files, std::thread::hardware_concurrency());
  std::vector<std::thread> helpers;
  for (std::size_t t = 1; t < workers; ++t) {
    try {
      helpers.emplace_back(derive);
    } catch (const std::system_error&) {
      break;  // no thread to be had: the ones running (and this one) do it all
    }
  }
  derive();
  for (auto& helper : helpers) helper.join();

  std::optional<Error> first_error;
  const std::lock_guard lock(mutex_);
  for (auto& p : pending) {
    if (*p.opened) {
      opened_.emplace(std::move(p.key), std::move(*p.opened).value());
    } else if (!first_error) {
      first_error = p.opened->error();
    }
  }
  if (first_error) return fail(std::move(*first_error));
  return ok();
}

Result<std::shared_ptr<const crypto::Signer>> MasaKeyOpener::signer(const std::string& reference) {
  ASSIGN_OR_RETURN(auto parsed, crypto::parse_key_reference(reference));
  {
    const std::lock_guard lock(mutex_);
    if (auto found = opened_.find(parsed.text()); found != opened_.end()) return found->second;
  }
  TRY(open({reference}));
  const std::lock_guard lock(mutex_);
  return opened_.at(parsed.text());
}

std::size_t MasaKeyOpener::size() const {
  const std::lock_guard lock(mutex_);
  return opened_.size();
}

}  // namespace vouchsafe::service
