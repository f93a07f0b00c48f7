/* src/cli/options.c
 * Option parsing for every command: fills a struct job, validates values,
 * and prints --help. Errors are usage errors (exit 2).
 */
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sluice/cli.h"
#include "sluice/driver.h"
#include "sluice/log.h"

enum {
	OPT_FORMAT = 1000,
	OPT_DELIMITER,
	OPT_QUOTE,
	OPT_ESCAPE,
	OPT_NO_HEADER,
	OPT_COLUMNS,
	OPT_NULL,
	OPT_ENCODING,
	OPT_BATCH_ROWS,
	OPT_METHOD,
	OPT_TRUNCATE,
	OPT_DRY_RUN,
	OPT_CREATE,
	OPT_SINGLE_TX,
	OPT_DEFAULTS,
	OPT_MAX_RECORD,
	OPT_IGNORE_UNKNOWN,
	OPT_ON_CONFLICT,
	OPT_KEY,
	OPT_REJECTS,
	OPT_MAX_ERRORS,
	OPT_WORKERS,
	OPT_POOL_MIN,
	OPT_POOL_MAX,
	OPT_ACQUIRE_TIMEOUT,
	OPT_IDLE_TIMEOUT,
	OPT_RETRIES,
	OPT_PROGRESS,
	OPT_STATS_INTERVAL,
	OPT_SUMMARY_JSON,
	OPT_SET,
	OPT_TABLES,
	OPT_EXCLUDE_TABLES,
	OPT_SCHEMA,
	OPT_QUERY,
	OPT_CAST,
	OPT_VERIFY,
	OPT_SPLIT_ROWS,
	OPT_TIMEOUT,
	OPT_RESUME,
	OPT_JOB,
	OPT_CHECKPOINT_TABLE,
	OPT_FORGET,
	OPT_NO_EJSON,
	OPT_METRICS_FILE,
};

static const struct option long_options[] = {
	{"table", required_argument, NULL, 't'},
	{"format", required_argument, NULL, OPT_FORMAT},
	{"delimiter", required_argument, NULL, OPT_DELIMITER},
	{"quote", required_argument, NULL, OPT_QUOTE},
	{"escape", required_argument, NULL, OPT_ESCAPE},
	{"no-header", no_argument, NULL, OPT_NO_HEADER},
	{"columns", required_argument, NULL, OPT_COLUMNS},
	{"null", required_argument, NULL, OPT_NULL},
	{"encoding", required_argument, NULL, OPT_ENCODING},
	{"batch-rows", required_argument, NULL, OPT_BATCH_ROWS},
	{"method", required_argument, NULL, OPT_METHOD},
	{"truncate", no_argument, NULL, OPT_TRUNCATE},
	{"dry-run", no_argument, NULL, OPT_DRY_RUN},
	{"create", no_argument, NULL, OPT_CREATE},
	{"single-transaction", no_argument, NULL, OPT_SINGLE_TX},
	{"defaults", no_argument, NULL, OPT_DEFAULTS},
	{"max-record-bytes", required_argument, NULL, OPT_MAX_RECORD},
	{"ignore-unknown", no_argument, NULL, OPT_IGNORE_UNKNOWN},
	{"on-conflict", required_argument, NULL, OPT_ON_CONFLICT},
	{"key", required_argument, NULL, OPT_KEY},
	{"set", required_argument, NULL, OPT_SET},
	{"rejects", required_argument, NULL, OPT_REJECTS},
	{"max-errors", required_argument, NULL, OPT_MAX_ERRORS},
	{"workers", required_argument, NULL, OPT_WORKERS},
	{"pool-min", required_argument, NULL, OPT_POOL_MIN},
	{"pool-max", required_argument, NULL, OPT_POOL_MAX},
	{"acquire-timeout", required_argument, NULL, OPT_ACQUIRE_TIMEOUT},
	{"idle-timeout", required_argument, NULL, OPT_IDLE_TIMEOUT},
	{"retries", required_argument, NULL, OPT_RETRIES},
	{"timeout", required_argument, NULL, OPT_TIMEOUT},
	{"progress", required_argument, NULL, OPT_PROGRESS},
	{"stats-interval", required_argument, NULL, OPT_STATS_INTERVAL},
	{"summary-json", required_argument, NULL, OPT_SUMMARY_JSON},
	{"metrics-file", required_argument, NULL, OPT_METRICS_FILE},
	{"tables", required_argument, NULL, OPT_TABLES},
	{"exclude-tables", required_argument, NULL, OPT_EXCLUDE_TABLES},
	{"schema", required_argument, NULL, OPT_SCHEMA},
	{"query", required_argument, NULL, OPT_QUERY},
	{"cast", required_argument, NULL, OPT_CAST},
	{"verify", no_argument, NULL, OPT_VERIFY},
	{"split-rows", required_argument, NULL, OPT_SPLIT_ROWS},
	{"resume", no_argument, NULL, OPT_RESUME},
	{"no-ejson", no_argument, NULL, OPT_NO_EJSON},
	{"job", required_argument, NULL, OPT_JOB},
	{"checkpoint-table", required_argument, NULL, OPT_CHECKPOINT_TABLE},
	{"forget", no_argument, NULL, OPT_FORGET},
	{"quiet", no_argument, NULL, 'q'},
	{"verbose", no_argument, NULL, 'v'},
	{"help", no_argument, NULL, 'h'},
	{"version", no_argument, NULL, 'V'},
	{NULL, 0, NULL, 0},
};

