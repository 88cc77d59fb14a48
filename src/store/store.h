/* store.h — berth's image store: SQLite metadata (WAL), content-addressable blobs, layers
 * unpacked once under layers/<hex>/diff, and atomic ingest.
 *
 * Crash safety: everything new is staged in a per-process area tmp/<id>/ guarded by an flock on
 * tmp/<id>.lock (the kernel drops it when the process dies). Staged files are renamed into place
 * inside the SQLite write transaction that records them; before that rename an intent line names
 * the final path. A later berth process that finds a dead owner's area removes every intent path
 * that no row references, then the area itself. So the store holds either the old state or the
 * new one, never a half-written object.
 *
 * Concurrency: SQLite transactions (BEGIN IMMEDIATE for writers, busy timeout) serialize
 * commits; unpacking and hashing happen outside the lock, so parallel loads overlap. */
#ifndef BERTH_STORE_H
#define BERTH_STORE_H

#include <jansson.h>

#include "util/digest.h"

struct store;

int store_open (const char *root, const char *runroot, struct store **out, berr_t *err);
void store_close (struct store *s);
/* Durability (default on): syncfs before a commit makes staged data durable, the directories
 * are fsync'ed after the renames, SQLite runs with synchronous=FULL. Off trades power-loss
 * safety for speed; crash (kill -9) safety does not depend on it. */
void store_set_sync (struct store *s, bool sync);
/* Only the metadata transactions' flush (synchronous FULL or NORMAL); staged data keeps its
 * store_set_sync setting. Container state uses NORMAL: it is reconciled from the processes. */
void store_set_metadata_sync (struct store *s, bool full);
const char *store_root (struct store *s);
const char *store_runroot (struct store *s);

/* A new empty directory (or file path) inside this process's staging area. */
int store_stage_dir (struct store *s, const char *prefix, char **path, berr_t *err);
int store_stage_file (struct store *s, const char *prefix, char **path, int *fd, berr_t *err);

/* Blobs: blobs/sha256/<hex>. */
char *store_blob_path (struct store *s, const char *digest);
bool store_blob_exists (struct store *s, const char *digest);
int store_blob_read (struct store *s, const char *digest, size_t max, char **data, size_t *len,
                     berr_t *err);

struct layer_info
{
  char diff_id[DIGEST_STR_LEN];
  char blob[DIGEST_STR_LEN]; /* digest of the stored blob ("" when none) */
  char *media_type;          /* of the stored blob */
  int64_t blob_size;
  int64_t tar_size; /* uncompressed tar bytes */
  int64_t size;     /* content bytes */
  bool split;       /* a tar-split (layers/<hex>/tar-split) stands for the tar */
};
void layer_info_release (struct layer_info *l);
/* 0 found, 1 not found, -1 error. */
int store_layer_get (struct store *s, const char *diff_id, struct layer_info *out, berr_t *err);
char *store_layer_dir (struct store *s, const char *diff_id);
char *store_layer_split_path (struct store *s, const char *diff_id);

struct image_rec
{
  char id[DIGEST_STR_LEN]; /* sha256:<config digest> */
  int64_t created;         /* ns, from the config */
  int64_t added;           /* ns, when stored */
  int64_t last_tag_time;   /* ns, 0 if never tagged */
  int64_t size;            /* sum of layer content sizes */
  char *parent;            /* image id or NULL */
  char **tags;             /* full names, "docker.io/library/busybox:latest", sorted */
  char **digests;          /* full "name@sha256:..." */
  char **diff_ids;         /* in order */
};
void image_rec_free (struct image_rec *r);
void image_recs_free (struct image_rec **v, size_t n);

/* All images, newest first (by created, then id). */
int store_image_list (struct store *s, struct image_rec ***out, size_t *n, berr_t *err);
/* Docker's lookup: full ID, "sha256:" ID, a reference (":latest" implied), a unique ID prefix.
 * Not found: kind BERR_NOT_FOUND, "No such image: <input>". */
