/* user.c — Docker's user strings ("", name, uid, name:group, uid:gid, …) resolved against the
 * container's own /etc/passwd and /etc/group, with the rules of runc's libcontainer/user (which
 * Docker uses): a numeric uid needs no passwd entry (gid 0 then), a name must exist, the
 * supplementary groups are the /etc/group entries listing the matched user (only when no group
 * is given), and --group-add names must exist while numbers are taken as they are.
 *
 * The files are read with openat2(RESOLVE_IN_ROOT): the rootfs belongs to the image, so a
 * symlinked /etc/passwd resolves inside it and can never make us read a host file.  Files that
 * cannot be opened, or are not regular files, count as absent, as in Docker. */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "container/spec_int.h"
#include "util/fs.h"
#include "util/json.h"
#include "util/util.h"

/* Docker caps user database files at 10 MiB (moby/sys/user maxUserFileBytes). */
#define USER_FILE_MAX (10u << 20)
#define ID_MAX 2147483647LL /* uids and gids are limited to int32 for 32-bit peers */

static const char err_range[] = "uids and gids must be in range 0-2147483647";

/* A user database file: NULL text when absent. */
struct user_file
{
  char *text;
  const char *name; /* "/etc/passwd" */
};

static int read_user_file (int rootfd, const char *path, struct user_file *f, berr_t *err)
{
  f->text = NULL;
  f->name = path;
  /* O_NONBLOCK: a FIFO planted at /etc/passwd must not hang the engine. */
  cleanup_close int fd = fs_open_in_root (rootfd, path, O_RDONLY | O_NONBLOCK | O_NOCTTY, 0);
  if (fd < 0)
    return 0;
  struct stat st;
  if (fstat (fd, &st) < 0 || !S_ISREG (st.st_mode))
    return 0;
  cleanup_berr berr_t e = BERR_INIT;
  if (fs_read_fd (fd, USER_FILE_MAX, &f->text, NULL, &e) < 0)
    {
      if (e.errnum)
        return berr_setk (err, BERR_INVALID, e.errnum, "read %s", path);
      return berr_setk (err, BERR_INVALID, 0, "read %s: file exceeds %u bytes", path,
                        USER_FILE_MAX);
    }
  return 0;
}

/* Go's strconv.Atoi: optional sign, decimal digits, nothing else.  1: a number (*v set);
 * 0: not a number; -1: a number out of the int64 range. */
static int go_atoi (const char *s, size_t len, long long *v)
{
  size_t i = 0;
  bool neg = false;
  if (len > 0 && (s[0] == '+' || s[0] == '-'))
    {
      neg = s[0] == '-';
      i++;
    }
  if (i == len)
    return 0;
  unsigned long long acc = 0;
  bool overflow = false;
  for (; i < len; i++)
    {
      if (s[i] < '0' || s[i] > '9')
        return 0;
      unsigned d = (unsigned)(s[i] - '0');
      if (acc > (ULLONG_MAX - d) / 10)
        overflow = true;
      else
        acc = acc * 10 + d;
    }
  if (overflow || acc > (unsigned long long)LLONG_MAX + (neg ? 1 : 0))
    {
      *v = neg ? LLONG_MIN : LLONG_MAX;
      return -1;
    }
  *v = neg ? (long long)(0 - acc) : (long long)acc;
  return 1;
}

/* A field of a database line as a number; conversion errors give 0, as in Docker's parser
 * (misbehaving files are tolerated). */
static long long field_num (const char *s, size_t len)
{
  long long v = 0;
  if (go_atoi (s, len, &v) == 0)
    return 0;
  return v;
}

/* Split a trimmed line on ':' into at most n fields (extra fields are ignored, missing ones
 * stay empty). */
struct field
{
  const char *p;
  size_t len;
};

static void split_fields (const char *line, size_t len, struct field *f, size_t n)
{
  for (size_t i = 0; i < n; i++)
    f[i] = (struct field){ "", 0 };
  size_t k = 0;
  const char *start = line;
  for (size_t i = 0; i <= len && k < n; i++)
    if (i == len || line[i] == ':')
      {
        f[k].p = start;
        f[k].len = (size_t)(line + i - start);
        k++;
        start = line + i + 1;
      }
}

