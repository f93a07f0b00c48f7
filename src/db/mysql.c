/* src/db/mysql.c
 * The MySQL/MariaDB driver (placeholder until the driver lands: every call
 * reports that MySQL is not available in this build).
 */
#include "sluice/driver.h"

static bool my_supports(enum write_method m)
{
	return m == METHOD_INSERT || m == METHOD_INFILE;
}

static bool my_connect(const char *url, struct conn **out, struct sl_error *err)
{
	(void)url;
	(void)out;
	return sl_error_set(err, SL_ERR_USAGE, "mysql:// targets are not available in this build");
}

const struct driver mysql_driver = {
	.name = "mysql",
	.dialect = &mysql_dialect,
	.default_method = METHOD_INSERT,
	.supports = my_supports,
	.connect = my_connect,
};