static void print_main_help(FILE *f)
{
	fputs("sluice " SLUICE_VERSION
	      " - bulk-load CSV and JSON into PostgreSQL, MySQL/MariaDB and SQLite\n"
	      "\n"
	      "Usage:\n"
	      "  sluice load   [OPTIONS] SOURCE... TARGET_URL   file(s) or stdin (-) -> a table\n"
	      "  sluice update [OPTIONS] SOURCE... TARGET_URL   batch UPDATE by --key\n"
	      "  sluice copy   [OPTIONS] FROM_URL TO_URL        stream tables between servers\n"
	      "  sluice verify [OPTIONS] FROM_URL TO_URL        compare tables on two servers\n"
	      "  sluice ping   URL                             connect, show the server version\n"
	      "  sluice checkpoints [--job NAME [--forget]] TARGET_URL\n"
	      "                                                list (or forget) --resume jobs\n"
	      "  sluice --help | --version | COMMAND --help\n"
	      "\n"
	      "URLs:\n",
	      f);
	char urls[1024];
	driver_url_help(urls, sizeof urls);
	fputs(urls, f);
	fputs("\n"
	      "Exit codes: 0 every row written; 3 some rows rejected; 2 usage error;\n"
	      "1 the run failed; 130/143 interrupted.\n"
	      "\n"
	      "Example: sluice load orders.csv postgresql://app@db1/shop --table orders\n"
	      "\n"
	      "Each command's options: sluice COMMAND --help. The manual: man sluice.\n",
	      f);
}

static void print_load_help(FILE *f)
{
	fputs("Usage: sluice load [OPTIONS] SOURCE... TARGET_URL\n"
	      "\n"
	      "Load CSV/TSV/JSON files (or stdin as -; gzip detected by content) into a table.\n"
	      "\n"
	      "Input:\n"
	      "  -t, --table [SCHEMA.]NAME  target table (default: the file's name without\n"
	      "                             its extensions)\n"
	      "      --format FMT           csv, tsv, ndjson, json (default: by extension,\n"
	      "                             then content)\n"
	      "      --delimiter C          field delimiter (default , for csv, TAB for tsv)\n"
	      "      --quote C              quote character (default \")\n"
	      "      --escape C             escape inside quotes (default: the quote, doubled)\n"
	      "      --no-header            the first line is data, not column names\n"
	      "      --columns A,B,C        target columns, in input order (renames a header)\n"
	      "      --null STR             a field equal to STR is NULL (besides an unquoted\n"
	      "                             empty one)\n"
	      "      --encoding ENC         utf8 (default) or latin1\n"
	      "      --ignore-unknown       JSON: ignore keys that are not columns\n"
	      "      --defaults             JSON: a missing key takes the column default,\n"
	      "                             not NULL\n"
	      "      --no-ejson             JSON: keep MongoDB Extended JSON wrappers\n"
	      "                             ($date, ...) as they are, not unwrapped\n"
	      "      --max-record-bytes N   reject a record larger than N bytes (K, M, G\n"
	      "                             suffixes; default 64M); memory stays a small\n"
	      "                             multiple of it\n"
	      "\n"
	      "Writing:\n"
	      "      --method M             copy (PostgreSQL default), insert (MySQL\n"
	      "                             default), infile\n"
	      "      --batch-rows N         rows per batch; each batch is a transaction\n"
	      "                             (default 10000)\n"
	      "      --single-transaction   the whole run commits or nothing does\n"
	      "      --truncate             empty the table first\n"
	      "      --create               create a missing table, types inferred from the\n"
	      "                             first batch\n"
	      "      --on-conflict MODE     error (default), skip, update (needs --key)\n"
	      "      --key A,B              key columns for --on-conflict (with --create: the\n"
	      "                             primary key)\n"
	      "      --dry-run              connect and check, parse everything, print the SQL,\n"
	      "                             write nothing\n"
	      "      --resume               exactly once across crashes: every committed\n"
	      "                             batch is a row of a checkpoint table in the\n"
	      "                             target; a rerun skips what is in, and files\n"
	      "                             loaded whole\n"
	      "      --job NAME             the resumable job (default: the table and the\n"
	      "                             sources' directory)\n"
	      "      --checkpoint-table T   where checkpoints live (default sluice_checkpoints)\n"
	      "\n"
	      "Parallelism and the connection pool:\n"
	      "      --workers N            writer threads (default 1)\n"
	      "      --pool-min N, --pool-max N  pool bounds (default 0 and the workers)\n"
	      "      --acquire-timeout S    fail when a connection takes longer (default 30)\n"
	      "      --idle-timeout S       close idle connections above the minimum\n"
	      "                             (default 60)\n"
	      "      --retries N            reconnects and retries of broken batches\n"
	      "                             (default 3)\n"
	      "      --timeout S            a connect, batch or query that moves no byte to or\n"
	      "                             from the server for S seconds counts as a broken\n"
	      "                             connection: dropped, retried, then exit 1 (default\n"
	      "                             600; 0 waits for ever)\n"
	      "\n"
	      "Errors and reporting:\n"
	      "      --progress MODE        auto (default), bar, log, none\n"
	      "      --stats-interval S     seconds between progress log lines (default 10)\n"
	      "      --rejects FILE         write rejected records to FILE, reasons to FILE.log\n"
	      "      --max-errors N         tolerate N rejected rows, stop at the next one\n"
	      "                             (default: no limit)\n"
	      "      --summary-json FILE    write the summary as JSON (- for stdout)\n"
	      "      --metrics-file FILE    write it as Prometheus text for node_exporter's\n"
	      "                             textfile collector (a temporary file renamed)\n"
	      "  -q, --quiet                print errors only\n"
	      "  -v, --verbose              also the statements sent (values left out) and the\n"
	      "                             server session of each batch\n"
	      "  -h, --help                 this help\n"
	      "\n"
	      "Example, a nightly import from cron:\n"
	      "  sluice load /data/orders-*.csv postgresql:///shop --table orders \\\n"
	      "      --rejects /var/log/orders.rej --summary-json /var/log/orders.json -q\n"
	      "\n"
	      "More in the manual: man sluice.\n",
	      f);
}

