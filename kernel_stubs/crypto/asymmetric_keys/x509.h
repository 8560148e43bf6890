// crypto/asymmetric_keys: what the kernel makes of an X.509 certificate it is given as a key.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>

namespace kmodemu {

// x509_key_preparse()'s description of the key: the subject as x509_fabricate_name() makes it
// from the certificate's CN, O and email, ": ", and the subject key identifier in hex (the
// serial number's DER content when the certificate has none). Nothing when the certificate
// does not parse (the kernel's -EBADMSG).
std::optional<std::string> x509_key_description(std::span<const uint8_t> der);

}  // namespace kmodemu
