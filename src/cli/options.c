/* src/cli/options.c
 * Option parsing for every command: fills a struct job, validates values,
 * and prints --help. Errors are usage errors (exit 2).
 */
#include <getopt.h>
#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sluice/cli.h"
#include "sluice/driver.h"
#include "sluice/log.h"
#include "sluice/soft.h"

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
	OPT_ONLY,
	OPT_INCREMENTAL,
	OPT_LAG,
	OPT_NULL_CURSOR,
	OPT_DELETE_MISSING,
	OPT_SOFT,
	OPT_QUOTE_ALL,
	OPT_COMPRESS,
	OPT_NAME,
	OPT_MAX_FILE_BYTES,
	OPT_MANIFEST,
	OPT_COMPRESS_LEVEL,
	OPT_EJSON,
	OPT_ADD,
	OPT_ADD_NULL_AS_ZERO,
	OPT_GROUP_BY,
	OPT_MAX_GROUP_ROWS,
	OPT_NEST,
	OPT_FLATTEN,
	OPT_NEST_DEPTH,
	OPT_PARENT_KEY,
	OPT_SORT_GROUPS,
};

static void print_main_help(FILE *f)
{
	fputs("sluice " SLUICE_VERSION
	      " - bulk-load CSV and JSON into PostgreSQL, MySQL/MariaDB and SQLite\n"
	      "\n"
	      "Usage:\n"
	      "  sluice load   [OPTIONS] SOURCE... TARGET_URL   file(s) or stdin (-) -> a table\n"
	      "  sluice update [OPTIONS] SOURCE... TARGET_URL   batch UPDATE by --key\n"
	      "  sluice delete [OPTIONS] SOURCE... TARGET_URL   delete (--soft: mark) by --key\n"
	      "  sluice copy   [OPTIONS] FROM_URL TO_URL        stream tables between servers\n"
	      "  sluice verify [OPTIONS] FROM_URL TO_URL        compare tables on two servers\n"
	      "  sluice export [OPTIONS] FROM_URL DEST          tables, a query -> files\n"
	      "  sluice ping   URL                             connect, show the server version\n"
	      "  sluice checkpoints [--job NAME [--forget]] TARGET_URL\n"
	      "                                                list (or forget) --resume jobs\n"
	      "  sluice run    [--only STEP,...] [--dry-run] JOBFILE\n"
	      "                                                named steps from an INI file\n"
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
	      "      --nest PATH[=TABLE],...\n"
	      "                             JSON: the elements of array PATH (posts,\n"
	      "                             posts.tags) become rows of a child table\n"
	      "                             (<table>_<field>), linked by the parent's key\n"
	      "                             (--key or _id) and _pos (from 0), written with\n"
	      "                             their parent in one transaction\n"
	      "      --nest '*'             JSON: every array of objects down to --nest-depth\n"
	      "                             (found by a first pass over the files; named as\n"
	      "                             above; '*,posts=blog' names one of them)\n"
	      "      --nest-depth N         how deep --nest '*' looks (default 2: posts and\n"
	      "                             posts.tags)\n"
	      "      --parent-key KIND      --nest: natural (default: --key or _id) or\n"
	      "                             generated (the parent's identity/AUTO_INCREMENT\n"
	      "                             column --key, taken in the batch's transaction)\n"
	      "      --flatten PATH,...     JSON: the members of object PATH (profile, or\n"
	      "                             posts.meta in a --nest array) become columns\n"
	      "                             PATH_member, recursively (profile_address_city)\n"
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
	      "      --add A,B              with --on-conflict update: add these columns'\n"
	      "                             values to an existing row's (qty = qty + value)\n"
	      "      --add-null-as-zero     --add: a NULL in the table counts as 0 (default:\n"
	      "                             the record is rejected)\n"
	      "      --group-by COL         keep records sharing COL (an input column) in one\n"
	      "                             transaction; a group refused in part is rejected\n"
	      "                             whole; groups must be adjacent in the input\n"
	      "      --max-group-rows N     the largest group (default 100000); beyond it the\n"
	      "                             group is rejected\n"
	      "      --sort-groups SIZE     input not grouped: sort it by the --group-by column\n"
	      "                             in memory, up to SIZE (K, M, G) or fail\n"
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
	      "      --add A,B              add the input value to these columns (a delta:\n"
	      "                             balance = balance + value), exact on the server\n"
	      "      --add-null-as-zero     --add: a NULL in the table counts as 0 (default:\n"
	      "                             NULL + x is a reject with the reason)\n"
	      "      --group-by COL         records sharing COL (an input column, say a\n"
	      "                             transfer id) commit together or not at all\n"
	      "      --max-group-rows N     the largest group (default 100000)\n"
	      "      --sort-groups SIZE     input not grouped: sort it by the --group-by column\n"
	      "                             in memory, up to SIZE (K, M, G) or fail\n"
	      "      --resume               exactly once across crashes: each delta applied\n"
	      "                             once, however often the run is killed and rerun\n"
	      "      --batch-rows N         rows per batch and transaction (default 50000)\n"
	      "\n"
	      "Input, transaction, pool, progress and reporting options are those of\n"
	      "sluice load (see sluice load --help); --method, --create, --truncate and\n"
	      "--on-conflict do not apply.\n"
	      "\n"
	      "Example, a ledger of transfers (two rows per transfer id):\n"
	      "  sluice update transfers.csv postgresql:///bank --table accounts --key id \\\n"
	      "      --add balance --group-by transfer --resume --rejects refused.csv\n"
	      "\n"
	      "More in the manual: man sluice.\n",
	      f);
}

