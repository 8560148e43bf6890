#include "kernel_stubs/module_sig.h"

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/pkcs7.h>
#include <openssl/x509.h>

#include <cerrno>
#include <cstring>
#include <string_view>

namespace kmodemu {

struct TrustedKeys::Impl {
    STACK_OF(X509) * certs = sk_X509_new_null();
    ~Impl() { sk_X509_pop_free(certs, X509_free); }
};

TrustedKeys::TrustedKeys() : impl_(std::make_unique<Impl>()) {}
TrustedKeys::~TrustedKeys() = default;

std::unique_ptr<TrustedKeys> TrustedKeys::from_image(std::span<const uint8_t> image) {
    auto keys = std::make_unique<TrustedKeys>();
    // Certificate ::= SEQUENCE (30 82 len) { tbsCertificate SEQUENCE (30 82 len) { [0] version
    // v3 (a0 03 02 01 02) ...
    static const uint8_t v3[] = {0xa0, 0x03, 0x02, 0x01, 0x02};
    for (size_t i = 0; i + 13 < image.size(); ++i) {
        if (image[i] != 0x30 || image[i + 1] != 0x82 || image[i + 4] != 0x30 ||
            image[i + 5] != 0x82 || std::memcmp(&image[i + 8], v3, sizeof v3) != 0)
            continue;
        size_t len = 4 + (size_t(image[i + 2]) << 8 | image[i + 3]);
        if (i + len > image.size()) continue;
        const unsigned char* p = image.data() + i;
        X509* x = d2i_X509(nullptr, &p, long(len));
        if (!x) {
            ERR_clear_error();
            continue;
        }
        sk_X509_push(keys->impl_->certs, x);
        i += len - 1;
    }
    return keys;
}

std::vector<uint8_t> TrustedKeys::der() const {
    std::vector<uint8_t> out;
    for (int i = 0; i < sk_X509_num(impl_->certs); ++i) {
        unsigned char* buf = nullptr;
        int n = i2d_X509(sk_X509_value(impl_->certs, i), &buf);
        if (n > 0) out.insert(out.end(), buf, buf + n);
        OPENSSL_free(buf);
    }
    return out;
}

std::unique_ptr<TrustedKeys> TrustedKeys::from_der(std::span<const uint8_t> der) {
    auto keys = std::make_unique<TrustedKeys>();
    const unsigned char* p = der.data();
    const unsigned char* end = der.data() + der.size();
    while (p < end) {
        X509* x = d2i_X509(nullptr, &p, long(end - p));
        if (!x) {
            ERR_clear_error();
            return nullptr;
        }
        sk_X509_push(keys->impl_->certs, x);
    }
    return keys;
}

size_t TrustedKeys::size() const {
    return size_t(sk_X509_num(impl_->certs));
}

std::vector<std::string> TrustedKeys::subjects() const {
    std::vector<std::string> out;
    for (int i = 0; i < sk_X509_num(impl_->certs); ++i) {
        char buf[512];
        X509_NAME_oneline(X509_get_subject_name(sk_X509_value(impl_->certs, i)), buf, sizeof buf);
        out.push_back(buf);
    }
    return out;
}

SigCheck check_module_signature(std::span<const uint8_t> module, const TrustedKeys* keys) {
    SigCheck r;
    r.content_len = module.size();
    static constexpr std::string_view marker = "~Module signature appended~\n";
    if (module.size() < marker.size() || std::memcmp(module.data() + module.size() - marker.size(),
                                                     marker.data(), marker.size()) != 0)
        return r;  // -ENODATA: unsigned
    r.signed_ = true;
    size_t modlen = module.size() - marker.size();
    // struct module_signature: algo, hash, id_type, signer_len, key_id_len, __pad[3], sig_len
    // (big-endian). mod_check_sig()
    constexpr size_t ms_size = 12;
    if (modlen <= ms_size) {
        r.err = -EBADMSG;
        return r;
    }
    const uint8_t* ms = module.data() + modlen - ms_size;
    uint32_t sig_len =
        uint32_t(ms[8]) << 24 | uint32_t(ms[9]) << 16 | uint32_t(ms[10]) << 8 | ms[11];
    modlen -= ms_size;
    if (sig_len >= modlen) {
        r.err = -EBADMSG;
        return r;
    }
    modlen -= sig_len;
    r.content_len = modlen;
    if (ms[2] != 2 /* PKEY_ID_PKCS7 */) {
        r.err = -ENOPKG;
        return r;
    }
    if (ms[0] || ms[1] || ms[3] || ms[4] || ms[5] || ms[6] || ms[7]) {
        r.err = -EBADMSG;
        return r;
    }
    // verify_pkcs7_signature(): the signer's certificate must be a trusted key, the digest of
    // the module must match.
    const unsigned char* p = module.data() + modlen;
    PKCS7* p7 = d2i_PKCS7(nullptr, &p, long(sig_len));
    if (!p7 || !PKCS7_type_is_signed(p7)) {
        PKCS7_free(p7);
        ERR_clear_error();
        r.err = -EBADMSG;
        return r;
    }
    STACK_OF(X509)* certs = keys ? keys->impl_->certs : nullptr;
    constexpr int flags = PKCS7_BINARY | PKCS7_NOVERIFY | PKCS7_NOINTERN | PKCS7_NOCHAIN;
    STACK_OF(X509)* signers = certs ? PKCS7_get0_signers(p7, certs, flags) : nullptr;
    if (!signers || sk_X509_num(signers) == 0) {
        sk_X509_free(signers);
        PKCS7_free(p7);
        ERR_clear_error();
        r.err = -ENOKEY;
        return r;
    }
    char buf[512];
    X509_NAME_oneline(X509_get_subject_name(sk_X509_value(signers, 0)), buf, sizeof buf);
    sk_X509_free(signers);
    BIO* data = BIO_new_mem_buf(module.data(), int(modlen));
    X509_STORE* store = X509_STORE_new();
    int ok = PKCS7_verify(p7, certs, store, data, nullptr, flags);
    X509_STORE_free(store);
    BIO_free(data);
    PKCS7_free(p7);
    ERR_clear_error();
    if (ok != 1) {
        r.err = -EKEYREJECTED;
        return r;
    }
    r.err = 0;
    r.signer = buf;
    return r;
}

}  // namespace kmodemu
