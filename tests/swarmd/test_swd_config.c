/*
 * test_swd_config.c - the swarmd configuration loader: every key accepted
 * and rejected (message names the source, line, key and reason), the file
 * syntax, limits, the command line, --help, --print-config round trips.
 *
 * argv[1] is configs/demo.conf and argv[2] configs/gateway.conf (from
 * meson); both must load cleanly.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "swd_config.h"

static const char *demo_conf;
static const char *gateway_conf;

#define BASE "node_name = n1\nnode_id = 1\nip = 10.0.0.2/24\n"
#define BASE_LINES 3

/* ---- helpers ----------------------------------------------------------- */

static char *
write_tmp(const char *data, size_t len)
{
	char *path = strdup("/tmp/swd_config_test_XXXXXX");
	int fd;

	assert_non_null(path);
	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, data, len), (ssize_t)len);
	close(fd);
	return path;
}

/* Output of the last load (help, --print-config, --check). */
static char *out_buf;
static size_t out_len;

/* Loads with the arguments given (NULL-terminated), argv[0] "swarmd". */
static int
load_argv(struct swd_config *cfg, char *err, size_t errlen, ...)
{
	char *argv[64];
	int argc = 0, rc;
	va_list ap;
	FILE *out;
	char *a;

	argv[argc++] = (char *)"swarmd";
	va_start(ap, errlen);
	while ((a = va_arg(ap, char *)) != NULL && argc < 63)
		argv[argc++] = a;
	va_end(ap);
	argv[argc] = NULL;
	free(out_buf);
	out_buf = NULL;
	out = open_memstream(&out_buf, &out_len);
	assert_non_null(out);
	rc = swd_config_load_to(cfg, argc, argv, out, err, errlen);
	fclose(out);
	return rc;
}

/* Writes text to a file and loads it with -c, plus an optional --set. */
static int
load_text(struct swd_config *cfg, const char *text, const char *set,
		char *err, size_t errlen, char **path_out)
{
	char *path = write_tmp(text, strlen(text));
	int rc;

	if (set != NULL)
		rc = load_argv(cfg, err, errlen, "-c", path, "--set", set,
				(char *)NULL);
	else
		rc = load_argv(cfg, err, errlen, "-c", path, (char *)NULL);
	unlink(path);
	if (path_out != NULL)
		*path_out = path;
	else
		free(path);
	return rc;
}

static void
load_ok(struct swd_config *cfg, const char *text)
{
	char err[SWD_CONFIG_ERR_MAX];
	int rc = load_text(cfg, text, NULL, err, sizeof(err), NULL);

	if (rc != 0)
		fail_msg("load failed: %s\n--- text:\n%s", err, text);
}

/*
 * The text must fail with "config PATH:LINE: KEY: ...REASON..." (line 0:
 * "config PATH: KEY: "; key NULL: no key part).
 */
static void
expect_error(const char *text, unsigned line, const char *key,
		const char *reason)
{
	struct swd_config cfg;
	char err[SWD_CONFIG_ERR_MAX], want[512], *path;
	int rc;

	rc = load_text(&cfg, text, NULL, err, sizeof(err), &path);
	if (rc >= 0)
		fail_msg("loaded, expected an error about %s (%s)\n%s",
				key ? key : "-", reason, text);
	if (line > 0)
		snprintf(want, sizeof(want), "config %s:%u: %s%s", path, line,
				key ? key : "", key ? ": " : "");
	else
		snprintf(want, sizeof(want), "config %s: %s%s", path,
				key ? key : "", key ? ": " : "");
	if (strncmp(err, want, strlen(want)) != 0)
		fail_msg("error \"%s\" does not start with \"%s\"", err, want);
	if (strstr(err, reason) == NULL)
		fail_msg("error \"%s\" does not contain \"%s\"", err, reason);
	assert_null(strchr(err, '\n'));
	free(path);
	swd_config_free(&cfg);
}

/*
 * BASE (less the line of key, if it is there) plus "key = value" on the
 * last line must fail naming the line, the key and the reason.
 */
static void
reject(const char *key, const char *value, const char *reason)
{
	static const char *const base[] = { "node_name = n1", "node_id = 1",
		"ip = 10.0.0.2/24" };
	char text[8192];
	size_t off = 0, i, klen = strlen(key);
	unsigned line = 1;

	for (i = 0; i < 3; i++) {
		if (strncmp(base[i], key, klen) == 0 && base[i][klen] == ' ')
			continue;
		off += (size_t)snprintf(text + off, sizeof(text) - off, "%s\n",
				base[i]);
		line++;
	}
	snprintf(text + off, sizeof(text) - off, "%s = %s\n", key, value);
	expect_error(text, line, key, reason);
}

/* BASE plus "key = value" loads; cfg is left loaded for checks. */
static void
accept(struct swd_config *cfg, const char *key, const char *value)
{
	char text[8192];

	snprintf(text, sizeof(text), BASE "%s = %s\n", key, value);
	load_ok(cfg, text);
}

/* ---- tests ------------------------------------------------------------- */

static void
test_defaults(void **state)
{
	struct swd_config c;

	(void)state;
	swd_config_defaults(&c);
	assert_int_equal(c.udp_port, 7400);
	assert_int_equal(c.gossip_port, 7401);
	assert_int_equal(c.partitions, 0);
	assert_true(c.expected_entries == 1048576);
	assert_true(c.max_entries == 0);
	assert_int_equal(c.burst, 32);
	assert_int_equal(c.rx_desc, 1024);
	assert_int_equal(c.tx_desc, 1024);
	assert_int_equal(c.mbufs, 0);
	assert_int_equal(c.tx_drain_us, 100);
	assert_int_equal(c.idle_policy, SWD_IDLE_BACKOFF);
	assert_int_equal(c.idle_pause_polls, 256);
	assert_int_equal(c.idle_sleep_us, 200);
	assert_int_equal(c.lease_sweep_ms, 100);
	assert_int_equal(c.lease_max_ms, 0);
	assert_true(c.telemetry);
	assert_int_equal(c.log_level, SWD_LOG_INFO);
	assert_int_equal(c.stats_interval_s, 0);
	assert_int_equal(c.strategy, RING_STRATEGY_RING);
	assert_int_equal(c.static_quorum_size, 2);
	assert_int_equal(c.vnodes, 8192);
	/* the cluster timers default to lib/cluster's and lib/tracker's */
	assert_int_equal(c.fwd_timeout_ms, 2000);
	assert_int_equal(c.repl_rto_ms, 100);
	assert_int_equal(c.ae_interval_ms, 2000);
	assert_int_equal(c.tombstone_ms, 60000);
	assert_false(c.has_gateway);
	assert_false(c.has_mac);
	assert_false(c.has_cluster_key);
	assert_int_equal(c.seeds_count, 0);
	assert_null(c.filter);
	assert_null(c.config_path);
	swd_config_free(&c);
	swd_config_free(&c);
}

static void
test_minimal(void **state)
{
	struct swd_config c;

	(void)state;
	load_ok(&c, BASE);
	assert_string_equal(c.node_name, "n1");
	assert_int_equal(c.node_id, 1);
	assert_int_equal(c.ip, 0x0a000002);
	assert_int_equal(c.prefix_len, 24);
	assert_non_null(c.filter);
	assert_non_null(c.config_path);
	/* the built-in deny patterns are in the filter */
	assert_false(ring_filter_allows(c.filter, "remsh-1"));
	assert_true(ring_filter_allows(c.filter, "n1"));
	swd_config_free(&c);
}

static void
test_demo_conf(void **state)
{
	struct swd_config c;
	char err[SWD_CONFIG_ERR_MAX];
	int rc;

	(void)state;
	if (demo_conf == NULL)
		skip();
	rc = load_argv(&c, err, sizeof(err), "--", "-c", demo_conf,
			(char *)NULL);
	if (rc != 0)
		fail_msg("%s", err);
	assert_string_equal(c.node_name, "demo-1");
	assert_int_equal(c.node_id, 1);
	assert_int_equal(c.ip, 0x0a4d0002);
	assert_int_equal(c.prefix_len, 24);
	assert_int_equal(c.udp_port, 7400);
	assert_int_equal(c.partitions, 0);
	assert_true(c.expected_entries == 2097152);
	assert_int_equal(c.idle_policy, SWD_IDLE_BACKOFF);
	assert_true(c.telemetry);
	swd_config_free(&c);
}

