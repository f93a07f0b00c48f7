/* src/util/url.c
 * Connection URL kinds, parsing and redaction (see include/sluice/url.h).
 */
#include "sluice/url.h"

#include <ctype.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

enum url_kind url_kind(const char *url)
{
	if (!strncasecmp(url, "postgresql://", 13) || !strncasecmp(url, "postgres://", 11))
		return URL_POSTGRES;
	if (!strncasecmp(url, "mysql://", 8) || !strncasecmp(url, "mariadb://", 10))
		return URL_MYSQL;
	if (!strncasecmp(url, "sqlite:", 7))
		return URL_SQLITE;
	return URL_UNKNOWN;
}

/* Where the part after "scheme://" starts: past the first "://" when what
 * precedes it is a scheme (a letter, then letters, digits, '+', '-', '.'),
 * else url itself, so that a "://" inside the password of a URL written
 * without a scheme cannot hide that password. */
static const char *after_scheme(const char *url)
{
	const char *sep = strstr(url, "://");
	if (!sep || sep == url || !isalpha((unsigned char)url[0]))
		return url;
	for (const char *q = url; q < sep; q++)
		if (!isalnum((unsigned char)*q) && *q != '+' && *q != '-' && *q != '.')
			return url;
	return sep + 3;
}

/* The userinfo password as written: from just after the first ':' that
 * follows the scheme to the LAST '@' of the whole URL, not only of the part
 * before the first '/', '?' or '#'. Generated passwords hold raw '/', '?',
 * '#' or '@'; such a URL does not parse the same way everywhere (libpq ends
 * the userinfo at the first '@' before a '/', url_parse at the last '@'
 * before a '/', '?' or '#', or refuses the URL), and no reading may print
 * the password. The price: in a URL with a ':' (a port) and an '@' further
 * on, the text between them cannot be told from a password and is masked
 * too (postgresql://h:5432/db?application_name=a@b reads
 * postgresql://h:***@b); a hidden port is better than a shown password.
 * Without a ':' before the last '@' there is no password, and nothing is
 * masked (mysql://root@h/db, postgresql://h/db?application_name=a@b).
 * False when there is no password. */
static bool userinfo_secret(const char *url, const char **start, const char **end)
{
	const char *auth = after_scheme(url);
	const char *at = strrchr(auth, '@');
	const char *colon = at ? memchr(auth, ':', (size_t)(at - auth)) : NULL;
	if (!colon)
		return false;
	*start = colon + 1;
	*end = at;
	return true;
}

/* When p is where the value of a password= or sslpassword= query parameter
 * starts (its name right after a '?' or '&'), where that value ends: the
 * next '&' or the end of the URL, not a '#', which libpq keeps in the value.
 * Else NULL. */
static const char *param_secret_end(const char *url, const char *p)
{
	static const char *const names[] = {"password=", "sslpassword="};
	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
		size_t n = strlen(names[i]);
		if ((size_t)(p - url) > n && !strncasecmp(p - n, names[i], n) &&
		    (p[-(ptrdiff_t)n - 1] == '?' || p[-(ptrdiff_t)n - 1] == '&'))
			return p + strcspn(p, "&");
	}
	return NULL;
}

/* Each secret (the userinfo password, each password parameter) prints as
 * "***", overlapping ones as one "***". The spans are found in the text as
 * written (see userinfo_secret), so a URL that does not parse, or has no
 * "://", is redacted all the same. */
void url_redact(const char *url, char *out, size_t outsz)
{
	size_t o = 0;
	const char *ps = NULL, *pe = NULL;
	userinfo_secret(url, &ps, &pe);
	const char *mask_end = NULL; /* characters before it are masked */

#define PUT(c)                                                                                     \
	do {                                                                                       \
		if (o + 1 < outsz)                                                                 \
			out[o++] = (c);                                                            \
	} while (0)
	for (const char *p = url;; p++) {
		const char *end = param_secret_end(url, p);
		if (p == ps && (!end || pe > end))
			end = pe;
		if (end) {
			if (!mask_end || p >= mask_end)
				for (const char *s = "***"; *s; s++)
					PUT(*s);
			if (!mask_end || end > mask_end)
				mask_end = end;
		}
		if (!*p)
			break;
		if (!mask_end || p >= mask_end)
			PUT(*p);
	}
#undef PUT
	if (outsz)
		out[o] = '\0';
}

static int hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = tolower(c);
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* Percent-decode [s, s+n) into out (room for n bytes); its length, or
 * (size_t)-1 on a bad escape. */
static size_t decode_into(const char *s, size_t n, char *out)
{
	size_t o = 0;
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '%') {
			if (i + 2 >= n)
				return (size_t)-1;
			int h = hexval((unsigned char)s[i + 1]);
			int l = hexval((unsigned char)s[i + 2]);
			if (h < 0 || l < 0)
				return (size_t)-1;
			out[o++] = (char)(h * 16 + l);
			i += 2;
		} else {
			out[o++] = s[i];
		}
	}
	return o;
}

