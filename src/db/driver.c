/* src/db/driver.c
 * Choosing a driver by URL, and helpers every driver shares.
 */
#include "sluice/driver.h"

#include <stdlib.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "sluice/log.h"
#include "sluice/url.h"

/* The registry: every server sluice speaks, by the URL schemes that name it
 * (the first is the one messages show), with the URL form --help shows. A
 * new server is one line here. */
static const struct driver_entry {
	const char *scheme;
	bool slashes; /* written scheme:// (else scheme:) */
	const struct driver *drv;
	const char *help; /* the URL's form; NULL: an alias of the line above */
	const char *note; /* a line under it in --help, or NULL */
} drivers[] = {
	{"postgresql", true, &pg_driver, "postgresql://user@host:port/db",
	 "any libpq URI; PG* variables and ~/.pgpass apply"},
	{"postgres", true, &pg_driver, NULL, NULL},
	{"mysql", true, &mysql_driver,
	 "mysql://user:pass@host:port/db?socket=/path&ssl-mode=REQUIRED", NULL},
	{"mariadb", true, &mysql_driver, NULL, NULL},
	{"sqlite", false, &sqlite_driver, "sqlite:///absolute/path.db or sqlite:relative/path.db",
	 "a file; one writer"},
};
#define NDRIVERS (sizeof drivers / sizeof drivers[0])

/* The entry whose scheme url starts with (any case), or NULL. */
static const struct driver_entry *entry_for(const char *url)
{
	for (size_t i = 0; i < NDRIVERS; i++) {
		size_t n = strlen(drivers[i].scheme);
		if (!strncasecmp(url, drivers[i].scheme, n) && url[n] == ':' &&
		    (!drivers[i].slashes || !strncmp(url + n + 1, "//", 2)))
			return &drivers[i];
	}
	return NULL;
}

const struct driver *driver_for_url(const char *url)
{
	const struct driver_entry *e = url ? entry_for(url) : NULL;
	return e ? e->drv : NULL;
}

int driver_schemes(const char *const **out, size_t max)
{
	static const char *names[NDRIVERS];
	size_t n = 0;
	for (size_t i = 0; i < NDRIVERS && n < max; i++)
		names[n++] = drivers[i].scheme;
	*out = names;
	return (int)n;
}

/* Append text to out (size n, used *at) as far as it fits. */
static void put(char *out, size_t n, size_t *at, const char *text)
{
	int w = snprintf(out + *at, n - *at, "%s", text);
	if (w > 0)
		*at += (size_t)w < n - *at ? (size_t)w : n - *at - 1;
}

void driver_url_forms(char *out, size_t n)
{
	size_t at = 0, k = 0, total = 0;
	out[0] = '\0';
	for (size_t i = 0; i < NDRIVERS; i++)
		total += drivers[i].help != NULL;
	for (size_t i = 0; i < NDRIVERS; i++) {
		if (!drivers[i].help)
			continue;
		put(out, n, &at, k == 0 ? "" : k + 1 == total ? " or " : ", ");
		put(out, n, &at, drivers[i].scheme);
		put(out, n, &at, drivers[i].slashes ? "://" : ":");
		k++;
	}
}

bool driver_unknown_url(const char *url, struct sl_error *err)
{
	char red[512], forms[256];
	url_redact(url, red, sizeof red);
	driver_url_forms(forms, sizeof forms);
	return sl_error_set(err, SL_ERR_USAGE, "%s: not a %s URL", red, forms);
}

void driver_url_help(char *out, size_t n)
{
	size_t at = 0;
	out[0] = '\0';
	for (size_t i = 0; i < NDRIVERS; i++) {
		if (!drivers[i].help)
			continue;
		/* the form on its line, then the note and the aliases indented
		 * below it, so each line fits 80 columns */
		put(out, n, &at, "  ");
		put(out, n, &at, drivers[i].help);
		put(out, n, &at, "\n");
		const char *sep = "      ";
		if (drivers[i].note) {
			put(out, n, &at, sep);
			put(out, n, &at, drivers[i].note);
			sep = "; ";
		}
		for (size_t j = i + 1; j < NDRIVERS && !drivers[j].help; j++) {
			put(out, n, &at, sep);
			put(out, n, &at, j == i + 1 ? "also " : "");
			put(out, n, &at, drivers[j].scheme);
			put(out, n, &at, drivers[j].slashes ? "://" : ":");
			sep = ", ";
		}
		if (strcmp(sep, "      "))
			put(out, n, &at, "\n");
	}
}

const char *method_name(enum write_method m)
{
	switch (m) {
	case METHOD_COPY:
		return "copy";
	case METHOD_INSERT:
		return "insert";
	case METHOD_INFILE:
		return "infile";
	default:
		return "default";
	}
}

/* v as a long long; false when it is not one or does not fit. */
static bool to_ll(const char *v, long long *out)
{
	char *end;
	errno = 0;
	*out = strtoll(v, &end, 10);
	return !errno && end != v && !*end;
}

bool driver_key_bounds(struct conn *c, const struct write_spec *spec, const char *key,
		       unsigned long long *rows, bool *empty, long long *lo, long long *hi,
		       struct sl_error *err)
{
	const struct driver *drv = conn_driver(c);
	const struct dialect *d = drv->dialect;
	struct buf q;
	buf_init(&q, 0);
	char *v[4] = {NULL, NULL, NULL, NULL};
	/* MIN, MAX, whether a key is NULL (SQLite lets a PRIMARY KEY other than
	 * INTEGER PRIMARY KEY hold NULLs, which no range holds; on a NOT NULL
	 * key the servers answer from the index or the column's definition),
	 * and the row count when asked */
	bool ok = buf_puts(&q, "SELECT MIN(") && d->quote_ident(&q, key) &&
		  buf_puts(&q, "), MAX(") && d->quote_ident(&q, key) &&
		  buf_puts(&q, "), (SELECT 1 FROM ") && sql_read_table(d, &q, spec) &&
		  buf_puts(&q, " WHERE ") && d->quote_ident(&q, key) &&
		  buf_puts(&q, " IS NULL LIMIT 1)") &&
		  buf_puts(&q, rows ? ", COUNT(*) FROM " : " FROM ") && sql_read_table(d, &q, spec);
	if (!ok)
		sl_error_set(err, SL_ERR_INTERNAL, "out of memory");
	else
		ok = drv->conn.query_row(c, q.data, v, rows ? 4 : 3, err);
	if (ok && rows)
		*rows = v[3] ? strtoull(v[3], NULL, 10) : 0;
	buf_free(&q);
	*empty = ok && (!v[0] || !v[1]);
	if (ok && !*empty && (v[2] || !to_ll(v[0], lo) || !to_ll(v[1], hi))) {
		/* no ranges to cut: one reader takes every row, each judged */
		log_info("%s.%s: the key holds %s: the table is read whole, not in key ranges",
			 spec->table, key, v[2] ? "NULLs" : "values that are not 64-bit integers");
		*empty = true;
	}
	for (int i = 0; i < 4; i++)
		free(v[i]);
	return ok;
}

const struct driver *conn_driver(const struct conn *c)
{
	/* every driver's struct conn starts with its driver (driver.h) */
	return *(const struct driver *const *)(const void *)c;
}
