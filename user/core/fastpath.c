/* fastpath.c — loads the sk_skb program, pins the maps, and moves
 * established sessions' sockets into the sockhash. The only file that
 * includes the BPF skeleton. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <linux/magic.h>
#include <linux/sockios.h>
#include <linux/tcp.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "core/fastpath.h"
#include "util/log.h"
#include "shunt.skel.h"

#ifndef SO_COOKIE
#define SO_COOKIE 57
#endif

#define CAP_NET_ADMIN_BIT 12
#define CAP_SYS_ADMIN_BIT 21
#define CAP_BPF_BIT 39

static struct {
	struct shunt_bpf *skel;
	int active;
	enum fastpath_kind kind;       /* the attachment in use */
	int sock_map_fd, tunnels_fd, ctl_fd, stats_fd, xlate_fd;
	char pin_path[256];
	int pinned;
	int pin_lock_fd;               /* the pin directory, flock()ed while we run */
	char user_reason[300];         /* why sessions are relayed in user space */
} fp = { .sock_map_fd = -1, .tunnels_fd = -1, .ctl_fd = -1, .stats_fd = -1, .xlate_fd = -1,
	  .pin_lock_fd = -1 };

static const char *const pinned_maps[] = { "sock_map", "tunnels", "tunnel_ctl", "fp_stats",
					   "stmt_xlate" };
#define N_PINNED (sizeof(pinned_maps) / sizeof(pinned_maps[0]))

void fp_note_user_space(const char *why)
{
	snprintf(fp.user_reason, sizeof(fp.user_reason), "%s", why);
}

const char *fp_user_space_reason(void)
{
	return fp.active ? NULL : fp.user_reason;
}

int fp_stats_read(struct fp_stats *sum)
{
	int ncpu = libbpf_num_possible_cpus();
	__u32 zero = 0;

	memset(sum, 0, sizeof(*sum));
	if (!fp.active || ncpu <= 0)
		return -ENOENT;
	struct fp_stats *per = calloc((size_t)ncpu, sizeof(*per));
	if (!per)
		return -ENOMEM;
	if (bpf_map_lookup_elem(fp.stats_fd, &zero, per) < 0) {
		int err = -errno;
		free(per);
		return err;
	}
	for (int c = 0; c < ncpu; c++) {
		__u64 *dst = (__u64 *)sum;
		const __u64 *src = (const __u64 *)&per[c];
		for (size_t i = 0; i < sizeof(*sum) / sizeof(__u64); i++)
			dst[i] += src[i];
	}
	free(per);
	return 0;
}

int fp_active(void)
{
	return fp.active;
}

int fp_stream_parser(void)
{
	return fp.active && fp.kind == FASTPATH_KIND_STREAM_PARSER;
}

const char *fp_mode_name(void)
{
	if (!fp.active)
		return "off";
	return fp.kind == FASTPATH_KIND_STREAM_PARSER ? "stream_parser" : "verdict";
}

/* Effective capability bits of this process, from /proc/self/status. */
static unsigned long long effective_caps(void)
{
	char line[256];
	unsigned long long caps = 0;
	FILE *f = fopen("/proc/self/status", "r");

	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "CapEff: %llx", &caps) == 1)
			break;
	fclose(f);
	return caps;
}

static int on_bpffs(const char *path)
{
	struct statfs sfs;

	return statfs(path, &sfs) == 0 && sfs.f_type == BPF_FS_MAGIC;
}

/* mkdir that accepts an existing directory. 0 or -errno with why filled. */
static int make_dir(const char *dir, char *why, size_t n)
{
	if (mkdir(dir, 0700) == 0 || errno == EEXIST)
		return 0;
	int err = errno;
	snprintf(why, n, "cannot create pin path %s: %s", dir, strerror(err));
	return -err;
}

static int mount_bpffs(const char *at, char *why, size_t n)
{
	if (mount("bpf", at, "bpf", 0, "mode=0700") == 0) {
		pr_info("fast path: mounted bpffs at %s", at);
		return 0;
	}
	int err = errno;
	snprintf(why, n, "cannot mount bpffs at %s: %s", at, strerror(err));
	return -err;
}