static bool field_eq (const struct field *f, const char *s)
{
  return strlen (s) == f->len && memcmp (f->p, s, f->len) == 0;
}

/* Iterate the trimmed, non-empty lines of text; skip_comments for /etc/group. */
struct line_iter
{
  const char *cur;
  bool skip_comments;
};

static bool next_line (struct line_iter *it, const char **line, size_t *len)
{
  while (it->cur && *it->cur)
    {
      const char *s = it->cur;
      const char *nl = strchr (s, '\n');
      const char *end = nl ? nl : s + strlen (s);
      it->cur = nl ? nl + 1 : end;
      while (s < end && isspace ((unsigned char)*s))
        s++;
      while (end > s && isspace ((unsigned char)end[-1]))
        end--;
      if (s == end || (it->skip_comments && *s == '#'))
        continue;
      *line = s;
      *len = (size_t)(end - s);
      return true;
    }
  return false;
}

/* Is name in the comma-separated member list of a group line? */
static bool list_has (const struct field *list, const char *name)
{
  if (list->len == 0)
    return false;
  const char *p = list->p, *end = list->p + list->len;
  size_t nlen = strlen (name);
  while (p <= end)
    {
      const char *c = memchr (p, ',', (size_t)(end - p));
      const char *e = c ? c : end;
      if ((size_t)(e - p) == nlen && memcmp (p, name, nlen) == 0)
        return true;
      if (!c)
        break;
      p = c + 1;
    }
  return false;
}

/* A user or group argument: a name, or a number (always taken as an id). */
struct id_arg
{
  const char *s;
  bool given;
  bool numeric;
  long long id;
};

static int parse_id_arg (const char *s, struct id_arg *a, berr_t *err)
{
  a->s = s;
  a->given = s[0] != '\0';
  a->numeric = false;
  a->id = 0;
  if (!a->given)
    return 0;
  int r = go_atoi (s, strlen (s), &a->id);
  if (r == 0)
    return 0;
  a->numeric = true;
  if (r < 0 || a->id < 0 || a->id > ID_MAX)
    return berr_setk (err, BERR_INVALID, 0, "%s", err_range);
  return 0;
}

static void push_gid (json_t *arr, long long gid)
{
  json_array_append_new (arr, json_integer (gid));
}

/* --group-add: names must exist in /etc/group, numbers are used as given; duplicates are
 * dropped (Docker keeps a set). */
static int add_groups (const struct user_file *group, char *const *group_add, json_t *gids,
                       berr_t *err)
{
  json_t *seen = json_array ();
  for (size_t i = 0; group_add && group_add[i]; i++)
    {
      struct id_arg a;
      if (parse_id_arg (group_add[i], &a, err) < 0)
        {
          json_decref (seen);
          return -1;
        }
      bool found = false;
      long long gid = 0;
      struct line_iter it = { group->text, true };
      const char *line;
      size_t len;
      while (!found && next_line (&it, &line, &len))
        {
          struct field f[4];
          split_fields (line, len, f, 4);
          long long g = field_num (f[2].p, f[2].len);
          if (a.numeric ? g == a.id : field_eq (&f[0], a.s))
            {
              found = true;
              gid = g;
            }
        }
      if (found && (gid < 0 || gid > ID_MAX))
        {
          json_decref (seen);
          return berr_setk (err, BERR_INVALID, 0, "%s", err_range);
        }
      if (!found)
        {
          if (!a.numeric)
            {
              json_decref (seen);
              return berr_setk (err, BERR_INVALID, 0,
                                "unable to find group %s: no matching entries in group file", a.s);
            }
          gid = a.id;
        }
      bool dup = false;
      for (size_t k = 0; k < json_array_size (seen); k++)
        if (json_integer_value (json_array_get (seen, k)) == gid)
          dup = true;
      if (!dup)
        push_gid (seen, gid);
    }
  json_array_extend (gids, seen);
  json_decref (seen);
  return 0;
}

