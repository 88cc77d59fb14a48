/* act.c — compose down and the per-container actions (start, stop, restart, kill, pause,
 * unpause, rm). Order comes from the containers' depends_on labels, so it works without the
 * file: stop goes from the most dependent level down, in parallel within a level. */
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "compose/engine_int.h"
#include "net/network.h"
#include "util/json.h"
#include "util/util.h"
#include "volume/volume.h"

/* Dependency level of each container's service: 0 for services depending on nothing in the
 * set, else 1 + the highest level of what it depends on. */
static int level_of (const char *svc, json_t *deps, json_t *memo, int depth)
{
  json_t *m = json_object_get (memo, svc);
  if (m)
    return (int)json_integer_value (m);
  if (depth > 64)
    return 0;
  int lvl = 0;
  size_t i;
  json_t *d;
  json_array_foreach (json_object_get (deps, svc), i, d)
  {
    const char *ds = json_string_value (d);
    if (json_object_get (deps, ds))
      {
        int l = level_of (ds, deps, memo, depth + 1) + 1;
        if (l > lvl)
          lvl = l;
      }
  }
  json_object_set_new (memo, svc, json_integer (lvl));
  return lvl;
}

static int *container_levels (struct container_rec **cs, size_t n, int *max)
{
  cleanup_json json_t *deps = json_object (), *memo = json_object ();
  for (size_t i = 0; i < n; i++)
    {
      const char *sv = compose_label (cs[i], COMPOSE_LABEL_SERVICE);
      if (!sv || json_object_get (deps, sv))
        continue;
      json_t *list = json_array ();
      const char *lab = compose_label (cs[i], COMPOSE_LABEL_DEPENDS);
      for (const char *s = lab; s && *s;)
        {
          const char *comma = strchr (s, ',');
          size_t len = comma ? (size_t)(comma - s) : strlen (s);
          size_t colon = strcspn (s, ":");
          json_array_append_new (list, json_stringn (s, colon < len ? colon : len));
          s = comma ? comma + 1 : s + len;
        }
      json_object_set_new (deps, sv, list);
    }
  int *lv = xcalloc (n + 1, sizeof *lv);
  *max = 0;
  for (size_t i = 0; i < n; i++)
    {
      const char *sv = compose_label (cs[i], COMPOSE_LABEL_SERVICE);
      lv[i] = sv ? level_of (sv, deps, memo, 0) : 0;
      if (lv[i] > *max)
        *max = lv[i];
    }
  return lv;
}

/* Stop in reverse dependency order, each level's containers in parallel. */
static int stop_ordered (struct compose_ctx *c, struct container_rec **cs, size_t n, int timeout,
                         berr_t *err)
{
  int max;
  cleanup_free int *lv = container_levels (cs, n, &max);
  struct container_rec **batch = xcalloc (n + 1, sizeof *batch);
  int rc = 0;
  for (int l = max; l >= 0 && rc == 0; l--)
    {
      size_t k = 0;
      for (size_t i = 0; i < n; i++)
        if (lv[i] == l)
          batch[k++] = cs[i];
      if (k)
        rc = compose_stop_parallel (c, batch, k, timeout, true, err);
    }
  free (batch);
  return rc;
}

static bool wanted (const struct container_rec *r, char **services)
{
  if (!services)
    return true;
  const char *sv = compose_label (r, COMPOSE_LABEL_SERVICE);
  return sv && strv_contains (services, sv);
}

static void drop_unwanted (struct container_rec **cs, size_t *n, char **services)
{
  size_t k = 0;
  for (size_t i = 0; i < *n; i++)
    if (wanted (cs[i], services))
      cs[k++] = cs[i];
    else
      container_rec_free (cs[i]);
  *n = k;
}

static int remove_network (struct compose_ctx *c, const char *name, berr_t *err)
{
  struct network_row *row = NULL;
  if (network_get (c->e, name, &row, err) < 0)
    {
      if (err->kind != BERR_NOT_FOUND)
        return -1;
      berr_release (err);
      return 0;
    }
  network_row_free (row);
  compose_event (c, "Network", name, "Removing");
  if (network_remove (c->e, name, err) < 0)
    return -1;
  compose_event (c, "Network", name, "Removed");
  return 0;
}

static int remove_volume (struct compose_ctx *c, const char *name, berr_t *err)
{
  struct volume_rec *v = NULL;
  if (volume_get (c->s, name, &v, err) < 0)
    {
      if (err->kind != BERR_NOT_FOUND)
        return -1;
      berr_release (err);
      return 0;
    }
  volume_rec_free (v);
  compose_event (c, "Volume", name, "Removing");
  if (volume_remove (c->s, name, false, err) < 0)
    return -1;
  compose_event (c, "Volume", name, "Removed");
  return 0;
}