/* Makes sure dir is a directory on a bpffs: mounts one at /sys/fs/bpf when
 * dir lives there and it is missing (it is not mounted by default on these
 * machines), or on dir itself when dir is elsewhere. 0 or -errno. */
static int ensure_bpffs_dir(const char *dir, char *why, size_t n)
{
	char parent[256];
	int rc;

	snprintf(parent, sizeof(parent), "%s", dir);
	char *slash = strrchr(parent, '/');
	if (slash && slash != parent)
		*slash = '\0';
	else
		snprintf(parent, sizeof(parent), "/");

	if (!on_bpffs(parent)) {
		if (strcmp(parent, "/sys/fs/bpf") != 0) {
			/* A pin path outside /sys/fs/bpf gets a bpffs of its own. */
			rc = make_dir(dir, why, n);
			if (rc < 0 || on_bpffs(dir))
				return rc;
			return mount_bpffs(dir, why, n);
		}
		rc = mount_bpffs(parent, why, n);
		if (rc < 0)
			return rc;
	}
	return make_dir(dir, why, n);
}

/* Takes the pin directory for this daemon: an exclusive flock() on the
 * directory itself, held until fp_fini (the kernel drops it if we die).
 * Another running shunt with the same pin path holds it: -EBUSY, and
 * nothing of its pins is touched. 0 or -errno with why filled. */
static int lock_pin_dir(const char *dir, char *why, size_t n)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd < 0) {
		int err = errno;
		snprintf(why, n, "cannot open pin path %s: %s", dir, strerror(err));
		return -err;
	}
	if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		int err = errno;
		close(fd);
		if (err == EWOULDBLOCK) {
			snprintf(why, n, "pin path %s is in use by another running shunt; give this "
				 "one its own pin_path (or stop the other)", dir);
			return -EBUSY;
		}
		snprintf(why, n, "cannot lock pin path %s: %s", dir, strerror(err));
		return -err;
	}
	fp.pin_lock_fd = fd;
	return 0;
}

/* Removes pins a previous run left behind (crash, kill -9). */
static void remove_stale_pins(const char *dir)
{
	char path[512];

	for (size_t i = 0; i < N_PINNED; i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, pinned_maps[i]);
		if (unlink(path) == 0)
			pr_info("fast path: removed stale pin %s", path);
	}
}

/* Pins the maps (pinned_maps) under the pin path. 0, or -errno with why filled. */
static int pin_maps(char *why, size_t n)
{
	struct bpf_map *maps[] = { fp.skel->maps.sock_map, fp.skel->maps.tunnels,
				   fp.skel->maps.tunnel_ctl, fp.skel->maps.fp_stats,
				   fp.skel->maps.stmt_xlate };
	char path[512];

	_Static_assert(sizeof(maps) / sizeof(maps[0]) == N_PINNED, "one pin per map");
	for (size_t i = 0; i < N_PINNED; i++) {
		snprintf(path, sizeof(path), "%s/%s", fp.pin_path, pinned_maps[i]);
		int rc = bpf_map__pin(maps[i], path);
		if (rc < 0) {
			snprintf(why, n, "cannot pin %s: %s", path, strerror(-rc));
			return rc;
		}
	}
	fp.pinned = 1;
	return 0;
}

/* Checks what the running kernel offers. 0, or -errno with why filled. */
static int probe_kernel(char *why, size_t n)
{
	unsigned long long caps = effective_caps();
	int need_bpf = !((caps >> CAP_BPF_BIT) & 1) && !((caps >> CAP_SYS_ADMIN_BIT) & 1);

	if (need_bpf || !((caps >> CAP_NET_ADMIN_BIT) & 1)) {
		snprintf(why, n, "missing capabilities: need CAP_BPF (or CAP_SYS_ADMIN) and "
			 "CAP_NET_ADMIN (effective caps 0x%llx)", caps);
		return -EPERM;
	}
	if (libbpf_probe_bpf_prog_type(BPF_PROG_TYPE_SK_SKB, NULL) != 1) {
		snprintf(why, n, "kernel has no sk_skb programs (CONFIG_BPF_STREAM_PARSER?)");
		return -EOPNOTSUPP;
	}
	if (libbpf_probe_bpf_map_type(BPF_MAP_TYPE_SOCKHASH, NULL) != 1) {
		snprintf(why, n, "kernel has no BPF sockhash maps");
		return -EOPNOTSUPP;
	}
	if (libbpf_probe_bpf_helper(BPF_PROG_TYPE_SK_SKB, BPF_FUNC_loop, NULL) != 1) {
		snprintf(why, n, "kernel has no bpf_loop helper for sk_skb programs (needs 5.17+)");
		return -EOPNOTSUPP;
	}
	return 0;
}

