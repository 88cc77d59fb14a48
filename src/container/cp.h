/* cp.h — `berth cp`: copying between a container's filesystem and the host, with the semantics
 * of `docker container cp` (docker/cli cp.go, moby's archive CopyInfo / PrepareArchiveCopy rules)
 * and without its historical holes:
 *
 *  - Container paths are never joined onto the rootfs as strings. Every component is looked up
 *    with openat2(RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS) relative to a directory fd held from
 *    the rootfs (or from a mount's source), symlinks are expanded by hand inside that scope, and
 *    files are created with *at() calls relative to those fds. A container that swaps a
 *    directory with a symlink to "/" while cp runs (CVE-2018-15664) only ever redirects cp to
 *    another place inside itself.
 *  - Nothing is executed and nothing is loaded from the container (CVE-2019-14271); tar is
 *    libarchive in-process with its built-in decompressors only (never an external xz);
 *    ownership is numeric, no NSS lookups.
 *  - Paths under one of the container's bind mounts or volumes (inspect "Mounts") are served by
 *    the mount's source directory, entered the same safe way, as Docker's daemon sees them with
 *    the volumes mounted.
 *
 * Tar entry names follow Docker: a path's archive starts with its base name ("hostname",
 * "etc/", "etc/passwd"), or with "./" when the path ends in "/." or is the root. */
#ifndef BERTH_CP_H
#define BERTH_CP_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "util/err.h"

/* Where a tar stream goes. write returns < 0 with errno set on failure; bytes counts what was
 * written through it (the size Docker reports in "Successfully copied"). */
struct cp_sink
{
  int (*write) (void *cookie, const void *buf, size_t len);
  void *cookie;
  uint64_t bytes;
};
/* A sink writing to fd (fs_write_all). */
struct cp_sink cp_sink_fd (int fd);

/* A filesystem tree cp works in: a container's (rootfs plus mounts) or a host directory. */
struct cp_fs;

/* rootfs: the mounted rootfs; mounts: inspect "Mounts" ([{"Type","Source","Destination","RW"}],
 * tmpfs entries and entries without a Source are ignored; may be NULL); readonly_rootfs:
 * HostConfig.ReadonlyRootfs (writes outside a writable mount are refused). */
int cp_fs_open_container (const char *rootfs, const json_t *mounts, bool readonly_rootfs,
                          struct cp_fs **out, berr_t *err);
/* A host directory as the root of a tree (the receiving end of a copy out of a container, or the
 * parent of a host source). */
int cp_fs_open_host (const char *dir, struct cp_fs **out, berr_t *err);
void cp_fs_free (struct cp_fs *fs);

/* What Docker's ContainerStatPath reports. */
struct cp_stat
{
  char *path;        /* the path as resolved in the tree (absolute, clean) */
  mode_t mode;       /* st_mode */
  int64_t size;      /* st_size */
  char *link_target; /* for a symlink: its target as written; else NULL */
};
void cp_stat_release (struct cp_stat *st);

/* Stat path in the tree: symlinks before the last component are followed inside the tree; the
 * last is not, unless path ends in "/" or "/." (then it must be a directory). Missing: -1 with
 * errnum ENOENT and kind BERR_NOT_FOUND. */
int cp_fs_stat (struct cp_fs *fs, const char *path, struct cp_stat *st, berr_t *err);

/* Write the tar of path (resolved as cp_fs_stat does) to sink. top: the name of the first entry
 * (NULL: Docker's — the base name, "." for "/."-paths and the root); entries below a directory
 * are "top/rel" ("./rel" for "."). Numeric uid/gid, mtimes in whole seconds, hard links inside
 * the copy kept as links, sockets skipped. */
int cp_fs_archive (struct cp_fs *fs, const char *path, const char *top, struct cp_sink *sink,
                   berr_t *err);

struct cp_extract_opts
{
  /* Docker's -a: keep the tar's uid/gid. Otherwise files copied into a container belong to
   * root (0:0), and files copied to the host to the user running berth, with setuid/setgid bits
   * dropped (and device nodes made private) since their owner changed. */
  bool copy_uid_gid;
};

/* Extract the tar read from tar_fd (plain, gzip, bzip2, xz or zstd) into dir, a directory of the
 * tree (symlinks followed inside the tree). Entries with an absolute name or a ".." component
 * are refused; parents are resolved inside the tree; the entry itself is never followed.
 * An existing directory is never replaced by a non-directory or the reverse (Docker's
 * NoOverwriteDirNonDir); other existing entries are replaced. A "." directory entry is skipped.
 * Errors (Docker's texts): dir missing — BERR_NOT_FOUND; "extraction point is not a directory";
 * "mounted volume is marked read-only"; "container rootfs is marked read-only". */
int cp_fs_extract (struct cp_fs *fs, const char *dir, int tar_fd, const struct cp_extract_opts *o,
                   berr_t *err);