static void
test_gateway_conf(void **state)
{
	struct swd_config c;
	char err[SWD_CONFIG_ERR_MAX];
	int rc;

	(void)state;
	if (gateway_conf == NULL)
		skip();
	rc = load_argv(&c, err, sizeof(err), "-c", gateway_conf, "--check",
			(char *)NULL);
	if (rc != SWD_CONFIG_EXIT_CHECKED)
		fail_msg("%s", err);
	assert_non_null(strstr(out_buf, "valid"));
	assert_true(c.has_gateway);
	assert_true(c.has_cluster_key);
	assert_int_equal(c.cluster_keys_accepted_count, 1);
	assert_int_equal(c.seeds_count, 3);
	assert_int_equal(c.strategy, RING_STRATEGY_STATIC_QUORUM);
	assert_int_equal(c.node_blacklist_count, 2);
	assert_string_equal(c.node_blacklist[1], "/^gw-[a-z]+-9{1,2}@/");
	assert_false(ring_filter_allows(c.filter, "lab-1"));
	assert_false(ring_filter_allows(c.filter, "gw-berlin-99@x"));
	assert_true(ring_filter_allows(c.filter, "gw-berlin-03@site-7"));
	assert_int_equal(c.lease_max_ms, 900000);
	assert_int_equal(c.log_level, SWD_LOG_INFO);
	assert_int_equal(c.stats_interval_s, 60);
	assert_int_equal(c.fwd_timeout_ms, 2000);
	assert_int_equal(c.repl_rto_ms, 100);
	assert_int_equal(c.ae_interval_ms, 2000);
	assert_int_equal(c.tombstone_ms, 60000);
	swd_config_free(&c);
}

static void
test_accept_identity_network(void **state)
{
	struct swd_config c;

	(void)state;
	load_ok(&c, "node_name = Az09._@-x\nnode_id = 4294967295\n"
			"ip = 192.168.1.7/32\n");
	assert_string_equal(c.node_name, "Az09._@-x");
	assert_int_equal(c.node_id, UINT32_MAX);
	assert_int_equal(c.ip, 0xc0a80107);
	assert_int_equal(c.prefix_len, 32);
	swd_config_free(&c);

	/* 64 characters is the limit */
	load_ok(&c, "node_name = "
			"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
			"aaaaaaaaaaaa\nnode_id = 1\nip = 10.0.0.2/8\n");
	assert_int_equal(strlen(c.node_name), 64);
	swd_config_free(&c);

	accept(&c, "gateway", "10.0.0.1");
	assert_true(c.has_gateway);
	assert_int_equal(c.gateway, 0x0a000001);
	swd_config_free(&c);
	accept(&c, "mac", "02:AB:cd:00:00:01");
	assert_true(c.has_mac);
	assert_memory_equal(c.mac, "\x02\xab\xcd\x00\x00\x01", 6);
	swd_config_free(&c);
	accept(&c, "mac", "");
	assert_false(c.has_mac);
	swd_config_free(&c);
	accept(&c, "udp_port", "1");
	assert_int_equal(c.udp_port, 1);
	swd_config_free(&c);
	accept(&c, "gossip_port", "65535");
	assert_int_equal(c.gossip_port, 65535);
	swd_config_free(&c);
}

static void
test_accept_tables_dataplane(void **state)
{
	struct swd_config c;

	(void)state;
	accept(&c, "partitions", "64");
	assert_int_equal(c.partitions, 64);
	swd_config_free(&c);
	accept(&c, "partitions", "0");
	assert_int_equal(c.partitions, 0);
	swd_config_free(&c);
	accept(&c, "expected_entries", "4294967296");
	assert_true(c.expected_entries == 4294967296ull);
	swd_config_free(&c);
	accept(&c, "max_entries", "0");
	assert_true(c.max_entries == 0);
	swd_config_free(&c);
	accept(&c, "max_entries", "1000");
	assert_true(c.max_entries == 1000);
	swd_config_free(&c);
	accept(&c, "burst", "64");
	assert_int_equal(c.burst, 64);
	swd_config_free(&c);
	accept(&c, "rx_desc", "64");
	assert_int_equal(c.rx_desc, 64);
	swd_config_free(&c);
	accept(&c, "tx_desc", "4096");
	assert_int_equal(c.tx_desc, 4096);
	swd_config_free(&c);
	accept(&c, "mbufs", "0");
	assert_int_equal(c.mbufs, 0);
	swd_config_free(&c);
	accept(&c, "mbufs", "1048576");
	assert_int_equal(c.mbufs, 1048576);
	swd_config_free(&c);
	accept(&c, "tx_drain_us", "10000");
	assert_int_equal(c.tx_drain_us, 10000);
	swd_config_free(&c);
	accept(&c, "idle_policy", "poll");
	assert_int_equal(c.idle_policy, SWD_IDLE_POLL);
	swd_config_free(&c);
	accept(&c, "idle_policy", "backoff");
	assert_int_equal(c.idle_policy, SWD_IDLE_BACKOFF);
	swd_config_free(&c);
	accept(&c, "idle_pause_polls", "1000000");
	assert_int_equal(c.idle_pause_polls, 1000000);
	swd_config_free(&c);
	accept(&c, "idle_sleep_us", "1");
	assert_int_equal(c.idle_sleep_us, 1);
	swd_config_free(&c);
	accept(&c, "lease_sweep_ms", "60000");
	assert_int_equal(c.lease_sweep_ms, 60000);
	swd_config_free(&c);
	accept(&c, "lease_max_ms", "4294967295");
	assert_int_equal(c.lease_max_ms, UINT32_MAX);
	swd_config_free(&c);
}

static void
test_accept_ops_distribution_cluster(void **state)
{
	static const char *const no[] = { "false", "no", "off", "0" };
	static const char *const yes[] = { "true", "yes", "on", "1" };
	struct swd_config c;
	int i;

	(void)state;
	for (i = 0; i < 4; i++) {
		accept(&c, "telemetry", no[i]);
		assert_false(c.telemetry);
		swd_config_free(&c);
		accept(&c, "telemetry", yes[i]);
		assert_true(c.telemetry);
		swd_config_free(&c);
	}
	accept(&c, "log_level", "debug");
	assert_int_equal(c.log_level, SWD_LOG_DEBUG);
	swd_config_free(&c);
	accept(&c, "log_level", "warning");
	assert_int_equal(c.log_level, SWD_LOG_WARNING);
	swd_config_free(&c);
	accept(&c, "stats_interval_s", "3600");
	assert_int_equal(c.stats_interval_s, 3600);
	swd_config_free(&c);
	accept(&c, "strategy", "static_quorum_ring");
	assert_int_equal(c.strategy, RING_STRATEGY_STATIC_QUORUM);
	swd_config_free(&c);
	accept(&c, "strategy", "Swarm.Distribution.Ring");
	assert_int_equal(c.strategy, RING_STRATEGY_RING);
	swd_config_free(&c);
	accept(&c, "static_quorum_size", "5");
	assert_int_equal(c.static_quorum_size, 5);
	swd_config_free(&c);
	accept(&c, "vnodes", "65536");
	assert_int_equal(c.vnodes, 65536);
	swd_config_free(&c);
	accept(&c, "node_blacklist", "bad-1, /^test-/");
	assert_int_equal(c.node_blacklist_count, 2);
	assert_string_equal(c.node_blacklist[0], "bad-1");
	assert_string_equal(c.node_blacklist[1], "/^test-/");
	assert_false(ring_filter_allows(c.filter, "bad-1"));
	assert_false(ring_filter_allows(c.filter, "test-7"));
	assert_true(ring_filter_allows(c.filter, "good"));
	swd_config_free(&c);
	accept(&c, "node_whitelist", "/^gw-/");
	assert_int_equal(c.node_whitelist_count, 1);
	assert_true(ring_filter_allows(c.filter, "gw-1"));
	assert_false(ring_filter_allows(c.filter, "other"));
	swd_config_free(&c);
	accept(&c, "seeds", "10.0.0.3:7401 ,  10.0.0.4:1, 192.168.0.1:65535");
	assert_int_equal(c.seeds_count, 3);
	assert_int_equal(c.seeds[0].ip, 0x0a000003);
	assert_int_equal(c.seeds[0].port, 7401);
	assert_int_equal(c.seeds[1].port, 1);
	assert_int_equal(c.seeds[2].ip, 0xc0a80001);
	swd_config_free(&c);
	accept(&c, "seeds", "");
	assert_int_equal(c.seeds_count, 0);
	swd_config_free(&c);
	accept(&c, "cluster_key", "00112233445566778899AABBCCDDEEFF"
			"00112233445566778899aabbccddeeff");
	assert_true(c.has_cluster_key);
	assert_int_equal(c.cluster_key[5], 0x55);
	assert_int_equal(c.cluster_key[10], 0xaa);
	assert_int_equal(c.cluster_key[31], 0xff);
	swd_config_free(&c);
	load_ok(&c, BASE "cluster_key = " "11111111111111111111111111111111"
			"11111111111111111111111111111111\n"
			"cluster_keys_accepted = "
			"22222222222222222222222222222222"
			"22222222222222222222222222222222, "
			"33333333333333333333333333333333"
			"33333333333333333333333333333333\n");
	assert_int_equal(c.cluster_keys_accepted_count, 2);
	assert_int_equal(c.cluster_keys_accepted[1][0], 0x33);
	swd_config_free(&c);
}

