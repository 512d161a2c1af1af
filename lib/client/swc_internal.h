/*
 * swc_internal.h - client and batch internals shared by the lib/client
 * sources. Not installed.
 */
#ifndef SWARM_SWC_INTERNAL_H
#define SWARM_SWC_INTERNAL_H

#include <sys/socket.h>

#include "swc.h"

/* Op states during swc_run(). */
enum {
	SWC_OP_PENDING,		/* to send in the next attempt */
	SWC_OP_SENT,		/* sent in this attempt, no answer yet */
	SWC_OP_RETRY,		/* answered overloaded / internal: again */
	SWC_OP_FINAL,		/* has its final result */
};

struct swc_bop {
	uint8_t opcode;
	uint8_t flags;
	uint8_t state;
	bool retry;			/* safe to repeat */
	uint16_t body_len;
	uint32_t retry_after_ms;	/* last overloaded hint */
	size_t body_off;		/* into batch->bodies */
};

struct swc_batch {
	struct swc_bop *ops;
	struct swc_result *res;
	size_t n, cap;
	uint8_t *bodies;
	size_t blen, bcap;
	uint8_t bad_field;
};

struct swc_server {
	char display[SWC_ADDR_STRLEN + 256];
	struct sockaddr_storage sa;
	socklen_t salen;
	int fd;				/* connected UDP socket */
	unsigned int tries;		/* attempts in the last call */
	bool answered;			/* answered in the last call */
	bool refused;			/* ICMP unreachable seen */
};

struct swc_client {
	struct swc_server srv[SWC_MAX_SERVERS];
	size_t nsrv;
	int cur;
	struct swc_options opt;
	uint64_t next_id;
	uint64_t rng;
	struct swc_counters cnt;
	struct swc_batch *one;		/* for the convenience calls */
	char errmsg[1024];
};

uint64_t swc_rand(struct swc_client *c);
void swc_result_clear(struct swc_result *r);

#endif /* SWARM_SWC_INTERNAL_H */
