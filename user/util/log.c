/* log.c — the one logger: timestamped lines to stderr, one write(2) each.
 *
 * Every line is formatted completely into a stack buffer and written with a
 * single write(2), so lines from different threads never interleave (stderr
 * writes up to PIPE_BUF are atomic on pipes; on files and terminals a single
 * write is as good as it gets). libevent's and libbpf's own diagnostics are
 * routed through the same function by log_route_libs(). */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <event2/event.h>
#include <bpf/libbpf.h>
#include "util/log.h"

#define LOG_LINE_MAX 2048

enum log_level log_threshold = LOG_INFO;

static const char *const level_lower[] = { "error", "warn", "info", "debug" };
static const char *const level_upper[] = { "ERROR", "WARN", "INFO", "DEBUG" };

/* Parses "error|warn|info|debug" (exact, lower case) into *out.
 * Returns 0, or -EINVAL and leaves *out alone. */
int log_parse_level(const char *s, enum log_level *out)
{
	for (size_t i = 0; i < sizeof(level_lower) / sizeof(level_lower[0]); i++) {
		if (s && strcmp(s, level_lower[i]) == 0) {
			*out = (enum log_level)i;
			return 0;
		}
	}
	return -EINVAL;
}

/* The lower-case name log_parse_level() accepts, or "?" out of range. */
const char *log_level_name(enum log_level l)
{
	if ((unsigned)l >= sizeof(level_lower) / sizeof(level_lower[0]))
		return "?";
	return level_lower[l];
}

void log_set_level(enum log_level l)
{
	if ((unsigned)l <= LOG_DEBUG)
		__atomic_store_n(&log_threshold, l, __ATOMIC_RELAXED);   /* reloads: read by every thread */
}

/* Formats "TIMESTAMP LEVEL message\n" and writes it with one write(2).
 * A message longer than the buffer is cut and ends in "...". One trailing
 * newline in the message (libraries add them) is dropped. Never fails:
 * a logger has nowhere to report its own errors. */
void log_vmsg(enum log_level l, const char *fmt, va_list ap)
{
	char line[LOG_LINE_MAX];
	struct timespec ts;
	struct tm tm;
	size_t n;
	int r;

	if ((unsigned)l > LOG_DEBUG)
		l = LOG_ERROR;
	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	n = strftime(line, sizeof(line), "%Y-%m-%dT%H:%M:%S", &tm);
	r = snprintf(line + n, sizeof(line) - n, ".%03ldZ %s ",
		     ts.tv_nsec / 1000000L, level_upper[l]);
	if (r > 0)
		n += (size_t)r;

	/* keep 1 byte for '\n' after the message */
	r = vsnprintf(line + n, sizeof(line) - n - 1, fmt, ap);
	if (r < 0) {
		r = 0;
	} else if ((size_t)r >= sizeof(line) - n - 1) {
		n = sizeof(line) - 1;
		memcpy(line + n - 3, "...", 3);
		r = 0;
	}
	n += (size_t)r;
	if (n > 0 && line[n - 1] == '\n')
		n--;
	line[n++] = '\n';

	for (size_t off = 0; off < n;) {
		ssize_t w = write(STDERR_FILENO, line + off, n - off);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return;
		}
		off += (size_t)w;
	}
}

void log_msg(enum log_level l, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vmsg(l, fmt, ap);
	va_end(ap);
}

/* libevent's callback: its severities map one to one onto ours. */
static void log_libevent_cb(int severity, const char *msg)
{
	enum log_level l;

	switch (severity) {
	case EVENT_LOG_DEBUG: l = LOG_DEBUG; break;
	case EVENT_LOG_MSG:   l = LOG_INFO;  break;
	case EVENT_LOG_WARN:  l = LOG_WARN;  break;
	default:              l = LOG_ERROR; break;
	}
	if (log_enabled(l))
		log_msg(l, "[libevent] %s", msg);
}

/* libbpf's print callback. libbpf has no error level: its WARN lines are
 * the failures (load/verify errors), so they stay warnings here. */
static int log_libbpf_cb(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	char buf[LOG_LINE_MAX];
	enum log_level l;

	switch (level) {
	case LIBBPF_WARN: l = LOG_WARN;  break;
	case LIBBPF_INFO: l = LOG_INFO;  break;
	default:          l = LOG_DEBUG; break;
	}
	if (!log_enabled(l))
		return 0;
	vsnprintf(buf, sizeof(buf), fmt, ap);
	log_msg(l, "[libbpf] %s", buf);
	return 0;
}

/* Installs the libevent and libbpf callbacks above. Call once at start-up,
 * before any event_base exists or any BPF object is opened. */
void log_route_libs(void)
{
	event_set_log_callback(log_libevent_cb);
	libbpf_set_print(log_libbpf_cb);
}
