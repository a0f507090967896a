/* lazy_crypto: libcrypto's sha256 functions through dlopen (lazy_crypto.h).
 * Before a successful load every function fails the way libcrypto's own do
 * (NULL or 0); callers that can report an error call sbx_lazy_crypto_load()
 * first for a message that names the library. */
#include "src/lib/lazy_crypto.h"
#include "src/lib/lazy_lib.h"

#if OPENSSL_VERSION_MAJOR != 3
#error "lazy_crypto loads libcrypto.so.3: update its soname for this OpenSSL"
#endif

#define CRYPTO_FNS(X)                                                                           \
        X(EVP_MD_CTX *, EVP_MD_CTX_new, (void), (), NULL)                                       \
        X(const EVP_MD *, EVP_sha256, (void), (), NULL)                                         \
        X(int, EVP_DigestInit_ex, (EVP_MD_CTX * ctx, const EVP_MD *type, ENGINE *impl),         \
          (ctx, type, impl), 0)                                                                 \
        X(int, EVP_DigestUpdate, (EVP_MD_CTX * ctx, const void *d, size_t cnt), (ctx, d, cnt), 0) \
        X(int, EVP_DigestFinal_ex, (EVP_MD_CTX * ctx, unsigned char *md, unsigned int *s),      \
          (ctx, md, s), 0)                                                                      \
        X(int, EVP_Digest,                                                                      \
          (const void *data, size_t count, unsigned char *md, unsigned int *size,               \
           const EVP_MD *type, ENGINE *impl),                                                   \
          (data, count, md, size, type, impl), 0)

#define FN_INDEX(ret, name, params, args, fail) I_##name,
#define FN_NAME(ret, name, params, args, fail) #name,
enum { CRYPTO_FNS(FN_INDEX) I_EVP_MD_CTX_free, N_FNS };
static const char *const names[N_FNS] = { CRYPTO_FNS(FN_NAME) "EVP_MD_CTX_free" };
static void *fns[N_FNS];

static struct sbx_lazy_lib crypto = {
        .soname = "libcrypto.so.3",
        .package = "libssl3",
        .purpose = "the sha256 checksums of snapshots",
        .symbols = names,
        .fns = fns,
        .n = N_FNS,
};

int sbx_lazy_crypto_load(sbx_error **err)
{
        return sbx_lazy_lib_load(&crypto, err);
}

#define FN_SHIM(ret, name, params, args, fail)                     \
        ret sbx_lazy_##name params                                 \
        {                                                          \
                if (sbx_lazy_lib_load(&crypto, NULL) < 0)          \
                        return fail;                               \
                return ((ret(*) params)fns[I_##name])args;         \
        }
CRYPTO_FNS(FN_SHIM)

void sbx_lazy_EVP_MD_CTX_free(EVP_MD_CTX *ctx)
{
        /* Only a loaded library made the ctx it frees. */
        if (ctx && crypto.handle)
                ((void (*)(EVP_MD_CTX *))fns[I_EVP_MD_CTX_free])(ctx);
}
