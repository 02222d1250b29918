// SPDX-License-Identifier: GPL-2.0
/*
 * SELinux and restricted shared PCM access (docs/selinux.md), in a VM
 * booted with lsm=selinux, SELinux enforcing a test policy built from the
 * shipped CIL module (tests/selinux/selinux.mk):
 *
 *   selinux-pcm [--policy FILE]	load FILE (default /tests/selinux/policy.bin),
 *				label the sound nodes, enforce, run the checks (TAP)
 *
 * It runs as root in base_t (unconfined) and starts its other processes
 * in the domains of the test policy, by writing their context to
 * /proc/self/attr/exec and running itself again:
 *
 *   --master			sets up a stream of snd-dummy and serves the
 *				node and exports of it on descriptor 3
 *   --client CHECK ARGS...	one check of a client, on the descriptors it
 *				got as 3 (and 4); exits 0 when it holds
 *
 * Two masters: master_t, whose exports the policy labels snd_pcm_shared_t
 * (snd_pcm_shared_exporter), and master_plain_t, which has no transition.
 * Descriptors reach the clients over SCM_RIGHTS (selinux-pcm receives them
 * from the master and passes them on: the file keeps the master's domain
 * for fd use) or across the exec into the client's domain. Each check is
 * one TAP result, named by the word before its colon; selinux-expect-fail.sh
 * uses the names to prove that the checks fail where their behaviour is
 * missing (the baseline kernel, a policy that grants too much).
 */
#include <dirent.h>
#include <poll.h>
#include <stdbool.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include "pcm-util.h"
#include "fd-passing.h"

#define SELINUXFS	"/sys/fs/selinux"
#define CTX_DOMAIN	"system_u:system_r:"
#define CTX_SND_DEVICE	"system_u:object_r:snd_device_t"
#define EXPORT_NAME	"anon_inode:[snd_pcm_shared]"

static char self_exe[256];
static int test_no, test_failed;

static void say(const char *fmt, ...)
{
	va_list ap;

	printf("# ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
}

static void result(bool ok, const char *name, const char *fmt, ...)
{
	va_list ap;

	printf("%s %d %s: ", ok ? "ok" : "not ok", ++test_no, name);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
	if (!ok)
		test_failed++;
}

/* ------------------------------------------------ descriptors over sockets */

/* The message @msg (a string), with the descriptor @fd if not negative: 0 or -errno */
static int send_fd(int sock, const char *msg, int fd)
{
	return fdp_send(sock, msg, strlen(msg) + 1, fd, MSG_NOSIGNAL);
}

/*
 * A message and the descriptor it carries: the descriptor, -1 without one,
 * or -errno; *@flags gets msg_flags (MSG_CTRUNC: a descriptor was refused).
 */
static int recv_fd(int sock, char *msg, size_t len, int *flags)
{
	ssize_t n;
	int fd = fdp_recv(sock, msg, len - 1, MSG_CMSG_CLOEXEC, &n, flags);

	if (n >= 0)
		msg[n] = 0;
	return fd;
}

/* ------------------------------------------------------------ processes */

/* Run this program in @domain with @fds as descriptors 3, 4, ... */
static pid_t spawn(const char *domain, const int *fds, int nfds, char **argv)
{
	char ctx[128];
	pid_t pid;

	fflush(stdout);
	pid = fork();
	if (pid != 0)
		return pid;
	int high[8], at;

	for (int i = 0; i < nfds; i++)
		high[i] = fcntl(fds[i], F_DUPFD_CLOEXEC, 100);
	for (int i = 0; i < nfds; i++)
		if (dup2(high[i], 3 + i) < 0)
			_exit(126);
	snprintf(ctx, sizeof(ctx), CTX_DOMAIN "%s", domain);
	at = open("/proc/self/attr/exec", O_WRONLY | O_CLOEXEC);
	if (at < 0 || write(at, ctx, strlen(ctx)) < 0) {
		printf("# cannot set the exec context %s: %s\n", ctx, strerror(errno));
		_exit(126);
	}
	close(at);
	execv(argv[0], argv);
	printf("# exec of %s in %s: %s\n", argv[0], domain, strerror(errno));
	_exit(127);
}

/* Exit status of a client check run in @domain, 0 when it held; @prog is
 * this program (NULL) or its 32-bit or x32 build */
static int run_client_prog(const char *prog, const char *domain, const int *fds, int nfds, ...)
{
	char *argv[12] = { prog ? (char *)prog : self_exe, "--client" };
	int argc = 2, status;
	va_list ap;
	pid_t pid;

	va_start(ap, nfds);
	while (argc < 11 && (argv[argc] = va_arg(ap, char *)))
		argc++;
	va_end(ap);
	argv[argc] = NULL;
	pid = spawn(domain, fds, nfds, argv);
	if (pid < 0 || waitpid(pid, &status, 0) < 0)
		return -1;
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

#define run_client(...) run_client_prog(NULL, __VA_ARGS__)

/* A client check in @domain on @fd sent over SCM_RIGHTS */
static int run_client_recv_prog(const char *prog, const char *domain, int fd,
				const char *check, const char *arg)
{
	int sp[2], rc;

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sp) < 0)
		return -1;
	rc = send_fd(sp[0], "fd", fd);
	if (rc) {
		say("sending the descriptor: %s", strerror(-rc));
		return -1;
	}
	rc = run_client_prog(prog, domain, &sp[1], 1, check, arg, NULL);
	close(sp[0]);
	close(sp[1]);
	return rc;
}