static void print_update_help(FILE *f)
{
	fputs("Usage: sluice update [OPTIONS] SOURCE... TARGET_URL --table T --key K[,K2]\n"
	      "\n"
	      "Each input row updates the row whose key columns match; the other input\n"
	      "columns are the ones set (--set A,B narrows them). Each batch is one\n"
	      "transaction; a failing batch is bisected so good rows still commit. Rows\n"
	      "whose key matches nothing count as not found and go to the rejects file.\n"
	      "\n"
	      "      --key A,B              the columns that identify a row (required)\n"
	      "      --set A,B              update only these columns\n"
	      "\n"
	      "Input, transaction, pool, progress and reporting options are those of\n"
	      "sluice load (see sluice load --help); --method, --create, --truncate and\n"
	      "--on-conflict do not apply.\n",
	      f);
}

static void print_copy_help(FILE *f)
{
	fputs("Usage: sluice copy [OPTIONS] FROM_URL TO_URL\n"
	      "\n"
	      "Stream tables from one server to another (MySQL/MariaDB and PostgreSQL, either\n"
	      "way), read inside one consistent snapshot of the source, written through the\n"
	      "target's bulk path with the same rejects, retries and summary as sluice load.\n"
	      "\n"
	      "      --tables A,B           tables to copy (default: every base table)\n"
	      "      --exclude-tables A,B   tables to leave out\n"
	      "      --schema S             PostgreSQL schema, either side (default public)\n"
	      "      --query SQL            copy the rows of a SELECT into --table T (which\n"
	      "                             exists)\n"
	      "      --create               create missing tables: mapped types, NOT NULL,\n"
	      "                             defaults, primary key; indexes and foreign keys\n"
	      "                             after the data\n"
	      "      --truncate             empty each target table first\n"
	      "      --cast SRC=DST,...     override the type mapping for a source type\n"
	      "      --verify               compare every copied table afterwards (sluice\n"
	      "                             verify)\n"
	      "      --workers N            copy N tables or key ranges at once, in one\n"
	      "                             snapshot\n"
	      "      --split-rows N         with --workers, cut a table with a single integer\n"
	      "                             primary key into ranges of about N rows (500000)\n"
	      "      --dry-run              print the DDL and the plan, copy nothing\n"
	      "      --max-errors N         tolerate N rejected rows, stop at the next one\n"
	      "                             (default 0: the first stops the copy)\n"
	      "      --batch-rows N         rows per batch and transaction (default 50000)\n"
	      "      --resume               exactly once across crashes: a rerun goes on\n"
	      "                             after the committed keys of each table (see\n"
	      "                             sluice load --help)\n"
	      "      --job NAME             the resumable job (default: copy:FROM_URL)\n"
	      "      --checkpoint-table T   where checkpoints live (default sluice_checkpoints)\n"
	      "\n"
	      "Writing, pool, progress and reporting options are those of sluice load\n"
	      "(--batch-rows, --workers, --rejects, --max-errors, --summary-json,\n"
	      "--metrics-file, -q, ...).\n"
	      "\n"
	      "Example: sluice copy mysql://root@db1/shop postgresql://pg1/shop --create\n"
	      "More in the manual: man sluice.\n",
	      f);
}

static void print_checkpoints_help(FILE *f)
{
	fputs("Usage: sluice checkpoints [OPTIONS] TARGET_URL\n"
	      "\n"
	      "List the --resume jobs whose checkpoints TARGET_URL holds: a tab-separated line\n"
	      "per job and source (a file, or a table of sluice copy) with its committed\n"
	      "batches, rows written, whether it is whole, and its first and last commit.\n"
	      "\n"
	      "      --job NAME             only this job\n"
	      "      --forget               delete the job's checkpoints (needs --job): its\n"
	      "                             next --resume run starts over\n"
	      "      --checkpoint-table T   where checkpoints live (default sluice_checkpoints)\n"
	      "  -q, --quiet                print errors only\n",
	      f);
}

