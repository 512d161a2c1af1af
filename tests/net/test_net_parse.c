/*
 * test_net_parse.c - the strict address parsers of the config loader:
 * what they accept, what they turn it into, and a list of near misses
 * they must refuse without touching the output.
 */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "net_frames.h"

static void
test_parse_ipv4(void **state)
{
	static const struct {
		const char *s;
		uint32_t want;
	} good[] = {
		{ "0.0.0.0", 0 },
		{ "10.0.0.2", RTE_IPV4(10, 0, 0, 2) },
		{ "255.255.255.255", UINT32_MAX },
		{ "192.168.100.1", RTE_IPV4(192, 168, 100, 1) },
		{ "1.20.199.0", RTE_IPV4(1, 20, 199, 0) },
	};
	static const char *const bad[] = {
		"", "1", "1.2.3", "1.2.3.4.5", "256.1.1.1", "1.2.3.256",
		"1.2.3.4 ", " 1.2.3.4", "01.2.3.4", "1.2.3.04", "1.2.3.00",
		"1..2.3", "1.2.3.", ".1.2.3", "1.2.3.4/24", "+1.2.3.4",
		"-1.2.3.4", "1.2.3.0x1", "1000.1.1.1", "0001.1.1.1",
		"a.b.c.d", "1.2.3.4\n", "1,2,3,4",
	};
	rte_be32_t ip;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		ip = 0x5a5a5a5a;
		assert_int_equal(net_parse_ipv4(good[i].s, &ip), 0);
		assert_true(ip == rte_cpu_to_be_32(good[i].want));
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ip = 0x5a5a5a5a;
		if (net_parse_ipv4(bad[i], &ip) != -EINVAL)
			fail_msg("accepted \"%s\"", bad[i]);
		assert_true(ip == 0x5a5a5a5a);
	}
	assert_int_equal(net_parse_ipv4(NULL, &ip), -EINVAL);
	assert_int_equal(net_parse_ipv4("1.2.3.4", NULL), -EINVAL);
}

static void
test_parse_prefix(void **state)
{
	static const struct {
		const char *s;
		uint32_t ip, mask;
	} good[] = {
		{ "10.0.0.2/24", RTE_IPV4(10, 0, 0, 2), 0xffffff00 },
		{ "0.0.0.0/0", 0, 0 },
		{ "192.168.1.7/32", RTE_IPV4(192, 168, 1, 7), 0xffffffff },
		{ "172.16.5.4/12", RTE_IPV4(172, 16, 5, 4), 0xfff00000 },
		{ "10.1.2.3/1", RTE_IPV4(10, 1, 2, 3), 0x80000000 },
		{ "10.1.2.3/31", RTE_IPV4(10, 1, 2, 3), 0xfffffffe },
	};
	static const char *const bad[] = {
		"10.0.0.2", "10.0.0.2/", "10.0.0.2/33", "10.0.0.2/024",
		"10.0.0.2/00", "10.0.0.2/-1", "10.0.0.2/24 ", "10.0.0.2 /24",
		"10.0.0.2/ 24", "/24", "10.0.0/24", "10.0.0.2/24/8",
		"10.0.0.2/100", "10.0.0.256/24", "10.0.0.2/2x",
	};
	rte_be32_t ip, mask;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		assert_int_equal(net_parse_prefix(good[i].s, &ip, &mask), 0);
		assert_true(ip == rte_cpu_to_be_32(good[i].ip));
		assert_true(mask == rte_cpu_to_be_32(good[i].mask));
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ip = mask = 0x5a5a5a5a;
		if (net_parse_prefix(bad[i], &ip, &mask) != -EINVAL)
			fail_msg("accepted \"%s\"", bad[i]);
		assert_true(ip == 0x5a5a5a5a && mask == 0x5a5a5a5a);
	}
	assert_int_equal(net_parse_prefix("10.0.0.2/8", NULL, &mask), 0);
	assert_true(mask == RTE_BE32(0xff000000));
	assert_int_equal(net_parse_prefix("10.0.0.2/8", &ip, NULL), 0);
	assert_int_equal(net_parse_prefix(NULL, &ip, &mask), -EINVAL);
}

static void
test_parse_mac(void **state)
{
	static const char *const bad[] = {
		"", "02:00:00:00:00", "02:00:00:00:00:01:02",
		"02-00-00-00-00-01", "2:0:0:0:0:1", "02:00:00:00:00:0g",
		"02:00:00:00:00:01 ", " 02:00:00:00:00:01", "0200.0000.0001",
		"020000000001", "02:00:00:00:00:001", "02::00:00:00:00:01",
		"02:00:00:00:00:", "+2:00:00:00:00:01",
	};
	struct rte_ether_addr mac, junk;
	size_t i;

	(void)state;
	assert_int_equal(net_parse_mac("02:00:00:00:00:01", &mac), 0);
	assert_memory_equal(&mac, &us_mac, 6);
	assert_int_equal(net_parse_mac("fF:Ff:ff:FF:ff:ff", &mac), 0);
	assert_memory_equal(&mac, &bcast_mac, 6);
	assert_int_equal(net_parse_mac("a0:1b:c2:3d:e4:5F", &mac), 0);
	assert_int_equal(mac.addr_bytes[0], 0xa0);
	assert_int_equal(mac.addr_bytes[1], 0x1b);
	assert_int_equal(mac.addr_bytes[5], 0x5f);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		memset(&junk, 0x5a, sizeof(junk));
		mac = junk;
		if (net_parse_mac(bad[i], &mac) != -EINVAL)
			fail_msg("accepted \"%s\"", bad[i]);
		assert_memory_equal(&mac, &junk, 6);
	}
	assert_int_equal(net_parse_mac(NULL, &mac), -EINVAL);
	assert_int_equal(net_parse_mac("02:00:00:00:00:01", NULL), -EINVAL);
}

int
net_tests_parse(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_ipv4),
		cmocka_unit_test(test_parse_prefix),
		cmocka_unit_test(test_parse_mac),
	};

	return cmocka_run_group_tests_name("net_parse", tests, NULL, NULL);
}