int store_image_lookup (struct store *s, const char *name, struct image_rec **out, berr_t *err);
int store_image_get (struct store *s, const char *id, struct image_rec **out, berr_t *err);
/* The image config JSON (the blob whose digest is the ID). */
int store_image_config (struct store *s, const char *id, json_t **out, berr_t *err);
/* The same without hashing the blob again (verified when it was stored): for the hot path of
 * `run`, which would otherwise load libcrypto for it. */
int store_image_config_unverified (struct store *s, const char *id, json_t **out, berr_t *err);
int store_count_images (struct store *s, int64_t *n, berr_t *err);

/* --- ingest: what a load/import/pull/build adds, committed in one transaction --- */
struct ingest_layer
{
  char diff_id[DIGEST_STR_LEN];
  char *staged_dir;   /* unpacked layer in the staging area, or NULL if already stored */
  char *staged_blob;  /* raw blob in the staging area, or NULL */
  char *staged_split; /* tar-split in the staging area (instead of a blob), or NULL */
  char blob[DIGEST_STR_LEN];
  char *media_type;
  int64_t blob_size, tar_size, size;
};
struct ingest_image
{
  char id[DIGEST_STR_LEN];
  char *staged_config; /* config blob in the staging area (or NULL if the blob is stored) */
  int64_t created;
  char **diff_ids;
  char **tags;    /* full names to point at this image */
  char **digests; /* full name@digest */
  char *manifest; /* manifest digest or NULL */
  char *staged_manifest;
  char *parent;
  /* Build steps: the build-cache key this image is the result of (a row in build_cache written in
   * the same transaction), or NULL. */
  char *cache_key;
};
/* What a tag pointed at before it was moved (for "renaming the old one" messages). */
struct tag_move
{
  char *tag;
  char old_id[DIGEST_STR_LEN];
};
int store_commit (struct store *s, struct ingest_layer *layers, size_t nlayers,
                  struct ingest_image *images, size_t nimages, struct tag_move **moved,
                  size_t *nmoved, berr_t *err);
void tag_moves_free (struct tag_move *m, size_t n);

/* Point a full tag name at an image. old_id receives the previous image ("" if none). */
int store_tag (struct store *s, const char *image_id, const char *full_name,
               char old_id[DIGEST_STR_LEN], berr_t *err);

/* rmi: untag or delete; lines receives Docker's "Untagged: x" / "Deleted: sha256:..." lines.
 * An image with children: by ID a conflict, by name only the name goes. prune: untagged parents
 * left without child or container are deleted too. */
int store_image_remove (struct store *s, const char *name, bool force, bool prune, char ***lines,
                        int64_t *reclaimed, berr_t *err);
/* Delete an image by ID with all its tags (prune), then its untagged parents that are left with
 * no child and no container (Docker's prune of parents). Returns 1 (nothing done) when the image
 * is gone, has a tag while only_if_dangling, is used by a container or is the parent of another
 * image — checked under the lock. */
int store_image_delete_id (struct store *s, const char *id, bool only_if_dangling, char ***lines,
                           int64_t *reclaimed, berr_t *err);

/* Sum of the content sizes of all layers (Docker's "Images SIZE" in system df counts unique
 * layers once). */
int store_layers_total (struct store *s, int64_t *total, int64_t *count, berr_t *err);

/* ---------- containers (store_container.c) ----------
 * A container row holds Docker's view of it: config = {"Config":…,"HostConfig":…,"Image":
 * "<name as given>", "Path", "Args", …} and state = inspect's "State" object plus berth's own
 * runtime fields (MonitorPid, StartTime, …). */
struct container_rec
{
  char *id;       /* 64 hex */
  char *name;     /* without the leading "/" */
  char *image_id; /* "sha256:…" */
  int64_t created_ns;
  json_t *config;
  json_t *state;
};
void container_rec_free (struct container_rec *c);
void container_recs_free (struct container_rec **v, size_t n);

/* Insert a new container. A taken name fails with BERR_CONFLICT and Docker's message. */
int store_container_add (struct store *s, const struct container_rec *c, berr_t *err);
/* Docker's lookup: full ID, exact name (with or without "/"), unique ID prefix.
 * BERR_NOT_FOUND "No such container: X"; an ambiguous prefix is BERR_INVALID. */
int store_container_lookup (struct store *s, const char *name_or_id, struct container_rec **out,
                            berr_t *err);
