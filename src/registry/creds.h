/* creds.h — registry credentials in Docker's config file, so a Docker login works in berth and
 * the other way round.
 *
 * $DOCKER_CONFIG/config.json, else $HOME/.docker/config.json. Read: "credHelpers"[key] names a
 * helper, else "credsStore", else "auths"[key].auth (base64 "user:password") or
 * identitytoken. A helper is the program docker-credential-<name> run with "get" (key on stdin,
 * JSON {"ServerURL","Username","Secret"} on stdout), "store" (that JSON on stdin) or "erase";
 * its "credentials not found in native keychain" means none. Username "<token>" with a Secret is
 * an identity token. Writes keep every other key of the file as it was and replace the file
 * atomically (mode 0600). Keys: "https://index.docker.io/v1/" for Docker Hub (also matched as
 * "index.docker.io", "docker.io", "registry-1.docker.io", with or without scheme and "/v1/"),
 * the "host[:port]" otherwise (a stored "https://host:port" or "http://host:port/" matches too). */
#ifndef BERTH_CREDS_H
#define BERTH_CREDS_H

#include "util/err.h"

struct creds
{
  char *username;
  char *password;
  char *identity_token;
};
void creds_release (struct creds *c);

/* 0 found, 1 none stored, -1 error (unreadable file, bad JSON, a failing helper). */
int creds_get (const char *config_dir, const char *key, struct creds *out, berr_t *err);
/* Store through the helper when one applies, else base64 in "auths". *where receives a phrase
 * for login's warning: the file path when stored unencrypted, NULL when a helper kept it. */
int creds_store (const char *config_dir, const char *key, const struct creds *c, char **where,
                 berr_t *err);
/* 0 removed, 1 nothing was stored, -1 error. */
int creds_erase (const char *config_dir, const char *key, berr_t *err);
/* Whether "auths" has an entry for key (any spelling): Docker's logout test for "logged in",
 * which also holds for credentials kept by a helper. 1 yes, 0 no, -1 error. */
int creds_listed (const char *config_dir, const char *key, berr_t *err);
/* The config directory: $DOCKER_CONFIG, else $HOME/.docker (caller frees). */
char *creds_default_dir (void);

#endif
