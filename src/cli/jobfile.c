/* src/cli/jobfile.c
 * sluice run JOBFILE: an INI file (read by libinih) of named steps, each
 * turned into the command line it stands for and checked by cli_parse, the
 * whole file before any step runs; then the steps run in order, in this
 * process, with one summary and one exit code. It knows no option by name:
 * every key is a long option of the option table, so a new option or
 * command works in a job file the day it exists.
 */
#include <errno.h>
#include <ini.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sluice/buf.h"
#include "sluice/cli.h"
#include "sluice/log.h"
#include "sluice/report.h"
#include "sluice/signals.h"
#include "sluice/url.h"

/* One KEY = VALUE line. */
struct jf_entry {
	char *key;
	char *value; /* as written; expanded when the step is built */
	int line;
};

/* [defaults] or [step NAME], with its lines. */
struct jf_section {
	char *name; /* NULL: [defaults] */
	int line;   /* of its header */
	struct jf_entry *e;
	int n;
};

/* A step made into a command line: argv[0] "sluice", argv[1] the command,
 * the options as --name=value, "--", the arguments; line[i] the file's line
 * argv[i] came from. */
struct jf_step {
	const struct jf_section *sec;
	char **argv;
	int *line;
	int argc, cap;
	bool keep_going; /* on-error = continue */
	enum command command;
};

struct jf_file {
	const char *path;
	FILE *f;
	int lineno;	 /* of the line the reader handed libinih last */
	int header_line; /* of the last [section] line read */
	bool at_line_start;
	struct jf_section *s; /* s[0] is [defaults] */
	int n;
	struct buf err; /* the first error, "FILE:LINE: ..." */
	time_t now;	/* one clock for every {date} of the run */
};

/* The positional arguments, in the order they go on the command line. */
static const char *const positional[] = {"sources", "from", "target", "to"};
#define NPOSITIONAL 4

/* Record the file's first error: "FILE:LINE: [step NAME] message". */
static void __attribute__((format(printf, 4, 5)))
jf_error(struct jf_file *jf, int line, const struct jf_section *sec, const char *fmt, ...)
{
	if (jf->err.len)
		return;
	buf_catf(&jf->err, "%s:%d: ", jf->path, line);
	if (sec && sec->name)
		buf_catf(&jf->err, "[step %s] ", sec->name);
	else if (sec)
		buf_cat(&jf->err, "[defaults] ");
	va_list ap;
	va_start(ap, fmt);
	char msg[1024];
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	buf_cat(&jf->err, msg);
}

/* libinih's reader: a line at a time, counted, since the handler of the
 * Debian 12 libinih (55, built without INI_HANDLER_LINENO) is not told the
 * line. A line longer than libinih's buffer is an error, not two lines. */
static char *jf_read(char *str, int num, void *stream)
{
	struct jf_file *jf = stream;
	if (jf->err.len || !fgets(str, num, jf->f))
		return NULL;
	if (jf->at_line_start)
		jf->lineno++;
	size_t len = strlen(str);
	jf->at_line_start = len && str[len - 1] == '\n';
	if (!jf->at_line_start && !feof(jf->f)) {
		jf_error(jf, jf->lineno, NULL, "the line is longer than %d bytes", num - 2);
		return NULL;
	}
	const char *p = str + strspn(str, " \t");
	if (*p == '[')
		jf->header_line = jf->lineno;
	return str;
}

