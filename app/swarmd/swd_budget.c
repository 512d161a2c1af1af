/*
 * swd_budget.c - the reply budget of a client request (docs/protocol.md
 * 5.1 and 12).
 *
 * A request from a source outside trusted_clients may draw EXEC_AMP reply
 * bytes per request byte, so that a spoofed source cannot turn the node
 * into an amplifier. Page cursors handed to such a source carry a tag, a
 * keyed hash of its address and the 65.5 s period, which verifies the
 * source when a cursor comes back (exec_budget): a client that really
 * receives at its address can list on. The key is drawn at start-up and
 * read-only afterwards, so any worker may compute a budget.
 */
#include <string.h>

#include <sodium.h>

#include "swd.h"

/* Cursor tags change every 2^16 ms (65.5 s); the previous one still counts. */
#define TAG_PERIOD_SHIFT 16

/* The secret of the cursor tags, drawn at start-up (read-only afterwards). */
static uint8_t tag_key[crypto_shorthash_KEYBYTES];

int
swd_budget_init(void)
{
	if (sodium_init() < 0)
		return -1;
	randombytes_buf(tag_key, sizeof(tag_key));
	return 0;
}

/* The tag of source address ip (network order) in period p. */
static uint32_t
source_tag(rte_be32_t ip, uint64_t p)
{
	uint8_t in[12], h[crypto_shorthash_BYTES];
	uint32_t t;
	int i;

	memcpy(in, &ip, 4);
	for (i = 0; i < 8; i++)
		in[4 + i] = (uint8_t)(p >> (8 * i));
	crypto_shorthash(h, in, sizeof(in), tag_key);
	memcpy(&t, h, sizeof(t));
	return t != 0 ? t : 1;	/* 0 means "no tag" */
}

static bool
trusted(uint32_t ip)
{
	uint32_t i;

	for (i = 0; i < swd.prm.ntrusted; i++)
		if ((ip & swd.prm.trusted[i].mask) == swd.prm.trusted[i].net)
			return true;
	return false;
}

void
swd_budget(const struct net_pkt *pkt, size_t len, uint64_t now,
		struct exec_budget *b)
{
	uint64_t p = now >> TAG_PERIOD_SHIFT;

	memset(b, 0, sizeof(*b));
	if (!swd.prm.budget_untrusted ||
	    trusted(rte_be_to_cpu_32(pkt->src_ip)))
		return;
	b->reply_bytes_max = EXEC_AMP * len;
	b->cursor_tag[0] = source_tag(pkt->src_ip, p);
	b->cursor_tag[1] = source_tag(pkt->src_ip, p - 1);
}
