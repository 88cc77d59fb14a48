/* lazycurl.c — libcurl, loaded on first use.
 *
 * Linking libcurl makes every berth command load ~30 more libraries at start-up (GnuTLS, Kerberos,
 * LDAP, libssh2, …) and run their constructors: about 3.5 ms of the ~6 ms start-up measured on
 * the development machines, for every command, including those that never touch the network.
 * berth therefore compiles against libcurl's headers but binds the few functions it calls here,
 * with dlopen("libcurl.so.4") the first time one of them is needed. The prototypes come from
 * <curl/curl.h>, so a mismatch is a compile error. */
#define CURL_DISABLE_TYPECHECK 1
#include <curl/curl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "util/lazylib.h"

static struct lazylib lib = { "libcurl.so.4", NULL };

int lazy_curl_load (berr_t *err) { return lazylib_open (&lib, err); }

/* fn_: the real function, looked up once. Its type is taken from curl.h's declaration. */
#define CURL_FN(name)                                                                              \
  static __typeof__ (&name) fn_;                                                                   \
  if (fn_ == NULL)                                                                                 \
  fn_ = (__typeof__ (&name))lazylib_sym (&lib, #name)

CURL *curl_easy_init (void)
{
  CURL_FN (curl_easy_init);
  return fn_ ();
}

void curl_easy_cleanup (CURL *c)
{
  CURL_FN (curl_easy_cleanup);
  fn_ (c);
}

CURLcode curl_easy_perform (CURL *c)
{
  CURL_FN (curl_easy_perform);
  return fn_ (c);
}

const char *curl_easy_strerror (CURLcode code)
{
  CURL_FN (curl_easy_strerror);
  return fn_ (code);
}

CURLcode curl_easy_getinfo (CURL *c, CURLINFO info, ...)
{
  CURL_FN (curl_easy_getinfo);
  va_list ap;
  va_start (ap, info);
  void *arg = va_arg (ap, void *); /* every CURLINFO takes one pointer */
  va_end (ap);
  return fn_ (c, info, arg);
}

/* curl_easy_setopt takes one argument whose type the option number encodes (curl.h:
 * CURLOPTTYPE_*): long below 10000, a pointer (object, string, function, blob) otherwise,
 * except curl_off_t for 30000..39999. */
CURLcode curl_easy_setopt (CURL *c, CURLoption opt, ...)
{
  CURL_FN (curl_easy_setopt);
  va_list ap;
  va_start (ap, opt);
  CURLcode r;
  if (opt < CURLOPTTYPE_OBJECTPOINT)
    r = fn_ (c, opt, va_arg (ap, long));
  else if (opt >= CURLOPTTYPE_OFF_T && opt < CURLOPTTYPE_BLOB)
    r = fn_ (c, opt, va_arg (ap, curl_off_t));
  else
    r = fn_ (c, opt, va_arg (ap, void *));
  va_end (ap);
  return r;
}

CURLcode curl_global_init (long flags)
{
  CURL_FN (curl_global_init);
  return fn_ (flags);
}

void curl_easy_reset (CURL *c)
{
  CURL_FN (curl_easy_reset);
  fn_ (c);
}

CURLcode curl_easy_pause (CURL *c, int bitmask)
{
  CURL_FN (curl_easy_pause);
  return fn_ (c, bitmask);
}

struct curl_slist *curl_slist_append (struct curl_slist *list, const char *s)
{
  CURL_FN (curl_slist_append);
  return fn_ (list, s);
}

void curl_slist_free_all (struct curl_slist *list)
{
  CURL_FN (curl_slist_free_all);
  fn_ (list);
}

CURLSH *curl_share_init (void)
{
  CURL_FN (curl_share_init);
  return fn_ ();
}

/* CURLSHOPT_SHARE and CURLSHOPT_UNSHARE take an int (a curl_lock_data); the others a pointer. */
CURLSHcode curl_share_setopt (CURLSH *sh, CURLSHoption opt, ...)
{
  CURL_FN (curl_share_setopt);
  va_list ap;
  va_start (ap, opt);
  CURLSHcode r;
  if (opt == CURLSHOPT_SHARE || opt == CURLSHOPT_UNSHARE)
    r = fn_ (sh, opt, va_arg (ap, int));
  else
    r = fn_ (sh, opt, va_arg (ap, void *));
  va_end (ap);
  return r;
}

CURLSHcode curl_share_cleanup (CURLSH *sh)
{
  CURL_FN (curl_share_cleanup);
  return fn_ (sh);
}

CURLM *curl_multi_init (void)
{
  CURL_FN (curl_multi_init);
  return fn_ ();
}

CURLMcode curl_multi_add_handle (CURLM *m, CURL *c)
{
  CURL_FN (curl_multi_add_handle);
  return fn_ (m, c);
}

CURLMcode curl_multi_remove_handle (CURLM *m, CURL *c)
{
  CURL_FN (curl_multi_remove_handle);
  return fn_ (m, c);
}

CURLMcode curl_multi_perform (CURLM *m, int *running)
{
  CURL_FN (curl_multi_perform);
  return fn_ (m, running);
}

CURLMcode curl_multi_poll (CURLM *m, struct curl_waitfd extra_fds[], unsigned int extra_nfds,
                           int timeout_ms, int *numfds)
{
  CURL_FN (curl_multi_poll);
  return fn_ (m, extra_fds, extra_nfds, timeout_ms, numfds);
}

CURLMsg *curl_multi_info_read (CURLM *m, int *msgs_in_queue)
{
  CURL_FN (curl_multi_info_read);
  return fn_ (m, msgs_in_queue);
}

const char *curl_multi_strerror (CURLMcode code)
{
  CURL_FN (curl_multi_strerror);
  return fn_ (code);
}

CURLMcode curl_multi_cleanup (CURLM *m)
{
  CURL_FN (curl_multi_cleanup);
  return fn_ (m);
}
