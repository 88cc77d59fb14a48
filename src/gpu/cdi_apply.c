/* cdi_apply.c — CDI container edits merged into an OCI runtime spec, as the reference's
 * Cache.InjectDevices / ContainerEdits.Apply do: the edits of every requested device collected
 * first (each spec file's own edits once, before its first device), then applied in one pass.
 * The result is what src/runtime/spec.c reads: linux.devices, linux.resources.devices, mounts,
 * hooks, process.env and process.user.additionalGids. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include "gpu/cdi_internal.h"
#include "util/fs.h"
#include "util/json.h"

struct edits
{
  json_t *env, *nodes, *mounts, *hooks, *gids, *netdevs;
  json_t *rdt; /* borrowed; the last one given wins */
};

static void append_all (json_t *dst, json_t *src)
{
  if (json_is_array (src))
    json_array_extend (dst, src);
}

static void collect (struct edits *e, json_t *ce)
{
  if (!json_is_object (ce))
    return;
  append_all (e->env, json_object_get (ce, "env"));
  append_all (e->nodes, json_object_get (ce, "deviceNodes"));
  append_all (e->mounts, json_object_get (ce, "mounts"));
  append_all (e->hooks, json_object_get (ce, "hooks"));
  append_all (e->gids, json_object_get (ce, "additionalGids"));
  append_all (e->netdevs, json_object_get (ce, "netDevices"));
  json_t *rdt = json_object_get (ce, "intelRdt");
  if (json_is_object (rdt))
    e->rdt = rdt;
}

/* obj[key] as an object/array, created when absent (replaced when of another type). */
static json_t *member (json_t *obj, const char *key, bool array)
{
  json_t *v = json_object_get (obj, key);
  if (array ? json_is_array (v) : json_is_object (v))
    return v;
  v = array ? json_array () : json_object ();
  json_object_set_new (obj, key, v);
  return v;
}

static void apply_env (json_t *spec, json_t *env)
{
  if (json_array_size (env) == 0)
    return;
  json_t *penv = member (member (spec, "process", false), "env", true);
  size_t i;
  json_t *v;
  json_array_foreach (env, i, v)
  {
    const char *kv = json_string_value (v);
    size_t klen = strcspn (kv, "=");
    size_t j;
    json_t *old;
    bool replaced = false;
    json_array_foreach (penv, j, old)
    {
      const char *o = json_string_value (old);
      if (o && strncmp (o, kv, klen) == 0 && (o[klen] == '=' || o[klen] == '\0'))
        {
          json_array_set (penv, j, v);
          replaced = true;
          break;
        }
    }
    if (!replaced)
      json_array_append (penv, v);
  }
}

static json_int_t int_member (json_t *o, const char *key, bool *has)
{
  json_t *v = json_object_get (o, key);
  *has = json_is_integer (v);
  return *has ? json_integer_value (v) : 0;
}

/* One CDI device node as an OCI linux.devices entry, completed from the host node. */
static int complete_node (json_t *node, json_t *spec, json_t **out, berr_t *err)
{
  const char *path = json_get_str (node, "path");
  const char *host = json_get_str (node, "hostPath");
  if (host == NULL || *host == '\0')
    host = path;
  const char *type = json_get_str (node, "type");
  if (type && *type == '\0')
    type = NULL;
  bool has_major, has_minor, has_mode, has_uid, has_gid;
  json_int_t maj = int_member (node, "major", &has_major);
  json_int_t mnr = int_member (node, "minor", &has_minor);
  json_int_t mode = int_member (node, "fileMode", &has_mode);
  json_int_t uid = int_member (node, "uid", &has_uid);
  json_int_t gid = int_member (node, "gid", &has_gid);
  char tbuf[2] = { 0, 0 };
  /* As the reference: a node that says its type and major needs no host node (the host may
   * not have it yet); anything else is completed from lstat of the host path. */
  if (!(type && (maj != 0 || type[0] == 'p')))
    {
      struct stat st;
      if (lstat (host, &st) < 0)
        return berr_set (err, errno, "CDI device node %s: lstat %s", path, host);
      if (S_ISCHR (st.st_mode))
        tbuf[0] = 'c';
      else if (S_ISBLK (st.st_mode))
        tbuf[0] = 'b';
      else if (S_ISFIFO (st.st_mode))
        tbuf[0] = 'p';
      else
        return berr_setk (err, BERR_INVALID, 0, "CDI device node %s: %s is not a device node", path,
                          host);
      type = tbuf;
      if (maj == 0 && type[0] != 'p')
        {
          maj = major (st.st_rdev);
          mnr = minor (st.st_rdev);
        }
      if (!has_mode)
        {
          mode = st.st_mode & 07777;
          has_mode = true;
        }
    }
  json_t *user = json_object_get (json_object_get (spec, "process"), "user");
  bool h;
  json_int_t puid = int_member (user, "uid", &h), pgid = int_member (user, "gid", &h);
  if (!has_uid && puid > 0)
    uid = puid, has_uid = true;
  if (!has_gid && pgid > 0)
    gid = pgid, has_gid = true;
  json_t *d
      = json_pack ("{s:s, s:s, s:I, s:I}", "path", path, "type", type, "major", maj, "minor", mnr);
  if (has_mode)
    json_object_set_new (d, "fileMode", json_integer (mode));
  if (has_uid)
    json_object_set_new (d, "uid", json_integer (uid));
  if (has_gid)
    json_object_set_new (d, "gid", json_integer (gid));
  *out = d;
  return 0;
}

