/* src/cli/main.c
 * Entry point: parse the command line, run the command, and turn how it
 * ended into the exit code. The only place that decides exit codes.
 */
#include <stdio.h>
#include <string.h>

#include "sluice/cli.h"
#include "sluice/driver.h"
#include "sluice/log.h"
#include "sluice/report.h"
#include "sluice/signals.h"

/* sluice ping URL: connect, print the server version. */
static enum run_status ping_run(const struct job *job)
{
	const struct driver *drv = driver_for_url(job->target);
	struct sl_error err;
	sl_error_clear(&err);
	if (!drv) {
		driver_unknown_url(job->target, &err);
		log_error("%s", err.msg);
		return RUN_USAGE;
	}
	struct conn *c;
	if (!drv->conn.connect(job->target, &(struct conn_options){.timeout = job->timeout}, &c,
			       &err)) {
		log_error("%s", err.msg);
		return err.kind == SL_ERR_USAGE ? RUN_USAGE : RUN_FAILED;
	}
	char version[128];
	bool ok = drv->conn.server_version(c, version, sizeof version, &err);
	if (ok)
		printf("%s\n", version);
	else
		log_error("%s", err.msg);
	drv->conn.close(c);
	return ok ? RUN_OK : RUN_FAILED;
}

int main(int argc, char **argv)
{
	struct job job;
	log_setup(LOG_MODE_AUTO); /* usage errors come before the options are known */
	enum cli_result r = cli_parse(argc, argv, &job);
	if (r != CLI_RUN) {
		cli_job_free(&job);
		return r == CLI_EXIT_OK ? 0 : 2;
	}
	static const enum log_mode modes[] = {
		[PROGRESS_AUTO] = LOG_MODE_AUTO,
		[PROGRESS_BAR] = LOG_MODE_BAR,
		[PROGRESS_LOG] = LOG_MODE_LOG,
		[PROGRESS_NONE] = LOG_MODE_NONE,
	};
	log_setup(modes[job.progress]);
	enum run_status st;
	switch (job.command) {
	case CMD_PING:
		st = ping_run(&job);
		break;
	case CMD_COPY:
		st = copy_run(&job);
		break;
	case CMD_VERIFY:
		st = verify_run(&job);
		break;
	case CMD_EXPORT:
		st = export_run(&job);
		break;
	case CMD_CHECKPOINTS:
		st = checkpoints_run(&job);
		break;
	default:
		st = load_run(&job);
		break;
	}
	cli_job_free(&job);
	return run_exit_code(st);
}
