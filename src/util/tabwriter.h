/* tabwriter.h — Go's text/tabwriter as docker/cli uses it (padding with spaces, no flags).
 *
 * Cells end at '\t'; '\n' ends a line ('\f' too, and flushes). A column is a run of consecutive
 * lines that all have a tab-terminated cell at that index; it is padded with spaces to its widest
 * cell + padding, at least minwidth. The last cell of a line is not padded. Widths are display
 * columns as docker's fork counts them with go-runewidth (East Asian wide characters and emoji 2,
 * combining marks 0), not bytes. tabwidth only matters for tab padding, which Docker does not
 * use; it is kept for Go's signature. Docker's tables: tabwriter_new (10, 1, 3). */
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
