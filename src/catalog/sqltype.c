/* src/catalog/sqltype.c
 * The type model's helpers (sqltype.h): building, comparing and freeing a
 * struct sql_type, the lexer the dialects' classifiers share, and the notes
 * a namer writes.
 */
#include "sluice/sqltype.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void sql_type_init(struct sql_type *t, const struct dialect *origin)
{
	memset(t, 0, sizeof *t);
	t->origin = origin;
	t->precision = -1;
	t->length = -1;
}

void sql_type_free(struct sql_type *t)
{
	for (int i = 0; i < t->nlabels; i++)
		free(t->labels[i]);
	free(t->labels);
	t->labels = NULL;
	t->nlabels = 0;
}

bool sql_type_add_label(struct sql_type *t, const char *label, size_t n)
{
	if (t->nlabels < 0)
		return false;
	char **labels = realloc(t->labels, (size_t)(t->nlabels + 1) * sizeof *labels);
	if (!labels)
		return false;
	t->labels = labels;
	if (!(labels[t->nlabels] = malloc(n + 1)))
		return false;
	memcpy(labels[t->nlabels], label, n);
	labels[t->nlabels++][n] = '\0';
	return true;
}

bool sql_type_equal(const struct sql_type *a, const struct sql_type *b)
{
	bool named = a->kind == SQL_OTHER || a->kind == SQL_NETADDR || a->kind == SQL_SPATIAL;
	if (a->kind != b->kind || a->array != b->array || a->bool_form != b->bool_form ||
	    a->bytes != b->bytes || a->is_unsigned != b->is_unsigned ||
	    a->zerofill != b->zerofill || a->display != b->display || a->year != b->year ||
	    a->precision != b->precision || a->scale != b->scale || a->length != b->length ||
	    a->fixed != b->fixed || a->padded != b->padded || a->lob != b->lob ||
	    a->case_insensitive != b->case_insensitive || strcmp(a->charset, b->charset) ||
	    strcmp(a->collation, b->collation) || a->fsp != b->fsp || a->epoch32 != b->epoch32 ||
	    a->with_tz != b->with_tz || a->span != b->span || strcmp(a->fields, b->fields) ||
	    a->json_text != b->json_text || a->nlabels != b->nlabels || strcmp(a->udt, b->udt) ||
	    (named && strcmp(a->name, b->name)))
		return false;
	for (int i = 0; i < a->nlabels; i++)
		if (strcmp(a->labels[i], b->labels[i]))
			return false;
	return true;
}

/* ---- the lexer ---- */

/* The ')' closing the '(' at open, skipping quoted enum labels ('' and
 * backslash escapes inside), or NULL. */
static const char *find_close(const char *open, const char *end)
{
	bool quoted = false;
	for (const char *p = open + 1; p < end; p++) {
		if (quoted) {
			if (*p == '\\' && p + 1 < end)
				p++;
			else if (*p == '\'' && p + 1 < end && p[1] == '\'')
				p++;
			else if (*p == '\'')
				quoted = false;
		} else if (*p == '\'') {
			quoted = true;
		} else if (*p == ')') {
			return p;
		} else if (*p == '(') {
			return NULL;
		}
	}
	return NULL;
}

/* Read up to two comma-separated integers of [s, e) into tx->p. */
static void parse_params(struct sql_type_text *tx, const char *s, const char *e)
{
	tx->nparams = 0;
	while (s < e) {
		while (s < e && isspace((unsigned char)*s))
			s++;
		const char *start = s;
		if (s < e && (*s == '-' || *s == '+'))
			s++;
		long v = 0;
		bool digits = false;
		while (s < e && isdigit((unsigned char)*s)) {
			if (v < 1000000000L)
				v = v * 10 + (*s - '0');
			digits = true;
			s++;
		}
		while (s < e && isspace((unsigned char)*s))
			s++;
		if (!digits || tx->nparams == 2 || (s < e && *s != ',')) {
			tx->nparams = -1;
			return;
		}
		tx->p[tx->nparams++] = *start == '-' ? -v : v;
		if (s < e)
			s++;
	}
}