/* Attaches the program in the configured (or best available) mode. */
static int attach(enum fastpath_kind want, char *why, size_t n)
{
	int map = fp.sock_map_fd;
	int verdict = bpf_program__fd(fp.skel->progs.shunt_verdict);
	int parser = bpf_program__fd(fp.skel->progs.shunt_parser);

	if (want == FASTPATH_KIND_AUTO || want == FASTPATH_KIND_VERDICT) {
		if (bpf_prog_attach(verdict, map, BPF_SK_SKB_VERDICT, 0) == 0) {
			fp.kind = FASTPATH_KIND_VERDICT;
			return 0;
		}
		int err = -errno;
		if (want == FASTPATH_KIND_VERDICT) {
			snprintf(why, n, "cannot attach in verdict mode (kernel < 5.13?): %s",
				 strerror(-err));
			return err;
		}
		pr_info("fast path: verdict-only attach failed (%s); using a stream parser",
			strerror(-err));
	}
	if (bpf_prog_attach(parser, map, BPF_SK_SKB_STREAM_PARSER, 0) < 0 ||
	    bpf_prog_attach(verdict, map, BPF_SK_SKB_STREAM_VERDICT, 0) < 0) {
		int err = -errno;
		snprintf(why, n, "cannot attach in stream-parser mode: %s", strerror(-err));
		return err;
	}
	fp.kind = FASTPATH_KIND_STREAM_PARSER;
	return 0;
}

int fp_init(const struct shunt_config *cfg, char *why, size_t whylen)
{
	int rc;

	snprintf(fp.pin_path, sizeof(fp.pin_path), "%s", cfg->pin_path);
	rc = probe_kernel(why, whylen);
	if (rc < 0)
		return rc;
	rc = ensure_bpffs_dir(fp.pin_path, why, whylen);
	if (rc < 0)
		return rc;
	rc = lock_pin_dir(fp.pin_path, why, whylen);
	if (rc < 0)
		return rc;
	remove_stale_pins(fp.pin_path);     /* ours alone now: a dead run's */

	fp.skel = shunt_bpf__open();
	if (!fp.skel) {
		rc = -errno;
		snprintf(why, whylen, "cannot open the BPF object: %s", strerror(-rc));
		return rc;
	}
	rc = shunt_bpf__load(fp.skel);
	if (rc < 0) {
		snprintf(why, whylen, "the kernel refused the BPF program: %s (see the libbpf "
			 "lines above)", strerror(-rc));
		goto fail;
	}
	fp.sock_map_fd = bpf_map__fd(fp.skel->maps.sock_map);
	fp.tunnels_fd = bpf_map__fd(fp.skel->maps.tunnels);
	fp.ctl_fd = bpf_map__fd(fp.skel->maps.tunnel_ctl);
	fp.stats_fd = bpf_map__fd(fp.skel->maps.fp_stats);
	fp.xlate_fd = bpf_map__fd(fp.skel->maps.stmt_xlate);
	rc = attach(cfg->fastpath_kind, why, whylen);
	if (rc < 0)
		goto fail;
	rc = pin_maps(why, whylen);
	if (rc < 0)
		goto fail;
	fp.active = 1;
	pr_info("fast path: %s mode, maps pinned under %s", fp_mode_name(), fp.pin_path);
	return 0;
fail:
	fp_fini();
	return rc;
}

