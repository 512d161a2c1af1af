/*
 * clu_auth.h - authentication of cluster datagrams with a keyring.
 *
 * Every gossip datagram ends with a 32-byte tag over all the bytes before
 * it: keyed BLAKE2b-256 (libsodium crypto_generichash_blake2b with the
 * cluster key as its key, which is BLAKE2's own MAC mode: no HMAC
 * construction needed), and names the key that made it with a one-byte
 * key id in its header. The keyring holds one primary key
 * (used to seal what we send) and up to CLU_KEYS_MAX - 1 further accepted
 * keys (tried on what we receive), so keys rotate without downtime: give
 * every node the new key as primary and the old one as accepted, restart
 * them one by one, then drop the old key.
 *
 * The key id is the first byte of BLAKE2b(key) forced to 1..255 (0 means
 * "not authenticated"); two keys may share an id, so every key with the
 * datagram's id is tried, each with a constant-time compare.
 *
 * A keyring with no keys turns authentication off: datagrams carry key id 0
 * and no tag, and only such datagrams are accepted. A node with keys
 * refuses them, and a node without keys refuses sealed ones, so a cluster
 * never half-authenticates.
 *
 * Why BLAKE2b: a 3-node write storm spent a fifth of the nodes' CPU in
 * HMAC-SHA-512/256 (libsodium's SHA-512 is plain C), and keyed BLAKE2b-256
 * is 2.2-3.2x faster here for 64-1400-byte datagrams (perf/RESULTS.md).
 * Keyed BLAKE2b hashes the key as a first, padded block; the keyring does
 * that once per key, at init, and every seal and open starts from a copy
 * of that state: the same tag, one compression fewer per datagram.
 *
 * Pure functions over caller memory; a keyring is read-only after
 * clu_keyring_init(), so any thread may use it.
 */
#ifndef SWARM_CLU_AUTH_H
#define SWARM_CLU_AUTH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CLU_KEY_LEN	32
#define CLU_TAG_LEN	32
#define CLU_KEYS_MAX	17	/* primary + 16 accepted */
#define CLU_MAC_STATE_WORDS 48	/* 384 bytes: a BLAKE2b state */

struct clu_keyring {
	uint32_t n;			/* 0 = authentication off */
	uint8_t id[CLU_KEYS_MAX];	/* 1..255 */
	uint8_t key[CLU_KEYS_MAX][CLU_KEY_LEN];	/* key[0] is the primary */
	/* per key, the BLAKE2b state after its key block (libsodium's
	 * crypto_generichash_blake2b_state, held as plain words) */
	uint64_t mac0[CLU_KEYS_MAX][CLU_MAC_STATE_WORDS];
};

/*
 * Fill kr from a primary key (NULL: no authentication; then n_accepted must
 * be 0) and n_accepted further keys. Returns 0, or -1 for too many keys or
 * accepted keys without a primary. Initializes libsodium (idempotent).
 */
int clu_keyring_init(struct clu_keyring *kr, const uint8_t *primary,
		const uint8_t (*accepted)[CLU_KEY_LEN], size_t n_accepted);

/* Key id the primary key seals with (0 when authentication is off). */
uint8_t clu_keyring_primary_id(const struct clu_keyring *kr);

/* Tag length datagrams carry under this keyring: CLU_TAG_LEN or 0. */
size_t clu_keyring_tag_len(const struct clu_keyring *kr);

/*
 * Append the primary key's tag over buf[0..len) at buf + len. The caller
 * has already written clu_keyring_primary_id() into the header. Returns the
 * sealed length, or 0 if cap is too small. Without keys: returns len.
 */
size_t clu_seal(const struct clu_keyring *kr, uint8_t *buf, size_t len,
		size_t cap);

/*
 * Check a received datagram whose header names key_id: true when some key
 * with that id produced its last CLU_TAG_LEN bytes over the rest (or, with
 * authentication off, when key_id is 0). *body_len gets the length without
 * the tag.
 */
bool clu_open(const struct clu_keyring *kr, uint8_t key_id,
		const uint8_t *buf, size_t len, size_t *body_len);

#endif /* SWARM_CLU_AUTH_H */