static void print_delete_help(FILE *f)
{
	fputs("Usage: sluice delete [OPTIONS] SOURCE... TARGET_URL --table T --key K[,K2]\n"
	      "\n"
	      "Delete the rows whose key columns match an input record's, batch by batch, each\n"
	      "batch one transaction. Keys that match nothing count as not found and go to the\n"
	      "rejects file; a NULL key is a reject. Input columns other than the key are read\n"
	      "and left alone.\n"
	      "\n"
	      "      --key A,B              the columns that identify a row (required)\n"
	      "      --soft COL=EXPR        set COL to EXPR instead of deleting (as\n"
	      "                             deleted_at=now()); EXPR is a server expression,\n"
	      "                             the one text sluice sends as SQL: yours, never\n"
	      "                             the input's\n"
	      "      --group-by COL         records sharing COL go in one transaction\n"
	      "      --sort-groups SIZE     input not grouped: sort it by the --group-by column\n"
	      "                             in memory, up to SIZE (K, M, G) or fail\n"
	      "      --resume               exactly once across crashes\n"
	      "      --batch-rows N         rows per batch and transaction (default 50000)\n"
	      "\n"
	      "Input, transaction, pool, progress and reporting options are those of\n"
	      "sluice load (see sluice load --help).\n"
	      "\n"
	      "Example:\n"
	      "  sluice delete gone.csv postgresql:///shop --table customers --key id \\\n"
	      "      --soft 'deleted_at=now()' --rejects unknown.csv\n"
	      "\n"
	      "More in the manual: man sluice.\n",
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
	      "      --incremental CURSOR[,KEY]\n"
	      "                             copy only the rows whose (CURSOR, KEY) is past the\n"
	      "                             table's watermark, in that order, upserted on KEY\n"
	      "                             (default: the single-column primary key); the\n"
	      "                             watermark is committed with the rows, in the\n"
	      "                             checkpoint table; the first run copies everything\n"
	      "      --lag DURATION         with --incremental, read again the rows whose\n"
	      "                             CURSOR is within DURATION (90s, 5m, 2h, 1d) behind\n"
	      "                             the watermark: for writers that commit late\n"
	      "      --null-cursor skip|include\n"
	      "                             rows whose CURSOR is NULL: counted and reported\n"
	      "                             (skip, the default) or copied on every run\n"
	      "      --delete-missing       with --incremental, delete the target's rows whose\n"
	      "                             KEY (an integer or text) the source no longer has\n"
	      "      --soft COL=EXPR        with --delete-missing, set COL to EXPR instead of\n"
	      "                             deleting; EXPR is SQL for the target server (now(),\n"
	      "                             CURRENT_TIMESTAMP), sent as written\n"
	      "\n"
	      "Writing, pool, progress and reporting options are those of sluice load\n"
	      "(--batch-rows, --workers, --rejects, --max-errors, --summary-json,\n"
	      "--metrics-file, -q, ...).\n"
	      "\n"
	      "Example: sluice copy mysql://root@db1/shop postgresql://pg1/shop --create\n"
	      "More in the manual: man sluice.\n",
	      f);
}

static void print_export_help(FILE *f)
{
	fputs("Usage: sluice export [OPTIONS] FROM_URL DEST\n"
	      "\n"
	      "Write tables (or a query's rows) to CSV, TSV, NDJSON or JSON files, every table\n"
	      "read in one consistent snapshot, each value in the form sluice load reads back\n"
	      "into the same type. DEST is a directory (a file per table: DEST/TABLE.csv), a\n"
	      "file (one table or --query), or - for stdout. Each file is written under a\n"
	      "temporary name and renamed when whole.\n"
	      "\n"
	      "      --tables A,B           tables to export (default: every base table)\n"
	      "      --exclude-tables A,B   tables to leave out\n"
	      "      --schema S             PostgreSQL schema (default public)\n"
	      "      --query SQL            export the rows of a SELECT ...\n"
	      "      --name N               ... as N (file DEST/N.csv, the manifest's table)\n"
	      "      --format FMT           csv (default), tsv, ndjson, json (one array); by\n"
	      "                             DEST's extension when it names a file\n"
	      "      --compress gzip|none   gzip the files (default: when DEST ends in .gz)\n"
	      "      --compress-level N     gzip level, 1 (fastest, default) to 9 (smallest)\n"
	      "      --delimiter C          field delimiter (default , for csv, TAB for tsv)\n"
	      "      --null STR             write NULL as STR (default: an unquoted empty\n"
	      "                             field; an empty string is written quoted, \"\")\n"
	      "      --quote-all            quote every CSV value (NULL stays unquoted)\n"
	      "      --ejson                NDJSON/JSON: typed values as MongoDB Extended JSON\n"
	      "                             (relaxed): $date, $numberDecimal, $binary...\n"
	      "      --workers N            export N tables at once, in one snapshot\n"
	      "      --split-rows N         cut each table into numbered files of N rows\n"
	      "                             (TABLE.00001.csv, ...), in the order of its key\n"
	      "      --max-file-bytes N     cut files at N bytes of data before compression (K,\n"
	      "                             M, G suffixes), on a row's end\n"
	      "      --resume               keep the files an earlier run finished (a file's\n"
	      "                             final name only ever holds a whole file) and write\n"
	      "                             the rest\n"
	      "      --manifest FILE        JSON: per file its table, rows, bytes, sha256, the\n"
	      "                             snapshot's time, the columns and their types\n"
	      "      --nest CHILD:FK[,...]  ndjson/json: each row of the one table (--tables T)\n"
	      "                             with the rows of table CHILD whose column FK holds\n"
	      "                             its primary key, as an array field CHILD\n"
	      "      --dry-run              print the files and the queries, export nothing\n"
	      "      --summary-json FILE    the summary as JSON (- for stdout)\n"
	      "  -q, --quiet                print errors only\n"
	      "\n"
	      "Values: NULL as an unquoted empty field (null in JSON), decimals with every\n"
	      "digit, binary as \\x hex (a string in JSON), booleans true/false, timestamps with\n"
	      "a zone in UTC (+00), MySQL zero dates as NULL (counted), JSON columns nested in\n"
	      "NDJSON/JSON.\n"
	      "\n"
	      "Example: sluice export mysql://root@db1/shop /backup/shop --compress gzip\n"
	      "More in the manual: man sluice.\n",
	      f);
}

static int word_compress(const char *arg)
{
	return !strcmp(arg, "gzip") ? 1 : !strcmp(arg, "none") ? 2 : -1;
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
	      "  -q, --quiet                print errors only\n"
	      "\n"
	      "Example, start the job nightly over:\n"
	      "  sluice checkpoints postgresql:///shop --job nightly --forget\n"
	      "\n"
	      "More in the manual: man sluice.\n",
	      f);
}

