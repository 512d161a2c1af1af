/*
 * net_parse.c - strict text forms of addresses for the config loader, and
 * the stable names of drop reasons.
 *
 * The parsers accept exactly one spelling of each value: no leading zeros
 * (inet_aton() would read "010" as octal 8), no spaces, signs, shortened
 * forms ("1.2.3") or trailing characters. A config file that says
 * something odd is rejected rather than guessed at.
 */
#include <errno.h>

#include "net.h"

/*
 * Read a decimal number 0..max of at most 3 digits, "0" or without a
 * leading zero. Returns the character after it, or NULL.
 */
static const char *
net_parse_dec(const char *s, unsigned int max, unsigned int *out)
{
	unsigned int v = 0;
	int n = 0;

	if (s[0] == '0' && s[1] >= '0' && s[1] <= '9')
		return NULL;
	while (*s >= '0' && *s <= '9') {
		if (++n > 3)
			return NULL;
		v = v * 10 + (unsigned int)(*s - '0');
		s++;
	}
	if (n == 0 || v > max)
		return NULL;
	*out = v;
	return s;
}

/* "a.b.c.d" at s, host order in *out; returns the next character, or NULL. */
static const char *
net_parse_quad(const char *s, uint32_t *out)
{
	uint32_t a = 0;
	unsigned int part;
	int i;

	for (i = 0; i < 4; i++) {
		if (i > 0 && *s++ != '.')
			return NULL;
		s = net_parse_dec(s, 255, &part);
		if (s == NULL)
			return NULL;
		a = (a << 8) | part;
	}
	*out = a;
	return s;
}

int
net_parse_ipv4(const char *s, rte_be32_t *out)
{
	uint32_t a;

	if (s == NULL || out == NULL)
		return -EINVAL;
	s = net_parse_quad(s, &a);
	if (s == NULL || *s != '\0')
		return -EINVAL;
	*out = rte_cpu_to_be_32(a);
	return 0;
}

int
net_parse_prefix(const char *s, rte_be32_t *ip, rte_be32_t *mask)
{
	uint32_t a;
	unsigned int plen;

	if (s == NULL)
		return -EINVAL;
	s = net_parse_quad(s, &a);
	if (s == NULL || *s++ != '/')
		return -EINVAL;
	s = net_parse_dec(s, 32, &plen);
	if (s == NULL || *s != '\0')
		return -EINVAL;
	if (ip != NULL)
		*ip = rte_cpu_to_be_32(a);
	if (mask != NULL)
		*mask = rte_cpu_to_be_32(plen == 0 ? 0 :
				UINT32_MAX << (32 - plen));
	return 0;
}

static int
net_hex(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int
net_parse_mac(const char *s, struct rte_ether_addr *out)
{
	struct rte_ether_addr mac;
	int i, hi, lo;

	if (s == NULL || out == NULL)
		return -EINVAL;
	for (i = 0; i < RTE_ETHER_ADDR_LEN; i++) {
		if (i > 0 && *s++ != ':')
			return -EINVAL;
		hi = net_hex(s[0]);
		lo = hi < 0 ? -1 : net_hex(s[1]);
		if (lo < 0)
			return -EINVAL;
		mac.addr_bytes[i] = (uint8_t)(hi << 4 | lo);
		s += 2;
	}
	if (*s != '\0')
		return -EINVAL;
	*out = mac;
	return 0;
}

static const char *const net_drop_names[] = {
	[NET_DROP_NONE] = "none",
	[NET_DROP_SHORT] = "short",
	[NET_DROP_L2_DST] = "l2_dst",
	[NET_DROP_L2_SRC] = "l2_src",
	[NET_DROP_ETHERTYPE] = "ethertype",
	[NET_DROP_VLAN] = "vlan",
	[NET_DROP_ARP_MALFORMED] = "arp_malformed",
	[NET_DROP_ARP_NOT_US] = "arp_not_us",
	[NET_DROP_ARP_OP] = "arp_op",
	[NET_DROP_IP_VERSION] = "ip_version",
	[NET_DROP_IP_HDRLEN] = "ip_hdrlen",
	[NET_DROP_IP_LEN] = "ip_len",
	[NET_DROP_IP_CKSUM] = "ip_cksum",
	[NET_DROP_IP_FRAGMENT] = "ip_fragment",
	[NET_DROP_IP_TTL] = "ip_ttl",
	[NET_DROP_IP_DST] = "ip_dst",
	[NET_DROP_IP_SRC] = "ip_src",
	[NET_DROP_IP_PROTO] = "ip_proto",
	[NET_DROP_UDP_LEN] = "udp_len",
	[NET_DROP_UDP_CKSUM] = "udp_cksum",
	[NET_DROP_UDP_PORT] = "udp_port",
	[NET_DROP_ICMP_TYPE] = "icmp_type",
	[NET_DROP_ICMP_CKSUM] = "icmp_cksum",
	[NET_DROP_ICMP_LEN] = "icmp_len",
};

_Static_assert(sizeof(net_drop_names) / sizeof(net_drop_names[0]) ==
		NET_DROP__MAX, "a drop reason has no name");

const char *
net_drop_name(enum net_drop d)
{
	if ((unsigned int)d >= NET_DROP__MAX || net_drop_names[d] == NULL)
		return "unknown";
	return net_drop_names[d];
}