#define KEY64 "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

static void
test_reject_values(void **state)
{
	char big[128];

	(void)state;
	/* identity */
	reject("node_name", "a b", "character ' ' not allowed");
	reject("node_name", "n/1", "character '/' not allowed");
	reject("node_name", "\"\"", "must be 1..64 characters, got 0");
	reject("node_name", "x\xc3\xa9", "byte 0xc3 not allowed");
	memset(big, 'a', 65);
	big[65] = '\0';
	reject("node_name", big, "must be 1..64 characters, got 65");
	reject("node_id", "0", "must be an integer in 1..4294967295, got \"0\"");
	reject("node_id", "4294967296", "got \"4294967296\"");
	reject("node_id", "-1", "must be an integer in 1..4294967295");
	reject("node_id", "+1", "must be an integer");
	reject("node_id", "0x10", "must be an integer");
	reject("node_id", "1 2", "must be an integer");
	reject("node_id", "99999999999999999999999", "must be an integer");
	reject("node_id", "", "empty value");
	/* network */
	reject("ip", "10.0.0.2", "missing the prefix length");
	reject("ip", "10.0.0.2/33", "prefix length must be an integer in 1..32");
	reject("ip", "10.0.0.2/0", "prefix length must be");
	reject("ip", "10.0.0.2/024", "prefix length must be");
	reject("ip", "10.0.0/24", "must be an IPv4 address with a prefix");
	reject("ip", "10.0.0.256/24", "must be an IPv4 address");
	reject("ip", "10.0.0.02/24", "must be an IPv4 address");
	reject("ip", "10.0.0.2 /24", "must be an IPv4 address");
	reject("ip", "host.example/24", "must be an IPv4 address");
	reject("ip", "10.0.0.0/24", "network address");
	reject("ip", "10.0.0.255/24", "broadcast address");
	reject("ip", "127.0.0.1/8", "not a unicast host address");
	reject("ip", "224.0.0.1/4", "not a unicast host address");
	reject("ip", "0.0.0.1/8", "not a unicast host address");
	reject("gateway", "10.0.0", "must be an IPv4 address like 10.0.0.1");
	reject("gateway", "10.0.0.1/24", "must be an IPv4 address");
	reject("gateway", "255.255.255.255", "not a unicast host address");
	reject("mac", "02:00:00:00:00", "must be a MAC address");
	reject("mac", "02-00-00-00-00-01", "must be a MAC address");
	reject("mac", "02:00:00:00:00:0g", "must be a MAC address");
	reject("mac", "2:00:00:00:00:01:", "must be a MAC address");
	reject("mac", "01:00:5e:00:00:01", "multicast");
	reject("mac", "00:00:00:00:00:00", "all-zeros");
	reject("udp_port", "70000",
			"must be an integer in 1..65535, got \"70000\"");
	reject("udp_port", "0", "must be an integer in 1..65535, got \"0\"");
	reject("gossip_port", "65536", "must be an integer in 1..65535");
	/* tables */
	reject("partitions", "65",
			"must be 0 (one per worker lcore) or an integer in "
			"1..64, got \"65\"");
	reject("expected_entries", "0", "must be an integer in 1..4294967296");
	reject("expected_entries", "4294967297", "got \"4294967297\"");
	reject("max_entries", "4294967297", "must be an integer in 0..4294967296");
	/* data plane */
	reject("burst", "0", "must be an integer in 1..64");
	reject("burst", "65", "must be an integer in 1..64");
	reject("rx_desc", "1000", "must be a power of two in 64..4096, got "
			"\"1000\"");
	reject("rx_desc", "32", "must be a power of two in 64..4096");
	reject("tx_desc", "8192", "must be a power of two in 64..4096");
	reject("mbufs", "1023", "must be 0 (computed from queues and "
			"descriptors) or an integer in 1024..1048576");
	reject("mbufs", "1048577", "1024..1048576");
	reject("tx_drain_us", "0", "must be an integer in 1..10000");
	reject("tx_drain_us", "10001", "1..10000");
	reject("idle_policy", "spin", "must be one of poll, backoff, got "
			"\"spin\"");
	reject("idle_policy", "Poll", "must be one of poll, backoff");
	reject("idle_pause_polls", "0", "1..1000000");
	reject("idle_pause_polls", "1000001", "1..1000000");
	reject("idle_sleep_us", "100001", "1..100000");
	/* leases */
	reject("lease_sweep_ms", "0", "1..60000");
	reject("lease_sweep_ms", "60001", "1..60000");
	reject("lease_max_ms", "4294967296", "0..4294967295");
	/* operations */
	reject("telemetry", "maybe", "must be a boolean (true/false, yes/no, "
			"on/off, 1/0), got \"maybe\"");
	reject("telemetry", "TRUE", "must be a boolean");
	reject("log_level", "verbose", "must be one of error, warning, info, "
			"debug");
	reject("stats_interval_s", "3601", "0..3600");
	/* distribution */
	reject("strategy", "quorum", "unknown strategy 'quorum'");
	reject("static_quorum_size", "0", "must be at least 1");
	reject("static_quorum_size", "4097", "too large");
	reject("static_quorum_size", "-2", "negative");
	reject("vnodes", "65537", "too large");
	reject("vnodes", "x", "not a positive integer");
	reject("node_blacklist", "/a(/", "invalid pattern /a(/");
	reject("node_whitelist", "ok, /[z-a]/", "invalid pattern /[z-a]/");
	reject("node_blacklist", "/abc", "unterminated pattern /abc");
	reject("node_blacklist", "//", "empty pattern");
	reject("node_whitelist", "\"\"", "empty entry");
	/* cluster */
	reject("seeds", "10.0.0.3", "seed \"10.0.0.3\": must be IPv4:port");
	reject("seeds", "10.0.0.3:0", "seed \"10.0.0.3:0\"");
	reject("seeds", "10.0.0.3:65536", "must be IPv4:port");
	reject("seeds", "10.0.0.3:07401", "must be IPv4:port");
	reject("seeds", "gw1:7401", "seed \"gw1:7401\": must be IPv4:port");
	reject("seeds", "10.0.0.3:7401, 10.0.0.4:7401, 10.0.0.3:7401",
			"seed \"10.0.0.3:7401\" is listed twice");
	reject("seeds", "127.0.0.1:7401", "not a unicast host address");
	reject("cluster_key", "abcd", "must be 64 hex digits (32 bytes), got 4 "
			"characters");
	reject("cluster_key", "g123456789abcdef0123456789abcdef"
			"0123456789abcdef0123456789abcdef",
			"non-hex character at offset 0");
	reject("cluster_key", "00000000000000000000000000000000"
			"00000000000000000000000000000000", "all-zeros");
	reject("cluster_key", KEY64 ", " KEY64, "expected a single key");
	reject("cluster_keys_accepted", KEY64 ", abc",
			"key 2: must be 64 hex digits");
	reject("cluster_keys_accepted", KEY64 ", " KEY64,
			"key 2 repeats key 1");
	/* scalars take one item */
	reject("udp_port", "7400, 7401", "expected a single value, got a list "
			"of 2 items");
	reject("node_name", "a,b", "expected a single value");
}

/* Secrets never appear in messages. */
static void
test_reject_no_secret_echo(void **state)
{
	struct swd_config c;
	char err[SWD_CONFIG_ERR_MAX];
	const char *k = "cluster_key = " KEY64 "0\n";
	char text[512];

	(void)state;
	snprintf(text, sizeof(text), BASE "%s", k);
	assert_true(load_text(&c, text, NULL, err, sizeof(err), NULL) < 0);
	assert_null(strstr(err, "0123456789abcdef"));
	assert_non_null(strstr(err, "got 65 characters"));
	swd_config_free(&c);
}

static void
test_too_many_seeds(void **state)
{
	char text[4096];
	size_t off;
	int i;

	(void)state;
	off = (size_t)snprintf(text, sizeof(text), BASE "seeds = ");
	for (i = 0; i < 65; i++)
		off += (size_t)snprintf(text + off, sizeof(text) - off,
				"%s10.0.1.%d:7401", i ? ", " : "", i + 1);
	snprintf(text + off, sizeof(text) - off, "\n");
	expect_error(text, 4, "seeds", "more than 64 seeds (got 65)");
	/* 64 is fine */
	off = (size_t)snprintf(text, sizeof(text), BASE "seeds = ");
	for (i = 0; i < 64; i++)
		off += (size_t)snprintf(text + off, sizeof(text) - off,
				"%s10.0.1.%d:7401", i ? ", " : "", i + 1);
	snprintf(text + off, sizeof(text) - off, "\n");
	{
		struct swd_config c;

		load_ok(&c, text);
		assert_int_equal(c.seeds_count, 64);
		swd_config_free(&c);
	}
}