static void print_run_help(FILE *f)
{
	fputs("Usage: sluice run [OPTIONS] JOBFILE\n"
	      "\n"
	      "Run the named steps of an INI job file in order, as one run: one summary, one\n"
	      "exit code (the worst of its steps: interrupted, usage, failed, partial, ok).\n"
	      "\n"
	      "  [defaults]                 keys for every step whose command takes them\n"
	      "  [step NAME]                a step: command = load, update, copy, verify, ...\n"
	      "  KEY = VALUE                KEY is the command's long option without its\n"
	      "                             dashes (a flag: name = true); sources (several,\n"
	      "                             separated by spaces), target, from and to are\n"
	      "                             its arguments; on-error = continue goes on after\n"
	      "                             a failing step\n"
	      "  ${VAR} {date} {yesterday}  an environment variable (unset: an error), today\n"
	      "  {date:%Y%m%d}              or yesterday in local time (strftime formats)\n"
	      "\n"
	      "Every step is checked before any runs; an error names FILE:LINE and the step.\n"
	      "\n"
	      "      --only A,B             run only these steps (in the file's order)\n"
	      "      --dry-run              print each step's plan (its own --dry-run where it\n"
	      "                             has one), write nothing\n"
	      "      --summary-json FILE    the whole run's summary as JSON (- for stdout)\n"
	      "      --metrics-file FILE    the same as Prometheus text\n"
	      "      --progress MODE        auto (default), bar, log, none: for every step\n"
	      "  -q, --quiet                print errors only\n"
	      "  -v, --verbose              more detail, in every step\n"
	      "\n"
	      "Example, from cron: sluice run /etc/sluice/nightly.ini -q\n"
	      "More in the manual: man sluice.\n",
	      f);
}

static void print_ping_help(FILE *f)
{
	fputs("Usage: sluice ping URL\n\nConnect to URL, print the server version; exit 0, or 1 when "
	      "it cannot connect.\n"
	      "\n"
	      "Example:\n"
	      "  sluice ping mysql://app@db1/shop\n"
	      "\n"
	      "More in the manual: man sluice.\n",
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
	      "  -q, --quiet                errors only\n"
	      "\n"
	      "Example, after a copy:\n"
	      "  sluice verify mysql://app@db1/shop postgresql://app@db2/shop --tables orders\n"
	      "\n"
	      "More in the manual: man sluice.\n",
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

/* Why an option's value was refused; option_error turns it into text. */
enum value_error {
	VALUE_OK,
	VALUE_BAD,	 /* not of the option's kind, or out of its range */
	VALUE_MULTIBYTE, /* V_CHAR: one character, but more than one byte */
};

static enum value_error parse_char(const char *arg, char *out)
{
	if (!strcmp(arg, "\\t") || !strcasecmp(arg, "tab")) {
		*out = '\t';
		return VALUE_OK;
	}
	if (strlen(arg) > 1 && (unsigned char)arg[0] >= 0xC0 &&
	    strlen(arg) == ((unsigned char)arg[0] >= 0xF0   ? 4
			    : (unsigned char)arg[0] >= 0xE0 ? 3
							    : 2))
		return VALUE_MULTIBYTE; /* the parser splits on bytes */
	if (strlen(arg) != 1 || arg[0] == '\n' || arg[0] == '\r')
		return VALUE_BAD;
	*out = arg[0];
	return VALUE_OK;
}

static bool parse_long(const char *arg, long min, long max, long *out)
{
	char *end;
	long v = strtol(arg, &end, 10);
	if (!*arg || *end || v < min || v > max)
		return false;
	*out = v;
	return true;
}

/* A byte count with an optional K, M or G suffix (powers of 1024). */
static bool parse_bytes(const char *arg, size_t min, size_t *out)
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
	    (size_t)(v << shift) < min)
		return false;
	*out = (size_t)(v << shift);
	return true;
}

/* A duration: seconds, or a number with s, m, h or d after it. */
static bool parse_duration(const char *arg, double *out)
{
	char *end;
	double v = strtod(arg, &end);
	double unit = !*end		  ? 1
		      : !strcmp(end, "s") ? 1
		      : !strcmp(end, "m") ? 60
		      : !strcmp(end, "h") ? 3600
		      : !strcmp(end, "d") ? 86400
					  : -1;
	if (!*arg || end == arg || unit < 0 || v < 0)
		return false;
	*out = v * unit;
	return true;
}

static bool parse_seconds(const char *arg, double *out)
{
	char *end;
	double v = strtod(arg, &end);
	if (!*arg || *end || v < 0)
		return false;
	*out = v;
	return true;
}

/* The edit distance between a and b (insertions, deletions, changes, and
 * two neighbours swapped, the commonest typo: "tabel", "laod"), counted
 * up to 9. */
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
			if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] &&
			    d[i - 2][j - 2] + 1 < d[i][j])
				d[i][j] = d[i - 2][j - 2] + 1;
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

/* How an option's value is read, and what it sets in the job. */
enum value_kind {
	V_FLAG,	    /* no value: the bool at field becomes true */
	V_TEXT,	    /* the value as given: a const char * at field (into argv) */
	V_NAMES,    /* names separated by commas: a malloc'd char ** at field, the
		     * count an int at count */
	V_CHAR,	    /* one byte (or "tab"): a char at field */
	V_INT,	    /* a whole number from min to max: an int at field */
	V_LONG,	    /* the same, a long */
	V_ULL,	    /* the same, an unsigned long long */
	V_SIZE,	    /* the same, a size_t */
	V_SECONDS,  /* seconds, a number >= 0: a double at field */
	V_DURATION, /* seconds, or a number with s, m, h or d: a double at field */
	V_BYTES,    /* a size with K, M, G suffixes, at least min: a size_t at field */
	V_WORD,	    /* one of a few words (takes), which word() maps to the value of
		     * the enum at field */
	V_OWN,	    /* its own case in parse_options (--help, --version) */
};

/* One option of the command line: getopt's long option and what it does.
 * check_words and the getopt table read the names from here too. */
struct option_spec {
	const char *name; /* without the dashes */
	int key;	  /* getopt's value: the short letter, or an OPT_ */
	int has_arg;	  /* no_argument or required_argument */
	enum value_kind kind;
	size_t field, count; /* offsetof(struct job, ...) */
	long min, max;
	const char *takes;	      /* V_WORD: the words, for the message */
	int (*word)(const char *arg); /* V_WORD: arg's value, or -1 */
	bool as_typed;		      /* the message names the option as typed */
};

/* The enums V_WORD stores are int-sized. */
_Static_assert(sizeof(enum input_format) == sizeof(int), "enum size");
_Static_assert(sizeof(enum input_encoding) == sizeof(int), "enum size");
_Static_assert(sizeof(enum write_method) == sizeof(int), "enum size");
_Static_assert(sizeof(enum on_conflict) == sizeof(int), "enum size");
_Static_assert(sizeof(enum progress_mode) == sizeof(int), "enum size");
_Static_assert(sizeof(enum null_cursor) == sizeof(int), "enum size");
_Static_assert(sizeof(enum parent_key) == sizeof(int), "enum size");

