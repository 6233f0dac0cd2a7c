/* config.h — shunt's configuration: the INI file (parsed with libinih),
 * the command line, defaults and validation.
 *
 * Precedence: defaults < config file < command-line flags. Everything the
 * daemon reads at run time comes from a struct shunt_config built here;
 * the daemon never looks at argv or the file itself. */
#ifndef SHUNT_CONFIG_H
#define SHUNT_CONFIG_H

#include <stdio.h>

#include "core/config_types.h"

/* Sends the messages of the config_* functions to f instead of stderr
 * (NULL: back to stderr). Not thread-safe: start-up and the control
 * thread's reloads never run at the same time. */
void config_set_error_stream(FILE *f);

/* Fills every default; no listeners, pools or users. */
void config_init(struct shunt_config *cfg);
/* Frees everything config_* allocated; safe on an initialised or zeroed cfg. */
void config_free(struct shunt_config *cfg);

/* Parses argv (see docs/configuration.md) into cfg, loading -c FILE first so
 * that flags override it, then validates the result. Every problem is
 * printed to stderr as "FILE:LINE: message" or "shunt: message".
 * Returns 0, 1 for --help/--version (already printed), or -EINVAL. */
int config_from_args(struct shunt_config *cfg, int argc, char **argv);

/* Loads an INI file into cfg (merging with what is there). Returns the number
 * of errors found (each printed with file and line), or -errno if the file
 * cannot be opened. Unknown sections and keys are errors. */
int config_load_file(struct shunt_config *cfg, const char *path);

/* Checks cross-references (listener -> pool), duplicates and emptiness, and
 * adds the default listener 127.0.0.1:6033 -> pool "default" when there is
 * none. Returns the number of errors (printed). */
int config_validate(struct shunt_config *cfg);

struct cfg_pool *config_find_pool(struct shunt_config *cfg, const char *name);
const struct cfg_user *config_find_user(const struct shunt_config *cfg,
				       const char *name, size_t len);

#endif
