/* lazy_lib: a shared library loaded with dlopen at its first use rather than
 * by the dynamic loader at start, so that a command that never needs it
 * (every `sandboxctl run`) neither maps it nor pays for its relocations.
 * The shims lazy_criu.c and lazy_crypto.c are built on it. Private. */
#ifndef SBX_LAZY_LIB_H
#define SBX_LAZY_LIB_H

#include <stddef.h>

#include "sandboxctl/error.h"

struct sbx_lazy_lib {
        const char *soname;         /* e.g. "libcriu.so.2" */
        const char *package;        /* the Debian package that ships it */
        const char *purpose;        /* what needs it, for the error message */
        const char *const *symbols; /* names to resolve, in the order of fns */
        void **fns;                 /* filled on success */
        size_t n;
        void *handle; /* set once loaded */
};

/* Load lib (once; later calls return 0 at once) and resolve every symbol.
 * Fails with ENOENT / ENOEXEC and a message naming the library, the package
 * to install and what needed it. Not thread-safe: sandboxctl's processes
 * load their libraries from one thread. */
int sbx_lazy_lib_load(struct sbx_lazy_lib *lib, sbx_error **err);

#endif
