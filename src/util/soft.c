/* src/util/soft.c
 * --soft 'COL=EXPR' taken apart and checked (include/sluice/soft.h).
 */
#include "sluice/soft.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

/* The n bytes at p without the spaces around them, malloc'd, or NULL
 * when nothing is left (or memory runs out). */
static char *trimmed(const char *p, size_t n)
{
	while (n && isspace((unsigned char)*p)) {
		p++;
		n--;
	}
	while (n && isspace((unsigned char)p[n - 1]))
		n--;
	if (!n)
		return NULL;
	char *s = malloc(n + 1);
	if (s) {
		memcpy(s, p, n);
		s[n] = '\0';
	}
	return s;
}

bool soft_parse(const char *spec, char **col, char **expr, struct sl_error *err)
{
	*col = *expr = NULL;
	const char *eq = spec ? strchr(spec, '=') : NULL;
	if (eq) {
		*col = trimmed(spec, (size_t)(eq - spec));
		*expr = trimmed(eq + 1, strlen(eq + 1));
	}
	if (*col && *expr)
		return true;
	free(*col);
	free(*expr);
	*col = *expr = NULL;
	return sl_error_set(err, SL_ERR_USAGE,
			    "--soft takes COL=EXPR, a column and the server expression it is set "
			    "to (e.g. deleted_at=now()), not '%s'",
			    spec ? spec : "");
}