static void print_verify_help(FILE *f)
{
	fputs("Usage: sluice verify [OPTIONS] FROM_URL TO_URL\n"
	      "\n"
	      "Compare each table's row count and an order-independent checksum that each\n"
	      "server computes over its values in one canonical text. Prints a line per\n"
	      "table; any difference names the table and exits 1.\n"
	      "\n"
	      "      --tables A,B           tables to compare (default: every base table)\n"
	      "      --exclude-tables A,B   tables to leave out\n"
	      "      --schema S             PostgreSQL schema (default public)\n"
	      "      --timeout S            a query whose server sends nothing for S seconds\n"
	      "                             fails the run (default 600; 0 waits for ever)\n"
	      "      --summary-json FILE    the result as JSON\n"
	      "      --checkpoint-table T   sluice's checkpoint table, never compared\n"
	      "                             (default sluice_checkpoints)\n"
	      "  -q, --quiet                errors only\n",
	      f);
}

/* Split "a,b,c" into a malloc'd array of malloc'd names. */
static bool split_list(const char *s, char ***out, int *n)
{
	int count = 1;
	for (const char *p = s; *p; p++)
		if (*p == ',')
			count++;
	char **v = calloc((size_t)count, sizeof *v);
	if (!v)
		return false;
	int i = 0;
	const char *p = s;
	for (;;) {
		size_t len = strcspn(p, ",");
		/* trim spaces around names written "a, b" */
		const char *a = p, *e = p + len;
		while (a < e && *a == ' ')
			a++;
		while (e > a && e[-1] == ' ')
			e--;
		if (e == a) {
			for (int k = 0; k < i; k++)
				free(v[k]);
			free(v);
			return false;
		}
		v[i] = strndup(a, (size_t)(e - a));
		i++;
		if (!p[len])
			break;
		p += len + 1;
	}
	*out = v;
	*n = i;
	return true;
}

static bool parse_char(const char *opt, const char *arg, char *out)
{
	if (!strcmp(arg, "\\t") || !strcasecmp(arg, "tab")) {
		*out = '\t';
		return true;
	}
	if (strlen(arg) > 1 && (unsigned char)arg[0] >= 0xC0 &&
	    strlen(arg) == ((unsigned char)arg[0] >= 0xF0   ? 4
			    : (unsigned char)arg[0] >= 0xE0 ? 3
							    : 2)) {
		/* one character, but more than one byte: the parser splits on bytes */
		log_error("%s takes a character of one byte (ASCII): '%s' is %zu bytes in UTF-8",
			  opt, arg, strlen(arg));
		return false;
	}
	if (strlen(arg) != 1 || arg[0] == '\n' || arg[0] == '\r') {
		log_error("%s takes one character, not '%s'", opt, arg);
		return false;
	}
	*out = arg[0];
	return true;
}

static bool parse_long(const char *opt, const char *arg, long min, long max, long *out)
{
	char *end;
	long v = strtol(arg, &end, 10);
	if (!*arg || *end || v < min || v > max) {
		log_error("%s takes a whole number from %ld to %ld, not '%s'", opt, min, max, arg);
		return false;
	}
	*out = v;
	return true;
}

/* A byte count with an optional K, M or G suffix (powers of 1024). */
static bool parse_bytes(const char *opt, const char *arg, size_t min, size_t *out)
{
	char *end;
	unsigned long long v = strtoull(arg, &end, 10);
	int shift = 0;
	if (*end == 'k' || *end == 'K')
		shift = 10;
	else if (*end == 'm' || *end == 'M')
		shift = 20;
	else if (*end == 'g' || *end == 'G')
		shift = 30;
	if (shift)
		end++;
	if (*arg < '0' || *arg > '9' || *end || v > (1ULL << 40) >> shift ||
	    (size_t)(v << shift) < min) {
		log_error("%s takes a size in bytes from %zu to 1T (K, M, G suffixes), not '%s'",
			  opt, min, arg);
		return false;
	}
	*out = (size_t)(v << shift);
	return true;
}

static bool parse_seconds(const char *opt, const char *arg, double *out)
{
	char *end;
	double v = strtod(arg, &end);
	if (!*arg || *end || v < 0) {
		log_error("%s takes seconds (a number >= 0), not '%s'", opt, arg);
		return false;
	}
	*out = v;
	return true;
}

/* The edit distance between a and b (insertions, deletions, changes),
 * counted up to 9. */
static int edit_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	if (la > 40 || lb > 40)
		return 9;
	int d[41][41];
	for (size_t i = 0; i <= la; i++)
		d[i][0] = (int)i;
	for (size_t j = 0; j <= lb; j++)
		d[0][j] = (int)j;
	for (size_t i = 1; i <= la; i++)
		for (size_t j = 1; j <= lb; j++) {
			int sub = d[i - 1][j - 1] + (a[i - 1] != b[j - 1]);
			int del = d[i - 1][j] + 1, ins = d[i][j - 1] + 1;
			d[i][j] = sub < del ? (sub < ins ? sub : ins) : (del < ins ? del : ins);
		}
	return d[la][lb] > 9 ? 9 : d[la][lb];
}

/* The candidate closest to word, when close enough to be what was meant
 * (a third of its letters wrong at most), or NULL. */
static const char *closest(const char *word, const char *const *candidates, int n)
{
	const char *best = NULL;
	int best_d = 9;
	for (int i = 0; i < n; i++) {
		int d = edit_distance(word, candidates[i]);
		if (d < best_d) {
			best_d = d;
			best = candidates[i];
		}
	}
	int limit = (int)strlen(word) / 3 > 1 ? (int)strlen(word) / 3 : 1;
	return best && best_d <= limit ? best : NULL;
}

