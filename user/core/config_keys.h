/* config_keys.h — every configuration key in one table (config_keys.c):
 * its section, name, value syntax and range, default, whether a reload
 * can change it, the command-line flag that overrides it, and its
 * documentation. The file parser, the flags, config_init's defaults,
 * --help and --help-config, the reload's restart-only check and the key
 * tables of docs/configuration.md (generated: make docs) all read it. */
#ifndef SHUNT_CONFIG_KEYS_H
#define SHUNT_CONFIG_KEYS_H

#include <stddef.h>
#include <stdio.h>
#include "core/config_types.h"

enum cfg_sect { CFG_SECT_GLOBAL = 0, CFG_SECT_LISTENER, CFG_SECT_POOL, CFG_SECT_USER,
		CFG_SECT__COUNT };

enum cfg_type {
	CK_UINT,        /* unsigned, decimal, in [min, max] */
	CK_SIZE,        /* size_t, decimal with an optional k or m suffix */
	CK_DECIMAL,     /* double, a plain decimal in [dmin, dmax] */
	CK_ON_OFF,      /* int: on = 1, off = 0 */
	CK_ENUM,        /* an enum, one of choices[] */
	CK_TEXT,        /* char[size], accepted by check() */
	CK_CUSTOM,      /* set() does it all */
};

/* Whether a running shunt can change the key on a reload. */
enum cfg_apply { CK_RELOAD, CK_RESTART };

struct cfg_choice {
	const char *name;
	int value;
};

struct cfg_key {
	enum cfg_sect sect;
	const char *name;
	enum cfg_type type;
	size_t offset, size;            /* the field in the section's object */
	unsigned long long min, max;    /* CK_UINT, CK_SIZE */
	double dmin, dmax;              /* CK_DECIMAL */
	const struct cfg_choice *choices; /* CK_ENUM, NULL-name terminated */
	/* CK_TEXT: NULL when v is acceptable, else what is expected. */
	const char *(*check)(const char *v, size_t size);
	/* CK_CUSTOM: parses v into obj. 0, or -EINVAL with err filled (the
	   reason starting with the quoted value). */
	int (*set)(void *obj, const char *v, char *err, size_t errsz);
	/* CK_CUSTOM + CK_RESTART: whether a and b agree on the key. */
	int (*same)(const struct shunt_config *a, const struct shunt_config *b);
	const char *syntax;             /* CK_TEXT / CK_CUSTOM: e.g. "HOST:PORT|off" */
	const char *def;                /* the default as a value (NULL: none) */
	enum cfg_apply apply;
	int repeat;                     /* may be given more than once */
	int required;                   /* the section needs it */
	int has_given;                  /* given_offset is an int set to 1 when
					   the file or a flag sets the key */
	size_t given_offset;
	const char *flag;               /* "fastpath": --fastpath overrides it */
	const char *help;               /* one line, for --help */
	const char *doc;                /* markdown, for docs and --help-config */
};

/* The table, terminated by a NULL name. */
extern const struct cfg_key cfg_keys[];
/* Number of keys in the table. */
size_t cfg_key_count(void);
/* "global", "listener", "pool", "user". */
const char *cfg_sect_name(enum cfg_sect s);

/* The key NAME of section s, or NULL. */
const struct cfg_key *cfg_key_find(enum cfg_sect s, const char *name);
/* The key's index among its section's keys (for "seen" bits). */
int cfg_key_slot(const struct cfg_key *k);

/* Parses v into the key's field of obj (struct shunt_config for
 * [global], else the section's struct) and marks the key given. 0, or
 * -EINVAL with err filled; obj is unchanged on failure. */
int cfg_key_set(const struct cfg_key *k, void *obj, const char *v, char *err, size_t errsz);

/* Sets every [global] default from the table (cfg zeroed first). Returns
 * 0, or -EINVAL naming the key whose default does not parse (a bug). */
int cfg_keys_defaults(struct shunt_config *cfg, char *err, size_t errsz);

/* The first [global] key a reload cannot change on which a and b differ,
 * or NULL. (Listeners and pools, which are sections, the caller checks.) */
const char *cfg_keys_restart_change(const struct shunt_config *a, const struct shunt_config *b);

/* Prints the reference of every key: plain text, or the markdown tables
 * of docs/configuration.md. */
void cfg_keys_print(FILE *f, int markdown);

#endif