static int word_format(const char *arg)
{
	enum input_format f = reader_format_parse(arg);
	return f == FORMAT_AUTO ? -1 : (int)f;
}

static int word_encoding(const char *arg)
{
	if (!strcasecmp(arg, "utf8") || !strcasecmp(arg, "utf-8"))
		return ENCODING_UTF8;
	if (!strcasecmp(arg, "latin1") || !strcasecmp(arg, "iso-8859-1"))
		return ENCODING_LATIN1;
	return -1;
}

static int word_method(const char *arg)
{
	return !strcmp(arg, "copy")	? METHOD_COPY
	       : !strcmp(arg, "insert") ? METHOD_INSERT
	       : !strcmp(arg, "infile") ? METHOD_INFILE
					: -1;
}

static int word_conflict(const char *arg)
{
	return !strcmp(arg, "error")	? CONFLICT_ERROR
	       : !strcmp(arg, "skip")	? CONFLICT_SKIP
	       : !strcmp(arg, "update") ? CONFLICT_UPDATE
					: -1;
}

static int word_null_cursor(const char *arg)
{
	return !strcmp(arg, "skip")	 ? NULL_CURSOR_SKIP
	       : !strcmp(arg, "include") ? NULL_CURSOR_INCLUDE
					 : -1;
}

static int word_parent_key(const char *arg)
{
	return !strcmp(arg, "natural")	   ? PARENT_KEY_NATURAL
	       : !strcmp(arg, "generated") ? PARENT_KEY_GENERATED
					   : -1;
}

static int word_progress(const char *arg)
{
	return !strcmp(arg, "auto")   ? PROGRESS_AUTO
	       : !strcmp(arg, "bar")  ? PROGRESS_BAR
	       : !strcmp(arg, "log")  ? PROGRESS_LOG
	       : !strcmp(arg, "none") ? PROGRESS_NONE
				      : -1;
}

#define FIELD(f) offsetof(struct job, f)
#define SPEC(n, k, a, kd) .name = n, .key = k, .has_arg = a, .kind = kd
#define FLAG(n, k, f) SPEC(n, k, no_argument, V_FLAG), .field = FIELD(f)
#define TEXT(n, k, f) SPEC(n, k, required_argument, V_TEXT), .field = FIELD(f)
#define VALUE(n, k, kd, f) SPEC(n, k, required_argument, kd), .field = FIELD(f)
#define NAMES(n, k, f, c) VALUE(n, k, V_NAMES, f), .count = FIELD(c)
#define NUMBER(n, k, kd, f, lo, hi) VALUE(n, k, kd, f), .min = lo, .max = hi
#define WORD(n, k, f, w, t) VALUE(n, k, V_WORD, f), .takes = t, .word = w

/* Every option, in the order "could be --a, --b" and "did you mean" list
 * them. Which command takes which is checked after parsing, with the
 * operands (check_shared, tables_operands, sources_operands, and those of
 * ping and checkpoints). */
