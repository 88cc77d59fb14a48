/* tabwriter.c — Go's text/tabwriter (elastic tabstops) as docker/cli configures it: padding
 * with spaces, no flags.
 *
 * Text is split into cells at '\t' (and '\v'); '\n' ends a line, '\f' ends a line and flushes.
 * A column is a block of consecutive lines that all have a tab-terminated cell at that index;
 * its width is the widest cell + padding, at least minwidth. The last cell of a line is never
 * part of a column, so it is printed without padding. As in Go, a line with a single cell
 * cannot belong to any column and lets everything before it be formatted at once.
 * Cell widths are display widths as docker's fork (go-runewidth) counts them: most runes 1,
 * East Asian wide and emoji 2, combining marks and controls 0. */
#include "tabwriter.h"

#include <stdlib.h>
#include <string.h>

#include "template_int.h"

struct tw_cell
{
  size_t size;  /* bytes */
  size_t width; /* display columns */
  bool htab;    /* terminated by '\t' rather than '\v' */
};

struct tw_line
{
  struct tw_cell *cells;
  size_t n, cap;
};

struct tabwriter
{
  int minwidth, tabwidth, padding;
  struct sbuf text;      /* cell contents without the tabs and newlines */
  struct tw_cell cell;   /* the cell being filled */
  struct tw_line *lines; /* the last one is the line being filled */
  size_t nlines, lines_cap;
  size_t *widths; /* column widths of the block being formatted */
  size_t nwidths;
  struct sbuf out; /* formatted output not yet handed out */
};

static const struct
{
  unsigned lo, hi;
} zero_width[] = {
  { 0x0300, 0x036f },   { 0x0483, 0x0489 }, { 0x0591, 0x05bd }, { 0x0610, 0x061a },
  { 0x064b, 0x065f },   { 0x0e31, 0x0e31 }, { 0x0e34, 0x0e3a }, { 0x1ab0, 0x1aff },
  { 0x1dc0, 0x1dff },   { 0x200b, 0x200f }, { 0x2028, 0x202e }, { 0x2060, 0x2064 },
  { 0x20d0, 0x20ff },   { 0xfe00, 0xfe0f }, { 0xfe20, 0xfe2f }, { 0xfeff, 0xfeff },
  { 0xe0100, 0xe01ef },
};

static const struct
{
  unsigned lo, hi;
} wide[] = {
  { 0x1100, 0x115f },   { 0x231a, 0x231b },   { 0x2329, 0x232a },   { 0x23e9, 0x23ec },
  { 0x23f0, 0x23f0 },   { 0x23f3, 0x23f3 },   { 0x25fd, 0x25fe },   { 0x2614, 0x2615 },
  { 0x2648, 0x2653 },   { 0x267f, 0x267f },   { 0x2693, 0x2693 },   { 0x26a1, 0x26a1 },
  { 0x26aa, 0x26ab },   { 0x26bd, 0x26be },   { 0x26c4, 0x26c5 },   { 0x26ce, 0x26ce },
  { 0x26d4, 0x26d4 },   { 0x26ea, 0x26ea },   { 0x26f2, 0x26f3 },   { 0x26f5, 0x26f5 },
  { 0x26fa, 0x26fa },   { 0x26fd, 0x26fd },   { 0x2705, 0x2705 },   { 0x270a, 0x270b },
  { 0x2728, 0x2728 },   { 0x274c, 0x274c },   { 0x274e, 0x274e },   { 0x2753, 0x2755 },
  { 0x2757, 0x2757 },   { 0x2795, 0x2797 },   { 0x27b0, 0x27b0 },   { 0x27bf, 0x27bf },
  { 0x2b1b, 0x2b1c },   { 0x2b50, 0x2b50 },   { 0x2b55, 0x2b55 },   { 0x2e80, 0x303e },
  { 0x3041, 0x33ff },   { 0x3400, 0x4dbf },   { 0x4e00, 0x9fff },   { 0xa000, 0xa4cf },
  { 0xa960, 0xa97f },   { 0xac00, 0xd7a3 },   { 0xf900, 0xfaff },   { 0xfe10, 0xfe19 },
  { 0xfe30, 0xfe6f },   { 0xff00, 0xff60 },   { 0xffe0, 0xffe6 },   { 0x16fe0, 0x16fe4 },
  { 0x17000, 0x18aff }, { 0x1b000, 0x1b2ff }, { 0x1f004, 0x1f004 }, { 0x1f0cf, 0x1f0cf },
  { 0x1f18e, 0x1f18e }, { 0x1f191, 0x1f19a }, { 0x1f200, 0x1f202 }, { 0x1f210, 0x1f23b },
  { 0x1f240, 0x1f248 }, { 0x1f250, 0x1f251 }, { 0x1f260, 0x1f265 }, { 0x1f300, 0x1f64f },
  { 0x1f680, 0x1f6ff }, { 0x1f7e0, 0x1f7eb }, { 0x1f90c, 0x1f9ff }, { 0x1fa70, 0x1faff },
  { 0x20000, 0x2fffd }, { 0x30000, 0x3fffd },
};

