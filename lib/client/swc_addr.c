/*
 * swc_addr.c - server addresses ("host:port") and endpoints ("ip:port").
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "swc.h"

static int
parse_port(const char *s, uint16_t *port)
{
	unsigned long v = 0;
	const char *p;

	if (*s == '\0' || strlen(s) > 5)
		return SWC_EINVAL;
	for (p = s; *p; p++) {
		if (*p < '0' || *p > '9')
			return SWC_EINVAL;
		v = v * 10 + (unsigned long)(*p - '0');
	}
	if (v < 1 || v > 65535)
		return SWC_EINVAL;
	*port = (uint16_t)v;
	return 0;
}

int
swc_parse_hostport(const char *s, char *host, size_t hostlen, uint16_t *port)
{
	const char *colon, *end;
	size_t hl;

	if (s == NULL || *s == '\0')
		return SWC_EINVAL;
	*port = SWC_DEFAULT_PORT;
	if (s[0] == '[') {
		end = strchr(s, ']');
		if (end == NULL)
			return SWC_EINVAL;
		hl = (size_t)(end - s - 1);
		if (end[1] != '\0') {
			if (end[1] != ':' || parse_port(end + 2, port) != 0)
				return SWC_EINVAL;
		}
		s++;
	} else {
		colon = strchr(s, ':');
		if (colon != NULL && strchr(colon + 1, ':') == NULL) {
			hl = (size_t)(colon - s);
			if (parse_port(colon + 1, port) != 0)
				return SWC_EINVAL;
		} else {
			hl = strlen(s);	/* no port, or a bare IPv6 literal */
		}
	}
	if (hl == 0 || hl >= hostlen)
		return SWC_EINVAL;
	memcpy(host, s, hl);
	host[hl] = '\0';
	return 0;
}

int
swc_endpoint_parse(const char *s, struct proto_endpoint *ep)
{
	char host[INET6_ADDRSTRLEN + 1];
	uint16_t port;
	const char *colon;

	memset(ep, 0, sizeof(*ep));
	if (s == NULL)
		return SWC_EINVAL;
	if (strcmp(s, "none") == 0)
		return 0;
	/* The port is required: refuse what swc_parse_hostport defaults. */
	if (s[0] == '[') {
		colon = strstr(s, "]:");
		if (colon == NULL)
			return SWC_EINVAL;
	} else if (strchr(s, ':') == NULL || strchr(s, ':') != strrchr(s, ':')) {
		return SWC_EINVAL;
	}
	if (swc_parse_hostport(s, host, sizeof(host), &port) != 0)
		return SWC_EINVAL;
	if (s[0] == '[') {
		if (inet_pton(AF_INET6, host, ep->addr) != 1)
			return SWC_EINVAL;
		ep->family = PROTO_AF_IPV6;
	} else {
		if (inet_pton(AF_INET, host, ep->addr) != 1)
			return SWC_EINVAL;
		ep->family = PROTO_AF_IPV4;
	}
	ep->port = port;
	return 0;
}

char *
swc_endpoint_format(const struct proto_endpoint *ep, char *buf, size_t len)
{
	char a[INET6_ADDRSTRLEN];

	if (len == 0)
		return buf;
	switch (ep->family) {
	case PROTO_AF_IPV4:
		inet_ntop(AF_INET, ep->addr, a, sizeof(a));
		snprintf(buf, len, "%s:%u", a, ep->port);
		break;
	case PROTO_AF_IPV6:
		inet_ntop(AF_INET6, ep->addr, a, sizeof(a));
		snprintf(buf, len, "[%s]:%u", a, ep->port);
		break;
	case PROTO_AF_NONE:
		snprintf(buf, len, "none");
		break;
	default:
		snprintf(buf, len, "family-%u", ep->family);
		break;
	}
	return buf;
}

const char *
swc_strerror(int code)
{
	if (code >= 0)
		return proto_status_name((unsigned int)code);
	switch (code) {
	case SWC_EINVAL:	return "invalid argument";
	case SWC_ETIMEDOUT:	return "no answer";
	case SWC_ESOCKET:	return "socket error";
	case SWC_ENOMEM:	return "out of memory";
	case SWC_ERESOLVE:	return "cannot resolve server address";
	case SWC_EBADREPLY:	return "malformed reply";
	case SWC_ENOANSWER:	return "no answer";
	case SWC_ECANCELED:	return "canceled";
	default:		return "unknown error";
	}
}
