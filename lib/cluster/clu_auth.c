/*
 * clu_auth.c - keyring, seal and open (see clu_auth.h for the scheme).
 */
#include <string.h>

#include <sodium.h>

#include "clu_auth.h"

_Static_assert(CLU_TAG_LEN >= crypto_generichash_blake2b_BYTES_MIN &&
	CLU_TAG_LEN <= crypto_generichash_blake2b_BYTES_MAX, "tag size");
_Static_assert(CLU_KEY_LEN >= crypto_generichash_blake2b_KEYBYTES_MIN &&
	CLU_KEY_LEN <= crypto_generichash_blake2b_KEYBYTES_MAX, "key size");
_Static_assert(sizeof(crypto_generichash_blake2b_state) ==
	CLU_MAC_STATE_WORDS * sizeof(uint64_t), "BLAKE2b state size");

/* The tag of buf[0..len) under key i of kr, from its precomputed state. */
static void
mac(const struct clu_keyring *kr, uint32_t i, const uint8_t *buf, size_t len,
		uint8_t tag[CLU_TAG_LEN])
{
	crypto_generichash_blake2b_state st;

	memcpy(&st, kr->mac0[i], sizeof(st));
	crypto_generichash_blake2b_update(&st, buf, len);
	crypto_generichash_blake2b_final(&st, tag, CLU_TAG_LEN);
	sodium_memzero(&st, sizeof(st));
}

static uint8_t
key_id_of(const uint8_t key[CLU_KEY_LEN])
{
	uint8_t h[16];

	crypto_generichash(h, sizeof(h), key, CLU_KEY_LEN, NULL, 0);
	return h[0] == 0 ? 1 : h[0];
}

int
clu_keyring_init(struct clu_keyring *kr, const uint8_t *primary,
		const uint8_t (*accepted)[CLU_KEY_LEN], size_t n_accepted)
{
	size_t i;

	memset(kr, 0, sizeof(*kr));
	if (primary == NULL)
		return n_accepted == 0 ? 0 : -1;
	if (n_accepted > CLU_KEYS_MAX - 1 || sodium_init() < 0)
		return -1;
	memcpy(kr->key[0], primary, CLU_KEY_LEN);
	for (i = 0; i < n_accepted; i++)
		memcpy(kr->key[i + 1], accepted[i], CLU_KEY_LEN);
	kr->n = (uint32_t)n_accepted + 1;
	for (i = 0; i < kr->n; i++) {
		crypto_generichash_blake2b_state st;

		kr->id[i] = key_id_of(kr->key[i]);
		if (crypto_generichash_blake2b_init(&st, kr->key[i],
				CLU_KEY_LEN, CLU_TAG_LEN) != 0)
			return -1;
		memcpy(kr->mac0[i], &st, sizeof(st));
		sodium_memzero(&st, sizeof(st));
	}
	return 0;
}

uint8_t
clu_keyring_primary_id(const struct clu_keyring *kr)
{
	return kr->n > 0 ? kr->id[0] : 0;
}

size_t
clu_keyring_tag_len(const struct clu_keyring *kr)
{
	return kr->n > 0 ? CLU_TAG_LEN : 0;
}

size_t
clu_seal(const struct clu_keyring *kr, uint8_t *buf, size_t len, size_t cap)
{
	if (kr->n == 0)
		return len;
	if (cap < len || cap - len < CLU_TAG_LEN)
		return 0;
	mac(kr, 0, buf, len, buf + len);
	return len + CLU_TAG_LEN;
}

bool
clu_open(const struct clu_keyring *kr, uint8_t key_id, const uint8_t *buf,
		size_t len, size_t *body_len)
{
	uint32_t i;

	if (kr->n == 0) {
		*body_len = len;
		return key_id == 0;
	}
	if (key_id == 0 || len < CLU_TAG_LEN)
		return false;
	len -= CLU_TAG_LEN;
	for (i = 0; i < kr->n; i++) {
		uint8_t tag[CLU_TAG_LEN];

		if (kr->id[i] != key_id)
			continue;
		mac(kr, i, buf, len, tag);
		if (crypto_verify_32(tag, buf + len) == 0) {	/* constant time */
			*body_len = len;
			return true;
		}
	}
	return false;
}
