/* include/sluice/cli.h
 * The command line: argv -> struct job. Parsing never runs anything.
 */
#ifndef SLUICE_CLI_H
#define SLUICE_CLI_H

#include "sluice/job.h"
#include "sluice/version.h"

enum cli_result {
	CLI_RUN,     /* *job is ready to run */
	CLI_EXIT_OK, /* --help or --version was printed */
	CLI_USAGE,   /* a usage error was reported */
};

/* Parse argv into *job (which owns nothing of argv's memory beyond pointers
 * into it; lists are malloc'd and freed by cli_job_free). */
enum cli_result cli_parse(int argc, char **argv, struct job *job);
/* The same, and *bad the index in argv of the word at fault when a usage
 * error is one word's (an unknown command or option, a bad value), else
 * 0: sluice run says which line of its file that word came from. */
enum cli_result cli_parse_at(int argc, char **argv, struct job *job, int *bad);
void cli_job_free(struct job *job);

/* Whether the long option name (without dashes) takes a value: 1, 0 for a
 * flag, -1 when there is no such option (or it is --help or --version). */
int cli_option_takes_value(const char *name);
/* The long option closest to word, when close enough to be what was meant,
 * or NULL. */
const char *cli_option_closest(const char *word);

/* Whether command has a --dry-run of its own (load, update, copy): sluice
 * run --dry-run prints the command line of the others instead. */
bool cli_command_dry_runs(enum command command);
/* Set the log display up for job's --progress. */
void cli_log_setup(const struct job *job);

/* Run the command job describes (parsed by cli_parse): returns how it
 * ended. main and sluice run's steps go through it. */
enum run_status cli_run_command(const struct job *job);
/* sluice run JOBFILE: check every step, then run them in order. */
enum run_status jobfile_run(const struct job *job);

#endif
