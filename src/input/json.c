/* src/input/json.c
 * The JSON and NDJSON reader (placeholder until it lands: opening reports
 * that JSON input is not available in this build).
 */
#include "sluice/reader.h"

static bool json_open(struct reader *r, const struct reader_options *opt, struct sl_error *err)
{
	(void)r;
	(void)opt;
	return sl_error_set(err, SL_ERR_USAGE, "JSON input is not available in this build");
}

const struct reader_ops json_reader_ops = {
	.name = "json",
	.open = json_open,
};
