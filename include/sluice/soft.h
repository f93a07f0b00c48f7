/* include/sluice/soft.h
 * --soft 'COL=EXPR': mark rows instead of deleting them (sluice delete,
 * copy --delete-missing). EXPR is a server expression (now(),
 * CURRENT_TIMESTAMP, 1): the one place where text from the command line
 * goes to the server as SQL, chosen by the operator, never by the input.
 */
#ifndef SLUICE_SOFT_H
#define SLUICE_SOFT_H

#include <stdbool.h>

#include "sluice/error.h"

/* Split spec, "COL=EXPR", into the column (surrounding blanks trimmed) and
 * the expression (likewise), both malloc'd and the caller's. False with err
 * (SL_ERR_USAGE) when there is no '=', the column or the expression is
 * empty, or the expression carries a ';' outside quotes (one expression,
 * never a second statement). */
bool soft_parse(const char *spec, char **col, char **expr, struct sl_error *err);

#endif
