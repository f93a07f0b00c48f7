/* src/util/soft.c
 * --soft 'COL=EXPR': parse and check the column and the server expression
 * that marks a row instead of deleting it.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "sluice/soft.h"

/* s[0..n) without leading and trailing blanks, malloc'd. */
static char *trimmed(const char *s, size_t n)
{
	while (n && isspace((unsigned char)*s)) {
		s++;
		n--;
	}
	while (n && isspace((unsigned char)s[n - 1]))
		n--;
	char *out = malloc(n + 1);
	if (out) {
		memcpy(out, s, n);
		out[n] = '\0';
	}
	return out;
}

/* Whether expr has a ';' outside '...' and "..." quotes. */
static bool has_statement_end(const char *expr)
{
	char q = 0;
	for (const char *p = expr; *p; p++) {
		if (q) {
			if (*p == q)
				q = 0;
		} else if (*p == '\'' || *p == '"' || *p == '`') {
			q = *p;
		} else if (*p == ';') {
			return true;
		}
	}
	return false;
}

bool soft_parse(const char *spec, char **col, char **expr, struct sl_error *err)
{
	*col = *expr = NULL;
	const char *eq = spec ? strchr(spec, '=') : NULL;
	if (!eq)
		return sl_error_set(err, SL_ERR_USAGE,
				    "--soft takes COL=EXPR (as deleted_at=now()), not '%s'",
				    spec ? spec : "");
	*col = trimmed(spec, (size_t)(eq - spec));
	*expr = trimmed(eq + 1, strlen(eq + 1));
	if (!*col || !*expr) {
		free(*col);
		free(*expr);
		*col = *expr = NULL;
		return sl_error_set(err, SL_ERR_INTERNAL, "out of memory");
	}
	const char *why = !**col		     ? "names no column before '='"
			  : !**expr		     ? "has no expression after '='"
			  : has_statement_end(*expr) ? "has a ';': EXPR is one expression"
						     : NULL;
	if (why) {
		sl_error_set(err, SL_ERR_USAGE,
			     "--soft '%s' %s (--soft COL=EXPR, as deleted_at=now())", spec, why);
		free(*col);
		free(*expr);
		*col = *expr = NULL;
		return false;
	}
	return true;
}
