/* include/sluice/export_nest.h
 * sluice export --nest: each row of a parent table written with the rows
 * of its child tables as arrays, the parent and every child read once, in
 * key order, and merged (src/pipeline/export_nest.c). export.c plans the
 * tables; this merges their rows.
 */
#ifndef SLUICE_EXPORT_NEST_H
#define SLUICE_EXPORT_NEST_H

#include <stdbool.h>

#include "sluice/driver.h"
#include "sluice/output.h"

/* How the parent's key and the children's FK values are compared: as
 * integers, or by their bytes (text, read in the order of its bytes, and
 * any other type, in the server's order, checked as it comes). */
enum nest_order {
	NEST_INTEGER,
	NEST_BYTES,
};

/* One child table, as export planned it (all of it outlives the merge). */
struct nest_child {
	const char *name;	       /* the table, and the array field's name */
	const struct write_spec *spec; /* its table and columns */
	char *const *order;	       /* its primary key: its rows' order under a parent */
	int norder;
	const unsigned *xf; /* per column: the transform export applies */
	const int *bits;
	const struct out_column *cols; /* spec->ncols of them */
	int fk;			       /* the column holding the parent's key */
};

struct nest_merge;

/* Start reading the n children, child k on conns[k] (each in the
 * parent's snapshot), ordered by their FK (bytewise: by its bytes) then
 * their primary key. False with err. */
bool nest_merge_open(struct nest_merge **out, const struct driver *drv, struct conn *const *conns,
		     const struct nest_child *children, int n, enum nest_order order, bool bytewise,
		     struct sl_error *err);
/* Write the parent row vals (its key in vals[key]; parents come in key
 * order) to o with each child's rows whose FK is that key, as an array
 * named after the child; the children passed over on the way (FK of no
 * parent, or NULL) are counted. False with err: a read failed, or the
 * rows came out of order. */
bool nest_merge_row(struct nest_merge *m, struct output *o, const struct cell *vals, int key,
		    struct sl_error *err);
/* After the last parent: the children left are read and counted (their
 * FK matches no parent) and the orphans of each are said in a warning.
 * *rows gets the child rows written; *zero_dates grows by the children's
 * MySQL zero dates written as NULL. False with err. */
bool nest_merge_finish(struct nest_merge *m, unsigned long long *rows,
		       unsigned long long *zero_dates, struct sl_error *err);
/* Stop the reads and free m (NULL: nothing). */
void nest_merge_close(struct nest_merge *m);

#endif