#define run_client_recv(...) run_client_recv_prog(NULL, __VA_ARGS__)

/* ------------------------------------------------------------ labels */

/* The type of a file's label, "" when it has none to show */
static const char *fd_type(int fd)
{
	static char ctx[256];
	char *t;
	ssize_t n = fgetxattr(fd, "security.selinux", ctx, sizeof(ctx) - 1);

	if (n < 0)
		return strerror(errno);
	ctx[n] = 0;
	t = strrchr(ctx, ':');	/* user:role:type, no MLS range here */
	return t ? t + 1 : ctx;
}

static const char *fd_link(int fd)
{
	static char buf[256];
	char path[64];
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	n = readlink(path, buf, sizeof(buf) - 1);
	if (n < 0)
		return strerror(errno);
	buf[n] = 0;
	return buf;
}

/* ------------------------------------------------------------ the master */

static int master(void)
{
	const int ctl = 3;
	char msg[128];
	int card, pcm, flags, err;

	card = pcm_find_card("Dummy");
	pcm = card < 0 ? -ENODEV : pcm_open(card, 0, SNDRV_PCM_STREAM_PLAYBACK, O_RDWR);
	if (pcm < 0) {
		snprintf(msg, sizeof(msg), "err opening the snd-dummy playback node: %s",
			 strerror(card < 0 ? ENODEV : errno));
		send_fd(ctl, msg, -1);
		return 1;
	}
	err = pcm_configure(pcm, &pcm_default_setup);
	if (!err)
		err = xioctl(pcm, SNDRV_PCM_IOCTL_PREPARE, NULL);
	if (err) {
		snprintf(msg, sizeof(msg), "err setting the stream up: %s", strerror(-err));
		send_fd(ctl, msg, -1);
		return 1;
	}
	send_fd(ctl, "ready", -1);

	while (recv_fd(ctl, msg, sizeof(msg), &flags) >= -1) {
		unsigned int perm, oflags;
		int fd, got;

		if (!strcmp(msg, "node")) {
			send_fd(ctl, "ok", pcm);
		} else if (sscanf(msg, "export %u %u", &perm, &oflags) == 2) {
			fd = pcm_export(pcm, perm, oflags | O_CLOEXEC);
			if (fd < 0) {
				snprintf(msg, sizeof(msg), "err SHARED_EXPORT: %s", strerror(-fd));
				send_fd(ctl, msg, -1);
				continue;
			}
			/* the exporter checks what it made, as alsa-lib does */
			got = pcm_perm(fd);
			if (got != (int)perm) {
				snprintf(msg, sizeof(msg), "err PERM_GET on the export: %s",
					 got < 0 ? strerror(-got) : "another mask");
				send_fd(ctl, msg, -1);
			} else {
				send_fd(ctl, "ok", fd);
			}
			close(fd);
		} else {
			break;	/* "quit", or the end */
		}
	}
	return 0;
}

struct master {
	const char *domain;
	int ctl;
	pid_t pid;
	char why[256];
};

static bool master_start(struct master *m, const char *domain)
{
	char *argv[] = { self_exe, "--master", NULL };
	int sp[2], flags;

	m->domain = domain;
	m->ctl = -1;
	m->pid = -1;
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sp) < 0)
		return false;
	m->pid = spawn(domain, &sp[1], 1, argv);
	close(sp[1]);
	m->ctl = sp[0];
	if (recv_fd(m->ctl, m->why, sizeof(m->why), &flags) < -1 || strcmp(m->why, "ready")) {
		say("the master in %s did not start: %s", domain, m->why);
		return false;
	}
	return true;
}

