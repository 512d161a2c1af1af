/*
 * test_storm.c - swarm-storm's engine (app/swarm-storm) against the
 * loopback test node (tests/support/udp_server): name patterns, option
 * validation, the histogram, the random order, and real storms with and
 * without datagram loss.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "storm.h"
#include "udp_server.h"

#define ARGV_MAX 32

/* Parses a NULL-terminated list of arguments; returns storm_parse_args(). */
static int
parse(struct storm_cfg *cfg, char *err, size_t errlen, ...)
{
	char *argv[ARGV_MAX];
	int argc = 0;
	va_list ap;
	char *a;

	argv[argc++] = (char *)"swarm-storm";
	va_start(ap, errlen);
	while ((a = va_arg(ap, char *)) != NULL && argc < ARGV_MAX - 1)
		argv[argc++] = a;
	va_end(ap);
	argv[argc] = NULL;
	err[0] = '\0';
	return storm_parse_args(cfg, argc, argv, err, errlen);
}

static void
expect_name(const char *pattern, uint64_t n, const char *want)
{
	struct storm_pattern p;
	char err[256], buf[STORM_NAME_BUF];
	size_t len;

	assert_int_equal(storm_pattern_parse(&p, pattern, err, sizeof(err)), 0);
	len = storm_pattern_format(&p, n, buf);
	assert_string_equal(buf, want);
	assert_int_equal(len, strlen(want));
}

static void
expect_bad_pattern(const char *pattern, const char *why)
{
	struct storm_pattern p;
	char err[256] = "";

	assert_int_equal(storm_pattern_parse(&p, pattern, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "--pattern"));
	assert_non_null(strstr(err, why));
}

static void
test_pattern(void **state)
{
	(void)state;
	expect_name("dev-%08u", 42, "dev-00000042");
	expect_name("dev-%08u", 123456789, "dev-123456789");
	expect_name("%u", 0, "0");
	expect_name("%d/x", 18446744073709551615ull, "18446744073709551615/x");
	expect_name("gw-%x", 255, "gw-ff");
	expect_name("gw-%04X!", 255, "gw-00FF!");
	expect_name("[%5u]", 7, "[    7]");
	expect_name("[%-5u]", 7, "[7    ]");
	expect_name("[%-05u]", 7, "[7    ]");
	expect_name("100%%-%u-%%", 3, "100%-3-%");

	expect_bad_pattern("dev-%u-%u", "more than one");
	expect_bad_pattern("dev-%s", "unsupported conversion '%s'");
	expect_bad_pattern("dev-%n", "unsupported conversion");
	expect_bad_pattern("dev-%lu", "unsupported conversion");
	expect_bad_pattern("dev-%.3u", "unsupported conversion");
	expect_bad_pattern("dev-%*u", "unsupported conversion");
	expect_bad_pattern("device", "no conversion");
	expect_bad_pattern("100%%", "no conversion");
	expect_bad_pattern("", "no conversion");
	expect_bad_pattern("dev-%", "ends inside");
	expect_bad_pattern("dev-%08", "ends inside");
	expect_bad_pattern("dev-%9999u", "width");
}

static void
expect_usage(const char *opt, ...)
{
	struct storm_cfg cfg;
	char err[512];
	char *argv[ARGV_MAX];
	int argc = 0;
	va_list ap;
	char *a;

	argv[argc++] = (char *)"swarm-storm";
	va_start(ap, opt);
	while ((a = va_arg(ap, char *)) != NULL && argc < ARGV_MAX - 1)
		argv[argc++] = a;
	va_end(ap);
	argv[argc] = NULL;
	err[0] = '\0';
	assert_int_equal(storm_parse_args(&cfg, argc, argv, err, sizeof(err)),
			 -1);
	if (strstr(err, opt) == NULL)
		fail_msg("message '%s' does not name '%s'", err, opt);
}

static char long_pattern[300];

