/*
 * test_net.c - cmocka tests of lib/net (the packet layer), run without the
 * EAL: classification, frame builders and parsers, in three groups.
 */
#include "net_frames.h"

int
main(void)
{
	int failed = 0;

	failed += net_tests_classify();
	failed += net_tests_reply();
	failed += net_tests_parse();
	failed += net_tests_neigh();
	return failed == 0 ? 0 : 1;
}
