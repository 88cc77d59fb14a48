/* state.c — what a project has on the engine: its containers (found by label), the projects
 * there are, its networks and volumes, and stopping many containers at once. */
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "compose/engine_int.h"
#include "net/network.h"
#include "util/json.h"
#include "util/signals.h"
#include "util/util.h"
#include "volume/volume.h"

char *compose_strv_join (char *const *v, const char *sep)
{
  struct sbuf b;
  sbuf_init (&b);
  for (size_t i = 0; v && v[i]; i++)
    {
      if (i)
        sbuf_adds (&b, sep);
      sbuf_adds (&b, v[i]);
    }
  return sbuf_detach (&b);
}

const char *compose_label (const struct container_rec *c, const char *key)
{
  json_t *labels = json_object_get (json_object_get (c->config, "Config"), "Labels");
  return json_string_value (json_object_get (labels, key));
}

int compose_number (const struct container_rec *c)
{
  const char *n = compose_label (c, COMPOSE_LABEL_NUMBER);
  return n ? atoi (n) : 0;
}

void compose_event (struct compose_ctx *c, const char *resource, const char *name,
                    const char *status)
{
  if (c->event)
    c->event (c->cookie, resource, name, status);
}

static int rec_cmp (const void *a, const void *b)
{
  const struct container_rec *x = *(struct container_rec *const *)a,
                             *y = *(struct container_rec *const *)b;
  const char *sx = compose_label (x, COMPOSE_LABEL_SERVICE),
             *sy = compose_label (y, COMPOSE_LABEL_SERVICE);
  int r = strcmp (sx ? sx : "", sy ? sy : "");
  if (r)
    return r;
  r = compose_number (x) - compose_number (y);
  return r ? r : strcmp (x->name, y->name);
}

int compose_containers (struct compose_ctx *c, const char *project, const char *service,
                        bool oneoff, bool only_oneoff, struct container_rec ***out, size_t *n,
                        berr_t *err)
{
  struct container_rec **all = NULL;
  size_t nall = 0;
  if (container_list (c->e, &all, &nall, err) < 0)
    return -1;
  struct container_rec **v = xcalloc (nall + 1, sizeof *v);
  size_t k = 0;
  for (size_t i = 0; i < nall; i++)
    {
      const char *pr = compose_label (all[i], COMPOSE_LABEL_PROJECT);
      const char *sv = compose_label (all[i], COMPOSE_LABEL_SERVICE);
      const char *oo = compose_label (all[i], COMPOSE_LABEL_ONEOFF);
      bool is_oneoff = oo && strcasecmp (oo, "true") == 0;
      bool keep = pr && strcmp (pr, project) == 0 && (!service || (sv && strcmp (sv, service) == 0))
                  && (only_oneoff ? is_oneoff : (oneoff || !is_oneoff));
      if (keep)
        v[k++] = steal_pointer (&all[i]);
    }
  container_recs_free (all, nall);
  qsort (v, k, sizeof *v, rec_cmp);
  *out = v;
  *n = k;
  return 0;
}

struct proj_acc
{
  char *name;
  char *files;
  json_t *counts; /* status -> count */
  bool running;
};