void fp_fini(void)
{
	if (fp.pinned) {
		char path[512];
		for (size_t i = 0; i < N_PINNED; i++) {
			snprintf(path, sizeof(path), "%s/%s", fp.pin_path, pinned_maps[i]);
			unlink(path);
		}
		rmdir(fp.pin_path);      /* only if empty: an operator's files stay */
		fp.pinned = 0;
	}
	/* Destroying the skeleton closes the map and program fds; the kernel
	 * detaches the program when the sockhash goes away. */
	shunt_bpf__destroy(fp.skel);
	fp.skel = NULL;
	fp.active = 0;
	if (fp.pin_lock_fd >= 0) {
		close(fp.pin_lock_fd);  /* releases the flock */
		fp.pin_lock_fd = -1;
	}
	fp.sock_map_fd = fp.tunnels_fd = fp.ctl_fd = fp.stats_fd = fp.xlate_fd = -1;
}

int fp_sock_cookie(int fd, uint64_t *cookie)
{
	socklen_t len = sizeof(*cookie);

	if (getsockopt(fd, SOL_SOCKET, SO_COOKIE, cookie, &len) < 0)
		return -errno;
	return 0;
}

/* Copies a socket address into a tunnel entry's addr/port/family. */
static void set_addr(struct tunnel *t, const struct sockaddr *sa)
{
	if (!sa)
		return;
	t->family = sa->sa_family;
	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *in = (const struct sockaddr_in *)sa;
		memcpy(t->addr, &in->sin_addr, 4);
		t->port = ntohs(in->sin_port);
	} else if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)sa;
		memcpy(t->addr, &in6->sin6_addr, 16);
		t->port = ntohs(in6->sin6_port);
	}
}

/* A fresh tunnel entry for one socket of the session in spec: dir says
 * which, peer is the other socket's cookie, sa this socket's peer. */
static void tunnel_entry(struct tunnel *t, const struct fp_tunnel_spec *spec, __u8 dir,
			 uint64_t peer, const struct sockaddr *sa)
{
	memset(t, 0, sizeof(*t));
	t->peer_cookie = peer;
	t->conn_id = spec->conn_id;
	t->backend_id = spec->backend_id;
	t->dir = dir;
	t->state = TUN_ST_FORWARD;
	t->mode = fp.kind == FASTPATH_KIND_STREAM_PARSER ? TUN_MODE_STREAM_PARSER : TUN_MODE_VERDICT;
	mt_frame_init(&t->frame);
	mt_conv_init(&t->conv, spec->caps, spec->status);
	set_addr(t, sa);
}

int fp_sock_written(int fd, uint64_t *out)
{
	struct tcp_info ti;
	socklen_t len = sizeof(ti);
	int outq = 0;

	memset(&ti, 0, sizeof(ti));
	if (getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &len) < 0 || ioctl(fd, SIOCOUTQ, &outq) < 0)
		return -errno;
	*out = ti.tcpi_bytes_acked + (uint64_t)outq;
	return 0;
}

int fp_tunnel_open(const struct fp_tunnel_spec *spec, char *why, size_t whylen)
{
	struct tunnel ct;
	struct tunnel_ctl ctl;
	uint64_t cfd = (uint64_t)spec->cfd;
	int rc;

	tunnel_entry(&ct, spec, TUN_DIR_CLIENT, spec->bcookie, spec->client_sa);
	memset(&ctl, 0, sizeof(ctl));
	ctl.backend_cookie = spec->bcookie;
	ctl.queue_max = spec->queue_max;
	/* Nothing redirected yet: what each socket holds now is the base. */
	uint64_t cbase, bbase;
	rc = fp_sock_written(spec->cfd, &cbase);
	if (rc == 0)
		rc = fp_sock_written(spec->bfd, &bbase);
	if (rc < 0) {
		snprintf(why, whylen, "cannot read the sockets' TCP counters: %s", strerror(-rc));
		return rc;
	}
	ctl.client_ext_written = cbase;
	ctl.backend_ext_written = bbase;
	if (bpf_map_update_elem(fp.tunnels_fd, &spec->ccookie, &ct, BPF_NOEXIST) < 0 ||
	    bpf_map_update_elem(fp.ctl_fd, &spec->ccookie, &ctl, BPF_NOEXIST) < 0) {
		rc = -errno;
		snprintf(why, whylen, "cannot add tunnel entries: %s", strerror(-rc));
		goto fail;
	}
	/* Backend first: it is idle and nothing may reach it before a client
	 * command does. Then the client, before its login OK is sent. */
	rc = fp_tunnel_add_backend(spec, why, whylen);
	if (rc < 0)
		goto fail;
	if (bpf_map_update_elem(fp.sock_map_fd, &spec->ccookie, &cfd, BPF_NOEXIST) < 0) {
		rc = -errno;
		snprintf(why, whylen, "kernel refused the client socket: %s%s", strerror(-rc),
			 rc == -EOPNOTSUPP ? " (client already closed?)" : "");
		goto fail;
	}
	return 0;
fail:
	fp_tunnel_close(spec->ccookie, spec->bcookie);
	return rc;
}