/* Percent-decode [s, s+n) into a new string; NULL on a bad escape. */
static char *decode(const char *s, size_t n)
{
	char *out = malloc(n + 1);
	if (!out)
		return NULL;
	size_t o = decode_into(s, n, out);
	if (o == (size_t)-1) {
		free(out);
		return NULL;
	}
	out[o] = '\0';
	return out;
}

bool url_parse(const char *url, struct url_parts *u, struct sl_error *err)
{
	memset(u, 0, sizeof *u);
	const char *sep = strstr(url, "://");
	if (!sep)
		return sl_error_set(err, SL_ERR_USAGE, "not a connection URL (no scheme://)");
	u->scheme = decode(url, (size_t)(sep - url));
	const char *auth = sep + 3;
	const char *auth_end = auth + strcspn(auth, "/?#");
	const char *at = NULL;
	for (const char *q = auth; q < auth_end; q++)
		if (*q == '@')
			at = q;
	const char *hostpart = auth;
	if (at) {
		const char *colon = memchr(auth, ':', (size_t)(at - auth));
		if (colon) {
			u->user = decode(auth, (size_t)(colon - auth));
			u->password = decode(colon + 1, (size_t)(at - colon - 1));
		} else {
			u->user = decode(auth, (size_t)(at - auth));
		}
		hostpart = at + 1;
	}
	/* host[:port], or a list of them separated by commas (several servers,
	 * as libpq takes them): one entry each */
	while (hostpart < auth_end || u->nhosts == 0) {
		size_t left = hostpart < auth_end ? (size_t)(auth_end - hostpart) : 0;
		const char *item_end = memchr(hostpart, ',', left);
		if (!item_end)
			item_end = auth_end;
		if (u->nhosts == URL_MAX_HOSTS)
			goto bad;
		const char *host_end = item_end;
		char *host = NULL;
		int port = 0;
		if (*hostpart == '[') { /* [ipv6]:port */
			const char *rb = memchr(hostpart, ']', (size_t)(item_end - hostpart));
			if (!rb)
				goto bad;
			host = decode(hostpart + 1, (size_t)(rb - hostpart - 1));
			if (!host)
				goto bad;
			host_end = rb + 1;
		} else {
			const char *colon = memchr(hostpart, ':', (size_t)(item_end - hostpart));
			if (colon)
				host_end = colon;
			if (host_end > hostpart &&
			    !(host = decode(hostpart, (size_t)(host_end - hostpart))))
				goto bad;
		}
		if (host_end < item_end && *host_end == ':') {
			char *end;
			long v = strtol(host_end + 1, &end, 10);
			if (end != item_end || v <= 0 || v > 65535) {
				free(host);
				goto bad;
			}
			port = (int)v;
		} else if (host_end != item_end) {
			free(host);
			goto bad;
		}
		u->hosts[u->nhosts] = host;
		u->ports[u->nhosts++] = port;
		if (item_end == auth_end)
			break;
		hostpart = item_end + 1;
	}
	u->host = u->hosts[0];
	u->port = u->ports[0];
	const char *p = auth_end;
	if (*p == '/') {
		p++;
		size_t n = strcspn(p, "?#");
		if (n)
			u->database = decode(p, n);
		p += n;
	}
	if (*p == '?') {
		p++;
		while (*p && *p != '#') {
			size_t n = strcspn(p, "&#");
			const char *eq = memchr(p, '=', n);
			if (u->nparams == URL_MAX_PARAMS)
				goto bad;
			if (eq) {
				u->param_names[u->nparams] = decode(p, (size_t)(eq - p));
				u->param_values[u->nparams] =
					decode(eq + 1, (size_t)(p + n - eq - 1));
			} else {
				u->param_names[u->nparams] = decode(p, n);
				u->param_values[u->nparams] = decode("", 0);
			}
			if (!u->param_names[u->nparams] || !u->param_values[u->nparams]) {
				u->nparams++;
				goto bad;
			}
			u->nparams++;
			p += n;
			if (*p == '&')
				p++;
		}
	}
	if (!u->scheme || (at && !u->user))
		goto bad;
	return true;
bad:
	url_parts_free(u);
	return sl_error_set(err, SL_ERR_USAGE, "malformed connection URL");
}

const char *url_param(const struct url_parts *u, const char *name)
{
	for (int i = 0; i < u->nparams; i++)
		if (!strcmp(u->param_names[i], name))
			return u->param_values[i];
	return NULL;
}

void url_parts_free(struct url_parts *u)
{
	free(u->scheme);
	free(u->user);
	free(u->password);
	for (int i = 0; i < u->nhosts; i++)
		free(u->hosts[i]);
	free(u->database);
	for (int i = 0; i < u->nparams; i++) {
		free(u->param_names[i]);
		free(u->param_values[i]);
	}
	memset(u, 0, sizeof *u);
}

