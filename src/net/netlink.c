/* netlink.c — rtnetlink requests through libmnl.
 *
 * Every request asks for an acknowledgement, so success is known rather than assumed, and every
 * reply is matched to its request by sequence number (and port id).  The kernel's extended ack
 * text, when it sends one, is kept and added to the error message: "Invalid MTU" says more than
 * "Invalid argument". */
#include "net/netlink.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <libmnl/libmnl.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include <linux/veth.h>
#include <net/if.h>
#include <sched.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "net/nl_int.h"
#include "util/log.h"

/* Replies are read into this: a dump's skb is at most 32 KiB (the kernel caps it to what the
 * reader's buffer has shown it can take), and a smaller buffer would truncate messages. */
#define NL_RECV_SIZE 32768

struct nl
{
  struct mnl_socket *sock;
  uint32_t portid;
  uint32_t seq;
  int nsfd;
  char *buf;
  char extack[256]; /* the kernel's message about the last failed request, or "" */
};

/* Requests are small: a veth with its peer is the largest at about 150 bytes. */
union nl_req
{
  char buf[1024];
  struct nlmsghdr align;
};

bool nl_ifname_ok (const char *name)
{
  if (!name || !*name || strlen (name) >= IFNAMSIZ)
    return false;
  if (strcmp (name, ".") == 0 || strcmp (name, "..") == 0)
    return false;
  for (const char *p = name; *p; p++)
    if (*p == '/' || *p == ':' || *p == ' ' || *p == '\t' || *p == '\n' || *p == '\r' || *p == '\v'
        || *p == '\f')
      return false;
  return true;
}

/* ---------- the socket ---------- */

static int nl_wrap (struct mnl_socket *sock, int nsfd, struct nl **out, berr_t *err)
{
  if (mnl_socket_bind (sock, 0, MNL_SOCKET_AUTOPID) < 0)
    {
      int e = errno;
      mnl_socket_close (sock);
      if (nsfd >= 0)
        close (nsfd);
      return berr_set (err, e, "bind rtnetlink socket");
    }
  /* Best effort: older kernels lack them, and errors are still reported without. */
  int one = 1;
  setsockopt (mnl_socket_get_fd (sock), SOL_NETLINK, NETLINK_EXT_ACK, &one, sizeof one);
  setsockopt (mnl_socket_get_fd (sock), SOL_NETLINK, NETLINK_CAP_ACK, &one, sizeof one);

  struct nl *n = xzalloc (sizeof *n);
  n->sock = sock;
  n->portid = mnl_socket_get_portid (sock);
  n->seq = (uint32_t)time (NULL);
  n->nsfd = nsfd;
  n->buf = xmalloc (NL_RECV_SIZE);
  *out = n;
  return 0;
}

int nl_open (struct nl **out, berr_t *err)
{
  struct mnl_socket *sock = mnl_socket_open2 (NETLINK_ROUTE, SOCK_CLOEXEC);
  if (!sock)
    return berr_set (err, errno, "open rtnetlink socket");
  return nl_wrap (sock, -1, out, err);
}