static struct jf_section *jf_section_for(struct jf_file *jf, const char *section)
{
	struct jf_section *cur = jf->n > 1 || jf->s[0].line ? &jf->s[jf->n - 1] : NULL;
	const char *name = NULL;
	if (!strncmp(section, "step", 4) && (section[4] == ' ' || section[4] == '\t')) {
		name = section + 5 + strspn(section + 5, " \t");
		if (!*name) {
			jf_error(jf, jf->header_line, NULL, "[step] needs a name: [step NAME]");
			return NULL;
		}
	} else if (strcmp(section, "defaults")) {
		jf_error(jf, jf->header_line, NULL,
			 "unknown section [%s]: a job file has [defaults] and [step NAME] sections",
			 section);
		return NULL;
	}
	/* the same section as the line before: libinih tells no header apart */
	if (cur && cur->line == jf->header_line)
		return cur;
	if (!name) {
		if (jf->s[0].line) {
			jf_error(jf, jf->header_line, NULL,
				 "a second [defaults] (the first is line %d)", jf->s[0].line);
			return NULL;
		}
		jf->s[0].line = jf->header_line;
		return &jf->s[0];
	}
	for (int i = 1; i < jf->n; i++)
		if (!strcmp(jf->s[i].name, name)) {
			jf_error(jf, jf->header_line, NULL,
				 "a second [step %s] (the first is line %d)", name, jf->s[i].line);
			return NULL;
		}
	struct jf_section *s = realloc(jf->s, ((size_t)jf->n + 1) * sizeof *s);
	if (!s)
		return NULL;
	jf->s = s;
	s = &jf->s[jf->n++];
	*s = (struct jf_section){.name = strdup(name), .line = jf->header_line};
	return s->name ? s : NULL;
}

/* libinih's handler: one KEY = VALUE of a section. 0 stops the parse. */
static int jf_handler(void *user, const char *section, const char *key, const char *value)
{
	struct jf_file *jf = user;
	if (!section[0]) {
		jf_error(jf, jf->lineno, NULL, "%s = ... before any [defaults] or [step NAME]",
			 key);
		return 0;
	}
	struct jf_section *sec = jf_section_for(jf, section);
	if (!sec) {
		if (!jf->err.len)
			jf_error(jf, jf->lineno, NULL, "out of memory");
		return 0;
	}
	for (int i = 0; i < sec->n; i++)
		if (!strcmp(sec->e[i].key, key)) {
			jf_error(jf, jf->lineno, sec, "%s is given twice (first on line %d)", key,
				 sec->e[i].line);
			return 0;
		}
	struct jf_entry *e = realloc(sec->e, ((size_t)sec->n + 1) * sizeof *e);
	if (!e)
		return 0;
	sec->e = e;
	e[sec->n] = (struct jf_entry){strdup(key), strdup(value), jf->lineno};
	if (!e[sec->n].key || !e[sec->n].value) {
		free(e[sec->n].key);
		free(e[sec->n].value);
		jf_error(jf, jf->lineno, sec, "out of memory");
		return 0;
	}
	sec->n++;
	return 1;
}

static void jf_free(struct jf_file *jf)
{
	for (int i = 0; i < jf->n; i++) {
		for (int k = 0; k < jf->s[i].n; k++) {
			free(jf->s[i].e[k].key);
			free(jf->s[i].e[k].value);
		}
		free(jf->s[i].e);
		free(jf->s[i].name);
	}
	free(jf->s);
	buf_free(&jf->err);
}

/* Read the file into jf; false with jf->err (or a message logged). */
static bool jf_load(struct jf_file *jf, const char *path)
{
	memset(jf, 0, sizeof *jf);
	jf->path = path;
	jf->at_line_start = true;
	jf->now = time(NULL);
	buf_init(&jf->err, 4096);
	jf->s = calloc(1, sizeof *jf->s);
	if (!jf->s)
		return false;
	jf->n = 1;
	jf->f = fopen(path, "r");
	if (!jf->f) {
		buf_catf(&jf->err, "cannot read the job file %s: %s", path, strerror(errno));
		return false;
	}
	int r = ini_parse_stream(jf_read, jf, jf_handler, jf);
	fclose(jf->f);
	if (r > 0 && !jf->err.len) /* libinih's own: no '=', no ']' */
		jf_error(jf, r, NULL, "not a [section] nor KEY = VALUE");
	if (!jf->err.len && jf->n == 1)
		jf_error(jf, jf->lineno ? jf->lineno : 1, NULL, "no [step NAME] in the file");
	return !jf->err.len;
}