/* Replace each occurrence of secret[0, n) in msg with "***" (msg only
 * shrinks when the secret has 3 or more characters; shorter ones become as
 * many '*'). With alone, only occurrences with no letter or digit right
 * before or after them. */
static void scrub_one(char *msg, const char *secret, size_t n, bool alone)
{
	if (n == 0)
		return;
	char *p = msg;
	while ((p = memmem(p, strlen(p), secret, n)) != NULL) {
		if (alone &&
		    ((p > msg && isalnum((unsigned char)p[-1])) || isalnum((unsigned char)p[n]))) {
			p++;
			continue;
		}
		if (n >= 3) {
			memmove(p + 3, p + n, strlen(p + n) + 1);
			memcpy(p, "***", 3);
			p += 3;
		} else {
			memset(p, '*', n);
			p += n;
		}
	}
}

/* Scrub s[0, n) from msg as written and percent-decoded (alone: see
 * scrub_one). When memory runs out, the whole message is masked rather than
 * risk showing the secret. */
static void scrub_forms(char *msg, const char *s, size_t n, bool alone)
{
	scrub_one(msg, s, n, alone);
	if (!memchr(s, '%', n))
		return;
	char *dec = malloc(n);
	if (!dec) {
		memset(msg, '*', strlen(msg));
		return;
	}
	size_t k = decode_into(s, n, dec);
	if (k != (size_t)-1)
		scrub_one(msg, dec, k, alone);
	free(dec);
}

/* Scrub the secret s[0, n): whole, wherever it appears; then each piece
 * between the characters where some library may cut a URL ("/?#@&=:,"),
 * as libpq does with postgresql://u:ab/cd@h (host u, port "ab", and it
 * says so). A library quotes such a piece apart from other words, so a
 * piece is scrubbed only where it stands alone: a password cut into "ab"
 * and "cd" then masks a quoted "ab" but not the "ab" of "database". */
static void scrub_secret(char *msg, const char *s, size_t n)
{
	scrub_forms(msg, s, n, false);
	const char *end = s + n;
	const char *p = s;
	while (p < end) {
		const char *q = p;
		while (q < end && !strchr("/?#@&=:,", *q))
			q++;
		if (q > p && (size_t)(q - p) < n)
			scrub_forms(msg, p, (size_t)(q - p), true);
		p = q + 1;
	}
}

/* The secrets are those url_redact masks, found the same way on the text
 * as written, so a URL that does not parse is scrubbed too (libpq quotes a
 * bad percent-escape, a port or a host made of a piece of the password). */
void url_scrub(char *msg, const char *url)
{
	const char *ps, *pe;
	if (userinfo_secret(url, &ps, &pe))
		scrub_secret(msg, ps, (size_t)(pe - ps));
	for (const char *p = url; *p; p++) {
		const char *end = param_secret_end(url, p);
		if (end)
			scrub_secret(msg, p, (size_t)(end - p));
	}
}

/* A SQLite URL as "sqlite:" and its file's absolute path (the real one
 * when the file is there), without parameters. */
static void sqlite_canonical(const char *url, char *out, size_t outsz)
{
	const char *p = url + 7;
	if (!strncmp(p, "//", 2)) {
		p += 2;
		if (!strncasecmp(p, "localhost", 9))
			p += 9;
	}
	char path[PATH_MAX], real[PATH_MAX], cwd[PATH_MAX];
	snprintf(path, sizeof path, "%.*s", (int)strcspn(p, "?#"), p);
	if (realpath(path, real))
		snprintf(out, outsz, "sqlite:%s", real);
	else if (path[0] != '/' && getcwd(cwd, sizeof cwd))
		snprintf(out, outsz, "sqlite:%s/%s", cwd, path);
	else
		snprintf(out, outsz, "sqlite:%s", path);
}

void url_canonical(const char *url, char *out, size_t outsz)
{
	struct url_parts u;
	struct sl_error err;
	out[0] = '\0';
	if (url_kind(url) == URL_SQLITE) {
		sqlite_canonical(url, out, outsz);
		return;
	}
	if (!url_parse(url, &u, &err))
		return;
	bool pg = url_kind(url) == URL_POSTGRES;
	char host[256] = "";
	for (size_t i = 0; u.host && u.host[i] && i + 1 < sizeof host; i++) {
		host[i] = (char)tolower((unsigned char)u.host[i]);
		host[i + 1] = '\0';
	}
	snprintf(out, outsz, "%s://%s@%s:%d/%s", pg ? "postgresql" : "mysql", u.user ? u.user : "",
		 host,
		 u.port ? u.port
		 : pg	? 5432
			: 3306,
		 u.database ? u.database : "");
	url_parts_free(&u);
}
