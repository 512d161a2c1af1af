/*
 * ring.c - consistent-hash ring with many virtual nodes and a direct index.
 *
 * Placement. Every node of weight w contributes w * V points (V = vnodes per
 * unit of weight, 8192 by default). A node's name is hashed once with
 * ring_hash_name() (XXH3-64, seed 0) into h; point i of the node is
 * mix_fmix64(h + (i + 1) * MIX_GAMMA), a SplitMix64-style stream started at h
 * and passed through the same murmur3 finalizer that places names. Points
 * depend on the name alone, and raising a weight adds points (larger i)
 * without moving the old ones. A name's position is its ring_hash_name()
 * value passed through mix_fmix64() (a bijection), so that the owner is
 * independent of the hash bits the partition and the hash tables use. The
 * owner is the node of the first point at or after the position, wrapping
 * past the top.
 *
 * Why not XXH3 with seed i (the previous derivation): for 1-3 byte inputs
 * XXH3 folds the seed into the input with an add and an xor before its
 * final mix, so two names that differ in the low bits of one byte ("hx1",
 * "hx2") shared most of their points exactly, every tie went to the node
 * whose name sorts first, and 3 such nodes split names 99.97/0.03/0.00 %.
 * Here the name enters only through h, a full 64-bit hash; two distinct
 * names share a point only if their hashes differ by k * POINT_GAMMA with
 * |k| below the point count (odds of 2^-50 for a pair at the default V,
 * 2^-41 at RING_POINTS_MAX); otherwise their streams are unrelated outputs
 * of the finalizer.
 *
 * Why so many points: with V points per node a node's share of the circle is
 * a sum of V spacings, whose relative spread is about 1/sqrt(V). libring's
 * 128 points give +-9% per node and a 38/28/33% split of 3 nodes; 8192 give
 * about +-1.1%, which keeps the most loaded of 16 nodes within 5% of the
 * mean for every cluster naming we measured (4096 did not always: figures in
 * docs/ring.md). Movement stays minimal because it is still a plain
 * consistent-hash ring: adding a node only inserts its points, so only names
 * that now land on those points move, and they move to the new node.
 *
 * Packing. Each point is one uint64_t: the top 48 bits of its position and,
 * in the low 16 bits, the rank of its node in the name-sorted list of
 * nodes. Lookups compare the name's position with its low 16 bits cleared,
 * so a point compares as its 48-bit position, and two points of the same
 * 48-bit position are ordered by node name rank: ties are resolved the same
 * way on every host. Sorting plain integers keeps the array compact
 * (8 bytes a point, 1 MiB for 16 nodes) and the scan branch-light.
 *
 * Direct index. A table of 2^b + 1 entries (2^b >= number of points) gives,
 * for each value of the top b bits, the first point whose top b bits are
 * not smaller. A lookup reads index[j] and index[j + 1] and scans the few
 * points between them (one on average); if none is at or after the
 * position, the successor is the first point of the next non-empty bucket,
 * which is exactly index[j + 1]. So a lookup costs two dependent memory
 * reads in expectation, whatever the number of points.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "mix.h"
#include "ring.h"

#define RANK_BITS 16
#define RANK_MASK ((1ull << RANK_BITS) - 1)
#define INDEX_BITS_MIN 1
#define INDEX_BITS_MAX 22
#define BULK_CHUNK 16

struct ring {
	const uint64_t *points;	/* sorted; (position & ~RANK_MASK) | rank */
	const uint32_t *index;	/* (1 << index_bits) + 1 entries */
	const uint32_t *ids;	/* node rank -> caller's id */
	uint32_t npoints;
	uint32_t index_shift;	/* 64 - index_bits */
	uint32_t nnodes;
	uint32_t nallowed;
};

/*
 * The points of one node are the stream name_hash + k * MIX_GAMMA (2^64
 * distinct values before it repeats), each through murmur3's finalizer,
 * which also places names (their hash).
 */
/* Point i (0-based) of the node whose name hashes to name_hash. */
static inline uint64_t
vnode_point(uint64_t name_hash, uint32_t i)
{
	return mix_fmix64(name_hash + ((uint64_t)i + 1) * MIX_GAMMA);
}