static void
test_options(void **state)
{
	struct storm_cfg cfg;
	char err[512];

	(void)state;
	/* Defaults and a full valid line. */
	assert_int_equal(parse(&cfg, err, sizeof(err), "register", NULL), 0);
	assert_int_equal(cfg.mode, STORM_REGISTER);
	assert_true(cfg.verify);
	assert_int_equal(cfg.batch, 16);
	assert_int_equal(parse(&cfg, err, sizeof(err), "-s", "127.0.0.1:9",
			       "lookup", "--names", "200k", "--rate", "5k",
			       "--batch", "64", "--window", "8", "--order",
			       "random", "--expect", "not_found", "--quiet",
			       "--json", "--sockets", "4", NULL), 0);
	assert_int_equal(cfg.mode, STORM_LOOKUP);
	assert_int_equal(cfg.names, 200000);
	assert_int_equal(cfg.rate, 5000);
	assert_int_equal(cfg.expect, PROTO_ST_NOT_FOUND);
	assert_false(cfg.verify);
	assert_int_equal(parse(&cfg, err, sizeof(err), "--help", NULL), 1);

	/* Every bad value names its option. */
	expect_usage("--pattern", "register", "--pattern", "a%ub%u", NULL);
	expect_usage("--pattern", "register", "--pattern", "a%s", NULL);
	expect_usage("--pattern", "register", "--pattern", "abc", NULL);
	expect_usage("--rate", "register", "--rate", "0", NULL);
	expect_usage("--rate", "register", "--rate", "-5", NULL);
	expect_usage("--rate", "register", "--rate", "fast", NULL);
	expect_usage("--batch", "register", "--batch", "0", NULL);
	expect_usage("--batch", "register", "--batch", "65", NULL);
	expect_usage("--window", "register", "--window", "0", NULL);
	expect_usage("--names", "register", "--names", "0", NULL);
	expect_usage("--names", "register", "--names", "12x", NULL);
	expect_usage("--meta", "register", "--meta", "256", NULL);
	expect_usage("--timeout", "register", "--timeout", "0", NULL);
	expect_usage("--retries", "register", "--retries", "101", NULL);
	expect_usage("--sockets", "register", "--sockets", "65", NULL);
	expect_usage("--order", "register", "--order", "sideways", NULL);
	expect_usage("--expect", "lookup", "--expect", "fine", NULL);
	expect_usage("--expect", "register", "--expect", "ok", NULL);
	expect_usage("--no-verify", "verify", "--no-verify", NULL);
	expect_usage("--server", "-s", "localhost", "register", NULL);
	expect_usage("--server", "-s", "127.0.0.1:0", "register", NULL);
	expect_usage("--server", "-s", "127.0.0.1:70000", "register", NULL);
	expect_usage("--names", "register", "--names", NULL);
	expect_usage("--bogus", "register", "--bogus", NULL);
	expect_usage("mode", "--names", "5", NULL);
	expect_usage("mode", "unregister", NULL);
	expect_usage("--start", "register", "--start", "18446744073709551615",
		     "--names", "2", NULL);

	/* K ops of the chosen sizes must fit the 1472-byte datagram. */
	expect_usage("--batch", "register", "--batch", "64", "--meta", "20",
		     NULL);
	memset(long_pattern, 'n', 200);
	memcpy(long_pattern + 200, "%u", 3);
	expect_usage("--batch", "register", "--batch", "8", "--no-verify",
		     "--pattern", long_pattern, NULL);
	expect_usage("--batch", "lookup", "--batch", "8", "--pattern",
		     long_pattern, NULL);
	/* ... and the answers to K lookups the node's reply budget (64
	 * entries of 310 bytes need 16 datagrams, the budget is 13). */
	expect_usage("budget", "lookup", "--batch", "64", "--meta", "255",
		     NULL);
	/* Names must stay within 255 bytes up to the last one. */
	memset(long_pattern, 'n', 250);
	memcpy(long_pattern + 250, "%06u", 5);
	expect_usage("--pattern", "register", "--batch", "1", "--pattern",
		     long_pattern, NULL);
	assert_int_equal(parse(&cfg, err, sizeof(err), "register", "--batch",
			       "1", "--pattern", "a%08u", "--meta", "255",
			       NULL), 0);
}

static void
test_hist(void **state)
{
	static struct storm_hist h;
	uint64_t v, q;

	(void)state;
	memset(&h, 0, sizeof(h));
	assert_int_equal(storm_hist_quantile(&h, 0.5), 0);
	for (v = 1; v <= 1000000; v++)
		storm_hist_add(&h, v * 1000);	/* 1 us .. 1 s */
	q = storm_hist_quantile(&h, 0.5);
	assert_true(q > 500000000ull * 97 / 100 && q < 500000000ull * 103 / 100);
	q = storm_hist_quantile(&h, 0.999);
	assert_true(q > 999000000ull * 97 / 100 && q <= 1000000000ull);
	assert_int_equal(h.max, 1000000000ull);
	assert_int_equal(storm_hist_quantile(&h, 1.0), 1000000000ull);
	storm_hist_add(&h, 0);
	storm_hist_add(&h, UINT64_MAX);
	assert_int_equal(h.max, UINT64_MAX);
}

static void
test_random_order(void **state)
{
	struct storm_cfg cfg;
	uint8_t seen[1000] = { 0 };
	uint64_t j, n, moved = 0;

	(void)state;
	storm_cfg_defaults(&cfg);
	cfg.names = 1000;
	cfg.start = 5000;
	cfg.order = STORM_RANDOM;
	for (j = 0; j < cfg.names; j++) {
		n = storm_name_number(&cfg, j);
		assert_true(n >= 5000 && n < 6000);
		assert_int_equal(seen[n - 5000]++, 0);
		moved += n != 5000 + j;
	}
	assert_true(moved > 900);
	cfg.order = STORM_SEQUENTIAL;
	assert_int_equal(storm_name_number(&cfg, 17), 5017);
	assert_int_not_equal(storm_handle(1), storm_handle(2));
}

