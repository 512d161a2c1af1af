/*
 * pipeline.c - the phases of swarm-pipeline: build the client's datagrams,
 * run writer and reader threads over exec_datagram(), check every answer,
 * print the rates.
 *
 * Threads follow the tracker's RCU contract: each registers with QSBR,
 * stays online while it executes a burst of datagrams and announces a
 * quiescent state between bursts, the way a worker lcore will.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <urcu/urcu-qsbr.h>

#include "exec.h"
#include "pipeline.h"


static const uint8_t pl_meta[] = "fw=4.2.1;zone=7";

size_t
pl_name(char *buf, uint64_t i)
{
	return (size_t)snprintf(buf, PL_NAME_MAX, "dev-%010" PRIu64, i);
}

uint64_t
pl_handle(uint64_t i)
{
	return 0x5157000000000000ull | i;
}

static int
dg_reserve(struct pl_dgrams *d)
{
	if (d->n == d->ncap) {
		size_t nc = d->ncap ? 2 * d->ncap : 1024;

		d->off = realloc(d->off, nc * sizeof(*d->off));
		d->len = realloc(d->len, nc * sizeof(*d->len));
		d->first = realloc(d->first, nc * sizeof(*d->first));
		if (!d->off || !d->len || !d->first)
			return -1;
		d->ncap = nc;
	}
	if (d->cap - d->used < PROTO_MAX_DGRAM) {
		size_t nc = d->cap ? 2 * d->cap : 1 << 20;

		d->buf = realloc(d->buf, nc);
		if (d->buf == NULL)
			return -1;
		d->cap = nc;
	}
	return 0;
}

/* Starts a datagram at the end of d; the encoder writes in place. */
static int
dg_begin(struct pl_dgrams *d, struct proto_enc *e, uint64_t first)
{
	if (dg_reserve(d) < 0)
		return -1;
	d->first[d->n] = first;
	return proto_req_init(e, d->buf + d->used, PROTO_MAX_DGRAM,
			      (uint64_t)d->n + 1);
}

static void
dg_end(struct pl_dgrams *d, struct proto_enc *e)
{
	size_t len = proto_enc_finish(e);

	d->off[d->n] = (uint32_t)d->used;
	d->len[d->n] = (uint32_t)len;
	d->used += len;
	d->n++;
}

static void
dg_free(struct pl_dgrams *d)
{
	free(d->buf);
	free(d->off);
	free(d->len);
	free(d->first);
}

/* REGISTER datagrams, one list per partition: the client steers writes. */
static int
build_writes(struct pl_run *run)
{
	const struct pl_config *c = &run->cfg;
	struct proto_enc *enc = calloc(c->parts, sizeof(*enc));
	uint32_t *fill = calloc(c->parts, sizeof(*fill));
	struct proto_endpoint ep = { .family = PROTO_AF_IPV4, .port = 5683,
				     .addr = { 10, 42, 0, 7 } };
	char name[PL_NAME_MAX];
	uint64_t i;
	uint32_t p;

	if (enc == NULL || fill == NULL)
		goto fail;
	for (i = 0; i < c->names; i++) {
		size_t len = pl_name(name, i);

		p = trk_part_of(run->trk, ring_hash_name(name, len));
		if (fill[p] == 0 && dg_begin(&run->writes[p], &enc[p], i) != 0)
			goto fail;
		ep.port = (uint16_t)(1024 + i % 60000);
		if (proto_req_add_register(&enc[p], name, len, pl_handle(i), &ep,
					   pl_meta, sizeof(pl_meta) - 1, 0) != 0)
			goto fail;
		if (++fill[p] == c->batch) {
			dg_end(&run->writes[p], &enc[p]);
			fill[p] = 0;
		}
	}
	for (p = 0; p < c->parts; p++)
		if (fill[p] != 0)
			dg_end(&run->writes[p], &enc[p]);
	free(enc);
	free(fill);
	return 0;
fail:
	free(enc);
	free(fill);
	return -1;
}

/* WHEREIS datagrams over consecutive names (any partition). */
static int
build_reads(struct pl_run *run)
{
	struct proto_enc enc;
	char name[PL_NAME_MAX];
	uint64_t i;

	for (i = 0; i < run->cfg.names; i++) {
		size_t len = pl_name(name, i);

		if (i % run->cfg.batch == 0 &&
		    dg_begin(&run->reads, &enc, i) != 0)
			return -1;
		if (proto_req_add_whereis(&enc, name, len) != 0)
			return -1;
		if ((i + 1) % run->cfg.batch == 0 || i + 1 == run->cfg.names)
			dg_end(&run->reads, &enc);
	}
	return 0;
}

int
pl_setup(struct pl_run *run, const struct pl_config *cfg)
{
	struct trk_config tc = {
		.nparts = cfg->parts,
		.node_id = 1,
		.expected_entries = cfg->names,
	};

	memset(run, 0, sizeof(*run));
	run->cfg = *cfg;
	urcu_qsbr_register_thread();
	run->trk = trk_create(&tc);
	run->writes = calloc(cfg->parts, sizeof(*run->writes));
	if (run->trk == NULL || run->writes == NULL ||
	    build_writes(run) < 0 || build_reads(run) < 0) {
		fprintf(stderr, "swarm-pipeline: set-up failed (memory?)\n");
		return -1;
	}
	return 0;
}

void
pl_teardown(struct pl_run *run)
{
	uint32_t p;

	if (run->trk != NULL)
		trk_destroy(run->trk);
	for (p = 0; run->writes != NULL && p < run->cfg.parts; p++)
		dg_free(&run->writes[p]);
	free(run->writes);
	dg_free(&run->reads);
	urcu_qsbr_unregister_thread();
}
