/*
 * fuzz_cluster.c - libFuzzer target for lib/cluster's receive path.
 *
 * One node n1 (two partitions, authentication off), created once and kept
 * across inputs (creating and destroying a tracker waits for RCU), learns
 * of a peer n2 through a real membership JOIN, so registry datagrams from
 * n2 pass the sender checks and reach every body decoder. Each input is then one
 * datagram from n2: byte 0 picks the type, byte 1 the flags, byte 2 the
 * partition, and the rest is the body; the raw input is also delivered as
 * a whole datagram. Properties: nothing crashes or leaks (ASan/UBSan), the
 * node ticks on, and a malformed DIGEST, ACK or REPAIR_REQ changed no entry.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <urcu/urcu-qsbr.h>

#include "clu_internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define check(cond) do { \
		if (!(cond)) { \
			fprintf(stderr, "fuzz_cluster: check failed at %s:%d: %s\n", \
				__FILE__, __LINE__, #cond); \
			abort(); \
		} \
	} while (0)

/* n2's datagram sequence: every input is new to the replay window */
static uint64_t n2_seq;

/* n2 (re)joins, each time at a higher incarnation than any input used
 * to declare it dead or left. */
static void
hello_from_n2(struct clu *c)
{
	static uint64_t inc = 1;

	struct mbr_msg msg = { .type = MBR_MSG_JOIN };
	struct mbr_addr src = { 0x0a000002, 7401 };
	uint8_t buf[CLU_DGRAM_MAX];
	struct clu_hdr h = { .type = CLU_T_MEMBER, .part = CLU_NO_PART,
		.nparts = 2, .sender = 2, .epoch = 5, .flags = CLU_F_READY,
		.dst_epoch = c->epoch, .seq = ++n2_seq };
	struct clu_wr w;
	size_t n;

	msg.from.name_len = 2;
	memcpy(msg.from.name, "n2", 2);
	msg.from.addr = src;
	msg.from.id = 2;
	msg.from.incarnation = inc;
	inc += 1ULL << 32;
	clu_wr_init(&w, buf, sizeof(buf));
	clu_hdr_put(&w, &h);
	n = mbr_encode(&msg, buf + w.len, sizeof(buf) - w.len);
	check(n > 0);
	clu_receive(c, &src, buf, w.len + n, 0);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct trk *t;
	static struct clu *c;
	static uint64_t now = 10;
	struct trk_config tc = { .nparts = 2, .node_id = 1,
		.expected_entries = 64, .change_queue_len = 256 };
	struct exec_node xn = { .node_id = 1, .name = "n1" };
	struct mbr_addr src = { 0x0a000002, 7401 };
	uint8_t buf[CLU_DGRAM_MAX];
	struct clu_config cc;
	struct clu_stats before, after;
	struct clu_dgram out[16];
	struct clu_hdr h;
	struct clu_wr w;
	uint64_t count;

	if (c == NULL) {
		urcu_qsbr_register_thread();
		t = trk_create(&tc);
		check(t != NULL);
		clu_config_default(&cc);
		cc.node_id = 1;
		cc.name = "n1";
		cc.name_len = 2;
		cc.addr.ip = 0x0a000001;
		cc.addr.port = 7401;
		cc.send_queue = 64;
		c = clu_create(&cc, t, &xn, 0);
		check(c != NULL);
	}
	if (clu_alive(c) != 2)
		hello_from_n2(c);	/* an input may have declared it dead */
	now += 10;
	if (size >= 3 && size - 3 <= CLU_DGRAM_MAX - CLU_HDR_LEN) {
		memset(&h, 0, sizeof(h));
		h.type = (uint8_t)(CLU_T_BATCH + data[0] % (CLU_T__MAX - CLU_T_BATCH));
		h.flags = data[1] & CLU_F_ALL;
		h.part = data[2] % 2;
		h.nparts = 2;
		h.sender = 2;
		h.epoch = 5;
		h.dst_epoch = c->epoch;
		h.seq = ++n2_seq;
		clu_wr_init(&w, buf, sizeof(buf));
		clu_hdr_put(&w, &h);
		clu_put(&w, data + 3, size - 3);
		clu_get_stats(c, &before);
		count = trk_count(t);
		clu_receive(c, &src, buf, w.len, now);
		clu_get_stats(c, &after);
		if (after.rx_malformed > before.rx_malformed &&
		    (h.type == CLU_T_DIGEST || h.type == CLU_T_ACK ||
		     h.type == CLU_T_REPAIR_REQ))
			check(trk_count(t) == count);
	}
	if (size <= CLU_DGRAM_MAX)
		clu_receive(c, &src, data, size, now);
	clu_tick(c, now);
	while (clu_poll_send(c, out, 16) > 0)
		;
	urcu_qsbr_quiescent_state();
	return 0;
}
