/* src/cli/main.c
 * Entry point: parse the command line, run the command, and turn how it
 * ended into the exit code. The only place that decides exit codes.
 */
#include <stdio.h>
#include <string.h>

#include "sluice/cli.h"
#include "sluice/log.h"
#include "sluice/report.h"
#include "sluice/signals.h"

int main(int argc, char **argv)
{
	struct job job;
	log_setup(LOG_MODE_AUTO); /* usage errors come before the options are known */
	enum cli_result r = cli_parse(argc, argv, &job);
	if (r != CLI_RUN) {
		cli_job_free(&job);
		return r == CLI_EXIT_OK ? 0 : 2;
	}
	cli_log_setup(&job);
	enum run_status st = cli_run_command(&job);
	cli_job_free(&job);
	return run_exit_code(st);
}