static const struct option_spec option_specs[] = {
	{TEXT("table", 't', table)},
	{WORD("format", OPT_FORMAT, input.format, word_format, "csv, tsv, ndjson or json")},
	{VALUE("delimiter", OPT_DELIMITER, V_CHAR, input.delimiter)},
	{VALUE("quote", OPT_QUOTE, V_CHAR, input.quote)},
	{VALUE("escape", OPT_ESCAPE, V_CHAR, input.escape)},
	{FLAG("no-header", OPT_NO_HEADER, input.no_header)},
	{NAMES("columns", OPT_COLUMNS, columns, ncolumns)},
	{TEXT("null", OPT_NULL, input.null_marker)},
	{WORD("encoding", OPT_ENCODING, input.encoding, word_encoding, "utf8 or latin1")},
	{NUMBER("batch-rows", OPT_BATCH_ROWS, V_SIZE, batch_rows, 1, 10000000)},
	{WORD("method", OPT_METHOD, method, word_method, "copy, insert or infile")},
	{FLAG("truncate", OPT_TRUNCATE, truncate)},
	{FLAG("dry-run", OPT_DRY_RUN, dry_run)},
	{FLAG("create", OPT_CREATE, create)},
	{FLAG("single-transaction", OPT_SINGLE_TX, single_transaction)},
	{FLAG("defaults", OPT_DEFAULTS, defaults)},
	{NUMBER("max-record-bytes", OPT_MAX_RECORD, V_BYTES, input.max_record_bytes, 64, 0)},
	{FLAG("ignore-unknown", OPT_IGNORE_UNKNOWN, input.ignore_unknown)},
	{WORD("on-conflict", OPT_ON_CONFLICT, on_conflict, word_conflict, "error, skip or update")},
	{NAMES("key", OPT_KEY, key, nkey)},
	{NAMES("set", OPT_SET, set, nset)},
	{NAMES("add", OPT_ADD, add, nadd)},
	{FLAG("add-null-as-zero", OPT_ADD_NULL_AS_ZERO, add_null_as_zero)},
	{TEXT("soft", OPT_SOFT, soft)},
	{TEXT("group-by", OPT_GROUP_BY, group_by)},
	{NUMBER("max-group-rows", OPT_MAX_GROUP_ROWS, V_SIZE, max_group_rows, 1, 10000000)},
	{NUMBER("sort-groups", OPT_SORT_GROUPS, V_BYTES, sort_groups, 1024, 0)},
	{TEXT("rejects", OPT_REJECTS, rejects_path)},
	{NUMBER("max-errors", OPT_MAX_ERRORS, V_LONG, max_errors, 0, LONG_MAX)},
	{NUMBER("workers", OPT_WORKERS, V_INT, workers, 1, 64)},
	{NUMBER("pool-min", OPT_POOL_MIN, V_INT, pool_min, 0, 64)},
	{NUMBER("pool-max", OPT_POOL_MAX, V_INT, pool_max, 1, 64)},
	{VALUE("acquire-timeout", OPT_ACQUIRE_TIMEOUT, V_SECONDS, acquire_timeout)},
	{VALUE("idle-timeout", OPT_IDLE_TIMEOUT, V_SECONDS, idle_timeout)},
	{NUMBER("retries", OPT_RETRIES, V_INT, retries, 0, 100)},
	{VALUE("timeout", OPT_TIMEOUT, V_SECONDS, timeout)},
	{WORD("progress", OPT_PROGRESS, progress, word_progress, "auto, bar, log or none")},
	{VALUE("stats-interval", OPT_STATS_INTERVAL, V_SECONDS, stats_interval)},
	{TEXT("summary-json", OPT_SUMMARY_JSON, summary_json)},
	{TEXT("metrics-file", OPT_METRICS_FILE, metrics_file)},
	/* their message names the option as typed */
	{NAMES("tables", OPT_TABLES, tables, ntables), .as_typed = true},
	{NAMES("exclude-tables", OPT_EXCLUDE_TABLES, exclude_tables, nexclude), .as_typed = true},
	{TEXT("schema", OPT_SCHEMA, schema)},
	{TEXT("query", OPT_QUERY, query)},
	{TEXT("cast", OPT_CAST, cast)},
	{FLAG("verify", OPT_VERIFY, verify)},
	{NUMBER("split-rows", OPT_SPLIT_ROWS, V_ULL, split_rows, 1000, LONG_MAX)},
	{FLAG("resume", OPT_RESUME, resume)},
	{FLAG("no-ejson", OPT_NO_EJSON, input.no_ejson)},
	{TEXT("job", OPT_JOB, job_name)},
	{TEXT("checkpoint-table", OPT_CHECKPOINT_TABLE, checkpoint_table)},
	{FLAG("forget", OPT_FORGET, forget)},
	{NAMES("only", OPT_ONLY, only, nonly)},
	{TEXT("incremental", OPT_INCREMENTAL, incremental)},
	{VALUE("lag", OPT_LAG, V_DURATION, lag)},
	{WORD("null-cursor", OPT_NULL_CURSOR, null_cursor, word_null_cursor, "skip or include")},
	{FLAG("delete-missing", OPT_DELETE_MISSING, delete_missing)},
	{FLAG("quote-all", OPT_QUOTE_ALL, quote_all)},
	{WORD("compress", OPT_COMPRESS, compress, word_compress, "gzip or none")},
	{TEXT("name", OPT_NAME, out_name)},
	{NUMBER("max-file-bytes", OPT_MAX_FILE_BYTES, V_BYTES, max_file_bytes, 1024, 0)},
	{TEXT("manifest", OPT_MANIFEST, manifest)},
	{NUMBER("compress-level", OPT_COMPRESS_LEVEL, V_INT, compress_level, 1, 9)},
	{FLAG("ejson", OPT_EJSON, ejson)},
	{NAMES("nest", OPT_NEST, nest, nnest)},
	{NAMES("flatten", OPT_FLATTEN, flatten, nflatten)},
	{NUMBER("nest-depth", OPT_NEST_DEPTH, V_INT, nest_depth, 1, 16)},
	{WORD("parent-key", OPT_PARENT_KEY, parent_key, word_parent_key, "natural or generated")},
	{FLAG("quiet", 'q', quiet)},
	{FLAG("verbose", 'v', verbose)},
	{SPEC("help", 'h', no_argument, V_OWN)},
	{SPEC("version", 'V', no_argument, V_OWN)},
};
#define NOPTIONS (sizeof option_specs / sizeof option_specs[0])

int cli_option_takes_value(const char *name)
{
	for (size_t i = 0; i < NOPTIONS; i++)
		if (!strcmp(option_specs[i].name, name))
			return option_specs[i].kind == V_OWN		      ? -1
			       : option_specs[i].has_arg == required_argument ? 1
									      : 0;
	return -1;
}

const char *cli_option_closest(const char *word)
{
	const char *names[NOPTIONS];
	for (size_t i = 0; i < NOPTIONS; i++)
		names[i] = option_specs[i].name;
	return closest(word, names, (int)NOPTIONS);
}

/* The long options whose name starts with the len bytes of name, as
 * "--a, --b" into out; returns how many, and the one in *only. */
static int option_matches(const char *name, size_t len, char *out, size_t n, const char **only)
{
	int count = 0;
	size_t o = 0;
	out[0] = '\0';
	for (size_t i = 0; i < NOPTIONS; i++) {
		const struct option_spec *lo = &option_specs[i];
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
static bool check_words(int argc, char **argv, const char *cmd, int *bad)
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
				*bad = i;
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
			*bad = i;
			return false;
		}
		if (m == 0) {
			const char *names[80];
			int n = 0;
			for (size_t k = 0; k < NOPTIONS && n < 80; k++)
				names[n++] = option_specs[k].name;
			char word[64];
			snprintf(word, sizeof word, "%.*s", (int)(len < 63 ? len : 63), name);
			const char *near = closest(word, names, n);
			if (near)
				log_error("unknown option --%s: did you mean --%s?", word, near);
			else
				log_error("unknown option --%s (see sluice %s --help)", word, cmd);
			*bad = i;
			return false;
		}
		for (size_t k = 0; k < NOPTIONS; k++)
			if (!strcmp(option_specs[k].name, only) &&
			    option_specs[k].has_arg == required_argument && !name[len])
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
	job->nest_depth = 2;
	job->acquire_timeout = 30;
	job->idle_timeout = 60;
	job->timeout = 600;
	job->retries = 3;
	job->stats_interval = 10;
}

/* The option getopt_long returned as c, or NULL ('?', ':'). */
static const struct option_spec *option_for(int c)
{
	for (size_t i = 0; i < NOPTIONS; i++)
		if (option_specs[i].key == c)
			return &option_specs[i];
	return NULL;
}