static void
test_quoting(void **state)
{
	struct swd_config c;

	(void)state;
	load_ok(&c, "node_name = \"n-1\"\nnode_id = \"7\"\n"
			"ip = \"10.0.0.2/24\"  # quoted\n"
			"node_blacklist = \"/a{1,3}/\", \"/x\\\\.y/\", "
			"  plain  , \"#not-a-comment\", \"/say \\\"hi\\\"/\"\n");
	assert_string_equal(c.node_name, "n-1");
	assert_int_equal(c.node_id, 7);
	assert_int_equal(c.node_blacklist_count, 5);
	assert_string_equal(c.node_blacklist[0], "/a{1,3}/");
	assert_string_equal(c.node_blacklist[1], "/x\\.y/");
	assert_string_equal(c.node_blacklist[2], "plain");
	assert_string_equal(c.node_blacklist[3], "#not-a-comment");
	assert_string_equal(c.node_blacklist[4], "/say \"hi\"/");
	assert_false(ring_filter_allows(c.filter, "aaa"));
	assert_false(ring_filter_allows(c.filter, "x.y"));
	assert_true(ring_filter_allows(c.filter, "xzy"));
	swd_config_free(&c);

	/* bare backslashes are literal; inner spaces kept */
	load_ok(&c, BASE "node_blacklist = /x\\.y/ , /a b/\n");
	assert_string_equal(c.node_blacklist[0], "/x\\.y/");
	assert_string_equal(c.node_blacklist[1], "/a b/");
	swd_config_free(&c);

	expect_error(BASE "node_name = \"abc\n", 4, "node_name",
			"unterminated quoted string");
	expect_error(BASE "node_name = \"a\\nb\"\n", 4, "node_name",
			"unknown escape \\n");
	expect_error(BASE "node_name = \"ab\" c\n", 4, "node_name",
			"unexpected text after a quoted string");
	expect_error(BASE "node_name = ab\"c\"\n", 4, "node_name",
			"unexpected '\"' inside an unquoted value");
	expect_error(BASE "seeds = 10.0.0.3:1,\n", 4, "seeds",
			"empty list item after the last comma");
	expect_error(BASE "seeds = 10.0.0.3:1,,10.0.0.4:1\n", 4, "seeds",
			"empty list item");
	expect_error(BASE "seeds = ,10.0.0.4:1\n", 4, "seeds",
			"empty list item");
}

static void
test_comments_blank_crlf(void **state)
{
	struct swd_config c;

	(void)state;
	load_ok(&c, "# header\n\n   \t\n  # indented comment\n"
			"node_name = n1   # trailing comment\n"
			"node_id = 1\t# tab before\r\n"
			"ip = 10.0.0.2/24\n"
			"gateway = # empty: not set\n"
			"seeds =\n"
			"udp_port=7000\n"
			"gossip_port   =   7001");	/* no final newline */
	assert_string_equal(c.node_name, "n1");
	assert_int_equal(c.node_id, 1);
	assert_false(c.has_gateway);
	assert_int_equal(c.udp_port, 7000);
	assert_int_equal(c.gossip_port, 7001);
	swd_config_free(&c);

	/* '#' right after a non-blank character of a bare value is literal */
	expect_error(BASE "log_level = info#x\n", 4, "log_level",
			"got \"info#x\"");
	/* a value of only a comment is empty */
	expect_error(BASE "udp_port = # none\n", 4, "udp_port", "empty value");
	expect_error(BASE "just some words\n", 4, NULL,
			"expected \"key = value\"");
	expect_error(BASE "= 5\n", 4, NULL, "the key is missing");
	/* a UTF-8 byte order mark is skipped */
	load_ok(&c, "\xef\xbb\xbf" BASE);
	assert_string_equal(c.node_name, "n1");
	swd_config_free(&c);
}

static void
test_duplicate_unknown(void **state)
{
	(void)state;
	expect_error(BASE "udp_port = 1\n\nudp_port = 2\n", 6, "udp_port",
			"duplicate key (first set on line 4)");
	expect_error("node_name = a\nnode_name = a\n", 2, "node_name",
			"duplicate key (first set on line 1)");
	expect_error(BASE "udp_prot = 7400\n", 4, "udp_prot",
			"unknown key (did you mean udp_port?)");
	expect_error(BASE "frobnicate = 1\n", 4, "frobnicate", "unknown key");
	expect_error(BASE "UDP_PORT = 1\n", 4, "UDP_PORT", "unknown key");
}

static void
test_missing_required(void **state)
{
	struct swd_config c;
	char err[SWD_CONFIG_ERR_MAX];

	(void)state;
	expect_error("node_id = 1\nip = 10.0.0.2/24\n", 0, "node_name",
			"required key missing");
	expect_error("node_name = a\nip = 10.0.0.2/24\n", 0, "node_id",
			"required key missing");
	expect_error("node_name = a\nnode_id = 1\n", 0, "ip",
			"required key missing");
	expect_error("", 0, "node_name", "required key missing");
	/* without a file */
	assert_int_equal(load_argv(&c, err, sizeof(err), "--set",
			"node_name=a", (char *)NULL), -EINVAL);
	assert_string_equal(err, "config: node_id: required key missing (no "
			"config file: give -c FILE or --set key=value)");
	swd_config_free(&c);
}

static void
test_set_overrides(void **state)
{
	struct swd_config c;
	char err[SWD_CONFIG_ERR_MAX], *path;
	int rc;
	static const char text[] = BASE "udp_port = 1000\n"
		"seeds = 10.0.0.5:1\n";

	(void)state;
	path = write_tmp(text, strlen(text));
	rc = load_argv(&c, err, sizeof(err), "--set", "udp_port=2000",
			"--set=node_name = \"over\"", "-c", path,
			"--set", "seeds=10.0.0.6:2, 10.0.0.7:3",
			"--set", "udp_port=3000", (char *)NULL);
	if (rc != 0)
		fail_msg("%s", err);
	/* applied after the file, in order: the last --set wins */
	assert_int_equal(c.udp_port, 3000);
	assert_string_equal(c.node_name, "over");
	assert_int_equal(c.seeds_count, 2);
	assert_int_equal(c.seeds[0].ip, 0x0a000006);
	assert_string_equal(c.config_path, path);
	swd_config_free(&c);

	/* an optional key can be cleared, a list emptied */
	rc = load_argv(&c, err, sizeof(err), "-c", path, "--set", "seeds=",
			"--set", "gateway=", (char *)NULL);
	assert_int_equal(rc, 0);
	assert_int_equal(c.seeds_count, 0);
	swd_config_free(&c);

	/* errors name --set, the key and the reason */
	rc = load_argv(&c, err, sizeof(err), "-c", path, "--set",
			"udp_port=70000", (char *)NULL);
	assert_int_equal(rc, -EINVAL);
	assert_string_equal(err, "--set: udp_port: must be an integer in "
			"1..65535, got \"70000\"");
	swd_config_free(&c);

	/* '#' is not a comment in --set */
	rc = load_argv(&c, err, sizeof(err), "-c", path, "--set",
			"node_name=a#b", (char *)NULL);
	assert_int_equal(rc, -EINVAL);
	assert_non_null(strstr(err, "--set: node_name: character '#'"));
	swd_config_free(&c);

	/* everything from --set, no file */
	rc = load_argv(&c, err, sizeof(err), "--set", "node_name=x",
			"--set", "node_id=9", "--set", "ip=10.1.2.3/16",
			(char *)NULL);
	assert_int_equal(rc, 0);
	assert_null(c.config_path);
	assert_int_equal(c.node_id, 9);
	swd_config_free(&c);
	unlink(path);
	free(path);
}

static void
test_set_errors(void **state)
{
	struct swd_config c;
	char err[SWD_CONFIG_ERR_MAX];

	(void)state;
	assert_int_equal(load_argv(&c, err, sizeof(err), "--set", "udp_prot=1",
			(char *)NULL), -EINVAL);
	assert_string_equal(err, "--set: udp_prot: unknown key (did you mean "
			"udp_port?)");
	swd_config_free(&c);
	assert_int_equal(load_argv(&c, err, sizeof(err), "--set", "udp_port",
			(char *)NULL), -EINVAL);
	assert_string_equal(err, "--set: expected key=value, got \"udp_port\"");
	swd_config_free(&c);
	assert_int_equal(load_argv(&c, err, sizeof(err), "--set",
			(char *)NULL), -EINVAL);
	assert_string_equal(err, "usage: --set needs key=value");
	swd_config_free(&c);
	assert_int_equal(load_argv(&c, err, sizeof(err), "--set",
			"node_name=a\x01", (char *)NULL), -EINVAL);
	assert_non_null(strstr(err, "--set: control character 0x01"));
	swd_config_free(&c);
	assert_int_equal(load_argv(&c, err, sizeof(err), "--set",
			"node_name=\xff", (char *)NULL), -EINVAL);
	assert_non_null(strstr(err, "--set: invalid UTF-8"));
	swd_config_free(&c);
}

