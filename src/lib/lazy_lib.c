/* lazy_lib: dlopen a shared library at its first use (see lazy_lib.h). */
#include <dlfcn.h>
#include <errno.h>

#include "src/lib/lazy_lib.h"

int sbx_lazy_lib_load(struct sbx_lazy_lib *lib, sbx_error **err)
{
        if (lib->handle)
                return 0;
        /* RTLD_NOW: a missing symbol fails here, with a message, rather than
         * in the middle of a checkpoint. RTLD_LOCAL: nothing of it becomes
         * visible to libraries loaded later. */
        void *h = dlopen(lib->soname, RTLD_NOW | RTLD_LOCAL);
        if (!h)
                return sbx_error_set(err, ENOENT, "%s needs %s, which cannot be loaded (%s): "
                                     "install the Debian package %s",
                                     lib->purpose, lib->soname, dlerror(), lib->package);
        for (size_t i = 0; i < lib->n; i++) {
                void *f = dlsym(h, lib->symbols[i]);
                if (!f) {
                        int r = sbx_error_set(err, ENOEXEC,
                                              "%s needs %s from %s, which it lacks (%s): "
                                              "install the Debian package %s",
                                              lib->purpose, lib->symbols[i], lib->soname,
                                              dlerror(), lib->package);
                        dlclose(h);
                        return r;
                }
                lib->fns[i] = f;
        }
        lib->handle = h;
        return 0;
}