/* All containers, newest first. */
int store_container_list (struct store *s, struct container_rec ***out, size_t *n, berr_t *err);
/* How many running containers other than this one share its network namespace
 * (HostConfig.NetworkMode "container:<name, id or id prefix>"). */
int store_container_netns_joiners (struct store *s, const char *id, const char *name, berr_t *err);
/* Replace the state (and, when config != NULL, the config) of a container. */
int store_container_save (struct store *s, const char *id, const json_t *config,
                          const json_t *state, berr_t *err);
/* Read-modify-write of the state under the write lock: fn sees the current state and changes it
 * in place (return < 0 to abort). Returns BERR_NOT_FOUND when the container is gone. */
typedef int (*container_state_fn) (json_t *state, void *arg, berr_t *err);
int store_container_update (struct store *s, const char *id, container_state_fn fn, void *arg,
                            berr_t *err);
int store_container_rename (struct store *s, const char *id, const char *new_name, berr_t *err);
int store_container_delete (struct store *s, const char *id, berr_t *err);
/* Containers created from an image (for rmi's conflict check). */
int store_containers_using_image (struct store *s, const char *image_id, char ***ids, berr_t *err);
/* The volumes a container references (replaces the previous list). */
int store_container_set_volumes (struct store *s, const char *id, char *const *volumes,
                                 berr_t *err);

/* ---------- volumes (store_volume.c) ----------
 * A volume is a row (name, driver, created, labels, options, anonymous) plus its directory
 * <root>/volumes/<name> holding _data.  They appear and vanish together: the directory is staged
 * and renamed into place inside the write transaction that inserts the row, and on removal the
 * row goes first, then the directory is renamed into this process's staging area (so a crash
 * never leaves a half-deleted volume in view) and deleted.  A directory whose row never committed
 * (a crash between rename and COMMIT) is invisible, replaced by the next create of that name and
 * removed by store_volume_gc. */
struct volume_row
{
  char *name;
  char *driver;
  int64_t created_ns;
  json_t *labels;  /* object */
  json_t *options; /* object */
  bool anonymous;
};
void volume_row_free (struct volume_row *v);
void volume_rows_free (struct volume_row **v, size_t n);
/* <root>/volumes/<name> (the data is in its _data). */
char *store_volume_dir (struct store *s, const char *name);
/* Create the row and the directory (with an empty _data) atomically.  Returns 0 when created, 1
 * when a volume of that name already existed (*out then holds the existing row, and nothing was
 * changed). */
int store_volume_create (struct store *s, const struct volume_row *v, struct volume_row **out,
                         berr_t *err);
/* BERR_NOT_FOUND "get NAME: no such volume". */
int store_volume_get (struct store *s, const char *name, struct volume_row **out, berr_t *err);
/* All volumes, by name. */
int store_volume_list (struct store *s, struct volume_row ***out, size_t *n, berr_t *err);
/* Ids of the containers that reference the volume, oldest container first. */
int store_volume_users (struct store *s, const char *name, char ***ids, berr_t *err);
/* Names of the volumes a container references. */
int store_container_volume_names (struct store *s, const char *id, char ***names, berr_t *err);
/* Remove a volume: BERR_NOT_FOUND "get NAME: no such volume"; BERR_CONFLICT "remove NAME: volume
 * is in use - [ID1, ID2]" while a container references it (checked in the same transaction). */
int store_volume_remove (struct store *s, const char *name, berr_t *err);
/* Delete volume directories that no row owns.  Returns how many were removed. */
int store_volume_gc (struct store *s, berr_t *err);

/* ---------- networks and endpoints (store_network.c) ----------
 * A network is a row; an endpoint is a running container's attachment to one network (its
 * address), inserted when the container starts (or is connected while running) and deleted when
 * it stops, so addresses are unique among running containers and come back when they stop.
 * Which networks a container belongs to is its configuration (HostConfig.NetworkMode and
 * NetworkingConfig.EndpointsConfig), not an endpoint. */
