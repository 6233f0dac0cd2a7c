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

/* Copies msg (len bytes) into out (room bytes), each control byte (below
 * 0x20, and 0x7f) written as \xNN, so that bytes from a client, a backend
 * or a file can never start a line of their own or drive a terminal.
 * A message that does not fit is cut and ends in "...". Returns the bytes
 * written. */
static size_t put_escaped(char *out, size_t room, const char *msg, size_t len)
{
	static const char hex[] = "0123456789abcdef";
	size_t n = 0;

	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)msg[i];
		size_t need = c < 0x20 || c == 0x7f ? 4 : 1;
		if (n + need + 3 > room) {
			memcpy(out + n, "...", 3);
			return n + 3;
		}
		if (need == 1) {
			out[n++] = (char)c;
		} else {
			out[n++] = '\\';
			out[n++] = 'x';
			out[n++] = hex[c >> 4];
			out[n++] = hex[c & 15];
		}
	}
	return n;
}

/* Formats "TIMESTAMP LEVEL message\n" and writes it with one write(2).
 * The message is escaped (put_escaped): one log line per call, whatever
 * its arguments hold. A message longer than the buffer is cut and ends in
 * "...". One trailing newline in the message (libraries add them) is
 * dropped. Never fails: a logger has nowhere to report its own errors. */
void log_vmsg(enum log_level l, const char *fmt, va_list ap)
{
	char line[LOG_LINE_MAX], msg[LOG_LINE_MAX];
	struct timespec ts;
	struct tm tm;
	size_t n, mlen;
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

	r = vsnprintf(msg, sizeof(msg), fmt, ap);
	mlen = r < 0 ? 0 : (size_t)r < sizeof(msg) ? (size_t)r : sizeof(msg) - 1;
	if (mlen > 0 && msg[mlen - 1] == '\n')
		mlen--;
	/* keep 1 byte for '\n' after the message */
	n += put_escaped(line + n, sizeof(line) - n - 1, msg, mlen);
	if ((size_t)r >= sizeof(msg) && memcmp(line + n - 3, "...", 3) != 0 && n + 3 < sizeof(line))
		memcpy(line + n, "...", 3), n += 3;
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
	/* The verifier's log comes as one multi-line message: a log line per
	   line of it (each escaped like any other). */
	for (char *line = buf, *nl; *line; line = nl + 1) {
		nl = strchr(line, '\n');
		if (nl)
			*nl = '\0';
		if (*line)
			log_msg(l, "[libbpf] %s", line);
		if (!nl)
			break;
	}
	return 0;
}

/* Installs the libevent and libbpf callbacks above. Call once at start-up,
 * before any event_base exists or any BPF object is opened. */
void log_route_libs(void)
{
	event_set_log_callback(log_libevent_cb);
	libbpf_set_print(log_libbpf_cb);
}
