/* sandbox_id: random sandbox ids, 16 lower-case hex digits. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>

#include "sandboxctl/runtime.h"

int sbx_sandbox_id_new(char ret_id[SBX_ID_LEN + 1], sbx_error **err)
{
        uint8_t bytes[SBX_ID_LEN / 2];
        ssize_t n;

        do
                n = getrandom(bytes, sizeof(bytes), 0);
        while (n < 0 && errno == EINTR);
        if (n < 0)
                return sbx_error_errno(err, errno, "getrandom");
        if ((size_t)n != sizeof(bytes))
                return sbx_error_set(err, EIO, "getrandom: short read");
        for (size_t i = 0; i < sizeof(bytes); i++)
                snprintf(ret_id + 2 * i, 3, "%02x", bytes[i]);
        return 0;
}

bool sbx_sandbox_id_valid(const char *id)
{
        if (!id || strlen(id) != SBX_ID_LEN)
                return false;
        for (size_t i = 0; i < SBX_ID_LEN; i++)
                if (!strchr("0123456789abcdef", id[i]))
                        return false;
        return true;
}
