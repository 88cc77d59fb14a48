/* volspec.h — Docker's mount specifications: `-v SPEC` (the daemon's ParseMountRaw on Linux),
 * `--mount CSV` (docker/cli opts.MountOpt), `--tmpfs DEST[:OPTS]`, and tmpfs option strings.
 * Results use the Engine API "Mount" object form: {"Type","Source","Target","ReadOnly",
 * "Consistency","BindOptions":{"Propagation","NonRecursive","CreateMountpoint",…},
 * "VolumeOptions":{"NoCopy","Labels","DriverConfig":{"Name","Options"},"Subpath"},
 * "TmpfsOptions":{"SizeBytes","Mode","Options"}} — absent keys are zero values. */
#ifndef BERTH_VOLSPEC_H
#define BERTH_VOLSPEC_H

#include <jansson.h>
#include <stdbool.h>

#include "util/err.h"

/* The daemon's view of one mount (moby's MountPoint): what inspect's "Mounts" shows. */
struct mount_point
{
  char *type;        /* "bind", "volume", "tmpfs" */
  char *source;      /* host path for binds ("" for volumes until resolved) */
  char *destination; /* absolute path in the container */
  char *name;        /* volume name ("" for anonymous until created, or for binds) */
  char *driver;      /* "local" for volumes */
  char *mode;        /* the mode string as given ("ro", "z", "ro,Z" …) */
  char *propagation; /* "rprivate" default for binds, "" for volumes */
  bool rw;
  bool copy_data; /* volumes: populate from the image (not with nocopy) */
  json_t *spec;   /* the Engine-API Mount object */
};
void mount_point_release (struct mount_point *m);

/* `-v SPEC` → MountPoint (moby daemon/volume/mounts linux parser, ParseMountRaw).  Error texts as
 * moby's ("invalid volume specification: '…'", "invalid mode: …").  Bind sources are not checked
 * here (a missing one is created at start, as Docker does).  Anonymous volumes have name "". */
int volspec_parse_bind (const char *spec, struct mount_point *out, berr_t *err);
/* The same with HostConfig.VolumeDriver: a volume spec then carries
 * VolumeOptions.DriverConfig.Name = driver and mount_point.driver (NULL or "": none). */
int volspec_parse_bind_driver (const char *spec, const char *driver, struct mount_point *out,
                               berr_t *err);
/* An Engine-API Mount object (from --mount) → MountPoint (moby ParseMountSpec); validates, and
 * a bind source must exist unless BindOptions.CreateMountpoint ("invalid mount config for type
 * \"bind\": bind source path does not exist: /nope"). */
int volspec_parse_mount_obj (const json_t *mount, struct mount_point *out, berr_t *err);
/* `--mount CSV` → Engine-API Mount object (docker/cli MountOpt.Set; error texts as the CLI's). */
int volspec_parse_mount_opt (const char *csv, json_t **mount, berr_t *err);
/* `--tmpfs /dst[:opts]` → destination and options string (Docker's HostConfig.Tmpfs map). */
int volspec_parse_tmpfs (const char *spec, char **dest, char **opts, berr_t *err);
/* TmpfsOptions (SizeBytes, Mode) + readonly → mount data "size=…,mode=…[,ro]" (moby
 * ConvertTmpfsOptions). */
char *volspec_tmpfs_data (int64_t size_bytes, unsigned mode, bool readonly);
/* The same from an Engine-API TmpfsOptions object (NULL: none), including its "Options" list
 * ([["exec"]], [["noexec"]]; anything else is an error). */
int volspec_tmpfs_options_data (const json_t *tmpfs_options, bool readonly, char **data,
                                berr_t *err);
/* The OCI options of a tmpfs mount as Docker builds them: noexec, nosuid, nodev, rprivate, then
 * the mount data's comma-separated options (NULL/"": none), later ones overriding earlier ones of
 * the same kind (moby's MergeTmpfsOptions: "exec" cancels "noexec", the last "size=" wins).
 * Unknown options are errors ("invalid tmpfs option [\"foo\"]"). */
int volspec_tmpfs_oci_options (const char *data, char ***options, berr_t *err);

#endif