/* Ask the master for a descriptor: the node, or an export; -1 with m->why */
static int master_get(struct master *m, const char *request)
{
	char reply[128];
	int fd, flags;

	if (m->ctl < 0 || send_fd(m->ctl, request, -1) < 0) {
		snprintf(m->why, sizeof(m->why), "no master in %s", m->domain);
		return -1;
	}
	fd = recv_fd(m->ctl, reply, sizeof(reply), &flags);
	if (fd < 0 || strcmp(reply, "ok")) {
		snprintf(m->why, sizeof(m->why), "the master in %s: %s", m->domain,
			 fd < -1 ? strerror(-fd) : reply);
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

static int master_export(struct master *m, unsigned int perm, int oflags)
{
	char req[64];

	snprintf(req, sizeof(req), "export %u %u", perm, oflags);
	return master_get(m, req);
}

static void master_stop(struct master *m)
{
	int status;

	if (m->ctl >= 0) {
		send_fd(m->ctl, "quit", -1);
		close(m->ctl);
	}
	if (m->pid > 0)
		waitpid(m->pid, &status, 0);
}

/* ------------------------------------------------------------ client checks */

static int client_recv(int *fd, bool want)
{
	char msg[16];
	int flags = 0;

	*fd = recv_fd(3, msg, sizeof(msg), &flags);
	if (*fd < -1) {
		say("recvmsg: %s", strerror(-*fd));
		return 1;
	}
	if (!want) {
		say("%s, %s", flags & MSG_CTRUNC ? "MSG_CTRUNC" : "no MSG_CTRUNC",
		    *fd >= 0 ? "a descriptor arrived" : "no descriptor");
		return (*fd < 0 && (flags & MSG_CTRUNC)) ? 0 : 1;
	}
	if (*fd < 0 || (flags & MSG_CTRUNC)) {
		say("the export did not arrive (%s)", flags & MSG_CTRUNC ? "MSG_CTRUNC" : "no descriptor");
		return 1;
	}
	return 0;
}

/* Is @fd the export of mask @perm, as SELinux labels it? */
static int check_export(int fd, int perm)
{
	const char *type = fd_type(fd), *link = fd_link(fd);
	int got = pcm_perm(fd);

	say("%s, label type %s, PERM_GET %#x", link, type, got);
	return strcmp(link, EXPORT_NAME) || strcmp(type, "snd_pcm_shared_t") || got != perm;
}

/* Each call must return 0 (@want 0) or fail with -@want */
#define EXPECT(want, call, what) do {					\
	int __r = (call) < 0 ? -errno : 0;				\
	if (__r != -(want)) {						\
		say("%s: %s, expected %s", what, __r ? strerror(-__r) : "allowed", \
		    (want) ? strerror(want) : "success");		\
		bad++;							\
	}								\
	n++;								\
} while (0)

static int use_mmap(int fd)
{
	long page = sysconf(_SC_PAGESIZE);
	volatile struct snd_pcm_mmap_status *st;
	void *data, *ctl;
	int bad = 0;

	data = mmap(NULL, page, PROT_READ, MAP_SHARED, fd, SNDRV_PCM_MMAP_OFFSET_DATA);
	st = mmap(NULL, page, PROT_READ, MAP_SHARED, fd, SNDRV_PCM_MMAP_OFFSET_STATUS);
	ctl = mmap(NULL, page, PROT_READ, MAP_SHARED, fd, SNDRV_PCM_MMAP_OFFSET_CONTROL);
	if (data == MAP_FAILED || st == MAP_FAILED || ctl == MAP_FAILED) {
		say("mmap read-only: data %s, status %s, control %s",
		    data == MAP_FAILED ? "refused" : "mapped", st == MAP_FAILED ? "refused" : "mapped",
		    ctl == MAP_FAILED ? "refused" : "mapped");
		return 1;
	}
	if (st->state != SNDRV_PCM_STATE_PREPARED) {
		say("the status page says state %d, not PREPARED", st->state);
		bad++;
	}
	say("data buffer, status and control pages mapped read-only; state PREPARED");
	return bad;
}

static int use_sync(int fd)
{
	struct snd_pcm_sync_ptr sp;
	int bad = 0, n = 0;

	memset(&sp, 0, sizeof(sp));
	sp.flags = SNDRV_PCM_SYNC_PTR_APPL | SNDRV_PCM_SYNC_PTR_AVAIL_MIN;
	EXPECT(0, ioctl(fd, SNDRV_PCM_IOCTL_SYNC_PTR, &sp), "SYNC_PTR (read-only)");
	EXPECT(0, ioctl(fd, SNDRV_PCM_IOCTL_HWSYNC), "HWSYNC");
	if (!bad && sp.s.status.state != SNDRV_PCM_STATE_PREPARED) {
		say("SYNC_PTR says state %d, not PREPARED", sp.s.status.state);
		bad++;
	}
	say("%d calls, %d refused", n, bad);
	return bad;
}

static int use_status(int fd)
{
	struct snd_pcm_hw_params hw;
	struct snd_pcm_sw_params sw;
	struct snd_pcm_status status;
	struct snd_pcm_info info;
	struct snd_pcm_channel_info ci;
	snd_pcm_sframes_t delay;
	struct pollfd pfd = { .fd = fd, .events = POLLIN | POLLOUT };
	int ver = SNDRV_PCM_VERSION, zero = 0, bad = 0, n = 0;

	EXPECT(0, ioctl(fd, SNDRV_PCM_IOCTL_PVERSION, &ver), "PVERSION");
	memset(&info, 0, sizeof(info));
	EXPECT(0, ioctl(fd, SNDRV_PCM_IOCTL_INFO, &info), "INFO");
	EXPECT(0, ioctl(fd, SNDRV_PCM_IOCTL_TSTAMP, &zero), "TSTAMP");
	ver = SNDRV_PCM_VERSION;
	EXPECT(0, ioctl(fd, SNDRV_PCM_IOCTL_USER_PVERSION, &ver), "USER_PVERSION");
	hw_params_any(&hw);
	EXPECT(0, ioctl(fd, SNDRV_PCM_IOCTL_HW_REFINE, &hw), "HW_REFINE");
	EXPECT(0, ioctl(fd, SNDRV_PCM_IOCTL_HW_PARAMS_GET, &hw), "HW_PARAMS_GET");
	EXPECT(0, ioctl(fd, SNDRV_PCM_IOCTL_SW_PARAMS_GET, &sw), "SW_PARAMS_GET");
	memset(&status, 0, sizeof(status));
	EXPECT(0, ioctl(fd, SNDRV_PCM_IOCTL_STATUS, &status), "STATUS");
	EXPECT(0, ioctl(fd, SNDRV_PCM_IOCTL_DELAY, &delay), "DELAY");
	memset(&status, 0, sizeof(status));
	EXPECT(0, ioctl(fd, SNDRV_PCM_IOCTL_STATUS_EXT, &status), "STATUS_EXT");
	memset(&ci, 0, sizeof(ci));
	EXPECT(0, ioctl(fd, SNDRV_PCM_IOCTL_CHANNEL_INFO, &ci), "CHANNEL_INFO");
	if (poll(&pfd, 1, 0) < 0 || (pfd.revents & (POLLERR | POLLNVAL))) {
		say("poll: revents %#x", pfd.revents);
		bad++;
	}
	if (!bad && status.state != SNDRV_PCM_STATE_PREPARED) {
		say("STATUS_EXT says state %d, not PREPARED", status.state);
		bad++;
	}
	say("%d status ioctls and poll, %d refused", n, bad);
	return bad;
}

/* Every ioctl the policy denies must fail with EACCES, and the same ones
 * with the policy allowing them with EPERM (the kernel's mask) */
static int use_denied(int fd, int err)
{
	struct snd_xferi xfer = { 0 };
	int bad = 0, n = 0;

	EXPECT(err, ioctl(fd, SNDRV_PCM_IOCTL_START), "START");
	EXPECT(err, ioctl(fd, SNDRV_PCM_IOCTL_DROP), "DROP");
	EXPECT(err, ioctl(fd, SNDRV_PCM_IOCTL_HW_FREE), "HW_FREE");
	EXPECT(err, ioctl(fd, SNDRV_PCM_IOCTL_WRITEI_FRAMES, &xfer), "WRITEI_FRAMES");
	say("START, DROP, HW_FREE, WRITEI_FRAMES: %d of %d failed otherwise than with %s",
	    bad, n, strerror(err));
	return bad;
}

static int use_rw(int fd)
{
	long page = sysconf(_SC_PAGESIZE);
	snd_pcm_uframes_t frames = 0;
	void *ctl;
	int bad = 0, n = 0;

	EXPECT(0, ioctl(fd, SNDRV_PCM_IOCTL_REWIND, &frames), "REWIND 0");
	frames = 0;
	EXPECT(0, ioctl(fd, SNDRV_PCM_IOCTL_FORWARD, &frames), "FORWARD 0");
	ctl = mmap(NULL, page, PROT_READ | PROT_WRITE, MAP_SHARED, fd, SNDRV_PCM_MMAP_OFFSET_CONTROL);
	if (ctl == MAP_FAILED) {
		say("writable mmap of the control page: %s", strerror(errno));
		bad++;
	}
	say("REWIND, FORWARD, a writable control page: %d refused", bad);
	return bad;
}

/* Descriptors 3.. inherited across exec must not be the files (dev, ino) named */
static int exec_gone(int argc, char **argv)
{
	int bad = 0;

	for (int i = 0; i + 1 < argc; i += 2) {
		int fd = 3 + i / 2;
		struct stat st;

		if (fstat(fd, &st) < 0) {
			say("descriptor %d: %s", fd, strerror(errno));
			continue;
		}
		say("descriptor %d is now %s", fd, fd_link(fd));
		if (st.st_dev == strtoull(argv[i], NULL, 0) && st.st_ino == strtoull(argv[i + 1], NULL, 0))
			bad++;
	}
	return bad;
}

static int client(int argc, char **argv)
{
	const char *check = argv[0];
	int fd;

	if (!strcmp(check, "open-nodes")) {
		static const int modes[] = { O_RDONLY, O_RDWR, O_RDONLY | O_APPEND | O_EXCL };
		DIR *d = opendir("/dev/snd");
		struct dirent *de;
		int n = 0, bad = 0;

		if (!d) {
			say("/dev/snd: %s", strerror(errno));
			return 1;
		}
		while ((de = readdir(d))) {
			char path[300];

			if (de->d_type != DT_CHR)
				continue;
			snprintf(path, sizeof(path), "/dev/snd/%s", de->d_name);
			for (unsigned int i = 0; i < sizeof(modes) / sizeof(modes[0]); i++) {
				int f = open(path, modes[i] | O_NONBLOCK | O_CLOEXEC);

				n++;
				if (f >= 0 || errno != EACCES) {
					say("open(%s, %#x): %s", path, modes[i],
					    f >= 0 ? "opened" : strerror(errno));
					bad++;
				}
				if (f >= 0)
					close(f);
			}
		}
		closedir(d);
		say("%d opens of the nodes of /dev/snd, %d not refused with EACCES", n, bad);
		return n == 0 || bad;
	}
	if (!strcmp(check, "recv-refused"))
		return client_recv(&fd, false);
	if (!strcmp(check, "exec-gone"))
		return exec_gone(argc - 1, argv + 1);
	if (!strcmp(check, "exec-export")) {
		fd = 3;
		return check_export(fd, SNDRV_PCM_PERM_SHARED) || use_status(fd);
	}
	if (client_recv(&fd, true))
		return 1;
	if (!strcmp(check, "recv-export"))
		return check_export(fd, strtol(argv[1], NULL, 0));
	if (!strcmp(check, "mmap"))
		return use_mmap(fd);
	if (!strcmp(check, "sync"))
		return use_sync(fd);
	if (!strcmp(check, "status"))
		return use_status(fd);
	if (!strcmp(check, "use"))
		return use_mmap(fd) | use_sync(fd) | use_status(fd);
	if (!strcmp(check, "denied"))
		return use_denied(fd, strtol(argv[1], NULL, 0));
	if (!strcmp(check, "rw"))
		return check_export(fd, SNDRV_PCM_PERM_SHARED | SNDRV_PCM_PERM_RW) || use_rw(fd);
	say("unknown check %s", check);
	return 2;
}

/* ------------------------------------------------------------ the driver */

static int write_file(const char *path, const void *buf, size_t len)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC), err = 0;

	if (fd < 0)
		return -errno;
	if (write(fd, buf, len) != (ssize_t)len)
		err = -errno;
	close(fd);
	return err;
}