/* {date}, {yesterday}, {date:FMT}, {yesterday:FMT} at p (past the '{')
 * into out; returns the length of what it stood for, 0 when it is none. */
static size_t jf_date(const struct jf_file *jf, const char *p, struct buf *out)
{
	size_t word = strcspn(p, ":}");
	bool yesterday = word == 9 && !strncmp(p, "yesterday", 9);
	if (!yesterday && !(word == 4 && !strncmp(p, "date", 4)))
		return 0;
	const char *end = strchr(p, '}');
	if (!end)
		return 0;
	char fmt[128] = "%Y-%m-%d";
	if (p[word] == ':')
		snprintf(fmt, sizeof fmt, "%.*s", (int)(end - p - word - 1), p + word + 1);
	struct tm tm;
	localtime_r(&jf->now, &tm);
	if (yesterday) {
		tm.tm_mday--;
		tm.tm_isdst = -1;
		time_t t = mktime(&tm);
		localtime_r(&t, &tm);
	}
	char text[256];
	size_t n = strftime(text, sizeof text, fmt, &tm);
	buf_catn(out, text, n);
	return (size_t)(end - p) + 1;
}

/* value with ${VAR} and the dates put in, malloc'd; NULL with the error
 * recorded. */
static char *jf_expand(struct jf_file *jf, const struct jf_section *sec, const struct jf_entry *e)
{
	struct buf out;
	buf_init(&out, 1 << 20);
	for (const char *p = e->value; *p;) {
		if (p[0] == '$' && p[1] == '{') {
			const char *end = strchr(p + 2, '}');
			if (!end) {
				jf_error(jf, e->line, sec, "%s: ${ without its }", e->key);
				buf_free(&out);
				return NULL;
			}
			char name[256];
			snprintf(name, sizeof name, "%.*s", (int)(end - p - 2), p + 2);
			const char *v = getenv(name);
			if (!v) {
				jf_error(jf, e->line, sec,
					 "%s: the environment variable %s is not set", e->key,
					 name);
				buf_free(&out);
				return NULL;
			}
			buf_cat(&out, v);
			p = end + 1;
			continue;
		}
		size_t used = p[0] == '{' ? jf_date(jf, p + 1, &out) : 0;
		if (used) {
			p += used + 1;
			continue;
		}
		buf_catc(&out, *p++);
	}
	buf_catc(&out, '\0');
	if (buf_failed(&out)) {
		jf_error(jf, e->line, sec, "%s: the value is too long", e->key);
		buf_free(&out);
		return NULL;
	}
	return out.data; /* the buffer's memory, now the caller's */
}

static bool step_push(struct jf_step *st, char *word, int line)
{
	if (st->argc + 2 > st->cap) {
		int cap = st->cap ? st->cap * 2 : 16;
		char **a = realloc(st->argv, (size_t)cap * sizeof *a);
		if (!a) {
			free(word);
			return false;
		}
		st->argv = a;
		int *l = realloc(st->line, (size_t)cap * sizeof *l);
		if (!l) {
			free(word);
			return false;
		}
		st->line = l;
		st->cap = cap;
	}
	st->argv[st->argc] = word;
	st->line[st->argc++] = line;
	st->argv[st->argc] = NULL;
	return word != NULL;
}

static void step_free(struct jf_step *st)
{
	for (int i = 0; i < st->argc; i++)
		free(st->argv[i]);
	free(st->argv);
	free(st->line);
	memset(st, 0, sizeof *st);
}

static bool is_positional(const char *key)
{
	for (int i = 0; i < NPOSITIONAL; i++)
		if (!strcmp(key, positional[i]))
			return true;
	return false;
}

/* The words one entry stands for: "--name=value", "--name", nothing for
 * name = false; the arguments of a positional key (sources split at
 * spaces). Appended to st; false with the error recorded. */
