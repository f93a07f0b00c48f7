/* src/db/driver.c
 * Choosing a driver by URL, and helpers every driver shares.
 */
#include "sluice/driver.h"

#include <stdlib.h>
#include <errno.h>
#include <string.h>

#include "sluice/url.h"

const struct driver *driver_for_url(const char *url)
{
	switch (url_kind(url)) {
	case URL_POSTGRES:
		return &pg_driver;
	case URL_MYSQL:
		return &mysql_driver;
	default:
		return NULL;
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

bool driver_key_bounds(const struct driver *drv, struct conn *c, const struct write_spec *spec,
		       const char *key, unsigned long long *rows, bool *empty, long long *lo,
		       long long *hi, struct sl_error *err)
{
	const struct dialect *d = drv->dialect;
	struct buf q;
	buf_init(&q, 0);
	char *v[3] = {NULL, NULL, NULL};
	bool ok = buf_puts(&q, "SELECT MIN(") && d->quote_ident(&q, key) &&
		  buf_puts(&q, "), MAX(") && d->quote_ident(&q, key) &&
		  buf_puts(&q, rows ? "), COUNT(*) FROM " : ") FROM ") &&
		  sql_read_table(d, &q, spec);
	if (!ok)
		sl_error_set(err, SL_ERR_INTERNAL, "out of memory");
	else
		ok = drv->query_row(c, q.data, v, rows ? 3 : 2, err);
	if (ok && rows)
		*rows = v[2] ? strtoull(v[2], NULL, 10) : 0;
	buf_free(&q);
	*empty = ok && (!v[0] || !v[1]);
	if (ok && !*empty && (!to_ll(v[0], lo) || !to_ll(v[1], hi)))
		ok = sl_error_set(err, SL_ERR_USAGE, "%s.%s: key values %s..%s out of range",
				  spec->table, key, v[0], v[1]);
	free(v[0]);
	free(v[1]);
	free(v[2]);
	return ok;
}
