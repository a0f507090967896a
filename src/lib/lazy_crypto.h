/* lazy_crypto: the few libcrypto functions the snapshot store calls (sha256),
 * taken from libcrypto.so.3 loaded at their first use (lazy_lib.h) instead of
 * at every start of sandboxctl. Include this instead of <openssl/evp.h>: the
 * names below then call the shim. Private. */
#ifndef SBX_LAZY_CRYPTO_H
#define SBX_LAZY_CRYPTO_H

#include <openssl/evp.h>

#include "sandboxctl/error.h"

/* Load libcrypto now; an error names the library and its package. */
int sbx_lazy_crypto_load(sbx_error **err);

EVP_MD_CTX *sbx_lazy_EVP_MD_CTX_new(void);
void sbx_lazy_EVP_MD_CTX_free(EVP_MD_CTX *ctx);
const EVP_MD *sbx_lazy_EVP_sha256(void);
int sbx_lazy_EVP_DigestInit_ex(EVP_MD_CTX *ctx, const EVP_MD *type, ENGINE *impl);
int sbx_lazy_EVP_DigestUpdate(EVP_MD_CTX *ctx, const void *d, size_t cnt);
int sbx_lazy_EVP_DigestFinal_ex(EVP_MD_CTX *ctx, unsigned char *md, unsigned int *s);
int sbx_lazy_EVP_Digest(const void *data, size_t count, unsigned char *md, unsigned int *size,
                        const EVP_MD *type, ENGINE *impl);

#define EVP_MD_CTX_new sbx_lazy_EVP_MD_CTX_new
#define EVP_MD_CTX_free sbx_lazy_EVP_MD_CTX_free
#define EVP_sha256 sbx_lazy_EVP_sha256
#define EVP_DigestInit_ex sbx_lazy_EVP_DigestInit_ex
#define EVP_DigestUpdate sbx_lazy_EVP_DigestUpdate
#define EVP_DigestFinal_ex sbx_lazy_EVP_DigestFinal_ex
#define EVP_Digest sbx_lazy_EVP_Digest

#endif
