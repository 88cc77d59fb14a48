/* regprogress.h — Docker's pull/push progress output, driven by reg_progress events.
 *
 * On a terminal: one line per layer, redrawn in place ("a1b2c3d4e5f6: Downloading [====>   ]
 * 12.3MB/45.6MB"), as the docker CLI's jsonmessage renderer does. Otherwise: a line per state
 * change, without the byte counts of Downloading/Extracting/Pushing (as docker prints into a
 * pipe). quiet prints nothing. Whole-image messages (RP_MESSAGE) are printed as lines. */
#ifndef BERTH_REGPROGRESS_H
#define BERTH_REGPROGRESS_H

#include <stdbool.h>
#include <stdio.h>

#include "registry/progress.h"

struct regprog;
struct regprog *regprog_new (FILE *out, bool tty, bool quiet);
/* A reg_progress_fn: pass the regprog as the cookie. */
void regprog_event (void *cookie, const struct reg_progress *p);
/* Leave the cursor below the drawn lines; then free. */
void regprog_free (struct regprog *rp);

#endif
