/* src/db/driver.c
 * Choosing a driver by URL, and helpers every driver shares.
 */
#include "sluice/driver.h"

#include <stdlib.h>
#include <string.h>

#include "sluice/url.h"

const struct driver *driver_for_url(const char *url)
{
	switch (url_kind(url)) {
	case URL_POSTGRES:
		return &pg_driver;
	case URL_MYSQL:
		return &mysql_driver;
	default:
		return NULL;
	}
}

const char *method_name(enum write_method m)
{
	switch (m) {
	case METHOD_COPY:
		return "copy";
	case METHOD_INSERT:
		return "insert";
	case METHOD_INFILE:
		return "infile";
	default:
		return "default";
	}
}
