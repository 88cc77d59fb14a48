/* store_push.c — read-only queries a push needs that store.h does not offer. */
#include "store.h"
#include "store_int.h"

#include <string.h>

#include "registry/push_int.h"

int store_image_manifest (struct store *s, const char *id, char out[DIGEST_STR_LEN], berr_t *err)
{
  cleanup_stmt sqlite3_stmt *st = db_prep (s, "SELECT manifest FROM images WHERE id = ?", err);
  if (st == NULL)
    return -1;
  bind_text (st, 1, id);
  int r = sqlite3_step (st);
  if (r == SQLITE_DONE)
    return berr_setk (err, BERR_NOT_FOUND, 0, "No such image: %s", id);
  if (r != SQLITE_ROW)
    return db_err (s, err, "image manifest");
  const char *m = col_text (st, 0);
  if (m == NULL || !digest_is_valid (m))
    return 1;
  memcpy (out, m, strlen (m) + 1);
  return 0;
}
