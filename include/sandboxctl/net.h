/* net: network set-up inside a sandbox's network namespace, via libnl-3
 * (never by running `ip`). */
#ifndef SANDBOXCTL_NET_H
#define SANDBOXCTL_NET_H

#include "sandboxctl/error.h"

/* Bring the loopback link up in the calling process's network namespace. */
int sbx_net_loopback_up(sbx_error **err);

#endif
