#include "kernel_stubs/crypto/asymmetric_keys/x509.h"

#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <cstring>
#include <memory>

namespace kmodemu {

namespace {

std::string hex(const uint8_t* p, size_t n) {
    static const char digits[] = "0123456789abcdef";
    std::string out;
    for (size_t i = 0; i < n; ++i) {
        out += digits[p[i] >> 4];
        out += digits[p[i] & 15];
    }
    return out;
}

// The raw bytes of the subject's last attribute of that type (x509_note_*() keep the last).
std::string attribute(X509_NAME* name, int nid) {
    int last = -1;
    for (int i = X509_NAME_get_index_by_NID(name, nid, -1); i >= 0;
         i = X509_NAME_get_index_by_NID(name, nid, i))
        last = i;
    if (last < 0) return {};
    ASN1_STRING* s = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, last));
    return std::string(reinterpret_cast<const char*>(ASN1_STRING_get0_data(s)),
                       size_t(ASN1_STRING_length(s)));
}

}  // namespace

std::optional<std::string> x509_key_description(std::span<const uint8_t> der) {
    const unsigned char* p = der.data();
    std::unique_ptr<X509, decltype(&X509_free)> cert(d2i_X509(nullptr, &p, long(der.size())),
                                                     X509_free);
    if (!cert) return std::nullopt;
    X509_NAME* subject = X509_get_subject_name(cert.get());
    std::string cn = attribute(subject, NID_commonName);
    std::string o = attribute(subject, NID_organizationName);
    std::string email = attribute(subject, NID_pkcs9_emailAddress);
    // x509_fabricate_name(): the CN alone when it begins with the O (or their first 7 bytes
    // agree), else "O: CN"; then the CN, the O or the email alone.
    std::string name;
    if (!cn.empty() && !o.empty()) {
        if ((cn.size() >= o.size() && cn.compare(0, o.size(), o) == 0) ||
            (cn.size() >= 7 && o.size() >= 7 && cn.compare(0, 7, o, 0, 7) == 0))
            name = cn;
        else
            name = o + ": " + cn;
    } else if (!cn.empty()) {
        name = cn;
    } else if (!o.empty()) {
        name = o;
    } else {
        name = email;
    }
    // x509_key_preparse(): raw_skid, else raw_serial (the INTEGER's content octets).
    std::string id;
    if (const ASN1_OCTET_STRING* skid = X509_get0_subject_key_id(cert.get())) {
        id = hex(ASN1_STRING_get0_data(skid), size_t(ASN1_STRING_length(skid)));
    } else {
        unsigned char* enc = nullptr;
        int n = i2d_ASN1_INTEGER(X509_get0_serialNumber(cert.get()), &enc);
        if (n <= 2) {
            OPENSSL_free(enc);
            return std::nullopt;
        }
        size_t head = (enc[1] & 0x80) ? 2 + (enc[1] & 0x7f) : 2;
        id = hex(enc + head, size_t(n) - head);
        OPENSSL_free(enc);
    }
    return name + ": " + id;
}

}  // namespace kmodemu