/* --- storms against the loopback node --- */

static struct storm_report rep;

static int
run_storm(uint32_t drop_every, uint64_t *requests, ...)
{
	struct udp_server *srv;
	struct storm_cfg cfg;
	char server[64], err[512];
	char *argv[ARGV_MAX];
	int argc = 0;
	uint16_t port;
	va_list ap;
	char *a;

	srv = udp_server_start(&port, drop_every);
	assert_non_null(srv);
	snprintf(server, sizeof(server), "127.0.0.1:%u", port);
	argv[argc++] = (char *)"swarm-storm";
	argv[argc++] = (char *)"-s";
	argv[argc++] = server;
	argv[argc++] = (char *)"--quiet";
	va_start(ap, requests);
	while ((a = va_arg(ap, char *)) != NULL && argc < ARGV_MAX - 1)
		argv[argc++] = a;
	va_end(ap);
	argv[argc] = NULL;
	if (storm_parse_args(&cfg, argc, argv, err, sizeof(err)) != 0)
		fail_msg("parse: %s", err);
	if (storm_run(&cfg, &rep, NULL, err, sizeof(err)) != 0)
		fail_msg("run: %s", err);
	storm_report_text(stdout, &cfg, &rep);
	if (requests)
		*requests = udp_server_requests(srv);
	udp_server_stop(srv);
	return storm_exit_code(&rep);
}

static void
test_storm_register(void **state)
{
	uint64_t requests;

	(void)state;
	assert_int_equal(run_storm(0, &requests, "register", "--names", "20000",
				   "--batch", "16", "--window", "64", "--meta",
				   "8", "--ttl", "600000", NULL), 0);
	assert_int_equal(rep.main.status[PROTO_ST_OK], 20000);
	assert_int_equal(rep.main.lost, 0);
	assert_int_equal(rep.main.lat.count, 20000);
	assert_true(rep.has_verify);
	assert_int_equal(rep.verify.correct, 20000);
	assert_int_equal(rep.verify.wrong, 0);
	assert_int_equal(rep.verify.lost, 0);
	/* 1250 + 1250 datagrams, more only if the kernel dropped some. */
	assert_int_equal(rep.main.first_sent, 20000);
	assert_true(rep.main.dgrams_sent >= 1250);
	assert_true(requests <= rep.main.dgrams_sent + rep.verify.dgrams_sent);
}

static void
test_storm_drops(void **state)
{
	(void)state;
	assert_int_equal(run_storm(7, NULL, "register", "--names", "20000",
				   "--batch", "16", "--window", "64",
				   "--timeout", "20", "--retries", "8",
				   "--sockets", "3", NULL), 0);
	assert_true(rep.main.retransmits > 0);
	assert_true(rep.verify.retransmits > 0);
	assert_int_equal(rep.main.lost, 0);
	assert_int_equal(rep.main.status[PROTO_ST_OK], 20000);
	assert_int_equal(rep.verify.correct, 20000);
	assert_int_equal(rep.verify.lost, 0);
}

static void
test_storm_random_lookup(void **state)
{
	(void)state;
	/* Register, then look up in random order with a rate limit. */
	assert_int_equal(run_storm(0, NULL, "register", "--names", "3000",
				   "--pattern", "gw-%x/sensor", "--start",
				   "4096", "--batch", "32", "--rate", "100k",
				   "--order", "random", NULL), 0);
	assert_int_equal(rep.verify.correct, 3000);
}

static void
test_storm_unknown(void **state)
{
	(void)state;
	/* Nothing registered: every lookup is not_found, which is a failure
	 * when ok is expected... */
	assert_int_equal(run_storm(0, NULL, "lookup", "--names", "5000",
				   "--pattern", "nope-%u", "--order", "random",
				   NULL), 1);
	assert_int_equal(rep.main.status[PROTO_ST_NOT_FOUND], 5000);
	assert_int_equal(rep.main.status[PROTO_ST_OK], 0);
	assert_int_equal(rep.main.lost, 0);
	assert_false(rep.has_verify);
	/* ...and a pass when it is what was asked for. */
	assert_int_equal(run_storm(0, NULL, "lookup", "--names", "5000",
				   "--pattern", "nope-%u", "--expect",
				   "not_found", NULL), 0);
	/* verify of names nobody registered fails too. */
	assert_int_equal(run_storm(0, NULL, "verify", "--names", "100", NULL),
			 1);
	assert_int_equal(rep.main.correct, 0);
}