struct network_row
{
  char *id; /* 64 hex */
  char *name;
  char *driver; /* "bridge", "host", "null" */
  char *scope;  /* "local" */
  int64_t created_ns;
  char *bridge;   /* the Linux bridge; NULL for host/none */
  char *subnet;   /* "10.210.0.0/16"; NULL for host/none */
  char *gateway;  /* "10.210.0.1" */
  char *ip_range; /* NULL: the whole subnet */
  int mtu;        /* 0: default */
  bool internal, attachable;
  bool builtin;    /* bridge, host, none: predefined, never removed */
  json_t *labels;  /* object */
  json_t *options; /* object */
};
void network_row_free (struct network_row *n);
void network_rows_free (struct network_row **v, size_t n);
/* Insert. A taken name: BERR_CONFLICT "network with name NAME already exists"; a subnet that
 * overlaps another bridge network's (checked in the same transaction): BERR_CONFLICT "Pool
 * overlaps with other one on this address space". */
int store_network_add (struct store *s, const struct network_row *n, berr_t *err);
/* Full id, exact name, then unique id prefix. BERR_NOT_FOUND "network NAME not found";
 * an ambiguous prefix: BERR_INVALID. */
int store_network_get (struct store *s, const char *name_or_id, struct network_row **out,
                       berr_t *err);
/* All networks, by name. */
int store_network_list (struct store *s, struct network_row ***out, size_t *n, berr_t *err);
/* Remove the row; BERR_CONFLICT "error while removing network: network NAME id ID has active
 * endpoints" while endpoints exist (same transaction). */
int store_network_remove (struct store *s, const char *id, berr_t *err);

struct endpoint_row
{
  char *network_id;
  char *container_id;
  char *container_name; /* joined from containers, for listings */
  char *ip;             /* "10.210.0.2" */
  char *mac;            /* "02:42:0a:d2:00:02" */
  char *host_ifname;    /* host end of the veth */
  json_t *aliases;      /* array of strings (DNS names besides the container's name) */
  json_t *ports;        /* NetworkSettings.Ports shape, or NULL (published on this endpoint) */
  int64_t created_ns;
};
void endpoint_row_free (struct endpoint_row *r);
void endpoint_rows_free (struct endpoint_row **v, size_t n);
/* Insert an endpoint with an address chosen in one write transaction: want_ip (NULL: the lowest
 * free one, ipam_pick on the network's subnet/ip_range/gateway). want_ip taken: BERR_CONFLICT
 * "Address already in use"; outside the subnet/range: BERR_INVALID "no configured subnet or
 * ip-range contain the IP address A". The chosen address in *ip_out. ep->ip is ignored. */
int store_endpoint_add (struct store *s, const struct endpoint_row *ep, const char *want_ip,
                        char **ip_out, berr_t *err);
/* Delete the endpoints of a container (network_id NULL: all of them). */
int store_endpoint_remove (struct store *s, const char *container_id, const char *network_id,
                           berr_t *err);
/* Endpoints, filtered by network and/or container (NULL: any), oldest first. */
int store_endpoint_list (struct store *s, const char *network_id, const char *container_id,
                         struct endpoint_row ***out, size_t *n, berr_t *err);

/* ---------- build cache (store_build.c) ----------
 * The legacy builder's model: every build step's result is an image (untagged, parent = the
 * previous step's image); the table build_cache maps a step's cache key (sha256 of parent image
 * + normalized instruction + build args + source content) to that image. Rows are written by
 * store_commit (ingest_image.cache_key) and vanish with their image. */
/* 0 hit (id filled, last_used updated), 1 miss (also when the image is gone: the row is then
 * deleted), -1 error. */
int store_build_cache_get (struct store *s, const char *key, char id[DIGEST_STR_LEN], berr_t *err);
/* Record key -> image (an existing image, e.g. a FROM image reused) outside an ingest. */
int store_build_cache_put (struct store *s, const char *key, const char *id, berr_t *err);
/* Images that are the parent of another image (their ids, sorted; for `images` without -a, which
 * hides untagged intermediate images, and for dangling=true, which excludes them). */
int store_image_parents (struct store *s, char ***ids, berr_t *err);
/* Build-cache usage for `system df`: entries (rows), size = content bytes of layers referenced
 * only by untagged images that are build-cache results or their ancestors; reclaimable = the
 * part no container uses. */
