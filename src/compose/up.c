/* up.c — compose up: images first (present, built or pulled), then networks and volumes, then
 * each service in dependency order converged to its desired state: containers whose config hash
 * matches are left alone (started when stopped), diverged ones recreated, the count scaled. */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "build/build.h"
#include "compose/engine_int.h"
#include "image/ref.h"
#include "net/network.h"
#include "registry/pull.h"
#include "util/fs.h"
#include "util/json.h"
#include "util/util.h"

static void sleep_ms (int ms)
{
  struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };
  nanosleep (&ts, NULL);
}

/* ---- images ---- */

static int build_service (struct compose_ctx *c, const struct compose_project *p,
                          const struct compose_service *svc, const char *ref,
                          char id[DIGEST_STR_LEN], berr_t *err)
{
  const struct compose_build *b = svc->build;
  cleanup_strv char **tags = NULL;
  char *full = NULL;
  if (ref_tag_target (ref, &full, err) < 0)
    return -1;
  strv_push_take (&tags, full);
  for (char **t = b->tags; t && *t; t++)
    {
      if (ref_tag_target (*t, &full, err) < 0)
        return -1;
      strv_push_take (&tags, full);
    }
  cleanup_free char *tmp = NULL;
  if (store_stage_dir (c->s, "context", &tmp, err) < 0)
    return -1;
  cleanup_free char *dockerfile = NULL;
  if (b->dockerfile && b->dockerfile[0] != '/')
    dockerfile = xasprintf ("%s/%s", b->context, b->dockerfile);
  else if (b->dockerfile)
    dockerfile = xstrdup (b->dockerfile);
  struct build_context_opts co = {
    .spec = b->context,
    .dockerfile = dockerfile,
    .stdin_fd = -1,
    .tmp_parent = tmp,
  };
  struct build_context *bc = NULL;
  int r = -1;
  compose_event (c, "Image", ref, "Building");
  if (build_context_open (&co, &bc, err) == 0)
    {
      struct build_opts bo = {
        .context = bc,
        .tags = tags,
        .build_args = b->args,
        .target = b->target,
        .labels = b->labels,
        .network = b->network,
        .progress = BUILD_PROGRESS_PLAIN,
        .quiet = true,
        .out_fd = 2,
        .err_fd = 2,
        .rm = true,
      };
      r = build_run (c->e, &bo, id, err);
      build_context_close (bc);
    }
  berr_t e2 = BERR_INIT;
  if (fs_rm_rf (tmp, &e2) < 0)
    berr_release (&e2);
  if (r < 0)
    return berr_wrap (err, "failed to build service \"%s\"", svc->name);
  (void)p;
  compose_event (c, "Image", ref, "Built");
  return 0;
}

/* The one place images come from a registry. */
static int pull_image (struct compose_ctx *c, const char *ref, char id[DIGEST_STR_LEN], berr_t *err)
{
  if (!c->reg)
    return berr_setk (err, BERR_NOT_FOUND, 0,
                      "pull access denied for %s (no registry configuration): No such image: %s",
                      ref, ref);
  compose_event (c, "Image", ref, "Pulling");
  struct pull_opts po = { .cfg = c->reg };
  struct pull_result res = { 0 };
  if (image_pull (c->s, ref, &po, &res, err) < 0)
    return berr_wrap (err, "pull %s", ref);
  memcpy (id, res.id, DIGEST_STR_LEN);
  pull_result_release (&res);
  compose_event (c, "Image", ref, "Pulled");
  return 0;
}

static int resolve_image (struct compose_ctx *c, const struct compose_project *p,
                          const struct compose_service *svc, const struct compose_up_opts *o,
                          char id[DIGEST_STR_LEN], berr_t *err)
{
  cleanup_free char *ref = compose_service_image (p, svc);
  struct image_rec *img = NULL;
  bool present = store_image_lookup (c->s, ref, &img, err) == 0;
  if (present)
    {
      memcpy (id, img->id, DIGEST_STR_LEN);
      image_rec_free (img);
    }
  else if (err->kind != BERR_NOT_FOUND)
    return -1;
  else
    berr_release (err);
  const char *policy = svc->pull_policy ? svc->pull_policy : (o->pull ? o->pull : "missing");
  if (o->pull && strcmp (o->pull, "missing") != 0)
    policy = o->pull;
  if (svc->build && !o->no_build && (o->build || !present || strcmp (policy, "build") == 0))
    return build_service (c, p, svc, ref, id, err);
  if (strcmp (policy, "always") == 0 || (!present && strcmp (policy, "never") != 0))
    {
      if (!svc->build || !present)
        return pull_image (c, ref, id, err);
    }
  if (!present)
    return berr_setk (err, BERR_NOT_FOUND, 0, "service \"%s\": No such image: %s", svc->name, ref);
  return 0;
}

