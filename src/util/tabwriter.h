/* tabwriter.h — Go's text/tabwriter as Docker uses it: cells end at '\t', columns padded with
 * spaces to the widest cell + padding, at least minwidth; the last cell of a line is not padded. */
#ifndef BERTH_TABWRITER_H
#define BERTH_TABWRITER_H

#include "util.h"

struct tabwriter;
struct tabwriter *tabwriter_new (int minwidth, int tabwidth, int padding);
void tabwriter_write (struct tabwriter *tw, const char *text, size_t len);
/* Align everything written so far and append it to out. */
void tabwriter_flush (struct tabwriter *tw, struct sbuf *out);
void tabwriter_free (struct tabwriter *tw);

#endif