static int apply_nodes (json_t *spec, json_t *nodes, berr_t *err)
{
  if (json_array_size (nodes) == 0)
    return 0;
  json_t *lnx = member (spec, "linux", false);
  json_t *devs = member (lnx, "devices", true);
  size_t i;
  json_t *n;
  json_array_foreach (nodes, i, n)
  {
    json_t *d = NULL;
    if (complete_node (n, spec, &d, err) < 0)
      return -1;
    const char *path = json_get_str (d, "path");
    for (size_t j = json_array_size (devs); j-- > 0;)
      {
        const char *p = json_get_str (json_array_get (devs, j), "path");
        if (p && strcmp (p, path) == 0)
          json_array_remove (devs, j);
      }
    const char *type = json_get_str (d, "type");
    const char *perm = json_get_str (n, "permissions");
    if (perm == NULL || *perm == '\0')
      perm = "rwm";
    if ((type[0] == 'c' || type[0] == 'b') && strcmp (perm, "none") != 0)
      {
        json_t *rules = member (member (lnx, "resources", false), "devices", true);
        json_array_append_new (rules,
                               json_pack ("{s:b, s:s, s:O, s:O, s:s}", "allow", 1, "type", type,
                                          "major", json_object_get (d, "major"), "minor",
                                          json_object_get (d, "minor"), "access", perm));
      }
    json_array_append_new (devs, d);
  }
  return 0;
}

static size_t mount_depth (json_t *m)
{
  const char *dest = json_get_str (m, "destination");
  cleanup_free char *clean = fs_path_clean (dest ? dest : "");
  size_t n = 0;
  for (const char *p = clean; *p; p++)
    n += *p == '/';
  return n;
}

static void apply_mounts (json_t *spec, json_t *mounts)
{
  if (json_array_size (mounts) == 0)
    return;
  json_t *sm = member (spec, "mounts", true);
  size_t i;
  json_t *m;
  json_array_foreach (mounts, i, m)
  {
    const char *dest = json_get_str (m, "containerPath");
    for (size_t j = json_array_size (sm); j-- > 0;)
      {
        const char *p = json_get_str (json_array_get (sm, j), "destination");
        if (p && strcmp (p, dest) == 0)
          json_array_remove (sm, j);
      }
    json_t *om
        = json_pack ("{s:s, s:s}", "destination", dest, "source", json_get_str (m, "hostPath"));
    const char *type = json_get_str (m, "type");
    if (type && *type)
      json_object_set_new (om, "type", json_string (type));
    json_t *opts = json_object_get (m, "options");
    if (json_is_array (opts) && json_array_size (opts) > 0)
      json_object_set (om, "options", opts);
    json_array_append_new (sm, om);
  }
  /* Stable insertion sort by depth: a parent is mounted before what goes inside it, and mounts
   * of equal depth keep their order (Docker's ordering, which the reference reproduces). */
  size_t n = json_array_size (sm);
  size_t *depth = xcalloc (n ? n : 1, sizeof *depth);
  json_t **v = xcalloc (n ? n : 1, sizeof *v);
  for (i = 0; i < n; i++)
    {
      v[i] = json_incref (json_array_get (sm, i));
      depth[i] = mount_depth (v[i]);
    }
  for (i = 1; i < n; i++)
    for (size_t j = i; j > 0 && depth[j - 1] > depth[j]; j--)
      {
        size_t td = depth[j];
        depth[j] = depth[j - 1];
        depth[j - 1] = td;
        json_t *tv = v[j];
        v[j] = v[j - 1];
        v[j - 1] = tv;
      }
  json_array_clear (sm);
  for (i = 0; i < n; i++)
    json_array_append_new (sm, v[i]);
  free (v);
  free (depth);
}

