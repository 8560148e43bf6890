// Module signatures: mod_verify_sig() (kernel/module/signing.c) over the system keyring of
// certs/system_keyring.c (the keys built into the kernel), with verify_pkcs7_signature(). A
// signed module ends with its PKCS#7 signature, a struct module_signature and the marker
// "~Module signature appended~\n"; the kernel verifies it before it looks at the ELF, which it
// then reads without the signature.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

namespace kmodemu {

struct SigCheck {
    bool signed_ = false;  // the marker is there
    // mod_verify_sig()'s result: 0 (verified), -ENODATA (no signature), -ENOKEY (no trusted key
    // for the signer), -ENOPKG (not PKCS#7), -EBADMSG (malformed), -EKEYREJECTED (the
    // signature does not match the module).
    int err = -61;           // -ENODATA
    size_t content_len = 0;  // the module without its signature (info->len after the check)
    std::string message;     // a kernel message for the load to print, when there is one
    std::string signer;      // the certificate that verified it
};

class TrustedKeys;

// `keys` null: the kernel has no trusted keys (every signature is -ENOKEY).
SigCheck check_module_signature(std::span<const uint8_t> module, const TrustedKeys* keys);

// The X.509 certificates a kernel trusts for modules (its system keyring), as DER.
class TrustedKeys {
  public:
    TrustedKeys();
    ~TrustedKeys();
    TrustedKeys(const TrustedKeys&) = delete;
    TrustedKeys& operator=(const TrustedKeys&) = delete;
    // The certificates built into a kernel image (system_certificate_list): every DER X.509 v3
    // certificate found in it.
    static std::unique_ptr<TrustedKeys> from_image(std::span<const uint8_t> image);
    // The certificates one after the other, as DER (a cache of what from_image() found), and
    // back.
    std::vector<uint8_t> der() const;
    static std::unique_ptr<TrustedKeys> from_der(std::span<const uint8_t> der);
    size_t size() const;
    std::vector<std::string> subjects() const;  // "CN=..., O=...", for reports and tests

  private:
    friend SigCheck check_module_signature(std::span<const uint8_t>, const TrustedKeys*);
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace kmodemu
