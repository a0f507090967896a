/* net: network set-up inside the sandbox's network namespace (libnl-3). */
#include <errno.h>
#include <net/if.h>
#include <netlink/errno.h>
#include <netlink/netlink.h>
#include <netlink/route/link.h>
#include <netlink/socket.h>

#include "sandboxctl/net.h"
#include "sandboxctl/util.h"

SBX_DEFINE_CLEANUP(struct nl_sock *, nl_socket_free)
SBX_DEFINE_CLEANUP(struct rtnl_link *, rtnl_link_put)

/* libnl's own codes (positive NLE_*) to the nearest errno. */
static int errno_from_nl(int nle)
{
        switch (nle) {
        case NLE_NOMEM:
                return ENOMEM;
        case NLE_PERM:
                return EPERM;
        case NLE_NOACCESS:
                return EACCES;
        case NLE_OBJ_NOTFOUND:
                return ENODEV;
        case NLE_INVAL:
                return EINVAL;
        case NLE_BUSY:
                return EBUSY;
        case NLE_OPNOTSUPP:
                return EOPNOTSUPP;
        case NLE_AF_NOSUPPORT:
                return EAFNOSUPPORT;
        default:
                return EIO;
        }
}

static int nl_error(sbx_error **err, int r, const char *what)
{
        int nle = r < 0 ? -r : r;
        return sbx_error_set(err, errno_from_nl(nle), "%s: %s", what, nl_geterror(nle));
}

int sbx_net_loopback_up(sbx_error **err)
{
        __attribute__((cleanup(nl_socket_freep))) struct nl_sock *sk = nl_socket_alloc();
        __attribute__((cleanup(rtnl_link_putp))) struct rtnl_link *lo = NULL;
        __attribute__((cleanup(rtnl_link_putp))) struct rtnl_link *change = NULL;

        if (!sk)
                return sbx_error_set(err, ENOMEM, "bring up lo: allocate netlink socket: %s",
                                     nl_geterror(NLE_NOMEM));
        int r = nl_connect(sk, NETLINK_ROUTE);
        if (r < 0)
                return nl_error(err, r, "bring up lo: connect to rtnetlink");
        r = rtnl_link_get_kernel(sk, 0, "lo", &lo);
        if (r < 0)
                return nl_error(err, r, "bring up lo: look up link lo");
        change = rtnl_link_alloc();
        if (!change)
                return sbx_error_set(err, ENOMEM, "bring up lo: %s", nl_geterror(NLE_NOMEM));
        rtnl_link_set_flags(change, IFF_UP);
        r = rtnl_link_change(sk, lo, change, 0);
        if (r < 0)
                return nl_error(err, r, "bring up lo: set link lo up");
        return 0;
}
