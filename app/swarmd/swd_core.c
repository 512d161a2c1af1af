/*
 * swd_core.c - the process-wide context every swarmd file shares, the
 * log, and the millisecond clock.
 *
 * struct swd_ctx is filled by main.c before any worker starts and is
 * read-only afterwards, except for what swd.h marks otherwise (quit, and
 * each worker's own struct swd_worker).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_cycles.h>

#include "swd.h"

struct swd_ctx swd;

bool
swd_log_on(enum swd_log_level level)
{
	return level <= swd.prm.log_level;
}

void
swd_log(enum swd_log_level level, const char *fmt, ...)
{
	FILE *f = level <= SWD_LOG_WARNING ? stderr : stdout;
	va_list ap;

	if (!swd_log_on(level))
		return;
	va_start(ap, fmt);
	vfprintf(f, fmt, ap);
	va_end(ap);
	fflush(f);
}

uint64_t
swd_now_ms(const struct swd_ctx *c)
{
	return rte_get_tsc_cycles() / (c->tsc_hz / 1000);
}

struct swd_worker *
swd_workers_alloc(uint32_t n)
{
	size_t len = (size_t)n * sizeof(struct swd_worker);
	struct swd_worker *w;

	if (n == 0 || (w = aligned_alloc(RTE_CACHE_LINE_SIZE, len)) == NULL)
		return NULL;
	memset(w, 0, len);
	return w;
}
