/* units.h — sizes and durations as Docker prints and parses them (docker/go-units). */
#ifndef BERTH_UNITS_H
#define BERTH_UNITS_H

#include "err.h"

/* A buffer this large holds the output of every formatter below. */
#define UNITS_BUFSZ 64

/* FromHumanSize: decimal units, "32k" = 32000, "1.5GB". Returns -1 and sets err on error
 * ("invalid size: '...'", "invalid suffix: '...'"). Negative sizes are errors; so are sizes that
 * do not fit an int64 (upstream silently returns a garbage value there). */
int units_from_human_size (const char *s, int64_t *out, berr_t *err);
/* RAMInBytes: binary units, "512m" = 536870912. */
int units_ram_in_bytes (const char *s, int64_t *out, berr_t *err);
/* HumanSize == HumanSizeWithPrecision(size, 4): "4.26MB", "0B", "1.024kB". Writes into buf. */
char *units_human_size (double size, char *buf, size_t buflen);
/* HumanSizeWithPrecision: "%.*g" then a decimal unit (B kB MB GB TB PB EB ZB YB). docker images
 * prints its SIZE column with precision 3. */
char *units_human_size_prec (double size, int precision, char *buf, size_t buflen);
/* BytesSize: binary units "1.5KiB". */
char *units_bytes_size (double size, char *buf, size_t buflen);
/* HumanDuration: "Less than a second", "About a minute", "5 minutes", "2 weeks", "3 years". */
char *units_human_duration (int64_t seconds, char *buf, size_t buflen);

/* RFC 3339 with nanoseconds as Go prints time.Time in JSON ("2024-01-02T03:04:05.123456789Z",
 * trailing zeros of the fraction dropped). ns since epoch, UTC. */
char *units_rfc3339_nano (int64_t ns, char *buf, size_t buflen);
/* Parse RFC 3339 (with optional fraction and Z or +hh:mm offset) into ns since epoch. Strict, as
 * Go's time.Time.UnmarshalJSON: "YYYY-MM-DDTHH:MM:SS[.fraction](Z|±hh:mm)", upper-case T and Z,
 * no leap second; fraction digits past the ninth are ignored. */
int units_parse_rfc3339 (const char *s, int64_t *ns, berr_t *err);

/* Go's time.ParseDuration: "300ms", "-1.5h", "2h45m", units ns us µs ms s m h; "0" alone.
 * Errors as Go's: "time: invalid duration \"x\"", "time: missing unit in duration \"1\"". */
int units_parse_duration (const char *s, int64_t *ns, berr_t *err);

#endif