static const char *const commands[] = {"load", "update", "copy", "verify", "ping", "checkpoints"};

/* The long options whose name starts with the len bytes of name, as
 * "--a, --b" into out; returns how many, and the one in *only. */
static int option_matches(const char *name, size_t len, char *out, size_t n, const char **only)
{
	int count = 0;
	size_t o = 0;
	out[0] = '\0';
	for (const struct option *lo = long_options; lo->name; lo++) {
		if (strncmp(lo->name, name, len))
			continue;
		if (strlen(lo->name) == len) { /* exact: never ambiguous */
			*only = lo->name;
			return 1;
		}
		*only = lo->name;
		if (o < n)
			o += (size_t)snprintf(out + o, n - o, "%s--%s", count ? ", " : "",
					      lo->name);
		count++;
	}
	return count;
}

/* Before getopt: a long option written with one dash ("-workers", which
 * getopt reads as -w -o -r ...) and a long one that is no option or the
 * start of several: each a usage error that says what was meant. */
static bool check_words(int argc, char **argv, const char *cmd)
{
	for (int i = 2; i < argc; i++) {
		const char *a = argv[i];
		if (!strcmp(a, "--"))
			break;
		if (a[0] != '-' || !a[1])
			continue; /* a source, a URL or "-" (stdin) */
		bool two = a[1] == '-';
		const char *name = a + (two ? 2 : 1);
		size_t len = strcspn(name, "=");
		char list[600];
		const char *only = NULL;
		if (!two) {
			/* "-workers" or "-table=x": a long option's whole name */
			int m = len > 1 ? option_matches(name, len, list, sizeof list, &only) : 0;
			if (m == 1 && strlen(only) == len) {
				log_error("unknown option %s: long options take two dashes: --%s",
					  a, only);
				return false;
			}
			if (a[1] == 't' && !a[2])
				i++; /* -t TABLE */
			continue;
		}
		int m = option_matches(name, len, list, sizeof list, &only);
		if (m > 1) {
			log_error("option --%.*s is ambiguous: it could be %s", (int)len, name,
				  list);
			return false;
		}
		if (m == 0) {
			const char *names[80];
			int n = 0;
			for (const struct option *lo = long_options; lo->name && n < 80; lo++)
				names[n++] = lo->name;
			char word[64];
			snprintf(word, sizeof word, "%.*s", (int)(len < 63 ? len : 63), name);
			const char *near = closest(word, names, n);
			if (near)
				log_error("unknown option --%s: did you mean --%s?", word, near);
			else
				log_error("unknown option --%s (see sluice %s --help)", word, cmd);
			return false;
		}
		for (const struct option *lo = long_options; lo->name; lo++)
			if (!strcmp(lo->name, only) && lo->has_arg == required_argument &&
			    !name[len])
				i++; /* its value, which may start with '-' */
	}
	return true;
}

/* A connection URL of a scheme sluice knows, or a usage error that says
 * which scheme was probably meant. what: "TARGET_URL", "FROM_URL". */
static bool check_url(const char *what, const char *url)
{
	const char *const *schemes;
	int nschemes = driver_schemes(&schemes, 16);
	char forms[256];
	driver_url_forms(forms, sizeof forms);
	if (driver_for_url(url))
		return true;
	const char *sep = strchr(url, ':');
	size_t len = sep ? (size_t)(sep - url) : 0;
	for (size_t i = 0; i < len; i++)
		if (!((url[i] | 0x20) >= 'a' && (url[i] | 0x20) <= 'z') &&
		    !(i && ((url[i] >= '0' && url[i] <= '9') || strchr("+-.", url[i]))))
			len = 0;
	if (!len || len > 31) {
		log_error("%s '%.80s' is not a URL: it starts with %s", what, url, forms);
		return false;
	}
	char scheme[32];
	snprintf(scheme, sizeof scheme, "%.*s", (int)len, url);
	for (size_t i = 0; i < sizeof scheme && scheme[i]; i++)
		if (scheme[i] >= 'A' && scheme[i] <= 'Z')
			scheme[i] = (char)(scheme[i] - 'A' + 'a');
	for (int i = 0; i < nschemes; i++)
		if (!strcmp(scheme, schemes[i])) {
			log_error("%s '%.80s' is not a URL: it starts with %s", what, url, forms);
			return false;
		}
	const char *near = closest(scheme, schemes, nschemes);
	if (!near && (!strcmp(scheme, "pg") || !strcmp(scheme, "psql")))
		near = "postgresql";
	if (near) {
		/* written "scheme:" or "scheme://", as the registry has it */
		char want[40];
		snprintf(want, sizeof want, "%s:", near);
		if (!driver_for_url(want))
			snprintf(want, sizeof want, "%s://", near);
		log_error("%s: unknown scheme %s: did you mean %s?", what, scheme, want);
	} else {
		log_error("%s: unknown scheme %s: sluice speaks %s", what, scheme, forms);
	}
	return false;
}

static void job_defaults(struct job *job)
{
	memset(job, 0, sizeof *job);
	job->batch_rows = 10000;
	job->max_errors = -1;
	job->workers = 1;
	job->acquire_timeout = 30;
	job->idle_timeout = 60;
	job->timeout = 600;
	job->retries = 3;
	job->stats_interval = 10;
}

