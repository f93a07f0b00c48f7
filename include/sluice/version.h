/* include/sluice/version.h
 * sluice's version, as --version, the man page and the summaries give it.
 */
#ifndef SLUICE_VERSION_H
#define SLUICE_VERSION_H

#define SLUICE_VERSION "0.1.0"

#endif