static bool labelled (json_t *labels, const char *project)
{
  const char *v = json_string_value (json_object_get (labels, COMPOSE_LABEL_PROJECT));
  return v && strcmp (v, project) == 0;
}

static int down_images (struct compose_ctx *c, const struct compose_project *p,
                        struct container_rec **cs, size_t n, const char *rmi, berr_t *err)
{
  cleanup_strv char **names = NULL;
  bool all = strcmp (rmi, "all") == 0;
  if (strcmp (rmi, "local") && !all)
    return berr_setk (err, BERR_INVALID, 0, "invalid --rmi value \"%s\"", rmi);
  if (p)
    for (size_t i = 0; i < p->nservices; i++)
      {
        if (!all && p->services[i].image)
          continue;
        char *ref = compose_service_image (p, &p->services[i]);
        if (strv_contains (names, ref))
          free (ref);
        else
          strv_push_take (&names, ref);
      }
  else
    for (size_t i = 0; i < n; i++)
      {
        const char *img = json_get_str (json_object_get (cs[i]->config, "Config"), "Image");
        const char *sv = compose_label (cs[i], COMPOSE_LABEL_SERVICE);
        const char *pr = compose_label (cs[i], COMPOSE_LABEL_PROJECT);
        cleanup_free char *local = xasprintf ("%s-%s", pr ? pr : "", sv ? sv : "");
        if (img && (all || strcmp (img, local) == 0) && !strv_contains (names, img))
          strv_push (&names, img);
      }
  for (char **r = names; r && *r; r++)
    {
      char **lines = NULL;
      int64_t reclaimed = 0;
      compose_event (c, "Image", *r, "Removing");
      if (store_image_remove (c->s, *r, false, true, &lines, &reclaimed, err) < 0)
        {
          if (err->kind != BERR_NOT_FOUND)
            return -1;
          berr_release (err);
          continue;
        }
      strv_free (lines);
      compose_event (c, "Image", *r, "Removed");
    }
  return 0;
}

int compose_down (struct compose_ctx *c, const char *project, const struct compose_project *p,
                  const struct compose_down_opts *o, berr_t *err)
{
  struct container_rec **cs = NULL;
  size_t n = 0;
  if (compose_containers (c, project, NULL, true, false, &cs, &n, err) < 0)
    return -1;
  int rc = 0;
  if (p)
    {
      /* Orphans stay unless asked (with a warning, as up). */
      size_t k = 0;
      cleanup_strv char **orphans = NULL;
      for (size_t i = 0; i < n; i++)
        {
          const char *sv = compose_label (cs[i], COMPOSE_LABEL_SERVICE);
          const char *oo = compose_label (cs[i], COMPOSE_LABEL_ONEOFF);
          bool orphan = sv && !compose_service_find (p, sv)
                        && !strv_contains (p->disabled_services, sv)
                        && !(oo && strcasecmp (oo, "true") == 0);
          if (orphan && !o->remove_orphans)
            {
              strv_push (&orphans, cs[i]->name);
              container_rec_free (cs[i]);
            }
          else
            cs[k++] = cs[i];
        }
      n = k;
      if (orphans)
        {
          cleanup_free char *list = compose_strv_join (orphans, " ");
          cleanup_free char *msg = xasprintf (
              "Found orphan containers ([%s]) for this project. If you removed or renamed this "
              "service in your compose file, you can run this command with the --remove-orphans "
              "flag to clean it up.",
              list);
          compose_event (c, "Warning", msg, "");
        }
    }
  rc = stop_ordered (c, cs, n, o->timeout, err);
  for (size_t i = 0; i < n && rc == 0; i++)
    {
      compose_event (c, "Container", cs[i]->name, "Removing");
      rc = container_remove (c->e, cs[i], true, o->volumes, err);
      if (rc == 0)
        compose_event (c, "Container", cs[i]->name, "Removed");
    }
  if (rc == 0 && o->rmi)
    rc = down_images (c, p, cs, n, o->rmi, err);
  container_recs_free (cs, n);
  if (rc < 0)
    return -1;

  /* Networks: the file's (not external) or, without one, those labelled for the project. */
  struct network_row **nets = NULL;
  size_t nn = 0;
  if (store_network_list (c->s, &nets, &nn, err) < 0)
    return -1;
  for (size_t i = 0; i < nn && rc == 0; i++)
    {
      bool mine = labelled (nets[i]->labels, project);
      if (p && mine)
        {
          const char *key
              = json_string_value (json_object_get (nets[i]->labels, COMPOSE_LABEL_NETWORK));
          for (size_t j = 0; key && j < p->nnetworks; j++)
            if (strcmp (p->networks[j].key, key) == 0 && p->networks[j].external)
              mine = false;
        }
      if (mine)
        rc = remove_network (c, nets[i]->name, err);
    }
  network_rows_free (nets, nn);
  if (rc < 0 || !o->volumes)
    return rc;
  struct volume_rec **vols = NULL;
  size_t nv = 0;
  if (volume_list (c->s, &vols, &nv, err) < 0)
    return -1;
  for (size_t i = 0; i < nv && rc == 0; i++)
    {
      bool mine = labelled (vols[i]->labels, project);
      if (p && mine)
        {
          const char *key
              = json_string_value (json_object_get (vols[i]->labels, COMPOSE_LABEL_VOLUME));
          for (size_t j = 0; key && j < p->nvolumes; j++)
            if (strcmp (p->volumes[j].key, key) == 0 && p->volumes[j].external)
              mine = false;
        }
      if (mine)
        rc = remove_volume (c, vols[i]->name, err);
    }
  for (size_t i = 0; i < nv; i++)
    volume_rec_free (vols[i]);
  free (vols);
  return rc;
}