/* Load the policy, label the sound nodes, enforce; NULL or what failed */
static const char *setup(const char *policy, int *nodes)
{
	static char why[512];
	struct stat st;
	char *buf;
	DIR *d;
	struct dirent *de;
	int fd, err;

	mkdir(SELINUXFS, 0755);
	if (mount("selinuxfs", SELINUXFS, "selinuxfs", 0, NULL) < 0 && errno != EBUSY) {
		snprintf(why, sizeof(why), "mount selinuxfs: %s (not booted with lsm=selinux?)",
			 strerror(errno));
		return why;
	}
	fd = open(policy, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st) < 0 || !(buf = malloc(st.st_size)) ||
	    read(fd, buf, st.st_size) != st.st_size) {
		snprintf(why, sizeof(why), "reading %s: %s", policy, strerror(errno));
		return why;
	}
	close(fd);
	/* one write at offset 0: selinuxfs takes the policy whole */
	err = write_file(SELINUXFS "/load", buf, st.st_size);
	free(buf);
	if (err) {
		snprintf(why, sizeof(why), "loading %s: %s", policy, strerror(-err));
		return why;
	}
	/* the nodes were made before the policy: label them as a policy would */
	*nodes = 0;
	d = opendir("/dev/snd");
	while (d && (de = readdir(d))) {
		char path[300], ctx[128];
		ssize_t n;

		if (de->d_type != DT_CHR)
			continue;
		snprintf(path, sizeof(path), "/dev/snd/%s", de->d_name);
		if (setxattr(path, "security.selinux", CTX_SND_DEVICE, strlen(CTX_SND_DEVICE), 0) < 0 ||
		    (n = getxattr(path, "security.selinux", ctx, sizeof(ctx) - 1)) < 0) {
			snprintf(why, sizeof(why), "labelling %s: %s", path, strerror(errno));
			return why;
		}
		ctx[n] = 0;
		if (strcmp(ctx, CTX_SND_DEVICE)) {
			snprintf(why, sizeof(why), "%s is labelled %s", path, ctx);
			return why;
		}
		(*nodes)++;
	}
	if (d)
		closedir(d);
	if (!*nodes)
		return "no sound device node in /dev/snd";
	/* every denial reaches the kernel log: no printk rate limit (interval 0) */
	err = write_file("/proc/sys/kernel/printk_ratelimit", "0", 1);
	if (err) {
		snprintf(why, sizeof(why), "printk_ratelimit: %s", strerror(-err));
		return why;
	}
	err = write_file(SELINUXFS "/enforce", "1", 1);
	if (err) {
		snprintf(why, sizeof(why), "enforcing: %s", strerror(-err));
		return why;
	}
	return NULL;
}