int compose_projects (struct compose_ctx *c, bool all, json_t **out, berr_t *err)
{
  struct container_rec **cs = NULL;
  size_t n = 0;
  if (container_list (c->e, &cs, &n, err) < 0)
    return -1;
  cleanup_json json_t *byname = json_object ();
  for (size_t i = 0; i < n; i++)
    {
      const char *pr = compose_label (cs[i], COMPOSE_LABEL_PROJECT);
      if (!pr)
        continue;
      json_t *e = json_object_get (byname, pr);
      if (!e)
        {
          const char *files = compose_label (cs[i], COMPOSE_LABEL_FILES);
          e = json_pack ("{s:s, s:s, s:{}}", "Name", pr, "ConfigFiles", files ? files : "",
                         "counts");
          json_object_set_new (byname, pr, e);
        }
      json_t *counts = json_object_get (e, "counts");
      const char *st = container_status (cs[i]);
      json_object_set_new (counts, st,
                           json_integer (json_integer_value (json_object_get (counts, st)) + 1));
    }
  container_recs_free (cs, n);
  json_t *arr = json_array ();
  const char *name;
  json_t *e;
  json_object_foreach (byname, name, e)
  {
    json_t *counts = json_object_get (e, "counts");
    if (!all && !json_object_get (counts, "running"))
      continue;
    /* compose prints the states sorted: "exited(1), running(2)". */
    cleanup_strv char **parts = NULL;
    const char *st;
    json_t *cnt;
    json_object_foreach (counts, st, cnt)
    {
      strv_push_take (&parts, xasprintf ("%s(%lld)", st, (long long)json_integer_value (cnt)));
    }
    size_t np = strv_len (parts);
    for (size_t a = 1; a < np; a++)
      for (size_t b = a; b > 0 && strcmp (parts[b - 1], parts[b]) > 0; b--)
        {
          char *t = parts[b];
          parts[b] = parts[b - 1];
          parts[b - 1] = t;
        }
    cleanup_free char *status = compose_strv_join (parts, ", ");
    json_array_append_new (arr, json_pack ("{s:s, s:s, s:O}", "Name", name, "Status", status,
                                           "ConfigFiles", json_object_get (e, "ConfigFiles")));
  }
  size_t na = json_array_size (arr);
  /* sort by name */
  for (size_t a = 1; a < na; a++)
    for (size_t b = a; b > 0; b--)
      {
        json_t *x = json_array_get (arr, b - 1), *y = json_array_get (arr, b);
        if (strcmp (json_get_str (x, "Name"), json_get_str (y, "Name")) <= 0)
          break;
        json_incref (x);
        json_array_set (arr, b - 1, y);
        json_array_set_new (arr, b, x);
      }
  *out = arr;
  return 0;
}

static json_t *labels_obj (char **kv)
{
  json_t *m = json_object ();
  for (char **e = kv; e && *e; e++)
    {
      const char *eq = strchr (*e, '=');
      cleanup_free char *k = eq ? xstrndup (*e, (size_t)(eq - *e)) : xstrdup (*e);
      json_object_set_new (m, k, json_string (eq ? eq + 1 : ""));
    }
  return m;
}

static bool network_used (const struct compose_project *p, const char *key)
{
  for (size_t i = 0; i < p->nservices; i++)
    {
      const struct compose_service *s = &p->services[i];
      if (s->network_mode)
        continue;
      if (s->nnetworks == 0 && strcmp (key, "default") == 0)
        return true;
      for (size_t j = 0; j < s->nnetworks; j++)
        if (strcmp (s->networks[j].network, key) == 0)
          return true;
    }
  return false;
}

int compose_ensure_resources (struct compose_ctx *c, const struct compose_project *p, berr_t *err)
{
  bool have_default = false;
  for (size_t i = 0; i < p->nnetworks; i++)
    have_default |= strcmp (p->networks[i].key, "default") == 0;
  size_t nn = p->nnetworks + (have_default ? 0 : 1);
  for (size_t i = 0; i < nn; i++)
    {
      struct compose_resource dflt = { .key = (char *)"default" };
      cleanup_free char *dname = NULL;
      const struct compose_resource *r = &dflt;
      if (i < p->nnetworks)
        r = &p->networks[i];
      else
        dflt.name = dname = xasprintf ("%s_default", p->name);
      if (!network_used (p, r->key))
        continue;
      struct network_row *row = NULL;
      if (network_get (c->e, r->name, &row, err) == 0)
        {
          network_row_free (row);
          continue;
        }
      if (err->kind != BERR_NOT_FOUND)
        return -1;
      berr_release (err);
      if (r->external)
        return berr_setk (err, BERR_NOT_FOUND, 0,
                          "network %s declared as external, but could not be found", r->name);
      compose_event (c, "Network", r->name, "Creating");
      cleanup_json json_t *labels = labels_obj (r->labels);
      json_object_set_new (labels, COMPOSE_LABEL_PROJECT, json_string (p->name));
      json_object_set_new (labels, COMPOSE_LABEL_NETWORK, json_string (r->key));
      json_object_set_new (labels, COMPOSE_LABEL_VERSION, json_string (COMPOSE_VERSION));
      cleanup_json json_t *opts = r->driver_opts ? labels_obj (r->driver_opts) : NULL;
      struct network_create_opts o = {
        .name = r->name,
        .driver = r->driver,
        .subnet = r->subnets ? r->subnets[0] : NULL,
        .gateway = r->gateways ? r->gateways[0] : NULL,
        .ip_range = r->ip_ranges ? r->ip_ranges[0] : NULL,
        .internal = r->internal,
        .labels = labels,
        .options = opts,
      };
      if (network_create (c->e, &o, &row, err) < 0)
        {
          berr_wrap (err, "network %s", r->name);
          return -1;
        }
      network_row_free (row);
      compose_event (c, "Network", r->name, "Created");
    }
  for (size_t i = 0; i < p->nvolumes; i++)
    {
      const struct compose_resource *r = &p->volumes[i];
      struct volume_rec *v = NULL;
      if (volume_get (c->s, r->name, &v, err) == 0)
        {
          volume_rec_free (v);
          continue;
        }
      if (err->kind != BERR_NOT_FOUND)
        return -1;
      berr_release (err);
      if (r->external)
        return berr_setk (err, BERR_NOT_FOUND, 0, "external volume \"%s\" not found", r->name);
      compose_event (c, "Volume", r->name, "Creating");
      cleanup_json json_t *labels = labels_obj (r->labels);
      json_object_set_new (labels, COMPOSE_LABEL_PROJECT, json_string (p->name));
      json_object_set_new (labels, COMPOSE_LABEL_VOLUME, json_string (r->key));
      json_object_set_new (labels, COMPOSE_LABEL_VERSION, json_string (COMPOSE_VERSION));
      cleanup_json json_t *opts = labels_obj (r->driver_opts);
      if (volume_create (c->s, r->name, r->driver, labels, opts, &v, err) < 0)
        return -1;
      volume_rec_free (v);
      compose_event (c, "Volume", r->name, "Created");
    }
  return 0;
}