static bool entry_words(struct jf_file *jf, const struct jf_section *sec, const struct jf_entry *e,
			struct jf_step *st, bool args)
{
	if (is_positional(e->key) != args)
		return true;
	char *v = jf_expand(jf, sec, e);
	if (!v)
		return false;
	bool ok = true;
	if (args) {
		bool many = !strcmp(e->key, "sources");
		for (char *save = NULL, *w = many ? strtok_r(v, " \t", &save) : v; ok && w;
		     w = many ? strtok_r(NULL, " \t", &save) : NULL)
			ok = step_push(st, strdup(w), e->line);
		free(v);
		return ok || (jf_error(jf, e->line, sec, "out of memory"), false);
	}
	int takes = cli_option_takes_value(e->key);
	if (takes < 0) {
		const char *near = cli_option_closest(e->key);
		if (near)
			jf_error(jf, e->line, sec, "unknown key %s: did you mean %s?", e->key,
				 near);
		else
			jf_error(jf, e->line, sec,
				 "unknown key %s: a key is a long option of sluice %s (without its "
				 "dashes), or sources, target, from, to, command, on-error",
				 e->key, st->argv[1]);
		free(v);
		return false;
	}
	if (!takes) {
		bool on = !strcmp(v, "true") || !strcmp(v, "yes") || !strcmp(v, "1");
		bool off = !strcmp(v, "false") || !strcmp(v, "no") || !strcmp(v, "0");
		if (!on && !off) {
			jf_error(jf, e->line, sec,
				 "%s is a flag: %s = true or %s = false, not '%s'", e->key, e->key,
				 e->key, v);
			ok = false;
		} else if (on) {
			char word[128];
			snprintf(word, sizeof word, "--%s", e->key);
			ok = step_push(st, strdup(word), e->line);
		}
		free(v);
		return ok;
	}
	size_t n = strlen(e->key) + strlen(v) + 4;
	char *word = malloc(n);
	if (word)
		snprintf(word, n, "--%s=%s", e->key, v);
	free(v);
	return step_push(st, word, e->line) || (jf_error(jf, e->line, sec, "out of memory"), false);
}

/* The key's entry in sec, or NULL. */
static const struct jf_entry *entry_of(const struct jf_section *sec, const char *key)
{
	for (int i = 0; i < sec->n; i++)
		if (!strcmp(sec->e[i].key, key))
			return &sec->e[i];
	return NULL;
}

/* What a cli_parse said while the log was diverted: its first message. */
struct said {
	char msg[1024];
};

static void said_keep(void *ctx, const char *text)
{
	struct said *s = ctx;
	if (!s->msg[0])
		snprintf(s->msg, sizeof s->msg, "%s", text);
}

/* Parse the step's words plus extra (entries of [defaults] or the command
 * line, n of them) quietly: the parser's verdict, its message in *said and
 * the line of the word at fault (0 when none is) in *line. */
static bool try_parse(struct jf_file *jf, const struct jf_step *own, const struct jf_section *extra,
		      const bool *use, struct said *said, int *line)
{
	struct jf_step st = {0};
	bool ok = true;
	for (int i = 0; ok && i < 2; i++)
		ok = step_push(&st, strdup(own->argv[i]), own->line[i]);
	/* options, then "--", then the arguments: argv stays in the order built */
	for (int pass = 0; ok && pass < 2; pass++) {
		if (pass)
			ok = step_push(&st, strdup("--"), 0);
		int dash = 2;
		while (dash < own->argc && strcmp(own->argv[dash], "--"))
			dash++;
		for (int i = pass ? dash + 1 : 2; ok && i < (pass ? own->argc : dash); i++)
			ok = step_push(&st, strdup(own->argv[i]), own->line[i]);
		for (int k = 0; ok && extra && k < extra->n; k++)
			if (use[k])
				ok = entry_words(jf, extra, &extra->e[k], &st, pass == 1);
	}
	said->msg[0] = '\0';
	*line = 0;
	if (!ok) {
		step_free(&st);
		return false;
	}
	struct job job;
	int bad = 0;
	enum log_level level = log_get_level();
	log_divert(said_keep, said);
	enum cli_result r = cli_parse_at(st.argc, st.argv, &job, &bad);
	log_divert(NULL, NULL);
	log_set_level(level);
	if (r == CLI_RUN && job.command == CMD_RUN) {
		snprintf(said->msg, sizeof said->msg, "a step cannot run a job file");
		bad = 1;
		r = CLI_USAGE;
	}
	if (bad > 0 && bad < st.argc)
		*line = st.line[bad];
	cli_job_free(&job);
	step_free(&st);
	return r == CLI_RUN;
}

