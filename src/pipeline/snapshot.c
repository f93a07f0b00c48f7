/* src/pipeline/snapshot.c
 * Several readers of a source in one consistent snapshot, for copy and
 * export: the first connection's snapshot exported and imported by the
 * others (PostgreSQL), or every snapshot started while a lock connection
 * holds the source still (MySQL, hold_still), so no commit falls between
 * them; where neither serves, a snapshot per reader, said in a warning.
 */
#include <stdio.h>

#include "sluice/copy_internal.h"
#include "sluice/log.h"

bool snapshot_share(const struct driver *from, const char *url, double timeout, struct conn *first,
		    struct conn **readers, int n, const char *doing, struct sl_error *err)
{
	if (n == 1) {
		readers[0] = first;
		return from->read.snapshot(first, err);
	}
	char snap[128] = "";
	struct conn *lock = NULL;
	struct conn_options copts = {.timeout = timeout};
	bool ok = true;
	/* every connection first: behind a transaction pooler a connect asks
	 * the server something on a session the snapshots then hold */
	for (int i = 0; ok && i < n; i++)
		ok = from->conn.connect(url, &copts, &readers[i], err);
	if (ok && from->read.export_snapshot) {
		ok = from->read.snapshot(first, err) &&
		     from->read.export_snapshot(first, snap, sizeof snap, err);
	} else if (ok && from->read.hold_still) {
		ok = from->conn.connect(url, &copts, &lock, err);
		struct sl_error e;
		if (ok && !from->read.hold_still(lock, &e)) {
			log_warn("%s with %d workers, each reads its own snapshot: %s", doing, n,
				 e.msg);
			from->conn.close(lock);
			lock = NULL;
		}
		ok = ok && from->read.snapshot(first, err);
	} else if (ok) {
		log_warn("%s with %d workers, each reads its own snapshot: %s has no shared one",
			 doing, n, from->name);
		ok = from->read.snapshot(first, err);
	}
	for (int i = 0; ok && i < n; i++)
		ok = snap[0] ? from->read.snapshot_at(readers[i], snap, err)
			     : from->read.snapshot(readers[i], err);
	if (lock) {
		from->read.let_go(lock);
		from->conn.close(lock);
	}
	return ok;
}