/*
 * Wait for the kernel log line that holds every one of @words (audit
 * records reach it through kauditd, after the call that made them, in
 * order); show and count in *@others the lines before it that hold
 * @other, when given.
 */
static bool kmsg_wait(int kmsg, const char *const *words, char *line, size_t len,
		      const char *other, int *others)
{
	struct pollfd pfd = { .fd = kmsg, .events = POLLIN };

	/* the bound only ends a failing wait; a passing one ends at the line */
	while (poll(&pfd, 1, 60000) > 0) {
		ssize_t n = read(kmsg, line, len - 1);
		int i;

		if (n < 0) {
			if (errno == EAGAIN || errno == EPIPE)
				continue;
			return false;
		}
		line[n] = 0;
		for (i = 0; words[i] && strstr(line, words[i]); i++)
			;
		if (!words[i])
			return true;
		if (other && strstr(line, other) && strstr(line, "denied")) {
			line[strcspn(line, "\n")] = 0;
			say("%s", strchr(line, ';') ? strchr(line, ';') + 1 : line);
			(*others)++;
		}
	}
	return false;
}

/*
 * alsa-lib as the client: selinux-alsa-client, beside this program, in
 * client_t. It ends by signalling the master, which is denied: every
 * denial of its before that marker is a permission alsa-lib needs and the
 * macros do not grant.
 */
