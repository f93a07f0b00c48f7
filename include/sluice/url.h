/* include/sluice/url.h
 * Connection URLs: which server they name, their parts, and the redacted form
 * that is the only one ever printed.
 */
#ifndef SLUICE_URL_H
#define SLUICE_URL_H

#include <stdbool.h>
#include <stddef.h>

#include "sluice/error.h"

enum url_kind { URL_UNKNOWN = 0, URL_POSTGRES, URL_MYSQL, URL_SQLITE };

/* The server kind a URL names by its scheme. */
enum url_kind url_kind(const char *url);

/* Copy url into out with any password (userinfo or password= parameter)
 * replaced by "***". Always NUL-terminates out. */
void url_redact(const char *url, char *out, size_t outsz);

/* Replace every occurrence of url's password (as written and decoded) in
 * msg with "***", so client-library messages cannot leak it. */
void url_scrub(char *msg, const char *url);

#define URL_MAX_PARAMS 16
#define URL_MAX_HOSTS 16

/* A URL split into percent-decoded parts; every string is owned by the struct. */
struct url_parts {
	char *scheme;
	char *user;	/* NULL when absent */
	char *password; /* NULL when absent */
	char *host;	/* the first host (hosts[0]), NULL when absent */
	int port;	/* the first port (ports[0]), 0 when absent */
	int nhosts;	/* h1:p1,h2:p2,...: every host, at least one entry */
	char *hosts[URL_MAX_HOSTS];
	int ports[URL_MAX_HOSTS];
	char *database; /* NULL when absent */
	int nparams;
	char *param_names[URL_MAX_PARAMS];
	char *param_values[URL_MAX_PARAMS];
};

/* Split url; false with err (kind SL_ERR_USAGE) when it is malformed. */
bool url_parse(const char *url, struct url_parts *out, struct sl_error *err);
/* The value of query parameter name, or NULL. */
const char *url_param(const struct url_parts *u, const char *name);
void url_parts_free(struct url_parts *u);
/* url as one text whatever its spelling, for naming a job: the kind
 * ("postgresql" or "mysql"), user, host (lower case; "" for a socket), port
 * (the default one filled in) and database; no password, no parameters;
 * a SQLite URL as "sqlite:" and its file's absolute path. "" when url is
 * malformed. */
void url_canonical(const char *url, char *out, size_t outsz);

#endif