static size_t rune_width (unsigned r)
{
  if (r < 0x20 || (r >= 0x7f && r < 0xa0) || r == 0xad)
    return 0;
  if (r < 0x300)
    return 1;
  for (size_t i = 0; i < ARRAY_SIZE (zero_width); i++)
    if (r >= zero_width[i].lo && r <= zero_width[i].hi)
      return 0;
  for (size_t i = 0; i < ARRAY_SIZE (wide); i++)
    if (r >= wide[i].lo && r <= wide[i].hi)
      return 2;
  return 1;
}

static size_t text_width (const char *s, size_t len)
{
  size_t w = 0;
  for (size_t i = 0; i < len;)
    {
      unsigned r;
      i += (size_t)tmpl_utf8_decode (s + i, len - i, &r);
      w += rune_width (r);
    }
  return w;
}

static void add_line (struct tabwriter *tw)
{
  if (tw->nlines == tw->lines_cap)
    {
      tw->lines_cap = tw->lines_cap ? tw->lines_cap * 2 : 16;
      tw->lines = xrealloc (tw->lines, tw->lines_cap * sizeof *tw->lines);
    }
  tw->lines[tw->nlines++] = (struct tw_line){ NULL, 0, 0 };
}

static void reset (struct tabwriter *tw)
{
  for (size_t i = 0; i < tw->nlines; i++)
    free (tw->lines[i].cells);
  tw->nlines = 0;
  sbuf_reset (&tw->text);
  tw->cell = (struct tw_cell){ 0, 0, false };
  tw->nwidths = 0;
  add_line (tw);
}

struct tabwriter *tabwriter_new (int minwidth, int tabwidth, int padding)
{
  struct tabwriter *tw = xzalloc (sizeof *tw);
  tw->minwidth = minwidth > 0 ? minwidth : 0;
  tw->tabwidth = tabwidth > 0 ? tabwidth : 0;
  tw->padding = padding > 0 ? padding : 0;
  sbuf_init (&tw->text);
  sbuf_init (&tw->out);
  reset (tw);
  return tw;
}

/* End the current cell; returns the number of cells in its line. */
static size_t terminate_cell (struct tabwriter *tw, bool htab)
{
  struct tw_line *l = &tw->lines[tw->nlines - 1];
  const char *start = (tw->text.buf ? tw->text.buf : "") + tw->text.len - tw->cell.size;
  tw->cell.width = text_width (start, tw->cell.size);
  tw->cell.htab = htab;
  if (l->n == l->cap)
    {
      l->cap = l->cap ? l->cap * 2 : 8;
      l->cells = xrealloc (l->cells, l->cap * sizeof *l->cells);
    }
  l->cells[l->n++] = tw->cell;
  tw->cell = (struct tw_cell){ 0, 0, false };
  return l->n;
}