static bool alsa_client(int kmsg, int export, pid_t master_pid)
{
	char prog[300], pidarg[16], pidword[24], line[1024];
	char *argv[] = { prog, pidarg, NULL };
	int sp[2], status, others = 0;
	bool marker;
	pid_t pid;

	snprintf(prog, sizeof(prog), "%.*s/selinux-alsa-client",
		 (int)(strrchr(self_exe, '/') - self_exe), self_exe);
	snprintf(pidarg, sizeof(pidarg), "%d", (int)master_pid);
	if (kmsg < 0 || socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sp) < 0)
		return false;
	lseek(kmsg, 0, SEEK_END);
	send_fd(sp[0], "fd", export);
	pid = spawn("client_t", &sp[1], 1, argv);
	close(sp[0]);
	close(sp[1]);
	if (pid < 0 || waitpid(pid, &status, 0) < 0)
		return false;
	snprintf(pidword, sizeof(pidword), " pid=%d ", (int)pid);
	{
		const char *const words[] = { "avc:", "denied", "{ signull }", pidword, NULL };

		marker = kmsg_wait(kmsg, words, line, sizeof(line), pidword, &others);
	}
	if (!marker)
		say("the marker denial (signull on the master) did not reach the log");
	return WIFEXITED(status) && WEXITSTATUS(status) == 0 && marker && !others;
}

static bool ok_exit(int rc)
{
	return rc == 0;
}

