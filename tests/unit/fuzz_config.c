/* fuzz_config.c — libFuzzer target for the configuration parser: any
 * bytes as the file given with -c (read as start-up and every reload
 * read it). A file is either refused with messages or accepted, and
 * freeing what it built leaves nothing behind (ASan's leak check). */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include "core/config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static FILE *devnull;
	struct shunt_config cfg;
	char path[64];
	int fd = memfd_create("fuzz.ini", 0);

	if (fd < 0)
		return 0;
	if (write(fd, data, size) != (ssize_t)size) {
		close(fd);
		return 0;
	}
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	if (!devnull)
		devnull = fopen("/dev/null", "w");
	char *argv[] = { (char *)"shunt", (char *)"-c", path, NULL };
	memset(&cfg, 0, sizeof(cfg));
	config_set_error_stream(devnull);
	int rc = config_from_args(&cfg, 3, argv);
	config_set_error_stream(NULL);
	if (rc == 0) {
		/* what an accepted file built is usable */
		for (size_t i = 0; i < cfg.n_users; i++)
			if (!memchr(cfg.users[i].name, 0, sizeof(cfg.users[i].name)))
				abort();
		for (size_t i = 0; i < cfg.n_listeners; i++)
			if (!config_find_pool(&cfg, cfg.listeners[i].pool))
				abort();
	}
	config_free(&cfg);
	close(fd);
	return 0;
}