/* Build step i's command line from its section, the [defaults] its command
 * takes and the run's own options (cmdline), checked by cli_parse; false
 * with the error recorded. used[k] is set for each default the step took. */
static bool build_step(struct jf_file *jf, int i, const struct jf_section *cmdline,
		       struct jf_step *out, bool *used, struct said *why_not, int *why_line)
{
	const struct jf_section *sec = &jf->s[i], *def = &jf->s[0];
	struct jf_step st = {0};
	const struct jf_entry *cmd = entry_of(sec, "command");
	if (!cmd) {
		jf_error(jf, sec->line, sec, "no command = (load, update, copy, verify, ...)");
		return false;
	}
	char *c = jf_expand(jf, sec, cmd);
	if (!c || !step_push(&st, strdup("sluice"), 0) || !step_push(&st, c, cmd->line))
		goto fail;
	const struct jf_entry *oe = entry_of(sec, "on-error");
	if (!oe)
		oe = entry_of(def, "on-error");
	if (oe && strcmp(oe->value, "continue") && strcmp(oe->value, "stop")) {
		jf_error(jf, oe->line, oe >= sec->e && oe < sec->e + sec->n ? sec : def,
			 "on-error takes continue or stop, not '%s'", oe->value);
		goto fail;
	}
	out->keep_going = oe && !strcmp(oe->value, "continue");
	for (int pass = 0; pass < 2; pass++) {
		if (pass && !step_push(&st, strdup("--"), 0))
			goto fail;
		for (int k = 0; k < sec->n; k++)
			if (strcmp(sec->e[k].key, "command") && strcmp(sec->e[k].key, "on-error") &&
			    !entry_words(jf, sec, &sec->e[k], &st, pass == 1))
				goto fail;
	}
	/* the command line's options first (they win), then [defaults]: each
	 * taken when the step parses with it, until none more is */
	struct jf_entry ents[128];
	int from_def[128];
	struct jf_section both = {.e = ents};
	const struct jf_section *srcs[2] = {cmdline, def};
	for (int s = 0; s < 2; s++)
		for (int k = 0; k < srcs[s]->n && both.n < 128; k++) {
			const struct jf_entry *e = &srcs[s]->e[k];
			if (entry_of(sec, e->key) || !strcmp(e->key, "command") ||
			    !strcmp(e->key, "on-error") || (s == 1 && entry_of(cmdline, e->key)))
				continue; /* the step's own, or not an option */
			from_def[both.n] = s ? k : -1;
			ents[both.n++] = *e;
		}
	bool use[128] = {false};
	struct said said;
	int line;
	for (bool more = true; more;) {
		more = false;
		for (int k = 0; k < both.n; k++) {
			if (use[k])
				continue;
			use[k] = true;
			if (try_parse(jf, &st, &both, use, &said, &line)) {
				more = true;
			} else {
				use[k] = false;
				if (jf->err.len)
					goto fail; /* an unknown key, an unset variable */
				if (from_def[k] >= 0 && !why_not[from_def[k]].msg[0]) {
					why_not[from_def[k]] = said;
					why_line[from_def[k]] = line;
				}
			}
		}
	}
	if (!try_parse(jf, &st, &both, use, &said, &line)) {
		/* no word at fault, and the step's target is to come from
		 * [defaults]: the defaults it refused hid the real error behind
		 * a missing argument, which they say once given */
		if (!line && !entry_of(sec, "target") && !entry_of(sec, "to")) {
			struct said all;
			int all_line;
			for (int k = 0; k < both.n; k++)
				use[k] |= is_positional(both.e[k].key);
			if (!try_parse(jf, &st, &both, use, &all, &all_line) && all.msg[0]) {
				said = all;
				line = all_line;
			}
		}
		if (!jf->err.len)
			jf_error(jf, line ? line : sec->line, sec, "%s", said.msg);
		goto fail;
	}
	for (int k = 0; k < both.n; k++)
		if (use[k] && from_def[k] >= 0)
			used[from_def[k]] = true;
	/* the words the step runs with */
	struct jf_step fin = {0};
	bool ok = step_push(&fin, strdup(st.argv[0]), 0) && step_push(&fin, strdup(st.argv[1]), 0);
	for (int pass = 0; ok && pass < 2; pass++) {
		int dash = 2;
		while (dash < st.argc && strcmp(st.argv[dash], "--"))
			dash++;
		if (pass)
			ok = step_push(&fin, strdup("--"), 0);
		for (int k = pass ? dash + 1 : 2; ok && k < (pass ? st.argc : dash); k++)
			ok = step_push(&fin, strdup(st.argv[k]), st.line[k]);
		for (int k = 0; ok && k < both.n; k++)
			if (use[k])
				ok = entry_words(jf, &both, &both.e[k], &fin, pass == 1);
	}
	step_free(&st);
	if (!ok) {
		step_free(&fin);
		jf_error(jf, sec->line, sec, "out of memory");
		return false;
	}
	fin.sec = sec;
	fin.keep_going = out->keep_going;
	*out = fin;
	return true;
fail:
	if (!jf->err.len)
		jf_error(jf, sec->line, sec, "out of memory");
	step_free(&st);
	return false;
}