/* ---- selection ---- */

static void add_with_deps (const struct compose_project *p, const char *name, bool deps,
                           char ***sel)
{
  if (strv_contains (*sel, name))
    return;
  strv_push (sel, name);
  const struct compose_service *s = compose_service_find (p, name);
  if (!s || !deps)
    return;
  for (size_t i = 0; i < s->ndepends; i++)
    if (compose_service_find (p, s->depends_on[i].service))
      add_with_deps (p, s->depends_on[i].service, deps, sel);
}

int compose_select (const struct compose_project *p, char **services, bool deps,
                    const struct compose_service ***out, size_t *n, berr_t *err)
{
  cleanup_strv char **sel = NULL;
  for (char **s = services; s && *s; s++)
    {
      if (!compose_service_find (p, *s))
        return berr_setk (err, BERR_NOT_FOUND, 0, "no such service: %s", *s);
      add_with_deps (p, *s, deps, &sel);
    }
  const struct compose_service **order = NULL;
  if (compose_start_order (p, &order, err) < 0)
    return -1;
  size_t k = 0;
  for (size_t i = 0; i < p->nservices; i++)
    if (!services || strv_contains (sel, order[i]->name))
      order[k++] = order[i];
  *out = order;
  *n = k;
  return 0;
}

/* ---- waiting on dependencies ---- */

static int wait_healthy (struct compose_ctx *c, const struct container_rec *dep, bool need_health,
                         berr_t *err)
{
  bool announced = false;
  json_t *test = json_object_get (
      json_object_get (json_object_get (dep->config, "Config"), "Healthcheck"), "Test");
  bool has_health = json_array_size (test) > 0
                    && strcmp (json_string_value (json_array_get (test, 0)), "NONE") != 0;
  for (;;)
    {
      struct container_rec *r = NULL;
      if (container_get (c->e, dep->id, &r, err) < 0)
        return -1;
      json_t *health = json_object_get (r->state, "Health");
      cleanup_free char *hs
          = json_get_str (health, "Status") ? xstrdup (json_get_str (health, "Status")) : NULL;
      bool running = container_is_running (r);
      int code = (int)json_integer_value (json_object_get (r->state, "ExitCode"));
      container_rec_free (r);
      if (need_health && !has_health && running)
        return berr_setk (err, BERR_INVALID, 0,
                          "dependency failed to start: container %s has no healthcheck configured",
                          dep->name);
      if (!need_health && running)
        return 0;
      if (hs && strcmp (hs, "healthy") == 0)
        {
          compose_event (c, "Container", dep->name, "Healthy");
          return 0;
        }
      if (hs && strcmp (hs, "unhealthy") == 0)
        return berr_setk (err, BERR_INVALID, 0,
                          "dependency failed to start: container %s is unhealthy", dep->name);
      if (!running)
        return berr_setk (err, BERR_INVALID, 0, "container %s exited (%d)", dep->name, code);
      if (!announced)
        compose_event (c, "Container", dep->name, "Waiting");
      announced = true;
      sleep_ms (100);
    }
}

static int wait_dependencies (struct compose_ctx *c, const struct compose_project *p,
                              const struct compose_service *svc, berr_t *err)
{
  for (size_t i = 0; i < svc->ndepends; i++)
    {
      const struct compose_dep *d = &svc->depends_on[i];
      if (d->condition == COMPOSE_DEP_STARTED)
        continue;
      struct container_rec **cs = NULL;
      size_t n = 0;
      if (compose_containers (c, p->name, d->service, false, false, &cs, &n, err) < 0)
        return -1;
      int rc = 0;
      for (size_t k = 0; k < n && rc == 0; k++)
        {
          if (d->condition == COMPOSE_DEP_HEALTHY)
            rc = wait_healthy (c, cs[k], true, err);
          else
            {
              compose_event (c, "Container", cs[k]->name, "Waiting");
              int code = 0;
              rc = container_wait (c->e, cs[k]->id, "not-running", &code, err);
              if (rc == 0 && code != 0)
                rc = berr_setk (err, BERR_INVALID, 0,
                                "service %s didn't complete successfully: exit %d", d->service,
                                code);
              if (rc == 0)
                compose_event (c, "Container", cs[k]->name, "Exited");
            }
        }
      container_recs_free (cs, n);
      if (rc < 0)
        return -1;
    }
  return 0;
}

