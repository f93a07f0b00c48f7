/* src/cli/commands.c
 * From a parsed command line to the command's run function: the one
 * dispatch main and sluice run's steps share.
 */
#include <stdio.h>

#include "sluice/cli.h"
#include "sluice/driver.h"
#include "sluice/log.h"

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

void cli_log_setup(const struct job *job)
{
	static const enum log_mode modes[] = {
		[PROGRESS_AUTO] = LOG_MODE_AUTO,
		[PROGRESS_BAR] = LOG_MODE_BAR,
		[PROGRESS_LOG] = LOG_MODE_LOG,
		[PROGRESS_NONE] = LOG_MODE_NONE,
	};
	log_setup(modes[job->progress]);
}

enum run_status cli_run_command(const struct job *job)
{
	switch (job->command) {
	case CMD_PING:
		return ping_run(job);
	case CMD_COPY:
		return copy_run(job);
	case CMD_VERIFY:
		return verify_run(job);
	case CMD_EXPORT:
		return export_run(job);
	case CMD_CHECKPOINTS:
		return checkpoints_run(job);
	case CMD_RUN:
		return jobfile_run(job);
	default:
		return load_run(job);
	}
}