/* The container halves in one call each (open, act, free). cp_from_container writes the tar of
 * src_path with Docker's names; cp_to_container extracts tar_fd into the directory dst_path. */
int cp_from_container (const char *rootfs, const json_t *mounts, const char *src_path,
                       struct cp_sink *sink, berr_t *err);
int cp_to_container (const char *rootfs, const json_t *mounts, const char *dst_path, int tar_fd,
                     bool copy_uid_gid, berr_t *err);

/* ---- Docker's path rules (moby archive/copy.go), on path strings ---- */

/* PreserveTrailingDotOrSeparator: cleaned plus the "/" or "/." that original ended with. */
char *cp_path_preserve_trailing (const char *cleaned, const char *original);
/* SplitPathDirEntry: ("/a/b/." -> "/a/b", "."; "/a/b/" -> "/a", "b"). */
void cp_path_split (const char *path, char **dir, char **base);
/* The path ends in "/" or its last element is ".". */
bool cp_path_asserts_dir (const char *path);
/* resolveLocalPath: absolute (against the working directory), clean, trailing "/" or "/." kept. */
char *cp_path_abs_local (const char *path);
/* GetRebaseName: path resolved through a symlink to resolved -> *out (resolved with path's
 * trailing "/" or "/." carried over) and the name the archive should have (path's base when it
 * differs from resolved's; else NULL). */
char *cp_path_rebase_name (const char *path, const char *resolved, char **out);

/* CopyInfo: one side of a copy. */
struct cp_info
{
  char *path;
  bool exists;
  bool is_dir;
  char *rebase_name; /* the name the source's archive should carry instead of its base */
};
void cp_info_release (struct cp_info *i);

/* CopyInfoSourcePath for a host path (absolute): symlinks before the last "/" resolved; with
 * follow_link all of them (the archive then keeps the name the user gave). */
int cp_host_source_info (const char *path, bool follow_link, struct cp_info *out, berr_t *err);
/* CopyInfoDestinationPath for a host path (absolute): a symlink as the last component is
 * followed (up to 10 times); a missing destination needs an existing parent directory. */
int cp_host_dest_info (const char *path, struct cp_info *out, berr_t *err);
/* The source in a container as Docker's CLI and daemon see it: with follow_link, a symlink is
 * replaced by its target (the archive keeps the link's name: rebase_name); then the path must
 * exist (BERR_NOT_FOUND; out->path still says which path was looked for). */
int cp_container_source_info (struct cp_fs *fs, const char *path, bool follow_link,
                              struct cp_info *out, berr_t *err);
/* The destination in a container: stat (symlinks before the last component followed); a
 * symlink there is replaced by its target, one level, as Docker's CLI does; a device, FIFO or
 * socket is an error ("got a device", "got an irregular file"); a path that cannot be stat'ed
 * counts as missing (the extraction has the last word). */
int cp_container_dest_info (struct cp_fs *fs, const char *path, struct cp_info *out, berr_t *err);
/* PrepareArchiveCopy: the directory to extract into and the name the source's first entry must
 * have there (*top, NULL when the archive stays as it is). Errors: "cannot copy directory",
 * "no such directory". */
int cp_prepare (const struct cp_info *src, const struct cp_info *dst, char **dst_dir, char **top,
                berr_t *err);
/* The name a source archive starts with when nothing renames it (Base of the cleaned path, "."
 * for "/."-paths and the root). */
char *cp_default_top (const char *path);

/* ---- whole copies: one side archives, the other extracts, through a socket pair ---- */

struct cp_result
{
  uint64_t tar_bytes;   /* size of the tar that went across */
  bool container_error; /* the error (if any) came from the container side */
};

/* Archive src (a path of fs) under the name top and extract it into host_dir. */
int cp_copy_out (struct cp_fs *fs, const char *src, const char *top, const char *host_dir,
                 const struct cp_extract_opts *o, struct cp_result *res, berr_t *err);
/* Archive the host path host_src (as resolved by cp_host_source_info) under the name top and
 * extract it into dst_dir, a directory of fs. */
int cp_copy_in (const char *host_src, const char *top, struct cp_fs *fs, const char *dst_dir,
                const struct cp_extract_opts *o, struct cp_result *res, berr_t *err);

/* ---- the engine side: a container held for a copy ---- */

struct engine;
struct container_rec;
struct cp_session
{
  int lockfd;
  char *id;
  bool unmount; /* the rootfs was mounted for this copy */
  struct cp_fs *fs;
};
/* Lock the container (start/stop/rm wait), mount its rootfs if it is not mounted, and open its
 * tree: rootfs, its "Mounts", and the /etc/hostname, /etc/hosts, /etc/resolv.conf files the
 * engine bind-mounts into it. */
int cp_session_open (struct engine *e, struct container_rec *c, struct cp_session *s, berr_t *err);
/* Unmount the rootfs if this session mounted it and the container is not running; unlock. */
void cp_session_close (struct engine *e, struct cp_session *s);

#endif
