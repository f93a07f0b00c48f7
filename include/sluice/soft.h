/* include/sluice/soft.h
 * --soft 'COL=EXPR': mark rows instead of deleting them (sluice delete,
 * copy --delete-missing). EXPR is a server expression (now(),
 * CURRENT_TIMESTAMP), the one place where operator text goes to the
 * server as SQL.
 */
#ifndef SLUICE_SOFT_H
#define SLUICE_SOFT_H

#include <stdbool.h>

#include "sluice/error.h"

/* Split spec at its first '=' into the column (*col, spaces around it
 * trimmed) and the expression (*expr, trimmed), both malloc'd for the
 * caller to free. False with err (SL_ERR_USAGE) when either part is empty
 * or there is no '='; *col and *expr are then NULL. */
bool soft_parse(const char *spec, char **col, char **expr, struct sl_error *err);

#endif