int spec_resolve_user_at (int rootfd, const char *user, char *const *group_add, json_t **user_obj,
                          berr_t *err)
{
  if (user == NULL)
    user = "";
  /* "user:group"; anything after a second ':' is ignored, as Docker's parser does. */
  cleanup_free char *spec = xstrdup (user);
  char *colon = strchr (spec, ':');
  const char *group_s = "";
  if (colon)
    {
      *colon = '\0';
      group_s = colon + 1;
      char *c2 = strchr (colon + 1, ':');
      if (c2)
        *c2 = '\0';
    }
  struct id_arg ua, ga;
  if (parse_id_arg (spec, &ua, err) < 0 || parse_id_arg (group_s, &ga, err) < 0)
    return -1;

  struct user_file passwd = { 0 }, group = { 0 };
  if (read_user_file (rootfd, "/etc/passwd", &passwd, err) < 0)
    return berr_wrap (err, "unable to find user %s", ua.given ? ua.s : "0");
  cleanup_free char *passwd_text = passwd.text;
  if (read_user_file (rootfd, "/etc/group", &group, err) < 0)
    return berr_wrap (err, "unable to find groups for spec %s", user);
  cleanup_free char *group_text = group.text;

  long long uid = 0, gid = 0;
  cleanup_free char *matched = NULL;
  /* An empty user means uid 0: its passwd entry, if any, gives the gid and the groups. */
  struct line_iter it = { passwd.text, false };
  const char *line;
  size_t len;
  while (matched == NULL && next_line (&it, &line, &len))
    {
      struct field f[4];
      split_fields (line, len, f, 4);
      long long u = field_num (f[2].p, f[2].len);
      bool hit;
      if (!ua.given)
        hit = u == 0;
      else if (ua.numeric)
        hit = u == ua.id;
      else
        hit = field_eq (&f[0], ua.s);
      if (hit)
        {
          matched = xstrndup (f[0].p, f[0].len);
          uid = u;
          gid = field_num (f[3].p, f[3].len);
        }
    }
  if (matched == NULL && ua.given)
    {
      if (!ua.numeric)
        return berr_setk (err, BERR_INVALID, 0,
                          "unable to find user %s: no matching entries in passwd file", ua.s);
      uid = ua.id;
    }

  json_t *sgids = json_array ();
  if (ga.given || matched)
    {
      bool found = false;
      struct line_iter git = { group.text, true };
      while (next_line (&git, &line, &len))
        {
          struct field f[4];
          split_fields (line, len, f, 4);
          long long g = field_num (f[2].p, f[2].len);
          if (!ga.given)
            {
              if (list_has (&f[3], matched))
                push_gid (sgids, g);
            }
          else if (ga.numeric ? g == ga.id : field_eq (&f[0], ga.s))
            {
              gid = g; /* first match wins */
              found = true;
              break;
            }
        }
      if (ga.given && !found)
        {
          if (!ga.numeric)
            {
              json_decref (sgids);
              return berr_setk (err, BERR_INVALID, 0,
                                "unable to find group %s: no matching entries in group file", ga.s);
            }
          gid = ga.id;
        }
    }

  /* Docker lists the primary gid first, then the user's groups, then --group-add. */
  json_t *gids = json_array ();
  push_gid (gids, gid);
  json_array_extend (gids, sgids);
  json_decref (sgids);
  if (add_groups (&group, group_add, gids, err) < 0)
    {
      json_decref (gids);
      return -1;
    }
  *user_obj = json_pack ("{s:I, s:I, s:o}", "uid", (json_int_t)uid, "gid", (json_int_t)gid,
                         "additionalGids", gids);
  return 0;
}

int spec_resolve_user (const char *rootfs, const char *user, char *const *group_add,
                       json_t **user_obj, berr_t *err)
{
  cleanup_close int rootfd = open (rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (rootfd < 0)
    return berr_set (err, errno, "open rootfs %s", rootfs);
  return spec_resolve_user_at (rootfd, user, group_add, user_obj, err);
}