static void
test_usage(void **state)
{
	struct swd_config c;
	char err[SWD_CONFIG_ERR_MAX];

	(void)state;
	assert_int_equal(load_argv(&c, err, sizeof(err), "--frob",
			(char *)NULL), -EINVAL);
	assert_string_equal(err, "usage: unknown option \"--frob\" (see "
			"--help)");
	swd_config_free(&c);
	assert_int_equal(load_argv(&c, err, sizeof(err), "file.conf",
			(char *)NULL), -EINVAL);
	assert_string_equal(err, "usage: unexpected argument \"file.conf\" "
			"(see --help)");
	swd_config_free(&c);
	assert_int_equal(load_argv(&c, err, sizeof(err), "-c", "a", "-c", "b",
			(char *)NULL), -EINVAL);
	assert_non_null(strstr(err, "only one configuration file"));
	swd_config_free(&c);
	assert_int_equal(load_argv(&c, err, sizeof(err), "-c", (char *)NULL),
			-EINVAL);
	assert_string_equal(err, "usage: -c needs a file name");
	swd_config_free(&c);
	assert_int_equal(load_argv(&c, err, sizeof(err), "--config=",
			(char *)NULL), -EINVAL);
	assert_string_equal(err, "usage: --config needs a file name");
	swd_config_free(&c);
	/* nothing at all: the required keys are missing */
	assert_int_equal(load_argv(&c, err, sizeof(err), (char *)NULL),
			-EINVAL);
	assert_non_null(strstr(err, "node_name: required key missing"));
	swd_config_free(&c);
}

static const char *const all_keys[] = {
	"node_name", "node_id", "ip", "gateway", "mac", "udp_port",
	"gossip_port", "trusted_clients", "partitions", "expected_entries", "max_entries",
	"burst", "rx_desc", "tx_desc", "mbufs", "tx_drain_us",
	"idle_policy", "idle_pause_polls", "idle_sleep_us", "lease_sweep_ms",
	"lease_max_ms", "telemetry", "log_level",
	"stats_interval_s", "strategy", "static_quorum_size", "vnodes",
	"node_blacklist", "node_whitelist", "seeds", "cluster_key",
	"cluster_keys_accepted", "probe_interval_ms", "probe_timeout_ms",
	"suspicion_mult", "fwd_timeout_ms", "repl_rto_ms", "ae_interval_ms",
	"tombstone_ms",
};

static void
test_help(void **state)
{
	struct swd_config c;
	char err[SWD_CONFIG_ERR_MAX], pat[64];
	size_t i;

	(void)state;
	/* --help wins over other arguments, even bad ones */
	assert_int_equal(load_argv(&c, err, sizeof(err), "--frob", "--help",
			(char *)NULL), SWD_CONFIG_EXIT_HELP);
	assert_non_null(strstr(out_buf, "usage: swarmd [EAL options] --"));
	for (i = 0; i < sizeof(all_keys) / sizeof(all_keys[0]); i++) {
		snprintf(pat, sizeof(pat), "\n  %s\n", all_keys[i]);
		if (strstr(out_buf, pat) == NULL)
			fail_msg("help lacks key %s", all_keys[i]);
	}
	/* types, ranges and defaults come from the table */
	assert_non_null(strstr(out_buf, "integer 1..65535; default: 7400"));
	assert_non_null(strstr(out_buf, "power of two 64..4096; default: "
			"1024"));
	assert_non_null(strstr(out_buf, "one of: poll, backoff; "
			"default: backoff"));
	assert_null(strstr(out_buf, "interrupt"));
	assert_null(strstr(out_buf, "rx_queues"));
	assert_null(strstr(out_buf, "ring_steering"));
	assert_non_null(strstr(out_buf, "integer 10..60000; default: 2000"));
	assert_non_null(strstr(out_buf, "default: 1048576"));
	assert_non_null(strstr(out_buf, "required"));
	assert_non_null(strstr(out_buf, "--print-config"));
	assert_non_null(strstr(out_buf, "Exit status"));
	/* every line fits in 80 columns */
	{
		const char *p = out_buf, *nl;

		while ((nl = strchr(p, '\n')) != NULL) {
			if (nl - p > 80)
				fail_msg("long help line: %.*s", (int)(nl - p),
						p);
			p = nl + 1;
		}
	}
	swd_config_free(&c);
	assert_int_equal(load_argv(&c, err, sizeof(err), "--", "-h",
			(char *)NULL), SWD_CONFIG_EXIT_HELP);
	swd_config_free(&c);
}

static void
expect_same(const struct swd_config *a, const struct swd_config *b)
{
	uint32_t i;

	assert_string_equal(a->node_name, b->node_name);
	assert_int_equal(a->node_id, b->node_id);
	assert_int_equal(a->ip, b->ip);
	assert_int_equal(a->prefix_len, b->prefix_len);
	assert_int_equal(a->has_gateway, b->has_gateway);
	assert_int_equal(a->gateway, b->gateway);
	assert_int_equal(a->has_mac, b->has_mac);
	assert_memory_equal(a->mac, b->mac, 6);
	assert_int_equal(a->udp_port, b->udp_port);
	assert_int_equal(a->gossip_port, b->gossip_port);
	assert_int_equal(a->trusted_subnet, b->trusted_subnet);
	assert_int_equal(a->trusted_clients_count, b->trusted_clients_count);
	for (i = 0; i < a->trusted_clients_count; i++) {
		assert_int_equal(a->trusted_clients[i].net,
				b->trusted_clients[i].net);
		assert_int_equal(a->trusted_clients[i].len,
				b->trusted_clients[i].len);
	}
	assert_int_equal(a->partitions, b->partitions);
	assert_true(a->expected_entries == b->expected_entries);
	assert_true(a->max_entries == b->max_entries);
	assert_int_equal(a->burst, b->burst);
	assert_int_equal(a->rx_desc, b->rx_desc);
	assert_int_equal(a->tx_desc, b->tx_desc);
	assert_int_equal(a->mbufs, b->mbufs);
	assert_int_equal(a->tx_drain_us, b->tx_drain_us);
	assert_int_equal(a->idle_policy, b->idle_policy);
	assert_int_equal(a->idle_pause_polls, b->idle_pause_polls);
	assert_int_equal(a->idle_sleep_us, b->idle_sleep_us);
	assert_int_equal(a->lease_sweep_ms, b->lease_sweep_ms);
	assert_int_equal(a->lease_max_ms, b->lease_max_ms);
	assert_int_equal(a->telemetry, b->telemetry);
	assert_int_equal(a->log_level, b->log_level);
	assert_int_equal(a->stats_interval_s, b->stats_interval_s);
	assert_int_equal(a->strategy, b->strategy);
	assert_int_equal(a->static_quorum_size, b->static_quorum_size);
	assert_int_equal(a->vnodes, b->vnodes);
	assert_int_equal(a->node_blacklist_count, b->node_blacklist_count);
	for (i = 0; i < a->node_blacklist_count; i++)
		assert_string_equal(a->node_blacklist[i], b->node_blacklist[i]);
	assert_int_equal(a->node_whitelist_count, b->node_whitelist_count);
	for (i = 0; i < a->node_whitelist_count; i++)
		assert_string_equal(a->node_whitelist[i], b->node_whitelist[i]);
	assert_int_equal(a->seeds_count, b->seeds_count);
	for (i = 0; i < a->seeds_count; i++) {
		assert_int_equal(a->seeds[i].ip, b->seeds[i].ip);
		assert_int_equal(a->seeds[i].port, b->seeds[i].port);
	}
	assert_int_equal(a->probe_interval_ms, b->probe_interval_ms);
	assert_int_equal(a->probe_timeout_ms, b->probe_timeout_ms);
	assert_int_equal(a->suspicion_mult, b->suspicion_mult);
	assert_int_equal(a->fwd_timeout_ms, b->fwd_timeout_ms);
	assert_int_equal(a->repl_rto_ms, b->repl_rto_ms);
	assert_int_equal(a->ae_interval_ms, b->ae_interval_ms);
	assert_int_equal(a->tombstone_ms, b->tombstone_ms);
}

/* Loads text, prints it, reloads the print: same config, same print. */
static void
round_trip(const char *text)
{
	struct swd_config a, b;
	char err[SWD_CONFIG_ERR_MAX], *p1, *p2, *path;
	int rc;

	rc = load_argv(&a, err, sizeof(err), "-c", (path = write_tmp(text,
			strlen(text))), "--print-config", (char *)NULL);
	unlink(path);
	free(path);
	if (rc != SWD_CONFIG_EXIT_PRINTED)
		fail_msg("%s", err);
	p1 = strdup(out_buf);
	assert_non_null(p1);
	load_ok(&b, p1);
	expect_same(&a, &b);
	swd_config_free(&b);
	path = write_tmp(p1, strlen(p1));
	rc = load_argv(&b, err, sizeof(err), "-c", path, "--print-config",
			(char *)NULL);
	assert_int_equal(rc, SWD_CONFIG_EXIT_PRINTED);
	p2 = out_buf;
	/* the second print differs only in the "loaded from" line */
	assert_non_null(strstr(p2, "\n\n# identity\n"));
	assert_string_equal(strstr(p1, "\n\n# identity\n"),
			strstr(p2, "\n\n# identity\n"));
	unlink(path);
	free(path);
	free(p1);
	swd_config_free(&a);
	swd_config_free(&b);
}