enum cli_result cli_parse(int argc, char **argv, struct job *job)
{
	job_defaults(job);
	if (argc < 2) {
		print_main_help(stderr);
		return CLI_USAGE;
	}
	const char *cmd = argv[1];
	if (!strcmp(cmd, "--help") || !strcmp(cmd, "-h") || !strcmp(cmd, "help")) {
		print_main_help(stdout);
		return CLI_EXIT_OK;
	}
	if (!strcmp(cmd, "--version") || !strcmp(cmd, "-V")) {
		printf("sluice %s\n", SLUICE_VERSION);
		return CLI_EXIT_OK;
	}
	if (!strcmp(cmd, "load"))
		job->command = CMD_LOAD;
	else if (!strcmp(cmd, "update"))
		job->command = CMD_UPDATE;
	else if (!strcmp(cmd, "ping"))
		job->command = CMD_PING;
	else if (!strcmp(cmd, "copy"))
		job->command = CMD_COPY;
	else if (!strcmp(cmd, "verify"))
		job->command = CMD_VERIFY;
	else if (!strcmp(cmd, "checkpoints"))
		job->command = CMD_CHECKPOINTS;
	else {
		const char *near = closest(cmd, commands, 6);
		FILE *f = cmd[0] != '-' ? fopen(cmd, "r") : NULL;
		if (f)
			fclose(f);
		if (near)
			log_error("unknown command '%s': did you mean sluice %s?", cmd, near);
		else if (f) /* a file: the command was left out */
			log_error("unknown command '%s': to load it, sluice load %s ... TARGET_URL",
				  cmd, cmd);
		else
			log_error("unknown command '%s': the commands are load, update, copy, "
				  "verify, ping and checkpoints (sluice --help)",
				  cmd);
		return CLI_USAGE;
	}
	if (!check_words(argc, argv, cmd))
		return CLI_USAGE;