/* ---- stopping in parallel ---- */

static int mark_stopped (json_t *state, void *arg, berr_t *err)
{
  (void)arg;
  (void)err;
  json_object_set_new (state, "StoppedByUser", json_true ());
  return 0;
}

int compose_stop_parallel (struct compose_ctx *c, struct container_rec **cs, size_t n, int timeout,
                           bool events, berr_t *err)
{
  /* container_stop would wait for each one in turn; here every container gets its signal
   * first and the waits overlap, so n slow containers cost one timeout, not n. */
  int64_t *deadline = xcalloc (n + 1, sizeof *deadline);
  bool *sent = xcalloc (n + 1, sizeof *sent);
  int rc = 0;
  int64_t start = now_ns ();
  for (size_t i = 0; i < n; i++)
    {
      struct container_rec *r = cs[i];
      if (!container_is_running (r))
        continue;
      if (events)
        compose_event (c, "Container", r->name, "Stopping");
      berr_t e2 = BERR_INIT;
      if (store_container_update (c->s, r->id, mark_stopped, NULL, &e2) < 0)
        berr_release (&e2);
      json_t *config = json_object_get (r->config, "Config");
      int t = timeout;
      if (t < 0)
        {
          json_t *st = json_object_get (config, "StopTimeout");
          t = json_is_integer (st) ? (int)json_integer_value (st) : 10;
        }
      int sig = SIGTERM;
      const char *ss = json_get_str (config, "StopSignal");
      if (ss && ss[0] && signal_parse (ss) > 0)
        sig = signal_parse (ss);
      if (json_is_true (json_object_get (r->state, "Paused"))
          && container_pause (c->e, r, false, &e2) < 0)
        berr_release (&e2);
      if (t == 0)
        sig = SIGKILL;
      if (container_kill (c->e, r, sig, &e2) < 0)
        berr_release (&e2);
      deadline[i] = start + (int64_t)t * 1000000000LL;
      sent[i] = true;
    }
  for (size_t i = 0; i < n; i++)
    {
      if (!sent[i])
        continue;
      int64_t left = deadline[i] - now_ns ();
      int code;
      berr_t we = BERR_INIT;
      int r = container_wait_timeout (c->e, cs[i]->id, left > 0 ? (int)(left / 1000000) : 0, &code,
                                      &we);
      if (r == 1)
        {
          berr_t e2 = BERR_INIT;
          if (container_kill (c->e, cs[i], SIGKILL, &e2) < 0)
            berr_release (&e2);
          r = container_wait (c->e, cs[i]->id, "not-running", &code, &we);
        }
      if (r < 0)
        {
          if (rc == 0)
            *err = we;
          else
            berr_release (&we);
          rc = -1;
          continue;
        }
      if (events)
        compose_event (c, "Container", cs[i]->name, "Stopped");
    }
  free (deadline);
  free (sent);
  return rc;
}