/*
 * A node that pushes back: every 5th request is refused as a whole with
 * overloaded (retry after 1 ms); in the others op 0 of a datagram of
 * several ops is answered overloaded (hint 0 or 2 ms, alternately) and
 * every other op ok. So every slot needs at least one overloaded resend.
 */
struct pushy {
	int fd;
	volatile int stop;
	uint64_t requests;
	pthread_t tid;
};

static void *
pushy_serve(void *arg)
{
	struct pushy *p = arg;
	struct pollfd pfd = { .fd = p->fd, .events = POLLIN };
	uint8_t in[2048], out[PROTO_MAX_DGRAM];

	while (!p->stop) {
		struct sockaddr_storage from;
		socklen_t flen = sizeof(from);
		struct proto_receipt rc = { .node = 1, .ver = { 1, 1 } };
		struct proto_enc enc;
		struct proto_req req;
		struct proto_op op;
		ssize_t n;

		if (poll(&pfd, 1, 20) <= 0)
			continue;
		n = recvfrom(p->fd, in, sizeof(in), 0, (struct sockaddr *)&from,
			     &flen);
		if (n < 0 || proto_req_parse(&req, in, (size_t)n) != 0)
			continue;
		proto_rep_init(&enc, out, sizeof(out), req.req_id);
		if (++p->requests % 5 == 0) {
			proto_rep_add_overloaded(&enc, PROTO_INDEX_DGRAM, 0, 1);
		} else {
			while (proto_req_next_op(&req, &op) == 0) {
				if (op.index == 0 && req.nops > 1)
					proto_rep_add_overloaded(&enc, 0, op.opcode,
						p->requests % 2 ? 2 : 0);
				else
					proto_rep_add_receipt(&enc, op.index, &rc);
			}
		}
		sendto(p->fd, out, proto_enc_finish(&enc), 0,
		       (struct sockaddr *)&from, flen);
	}
	return NULL;
}

static void
test_storm_overloaded(void **state)
{
	struct sockaddr_in a = { .sin_family = AF_INET,
				 .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t alen = sizeof(a);
	struct pushy p = { .fd = socket(AF_INET, SOCK_DGRAM, 0) };
	struct storm_cfg cfg;
	char server[64], err[512];

	(void)state;
	assert_true(p.fd >= 0);
	assert_int_equal(bind(p.fd, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(getsockname(p.fd, (struct sockaddr *)&a, &alen), 0);
	assert_int_equal(pthread_create(&p.tid, NULL, pushy_serve, &p), 0);
	snprintf(server, sizeof(server), "127.0.0.1:%u", ntohs(a.sin_port));
	assert_int_equal(parse(&cfg, err, sizeof(err), "-s", server, "--quiet",
			       "register", "--no-verify", "--names", "400",
			       "--batch", "4", "--window", "16", NULL), 0);
	assert_int_equal(storm_run(&cfg, &rep, NULL, err, sizeof(err)), 0);
	p.stop = 1;
	pthread_join(p.tid, NULL);
	close(p.fd);
	storm_report_text(stdout, &cfg, &rep);
	assert_int_equal(storm_exit_code(&rep), 0);
	assert_int_equal(rep.main.status[PROTO_ST_OK], 400);
	assert_int_equal(rep.main.lost, 0);
	assert_int_equal(rep.main.retransmits, 0);
	/* At least one round per slot of 4 ops, plus the refused datagrams. */
	assert_true(rep.main.overload_resends >= 100);
	assert_true(rep.main.overloaded >= 100);
	assert_int_equal(rep.main.dgrams_sent, p.requests);
}

static void
test_storm_no_server(void **state)
{
	struct storm_cfg cfg;
	char err[512];
	int rc;

	(void)state;
	/* Nobody listens on port 9 of loopback: everything is lost. */
	rc = parse(&cfg, err, sizeof(err), "-s", "127.0.0.1:9", "--quiet",
		   "lookup", "--names", "40", "--batch", "4", "--timeout", "5",
		   "--retries", "2", NULL);
	assert_int_equal(rc, 0);
	assert_int_equal(storm_run(&cfg, &rep, NULL, err, sizeof(err)), 0);
	assert_int_equal(rep.main.lost, 40);
	assert_int_equal(rep.main.retransmits, 20);
	assert_int_equal(storm_exit_code(&rep), 1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pattern),
		cmocka_unit_test(test_options),
		cmocka_unit_test(test_hist),
		cmocka_unit_test(test_random_order),
		cmocka_unit_test(test_storm_register),
		cmocka_unit_test(test_storm_drops),
		cmocka_unit_test(test_storm_random_lookup),
		cmocka_unit_test(test_storm_unknown),
		cmocka_unit_test(test_storm_overloaded),
		cmocka_unit_test(test_storm_no_server),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