static void
test_print_round_trip(void **state)
{
	(void)state;
	round_trip(BASE);
	round_trip("node_name = \"x@y.z\"\nnode_id = 77\nip = 172.16.5.9/20\n"
			"gateway = 172.16.0.1\nmac = 02:00:5E:10:00:01\n"
			"udp_port = 9000\ngossip_port = 9001\npartitions = 8\n"
			"expected_entries = 4294967296\nmax_entries = 5000000\n"
			"burst = 16\nrx_desc = 512\ntx_desc = 256\n"
			"mbufs = 65536\ntx_drain_us = 20\n"
			"idle_policy = poll\nidle_pause_polls = 10\n"
			"idle_sleep_us = 50\n"
			"lease_sweep_ms = 500\nlease_max_ms = 3600000\n"
			"telemetry = off\nlog_level = debug\n"
			"stats_interval_s = 10\n"
			"strategy = Swarm.Distribution.StaticQuorumRing\n"
			"static_quorum_size = 3\nvnodes = 128\n"
			"node_blacklist = \"/a{1,3}/\", \"/q\\\"u\\\\o/\", "
			"\"/ sp /\", \"/h #x/\", plain-name\n"
			"node_whitelist = /^x/, x@y.z\n"
			"seeds = 172.16.0.2:9001, 10.9.8.7:1\n"
			"fwd_timeout_ms = 3000\nrepl_rto_ms = 250\n"
			"ae_interval_ms = 5000\ntombstone_ms = 120000\n");
	round_trip(BASE "trusted_clients =\n");
	round_trip(BASE "trusted_clients = 192.168.0.0/16, subnet, "
			"10.1.2.3\n");
	round_trip(BASE "trusted_clients = 0.0.0.0/0\n");
}

static void
test_print_secrets(void **state)
{
	struct swd_config c;
	char err[SWD_CONFIG_ERR_MAX], *path;
	const char *text = BASE "cluster_key = " KEY64 "\n"
		"cluster_keys_accepted = "
		"fedcba9876543210fedcba9876543210fedcba9876543210fedcba9876543210"
		"\n";
	int rc;

	(void)state;
	path = write_tmp(text, strlen(text));
	rc = load_argv(&c, err, sizeof(err), "-c", path, "--print-config",
			(char *)NULL);
	assert_int_equal(rc, SWD_CONFIG_EXIT_PRINTED);
	assert_null(strstr(out_buf, "0123456789abcdef"));
	assert_null(strstr(out_buf, "fedcba9876543210"));
	assert_non_null(strstr(out_buf, "\n# cluster_key = <set>"));
	assert_non_null(strstr(out_buf, "\n# cluster_keys_accepted = <set>"));
	swd_config_free(&c);
	/* the output still loads (without the keys) */
	load_ok(&c, out_buf);
	assert_false(c.has_cluster_key);
	swd_config_free(&c);
	unlink(path);
	free(path);
	/* accepted keys without a current key */
	expect_error(BASE "cluster_keys_accepted = " KEY64 "\n", 4,
			"cluster_keys_accepted", "needs cluster_key");
}

static void
test_check(void **state)
{
	struct swd_config c;
	char err[SWD_CONFIG_ERR_MAX];
	char *path = write_tmp(BASE, strlen(BASE));

	(void)state;
	assert_int_equal(load_argv(&c, err, sizeof(err), "--check", "-c", path,
			(char *)NULL), SWD_CONFIG_EXIT_CHECKED);
	assert_non_null(strstr(out_buf, "configuration is valid"));
	swd_config_free(&c);
	/* --check of a bad configuration is an error like any other */
	assert_int_equal(load_argv(&c, err, sizeof(err), "--check", "-c", path,
			"--set", "burst=0", (char *)NULL), -EINVAL);
	assert_non_null(strstr(err, "--set: burst: "));
	swd_config_free(&c);
	unlink(path);
	free(path);
}

static void
test_cross_key_rules(void **state)
{
	struct swd_config c;
	char err[SWD_CONFIG_ERR_MAX], *path;

	(void)state;
	expect_error(BASE "gateway = 10.0.1.1\n", 4, "gateway",
			"10.0.1.1 is outside the subnet 10.0.0.0/24 of ip");
	expect_error("gateway = 192.168.0.1\n" BASE, 1, "gateway",
			"outside the subnet 10.0.0.0/24");
	expect_error(BASE "gateway = 10.0.0.2\n", 4, "gateway",
			"own address");
	expect_error(BASE "gateway = 10.0.0.255\n", 4, "gateway",
			"broadcast");
	expect_error(BASE "gossip_port = 7400\n", 4, "gossip_port",
			"gossip_port and udp_port must differ, both are 7400");
	expect_error(BASE "udp_port = 7401\n", 4, "udp_port",
			"must differ, both are 7401");
	expect_error(BASE "gossip_port = 9\nudp_port = 9\n", 4, "gossip_port",
			"must differ");
	expect_error(BASE "probe_timeout_ms = 1000\n", 4, "probe_timeout_ms",
			"probe_timeout_ms (1000) must be below probe_interval_ms "
			"(1000)");
	expect_error(BASE "probe_interval_ms = 400\n", 4, "probe_interval_ms",
			"must be below probe_interval_ms (400)");
	expect_error(BASE "suspicion_mult = 0\n", 4, "suspicion_mult", "");
	load_ok(&c, BASE "probe_interval_ms = 200\nprobe_timeout_ms = 100\n"
			"suspicion_mult = 3\n");
	assert_int_equal(c.probe_interval_ms, 200);
	assert_int_equal(c.probe_timeout_ms, 100);
	assert_int_equal(c.suspicion_mult, 3);
	swd_config_free(&c);
	/* a /31 point-to-point link has no network or broadcast address */
	load_ok(&c, "node_name = a\nnode_id = 1\nip = 10.0.0.0/31\n"
			"gateway = 10.0.0.1\n");
	swd_config_free(&c);
	/* through --set: named as --set */
	path = write_tmp(BASE, strlen(BASE));
	assert_int_equal(load_argv(&c, err, sizeof(err), "-c", path, "--set",
			"gossip_port=7400", (char *)NULL), -EINVAL);
	assert_string_equal(err, "--set: gossip_port: gossip_port and udp_port "
			"must differ, both are 7400");
	swd_config_free(&c);
	unlink(path);
	free(path);
}

/* Keys and values that did nothing are gone: refused like any unknown. */
static void
test_removed_keys(void **state)
{
	(void)state;
	expect_error(BASE "rx_queues = 0\n", 4, "rx_queues", "unknown key");
	expect_error(BASE "ring_steering = software\n", 4, "ring_steering",
			"unknown key");
	expect_error(BASE "ring_steering = flow\n", 4, "ring_steering",
			"unknown key");
	reject("idle_policy", "interrupt", "must be one of poll, backoff, got "
			"\"interrupt\"");
}