static int
cmp_member_name(const void *a, const void *b)
{
	const struct ring_member *const *x = a;
	const struct ring_member *const *y = b;

	return strcmp((*x)->name, (*y)->name);
}

static int
cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a;
	uint64_t y = *(const uint64_t *)b;

	return (x > y) - (x < y);
}

static int
policy_valid(const struct ring_policy *p)
{
	if (p->strategy != RING_STRATEGY_RING &&
			p->strategy != RING_STRATEGY_STATIC_QUORUM)
		return 0;
	return p->quorum >= 1 && p->quorum <= RING_QUORUM_MAX &&
		p->vnodes >= 1 && p->vnodes <= RING_VNODES_MAX;
}

/* Allowed members sorted by name; *n gets their number. NULL on ENOMEM. */
static const struct ring_member **
allowed_sorted(const struct ring_members *m, const struct ring_policy *p,
		size_t *n)
{
	size_t total = ring_members_count(m), i, k = 0;
	const struct ring_member **v;

	v = malloc((total ? total : 1) * sizeof(*v));
	if (v == NULL)
		return NULL;
	for (i = 0; i < total; i++) {
		const struct ring_member *e = ring_members_at(m, i);

		if (ring_filter_allows(p->filter, e->name))
			v[k++] = e;
	}
	qsort(v, k, sizeof(*v), cmp_member_name);
	*n = k;
	return v;
}

static uint32_t
index_bits_for(uint32_t npoints)
{
	uint32_t b = INDEX_BITS_MIN;

	while (b < INDEX_BITS_MAX && (1u << b) < npoints)
		b++;
	return b;
}

/* One block: header, points, index, ids. Arrays stay naturally aligned. */
static struct ring *
ring_alloc(uint32_t npoints, uint32_t index_bits, uint32_t nnodes)
{
	size_t nindex = ((size_t)1 << index_bits) + 1;
	size_t size = sizeof(struct ring) + npoints * sizeof(uint64_t) +
		nindex * sizeof(uint32_t) + nnodes * sizeof(uint32_t);
	struct ring *r;
	char *p;

	r = malloc(size);
	if (r == NULL)
		return NULL;
	p = (char *)(r + 1);
	r->points = (const uint64_t *)p;
	p += npoints * sizeof(uint64_t);
	r->index = (const uint32_t *)p;
	p += nindex * sizeof(uint32_t);
	r->ids = (const uint32_t *)p;
	r->npoints = npoints;
	r->index_shift = 64 - index_bits;
	r->nnodes = nnodes;
	return r;
}

static void
fill_points(uint64_t *pts, const struct ring_member **nodes, uint32_t n,
		uint32_t vnodes)
{
	uint32_t rank, i, k = 0;

	for (rank = 0; rank < n; rank++) {
		const char *name = nodes[rank]->name;
		uint64_t h = ring_hash_name(name, strlen(name));
		uint32_t count = nodes[rank]->weight * vnodes;

		for (i = 0; i < count; i++) {
			uint64_t pos = vnode_point(h, i);

			pts[k++] = (pos & ~RANK_MASK) | rank;
		}
	}
	qsort(pts, k, sizeof(*pts), cmp_u64);
}

static void
fill_index(uint32_t *index, const uint64_t *pts, uint32_t npoints,
		uint32_t shift)
{
	uint64_t nbuckets = 1ull << (64 - shift);
	uint64_t j = 0;
	uint32_t i;

	for (i = 0; i < npoints; i++) {
		uint64_t bucket = pts[i] >> shift;

		while (j <= bucket)
			index[j++] = i;
	}
	while (j <= nbuckets)
		index[j++] = npoints;
}

static uint64_t
points_needed(const struct ring_member **nodes, size_t n, uint32_t vnodes)
{
	uint64_t total = 0;
	size_t i;

	for (i = 0; i < n; i++)
		total += (uint64_t)nodes[i]->weight * vnodes;
	return total;
}