/* The run's own options that go to every step (which may set them itself):
 * --progress, -q, -v, and --dry-run to the steps whose command has one. */
static void cmdline_entries(const struct job *job, struct jf_entry *e, struct jf_section *out)
{
	static const char *const progress[] = {"auto", "bar", "log", "none"};
	out->e = e;
	out->n = 0;
	if (job->progress != PROGRESS_AUTO)
		e[out->n++] = (struct jf_entry){"progress", (char *)progress[job->progress], 0};
	if (job->quiet)
		e[out->n++] = (struct jf_entry){"quiet", "true", 0};
	if (job->verbose)
		e[out->n++] = (struct jf_entry){"verbose", "true", 0};
}

/* How much worse a status is, for the run's one exit code. */
static int severity(enum run_status s)
{
	switch (s) {
	case RUN_OK:
		return 0;
	case RUN_PARTIAL:
		return 1;
	case RUN_FAILED:
		return 2;
	case RUN_USAGE:
		return 3;
	case RUN_INTERRUPTED:
		return 4;
	}
	return 2;
}

/* The step's command line, URLs without their passwords, for --dry-run. */
static void print_command_line(const struct jf_step *st)
{
	struct buf b;
	buf_init(&b, 0);
	for (int i = 0; i < st->argc; i++) {
		char red[1024];
		const char *w = st->argv[i];
		if (strstr(w, "://")) {
			url_redact(w, red, sizeof red);
			w = red;
		}
		bool quote = strpbrk(w, " \t'\"$\\*?;&|<>()") != NULL || !*w;
		buf_cat(&b, i ? " " : "");
		if (quote) {
			buf_catc(&b, '\'');
			for (const char *p = w; *p; p++)
				buf_cat(&b, *p == '\'' ? "'\\''" : (char[2]){*p, 0});
			buf_catc(&b, '\'');
		} else
			buf_cat(&b, w);
	}
	printf("%s\n", buf_failed(&b) ? "(out of memory)" : buf_str(&b));
	fflush(stdout);
	buf_free(&b);
}