/* The cluster protocol timers: ranges, defaults, the rules between them. */
static void
test_cluster_timers(void **state)
{
	struct swd_config c;
	char err[SWD_CONFIG_ERR_MAX], *path;

	(void)state;
	/* each accepted at the ends of its range (the others at defaults) */
	accept(&c, "fwd_timeout_ms", "60000");
	assert_int_equal(c.fwd_timeout_ms, 60000);
	assert_int_equal(c.repl_rto_ms, 100);
	swd_config_free(&c);
	accept(&c, "fwd_timeout_ms", "101");
	assert_int_equal(c.fwd_timeout_ms, 101);
	swd_config_free(&c);
	accept(&c, "repl_rto_ms", "1");
	assert_int_equal(c.repl_rto_ms, 1);
	assert_int_equal(c.fwd_timeout_ms, 2000);
	swd_config_free(&c);
	accept(&c, "repl_rto_ms", "1999");
	assert_int_equal(c.repl_rto_ms, 1999);
	swd_config_free(&c);
	accept(&c, "ae_interval_ms", "100");
	assert_int_equal(c.ae_interval_ms, 100);
	assert_int_equal(c.tombstone_ms, 60000);
	swd_config_free(&c);
	accept(&c, "ae_interval_ms", "30000");
	assert_int_equal(c.ae_interval_ms, 30000);
	swd_config_free(&c);
	accept(&c, "tombstone_ms", "4000");
	assert_int_equal(c.tombstone_ms, 4000);
	assert_int_equal(c.ae_interval_ms, 2000);
	swd_config_free(&c);
	accept(&c, "tombstone_ms", "86400000");
	assert_int_equal(c.tombstone_ms, 86400000);
	swd_config_free(&c);
	load_ok(&c, BASE "fwd_timeout_ms = 10\nrepl_rto_ms = 9\n");
	assert_int_equal(c.fwd_timeout_ms, 10);
	assert_int_equal(c.repl_rto_ms, 9);
	swd_config_free(&c);
	load_ok(&c, BASE "repl_rto_ms = 10000\nfwd_timeout_ms = 10001\n");
	assert_int_equal(c.repl_rto_ms, 10000);
	swd_config_free(&c);
	load_ok(&c, BASE "ae_interval_ms = 600000\ntombstone_ms = 1200000\n");
	assert_int_equal(c.ae_interval_ms, 600000);
	assert_int_equal(c.tombstone_ms, 1200000);
	swd_config_free(&c);
	load_ok(&c, BASE "tombstone_ms = 1000\nae_interval_ms = 500\n");
	assert_int_equal(c.tombstone_ms, 1000);
	assert_int_equal(c.ae_interval_ms, 500);
	swd_config_free(&c);

	/* out of range: the message names the line, the key and the range */
	reject("fwd_timeout_ms", "9", "must be an integer in 10..60000, got "
			"\"9\"");
	reject("fwd_timeout_ms", "60001", "must be an integer in 10..60000");
	reject("fwd_timeout_ms", "", "empty value");
	reject("repl_rto_ms", "0", "must be an integer in 1..10000, got \"0\"");
	reject("repl_rto_ms", "10001", "must be an integer in 1..10000");
	reject("ae_interval_ms", "99", "must be an integer in 100..600000");
	reject("ae_interval_ms", "600001", "must be an integer in 100..600000");
	reject("tombstone_ms", "999", "must be an integer in 1000..86400000");
	reject("tombstone_ms", "86400001", "must be an integer in "
			"1000..86400000");
	reject("tombstone_ms", "-1", "must be an integer");
	reject("repl_rto_ms", "1e3", "must be an integer");

	/* repl_rto_ms below fwd_timeout_ms: at the key that was set */
	expect_error(BASE "repl_rto_ms = 2000\n", 4, "repl_rto_ms",
			"repl_rto_ms (2000) must be below fwd_timeout_ms "
			"(2000)");
	expect_error(BASE "fwd_timeout_ms = 100\n", 4, "fwd_timeout_ms",
			"repl_rto_ms (100) must be below fwd_timeout_ms (100)");
	expect_error(BASE "fwd_timeout_ms = 500\nrepl_rto_ms = 800\n", 5,
			"repl_rto_ms", "must be below fwd_timeout_ms (500)");
	/* tombstone_ms at least 2 x ae_interval_ms */
	expect_error(BASE "tombstone_ms = 3999\n", 4, "tombstone_ms",
			"tombstone_ms (3999) must be at least 2 x "
			"ae_interval_ms (2000)");
	expect_error(BASE "ae_interval_ms = 40000\n", 4, "ae_interval_ms",
			"tombstone_ms (60000) must be at least 2 x "
			"ae_interval_ms (40000)");
	/* through --set */
	path = write_tmp(BASE, strlen(BASE));
	assert_int_equal(load_argv(&c, err, sizeof(err), "-c", path, "--set",
			"repl_rto_ms=5000", (char *)NULL), -EINVAL);
	assert_string_equal(err, "--set: repl_rto_ms: repl_rto_ms (5000) "
			"must be below fwd_timeout_ms (2000)");
	swd_config_free(&c);
	assert_int_equal(load_argv(&c, err, sizeof(err), "-c", path, "--set",
			"tombstone_ms=1000", (char *)NULL), -EINVAL);
	assert_string_equal(err, "--set: tombstone_ms: tombstone_ms (1000) "
			"must be at least 2 x ae_interval_ms (2000)");
	swd_config_free(&c);
	assert_int_equal(load_argv(&c, err, sizeof(err), "-c", path, "--set",
			"fwd_timeout_ms=5000", "--set", "repl_rto_ms=4999",
			"--set", "ae_interval_ms=1000", "--set",
			"tombstone_ms=2000", (char *)NULL), 0);
	assert_int_equal(c.fwd_timeout_ms, 5000);
	assert_int_equal(c.repl_rto_ms, 4999);
	assert_int_equal(c.ae_interval_ms, 1000);
	assert_int_equal(c.tombstone_ms, 2000);
	swd_config_free(&c);
	unlink(path);
	free(path);
}

/* stats_interval_s prints info messages: refused when they are hidden. */
static void
test_stats_needs_info(void **state)
{
	struct swd_config c;
	char err[SWD_CONFIG_ERR_MAX], *path;

	(void)state;
	accept(&c, "stats_interval_s", "1");
	assert_int_equal(c.stats_interval_s, 1);
	assert_int_equal(c.log_level, SWD_LOG_INFO);
	swd_config_free(&c);
	load_ok(&c, BASE "log_level = debug\nstats_interval_s = 60\n");
	swd_config_free(&c);
	load_ok(&c, BASE "log_level = error\nstats_interval_s = 0\n");
	assert_int_equal(c.log_level, SWD_LOG_ERROR);
	swd_config_free(&c);
	expect_error(BASE "log_level = warning\nstats_interval_s = 60\n", 5,
			"stats_interval_s", "stats_interval_s needs log_level "
			"info or debug (the counter lines are info messages), "
			"log_level is warning");
	path = write_tmp(BASE "stats_interval_s = 10\n",
			strlen(BASE "stats_interval_s = 10\n"));
	assert_int_equal(load_argv(&c, err, sizeof(err), "-c", path, "--set",
			"log_level=error", (char *)NULL), -EINVAL);
	assert_non_null(strstr(err, ":4: stats_interval_s: stats_interval_s "
			"needs log_level info or debug"));
	assert_non_null(strstr(err, "log_level is error"));
	swd_config_free(&c);
	unlink(path);
	free(path);
	path = write_tmp(BASE "log_level = error\n",
			strlen(BASE "log_level = error\n"));
	assert_int_equal(load_argv(&c, err, sizeof(err), "-c", path, "--set",
			"stats_interval_s=5", (char *)NULL), -EINVAL);
	assert_non_null(strstr(err, "--set: stats_interval_s: "));
	swd_config_free(&c);
	unlink(path);
	free(path);
}

static void
test_bad_regex_named(void **state)
{
	struct swd_config c;
	char err[SWD_CONFIG_ERR_MAX], *path;

	(void)state;
	expect_error(BASE "\nnode_blacklist = good, /ok/, /bad[/\n", 5,
			"node_blacklist", "invalid pattern /bad[/");
	path = write_tmp(BASE, strlen(BASE));
	assert_int_equal(load_argv(&c, err, sizeof(err), "-c", path, "--set",
			"node_whitelist=/(x/", (char *)NULL), -EINVAL);
	assert_non_null(strstr(err, "--set: node_whitelist: invalid pattern "
			"/(x/"));
	swd_config_free(&c);
	unlink(path);
	free(path);
}

static void
test_file_limits(void **state)
{
	struct swd_config c;
	char err[SWD_CONFIG_ERR_MAX], *path, *big, want[256];
	size_t n;
	int rc;

	(void)state;
	/* exactly 1 MiB of comments + the keys loads */
	n = SWD_CONFIG_FILE_MAX;
	big = malloc(n + 1);
	assert_non_null(big);
	memset(big, '#', n);
	memcpy(big, BASE, strlen(BASE));
	{
		size_t i;

		for (i = strlen(BASE) + 100; i < n; i += 100)
			big[i] = '\n';
	}
	path = write_tmp(big, n);
	rc = load_argv(&c, err, sizeof(err), "-c", path, (char *)NULL);
	if (rc != 0)
		fail_msg("%s", err);
	swd_config_free(&c);
	unlink(path);
	free(path);
	/* one byte more does not */
	big[n - 1] = '\n';
	big = realloc(big, n + 2);
	assert_non_null(big);
	big[n] = '\n';
	path = write_tmp(big, n + 1);
	rc = load_argv(&c, err, sizeof(err), "-c", path, (char *)NULL);
	assert_int_equal(rc, -EFBIG);
	snprintf(want, sizeof(want), "config %s: file larger than 1048576 "
			"bytes (1 MiB)", path);
	assert_string_equal(err, want);
	swd_config_free(&c);
	unlink(path);
	free(path);

	/* a 4096-byte line is fine, 4097 is not */
	memset(big, ' ', 8192);
	memcpy(big, BASE "#", strlen(BASE) + 1);
	big[strlen(BASE) + 4096] = '\n';
	big[strlen(BASE) + 4096 + 1] = '\0';
	load_ok(&c, big);
	swd_config_free(&c);
	big[strlen(BASE) + 4096] = ' ';
	big[strlen(BASE) + 4097] = '\n';
	big[strlen(BASE) + 4098] = '\0';
	expect_error(big, 4, NULL, "line longer than 4096 bytes");
	free(big);

	/* NUL, invalid UTF-8, control characters */
	{
		static const char nul[] = BASE "node_name = a\0b\n";

		path = write_tmp(nul, sizeof(nul) - 1);
		rc = load_argv(&c, err, sizeof(err), "-c", path, (char *)NULL);
		assert_int_equal(rc, -EINVAL);
		snprintf(want, sizeof(want), "config %s:4: NUL byte at column "
				"14", path);
		assert_string_equal(err, want);
		swd_config_free(&c);
		unlink(path);
		free(path);
	}
	expect_error(BASE "# caf\xe9\n", 4, NULL, "invalid UTF-8 at column 6");
	expect_error(BASE "# \xc0\xaf overlong\n", 4, NULL, "invalid UTF-8");
	expect_error(BASE "# \xed\xa0\x80 surrogate\n", 4, NULL,
			"invalid UTF-8");
	expect_error(BASE "# \xf4\x90\x80\x80 too big\n", 4, NULL,
			"invalid UTF-8");
	expect_error(BASE "# cut \xe2\x82\n", 4, NULL, "invalid UTF-8");
	expect_error("node_name = a\x1b[0m\n", 1, NULL,
			"control character 0x1b at column 14");
	expect_error("node_name = a\rb\n", 1, NULL, "control character 0x0d");
	/* valid UTF-8 in comments is fine */
	load_ok(&c, "# caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x90\x9d\n" BASE);
	swd_config_free(&c);
}

