/* merge.c — Docker's create-time merge of the image's config into the container's Config (moby
 * daemon merge + mergeAndVerifyConfig): the container's values win, the image fills the gaps,
 * Env/Labels/ExposedPorts/Volumes are unions, and an Entrypoint given without a Cmd means the
 * image's Cmd is not used. */
#include <string.h>

#include "container/spec_int.h"
#include "util/json.h"
#include "util/util.h"

static bool is_empty (const json_t *v)
{
  if (v == NULL || json_is_null (v))
    return true;
  if (json_is_array (v))
    return json_array_size (v) == 0;
  if (json_is_object (v))
    return json_object_size (v) == 0;
  if (json_is_string (v))
    return json_string_length (v) == 0;
  if (json_is_integer (v))
    return json_integer_value (v) == 0;
  return false;
}

static void take_from_image (json_t *config, const json_t *image, const char *key)
{
  json_t *iv = json_object_get (image, key);
  if (is_empty (json_object_get (config, key)) && iv && !json_is_null (iv))
    json_object_set_new (config, key, json_deep_copy (iv));
}

/* Object keys of the image's set not in the container's (ExposedPorts, Volumes, Labels). */
static void union_object (json_t *config, const json_t *image, const char *key)
{
  json_t *iv = json_object_get (image, key);
  json_t *cv = json_object_get (config, key);
  if (!json_is_object (iv))
    return;
  if (!json_is_object (cv))
    {
      json_object_set_new (config, key, json_deep_copy (iv));
      return;
    }
  const char *k;
  json_t *v;
  json_object_foreach (iv, k, v)
  {
    if (!json_object_get (cv, k))
      json_object_set_new (cv, k, json_deep_copy (v));
  }
}

static size_t env_key_len (const char *s)
{
  const char *eq = strchr (s, '=');
  return eq ? (size_t)(eq - s) : strlen (s);
}

static void merge_env (json_t *config, const json_t *image)
{
  json_t *ienv = json_object_get (image, "Env");
  json_t *cenv = json_object_get (config, "Env");
  if (!json_is_array (ienv))
    return;
  if (!json_is_array (cenv) || json_array_size (cenv) == 0)
    {
      json_object_set_new (config, "Env", json_deep_copy (ienv));
      return;
    }
  size_t n = json_array_size (cenv);
  size_t i;
  json_t *iv;
  json_array_foreach (ienv, i, iv)
  {
    const char *is = json_string_value (iv);
    if (!is)
      continue;
    size_t ik = env_key_len (is);
    bool found = false;
    for (size_t k = 0; k < n && !found; k++)
      {
        const char *cs = json_string_value (json_array_get (cenv, k));
        found = cs && env_key_len (cs) == ik && strncmp (cs, is, ik) == 0;
      }
    if (!found)
      json_array_append (cenv, iv);
  }
}

static void merge_healthcheck (json_t *config, const json_t *image)
{
  json_t *ih = json_object_get (image, "Healthcheck");
  if (!json_is_object (ih))
    return;
  json_t *ch = json_object_get (config, "Healthcheck");
  if (!json_is_object (ch))
    {
      json_object_set_new (config, "Healthcheck", json_deep_copy (ih));
      return;
    }
  /* Field by field: the container's Test ["NONE"] stays and disables the image's check. */
  static const char *const keys[]
      = { "Test", "Interval", "Timeout", "StartPeriod", "StartInterval", "Retries" };
  for (size_t i = 0; i < ARRAY_SIZE (keys); i++)
    take_from_image (ch, ih, keys[i]);
}

int spec_merge_image_config (json_t *config, const json_t *image_config, berr_t *err)
{
  if (!json_is_object (config))
    return berr_setk (err, BERR_INVALID, 0, "container config is not an object");
  const json_t *img = json_is_object (image_config) ? image_config : NULL;
  if (img)
    {
      take_from_image (config, img, "User");
      if (is_empty (json_object_get (config, "ExposedPorts")))
        take_from_image (config, img, "ExposedPorts");
      else
        union_object (config, img, "ExposedPorts");
      merge_env (config, img);
      if (!json_is_object (json_object_get (config, "Labels")))
        json_object_set_new (config, "Labels", json_object ());
      union_object (config, img, "Labels");

      json_t *ep = json_object_get (config, "Entrypoint");
      if (is_empty (ep))
        {
          if (is_empty (json_object_get (config, "Cmd")))
            take_from_image (config, img, "Cmd");
          /* Only an absent/null Entrypoint takes the image's; an explicit [] keeps none. */
          if (ep == NULL || json_is_null (ep))
            {
              json_t *iep = json_object_get (img, "Entrypoint");
              if (iep && !json_is_null (iep))
                json_object_set_new (config, "Entrypoint", json_deep_copy (iep));
            }
        }
      merge_healthcheck (config, img);
      take_from_image (config, img, "WorkingDir");
      if (is_empty (json_object_get (config, "Volumes")))
        take_from_image (config, img, "Volumes");
      else
        union_object (config, img, "Volumes");
      take_from_image (config, img, "StopSignal");
    }
  else if (!json_is_object (json_object_get (config, "Labels")))
    json_object_set_new (config, "Labels", json_object ());

  /* `--entrypoint ""` arrives as [""]: it resets the entrypoint. */
  json_t *ep = json_object_get (config, "Entrypoint");
  if (json_is_array (ep) && json_array_size (ep) == 1 && json_is_string (json_array_get (ep, 0))
      && json_string_length (json_array_get (ep, 0)) == 0)
    json_object_set_new (config, "Entrypoint", json_null ());
  if (is_empty (json_object_get (config, "Entrypoint"))
      && is_empty (json_object_get (config, "Cmd")))
    return berr_setk (err, BERR_INVALID, 0, "No command specified");
  return 0;
}