/* Whether step name is one --only names. */
static bool selected(const struct job *job, const char *name)
{
	if (!job->nonly)
		return true;
	for (int i = 0; i < job->nonly; i++)
		if (!strcmp(job->only[i], name))
			return true;
	return false;
}

/* Check the whole file: every step built and parsed, every [defaults] key
 * taken by some step, every --only a step. Fills steps (jf->n - 1). */
static bool check_file(struct jf_file *jf, const struct job *job, struct jf_step *steps)
{
	struct jf_entry cl_e[8];
	struct jf_section cl;
	cmdline_entries(job, cl_e, &cl);
	const struct jf_section *def = &jf->s[0];
	bool *used = calloc((size_t)def->n + 1, sizeof *used);
	int *why_line = calloc((size_t)def->n + 1, sizeof *why_line);
	struct said *why = calloc((size_t)def->n + 1, sizeof *why);
	bool ok = used && why_line && why;
	for (int k = 0; ok && k < def->n; k++)
		if (!strcmp(def->e[k].key, "command")) {
			jf_error(jf, def->e[k].line, def, "command goes in each [step NAME]");
			ok = false;
		}
	for (int i = 1; ok && i < jf->n; i++) {
		ok = build_step(jf, i, &cl, &steps[i - 1], used, why, why_line);
		if (ok) {
			struct job j;
			int bad;
			enum log_level level = log_get_level();
			struct said said = {{0}};
			log_divert(said_keep, &said);
			cli_parse_at(steps[i - 1].argc, steps[i - 1].argv, &j, &bad);
			log_divert(NULL, NULL);
			log_set_level(level);
			steps[i - 1].command = j.command;
			cli_job_free(&j);
		}
	}
	for (int k = 0; ok && k < def->n; k++) {
		const struct jf_entry *e = &def->e[k];
		if (used[k] || !strcmp(e->key, "on-error") || entry_of(&cl, e->key))
			continue;
		bool everywhere = true; /* every step sets it itself */
		for (int i = 1; i < jf->n; i++)
			everywhere &= entry_of(&jf->s[i], e->key) != NULL;
		if (everywhere)
			continue;
		if (why[k].msg[0])
			jf_error(jf, e->line, def, "no step takes %s = %s: %s", e->key, e->value,
				 why[k].msg);
		else
			jf_error(jf, e->line, def, "no step takes %s", e->key);
		ok = false;
	}
	for (int i = 0; ok && i < job->nonly; i++) {
		bool found = false;
		for (int k = 1; k < jf->n; k++)
			found |= !strcmp(jf->s[k].name, job->only[i]);
		if (!found) {
			struct buf names;
			buf_init(&names, 0);
			for (int k = 1; k < jf->n; k++)
				buf_catf(&names, "%s%s", k > 1 ? ", " : "", jf->s[k].name);
			buf_catf(&jf->err, "--only %s: %s has no [step %s] (its steps: %s)",
				 job->only[i], jf->path, job->only[i],
				 buf_failed(&names) ? "?" : buf_str(&names));
			buf_free(&names);
			ok = false;
		}
	}
	free(used);
	free(why_line);
	free(why);
	if (!ok && !jf->err.len)
		buf_cat(&jf->err, "out of memory");
	return ok;
}

/* Run step st as its command would run from the command line, its tables
 * into the run's report; returns how it ended. */
static enum run_status run_step(const struct jf_step *st, const struct job *run,
				struct run_report *rep)
{
	struct job job;
	enum log_level level = log_get_level();
	if (cli_parse(st->argc, st->argv, &job) != CLI_RUN) { /* checked before: cannot be */
		cli_job_free(&job);
		return RUN_USAGE;
	}
	job.into = rep;
	if (run->dry_run)
		job.dry_run = true; /* it has one: cli_command_dry_runs */
	cli_log_setup(&job);
	enum run_status s = cli_run_command(&job);
	cli_job_free(&job);
	log_set_level(level);
	cli_log_setup(run);
	return s;
}

