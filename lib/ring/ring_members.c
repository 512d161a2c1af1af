/*
 * ring_members.c - the mutable set of nodes a ring is built from.
 *
 * A growable array of (name copy, weight, id). Sets hold tens of nodes and
 * change on membership events only, so every operation is a linear scan:
 * simpler than a hash table and fast enough by orders of magnitude. Removal
 * moves the last element into the hole; insertion order is therefore not
 * preserved, which is fine because ring_build() sorts by name anyway.
 */
#include <errno.h>
#include <sys/types.h>
#include <stdlib.h>
#include <string.h>

#include "ring_members.h"

struct ring_members {
	struct ring_member *nodes;
	size_t count;
	size_t cap;
};

struct ring_members *
ring_members_create(void)
{
	return calloc(1, sizeof(struct ring_members));
}

void
ring_members_destroy(struct ring_members *m)
{
	size_t i;

	if (m == NULL)
		return;
	for (i = 0; i < m->count; i++)
		free((char *)m->nodes[i].name);
	free(m->nodes);
	free(m);
}

/* Length of name if it is a valid node name, else 0. */
static size_t
valid_name_len(const char *name)
{
	size_t len;

	if (name == NULL)
		return 0;
	len = strnlen(name, RING_NAME_MAX + 1);
	return len > RING_NAME_MAX ? 0 : len;
}

static ssize_t
index_of_name(const struct ring_members *m, const char *name)
{
	size_t i;

	for (i = 0; i < m->count; i++)
		if (strcmp(m->nodes[i].name, name) == 0)
			return (ssize_t)i;
	return -1;
}

static int
id_in_use(const struct ring_members *m, uint32_t id)
{
	size_t i;

	for (i = 0; i < m->count; i++)
		if (m->nodes[i].id == id)
			return 1;
	return 0;
}

static int
grow(struct ring_members *m)
{
	size_t cap = m->cap ? m->cap * 2 : 8;
	struct ring_member *n;

	n = realloc(m->nodes, cap * sizeof(*n));
	if (n == NULL)
		return -ENOMEM;
	m->nodes = n;
	m->cap = cap;
	return 0;
}

int
ring_members_add(struct ring_members *m, const char *name, uint32_t weight,
		uint32_t id)
{
	size_t len = valid_name_len(name);
	char *copy;

	if (m == NULL || len == 0 || weight == 0 || weight > RING_WEIGHT_MAX ||
			id == RING_NO_NODE)
		return -EINVAL;
	if (index_of_name(m, name) >= 0 || id_in_use(m, id))
		return -EEXIST;
	if (m->count >= RING_NODES_MAX)
		return -ENOSPC;
	if (m->count == m->cap && grow(m) != 0)
		return -ENOMEM;
	copy = strndup(name, len);
	if (copy == NULL)
		return -ENOMEM;
	m->nodes[m->count].name = copy;
	m->nodes[m->count].weight = weight;
	m->nodes[m->count].id = id;
	m->count++;
	return 0;
}

int
ring_members_remove(struct ring_members *m, const char *name)
{
	ssize_t i;

	if (m == NULL || valid_name_len(name) == 0)
		return -EINVAL;
	i = index_of_name(m, name);
	if (i < 0)
		return -ENOENT;
	free((char *)m->nodes[i].name);
	m->nodes[i] = m->nodes[m->count - 1];
	m->count--;
	return 0;
}

size_t
ring_members_count(const struct ring_members *m)
{
	return m == NULL ? 0 : m->count;
}

const struct ring_member *
ring_members_at(const struct ring_members *m, size_t i)
{
	if (m == NULL || i >= m->count)
		return NULL;
	return &m->nodes[i];
}

const struct ring_member *
ring_members_find(const struct ring_members *m, const char *name)
{
	ssize_t i;

	if (m == NULL || valid_name_len(name) == 0)
		return NULL;
	i = index_of_name(m, name);
	return i < 0 ? NULL : &m->nodes[i];
}