/* ---- containers ---- */

static int start_one (struct compose_ctx *c, struct container_rec *r, berr_t *err)
{
  compose_event (c, "Container", r->name, "Starting");
  struct start_opts so = { 0 };
  if (container_start (c->e, r, &so, NULL, err) < 0)
    return berr_wrap (err, "container %s", r->name);
  compose_event (c, "Container", r->name, "Started");
  return 0;
}

static int create_one (struct compose_ctx *c, const struct compose_project *p,
                       const struct compose_service *svc, json_t *body, struct container_rec **out,
                       berr_t *err)
{
  if (container_create (c->e, body, out, err) < 0)
    return -1;
  cleanup_json json_t *extra = NULL;
  compose_service_networks (p, svc, &extra);
  const char *net;
  json_t *ep;
  json_object_foreach (extra, net, ep)
  {
    if (container_network_connect (c->e, (*out)->id, net, ep, err) < 0)
      {
        berr_t e2 = BERR_INIT;
        if (container_remove (c->e, *out, true, true, &e2) < 0)
          berr_release (&e2);
        container_rec_free (*out);
        *out = NULL;
        return -1;
      }
  }
  return 0;
}

/* The old container of a recreate is renamed "<id12>_<name>" until the new one exists; one
 * still there was left by an interrupted recreate (a crash, a kill -9) and goes. */
static bool recreate_leftover (const struct container_rec *ct)
{
  return strlen (ct->name) > 13 && ct->name[12] == '_' && strncmp (ct->name, ct->id, 12) == 0;
}

static int recreate_one (struct compose_ctx *c, const struct compose_project *p,
                         const struct compose_service *svc, struct container_rec *old, json_t *body,
                         const struct compose_up_opts *o, bool start, berr_t *err)
{
  compose_event (c, "Container", old->name, "Recreate");
  bool was_running = container_is_running (old);
  if (compose_stop_parallel (c, &old, 1, o->timeout, false, err) < 0)
    return -1;
  cleanup_free char *tmpname = xasprintf ("%.12s_%s", old->id, old->name);
  if (store_container_rename (c->s, old->id, tmpname, err) < 0)
    return -1;
  struct container_rec *nr = NULL;
  if (create_one (c, p, svc, body, &nr, err) < 0)
    {
      /* The old one comes back as it was. */
      berr_t e2 = BERR_INIT;
      if (store_container_rename (c->s, old->id, old->name, &e2) < 0)
        berr_release (&e2);
      else if (was_running)
        {
          struct start_opts so = { 0 };
          if (container_start (c->e, old, &so, NULL, &e2) < 0)
            berr_release (&e2);
        }
      return -1;
    }
  if (container_remove (c->e, old, true, false, err) < 0)
    {
      container_rec_free (nr);
      return -1;
    }
  compose_event (c, "Container", nr->name, "Recreated");
  int rc = start ? start_one (c, nr, err) : 0;
  container_rec_free (nr);
  return rc;
}

static int remove_containers (struct compose_ctx *c, struct container_rec **cs, size_t n,
                              int timeout, berr_t *err)
{
  if (compose_stop_parallel (c, cs, n, timeout, true, err) < 0)
    return -1;
  for (size_t i = 0; i < n; i++)
    {
      compose_event (c, "Container", cs[i]->name, "Removing");
      if (container_remove (c->e, cs[i], true, false, err) < 0)
        return -1;
      compose_event (c, "Container", cs[i]->name, "Removed");
    }
  return 0;
}

static int64_t desired_scale (const struct compose_service *svc, char **scale, berr_t *err)
{
  int64_t n = svc->replicas < 0 ? 1 : svc->replicas;
  for (char **s = scale; s && *s; s++)
    {
      const char *eq = strchr (*s, '=');
      if (eq && (size_t)(eq - *s) == strlen (svc->name) && strncmp (*s, svc->name, eq - *s) == 0)
        {
          char *end;
          long v = strtol (eq + 1, &end, 10);
          if (*end || v < 0)
            return berr_setk (err, BERR_INVALID, 0, "invalid scale value: %s", *s);
          n = v;
        }
    }
  return n;
}