static int start_ordered (struct compose_ctx *c, struct container_rec **cs, size_t n,
                          const char *ev1, const char *ev2, berr_t *err)
{
  int max;
  cleanup_free int *lv = container_levels (cs, n, &max);
  for (int l = 0; l <= max; l++)
    for (size_t i = 0; i < n; i++)
      {
        if (lv[i] != l || container_is_running (cs[i]))
          continue;
        compose_event (c, "Container", cs[i]->name, ev1);
        struct start_opts so = { 0 };
        if (container_start (c->e, cs[i], &so, NULL, err) < 0)
          return berr_wrap (err, "container %s", cs[i]->name);
        compose_event (c, "Container", cs[i]->name, ev2);
      }
  return 0;
}

int compose_act (struct compose_ctx *c, const char *project, const struct compose_project *p,
                 enum compose_action a, const struct compose_action_opts *o, berr_t *err)
{
  for (char **s = o->services; p && s && *s; s++)
    if (!compose_service_find (p, *s))
      return berr_setk (err, BERR_NOT_FOUND, 0, "no such service: %s", *s);
  struct container_rec **cs = NULL;
  size_t n = 0;
  if (compose_containers (c, project, NULL, false, false, &cs, &n, err) < 0)
    return -1;
  drop_unwanted (cs, &n, o->services);
  int rc = 0;
  switch (a)
    {
    case COMPOSE_START:
      rc = start_ordered (c, cs, n, "Starting", "Started", err);
      break;
    case COMPOSE_STOP:
      rc = stop_ordered (c, cs, n, o->timeout, err);
      break;
    case COMPOSE_RESTART:
      {
        rc = stop_ordered (c, cs, n, o->timeout, err);
        for (size_t i = 0; i < n && rc == 0; i++)
          {
            struct container_rec *fresh = NULL;
            if (container_get (c->e, cs[i]->id, &fresh, err) < 0)
              rc = -1;
            else
              {
                container_rec_free (cs[i]);
                cs[i] = fresh;
              }
          }
        if (rc == 0)
          rc = start_ordered (c, cs, n, "Restarting", "Started", err);
        break;
      }
    case COMPOSE_KILL:
      for (size_t i = 0; i < n && rc == 0; i++)
        {
          if (!container_is_running (cs[i]))
            continue;
          compose_event (c, "Container", cs[i]->name, "Killing");
          rc = container_kill (c->e, cs[i], o->signal > 0 ? o->signal : SIGKILL, err);
          if (rc == 0)
            compose_event (c, "Container", cs[i]->name, "Killed");
        }
      break;
    case COMPOSE_PAUSE:
    case COMPOSE_UNPAUSE:
      {
        bool pause = a == COMPOSE_PAUSE;
        for (size_t i = 0; i < n && rc == 0; i++)
          {
            bool paused = json_is_true (json_object_get (cs[i]->state, "Paused"));
            if (!container_is_running (cs[i]) || paused == pause)
              continue;
            compose_event (c, "Container", cs[i]->name, pause ? "Pausing" : "Unpausing");
            rc = container_pause (c->e, cs[i], pause, err);
            if (rc == 0)
              compose_event (c, "Container", cs[i]->name, pause ? "Paused" : "Unpaused");
          }
        break;
      }
    case COMPOSE_RM:
      {
        if (o->stop_first)
          rc = stop_ordered (c, cs, n, o->timeout, err);
        for (size_t i = 0; i < n && rc == 0; i++)
          {
            struct container_rec *fresh = NULL;
            if (container_get (c->e, cs[i]->id, &fresh, err) < 0)
              {
                rc = -1;
                break;
              }
            bool running = container_is_running (fresh);
            if (running && !o->force)
              {
                container_rec_free (fresh);
                continue;
              }
            compose_event (c, "Container", fresh->name, "Removing");
            rc = container_remove (c->e, fresh, o->force, o->rm_volumes, err);
            if (rc == 0)
              compose_event (c, "Container", fresh->name, "Removed");
            container_rec_free (fresh);
          }
        break;
      }
    }
  container_recs_free (cs, n);
  return rc;
}