/* Set what option o sets in job from its value arg (NULL for a flag). */
static enum value_error set_value(const struct option_spec *o, const char *arg, struct job *job)
{
	void *p = (char *)job + o->field;
	long v;
	switch (o->kind) {
	case V_FLAG:
		*(bool *)p = true;
		return VALUE_OK;
	case V_TEXT:
		*(const char **)p = arg;
		return VALUE_OK;
	case V_NAMES:
		return split_list(arg, (char ***)p, (int *)(void *)((char *)job + o->count))
			       ? VALUE_OK
			       : VALUE_BAD;
	case V_CHAR:
		return parse_char(arg, (char *)p);
	case V_INT:
	case V_LONG:
	case V_ULL:
	case V_SIZE:
		if (!parse_long(arg, o->min, o->max, &v))
			return VALUE_BAD;
		if (o->kind == V_INT)
			*(int *)p = (int)v;
		else if (o->kind == V_LONG)
			*(long *)p = v;
		else if (o->kind == V_ULL)
			*(unsigned long long *)p = (unsigned long long)v;
		else
			*(size_t *)p = (size_t)v;
		return VALUE_OK;
	case V_SECONDS:
		return parse_seconds(arg, (double *)p) ? VALUE_OK : VALUE_BAD;
	case V_DURATION:
		return parse_duration(arg, (double *)p) ? VALUE_OK : VALUE_BAD;
	case V_BYTES:
		return parse_bytes(arg, (size_t)o->min, (size_t *)p) ? VALUE_OK : VALUE_BAD;
	case V_WORD: {
		int w = o->word(arg);
		if (w < 0)
			return VALUE_BAD;
		memcpy(p, &w, sizeof w); /* an int-sized enum (asserted above) */
		return VALUE_OK;
	}
	case V_OWN:
		break;
	}
	return VALUE_OK;
}

/* Why option o (typed as typed) refused its value arg: the one place a
 * value's error becomes text. */
static void option_error(const struct option_spec *o, enum value_error e, const char *typed,
			 const char *arg)
{
	const char *n = o->name;
	if (e == VALUE_MULTIBYTE) {
		log_error("--%s takes a character of one byte (ASCII): '%s' is %zu bytes in UTF-8",
			  n, arg, strlen(arg));
		return;
	}
	switch (o->kind) {
	case V_NAMES:
		if (o->as_typed)
			log_error("%s takes names separated by commas", typed);
		else
			log_error("--%s takes names separated by commas", n);
		break;
	case V_CHAR:
		log_error("--%s takes one character, not '%s'", n, arg);
		break;
	case V_INT:
	case V_LONG:
	case V_ULL:
	case V_SIZE:
		log_error("--%s takes a whole number from %ld to %ld, not '%s'", n, o->min, o->max,
			  arg);
		break;
	case V_SECONDS:
		log_error("--%s takes seconds (a number >= 0), not '%s'", n, arg);
		break;
	case V_DURATION:
		log_error("--%s takes a duration: seconds, or a number with s, m, h or d (90s, "
			  "5m, 2h, 1d), not '%s'",
			  n, arg);
		break;
	case V_BYTES:
		log_error("--%s takes a size in bytes from %zu to 1T (K, M, G suffixes), not '%s'",
			  n, (size_t)o->min, arg);
		break;
	case V_WORD:
		log_error("--%s takes %s, not '%s'", n, o->takes, arg);
		break;
	case V_FLAG:
	case V_TEXT:
	case V_OWN:
		break; /* they take any value */
	}
}

/* The commands, in the order "did you mean" weighs them, with their help. */
static const struct command_spec {
	const char *name;
	enum command command;
	void (*help)(FILE *f);
} command_specs[] = {
	{"load", CMD_LOAD, print_load_help},
	{"update", CMD_UPDATE, print_update_help},
	{"delete", CMD_DELETE, print_delete_help},
	{"copy", CMD_COPY, print_copy_help},
	{"verify", CMD_VERIFY, print_verify_help},
	{"ping", CMD_PING, print_ping_help},
	{"checkpoints", CMD_CHECKPOINTS, print_checkpoints_help},
	{"run", CMD_RUN, print_run_help},
	{"export", CMD_EXPORT, print_export_help},
};
#define NCOMMANDS (sizeof command_specs / sizeof command_specs[0])

/* The commands with a --dry-run of their own (sluice run prints the
 * command line of the others). */
static const enum command dry_run_commands[] = {CMD_LOAD, CMD_UPDATE, CMD_DELETE, CMD_COPY,
						CMD_EXPORT};

bool cli_command_dry_runs(enum command command)
{
	for (size_t i = 0; i < sizeof dry_run_commands / sizeof dry_run_commands[0]; i++)
		if (dry_run_commands[i] == command)
			return true;
	return false;
}

/* The command argv[1] names into job->command, or a usage error that says
 * what was probably meant. */
static bool parse_command(const char *cmd, struct job *job)
{
	const char *names[NCOMMANDS];
	for (size_t i = 0; i < NCOMMANDS; i++) {
		names[i] = command_specs[i].name;
		if (!strcmp(cmd, names[i])) {
			job->command = command_specs[i].command;
			return true;
		}
	}
	const char *near = closest(cmd, names, (int)NCOMMANDS);
	FILE *f = cmd[0] != '-' ? fopen(cmd, "r") : NULL;
	if (f)
		fclose(f);
	if (near)
		log_error("unknown command '%s': did you mean sluice %s?", cmd, near);
	else if (f) /* a file: the command was left out */
		log_error("unknown command '%s': to load it, sluice load %s ... TARGET_URL", cmd,
			  cmd);
	else
		log_error("unknown command '%s': the commands are load, update, delete, copy, "
			  "verify, export, ping, checkpoints and run (sluice --help)",
			  cmd);
	return false;
}

/* Whether the option getopt returned as c goes with command: sluice run
 * takes the options that are about the whole run, the rest go in its file. */
static bool run_takes(int c, enum command command)
{
	if (command != CMD_RUN)
		return c != OPT_ONLY;
	return c == OPT_ONLY || c == OPT_DRY_RUN || c == OPT_SUMMARY_JSON ||
	       c == OPT_METRICS_FILE || c == OPT_PROGRESS || c == 'q' || c == 'v';
}

/* The options after the command into job, in any order among the operands
 * (getopt permutes them to the end, from optind). CLI_EXIT_OK after --help
 * or --version. */
