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
void cli_job_free(struct job *job);

#endif
