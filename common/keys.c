/* keys.c - the one module that builds key names (see wfp/keys.h). */
#include "wfp/keys.h"

#include <stdarg.h>
#include <stdio.h>

/* Formats tag followed by the printf-style suffix. */
static struct wfp_key key_fmt(const char *tag, const char *fmt, ...)
{
	struct wfp_key k;
	va_list ap;
	int n = snprintf(k.s, sizeof(k.s), "%s:", tag);

	va_start(ap, fmt);
	if (n > 0 && (size_t)n < sizeof(k.s))
		vsnprintf(k.s + n, sizeof(k.s) - (size_t)n, fmt, ap);
	va_end(ap);
	return k;
}

struct wfp_key wfp_key_job(const char *tag, const char *id)
{
	return key_fmt(tag, "job:%s", id);
}

struct wfp_key wfp_key_deliveries(const char *tag, const char *id)
{
	return key_fmt(tag, "job:%s:deliveries", id);
}

struct wfp_key wfp_key_log(const char *tag, const char *id)
{
	return key_fmt(tag, "job:%s:log", id);
}

struct wfp_key wfp_key_index(const char *tag, const char *state)
{
	return key_fmt(tag, "jobs:%s", state);
}

struct wfp_key wfp_key_job_stream(const char *tag)
{
	return key_fmt(tag, "jobs:stream");
}

struct wfp_key wfp_key_leases(const char *tag)
{
	return key_fmt(tag, "jobs:leases");
}

struct wfp_key wfp_key_owners(const char *tag)
{
	return key_fmt(tag, "owners");
}

struct wfp_key wfp_key_deadletter(const char *tag)
{
	return key_fmt(tag, "deadletter");
}

struct wfp_key wfp_key_events(const char *tag)
{
	return key_fmt(tag, "events");
}

struct wfp_key wfp_key_idem(const char *tag, const char *key)
{
	return key_fmt(tag, "idem:%s", key);
}

struct wfp_key wfp_key_requests(const char *tag, const char *service)
{
	return key_fmt(tag, "svc:%s:requests", service);
}

struct wfp_key wfp_key_executor_info(const char *tag, const char *name)
{
	return key_fmt(tag, "svc:executor:info:%s", name);
}

struct wfp_key wfp_key_replicas(const char *tag, const char *service)
{
	return key_fmt(tag, "svc:%s:replicas", service);
}

struct wfp_key wfp_key_done(const char *tag, const char *service,
			    const char *entry)
{
	return key_fmt(tag, "svc:%s:done:%s", service, entry);
}

struct wfp_key wfp_key_waiter(const char *tag, const char *token)
{
	return key_fmt(tag, "waiter:%s", token);
}

struct wfp_key wfp_key_locks_seq(const char *tag)
{
	return key_fmt(tag, "locks:seq");
}

struct wfp_key wfp_key_reply(const char *tag, const char *nonce)
{
	return key_fmt(tag, "reply:%s", nonce);
}

struct wfp_key wfp_key_lock(const char *tag, const char *name)
{
	return key_fmt(tag, "lock:%s", name);
}

struct wfp_key wfp_key_lockinfo(const char *tag, const char *name)
{
	return key_fmt(tag, "lockinfo:%s", name);
}

struct wfp_key wfp_key_lockfence(const char *tag, const char *name)
{
	return key_fmt(tag, "lockfence:%s", name);
}

struct wfp_key wfp_key_lockq(const char *tag, const char *name)
{
	return key_fmt(tag, "lockq:%s", name);
}

struct wfp_key wfp_key_locks_held(const char *tag)
{
	return key_fmt(tag, "locks:held");
}

struct wfp_key wfp_key_locks_waiters(const char *tag)
{
	return key_fmt(tag, "locks:waiters");
}

struct wfp_key wfp_key_fence(const char *tag, const char *resource)
{
	return key_fmt(tag, "fence:%s", resource);
}

struct wfp_key wfp_key_pool(const char *tag, const char *name)
{
	return key_fmt(tag, "pool:%s", name);
}

struct wfp_key wfp_key_pools(const char *tag)
{
	return key_fmt(tag, "pools");
}

struct wfp_key wfp_key_poolrsv(const char *tag, const char *name)
{
	return key_fmt(tag, "poolrsv:%s", name);
}

struct wfp_key wfp_key_rsv(const char *tag, const char *id)
{
	return key_fmt(tag, "rsv:%s", id);
}

struct wfp_key wfp_key_rsvs(const char *tag, const char *state)
{
	return key_fmt(tag, "rsvs:%s", state);
}

struct wfp_key wfp_key_rsv_expiry(const char *tag)
{
	return key_fmt(tag, "svc:reservation:expiry");
}

struct wfp_key wfp_key_rsv_jobs(const char *tag)
{
	return key_fmt(tag, "svc:reservation:jobs");
}

struct wfp_key wfp_key_rsv_open(const char *tag)
{
	return key_fmt(tag, "svc:reservation:open");
}