static enum cli_result parse_options(int argc, char **argv, const char *cmd, struct job *job,
				     int *bad)
{
	struct option longopts[NOPTIONS + 1];
	for (size_t i = 0; i < NOPTIONS; i++)
		longopts[i] = (struct option){option_specs[i].name, option_specs[i].has_arg, NULL,
					      option_specs[i].key};
	longopts[NOPTIONS] = (struct option){0};
	int c;
	optind = 2;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":t:qvhV", longopts, NULL)) != -1) {
		const char *typed = optind > 0 && optind <= argc ? argv[optind - 1] : "option";
		const struct option_spec *o = option_for(c);
		*bad = optind - 1;
		if (c == ':') {
			log_error("%s needs a value", typed);
			return CLI_USAGE;
		}
		if (!o) {
			log_error("unknown option %s (try sluice %s --help)", typed, cmd);
			return CLI_USAGE;
		}
		if (c == 'h') {
			for (size_t i = 0; i < NCOMMANDS; i++)
				if (command_specs[i].command == job->command)
					command_specs[i].help(stdout);
			return CLI_EXIT_OK;
		}
		if (c == 'V') {
			printf("sluice %s\n", SLUICE_VERSION);
			return CLI_EXIT_OK;
		}
		if ((job->command == CMD_RUN) != (c == OPT_ONLY) && !run_takes(c, job->command)) {
			if (c == OPT_ONLY)
				log_error("--only is for sluice run");
			else
				log_error("sluice run takes --only, --dry-run, --summary-json, "
					  "--metrics-file, --progress, -q and -v: put --%s in the "
					  "job file",
					  o->name);
			return CLI_USAGE;
		}
		enum value_error e = set_value(o, optarg, job);
		if (e != VALUE_OK) {
			option_error(o, e, typed, optarg);
			return CLI_USAGE;
		}
		if (c == OPT_BATCH_ROWS)
			job->batch_rows_given = true;
		else if (c == OPT_DEFAULTS)
			job->input.missing_as_default = true;
	}
	/* update and delete find each row by its key: a bigger batch spreads
	 * each transaction's cost over more rows (copy's are as big) */
	if (!job->batch_rows_given && (job->command == CMD_UPDATE || job->command == CMD_DELETE))
		job->batch_rows = 50000;
	*bad = 0;
	return CLI_RUN;
}

/* sluice ping URL */
static enum cli_result ping_operands(int argc, char **argv, struct job *job)
{
	if (argc - optind != 1) {
		log_error("usage: sluice ping URL");
		return CLI_USAGE;
	}
	job->target = argv[optind];
	return CLI_RUN;
}

/* sluice run [OPTIONS] JOBFILE */
static enum cli_result run_operands(int argc, char **argv, struct job *job)
{
	if (argc - optind != 1) {
		log_error("usage: sluice run [--only STEP,...] [--dry-run] JOBFILE");
		return CLI_USAGE;
	}
	job->jobfile = argv[optind];
	if (job->quiet)
		log_set_level(LOG_ERROR);
	else if (job->verbose)
		log_set_level(LOG_DEBUG);
	return CLI_RUN;
}