	long v;
	int c;
	optind = 2;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":t:qvhV", long_options, NULL)) != -1) {
		const char *name = optind > 0 && optind <= argc ? argv[optind - 1] : "option";
		switch (c) {
		case 't':
			job->table = optarg;
			break;
		case 'q':
			job->quiet = true;
			break;
		case 'v':
			job->verbose = true;
			break;
		case 'h':
			if (job->command == CMD_PING)
				puts("Usage: sluice ping URL\n\nConnect to URL, print the server "
				     "version; exit 0, or 1 when it cannot connect.");
			else if (job->command == CMD_UPDATE)
				print_update_help(stdout);
			else if (job->command == CMD_COPY)
				print_copy_help(stdout);
			else if (job->command == CMD_VERIFY)
				print_verify_help(stdout);
			else if (job->command == CMD_CHECKPOINTS)
				print_checkpoints_help(stdout);
			else
				print_load_help(stdout);
			return CLI_EXIT_OK;
		case 'V':
			printf("sluice %s\n", SLUICE_VERSION);
			return CLI_EXIT_OK;
		case OPT_FORMAT:
			job->input.format = reader_format_parse(optarg);
			if (job->input.format == FORMAT_AUTO) {
				log_error("--format takes csv, tsv, ndjson or json, not '%s'",
					  optarg);
				return CLI_USAGE;
			}
			break;
		case OPT_DELIMITER:
			if (!parse_char("--delimiter", optarg, &job->input.delimiter))
				return CLI_USAGE;
			break;
		case OPT_QUOTE:
			if (!parse_char("--quote", optarg, &job->input.quote))
				return CLI_USAGE;
			break;
		case OPT_ESCAPE:
			if (!parse_char("--escape", optarg, &job->input.escape))
				return CLI_USAGE;
			break;
		case OPT_NO_HEADER:
			job->input.no_header = true;
			break;
		case OPT_COLUMNS:
			if (!split_list(optarg, &job->columns, &job->ncolumns)) {
				log_error("--columns takes names separated by commas");
				return CLI_USAGE;
			}
			break;
		case OPT_NULL:
			job->input.null_marker = optarg;
			break;
		case OPT_ENCODING:
			if (!strcasecmp(optarg, "utf8") || !strcasecmp(optarg, "utf-8"))
				job->input.encoding = ENCODING_UTF8;
			else if (!strcasecmp(optarg, "latin1") || !strcasecmp(optarg, "iso-8859-1"))
				job->input.encoding = ENCODING_LATIN1;
			else {
				log_error("--encoding takes utf8 or latin1, not '%s'", optarg);
				return CLI_USAGE;
			}
			break;
		case OPT_BATCH_ROWS:
			if (!parse_long("--batch-rows", optarg, 1, 10000000, &v))
				return CLI_USAGE;
			job->batch_rows = (size_t)v;
			job->batch_rows_given = true;
			break;
		case OPT_METHOD:
			if (!strcmp(optarg, "copy"))
				job->method = METHOD_COPY;
			else if (!strcmp(optarg, "insert"))
				job->method = METHOD_INSERT;
			else if (!strcmp(optarg, "infile"))
				job->method = METHOD_INFILE;
			else {
				log_error("--method takes copy, insert or infile, not '%s'",
					  optarg);
				return CLI_USAGE;
			}
			break;
		case OPT_TRUNCATE:
			job->truncate = true;
			break;
		case OPT_DRY_RUN:
			job->dry_run = true;
			break;
		case OPT_CREATE:
			job->create = true;
			break;
		case OPT_SINGLE_TX:
			job->single_transaction = true;
			break;
		case OPT_DEFAULTS:
			job->defaults = true;
			job->input.missing_as_default = true;
			break;
		case OPT_MAX_RECORD:
			if (!parse_bytes("--max-record-bytes", optarg, 64,
					 &job->input.max_record_bytes))
				return CLI_USAGE;
			break;
		case OPT_IGNORE_UNKNOWN:
			job->input.ignore_unknown = true;
			break;
		case OPT_ON_CONFLICT:
			if (!strcmp(optarg, "error"))
				job->on_conflict = CONFLICT_ERROR;
			else if (!strcmp(optarg, "skip"))
				job->on_conflict = CONFLICT_SKIP;
			else if (!strcmp(optarg, "update"))
				job->on_conflict = CONFLICT_UPDATE;
			else {
				log_error("--on-conflict takes error, skip or update, not '%s'",
					  optarg);
				return CLI_USAGE;
			}
			break;
		case OPT_KEY:
			if (!split_list(optarg, &job->key, &job->nkey)) {
				log_error("--key takes names separated by commas");
				return CLI_USAGE;
			}
			break;
		case OPT_SET:
			if (!split_list(optarg, &job->set, &job->nset)) {
				log_error("--set takes names separated by commas");
				return CLI_USAGE;
			}
			break;
		case OPT_REJECTS:
			job->rejects_path = optarg;
			break;
		case OPT_TABLES:
		case OPT_EXCLUDE_TABLES:
			if (!split_list(optarg,
					c == OPT_TABLES ? &job->tables : &job->exclude_tables,
					c == OPT_TABLES ? &job->ntables : &job->nexclude)) {
				log_error("%s takes names separated by commas", name);
				return CLI_USAGE;
			}
			break;
		case OPT_SCHEMA:
			job->schema = optarg;
			break;
		case OPT_QUERY:
			job->query = optarg;
			break;
		case OPT_CAST:
			job->cast = optarg;
			break;
		case OPT_VERIFY:
			job->verify = true;
			break;
		case OPT_RESUME:
			job->resume = true;
			break;
		case OPT_NO_EJSON:
			job->input.no_ejson = true;
			break;
		case OPT_JOB:
			job->job_name = optarg;
			break;
		case OPT_FORGET:
			job->forget = true;
			break;
		case OPT_CHECKPOINT_TABLE:
			job->checkpoint_table = optarg;
			break;
		case OPT_SPLIT_ROWS:
			if (!parse_long("--split-rows", optarg, 1000, LONG_MAX, &v))
				return CLI_USAGE;
			job->split_rows = (unsigned long long)v;
			break;
		case OPT_MAX_ERRORS:
			if (!parse_long("--max-errors", optarg, 0, LONG_MAX, &job->max_errors))
				return CLI_USAGE;
			break;
		case OPT_WORKERS:
			if (!parse_long("--workers", optarg, 1, 64, &v))
				return CLI_USAGE;
			job->workers = (int)v;
			break;
		case OPT_POOL_MIN:
			if (!parse_long("--pool-min", optarg, 0, 64, &v))
				return CLI_USAGE;
			job->pool_min = (int)v;
			break;
		case OPT_POOL_MAX:
			if (!parse_long("--pool-max", optarg, 1, 64, &v))
				return CLI_USAGE;
			job->pool_max = (int)v;
			break;
		case OPT_ACQUIRE_TIMEOUT:
			if (!parse_seconds("--acquire-timeout", optarg, &job->acquire_timeout))
				return CLI_USAGE;
			break;
		case OPT_IDLE_TIMEOUT:
			if (!parse_seconds("--idle-timeout", optarg, &job->idle_timeout))
				return CLI_USAGE;
			break;
		case OPT_RETRIES:
			if (!parse_long("--retries", optarg, 0, 100, &v))
				return CLI_USAGE;
			job->retries = (int)v;
			break;
		case OPT_TIMEOUT:
			if (!parse_seconds("--timeout", optarg, &job->timeout))
				return CLI_USAGE;
			break;
		case OPT_PROGRESS:
			if (!strcmp(optarg, "auto"))
				job->progress = PROGRESS_AUTO;
			else if (!strcmp(optarg, "bar"))
				job->progress = PROGRESS_BAR;
			else if (!strcmp(optarg, "log"))
				job->progress = PROGRESS_LOG;
			else if (!strcmp(optarg, "none"))
				job->progress = PROGRESS_NONE;
			else {
				log_error("--progress takes auto, bar, log or none, not '%s'",
					  optarg);
				return CLI_USAGE;
			}
			break;
		case OPT_STATS_INTERVAL:
			if (!parse_seconds("--stats-interval", optarg, &job->stats_interval))
				return CLI_USAGE;
			break;
		case OPT_SUMMARY_JSON:
			job->summary_json = optarg;
			break;
		case OPT_METRICS_FILE:
			job->metrics_file = optarg;
			break;
		case ':':
			log_error("%s needs a value", name);
			return CLI_USAGE;
		default:
			log_error("unknown option %s (try sluice %s --help)", name, cmd);
			return CLI_USAGE;
		}
	}
	int rest = argc - optind;
	if (job->command == CMD_PING) {
		if (rest != 1) {
			log_error("usage: sluice ping URL");
			return CLI_USAGE;
		}
		job->target = argv[optind];
		return CLI_RUN;
	}
	if (job->command == CMD_CHECKPOINTS) {
		if (rest != 1) {
			log_error("usage: sluice checkpoints [--job NAME [--forget]] TARGET_URL");
			return CLI_USAGE;
		}
		if (job->forget && !job->job_name) {
			log_error("--forget needs the --job whose checkpoints to forget");
			return CLI_USAGE;
		}
		job->target = argv[optind];
		if (job->quiet)
			log_set_level(LOG_ERROR);
		return CLI_RUN;
	}
	if (job->forget) {
		log_error("--forget is for sluice checkpoints");
		return CLI_USAGE;
	}
	/* verify leaves the checkpoint table out of its comparison */
	if ((job->job_name || (job->checkpoint_table && job->command != CMD_VERIFY)) &&
	    !job->resume) {
		log_error("--job and --checkpoint-table go with --resume");
		return CLI_USAGE;
	}
	if (job->resume && job->command != CMD_LOAD && job->command != CMD_COPY) {
		log_error("--resume is for sluice load and copy (an update is not resumable: "
			  "run it again, it sets the same values)");
		return CLI_USAGE;
	}
	bool tables_cmd = job->command == CMD_COPY || job->command == CMD_VERIFY;
	if (!tables_cmd && (job->ntables || job->nexclude || job->schema || job->query ||
			    job->cast || job->verify || job->split_rows)) {
		log_error("--tables, --exclude-tables, --schema, --query, --cast and --verify are "
			  "for "
			  "sluice copy and verify");
		return CLI_USAGE;
	}
	if (tables_cmd) {
		if (rest != 2) {
			log_error("usage: sluice %s [OPTIONS] FROM_URL TO_URL", cmd);
			return CLI_USAGE;
		}
		job->from = argv[optind];
		job->target = argv[optind + 1];
		if (!check_url("FROM_URL", job->from) || !check_url("TO_URL", job->target))
			return CLI_USAGE;
		if (job->query && (job->ntables || job->nexclude)) {
			log_error("--query copies one query into --table: no --tables with it");
			return CLI_USAGE;
		}
		if (job->nset || job->on_conflict != CONFLICT_ERROR || job->nkey || job->ncolumns) {
			log_error("--set, --on-conflict, --key and --columns are for sluice load "
				  "and update");
			return CLI_USAGE;
		}
		if (job->quiet)
			log_set_level(LOG_ERROR);
		else if (job->verbose)
			log_set_level(LOG_DEBUG);
		return CLI_RUN;
	}
	if (rest < 2) {
		const char *one = rest ? argv[optind] : NULL;
		if (one && strstr(one, "://"))
			log_error("sluice %s: no SOURCE before %s: name the files to read, or - "
				  "for stdin (usage: sluice %s [OPTIONS] SOURCE... TARGET_URL)",
				  cmd, "the URL", cmd);
		else if (one) {
			char forms[256];
			driver_url_forms(forms, sizeof forms);
			log_error("sluice %s: no TARGET_URL after %s: add the server to write to, "
				  "a %s URL (usage: sluice %s [OPTIONS] SOURCE... TARGET_URL)",
				  cmd, one, forms, cmd);
		} else
			log_error("sluice %s: no SOURCE and no TARGET_URL (usage: sluice %s "
				  "[OPTIONS] SOURCE... TARGET_URL; sluice %s --help)",
				  cmd, cmd, cmd);
		return CLI_USAGE;
	}
	job->nsources = rest - 1;
	job->sources = argv + optind;
	job->target = argv[argc - 1];
	if (!check_url("TARGET_URL", job->target))
		return CLI_USAGE;
	if (job->command == CMD_UPDATE) {
		if (!job->nkey) {
			log_error("sluice update needs --key");
			return CLI_USAGE;
		}
		if (job->create || job->truncate || job->on_conflict != CONFLICT_ERROR ||
		    job->method || job->defaults) {
			log_error("--create, --truncate, --on-conflict, --method and --defaults "
				  "are for sluice load");
			return CLI_USAGE;
		}
	} else if (job->nset) {
		log_error("--set is for sluice update");
		return CLI_USAGE;
	}
	if (job->on_conflict == CONFLICT_UPDATE && !job->nkey) {
		log_error("--on-conflict update needs --key");
		return CLI_USAGE;
	}
	if (job->quiet)
		log_set_level(LOG_ERROR);
	else if (job->verbose)
		log_set_level(LOG_DEBUG);
	return CLI_RUN;
}

void cli_job_free(struct job *job)
{
	for (int i = 0; i < job->ncolumns; i++)
		free(job->columns[i]);
	free(job->columns);
	for (int i = 0; i < job->nkey; i++)
		free(job->key[i]);
	free(job->key);
	for (int i = 0; i < job->nset; i++)
		free(job->set[i]);
	free(job->set);
	for (int i = 0; i < job->ntables; i++)
		free(job->tables[i]);
	free(job->tables);
	for (int i = 0; i < job->nexclude; i++)
		free(job->exclude_tables[i]);
	free(job->exclude_tables);
	memset(job, 0, sizeof *job);
}
