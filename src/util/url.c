/* src/util/url.c
 * Connection URL kinds, parsing and redaction (see include/sluice/url.h).
 */
#include "sluice/url.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

enum url_kind url_kind(const char *url)
{
	if (!strncasecmp(url, "postgresql://", 13) || !strncasecmp(url, "postgres://", 11))
		return URL_POSTGRES;
	if (!strncasecmp(url, "mysql://", 8) || !strncasecmp(url, "mariadb://", 10))
		return URL_MYSQL;
	return URL_UNKNOWN;
}

void url_redact(const char *url, char *out, size_t outsz)
{
	size_t o = 0;
	const char *p = url;
	const char *sep = strstr(url, "://");
	const char *auth = sep ? sep + 3 : NULL;
	const char *auth_end = auth ? auth + strcspn(auth, "/?#") : NULL;
	const char *at = NULL;
	if (auth) {
		/* the last '@' before the path ends the userinfo */
		for (const char *q = auth; q < auth_end; q++)
			if (*q == '@')
				at = q;
	}
	const char *colon = at ? memchr(auth, ':', (size_t)(at - auth)) : NULL;

#define PUT(c) do { if (o + 1 < outsz) out[o++] = (c); } while (0)
	while (*p) {
		if (colon && p == colon + 1) {
			for (const char *s = "***"; *s; s++)
				PUT(*s);
			p = at;
			continue;
		}
		/* password=... in the query string */
		if ((p > url && (p[-1] == '?' || p[-1] == '&')) && !strncasecmp(p, "password=", 9)) {
			for (int i = 0; i < 9; i++)
				PUT(p[i]);
			for (const char *s = "***"; *s; s++)
				PUT(*s);
			p += 9;
			while (*p && *p != '&' && *p != '#')
				p++;
			continue;
		}
		PUT(*p);
		p++;
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

/* Percent-decode [s, s+n) into a new string; NULL on a bad escape. */
static char *decode(const char *s, size_t n)
{
	char *out = malloc(n + 1);
	size_t o = 0;
	if (!out)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '%') {
			int h, l;
			if (i + 2 >= n) {
				free(out);
				return NULL;
			}
			h = hexval((unsigned char)s[i + 1]);
			l = hexval((unsigned char)s[i + 2]);
			if (h < 0 || l < 0) {
				free(out);
				return NULL;
			}
			out[o++] = (char)(h * 16 + l);
			i += 2;
		} else {
			out[o++] = s[i];
		}
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
	const char *host_end = auth_end;
	if (*hostpart == '[') { /* [ipv6]:port */
		const char *rb = memchr(hostpart, ']', (size_t)(auth_end - hostpart));
		if (!rb)
			goto bad;
		u->host = decode(hostpart + 1, (size_t)(rb - hostpart - 1));
		hostpart = rb + 1;
		host_end = hostpart;
		if (*hostpart == ':')
			host_end = hostpart;
	} else {
		const char *colon = memchr(hostpart, ':', (size_t)(auth_end - hostpart));
		if (colon)
			host_end = colon;
		if (host_end > hostpart)
			u->host = decode(hostpart, (size_t)(host_end - hostpart));
	}
	if (host_end < auth_end && *host_end == ':') {
		char *end;
		long port = strtol(host_end + 1, &end, 10);
		if (end != auth_end || port <= 0 || port > 65535)
			goto bad;
		u->port = (int)port;
	}
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
				u->param_values[u->nparams] = decode(eq + 1, (size_t)(p + n - eq - 1));
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
	free(u->host);
	free(u->database);
	for (int i = 0; i < u->nparams; i++) {
		free(u->param_names[i]);
		free(u->param_values[i]);
	}
	memset(u, 0, sizeof *u);
}

/* Replace each occurrence of secret in msg with "***" (msg only shrinks
 * when secret has 3 or more characters; shorter secrets are padded). */
static void scrub_one(char *msg, const char *secret)
{
	size_t n = strlen(secret);
	if (n == 0)
		return;
	char *p;
	while ((p = strstr(msg, secret)) != NULL) {
		size_t rest = strlen(p + n);
		if (n >= 3) {
			memcpy(p, "***", 3);
			memmove(p + 3, p + n, rest + 1);
		} else {
			memset(p, '*', n);
		}
	}
}

void url_scrub(char *msg, const char *url)
{
	struct url_parts u;
	struct sl_error err;
	if (!url_parse(url, &u, &err))
		return;
	if (u.password)
		scrub_one(msg, u.password);
	const char *pw = url_param(&u, "password");
	if (pw)
		scrub_one(msg, pw);
	url_parts_free(&u);
	/* the raw (still percent-encoded) spelling */
	const char *sep = strstr(url, "://");
	if (sep) {
		const char *auth = sep + 3;
		const char *end = auth + strcspn(auth, "/?#");
		const char *at = NULL;
		for (const char *q = auth; q < end; q++)
			if (*q == '@')
				at = q;
		const char *colon = at ? memchr(auth, ':', (size_t)(at - auth)) : NULL;
		if (colon && at - colon > 1) {
			char raw[512];
			size_t n = (size_t)(at - colon - 1);
			if (n < sizeof raw) {
				memcpy(raw, colon + 1, n);
				raw[n] = '\0';
				scrub_one(msg, raw);
			}
		}
	}
}
