/*
 * proto_wire.h - bounded big-endian byte reader and writer.
 *
 * Every byte the decoders look at goes through struct proto_rd, which holds
 * a pointer and the number of bytes left. Each read first compares the size
 * it wants with `left` and fails without touching memory when the input is
 * too short, so a hostile length can never move the pointer past the end:
 * the pointer only advances by amounts already checked against `left`.
 * The writer mirrors this for output buffers. All functions are pure and
 * thread-safe; they are inline because they sit on the packet path.
 */
#ifndef SWARM_PROTO_WIRE_H
#define SWARM_PROTO_WIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* A view of bytes inside a datagram (zero copy): valid while it is. */
struct proto_bytes {
	const uint8_t *ptr;
	uint16_t len;
};

struct proto_rd {
	const uint8_t *p;
	size_t left;
};

struct proto_wr {
	uint8_t *p;
	size_t left;
};

static inline void
proto_rd_init(struct proto_rd *r, const void *buf, size_t len)
{
	r->p = buf;
	r->left = len;
}

static inline bool
proto_rd_u8(struct proto_rd *r, uint8_t *v)
{
	if (r->left < 1)
		return false;
	*v = r->p[0];
	r->p += 1;
	r->left -= 1;
	return true;
}

static inline bool
proto_rd_u16(struct proto_rd *r, uint16_t *v)
{
	if (r->left < 2)
		return false;
	*v = (uint16_t)((unsigned int)r->p[0] << 8 | r->p[1]);
	r->p += 2;
	r->left -= 2;
	return true;
}

static inline bool
proto_rd_u32(struct proto_rd *r, uint32_t *v)
{
	if (r->left < 4)
		return false;
	*v = (uint32_t)r->p[0] << 24 | (uint32_t)r->p[1] << 16 |
		(uint32_t)r->p[2] << 8 | r->p[3];
	r->p += 4;
	r->left -= 4;
	return true;
}

static inline bool
proto_rd_u64(struct proto_rd *r, uint64_t *v)
{
	uint64_t x = 0;
	int i;

	if (r->left < 8)
		return false;
	for (i = 0; i < 8; i++)
		x = x << 8 | r->p[i];
	*v = x;
	r->p += 8;
	r->left -= 8;
	return true;
}

/* Takes a view of the next n bytes (a view holds at most 65535). */
static inline bool
proto_rd_bytes(struct proto_rd *r, size_t n, struct proto_bytes *b)
{
	if (r->left < n || n > UINT16_MAX)
		return false;
	b->ptr = r->p;
	b->len = (uint16_t)n;
	r->p += n;
	r->left -= n;
	return true;
}

/* A str8: u8 length, then that many bytes; length checked in [min, max]. */
static inline bool
proto_rd_str8(struct proto_rd *r, unsigned int min, unsigned int max,
		struct proto_bytes *b)
{
	struct proto_rd save = *r;
	uint8_t n;

	if (!proto_rd_u8(r, &n) || n < min || n > max ||
			!proto_rd_bytes(r, n, b)) {
		*r = save;
		return false;
	}
	return true;
}

static inline void
proto_wr_init(struct proto_wr *w, void *buf, size_t cap)
{
	w->p = buf;
	w->left = cap;
}

/*
 * The put functions assume the caller reserved the room first with
 * proto_wr_room(): encoders size an op once, check once, then write
 * without a branch per field.
 */
static inline bool
proto_wr_room(const struct proto_wr *w, size_t n)
{
	return w->left >= n;
}

static inline void
proto_wr_u8(struct proto_wr *w, uint8_t v)
{
	w->p[0] = v;
	w->p += 1;
	w->left -= 1;
}

static inline void
proto_wr_u16(struct proto_wr *w, uint16_t v)
{
	w->p[0] = (uint8_t)(v >> 8);
	w->p[1] = (uint8_t)v;
	w->p += 2;
	w->left -= 2;
}

static inline void
proto_wr_u32(struct proto_wr *w, uint32_t v)
{
	w->p[0] = (uint8_t)(v >> 24);
	w->p[1] = (uint8_t)(v >> 16);
	w->p[2] = (uint8_t)(v >> 8);
	w->p[3] = (uint8_t)v;
	w->p += 4;
	w->left -= 4;
}

static inline void
proto_wr_u64(struct proto_wr *w, uint64_t v)
{
	proto_wr_u32(w, (uint32_t)(v >> 32));
	proto_wr_u32(w, (uint32_t)v);
}

static inline void
proto_wr_bytes(struct proto_wr *w, const void *src, size_t n)
{
	if (n)
		memcpy(w->p, src, n);
	w->p += n;
	w->left -= n;
}

static inline void
proto_wr_str8(struct proto_wr *w, struct proto_bytes b)
{
	proto_wr_u8(w, (uint8_t)b.len);
	proto_wr_bytes(w, b.ptr, b.len);
}

/* Overwrites a u16 already written at p (op lengths, op counts). */
static inline void
proto_put_u16_at(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

#endif /* SWARM_PROTO_WIRE_H */