void sql_type_text_parse(const char *t, struct sql_type_text *tx)
{
	memset(tx, 0, sizeof *tx);
	const char *s = t, *e = t + strlen(t);
	while (s < e && isspace((unsigned char)*s))
		s++;
	while (e > s && isspace((unsigned char)e[-1]))
		e--;
	tx->trimmed = s;
	tx->trimmed_len = (size_t)(e - s);
	while (e - s >= 2 && e[-2] == '[' && e[-1] == ']') {
		tx->array++;
		e -= 2;
		while (e > s && isspace((unsigned char)e[-1]))
			e--;
	}
	tx->base_len = (size_t)(e - s);
	/* the words outside the parentheses, lower case, one space apart */
	char outer[sizeof tx->stripped];
	size_t on = 0;
	for (const char *p = s; p < e; p++) {
		if (*p == '(') {
			const char *close = tx->has_parens ? NULL : find_close(p, e);
			if (!close)
				return;
			tx->has_parens = true;
			tx->args = p + 1;
			tx->args_len = (size_t)(close - p - 1);
			p = close;
			if (on && outer[on - 1] != ' ')
				outer[on++] = ' ';
		} else if (isspace((unsigned char)*p)) {
			if (on && outer[on - 1] != ' ')
				outer[on++] = ' ';
		} else if (*p == '"' || *p == '`' || *p == '.') {
			return; /* a quoted or schema-qualified user type */
		} else {
			outer[on++] = (char)tolower((unsigned char)*p);
		}
		if (on >= sizeof outer - 1)
			return;
	}
	while (on && outer[on - 1] == ' ')
		on--;
	outer[on] = '\0';
	memcpy(tx->stripped, outer, on + 1);
	/* peel the modifiers off the end */
	for (;;) {
		char *last = strrchr(outer, ' ');
		const char *w = last ? last + 1 : outer;
		if (!last)
			break;
		if (!strcmp(w, "unsigned")) {
			tx->is_unsigned = true;
		} else if (!strcmp(w, "zerofill")) {
			tx->zerofill = tx->is_unsigned = true;
		} else if (!strcmp(w, "signed")) {
			/* the default */
		} else if (!strcmp(w, "zone")) {
			size_t n = strlen(outer);
			if (n > 15 && !strcmp(outer + n - 15, " with time zone")) {
				tx->tz = 1;
				outer[n - 15] = '\0';
			} else if (n > 18 && !strcmp(outer + n - 18, " without time zone")) {
				tx->tz = -1;
				outer[n - 18] = '\0';
			} else {
				break;
			}
			continue;
		} else {
			break;
		}
		*last = '\0';
	}
	if (strlen(outer) >= sizeof tx->name)
		return;
	strcpy(tx->name, outer);
	if (tx->has_parens && strcmp(tx->name, "enum") && strcmp(tx->name, "set"))
		parse_params(tx, tx->args, tx->args + tx->args_len);
}

/* ---- notes ---- */

void type_note_add(char *note, size_t sz, const char *fmt, va_list ap)
{
	size_t len = strlen(note);
	if (len + 8 >= sz)
		return;
	if (len) {
		memcpy(note + len, "; ", 3);
		len += 2;
	}
	int n = vsnprintf(note + len, sz - len, fmt, ap);
	if (n >= 0 && (size_t)n >= sz - len)
		memcpy(note + sz - 4, "...", 4);
}

bool type_naming_set(struct type_naming *n, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int w = vsnprintf(n->text, sizeof n->text, fmt, ap);
	va_end(ap);
	if (w < 0 || (size_t)w >= sizeof n->text) {
		n->text[0] = '\0';
		return false;
	}
	return true;
}

void type_naming_note(struct type_naming *n, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	type_note_add(n->note, sizeof n->note, fmt, ap);
	va_end(ap);
}

void type_naming_lose(struct type_naming *n, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	type_note_add(n->note, sizeof n->note, fmt, ap);
	va_end(ap);
	n->lost = true;
}
