/* init_exe: where the static sandboxctl-init is on the host. */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "src/lib/run-internal.h"

#define INIT_NAME "sandboxctl-init"

static bool executable(const char *path)
{
        return path && *path == '/' && access(path, X_OK) == 0;
}

const char *sbx_init_exe(void)
{
        static char path[PATH_MAX];
        const char *env = getenv(SBX_INIT_ENV);

        if (env && *env)
                return executable(env) ? env : NULL;
        /* Beside sandboxctl (the build tree), else where it is installed. */
        ssize_t n = readlink("/proc/self/exe", path, sizeof(path) - 1);
        if (n > 0) {
                path[n] = '\0';
                char *slash = strrchr(path, '/');
                if (slash && (size_t)(slash + 1 - path) + sizeof(INIT_NAME) <= sizeof(path)) {
                        strcpy(slash + 1, INIT_NAME);
                        if (executable(path))
                                return path;
                }
        }
        snprintf(path, sizeof(path), "%s/%s", SBX_LIBEXECDIR, INIT_NAME);
        return executable(path) ? path : NULL;
}