int main(int argc, char **argv)
{
	const char *policy = "/tests/selinux/policy.bin", *why;
	struct master m = { 0 }, plain = { 0 };
	int nodes = 0, node, export, export_rw, export_plain, kmsg, rc;
	char dev[32], ino[32], edev[32], eino[32];
	struct stat st;

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (readlink("/proc/self/exe", self_exe, sizeof(self_exe) - 1) < 0)
		return 2;
	if (argc > 1 && !strcmp(argv[1], "--master"))
		return master();
	if (argc > 2 && !strcmp(argv[1], "--client"))
		return client(argc - 2, argv + 2);
	if (argc > 2 && !strcmp(argv[1], "--policy"))
		policy = argv[2];

	printf("TAP version 13\n1..22\n");
	why = setup(policy, &nodes);
	if (why) {
		result(false, "setup", "%s", why);
		printf("Bail out! no SELinux policy in force\n");
		return 1;
	}
	result(true, "setup", "%s loaded, enforcing; %d sound nodes labelled snd_device_t", policy, nodes);
	kmsg = open("/dev/kmsg", O_RDONLY | O_NONBLOCK | O_CLOEXEC);

	if (!master_start(&m, "master_t") | !master_start(&plain, "master_plain_t"))
		say("a master did not start: the checks that need it fail");
	node = master_get(&m, "node");
	if (node < 0)
		say("no node descriptor: %s", m.why);
	export = master_export(&m, SNDRV_PCM_PERM_SHARED, O_RDONLY);
	if (export < 0)
		say("no export: %s", m.why);
	export_rw = master_export(&m, SNDRV_PCM_PERM_SHARED | SNDRV_PCM_PERM_RW, O_RDWR);
	if (export_rw < 0)
		say("no export with RW: %s", m.why);
	export_plain = master_export(&plain, SNDRV_PCM_PERM_SHARED, O_RDONLY);
	if (export_plain < 0)
		say("no export from master_plain_t: %s", plain.why);
	dev[0] = ino[0] = edev[0] = eino[0] = 0;
	if (node >= 0 && !fstat(node, &st)) {
		snprintf(dev, sizeof(dev), "%llu", (unsigned long long)st.st_dev);
		snprintf(ino, sizeof(ino), "%llu", (unsigned long long)st.st_ino);
	}
	if (export >= 0 && !fstat(export, &st)) {
		snprintf(edev, sizeof(edev), "%llu", (unsigned long long)st.st_dev);
		snprintf(eino, sizeof(eino), "%llu", (unsigned long long)st.st_ino);
	}

	/* the client and the device nodes */
	result(ok_exit(run_client("client_t", NULL, 0, "open-nodes", NULL)), "client-open-nodes",
	       "client_t opens no sound node: every open fails with EACCES");
	result(node >= 0 && ok_exit(run_client_recv("client_t", node, "recv-refused", NULL)),
	       "client-recv-node", "client_t: a node descriptor sent over SCM_RIGHTS arrives as MSG_CTRUNC, without a descriptor");
	result(node >= 0 && ok_exit(run_client("client_t", &node, 1, "exec-gone", dev, ino, NULL)),
	       "client-exec-node", "client_t: a node descriptor inherited across exec is replaced (SELinux's null file)");

	/* the client and an export */
	result(export >= 0 && ok_exit(run_client_recv("client_t", export, "recv-export", "0x7")),
	       "client-export-recv", "client_t receives an export over SCM_RIGHTS: %s, labelled snd_pcm_shared_t, PERM_GET SHARED",
	       EXPORT_NAME);
	result(export >= 0 && ok_exit(run_client_recv("client_t", export, "mmap", NULL)),
	       "client-export-mmap", "client_t maps the data buffer, the status and the control page of an export (read-only)");
	result(export >= 0 && ok_exit(run_client_recv("client_t", export, "sync", NULL)),
	       "client-export-sync", "client_t: SYNC_PTR (read-only) and HWSYNC on an export");
	result(export >= 0 && ok_exit(run_client_recv("client_t", export, "status", NULL)),
	       "client-export-status", "client_t: every STATUS-class ioctl and poll on an export");
	result(export >= 0 && ok_exit(run_client("client_t", &export, 1, "exec-export", NULL)),
	       "client-export-exec", "client_t: an export inherited across exec stays, and works");
	result(export >= 0 && alsa_client(kmsg, export, m.pid), "client-export-alsa-lib",
	       "client_t: alsa-lib's snd_pcm_open_shared_fd() follows an export (setup, state, status, position, mmap, poll, close), denied nothing");

	/* outside the granted classes: the policy refuses, and audits */
	if (kmsg >= 0)
		lseek(kmsg, 0, SEEK_END);
	rc = export >= 0 ? run_client_recv("client_t", export, "denied", "13") : -1;	/* EACCES */
	{
		static const char *const words[] = {
			"avc:", "denied", "{ ioctl }", "ioctlcmd=0x4142", "scontext=" CTX_DOMAIN "client_t",
			"tcontext=system_u:object_r:snd_pcm_shared_t", "tclass=anon_inode", "permissive=0", NULL,
		};
		char line[1024] = "";
		bool audited = rc == 0 && kmsg >= 0 &&
			       kmsg_wait(kmsg, words, line, sizeof(line), NULL, NULL);

		if (audited) {
			line[strcspn(line, "\n")] = 0;
			say("%s", strchr(line, ';') ? strchr(line, ';') + 1 : line);
		}
		result(rc == 0 && audited, "client-export-denied",
		       "client_t: START, DROP, HW_FREE, WRITEI_FRAMES on an export fail with EACCES (the policy), audited with ioctlcmd=0x4142");
	}
	result(export >= 0 && ok_exit(run_client_recv("client_lax_t", export, "denied", "1")),	/* EPERM */
	       "client-export-mask", "client_lax_t (the policy allows every PCM ioctl): the same ioctls fail with EPERM (the kernel's mask)");

	/*
	 * The 32-bit and x32 forms of the commands: the same extended
	 * permissions (the low 16 bits), so the same rules. Each ABI gets an
	 * export of its own: a compat ioctl on a file stops the mapping of
	 * its status and control pages, for every holder of the file.
	 */
	for (int abi = 0; abi < 2; abi++) {
		const char *suffix = abi ? "x32" : "32";
		char prog[300], use[40], denied[40];
		int ex = master_export(&m, SNDRV_PCM_PERM_SHARED, O_RDONLY);

		snprintf(prog, sizeof(prog), "%s-%s", self_exe, suffix);
		snprintf(use, sizeof(use), "client-export-use-%s", suffix);
		snprintf(denied, sizeof(denied), "client-export-denied-%s", suffix);
		result(ex >= 0 && ok_exit(run_client_recv_prog(prog, "client_t", ex, "use", NULL)),
		       use, "client_t, a %s process: mmap, SYNC_PTR, HWSYNC, every STATUS-class ioctl, poll on an export",
		       abi ? "x32" : "32-bit");
		result(ex >= 0 && ok_exit(run_client_recv_prog(prog, "client_t", ex, "denied", "13")),
		       denied, "client_t, a %s process: START, DROP, HW_FREE, WRITEI_FRAMES fail with EACCES",
		       abi ? "x32" : "32-bit");
		if (ex >= 0)
			close(ex);
	}

	/* an export without the transition */
	{
		const char *type = export_plain >= 0 ? fd_type(export_plain) : "none";

		if (export_plain >= 0)
			say("master_plain_t's export: %s, label type %s", fd_link(export_plain), type);
		result(export_plain >= 0 && !strcmp(type, "master_plain_t") &&
		       ok_exit(run_client_recv("client_t", export_plain, "recv-refused", NULL)),
		       "client-export-plain", "an export made without the type transition is labelled master_plain_t and refused to client_t (MSG_CTRUNC)");
	}

	/* the mask the policy grants: SHARED, not RW */
	result(export_rw >= 0 && ok_exit(run_client_recv("client_t", export_rw, "recv-refused", NULL)),
	       "client-export-rw-refused", "client_t (SHARED) cannot receive an export open for writing (SHARED | RW): MSG_CTRUNC");
	result(export_rw >= 0 && ok_exit(run_client_recv("client_rw_t", export_rw, "rw", NULL)),
	       "client-rw-export-rw", "client_rw_t (SHARED | RW) receives it: REWIND, FORWARD and a writable control page");

	/* the outsider */
	result(export >= 0 && ok_exit(run_client_recv("outsider_t", export, "recv-refused", NULL)),
	       "outsider-export-recv", "outsider_t: an export sent over SCM_RIGHTS arrives as MSG_CTRUNC");
	result(node >= 0 && ok_exit(run_client_recv("outsider_t", node, "recv-refused", NULL)),
	       "outsider-node-recv", "outsider_t: a node descriptor sent over SCM_RIGHTS arrives as MSG_CTRUNC");
	{
		int fds[2] = { export, node };

		result(export >= 0 && node >= 0 &&
		       ok_exit(run_client("outsider_t", fds, 2, "exec-gone", edev, eino, dev, ino, NULL)),
		       "outsider-export-exec", "outsider_t: neither an export nor a node descriptor survives the exec");
	}

	master_stop(&m);
	master_stop(&plain);
	return test_failed ? 1 : 0;
}