static void apply_hooks (json_t *spec, json_t *hooks)
{
  size_t i;
  json_t *h;
  json_array_foreach (hooks, i, h)
  {
    json_t *list = member (member (spec, "hooks", false), json_get_str (h, "hookName"), true);
    json_t *oh = json_pack ("{s:s}", "path", json_get_str (h, "path"));
    static const char *const keys[] = { "args", "env", "timeout" };
    for (size_t k = 0; k < 3; k++)
      {
        json_t *v = json_object_get (h, keys[k]);
        if (v && !json_is_null (v))
          json_object_set (oh, keys[k], v);
      }
    json_array_append_new (list, oh);
  }
}

static void apply_gids (json_t *spec, json_t *gids)
{
  size_t i;
  json_t *g;
  json_array_foreach (gids, i, g)
  {
    if (json_integer_value (g) == 0)
      continue; /* gid 0 is ignored by the reference */
    json_t *ag
        = member (member (member (spec, "process", false), "user", false), "additionalGids", true);
    size_t j;
    json_t *o;
    bool dup = false;
    json_array_foreach (ag, j, o) { dup = dup || json_integer_value (o) == json_integer_value (g); }
    if (!dup)
      json_array_append (ag, g);
  }
}

static void apply_net_and_rdt (json_t *spec, struct edits *e)
{
  size_t i;
  json_t *nd;
  json_array_foreach (e->netdevs, i, nd)
  {
    json_t *nds = member (member (spec, "linux", false), "netDevices", false);
    json_object_set_new (nds, json_get_str (nd, "hostInterfaceName"),
                         json_pack ("{s:s}", "name", json_get_str (nd, "name")));
  }
  if (e->rdt)
    json_object_set (member (spec, "linux", false), "intelRdt", e->rdt);
}

int cdi_apply (struct cdi_registry *r, char *const *devices, json_t *oci_spec, berr_t *err)
{
  cleanup_sbuf struct sbuf missing;
  sbuf_init (&missing);
  for (size_t i = 0; devices && devices[i]; i++)
    if (cdi_registry_find (r, devices[i]) == NULL)
      sbuf_addf (&missing, "%s%s", missing.len ? ", " : "", devices[i]);
  if (missing.len)
    return berr_setk (err, BERR_NOT_FOUND, 0, "unresolvable CDI devices %s", missing.buf);

  struct edits e = { json_array (), json_array (), json_array (), json_array (),
                     json_array (), json_array (), NULL };
  const struct cdi_spec **seen = xcalloc (strv_len (devices) + 1, sizeof *seen);
  size_t nseen = 0;
  for (size_t i = 0; devices && devices[i]; i++)
    {
      const struct cdi_device *d = cdi_registry_find (r, devices[i]);
      bool first = true;
      for (size_t s = 0; s < nseen; s++)
        first = first && seen[s] != d->spec;
      if (first)
        {
          seen[nseen++] = d->spec;
          collect (&e, json_object_get (d->spec->json, "containerEdits"));
        }
      collect (&e, json_object_get (d->dev, "containerEdits"));
    }
  free (seen);

  /* Work on a copy so that a failure (a host node gone) leaves the caller's spec untouched. */
  json_t *copy = json_deep_copy (oci_spec);
  apply_env (copy, e.env);
  int ret = apply_nodes (copy, e.nodes, err);
  if (ret == 0)
    {
      apply_mounts (copy, e.mounts);
      apply_hooks (copy, e.hooks);
      apply_gids (copy, e.gids);
      apply_net_and_rdt (copy, &e);
      json_object_clear (oci_spec);
      json_object_update (oci_spec, copy);
    }
  json_decref (copy);
  json_decref (e.env);
  json_decref (e.nodes);
  json_decref (e.mounts);
  json_decref (e.hooks);
  json_decref (e.gids);
  json_decref (e.netdevs);
  return ret;
}
