/* include/sluice/driver.h
 * The database driver interface. A server is one file under src/db/ that
 * fills a struct driver; drivers know nothing of input formats.
 */
#ifndef SLUICE_DRIVER_H
#define SLUICE_DRIVER_H

#include <stdbool.h>
#include <stddef.h>

#include "sluice/batch.h"
#include "sluice/error.h"
#include "sluice/sql.h"

/* A driver's connection; each driver defines the struct. */
struct conn;

struct column_desc {
	char *name;
	char *type;        /* the server's type name, lower case */
	bool nullable;
	bool has_default;
};

struct table_desc {
	bool exists;
	int ncols;
	struct column_desc *cols;
};

struct driver {
	const char *name;
	const struct dialect *dialect;
	enum write_method default_method;
	/* Whether this driver can write with method m. */
	bool (*supports)(enum write_method m);
	/* Connect to url; the caller owns *out and releases it with close. On
	 * failure err says why, with any password scrubbed. */
	bool (*connect)(const char *url, struct conn **out, struct sl_error *err);
	void (*close)(struct conn *c);
	/* "PostgreSQL 15.18" or the like, into out. */
	bool (*server_version)(struct conn *c, char *out, size_t n, struct sl_error *err);
	/* Run one statement that returns no rows. */
	bool (*exec)(struct conn *c, const char *sql, struct sl_error *err);
	bool (*begin)(struct conn *c, struct sl_error *err);
	bool (*commit)(struct conn *c, struct sl_error *err);
	bool (*rollback)(struct conn *c, struct sl_error *err);
	/* Look up the table's columns; out->exists is false when there is none. */
	bool (*describe_table)(struct conn *c, const struct write_spec *spec, struct table_desc *out,
			       struct sl_error *err);
	/* Write rows [first, first+n) of b inside the caller's transaction. On a
	 * refused value err->kind is SL_ERR_DATA; on a broken connection
	 * SL_ERR_CONNECTION. */
	bool (*write_batch)(struct conn *c, const struct write_spec *spec, const struct batch *b,
			    size_t first, size_t n, struct sl_error *err);
	/* sluice update: for rows [first, first+n) of b, set the spec's set
	 * columns where its key columns match, inside the caller's transaction.
	 * matched[i] tells whether row first+i found a row to update. Errors as
	 * for write_batch. NULL when the server has no update support. */
	bool (*update_batch)(struct conn *c, const struct write_spec *spec, const struct batch *b,
			     size_t first, size_t n, bool *matched, struct sl_error *err);
	/* When commit failed with SL_ERR_CONNECTION its outcome may be unknown.
	 * commit_token returns false when the commit was never sent (the
	 * transaction died with the connection), else copies an identifier of
	 * the transaction into out and returns true; commit_status then asks a
	 * fresh connection whether it committed (false with err when it cannot
	 * tell). NULL when the server offers no way to tell. */
	bool (*commit_token)(struct conn *c, char *out, size_t n);
	bool (*commit_status)(struct conn *fresh, const char *token, bool *committed,
			      struct sl_error *err);
	/* Cheap check that the connection still works, before reuse. */
	bool (*healthy)(struct conn *c);
};

extern const struct driver pg_driver;
extern const struct driver mysql_driver;

/* The driver for a URL's scheme, or NULL. */
const struct driver *driver_for_url(const char *url);
const char *method_name(enum write_method m);
void table_desc_free(struct table_desc *t);

#endif