static struct ring *
build_from(const struct ring_member **nodes, size_t nallowed,
		const struct ring_policy *p, int *errp)
{
	int owning = nallowed > 0 && (p->strategy == RING_STRATEGY_RING ||
			nallowed >= p->quorum);
	uint32_t nnodes = owning ? (uint32_t)nallowed : 0;
	uint64_t npoints = points_needed(nodes, nnodes, p->vnodes);
	uint32_t bits, i;
	struct ring *r;

	if (npoints > RING_POINTS_MAX) {
		*errp = -E2BIG;
		return NULL;
	}
	bits = index_bits_for((uint32_t)npoints);
	r = ring_alloc((uint32_t)npoints, bits, nnodes);
	if (r == NULL) {
		*errp = -ENOMEM;
		return NULL;
	}
	r->nallowed = (uint32_t)nallowed;
	fill_points((uint64_t *)r->points, nodes, nnodes, p->vnodes);
	fill_index((uint32_t *)r->index, r->points, r->npoints,
			r->index_shift);
	for (i = 0; i < nnodes; i++)
		((uint32_t *)r->ids)[i] = nodes[i]->id;
	return r;
}

struct ring *
ring_build(const struct ring_members *m, const struct ring_policy *p,
		int *errp)
{
	const struct ring_member **nodes;
	struct ring *r;
	size_t n = 0;
	int err = 0;

	if (m == NULL || p == NULL || !policy_valid(p)) {
		err = -EINVAL;
		goto fail;
	}
	nodes = allowed_sorted(m, p, &n);
	if (nodes == NULL) {
		err = -ENOMEM;
		goto fail;
	}
	r = build_from(nodes, n, p, &err);
	free(nodes);
	if (r != NULL)
		return r;
fail:
	if (errp != NULL)
		*errp = err;
	return NULL;
}

void
ring_free(struct ring *r)
{
	free(r);
}

uint32_t
ring_lookup(const struct ring *r, uint64_t hash)
{
	uint64_t key, j;
	uint32_t i, end;

	if (r->npoints == 0)
		return RING_NO_NODE;
	key = mix_fmix64(hash) & ~RANK_MASK;
	j = key >> r->index_shift;
	i = r->index[j];
	end = r->index[j + 1];
	while (i < end && r->points[i] < key)
		i++;
	if (i == r->npoints)
		i = 0;
	return r->ids[r->points[i] & RANK_MASK];
}

/* Up to BULK_CHUNK lookups, with each stage's loads issued together. */
static void
lookup_chunk(const struct ring *r, const uint64_t *hashes, size_t n,
		uint32_t *out)
{
	uint64_t key[BULK_CHUNK];
	uint32_t first[BULK_CHUNK];
	size_t k;

	for (k = 0; k < n; k++) {
		key[k] = mix_fmix64(hashes[k]) & ~RANK_MASK;
		__builtin_prefetch(&r->index[key[k] >> r->index_shift]);
	}
	for (k = 0; k < n; k++) {
		first[k] = r->index[key[k] >> r->index_shift];
		__builtin_prefetch(&r->points[first[k]]);
	}
	for (k = 0; k < n; k++) {
		uint64_t j = key[k] >> r->index_shift;
		uint32_t i = first[k], end = r->index[j + 1];

		while (i < end && r->points[i] < key[k])
			i++;
		if (i == r->npoints)
			i = 0;
		out[k] = r->ids[r->points[i] & RANK_MASK];
	}
}

void
ring_lookup_bulk(const struct ring *r, const uint64_t *hashes, size_t n,
		uint32_t *out)
{
	size_t done, k;

	if (r->npoints == 0) {
		for (k = 0; k < n; k++)
			out[k] = RING_NO_NODE;
		return;
	}
	for (done = 0; done < n; done += BULK_CHUNK)
		lookup_chunk(r, hashes + done,
				n - done < BULK_CHUNK ? n - done : BULK_CHUNK,
				out + done);
}

size_t
ring_node_count(const struct ring *r)
{
	return r->nnodes;
}

size_t
ring_allowed_count(const struct ring *r)
{
	return r->nallowed;
}

int
ring_has_owner(const struct ring *r)
{
	return r->npoints > 0;
}

size_t
ring_point_count(const struct ring *r)
{
	return r->npoints;
}