int store_build_cache_usage (struct store *s, int64_t *entries, int64_t *size, int64_t *reclaimable,
                             berr_t *err);
/* Entries whose image a container uses (system df's ACTIVE for the build cache). */
int store_build_cache_active (struct store *s, int64_t *active, berr_t *err);
/* A running build holds a shared lock (returned fd; close to release) on <root>/build.lock;
 * store_build_running tells a prune that one runs: then the build's results (images with a
 * cache record) are not pruned — the build is still stacking on them. */
int store_build_lock (struct store *s, berr_t *err);
bool store_build_running (struct store *s);
bool store_image_is_build_result (struct store *s, const char *id);
/* The cache records for `system df -v`: [{ID (image), Created, LastUsed (ns), Size (the layer
 * the step added), InUse (a container uses it), Shared (several steps built on it)}], most
 * recently used first. */
int store_build_cache_list (struct store *s, json_t **out, berr_t *err);
/* `builder prune`: all = every cache row, else only rows older than until_ns (0: no limit)…
 * then every untagged image with no tagged descendant and no container that was a build result
 * is deleted (with its layers when nothing else uses them). lines: "Deleted: sha256:…" per
 * image; reclaimed: bytes. */
int store_build_cache_prune (struct store *s, int64_t until_ns, char ***lines, int64_t *reclaimed,
                             berr_t *err);
/* The same with Docker's two modes (store_build_cache_prune is all = true). Rows are selected by
 * last use (until_ns: older than that; 0: every row); the untagged, childless build results they
 * point at that no container uses are deleted, leaves first, with their rows. all also drops the
 * selected rows whose images stay (tagged, or the parent of a kept image); without it those rows
 * stay: only "dangling" cache goes. reclaimed grows by the bytes of the layers removed. */
int store_build_cache_prune_ex (struct store *s, bool all, int64_t until_ns, char ***lines,
                                int64_t *reclaimed, berr_t *err);

/* ---------- registry blobs (store_registry.c) ----------
 * blob_map records the compressed blobs known for a layer (pulled, or made by a push) and the
 * repositories ("registry-host/path") where each is known to exist, so a push sends the same
 * digests again and can mount across repositories, and a pull finds a layer by blob digest.
 * Rows go away with their layer. */
/* A stored layer whose blob (layers.blob, or a blob_map row) is digest: 0 found, 1 none. */
int store_layer_by_blob (struct store *s, const char *digest, struct layer_info *out, berr_t *err);
/* Record (or update) digest -> diff_id (the layer must be stored); source (may be NULL) is
 * added to the row's repositories. */
int store_blob_map_put (struct store *s, const char *digest, const char *diff_id,
                        const char *media_type, int64_t size, const char *source, berr_t *err);
struct blob_map_row
{
  char digest[DIGEST_STR_LEN];
  char *media_type;
  int64_t size;
  char **sources;
};
void blob_map_rows_free (struct blob_map_row *v, size_t n);
/* Every compressed blob known for diff_id, most recently recorded first. */
int store_blob_map_list (struct store *s, const char *diff_id, struct blob_map_row **out, size_t *n,
                         berr_t *err);
/* An exclusive lock on one blob digest across processes (<root>/locks/<hex>): two pulls of the
 * same layer at once download it once. Blocks; *fd receives the lock (close it to release). */
int store_blob_lock (struct store *s, const char *digest, int *fd, berr_t *err);
/* Record name@digest ("host/repo@sha256:…") as a repo digest of the image (push does, as
 * Docker). */
int store_image_add_digest (struct store *s, const char *image_id, const char *name_at_digest,
                            berr_t *err);
/* A pull holds a shared lock on <root>/pull.lock from start to end (*fd; close to release):
 * it commits each layer before the image that uses it. */
int store_pull_lock (struct store *s, int *fd, berr_t *err);
/* Delete the layers no image uses (what a failed or killed pull left), unless a pull is running
 * (then nothing is done). reclaimed (may be NULL) grows by their content sizes. */
int store_layer_gc (struct store *s, int64_t *reclaimed, berr_t *err);

#endif
