/* test_http_access.c — the HTTP API's token file, bearer check and Host
 * check (ctl/http_access.c). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include "test.h"
#include "ctl/http_access.h"

static char dir[64];

/* First start makes the file (0600, in a new 0700 directory, 64 hex
 * digits); the next start reads the same token. */
static void test_token_file_made_then_read(void)
{
	char path[128], t1[HTTP_TOKEN_MAX], t2[HTTP_TOKEN_MAX], why[600];
	struct stat st;

	snprintf(path, sizeof(path), "%s/sub/http-token", dir);
	CHECK_EQ(http_token_load(path, t1, sizeof(t1), why, sizeof(why)), 1);
	CHECK_EQ(strlen(t1), 64);
	CHECK(strspn(t1, "0123456789abcdef") == 64);
	CHECK(stat(path, &st) == 0 && (st.st_mode & 07777) == 0600);
	snprintf(why, sizeof(why), "%s/sub", dir);
	CHECK(stat(why, &st) == 0 && (st.st_mode & 07777) == 0700);
	CHECK_EQ(http_token_load(path, t2, sizeof(t2), why, sizeof(why)), 0);
	CHECK(strcmp(t1, t2) == 0);
	unlink(path);
	CHECK_EQ(http_token_load(path, t2, sizeof(t2), why, sizeof(why)), 1);
	CHECK(strcmp(t1, t2) != 0);     /* a new one, from getrandom */
}

/* A file others may read, an empty one, a symlink and a directory are
 * refused with a reason. */
static void test_token_file_refused(void)
{
	char path[128], link_path[128], t[HTTP_TOKEN_MAX], why[600];
	int fd;

	snprintf(path, sizeof(path), "%s/open-token", dir);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	CHECK(fd >= 0 && write(fd, "abc\n", 4) == 4);
	close(fd);
	chmod(path, 0644);
	CHECK_EQ(http_token_load(path, t, sizeof(t), why, sizeof(why)), -EPERM);
	CHECK(strstr(why, "may be read or written by others (mode 0644)") != NULL);
	chmod(path, 0600);
	CHECK_EQ(http_token_load(path, t, sizeof(t), why, sizeof(why)), 0);
	CHECK(strcmp(t, "abc") == 0);
	fd = open(path, O_WRONLY | O_TRUNC);
	CHECK(fd >= 0 && write(fd, "a b\n", 4) == 4);
	close(fd);
	CHECK_EQ(http_token_load(path, t, sizeof(t), why, sizeof(why)), -EINVAL);
	CHECK(strstr(why, "holds no token") != NULL);
	fd = open(path, O_WRONLY | O_TRUNC);
	close(fd);
	CHECK_EQ(http_token_load(path, t, sizeof(t), why, sizeof(why)), -EINVAL);
	snprintf(link_path, sizeof(link_path), "%s/link-token", dir);
	CHECK(symlink(path, link_path) == 0);
	CHECK(http_token_load(link_path, t, sizeof(t), why, sizeof(why)) < 0);
	unlink(link_path);
	unlink(path);
	CHECK(http_token_load(dir, t, sizeof(t), why, sizeof(why)) < 0);
}

static void test_bearer(void)
{
	CHECK(http_bearer_ok("Bearer s3cret", "s3cret"));
	CHECK(!http_bearer_ok("Bearer s3cretx", "s3cret"));
	CHECK(!http_bearer_ok("Bearer s3cre", "s3cret"));
	CHECK(!http_bearer_ok("bearer s3cret", "s3cret"));
	CHECK(!http_bearer_ok("Bearer  s3cret", "s3cret"));
	CHECK(!http_bearer_ok("Basic s3cret", "s3cret"));
	CHECK(!http_bearer_ok("s3cret", "s3cret"));
	CHECK(!http_bearer_ok("Bearer", "s3cret"));
	CHECK(!http_bearer_ok(NULL, "s3cret"));
	CHECK(!http_bearer_ok("Bearer ", ""));       /* no token: nothing matches */
	CHECK(!http_bearer_ok("Bearer x", NULL));
}

static void test_host(void)
{
	CHECK(http_host_ok(NULL));
	CHECK(http_host_ok("127.0.0.1"));
	CHECK(http_host_ok("127.0.0.1:6080"));
	CHECK(http_host_ok("10.1.2.3:80"));
	CHECK(http_host_ok("localhost:6080"));
	CHECK(http_host_ok("LOCALHOST"));
	CHECK(http_host_ok("[::1]:6080"));
	CHECK(http_host_ok("[::1]"));
	CHECK(!http_host_ok("evil.example:6080"));
	CHECK(!http_host_ok("localhost.evil.example"));
	CHECK(!http_host_ok("127.0.0.1.nip.io:6080"));
	CHECK(!http_host_ok(""));
	CHECK(!http_host_ok(":6080"));
	CHECK(!http_host_ok("127.0.0.1:"));
	CHECK(!http_host_ok("127.0.0.1:80x"));
	CHECK(!http_host_ok("[::1"));
	CHECK(!http_host_ok("[::1]x"));
	CHECK(!http_host_ok("[evil]:80"));
	CHECK(!http_host_ok("127.1"));
}

int main(void)
{
	snprintf(dir, sizeof(dir), "/tmp/shunt-http-access.XXXXXX");
	if (!mkdtemp(dir))
		return 2;
	RUN(test_token_file_made_then_read);
	RUN(test_token_file_refused);
	RUN(test_bearer);
	RUN(test_host);
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "  could not remove %s\n", dir);
	return TEST_SUMMARY();
}