static int converge_service (struct compose_ctx *c, const struct compose_project *p,
                             const struct compose_service *svc, const char *image_id,
                             const struct compose_up_opts *o, berr_t *err)
{
  int64_t want = desired_scale (svc, o->scale, err);
  if (want < 0)
    return -1;
  if (want > 1 && svc->container_name)
    return berr_setk (err, BERR_INVALID, 0,
                      "services.%s: can't set container_name and %s as container name must be "
                      "unique",
                      svc->name, "scale");
  struct container_rec **cs = NULL;
  size_t n = 0;
  if (compose_containers (c, p->name, svc->name, false, false, &cs, &n, err) < 0)
    return -1;
  int rc = 0;
  /* Scale down: the highest numbers go first. */
  struct container_rec **extra = xcalloc (n + 1, sizeof *extra);
  size_t nextra = 0;
  for (size_t i = n; i-- > 0;)
    if (compose_number (cs[i]) > want || recreate_leftover (cs[i]))
      extra[nextra++] = cs[i];
  if (nextra)
    rc = remove_containers (c, extra, nextra, o->timeout, err);
  free (extra);
  bool start = !o->no_start;
  for (int64_t num = 1; rc == 0 && num <= want; num++)
    {
      struct container_rec *have = NULL;
      for (size_t i = 0; i < n; i++)
        if (compose_number (cs[i]) == num && !recreate_leftover (cs[i]))
          have = cs[i];
      cleanup_json json_t *body = NULL;
      char hash[DIGEST_STR_LEN];
      if (compose_service_body (c, p, svc, (int)num, false, image_id, &body, hash, err) < 0)
        {
          rc = -1;
          break;
        }
      if (have)
        {
          const char *old = compose_label (have, COMPOSE_LABEL_HASH);
          bool diverged = !old || strcmp (old, digest_hex (hash)) != 0;
          if (o->recreate == COMPOSE_RECREATE_FORCE
              || (o->recreate == COMPOSE_RECREATE_DIVERGED && diverged))
            rc = recreate_one (c, p, svc, have, body, o, start, err);
          else if (container_is_running (have))
            compose_event (c, "Container", have->name, "Running");
          else if (start)
            rc = start_one (c, have, err);
          continue;
        }
      struct container_rec *nr = NULL;
      const char *name = json_get_str (body, "Name");
      cleanup_free char *cname = xstrdup (name ? name : "");
      compose_event (c, "Container", cname, "Creating");
      if (create_one (c, p, svc, body, &nr, err) < 0)
        {
          rc = -1;
          break;
        }
      compose_event (c, "Container", cname, "Created");
      if (start)
        rc = start_one (c, nr, err);
      container_rec_free (nr);
    }
  container_recs_free (cs, n);
  return rc;
}

static int wait_project (struct compose_ctx *c, const struct compose_project *p,
                         const struct compose_service *const *sel, size_t nsel, berr_t *err)
{
  for (size_t i = 0; i < nsel; i++)
    {
      struct container_rec **cs = NULL;
      size_t n = 0;
      if (compose_containers (c, p->name, sel[i]->name, false, false, &cs, &n, err) < 0)
        return -1;
      int rc = 0;
      for (size_t k = 0; k < n && rc == 0; k++)
        {
          json_t *hc = json_object_get (json_object_get (cs[k]->config, "Config"), "Healthcheck");
          json_t *test = json_object_get (hc, "Test");
          bool has_health = json_array_size (test) > 0
                            && strcmp (json_string_value (json_array_get (test, 0)), "NONE") != 0;
          bool completed_dep = false;
          for (size_t s = 0; s < p->nservices; s++)
            for (size_t d = 0; d < p->services[s].ndepends; d++)
              completed_dep |= p->services[s].depends_on[d].condition == COMPOSE_DEP_COMPLETED
                               && strcmp (p->services[s].depends_on[d].service, sel[i]->name) == 0;
          if (completed_dep)
            continue;
          if (!has_health && !container_is_running (cs[k]))
            rc = berr_setk (
                err, BERR_INVALID, 0, "container %s exited (%lld)", cs[k]->name,
                (long long)json_integer_value (json_object_get (cs[k]->state, "ExitCode")));
          else
            rc = wait_healthy (c, cs[k], false, err) < 0
                     ? -1
                     : (has_health ? wait_healthy (c, cs[k], true, err) : 0);
        }
      container_recs_free (cs, n);
      if (rc < 0)
        return -1;
    }
  return 0;
}