/* sluice checkpoints [--job NAME [--forget]] TARGET_URL */
static enum cli_result checkpoints_operands(int argc, char **argv, struct job *job)
{
	if (argc - optind != 1) {
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

/* copy --incremental and the options that go with it. */
static bool check_incremental(const struct job *job)
{
	bool any = job->lag > 0 || job->null_cursor != NULL_CURSOR_SKIP || job->delete_missing;
	if ((job->incremental || any) && job->command != CMD_COPY) {
		log_error("--incremental, --lag, --null-cursor and --delete-missing are for sluice "
			  "copy");
		return false;
	}
	if (job->soft && job->command != CMD_COPY && job->command != CMD_DELETE) {
		log_error("--soft is for sluice delete and copy --delete-missing");
		return false;
	}
	if (!job->incremental && (job->lag > 0 || job->null_cursor != NULL_CURSOR_SKIP)) {
		log_error("--lag and --null-cursor go with --incremental");
		return false;
	}
	if (job->soft && job->command == CMD_COPY && !job->delete_missing) {
		log_error("--soft goes with --delete-missing (it marks the rows instead)");
		return false;
	}
	struct sl_error err;
	char *col = NULL, *expr = NULL;
	if (job->soft && !soft_parse(job->soft, &col, &expr, &err)) {
		log_error("%s", err.msg);
		return false;
	}
	free(col);
	free(expr);
	if (job->incremental && (job->query || job->truncate || job->single_transaction)) {
		log_error("--incremental copies tables by their cursor: no --query, --truncate "
			  "or --single-transaction with it");
		return false;
	}
	if (job->delete_missing && !job->incremental) {
		log_error("--delete-missing goes with --incremental");
		return false;
	}
	return true;
}

/* The options load, update, copy and verify share, where only some of
 * them take one. */
static bool check_shared(const struct job *job)
{
	if (job->forget) {
		log_error("--forget is for sluice checkpoints");
		return false;
	}
	/* verify leaves the checkpoint table out of its comparison */
	if ((job->job_name || (job->checkpoint_table && job->command != CMD_VERIFY)) &&
	    !job->resume && !job->incremental) {
		log_error("--job and --checkpoint-table go with --resume or --incremental");
		return false;
	}
	if (job->resume && job->command != CMD_LOAD && job->command != CMD_COPY &&
	    job->command != CMD_UPDATE && job->command != CMD_DELETE &&
	    job->command != CMD_EXPORT) {
		log_error("--resume is for sluice load, update, delete, copy and export");
		return false;
	}
	if (!check_incremental(job))
		return false;
	bool tables_cmd = job->command == CMD_COPY || job->command == CMD_VERIFY ||
			  job->command == CMD_EXPORT;
	if (!tables_cmd && (job->ntables || job->nexclude || job->schema || job->query ||
			    job->cast || job->verify || job->split_rows)) {
		log_error("--tables, --exclude-tables, --schema, --query, --cast and --verify are "
			  "for sluice copy and verify");
		return false;
	}
	if (job->command != CMD_EXPORT &&
	    (job->quote_all || job->compress || job->out_name || job->max_file_bytes ||
	     job->manifest || job->compress_level || job->ejson)) {
		log_error("--quote-all, --compress, --compress-level, --ejson, --name, "
			  "--max-file-bytes and --manifest are for sluice export");
		return false;
	}
	if ((job->nnest && job->command != CMD_LOAD && job->command != CMD_EXPORT) ||
	    (job->nflatten && job->command != CMD_LOAD)) {
		log_error("--nest is for sluice load (PATH[=TABLE]) and export (CHILD:FK), "
			  "--flatten for load");
		return false;
	}
	return true;
}

/* sluice copy|verify [OPTIONS] FROM_URL TO_URL */
static bool tables_operands(int argc, char **argv, const char *cmd, struct job *job)
{
	if (argc - optind != 2) {
		log_error("usage: sluice %s [OPTIONS] FROM_URL TO_URL", cmd);
		return false;
	}
	job->from = argv[optind];
	job->target = argv[optind + 1];
	if (!check_url("FROM_URL", job->from) || !check_url("TO_URL", job->target))
		return false;
	if (job->query && (job->ntables || job->nexclude)) {
		log_error("--query copies one query into --table: no --tables with it");
		return false;
	}
	if (job->nset || job->on_conflict != CONFLICT_ERROR || job->nkey || job->ncolumns ||
	    job->nadd || job->group_by || job->sort_groups || job->add_null_as_zero) {
		log_error(
			"--set, --on-conflict, --key, --columns, --add and --group-by are for sluice "
			"load, update and delete");
		return false;
	}
	return true;
}

static bool check_keyed(const struct job *job, const char *cmd);

/* sluice export [OPTIONS] FROM_URL DEST */
static bool export_operands(int argc, char **argv, struct job *job)
{
	if (argc - optind != 2) {
		log_error("usage: sluice export [OPTIONS] FROM_URL DEST (a directory, a file or "
			  "- for stdout)");
		return false;
	}
	job->from = argv[optind];
	job->dest = argv[optind + 1];
	if (!check_url("FROM_URL", job->from))
		return false;
	if (!job->dest[0]) {
		log_error("DEST is empty: name a directory, a file or - for stdout");
		return false;
	}
	if (job->query && (job->ntables || job->nexclude)) {
		log_error("--query exports one query as --name: no --tables with it");
		return false;
	}
	if (job->out_name && !job->query) {
		log_error("--name names a --query's rows");
		return false;
	}
	if (job->nset || job->on_conflict != CONFLICT_ERROR || job->nkey || job->ncolumns ||
	    job->table || job->create || job->truncate || job->cast || job->verify ||
	    job->rejects_path) {
		log_error("--table, --columns, --create, --truncate, --cast, --verify, --rejects, "
			  "--set, --on-conflict and --key are not for sluice export");
		return false;
	}
	return true;
}

/* sluice load|update|delete [OPTIONS] SOURCE... TARGET_URL */
static bool sources_operands(int argc, char **argv, const char *cmd, struct job *job)
{
	int rest = argc - optind;
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
		return false;
	}
	job->nsources = rest - 1;
	job->sources = argv + optind;
	job->target = argv[argc - 1];
	if (!check_url("TARGET_URL", job->target))
		return false;
	return check_keyed(job, cmd);
}

/* The options of keyed writes: update, delete, deltas, groups. */
static bool check_keyed(const struct job *job, const char *cmd)
{
	if (job->command == CMD_UPDATE || job->command == CMD_DELETE) {
		if (!job->nkey) {
			log_error("sluice %s needs --key", cmd);
			return false;
		}
		if (job->create || job->truncate || job->on_conflict != CONFLICT_ERROR ||
		    job->method || job->defaults) {
			log_error("--create, --truncate, --on-conflict, --method and --defaults "
				  "are for sluice load");
			return false;
		}
	} else if (job->nset) {
		log_error("--set is for sluice update");
		return false;
	}
	if (job->command == CMD_DELETE && (job->nset || job->nadd)) {
		log_error("--set and --add are for sluice update (and --add for load "
			  "--on-conflict update)");
		return false;
	}
	if (job->soft) {
		char *col, *expr;
		struct sl_error err;
		if (!soft_parse(job->soft, &col, &expr, &err)) {
			log_error("%s", err.msg);
			return false;
		}
		free(col);
		free(expr);
	}
	if (job->nadd && job->command == CMD_LOAD && job->on_conflict != CONFLICT_UPDATE) {
		log_error("--add goes with sluice update, or load --on-conflict update --key K");
		return false;
	}
	if (job->add_null_as_zero && !job->nadd) {
		log_error("--add-null-as-zero goes with --add");
		return false;
	}
	if ((job->group_by || job->max_group_rows) && job->command == CMD_LOAD &&
	    job->on_conflict == CONFLICT_ERROR) {
		log_error("--group-by is for sluice update, delete and load --on-conflict");
		return false;
	}
	if (job->max_group_rows && !job->group_by) {
		log_error("--max-group-rows goes with --group-by");
		return false;
	}
	if (job->sort_groups && !job->group_by) {
		log_error("--sort-groups goes with --group-by");
		return false;
	}
	for (int k = 0; job->group_by && k < job->nkey; k++)
		if (!strcmp(job->key[k], job->group_by)) {
			log_error("--group-by %s: a key column groups nothing (each key is its "
				  "own group already); name the column that ties records together",
				  job->group_by);
			return false;
		}
	if (job->on_conflict == CONFLICT_UPDATE && !job->nkey) {
		log_error("--on-conflict update needs --key");
		return false;
	}
	return true;
}

enum cli_result cli_parse(int argc, char **argv, struct job *job)
{
	int bad;
	return cli_parse_at(argc, argv, job, &bad);
}

enum cli_result cli_parse_at(int argc, char **argv, struct job *job, int *bad)
{
	*bad = 0;
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
	if (!parse_command(cmd, job)) {
		*bad = 1;
		return CLI_USAGE;
	}
	if (!check_words(argc, argv, cmd, bad))
		return CLI_USAGE;
	enum cli_result r = parse_options(argc, argv, cmd, job, bad);
	if (r != CLI_RUN)
		return r;
	if (job->command == CMD_PING)
		return ping_operands(argc, argv, job);
	if (job->command == CMD_CHECKPOINTS)
		return checkpoints_operands(argc, argv, job);
	if (job->command == CMD_RUN)
		return run_operands(argc, argv, job);
	bool tables_cmd = job->command == CMD_COPY || job->command == CMD_VERIFY;
	if (!check_shared(job) || !(job->command == CMD_EXPORT ? export_operands(argc, argv, job)
				    : tables_cmd ? tables_operands(argc, argv, cmd, job)
						 : sources_operands(argc, argv, cmd, job)))
		return CLI_USAGE;
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
	for (int i = 0; i < job->nadd; i++)
		free(job->add[i]);
	free(job->add);
	for (int i = 0; i < job->ntables; i++)
		free(job->tables[i]);
	free(job->tables);
	for (int i = 0; i < job->nexclude; i++)
		free(job->exclude_tables[i]);
	free(job->exclude_tables);
	for (int i = 0; i < job->nonly; i++)
		free(job->only[i]);
	free(job->only);
	for (int i = 0; i < job->nnest; i++)
		free(job->nest[i]);
	free(job->nest);
	for (int i = 0; i < job->nflatten; i++)
		free(job->flatten[i]);
	free(job->flatten);
	memset(job, 0, sizeof *job);
}