static void
test_unreadable(void **state)
{
	struct swd_config c;
	char err[SWD_CONFIG_ERR_MAX], dir[] = "/tmp/swd_config_dir_XXXXXX";
	char *path;
	int rc;

	(void)state;
	rc = load_argv(&c, err, sizeof(err), "-c", "/nonexistent/swarmd.conf",
			(char *)NULL);
	assert_int_equal(rc, -ENOENT);
	assert_string_equal(err, "config /nonexistent/swarmd.conf: cannot "
			"open: No such file or directory");
	swd_config_free(&c);

	assert_non_null(mkdtemp(dir));
	rc = load_argv(&c, err, sizeof(err), "-c", dir, (char *)NULL);
	assert_int_equal(rc, -EISDIR);
	assert_non_null(strstr(err, "cannot read: Is a directory"));
	assert_non_null(strstr(err, dir));
	swd_config_free(&c);
	rmdir(dir);

	if (geteuid() != 0) {
		path = write_tmp(BASE, strlen(BASE));
		assert_int_equal(chmod(path, 0), 0);
		rc = load_argv(&c, err, sizeof(err), "-c", path, (char *)NULL);
		assert_int_equal(rc, -EACCES);
		assert_non_null(strstr(err, "cannot open: Permission denied"));
		swd_config_free(&c);
		unlink(path);
		free(path);
	}
}

static void
test_error_leaves_cfg_clean(void **state)
{
	struct swd_config c;
	char err[SWD_CONFIG_ERR_MAX];

	(void)state;
	/* lists set then a later error: nothing leaks (ASan), cfg is reset */
	assert_true(load_text(&c, BASE "node_blacklist = a, b\n"
			"node_whitelist = c\nburst = 0\n", NULL, err,
			sizeof(err), NULL) < 0);
	assert_null(c.node_blacklist);
	assert_null(c.filter);
	assert_null(c.config_path);
	swd_config_free(&c);
	/* small error buffers truncate safely */
	assert_true(load_text(&c, BASE "burst = 0\n", NULL, err, 8, NULL) < 0);
	assert_int_equal(strlen(err), 7);
	swd_config_free(&c);
	assert_true(load_text(&c, BASE "burst = 0\n", NULL, NULL, 0, NULL) < 0);
	swd_config_free(&c);
}

/* trusted_clients: the subnet of ip by default, a list, or nobody. */
static void
test_trusted_clients(void **state)
{
	struct swd_config c;
	char list[64 * 20 + 16];
	size_t off = 0;
	unsigned int i;

	(void)state;
	load_ok(&c, BASE);
	assert_true(c.trusted_subnet);
	assert_int_equal(c.trusted_clients_count, 0);
	swd_config_free(&c);
	accept(&c, "trusted_clients", "");		/* nobody */
	assert_false(c.trusted_subnet);
	assert_int_equal(c.trusted_clients_count, 0);
	swd_config_free(&c);
	accept(&c, "trusted_clients", "10.9.0.0/16, subnet, 192.168.1.7, "
			"0.0.0.0/0");
	assert_true(c.trusted_subnet);
	assert_int_equal(c.trusted_clients_count, 3);
	assert_int_equal(c.trusted_clients[0].net, 0x0a090000);
	assert_int_equal(c.trusted_clients[0].len, 16);
	assert_int_equal(c.trusted_clients[1].net, 0xc0a80107);
	assert_int_equal(c.trusted_clients[1].len, 32);
	assert_int_equal(c.trusted_clients[2].net, 0);
	assert_int_equal(c.trusted_clients[2].len, 0);
	swd_config_free(&c);
	reject("trusted_clients", "10.0.0.5/24", "host bits set (the network "
			"is 10.0.0.0/24)");
	reject("trusted_clients", "10.0.0.0/33", "must be IPv4 networks");
	reject("trusted_clients", "10.0.0/8", "must be IPv4 networks");
	reject("trusted_clients", "10.0.0.0/08", "must be IPv4 networks");
	reject("trusted_clients", "10.0.0.0/", "must be IPv4 networks");
	reject("trusted_clients", "lan", "got \"lan\"");
	reject("trusted_clients", "subnet, subnet", "subnet is listed twice");
	reject("trusted_clients", "10.0.0.0/8, 10.0.0.0/8", "listed twice");
	for (i = 0; i <= SWD_TRUSTED_MAX; i++)
		off += (size_t)snprintf(list + off, sizeof(list) - off,
				"%s10.%u.0.0/16", i ? ", " : "", i);
	reject("trusted_clients", list, "more than 64 networks");
	/* --set replaces the file's list; an empty --set trusts nobody */
	{
		char err[SWD_CONFIG_ERR_MAX];

		assert_int_equal(load_text(&c, BASE "trusted_clients = "
				"10.0.0.0/8\n", "trusted_clients=", err,
				sizeof(err), NULL), 0);
		assert_false(c.trusted_subnet);
		assert_int_equal(c.trusted_clients_count, 0);
		swd_config_free(&c);
		assert_true(load_text(&c, BASE, "trusted_clients=1.2.3.4/8",
				err, sizeof(err), NULL) < 0);
		assert_non_null(strstr(err, "--set: trusted_clients: "));
		swd_config_free(&c);
	}
}

static void
test_names(void **state)
{
	(void)state;
	assert_string_equal(swd_idle_policy_name(SWD_IDLE_POLL), "poll");
	assert_string_equal(swd_idle_policy_name(SWD_IDLE_BACKOFF), "backoff");
	assert_string_equal(swd_idle_policy_name((enum swd_idle_policy)2), "?");
	assert_string_equal(swd_log_level_name(SWD_LOG_DEBUG), "debug");
	assert_string_equal(swd_log_level_name(SWD_LOG_WARNING), "warning");
}

int
main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_minimal),
		cmocka_unit_test(test_demo_conf),
		cmocka_unit_test(test_gateway_conf),
		cmocka_unit_test(test_accept_identity_network),
		cmocka_unit_test(test_accept_tables_dataplane),
		cmocka_unit_test(test_accept_ops_distribution_cluster),
		cmocka_unit_test(test_reject_values),
		cmocka_unit_test(test_reject_no_secret_echo),
		cmocka_unit_test(test_too_many_seeds),
		cmocka_unit_test(test_quoting),
		cmocka_unit_test(test_comments_blank_crlf),
		cmocka_unit_test(test_duplicate_unknown),
		cmocka_unit_test(test_missing_required),
		cmocka_unit_test(test_set_overrides),
		cmocka_unit_test(test_set_errors),
		cmocka_unit_test(test_usage),
		cmocka_unit_test(test_help),
		cmocka_unit_test(test_print_round_trip),
		cmocka_unit_test(test_print_secrets),
		cmocka_unit_test(test_check),
		cmocka_unit_test(test_cross_key_rules),
		cmocka_unit_test(test_removed_keys),
		cmocka_unit_test(test_cluster_timers),
		cmocka_unit_test(test_stats_needs_info),
		cmocka_unit_test(test_bad_regex_named),
		cmocka_unit_test(test_file_limits),
		cmocka_unit_test(test_unreadable),
		cmocka_unit_test(test_error_leaves_cfg_clean),
		cmocka_unit_test(test_trusted_clients),
		cmocka_unit_test(test_names),
	};
	int rc;

	if (argc > 1)
		demo_conf = argv[1];
	if (argc > 2)
		gateway_conf = argv[2];
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	free(out_buf);
	return rc;
}