int fp_tunnel_add_backend(const struct fp_tunnel_spec *spec, char *why, size_t whylen)
{
	struct tunnel bt;
	uint64_t bfd = (uint64_t)spec->bfd;
	int rc;

	tunnel_entry(&bt, spec, TUN_DIR_BACKEND, spec->ccookie, spec->backend_sa);
	if (bpf_map_update_elem(fp.tunnels_fd, &spec->bcookie, &bt, BPF_NOEXIST) < 0) {
		rc = -errno;
		snprintf(why, whylen, "cannot add the backend's tunnel entry: %s", strerror(-rc));
		return rc;
	}
	if (bpf_map_update_elem(fp.sock_map_fd, &spec->bcookie, &bfd, BPF_NOEXIST) < 0) {
		rc = -errno;
		snprintf(why, whylen, "kernel refused the backend socket: %s", strerror(-rc));
		bpf_map_delete_elem(fp.tunnels_fd, &spec->bcookie);
		return rc;
	}
	return 0;
}

void fp_tunnel_drop_backend(uint64_t bcookie)
{
	bpf_map_delete_elem(fp.sock_map_fd, &bcookie);
	bpf_map_delete_elem(fp.tunnels_fd, &bcookie);
}

void fp_tunnel_close(uint64_t ccookie, uint64_t bcookie)
{
	bpf_map_delete_elem(fp.sock_map_fd, &ccookie);
	bpf_map_delete_elem(fp.sock_map_fd, &bcookie);
	bpf_map_delete_elem(fp.tunnels_fd, &ccookie);
	bpf_map_delete_elem(fp.tunnels_fd, &bcookie);
	bpf_map_delete_elem(fp.ctl_fd, &ccookie);
}

int fp_tunnel_get(uint64_t cookie, struct tunnel *out)
{
	if (bpf_map_lookup_elem(fp.tunnels_fd, &cookie, out) < 0)
		return -errno;
	return 0;
}

/* A client entry as the program will see it at its next run: the control
 * entry is read after it and applied with tun_apply_rearm() (shunt_abi.h).
 * 0 or -errno, as fp_tunnel_get. */
int fp_tunnel_get_current(uint64_t ccookie, struct tunnel *out)
{
	struct tunnel_ctl ctl;
	int rc = fp_tunnel_get(ccookie, out);

	if (rc == 0 && fp_ctl_get(ccookie, &ctl) == 0)
		tun_apply_rearm(out, &ctl);
	return rc;
}

int fp_ctl_set(uint64_t ccookie, const struct tunnel_ctl *ctl)
{
	if (bpf_map_update_elem(fp.ctl_fd, &ccookie, ctl, BPF_EXIST) < 0)
		return -errno;
	return 0;
}

int fp_xlate_set(uint64_t ccookie, uint32_t id, uint32_t bid)
{
	struct stmt_xkey key = { .cookie = ccookie, .id = id };

	if (bpf_map_update_elem(fp.xlate_fd, &key, &bid, BPF_ANY) < 0)
		return -errno;
	return 0;
}

void fp_xlate_del(uint64_t ccookie, uint32_t id)
{
	struct stmt_xkey key = { .cookie = ccookie, .id = id };

	bpf_map_delete_elem(fp.xlate_fd, &key);
}

int fp_ctl_get(uint64_t ccookie, struct tunnel_ctl *ctl)
{
	if (bpf_map_lookup_elem(fp.ctl_fd, &ccookie, ctl) < 0)
		return -errno;
	return 0;
}