int nl_open_netns (int netns_fd, struct nl **out, berr_t *err)
{
  cleanup_close int self = open ("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
  if (self < 0)
    return berr_set (err, errno, "open /proc/thread-self/ns/net");
  if (setns (netns_fd, CLONE_NEWNET) < 0)
    return berr_set (err, errno, "enter network namespace (fd %d)", netns_fd);

  /* A netlink socket belongs to the namespace it was created in, for good; so does an nsfs fd.
   * Take both, then leave at once: nothing else may run on this thread in there. */
  struct mnl_socket *sock = mnl_socket_open2 (NETLINK_ROUTE, SOCK_CLOEXEC);
  int sock_errno = errno;
  int nsfd = open ("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
  int ns_errno = errno;

  if (setns (self, CLONE_NEWNET) < 0)
    {
      int e = errno;
      /* This thread now sits in the other namespace: anything it opens from here on (sockets,
       * links, /proc/sys/net) lands there.  Say so loudly; the caller must not carry on. */
      log_error ("cannot return to the original network namespace after opening a netlink socket "
                 "in another: %s; this thread is left in the wrong network namespace",
                 strerror (e));
      if (sock)
        mnl_socket_close (sock);
      if (nsfd >= 0)
        close (nsfd);
      return berr_set (err, e, "return to the original network namespace");
    }
  if (!sock)
    {
      if (nsfd >= 0)
        close (nsfd);
      return berr_set (err, sock_errno, "open rtnetlink socket in network namespace (fd %d)",
                       netns_fd);
    }
  if (nsfd < 0)
    {
      mnl_socket_close (sock);
      return berr_set (err, ns_errno, "open the namespace of fd %d", netns_fd);
    }
  return nl_wrap (sock, nsfd, out, err);
}

void nl_close (struct nl *n)
{
  if (!n)
    return;
  mnl_socket_close (n->sock);
  if (n->nsfd >= 0)
    close (n->nsfd);
  free (n->buf);
  free (n);
}

int nl_netns_fd (const struct nl *n) { return n->nsfd; }

/* ---------- one request, its replies, its acknowledgement ---------- */

typedef int (*nl_reply_cb) (const struct nlmsghdr *m, void *data);

/* The kernel's message text after a failure; its attributes start at off in the payload (after
 * the struct nlmsgerr of an error, after the int of a dump's NLMSG_DONE). */
static void keep_extack (struct nl *n, const struct nlmsghdr *m, size_t off)
{
  if (!(m->nlmsg_flags & NLM_F_ACK_TLVS) || off > mnl_nlmsg_get_payload_len (m))
    return;
  const struct nlattr *a;
  mnl_attr_for_each (a, m, off)
  {
    if (mnl_attr_get_type (a) == NLMSGERR_ATTR_MSG
        && mnl_attr_validate (a, MNL_TYPE_NUL_STRING) >= 0)
      {
        snprintf (n->extack, sizeof n->extack, "%s", mnl_attr_get_str (a));
        return;
      }
  }
}

/* Send nlh and read until its acknowledgement (or, for a dump, its NLMSG_DONE), handing each
 * data message to cb.  Returns 0, or -errno: the kernel's verdict, a socket failure, or the first
 * negative return of cb (the replies are still read to the end so none is left for the next
 * request). */
static int nl_talk (struct nl *n, struct nlmsghdr *nlh, nl_reply_cb cb, void *data)
{
  n->extack[0] = '\0';
  nlh->nlmsg_flags |= NLM_F_REQUEST | NLM_F_ACK;
  nlh->nlmsg_seq = ++n->seq;
  uint32_t seq = nlh->nlmsg_seq;
  if (mnl_socket_sendto (n->sock, nlh, nlh->nlmsg_len) < 0)
    return -errno;

  int cb_ret = 0;
  bool interrupted = false;
  for (;;)
    {
      ssize_t len = mnl_socket_recvfrom (n->sock, n->buf, NL_RECV_SIZE);
      if (len < 0)
        {
          if (errno == EINTR)
            continue;
          return -errno;
        }
      int left = (int)len;
      for (const struct nlmsghdr *m = (const struct nlmsghdr *)n->buf; mnl_nlmsg_ok (m, left);
           m = mnl_nlmsg_next (m, &left))
        {
          /* Not ours, or a reply to an earlier request abandoned half-read: never taken for
           * this one's. */
          if (m->nlmsg_seq != seq || (m->nlmsg_pid != 0 && m->nlmsg_pid != n->portid))
            {
              log_debug ("netlink: dropping a reply with seq %u (expected %u)", m->nlmsg_seq, seq);
              continue;
            }
          if (m->nlmsg_flags & NLM_F_DUMP_INTR)
            interrupted = true;
          switch (m->nlmsg_type)
            {
            case NLMSG_NOOP:
              break;
            case NLMSG_ERROR:
              {
                if (mnl_nlmsg_get_payload_len (m) < sizeof (struct nlmsgerr))
                  return -EBADMSG;
                const struct nlmsgerr *e = mnl_nlmsg_get_payload (m);
                if (e->error != 0)
                  {
                    /* Without NETLINK_CAP_ACK the request itself sits before the attributes. */
                    size_t off = sizeof *e;
                    if (!(m->nlmsg_flags & NLM_F_CAPPED))
                      off += MNL_ALIGN (e->msg.nlmsg_len) - sizeof (struct nlmsghdr);
                    keep_extack (n, m, off);
                    return e->error < 0 ? e->error : -e->error;
                  }
                return cb_ret;
              }
            case NLMSG_DONE:
              {
                /* A dump's end carries its own error code. */
                if (mnl_nlmsg_get_payload_len (m) >= sizeof (int))
                  {
                    int e;
                    memcpy (&e, mnl_nlmsg_get_payload (m), sizeof e);
                    if (e < 0)
                      {
                        keep_extack (n, m, MNL_ALIGN (sizeof e));
                        return e;
                      }
                  }
                if (cb_ret == 0 && interrupted)
                  return -EAGAIN;
                return cb_ret;
              }
            default:
              if (cb && cb_ret == 0)
                {
                  int r = cb (m, data);
                  if (r < 0)
                    cb_ret = r;
                }
            }
        }
    }
}

/* err from a failed request: "WHAT: strerror (kernel's extended ack text)". */
static int nl_fail (struct nl *n, berr_t *err, int r, const char *fmt, ...) PRINTF_LIKE (4, 5);
static int nl_fail (struct nl *n, berr_t *err, int r, const char *fmt, ...)
{
  va_list ap;
  va_start (ap, fmt);
  cleanup_free char *what = xvasprintf (fmt, ap);
  va_end (ap);
  int e = -r;
  int kind = e == EEXIST ? BERR_CONFLICT : e == ENODEV ? BERR_NOT_FOUND : BERR_GENERIC;
  if (n->extack[0])
    berr_setk (err, kind, 0, "%s: %s (%s)", what, strerror (e), n->extack);
  else
    berr_setk (err, kind, 0, "%s: %s", what, strerror (e));
  err->errnum = e;
  return -1;
}

static struct nlmsghdr *put_link_msg (union nl_req *req, uint16_t type, uint16_t flags, int family,
                                      int ifindex)
{
  memset (req, 0, sizeof *req);
  struct nlmsghdr *nlh = mnl_nlmsg_put_header (req->buf);
  nlh->nlmsg_type = type;
  nlh->nlmsg_flags = flags;
  struct ifinfomsg *ifi = mnl_nlmsg_put_extra_header (nlh, sizeof *ifi);
  ifi->ifi_family = family;
  ifi->ifi_index = ifindex;
  return nlh;
}

/* ---------- links ---------- */

static int parse_link (const struct nlmsghdr *m, void *data)
{
  struct nl_link *l = data;
  if (m->nlmsg_type != RTM_NEWLINK || mnl_nlmsg_get_payload_len (m) < sizeof (struct ifinfomsg))
    return 0;
  const struct ifinfomsg *ifi = mnl_nlmsg_get_payload (m);
  memset (l, 0, sizeof *l);
  l->index = ifi->ifi_index;
  l->flags = ifi->ifi_flags;
  const struct nlattr *a;
  mnl_attr_for_each (a, m, sizeof *ifi)
  {
    switch (mnl_attr_get_type (a))
      {
      case IFLA_MTU:
        if (mnl_attr_validate (a, MNL_TYPE_U32) >= 0)
          l->mtu = (int)mnl_attr_get_u32 (a);
        break;
      case IFLA_MASTER:
        if (mnl_attr_validate (a, MNL_TYPE_U32) >= 0)
          l->master = (int)mnl_attr_get_u32 (a);
        break;
      case IFLA_LINKINFO:
        {
          const struct nlattr *i;
          mnl_attr_for_each_nested (i, a)
          {
            /* "%.*s": the kind may come NUL-terminated or not. */
            if (mnl_attr_get_type (i) == IFLA_INFO_KIND
                && mnl_attr_validate (i, MNL_TYPE_STRING) >= 0)
              snprintf (l->kind, sizeof l->kind, "%.*s", (int)mnl_attr_get_payload_len (i),
                        (const char *)mnl_attr_get_payload (i));
          }
        }
        break;
      }
  }
  return 0;
}

int nl_link_get (struct nl *n, const char *name, struct nl_link *out, berr_t *err)
{
  if (!nl_ifname_ok (name))
    return berr_setk (err, BERR_INVALID, 0, "invalid interface name '%s'", name ? name : "");
  union nl_req req;
  struct nlmsghdr *nlh = put_link_msg (&req, RTM_GETLINK, 0, AF_UNSPEC, 0);
  mnl_attr_put_strz (nlh, IFLA_IFNAME, name);
  /* Counters are most of a link message and nobody here reads them. */
  mnl_attr_put_u32 (nlh, IFLA_EXT_MASK, RTEXT_FILTER_SKIP_STATS);
  struct nl_link l = { 0 };
  int r = nl_talk (n, nlh, parse_link, &l);
  if (r == -ENODEV)
    return 0;
  if (r < 0)
    return nl_fail (n, err, r, "look up link %s", name);
  if (l.index <= 0)
    return berr_set (err, EBADMSG, "look up link %s: no link in the kernel's reply", name);
  *out = l;
  return 1;
}

int nl_link_index (struct nl *n, const char *name)
{
  cleanup_berr berr_t err = BERR_INIT;
  struct nl_link l;
  int r = nl_link_get (n, name, &l, &err);
  if (r < 0)
    {
      log_debug ("%s", err.msg);
      return err.errnum ? -err.errnum : -EINVAL;
    }
  return r == 0 ? 0 : l.index;
}

static int link_change (struct nl *n, struct nlmsghdr *nlh, berr_t *err, const char *fmt, ...)
    PRINTF_LIKE (4, 5);
static int link_change (struct nl *n, struct nlmsghdr *nlh, berr_t *err, const char *fmt, ...)
{
  int r = nl_talk (n, nlh, NULL, NULL);
  if (r >= 0)
    return 0;
  va_list ap;
  va_start (ap, fmt);
  cleanup_free char *what = xvasprintf (fmt, ap);
  va_end (ap);
  return nl_fail (n, err, r, "%s", what);
}

int nl_link_up (struct nl *n, int ifindex, berr_t *err)
{
  union nl_req req;
  struct nlmsghdr *nlh = put_link_msg (&req, RTM_SETLINK, 0, AF_UNSPEC, ifindex);
  struct ifinfomsg *ifi = mnl_nlmsg_get_payload (nlh);
  ifi->ifi_flags = IFF_UP;
  ifi->ifi_change = IFF_UP;
  return link_change (n, nlh, err, "set link %d up", ifindex);
}

int nl_link_set_mac (struct nl *n, int ifindex, const uint8_t mac[6], berr_t *err)
{
  union nl_req req;
  struct nlmsghdr *nlh = put_link_msg (&req, RTM_SETLINK, 0, AF_UNSPEC, ifindex);
  mnl_attr_put (nlh, IFLA_ADDRESS, 6, mac);
  return link_change (n, nlh, err, "set MAC %02x:%02x:%02x:%02x:%02x:%02x on link %d", mac[0],
                      mac[1], mac[2], mac[3], mac[4], mac[5], ifindex);
}

int nl_link_set_mtu (struct nl *n, int ifindex, int mtu, berr_t *err)
{
  if (mtu <= 0)
    return berr_setk (err, BERR_INVALID, 0, "invalid MTU %d", mtu);
  union nl_req req;
  struct nlmsghdr *nlh = put_link_msg (&req, RTM_SETLINK, 0, AF_UNSPEC, ifindex);
  mnl_attr_put_u32 (nlh, IFLA_MTU, (uint32_t)mtu);
  return link_change (n, nlh, err, "set MTU %d on link %d", mtu, ifindex);
}

int nl_link_set_name (struct nl *n, int ifindex, const char *name, berr_t *err)
{
  if (!nl_ifname_ok (name))
    return berr_setk (err, BERR_INVALID, 0, "invalid interface name '%s'", name ? name : "");
  union nl_req req;
  struct nlmsghdr *nlh = put_link_msg (&req, RTM_SETLINK, 0, AF_UNSPEC, ifindex);
  mnl_attr_put_strz (nlh, IFLA_IFNAME, name);
  return link_change (n, nlh, err, "rename link %d to %s", ifindex, name);
}

int nl_link_set_master (struct nl *n, int ifindex, int master_ifindex, berr_t *err)
{
  union nl_req req;
  struct nlmsghdr *nlh = put_link_msg (&req, RTM_SETLINK, 0, AF_UNSPEC, ifindex);
  mnl_attr_put_u32 (nlh, IFLA_MASTER, (uint32_t)master_ifindex);
  return link_change (n, nlh, err, "attach link %d to %d", ifindex, master_ifindex);
}

int nl_link_set_hairpin (struct nl *n, int ifindex, bool on, berr_t *err)
{
  union nl_req req;
  /* AF_BRIDGE sends the request to the bridge the port belongs to. */
  struct nlmsghdr *nlh = put_link_msg (&req, RTM_SETLINK, 0, AF_BRIDGE, ifindex);
  struct nlattr *pi = mnl_attr_nest_start (nlh, IFLA_PROTINFO);
  mnl_attr_put_u8 (nlh, IFLA_BRPORT_MODE, on ? 1 : 0);
  mnl_attr_nest_end (nlh, pi);
  return link_change (n, nlh, err, "set hairpin mode %s on link %d", on ? "on" : "off", ifindex);
}

int nl_link_del (struct nl *n, const char *name, berr_t *err)
{
  if (!nl_ifname_ok (name))
    return berr_setk (err, BERR_INVALID, 0, "invalid interface name '%s'", name ? name : "");
  union nl_req req;
  struct nlmsghdr *nlh = put_link_msg (&req, RTM_DELLINK, 0, AF_UNSPEC, 0);
  mnl_attr_put_strz (nlh, IFLA_IFNAME, name);
  int r = nl_talk (n, nlh, NULL, NULL);
  if (r == -ENODEV)
    return 0;
  if (r < 0)
    return nl_fail (n, err, r, "delete link %s", name);
  return 0;
}

int nl_bridge_add (struct nl *n, const char *name, berr_t *err)
{
  if (!nl_ifname_ok (name))
    return berr_setk (err, BERR_INVALID, 0, "invalid interface name '%s'", name ? name : "");
  union nl_req req;
  /* No NLM_F_EXCL: a bridge made by a concurrent berth in between is just as good. */
  struct nlmsghdr *nlh = put_link_msg (&req, RTM_NEWLINK, NLM_F_CREATE, AF_UNSPEC, 0);
  mnl_attr_put_strz (nlh, IFLA_IFNAME, name);
  struct nlattr *li = mnl_attr_nest_start (nlh, IFLA_LINKINFO);
  mnl_attr_put_strz (nlh, IFLA_INFO_KIND, "bridge");
  struct nlattr *data = mnl_attr_nest_start (nlh, IFLA_INFO_DATA);
  mnl_attr_put_u32 (nlh, IFLA_BR_STP_STATE, 0);
  mnl_attr_nest_end (nlh, data);
  mnl_attr_nest_end (nlh, li);
  return link_change (n, nlh, err, "create bridge %s", name);
}

int nl_veth_add (struct nl *n, const struct nl_veth *v, berr_t *err)
{
  if (!nl_ifname_ok (v->host_name))
    return berr_setk (err, BERR_INVALID, 0, "invalid interface name '%s'",
                      v->host_name ? v->host_name : "");
  if (!nl_ifname_ok (v->peer_name))
    return berr_setk (err, BERR_INVALID, 0, "invalid interface name '%s'",
                      v->peer_name ? v->peer_name : "");
  if (v->mtu < 0)
    return berr_setk (err, BERR_INVALID, 0, "invalid MTU %d", v->mtu);
  union nl_req req;
  struct nlmsghdr *nlh = put_link_msg (&req, RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL, AF_UNSPEC, 0);
  if (v->up)
    {
      struct ifinfomsg *ifi = mnl_nlmsg_get_payload (nlh);
      ifi->ifi_flags = IFF_UP;
      ifi->ifi_change = IFF_UP;
    }
  mnl_attr_put_strz (nlh, IFLA_IFNAME, v->host_name);
  if (v->mtu)
    mnl_attr_put_u32 (nlh, IFLA_MTU, (uint32_t)v->mtu);
  if (v->master)
    mnl_attr_put_u32 (nlh, IFLA_MASTER, (uint32_t)v->master);
  struct nlattr *li = mnl_attr_nest_start (nlh, IFLA_LINKINFO);
  mnl_attr_put_strz (nlh, IFLA_INFO_KIND, "veth");
  struct nlattr *data = mnl_attr_nest_start (nlh, IFLA_INFO_DATA);
  /* The peer is a whole link description of its own: an ifinfomsg, then its attributes. */
  struct nlattr *peer = mnl_attr_nest_start (nlh, VETH_INFO_PEER);
  struct ifinfomsg *pifi = mnl_nlmsg_put_extra_header (nlh, sizeof *pifi);
  pifi->ifi_family = AF_UNSPEC;
  /* No IFF_UP here: the kernel opens the peer before the pair is linked, and a veth without its
   * other half refuses to open (ENOTCONN, seen on 6.18). */
  mnl_attr_put_strz (nlh, IFLA_IFNAME, v->peer_name);
  if (v->peer_netns_fd >= 0)
    mnl_attr_put_u32 (nlh, IFLA_NET_NS_FD, (uint32_t)v->peer_netns_fd);
  if (v->mtu)
    mnl_attr_put_u32 (nlh, IFLA_MTU, (uint32_t)v->mtu);
  if (v->peer_mac)
    mnl_attr_put (nlh, IFLA_ADDRESS, 6, v->peer_mac);
  mnl_attr_nest_end (nlh, peer);
  mnl_attr_nest_end (nlh, data);
  mnl_attr_nest_end (nlh, li);
  return link_change (n, nlh, err, "create veth %s (peer %s)", v->host_name, v->peer_name);
}

int nl_veth_create (struct nl *n, const char *host_name, const char *peer_name, int peer_netns_fd,
                    int mtu, berr_t *err)
{
  struct nl_veth v = {
    .host_name = host_name,
    .peer_name = peer_name,
    .peer_netns_fd = peer_netns_fd,
    .mtu = mtu,
  };
  return nl_veth_add (n, &v, err);
}

/* ---------- addresses and routes ---------- */

static uint32_t prefix_mask (int prefix)
{
  return prefix <= 0 ? 0 : prefix >= 32 ? 0xffffffffu : ~((1u << (32 - prefix)) - 1);
}

static void format_ip (uint32_t ip, char out[INET_ADDRSTRLEN])
{
  struct in_addr a = { .s_addr = htonl (ip) };
  inet_ntop (AF_INET, &a, out, INET_ADDRSTRLEN);
}

int nl_addr_add (struct nl *n, int ifindex, uint32_t addr, int prefix, berr_t *err)
{
  char ip[INET_ADDRSTRLEN];
  format_ip (addr, ip);
  if (prefix < 0 || prefix > 32)
    return berr_setk (err, BERR_INVALID, 0, "add address %s/%d: invalid prefix", ip, prefix);
  union nl_req req;
  memset (&req, 0, sizeof req);
  struct nlmsghdr *nlh = mnl_nlmsg_put_header (req.buf);
  nlh->nlmsg_type = RTM_NEWADDR;
  nlh->nlmsg_flags = NLM_F_CREATE | NLM_F_EXCL;
  struct ifaddrmsg *ifa = mnl_nlmsg_put_extra_header (nlh, sizeof *ifa);
  ifa->ifa_family = AF_INET;
  ifa->ifa_prefixlen = (uint8_t)prefix;
  ifa->ifa_scope = RT_SCOPE_UNIVERSE;
  ifa->ifa_index = (uint32_t)ifindex;
  mnl_attr_put_u32 (nlh, IFA_LOCAL, htonl (addr));
  mnl_attr_put_u32 (nlh, IFA_ADDRESS, htonl (addr));
  /* The kernel leaves the broadcast address unset unless told; /31 and /32 have none. */
  if (prefix < 31)
    mnl_attr_put_u32 (nlh, IFA_BROADCAST, htonl (addr | ~prefix_mask (prefix)));
  int r = nl_talk (n, nlh, NULL, NULL);
  if (r == -EEXIST)
    return 0;
  if (r < 0)
    return nl_fail (n, err, r, "add address %s/%d to link %d", ip, prefix, ifindex);
  return 0;
}

struct addr_match
{
  int ifindex;
  uint32_t addr; /* network order */
  int prefix;
  bool found;
};

static int match_addr (const struct nlmsghdr *m, void *data)
{
  struct addr_match *am = data;
  if (m->nlmsg_type != RTM_NEWADDR || mnl_nlmsg_get_payload_len (m) < sizeof (struct ifaddrmsg))
    return 0;
  const struct ifaddrmsg *ifa = mnl_nlmsg_get_payload (m);
  if (ifa->ifa_family != AF_INET || (int)ifa->ifa_index != am->ifindex
      || ifa->ifa_prefixlen != am->prefix)
    return 0;
  const struct nlattr *a;
  mnl_attr_for_each (a, m, sizeof *ifa)
  {
    if (mnl_attr_get_type (a) == IFA_LOCAL && mnl_attr_validate (a, MNL_TYPE_U32) >= 0
        && mnl_attr_get_u32 (a) == am->addr)
      am->found = true;
  }
  return 0;
}

int nl_addr_find (struct nl *n, int ifindex, uint32_t addr, int prefix, berr_t *err)
{
  /* A dump the kernel had to restart (addresses changed meanwhile) is asked again. */
  for (int attempt = 0;; attempt++)
    {
      union nl_req req;
      memset (&req, 0, sizeof req);
      struct nlmsghdr *nlh = mnl_nlmsg_put_header (req.buf);
      nlh->nlmsg_type = RTM_GETADDR;
      nlh->nlmsg_flags = NLM_F_DUMP;
      struct ifaddrmsg *ifa = mnl_nlmsg_put_extra_header (nlh, sizeof *ifa);
      ifa->ifa_family = AF_INET;
      ifa->ifa_index = (uint32_t)ifindex;
      struct addr_match am = { .ifindex = ifindex, .addr = htonl (addr), .prefix = prefix };
      int r = nl_talk (n, nlh, match_addr, &am);
      if (r == -EAGAIN && attempt < 3)
        continue;
      if (r < 0)
        return nl_fail (n, err, r, "list addresses of link %d", ifindex);
      return am.found ? 1 : 0;
    }
}

int nl_route_add_default (struct nl *n, int ifindex, uint32_t gw, berr_t *err)
{
  union nl_req req;
  memset (&req, 0, sizeof req);
  struct nlmsghdr *nlh = mnl_nlmsg_put_header (req.buf);
  nlh->nlmsg_type = RTM_NEWROUTE;
  nlh->nlmsg_flags = NLM_F_CREATE | NLM_F_EXCL;
  struct rtmsg *rtm = mnl_nlmsg_put_extra_header (nlh, sizeof *rtm);
  rtm->rtm_family = AF_INET;
  rtm->rtm_dst_len = 0;
  rtm->rtm_table = RT_TABLE_MAIN;
  rtm->rtm_protocol = RTPROT_BOOT;
  rtm->rtm_scope = RT_SCOPE_UNIVERSE;
  rtm->rtm_type = RTN_UNICAST;
  mnl_attr_put_u32 (nlh, RTA_GATEWAY, htonl (gw));
  mnl_attr_put_u32 (nlh, RTA_OIF, (uint32_t)ifindex);
  int r = nl_talk (n, nlh, NULL, NULL);
  if (r < 0)
    {
      char ip[INET_ADDRSTRLEN];
      format_ip (gw, ip);
      return nl_fail (n, err, r, "add default route via %s on link %d", ip, ifindex);
    }
  return 0;
}