enum run_status jobfile_run(const struct job *job)
{
	struct jf_file jf;
	struct run_report rep = {0};
	rep.started = wall_seconds();
	struct sl_error err;
	if (!report_check_output("--summary-json", job->summary_json, &err) ||
	    !report_check_output("--metrics-file", job->metrics_file, &err)) {
		log_error("%s", err.msg);
		return RUN_USAGE;
	}
	bool ok = jf_load(&jf, job->jobfile);
	int nsteps = jf.n > 1 ? jf.n - 1 : 0;
	struct jf_step *steps = calloc((size_t)nsteps + 1, sizeof *steps);
	struct step_result *res = calloc((size_t)nsteps + 1, sizeof *res);
	if (ok && (!steps || !res))
		buf_cat(&jf.err, "out of memory");
	if (!ok || !steps || !res || !check_file(&jf, job, steps)) {
		log_error("%s", jf.err.len ? buf_str(&jf.err) : "out of memory");
		for (int i = 0; steps && i < nsteps; i++)
			step_free(&steps[i]);
		free(steps);
		free(res);
		jf_free(&jf);
		return RUN_USAGE;
	}
	signals_install();
	enum run_status worst = RUN_OK;
	int nres = 0;
	const char *stopped_at = NULL;
	for (int i = 0; i < nsteps; i++) {
		const struct jf_step *st = &steps[i];
		if (!selected(job, st->sec->name))
			continue;
		if (signals_caught()) {
			worst = RUN_INTERRUPTED;
			break;
		}
		struct step_result *r = &res[nres++];
		snprintf(r->name, sizeof r->name, "%s", st->sec->name);
		r->command = st->command;
		if (job->dry_run && !cli_command_dry_runs(st->command)) {
			printf("[step %s] ", st->sec->name);
			print_command_line(st);
			r->status = RUN_OK;
			continue;
		}
		if (job->dry_run)
			printf("[step %s] %s --dry-run\n", st->sec->name,
			       report_command_name(st->command));
		fflush(stdout);
		log_info("step %s: %s", st->sec->name, report_command_name(st->command));
		double t0 = now_seconds();
		r->status = run_step(st, job, &rep);
		r->seconds = now_seconds() - t0;
		if (severity(r->status) > severity(worst))
			worst = r->status;
		if (r->status == RUN_INTERRUPTED || signals_caught()) {
			worst = RUN_INTERRUPTED;
			stopped_at = st->sec->name;
			break;
		}
		if ((r->status == RUN_FAILED || r->status == RUN_USAGE) && !st->keep_going) {
			stopped_at = st->sec->name;
			break;
		}
	}
	if (stopped_at) {
		struct buf rest;
		buf_init(&rest, 0);
		bool after = false;
		for (int i = 0; i < nsteps; i++) {
			if (after && selected(job, steps[i].sec->name))
				buf_catf(&rest, "%s%s", rest.len ? ", " : "", steps[i].sec->name);
			after |= !strcmp(steps[i].sec->name, stopped_at);
		}
		if (rest.len)
			log_error("step %s %s: not run: %s", stopped_at,
				  worst == RUN_INTERRUPTED ? "was interrupted" : "failed",
				  buf_failed(&rest) ? "?" : buf_str(&rest));
		buf_free(&rest);
	}
	rep.steps = res;
	rep.nsteps = nres;
	if (!job->quiet || worst == RUN_FAILED || worst == RUN_USAGE)
		for (int i = 0; i < nres; i++)
			log_result("step %-20s %-8s %-11s %8.2f s", res[i].name,
				   report_command_name(res[i].command),
				   run_status_name(res[i].status), res[i].seconds);
	worst = report_finish(&rep, job, worst);
	if (!rep.ntables && (!job->quiet || worst != RUN_OK))
		log_result("status %s%s", run_status_name(worst),
			   job->dry_run ? " (dry run: nothing was written)" : "");
	report_free(&rep);
	for (int i = 0; i < nsteps; i++)
		step_free(&steps[i]);
	free(steps);
	free(res);
	jf_free(&jf);
	return worst;
}
