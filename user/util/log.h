/* log.h — the one logger.
 *
 * Lines go to stderr as "2026-11-21T13:01:02.345Z LEVEL [component] message".
 * Session lines use log_sess(), which prefixes the shunt connection id, the
 * client address and the backend ("conn=12 client=127.0.0.1:5500
 * backend=127.0.0.1:3306"). libevent and libbpf messages are routed here
 * too (log_route_libs()). Thread-safe: one write(2) per line. Every
 * message is escaped: control bytes (a newline in a user name, a terminal
 * escape in a backend's error) are written as \xNN, so a line is always
 * one line. */
#ifndef SHUNT_LOG_H
#define SHUNT_LOG_H

#include <stdarg.h>

enum log_level { LOG_ERROR = 0, LOG_WARN, LOG_INFO, LOG_DEBUG };

extern enum log_level log_threshold;

/* Parses "error|warn|info|debug"; returns 0 or -EINVAL. */
int log_parse_level(const char *s, enum log_level *out);
const char *log_level_name(enum log_level l);
void log_set_level(enum log_level l);
/* Sends libevent's (and, once loaded, libbpf's) own messages to this logger. */
void log_route_libs(void);

void log_msg(enum log_level l, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void log_vmsg(enum log_level l, const char *fmt, va_list ap);

#define log_enabled(l) ((int)(l) <= (int)__atomic_load_n(&log_threshold, __ATOMIC_RELAXED))
#define pr_err(...)   do { if (log_enabled(LOG_ERROR)) log_msg(LOG_ERROR, __VA_ARGS__); } while (0)
#define pr_warn(...)  do { if (log_enabled(LOG_WARN))  log_msg(LOG_WARN,  __VA_ARGS__); } while (0)
#define pr_info(...)  do { if (log_enabled(LOG_INFO))  log_msg(LOG_INFO,  __VA_ARGS__); } while (0)
#define pr_debug(...) do { if (log_enabled(LOG_DEBUG)) log_msg(LOG_DEBUG, __VA_ARGS__); } while (0)

#endif