static void write_padding (struct tabwriter *tw, size_t textw, size_t cellw)
{
  for (size_t i = textw; i < cellw; i++)
    sbuf_addc (&tw->out, ' ');
}

/* Print lines [line0, line1) with the current column widths; pos is where line0's text starts. */
static size_t write_lines (struct tabwriter *tw, size_t pos, size_t line0, size_t line1)
{
  for (size_t i = line0; i < line1; i++)
    {
      struct tw_line *l = &tw->lines[i];
      for (size_t j = 0; j < l->n; j++)
        {
          struct tw_cell *c = &l->cells[j];
          sbuf_add (&tw->out, tw->text.buf + pos, c->size);
          pos += c->size;
          if (j < tw->nwidths)
            write_padding (tw, c->width, tw->widths[j]);
        }
      if (i + 1 == tw->nlines)
        {
          /* the last line has no newline: print what is left of the unfinished cell */
          sbuf_add (&tw->out, tw->text.buf + pos, tw->cell.size);
          pos += tw->cell.size;
        }
      else
        sbuf_addc (&tw->out, '\n');
    }
  return pos;
}

/* Go's format(): find the block of lines that have a cell in the next column, fix that
 * column's width, and recurse for the columns to its right within the block. */
static size_t format (struct tabwriter *tw, size_t pos, size_t line0, size_t line1)
{
  size_t column = tw->nwidths;
  for (size_t this = line0; this < line1; this ++)
    {
      if (column + 1 >= tw->lines[this].n)
        continue;
      pos = write_lines (tw, pos, line0, this);
      line0 = this;

      size_t width = (size_t)tw->minwidth;
      for (; this < line1; this ++)
        {
          struct tw_line *l = &tw->lines[this];
          if (column + 1 >= l->n)
            break;
          size_t w = l->cells[column].width + (size_t)tw->padding;
          if (w > width)
            width = w;
        }

      tw->widths = xrealloc (tw->widths, (tw->nwidths + 1) * sizeof *tw->widths);
      tw->widths[tw->nwidths++] = width;
      pos = format (tw, pos, line0, this);
      tw->nwidths--;
      line0 = this;
    }
  return write_lines (tw, pos, line0, line1);
}

static void flush_internal (struct tabwriter *tw)
{
  if (tw->cell.size > 0)
    terminate_cell (tw, false);
  if (tw->text.buf == NULL)
    sbuf_add (&tw->text, "", 0);
  format (tw, 0, 0, tw->nlines);
  reset (tw);
}

void tabwriter_write (struct tabwriter *tw, const char *text, size_t len)
{
  for (size_t i = 0; i < len; i++)
    {
      char ch = text[i];
      if (ch != '\t' && ch != '\v' && ch != '\n' && ch != '\f')
        {
          sbuf_addc (&tw->text, ch);
          tw->cell.size++;
          continue;
        }
      size_t ncells = terminate_cell (tw, ch == '\t');
      if (ch == '\n' || ch == '\f')
        {
          add_line (tw);
          /* A one-cell line ends every column block: nothing above it can change. */
          if (ch == '\f' || ncells == 1)
            flush_internal (tw);
        }
    }
}

void tabwriter_flush (struct tabwriter *tw, struct sbuf *out)
{
  flush_internal (tw);
  sbuf_add (out, tw->out.buf ? tw->out.buf : "", tw->out.len);
  sbuf_reset (&tw->out);
}

void tabwriter_free (struct tabwriter *tw)
{
  if (tw == NULL)
    return;
  for (size_t i = 0; i < tw->nlines; i++)
    free (tw->lines[i].cells);
  free (tw->lines);
  free (tw->widths);
  sbuf_release (&tw->text);
  sbuf_release (&tw->out);
  free (tw);
}