int compose_orphans (struct compose_ctx *c, const struct compose_project *p,
                     struct container_rec ***out, size_t *n, berr_t *err)
{
  struct container_rec **cs = NULL;
  size_t nc = 0;
  if (compose_containers (c, p->name, NULL, false, false, &cs, &nc, err) < 0)
    return -1;
  size_t k = 0;
  for (size_t i = 0; i < nc; i++)
    {
      const char *sv = compose_label (cs[i], COMPOSE_LABEL_SERVICE);
      if (sv && (compose_service_find (p, sv) || strv_contains (p->disabled_services, sv)))
        container_rec_free (cs[i]);
      else
        cs[k++] = cs[i];
    }
  cs[k] = NULL;
  *out = cs;
  *n = k;
  return 0;
}

int compose_up (struct compose_ctx *c, const struct compose_project *p,
                const struct compose_up_opts *o, berr_t *err)
{
  const struct compose_service **sel = NULL;
  size_t nsel = 0;
  if (compose_select (p, o->services, !o->no_deps, &sel, &nsel, err) < 0)
    return -1;
  char (*ids)[DIGEST_STR_LEN] = xcalloc (nsel + 1, DIGEST_STR_LEN);
  int rc = 0;
  for (char **s = o->scale; s && *s && rc == 0; s++)
    {
      const char *eq = strchr (*s, '=');
      cleanup_free char *name = eq ? xstrndup (*s, (size_t)(eq - *s)) : xstrdup (*s);
      if (!eq || !compose_service_find (p, name))
        rc = berr_setk (err, BERR_INVALID, 0,
                        eq ? "no such service: %s" : "invalid scale value: %s", eq ? name : *s);
    }
  /* Everything that can fail without side effects first: scale values, then images. */
  for (size_t i = 0; i < nsel && rc == 0; i++)
    {
      int64_t want = desired_scale (sel[i], o->scale, err);
      if (want < 0)
        rc = -1;
      else if (want > 1 && sel[i]->container_name)
        rc = berr_setk (err, BERR_INVALID, 0,
                        "services.%s: can't set container_name and %s as container name must be "
                        "unique",
                        sel[i]->name, "scale");
    }
  for (size_t i = 0; i < nsel && rc == 0; i++)
    rc = resolve_image (c, p, sel[i], o, ids[i], err);
  if (rc == 0)
    rc = compose_ensure_resources (c, p, err);
  if (rc == 0)
    {
      struct container_rec **orph = NULL;
      size_t norph = 0;
      rc = compose_orphans (c, p, &orph, &norph, err);
      if (rc == 0 && norph)
        {
          if (o->remove_orphans)
            rc = remove_containers (c, orph, norph, o->timeout, err);
          else
            {
              cleanup_strv char **names = NULL;
              for (size_t i = 0; i < norph; i++)
                strv_push (&names, orph[i]->name);
              cleanup_free char *list = compose_strv_join (names, " ");
              cleanup_free char *msg = xasprintf (
                  "Found orphan containers ([%s]) for this project. If you removed or renamed "
                  "this service in your compose file, you can run this command with the "
                  "--remove-orphans flag to clean it up.",
                  list);
              compose_event (c, "Warning", msg, "");
            }
        }
      container_recs_free (orph, norph);
    }
  for (size_t i = 0; i < nsel && rc == 0; i++)
    {
      if (!o->no_start && wait_dependencies (c, p, sel[i], err) < 0)
        rc = -1;
      else
        rc = converge_service (c, p, sel[i], ids[i], o, err);
    }
  if (rc == 0 && o->wait && !o->no_start)
    rc = wait_project (c, p, sel, nsel, err);
  if (rc == 0 && o->started)
    {
      struct container_rec **all = NULL;
      size_t n = 0;
      rc = compose_containers (c, p->name, NULL, false, false, &all, &n, err);
      if (rc == 0)
        {
          size_t k = 0;
          for (size_t i = 0; i < n; i++)
            {
              const char *sv = compose_label (all[i], COMPOSE_LABEL_SERVICE);
              bool in = false;
              for (size_t j = 0; j < nsel; j++)
                in |= sv && strcmp (sv, sel[j]->name) == 0;
              if (in)
                all[k++] = all[i];
              else
                container_rec_free (all[i]);
            }
          all[k] = NULL;
          *o->started = all;
          if (o->nstarted)
            *o->nstarted = k;
        }
    }
  free (ids);
  free (sel);
  return rc;
}
