// SPDX-License-Identifier: GPL-2.0
/*
 * Ways out of a restricted PCM file: can its holder end up with more than
 * its mask, make a mapping writable, change a sample the master reads,
 * drive the master's stream through another one, or learn through procfs
 * what it should not? Each way is tried on both kinds of restricted file,
 * an O_APPEND|O_EXCL open of the node and an export (SHARED_EXPORT):
 *
 *  - fcntl(F_SETFL) of every flag, F_DUPFD, dup, dup2, dup3, fork;
 *  - SCM_RIGHTS to an unprivileged process, pidfd_getfd();
 *  - fork+exec, with and without O_CLOEXEC, into a 64-bit and a 32-bit
 *    program, as root and as nobody;
 *  - re-opening by descriptor, through /proc/self/fd/N, /proc/PID/fd/N
 *    and openat(fd, "", O_EMPTYPATH): for a node file, what the opener's
 *    own open of the node gives (root; nobody, without access to the node
 *    and with it, as on a desktop); for an exported file, nothing, for the
 *    exporter's uid, another uid and root;
 *  - writable data mappings, mprotect of every mapping, MAP_PRIVATE
 *    variants, writes through /proc/self/mem and process_vm_writev,
 *    madvise and mremap of each; a capture client without RW trying to
 *    change a sample of the buffer the master reads; pinning a page of a
 *    mapping past revocation (vmsplice, process_vm_readv, io_uring fixed
 *    buffers);
 *  - LINK with the restricted fd as argument, from a process owning
 *    another stream, on the same card and across cards;
 *  - io_uring fixed files;
 *  - every /proc/asound entry, read as nobody: no kernel pointers, nothing
 *    writable, and reading changes nothing.
 *
 * After each case the master's view is compared with the one before.
 * Built 64-bit and 32-bit (the compat paths); --probe is the exec target.
 */
#include <dirent.h>
#include <poll.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include "kselftest.h"
#include "pcm-attack.h"
#include "fd-passing.h"
#ifdef HAVE_LIBURING
#include <liburing.h>
#endif

/* Linux 7.2: openat(fd, "", O_EMPTYPATH | flags) re-opens what fd names */
#ifndef O_EMPTYPATH
#define O_EMPTYPATH	(1 << 26)
#endif

/* the two kinds of restricted file */
enum fkind { F_EXCL, F_EXPORT };
static const char *const fkind_names[] = { "O_APPEND|O_EXCL open", "exported file" };

static struct master M;		/* Dummy:0 playback, running */
static struct master L;		/* Loopback:0 playback, running */
static struct master C;		/* Dummy:0 capture, running */
static char self_exe[256];

/* The master's view must not have changed since the last check */
static bool master_ok(const char *what)
{
	const char *why = master_check(&M);

	if (!why)
		why = master_check(&L);
	if (!why)
		why = master_check(&C);
	if (why)
		ksft_print_msg("%s: master disturbed: %s\n", what, why);
	return !why;
}

static unsigned int perm_of(int fd)
{
	unsigned int perm = 0;

	if (ioctl(fd, SNDRV_PCM_IOCTL_PERM_GET, &perm) < 0)
		return ~0U;
	return perm;
}

/* A fd that is exactly a restricted file holding @mask: mask, and denials */
static bool holds(int fd, unsigned int mask, char *why, size_t len)
{
	struct snd_pcm_sw_params sw;
	unsigned int perm = perm_of(fd);
	int one = 1, ret;

	if (perm != mask) {
		snprintf(why, len, "mask %#x, not %#x", perm, mask);
		return false;
	}
	if (ioctl(fd, SNDRV_PCM_IOCTL_DROP) == 0 || errno != EPERM) {
		snprintf(why, len, "DROP: %s", strerror(errno));
		return false;
	}
	if (ioctl(fd, SNDRV_PCM_IOCTL_PAUSE, 1) == 0 || errno != EPERM) {
		snprintf(why, len, "PAUSE: %s", strerror(errno));
		return false;
	}
	memset(&sw, 0, sizeof(sw));
	if (ioctl(fd, SNDRV_PCM_IOCTL_SW_PARAMS, &sw) == 0 || errno != EPERM) {
		snprintf(why, len, "SW_PARAMS: %s", strerror(errno));
		return false;
	}
	if (ioctl(fd, SNDRV_PCM_IOCTL_PERM_RESTRICT, &(unsigned int){ P_ALL }) == 0 ||
	    errno != EPERM) {
		snprintf(why, len, "PERM_RESTRICT(ALL): %s", strerror(errno));
		return false;
	}
	if (ioctl(fd, FIOASYNC, &one) == 0 || errno != EPERM) {
		snprintf(why, len, "FIOASYNC: %s", strerror(errno));
		return false;
	}
	if (pcm_export(fd, 0, O_RDONLY) != -EPERM) {
		snprintf(why, len, "SHARED_EXPORT did not fail with EPERM");
		return false;
	}
	ret = ioctl(fd, SNDRV_PCM_IOCTL_HWSYNC);
	if ((mask & P_SYNC) ? ret < 0 : (ret == 0 || errno != EPERM)) {
		snprintf(why, len, "HWSYNC: %s", ret ? strerror(errno) : "succeeded");
		return false;
	}
	return true;
}

static bool is_shared(int fd, char *why, size_t len)
{
	return holds(fd, P_SHARED, why, len);
}

static int restricted(int flags)
{
	int fd = master_restricted_open(&M, flags);

	if (fd < 0)
		ksft_exit_fail_msg("restricted open of %s: %s\n", M.name, strerror(-fd));
	return fd;
}

/* An export of @m's stream holding @mask, open as @flags says */
static int exported(struct master *m, unsigned int mask, int flags)
{
	int fd = pcm_export(m->fd, mask, (flags & (O_ACCMODE | O_NONBLOCK)) | O_CLOEXEC);

	if (fd < 0)
		ksft_exit_fail_msg("SHARED_EXPORT on %s: %s\n", m->name, strerror(-fd));
	return fd;
}

/* A SHARED file of the given kind on the master's stream */
static int restricted_kind(enum fkind kind, int flags)
{
	return kind == F_EXCL ? restricted(flags) : exported(&M, P_SHARED, flags);
}

/* Run @fn in a child process; its exit status 0 is a pass */
static int in_child(bool nobody, int (*fn)(void *), void *arg)
{
	pid_t pid = fork();
	int status;

	if (pid == 0) {
		if (nobody && drop_to_nobody())
			_exit(90);
		if (nobody)
			prctl(PR_SET_DUMPABLE, 1);	/* its own /proc/self/fd */
		_exit(fn(arg));
	}
	if (waitpid(pid, &status, 0) != pid)
		return -1;
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

/* ------------------------------------------------------------------ */

static void test_fcntl(enum fkind kind)
{
	static const int flags[] = { O_APPEND, O_NONBLOCK, O_DIRECT, O_NOATIME, O_ASYNC };
	int fd = restricted_kind(kind, O_RDWR), ok = 1;
	char why[128] = "";

	for (int set = 0; set < 32; set++) {
		int f = 0;

		for (int i = 0; i < 5; i++)
			if (set & (1 << i))
				f |= flags[i];
		if (fcntl(fd, F_SETFL, f) == 0 && (f & O_ASYNC)) {
			snprintf(why, sizeof(why), "F_SETFL(O_ASYNC) succeeded");
			ok = 0;
		}
		if (ok && !is_shared(fd, why, sizeof(why)))
			ok = 0;
	}
	if (fcntl(fd, F_GETFL) & O_ASYNC) {
		snprintf(why, sizeof(why), "O_ASYNC is set");
		ok = 0;
	}
	fcntl(fd, F_SETOWN, getpid());
	fcntl(fd, F_SETSIG, SIGUSR1);
	ok = ok && is_shared(fd, why, sizeof(why));
	close(fd);
	ksft_test_result(ok && master_ok("fcntl"),
			 "%s: fcntl(F_SETFL) of every flag combination keeps the mask; O_ASYNC refused %s\n",
			 fkind_names[kind], why);
}

/* the mask the dup, fork and SCM_RIGHTS tests give each kind of file */
static unsigned int kind_mask(enum fkind kind)
{
	return kind == F_EXCL ? P_SHARED : P_MMAP | P_SYNC;
}

static int kind_fd(enum fkind kind, int flags)
{
	return kind == F_EXCL ? restricted(flags) : exported(&M, kind_mask(kind), flags);
}

static void test_dup(enum fkind kind)
{
	unsigned int mask = kind_mask(kind);
	int fd = kind_fd(kind, O_RDWR), ok = 1, d[5], status;
	char why[128] = "";
	pid_t pid;

	d[0] = fcntl(fd, F_DUPFD, 100);
	d[1] = fcntl(fd, F_DUPFD_CLOEXEC, 110);
	d[2] = dup(fd);
	d[3] = dup2(fd, 120);
	d[4] = dup3(fd, 121, O_CLOEXEC);
	for (int i = 0; i < 5; i++) {
		if (d[i] < 0 || !holds(d[i], mask, why, sizeof(why)))
			ok = 0;
		if (d[i] >= 0)
			close(d[i]);
	}
	/* a child shares the file, and so the mask */
	pid = fork();
	if (pid == 0)
		_exit(holds(fd, mask, why, sizeof(why)) ? 0 : 3);
	if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status)) {
		snprintf(why, sizeof(why), "the forked child: status %#x", status);
		ok = 0;
	}
	ok = ok && holds(fd, mask, why, sizeof(why));
	close(fd);
	ksft_test_result(ok && master_ok("dup"),
			 "%s (mask %#x): F_DUPFD, F_DUPFD_CLOEXEC, dup, dup2, dup3, fork share the mask %s\n",
			 fkind_names[kind], mask, why);
}

/* the descriptor that came over @sock, or -1 */
static int recv_fd(int sock)
{
	char c;
	int fd = fdp_recv(sock, &c, 1, 0, NULL, NULL);

	return fd >= 0 ? fd : -1;
}

/* 0, or -1 */
static int send_fd(int sock, int fd)
{
	char c = 0;

	return fdp_send(sock, &c, 1, fd, 0) < 0 ? -1 : 0;
}

struct scm_arg {
	int sock;
	unsigned int mask;
};

static int scm_receiver(void *arg)
{
	struct scm_arg *a = arg;
	int fd = recv_fd(a->sock);
	char why[128];

	if (fd < 0)
		return 2;
	if (!holds(fd, a->mask, why, sizeof(why))) {
		printf("# received fd: %s\n", why);
		return 3;
	}
	return 0;
}

static void test_scm_rights(enum fkind kind)
{
	struct scm_arg a = { .mask = kind_mask(kind) };
	int sv[2], fd = kind_fd(kind, O_RDWR), rc;

	socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
	send_fd(sv[0], fd);
	a.sock = sv[1];
	rc = in_child(true, scm_receiver, &a);
	close(sv[0]);
	close(sv[1]);
	close(fd);
	ksft_test_result(rc == 0 && master_ok("scm"),
			 "%s (mask %#x): SCM_RIGHTS to a process of uid nobody: the same mask (status %d)\n",
			 fkind_names[kind], a.mask, rc);
}

struct getfd_arg {
	int holder_pid, target_fd;
	unsigned int mask;
};

static int getfd_thief(void *p)
{
	struct getfd_arg *a = p;
	int pidfd = syscall(SYS_pidfd_open, a->holder_pid, 0), fd;
	char why[128];

	if (pidfd < 0)
		return 2;
	fd = syscall(SYS_pidfd_getfd, pidfd, a->target_fd, 0);
	if (fd < 0) {
		printf("# pidfd_getfd: %s\n", strerror(errno));
		return 0;	/* not even that */
	}
	if (!holds(fd, a->mask, why, sizeof(why))) {
		printf("# stolen fd: %s\n", why);
		return 3;
	}
	return 0;
}

static void test_pidfd_getfd(enum fkind kind)
{
	int fd = kind_fd(kind, O_RDWR), pipefd[2], rc;
	struct getfd_arg a;
	pid_t holder;

	if (pipe(pipefd) < 0)
		ksft_exit_fail_msg("pipe: %s\n", strerror(errno));
	holder = fork();
	if (holder == 0) {
		char c;

		drop_to_nobody();
		prctl(PR_SET_DUMPABLE, 1);
		close(pipefd[1]);
		if (read(pipefd[0], &c, 1) < 0)
			_exit(1);
		_exit(0);
	}
	close(pipefd[0]);
	a.holder_pid = holder;
	a.target_fd = fd;
	a.mask = kind_mask(kind);
	rc = in_child(true, getfd_thief, &a);
	close(pipefd[1]);
	waitpid(holder, NULL, 0);
	close(fd);
	ksft_test_result(rc == 0 && master_ok("pidfd_getfd"),
			 "%s: pidfd_getfd() by another process of uid nobody: the same mask (status %d)\n",
			 fkind_names[kind], rc);
}

/* exec the probe, 64- or 32-bit, with @fd inherited or not */
static int exec_probe(int fd, bool cloexec, bool nobody, const char *suffix)
{
	char bin[300], fdarg[16];
	pid_t pid;
	int status;

	snprintf(bin, sizeof(bin), "%s%s", self_exe, suffix);
	snprintf(fdarg, sizeof(fdarg), "%d", fd);
	fcntl(fd, F_SETFD, cloexec ? FD_CLOEXEC : 0);
	pid = fork();
	if (pid == 0) {
		if (nobody && drop_to_nobody())
			_exit(90);
		execl(bin, bin, "--probe", fdarg, cloexec ? "closed" : "shared", (char *)NULL);
		_exit(91);
	}
	waitpid(pid, &status, 0);
	fcntl(fd, F_SETFD, FD_CLOEXEC);
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

static int probe_main(int fd, const char *expect)
{
	char why[128];

	if (!strcmp(expect, "closed"))
		return fcntl(fd, F_GETFD) < 0 && errno == EBADF ? 0 : 4;
	if (!is_shared(fd, why, sizeof(why))) {
		printf("# probe (%s, uid %d): %s\n", PCM_ABI, getuid(), why);
		return 3;
	}
	return 0;
}

static void test_exec(enum fkind kind)
{
	static const char *const suffixes[] = { "", "-32" };
	int fd = restricted_kind(kind, O_RDWR);

	for (int s = 0; s < 2; s++) {
		for (int nobody = 0; nobody < 2; nobody++) {
			int rc_keep, rc_close;
			char bin[300];

			snprintf(bin, sizeof(bin), "%s%s", self_exe, suffixes[s]);
			if (access(bin, X_OK)) {
				ksft_test_result_fail("exec %s: %s\n", bin, strerror(errno));
				continue;
			}
			rc_keep = exec_probe(fd, false, nobody, suffixes[s]);
			rc_close = exec_probe(fd, true, nobody, suffixes[s]);
			ksft_test_result(rc_keep == 0 && rc_close == 0 && master_ok("exec"),
					 "%s: fork+exec (%s program, as %s): inherited fd keeps SHARED (%d), O_CLOEXEC closes it (%d)\n",
					 fkind_names[kind], s ? "32-bit" : "64-bit", nobody ? "nobody" : "root",
					 rc_keep, rc_close);
		}
	}
	close(fd);
}

/*
 * Open @path relative to @dirfd (O_EMPTYPATH: what @dirfd names) with the
 * master's subdevice preferred, as alsa-lib would; fd or -errno
 */
static int open_sub(int dirfd, const char *path, int flags)
{
	char ctl[64];
	int c, fd, err;

	snprintf(ctl, sizeof(ctl), "/dev/snd/controlC%d", M.card);
	c = open(ctl, O_RDWR | O_CLOEXEC);
	if (c >= 0)
		ioctl(c, SNDRV_CTL_IOCTL_PCM_PREFER_SUBDEVICE, &M.sub);
	fd = openat(dirfd, path, flags | O_CLOEXEC);
	err = errno;
	if (c >= 0)
		close(c);
	return fd < 0 ? -err : fd;
}

/*
 * Whether openat(fd, "", O_EMPTYPATH) re-opens what fd names on this kernel
 * (Linux 7.2 has it, 6.12 does not: there, it fails with ENOENT)
 */
static bool have_emptypath;

static void probe_emptypath(void)
{
	int fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	int re = fd < 0 ? -1 : openat(fd, "", O_EMPTYPATH | O_RDONLY | O_CLOEXEC);

	have_emptypath = re >= 0;
	if (re >= 0)
		close(re);
	if (fd >= 0)
		close(fd);
}

static const int reopen_flags[] = {
	O_RDONLY, O_WRONLY, O_RDWR,
	O_RDWR | O_APPEND, O_RDWR | O_APPEND | O_EXCL, O_RDONLY | O_APPEND | O_EXCL,
	O_RDWR | O_APPEND | O_NONBLOCK,
};
#define NREOPEN (sizeof(reopen_flags) / sizeof(reopen_flags[0]))

#define WHY(...) snprintf(why + strlen(why), 400 - strlen(why), __VA_ARGS__)

/*
 * Re-open the node file @fd through @path (a /proc/.../fd/N link), and if
 * @self, through O_EMPTYPATH, with every flag combination: each must give
 * what this process's own open of the node gives (success, mask, and with
 * O_APPEND the substream)
 */
static bool reopen_like_node(int fd, const char *path, bool self, char *why)
{
	char node[64];
	bool ok = true;

	pcm_path(node, sizeof(node), M.card, M.dev, M.stream);
	for (size_t i = 0; i < NREOPEN; i++) {
		int f = reopen_flags[i] | O_NONBLOCK;
		int direct = open_sub(AT_FDCWD, node, f);
		unsigned int pd = direct >= 0 ? perm_of(direct) : 0;
		int sd = direct >= 0 ? pcm_subdevice(direct) : -1;

		if (direct >= 0)
			close(direct);
		for (int how = 0; how < (self ? 2 : 1); how++) {
			int re = how ? open_sub(fd, "", f | O_EMPTYPATH) : open_sub(AT_FDCWD, path, f);
			unsigned int pr = re >= 0 ? perm_of(re) : 0;
			int sr = re >= 0 ? pcm_subdevice(re) : -1;

			if (how && !have_emptypath) {
				/* no such re-open on this kernel: it must fail as for any file */
				if (re != -ENOENT) {
					WHY(" O_EMPTYPATH flags %#x on a kernel without it: %d;", f, re);
					ok = false;
				}
			} else if ((re < 0) != (direct < 0) || pr != pd || ((f & O_APPEND) && sr != sd) ||
			    ((f & (O_APPEND | O_EXCL)) == (O_APPEND | O_EXCL) && re >= 0 &&
			     pr != P_SHARED)) {
				WHY(" %s flags %#x (uid %d): %d/%#x, the node %d/%#x;",
				    how ? "O_EMPTYPATH" : path, f, getuid(), re < 0 ? re : 0, pr,
				    direct < 0 ? direct : 0, pd);
				ok = false;
			}
			if (re >= 0)
				close(re);
		}
	}
	return ok;
}

static bool reopen_like_node_self(int fd, char *why)
{
	char path[64];

	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	return reopen_like_node(fd, path, true, why);
}

/*
 * Re-open @fd through @path (a /proc/.../fd/N link), and if @self, through
 * O_EMPTYPATH: with every flag combination, each must fail
 */
static bool reopen_fails(int fd, const char *path, bool self, char *why)
{
	bool ok = true;

	for (size_t i = 0; i < NREOPEN; i++) {
		int f = reopen_flags[i] | O_NONBLOCK;

		for (int how = 0; how < (self ? 2 : 1); how++) {
			int re = how ? open_sub(fd, "", f | O_EMPTYPATH) : open_sub(AT_FDCWD, path, f);

			if (re >= 0) {
				WHY(" %s flags %#x (uid %d) gave a file with mask %#x;",
				    how ? "O_EMPTYPATH" : path, f, getuid(), perm_of(re));
				close(re);
				ok = false;
			} else if (i == 0) {
				WHY(" %s: %s;", how ? "O_EMPTYPATH" : "/proc", strerror(-re));
			}
		}
	}
	return ok;
}

/*
 * A process that holds the file @fd as nobody (with @fd < 0, a file it
 * makes itself, as nobody, with make_own()), first trying @fn on it (its
 * result is the holder's exit status), and waits for holder_end()
 */
struct holder {
	pid_t pid;
	int go;
	int fd;		/* the number of the file it holds */
};

static int make_own(struct master *own);

static void holder_start(struct holder *h, int fd, bool (*fn)(int, char *))
{
	int ready[2], go[2];
	char c = 0;

	if (pipe(ready) < 0 || pipe(go) < 0)
		ksft_exit_fail_msg("pipe: %s\n", strerror(errno));
	h->pid = fork();
	if (h->pid == 0) {
		struct master own;
		char why[400] = "";
		int rc = 0;

		close(ready[0]);
		close(go[1]);
		if (drop_to_nobody())
			_exit(90);
		prctl(PR_SET_DUMPABLE, 1);	/* its own /proc/PID/fd, to its uid */
		if (fd < 0)
			fd = make_own(&own);
		if (fd < 0)
			rc = 2;
		else if (fn && !fn(fd, why))
			rc = 3;
		if (why[0]) {
			printf("# holder (uid %d):%s\n", getuid(), why);
			fflush(stdout);
		}
		if (write(ready[1], &fd, sizeof(fd)) < 0 || read(go[0], &c, 1) < 0)
			_exit(rc);
		_exit(rc);
	}
	close(ready[1]);
	close(go[0]);
	/* it is nobody, and has tried, once it says so */
	if (read(ready[0], &h->fd, sizeof(h->fd)) != sizeof(h->fd))
		ksft_exit_fail_msg("holder: %s\n", strerror(errno));
	close(ready[0]);
	h->go = go[1];
}

static int holder_end(struct holder *h)
{
	int status;

	close(h->go);
	if (waitpid(h->pid, &status, 0) != h->pid)
		return -1;
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

struct other_arg {
	int fd;
	char path[64];
	bool like_node;		/* the re-open gives what the node gives, or fails */
};

static int reopen_other_nobody(void *p)
{
	struct other_arg *a = p;
	char why[400] = "";
	bool ok = a->like_node ? reopen_like_node(a->fd, a->path, false, why) :
				 reopen_fails(a->fd, a->path, false, why);

	if (why[0])
		printf("# another nobody process:%s\n", why);
	return ok ? 0 : 3;
}

static bool reopen_fails_self(int fd, char *why)
{
	char path[64];

	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	return reopen_fails(fd, path, true, why);
}

/* Let nobody open the card's nodes, as a desktop session may (0666 then back) */
struct node_modes {
	char pcm[64], ctl[64];
	mode_t pcm_mode, ctl_mode;
};

static void nodes_open_to_all(struct node_modes *nm)
{
	struct stat st;

	pcm_path(nm->pcm, sizeof(nm->pcm), M.card, M.dev, M.stream);
	snprintf(nm->ctl, sizeof(nm->ctl), "/dev/snd/controlC%d", M.card);
	stat(nm->pcm, &st);
	nm->pcm_mode = st.st_mode & 07777;
	stat(nm->ctl, &st);
	nm->ctl_mode = st.st_mode & 07777;
	chmod(nm->pcm, 0666);
	chmod(nm->ctl, 0666);
}

static void nodes_restore(struct node_modes *nm)
{
	chmod(nm->pcm, nm->pcm_mode);
	chmod(nm->ctl, nm->ctl_mode);
}

/* A file opened on the node: re-opening it is a new open of the node */
static void test_reopen_node(void)
{
	int fd = restricted(O_RDWR), rc, rc2;
	struct node_modes nm;
	struct other_arg a;
	struct holder h;
	char why[400] = "";
	bool ok;

	/* as root: exactly what root's own open of the node gives */
	ok = reopen_like_node_self(fd, why);
	ksft_test_result(ok && master_ok("reopen node root"),
			 "node file: /proc/self/fd/N and O_EMPTYPATH re-opens as root give what root's open of the node gives%s\n",
			 why);

	/* as nobody, without access to the node: nothing, as its own open */
	holder_start(&h, fd, reopen_fails_self);
	a.fd = fd;
	a.like_node = false;
	snprintf(a.path, sizeof(a.path), "/proc/%d/fd/%d", h.pid, fd);
	rc2 = in_child(true, reopen_other_nobody, &a);
	rc = holder_end(&h);
	ksft_test_result(rc == 0 && rc2 == 0 && master_ok("reopen node nobody"),
			 "node file held by nobody, without access to the node: /proc/self/fd/N, O_EMPTYPATH and, by another nobody process, /proc/PID/fd/N re-opens fail (status %d, %d)\n",
			 rc, rc2);

	/* the root master's fd, from nobody */
	snprintf(a.path, sizeof(a.path), "/proc/%d/fd/%d", getpid(), M.fd);
	a.fd = M.fd;
	rc = in_child(true, reopen_other_nobody, &a);
	ksft_test_result(rc == 0 && master_ok("reopen master"),
			 "the master's own fd: /proc/PID/fd/N re-open by nobody fails (status %d)\n", rc);

	/*
	 * nobody with access to the node, as on a desktop: each re-open is a
	 * new open with its own rights, full control with O_APPEND. The
	 * restricted open is no boundary: the export is (below).
	 */
	nodes_open_to_all(&nm);
	holder_start(&h, fd, reopen_like_node_self);
	a.fd = fd;
	a.like_node = true;
	snprintf(a.path, sizeof(a.path), "/proc/%d/fd/%d", h.pid, fd);
	rc2 = in_child(true, reopen_other_nobody, &a);
	rc = holder_end(&h);
	nodes_restore(&nm);
	ksft_test_result(rc == 0 && rc2 == 0 && master_ok("reopen node desktop"),
			 "node file held by nobody with access to the node (0666): /proc/self/fd/N, O_EMPTYPATH and /proc/PID/fd/N re-opens give what nobody's own open of the node gives (status %d, %d)\n",
			 rc, rc2);
	close(fd);
}

/* A stream of nobody's own (the node open to it), and an export of it */
static int make_own(struct master *own)
{
	int err, fd;

	master_init(own, "Dummy", 0, SNDRV_PCM_STREAM_PLAYBACK);
	err = master_open(own, true);
	if (err) {
		printf("# nobody's own stream: %s\n", strerror(-err));
		return -1;
	}
	fd = pcm_export(own->fd, P_SHARED, O_RDWR | O_CLOEXEC);
	if (fd < 0)
		printf("# nobody's export: %s\n", strerror(-fd));
	return fd;
}

/* An exported file: no re-open gives anything, whoever tries */
static void test_reopen_export(void)
{
	int fd = exported(&M, P_SHARED, O_RDWR), rc, rc2;
	char path[64], link[128] = "", why[400] = "", why2[400] = "";
	struct node_modes nm;
	struct other_arg a;
	struct holder h;
	ssize_t n;
	bool ok, ok2;

	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	n = readlink(path, link, sizeof(link) - 1);
	link[n > 0 ? n : 0] = 0;
	ksft_test_result(!strcmp(link, "anon_inode:[snd_pcm_shared]"),
			 "exported file: %s links to \"%s\"\n", path, link);

	/* held by its exporter, root */
	ok = reopen_fails_self(fd, why);
	ksft_test_result(ok && master_ok("reopen export root"),
			 "exported file held by root, its exporter: /proc/self/fd/N and O_EMPTYPATH re-opens fail:%s\n",
			 why);

	/*
	 * Held by another uid, one that may even open the node: nothing,
	 * from the holder, from another process of its uid, from root
	 */
	nodes_open_to_all(&nm);
	holder_start(&h, fd, reopen_fails_self);
	a.fd = fd;
	a.like_node = false;
	snprintf(a.path, sizeof(a.path), "/proc/%d/fd/%d", h.pid, fd);
	rc2 = in_child(true, reopen_other_nobody, &a);
	why[0] = 0;
	ok = reopen_fails(fd, a.path, false, why);
	rc = holder_end(&h);
	ksft_test_result(rc == 0 && rc2 == 0 && ok && master_ok("reopen export nobody"),
			 "exported file held by nobody, which may open the node: /proc/self/fd/N, O_EMPTYPATH, /proc/PID/fd/N by another nobody process and by root: every re-open fails (status %d, %d)%s\n",
			 rc, rc2, why);

	/*
	 * The desktop case: the server runs as the user, and exports to a
	 * client of the same uid that may open the node: no re-open of the
	 * export, from the holder (its exporter), another process of its
	 * uid, or root
	 */
	holder_start(&h, -1, reopen_fails_self);
	a.fd = h.fd;
	snprintf(a.path, sizeof(a.path), "/proc/%d/fd/%d", h.pid, h.fd);
	rc2 = in_child(true, reopen_other_nobody, &a);
	ok2 = h.fd >= 0 && reopen_fails(h.fd, a.path, false, why2);
	rc = holder_end(&h);
	nodes_restore(&nm);
	ksft_test_result(rc == 0 && rc2 == 0 && ok2 && master_ok("reopen export desktop"),
			 "export by nobody of its own stream, held by nobody: /proc/self/fd/N, O_EMPTYPATH, /proc/PID/fd/N by another nobody process and by root: every re-open fails (status %d, %d)%s\n",
			 rc, rc2, why2);
	close(fd);
}

/* ------------------------------------------------------------------ */
/* mappings */

struct maps {
	unsigned char *data, *status, *control;
	size_t data_len;
};

static int map_all(int fd, int data_prot, int flags, struct maps *m)
{
	m->data_len = M.buffer_bytes;
	m->data = mmap(NULL, m->data_len, data_prot, flags, fd, 0);
	m->status = mmap(NULL, 4096, PROT_READ, flags, fd, SNDRV_PCM_MMAP_OFFSET_STATUS_NEW);
	m->control = mmap(NULL, 4096, PROT_READ, flags, fd, SNDRV_PCM_MMAP_OFFSET_CONTROL_NEW);
	if (m->data == MAP_FAILED || m->status == MAP_FAILED || m->control == MAP_FAILED)
		return -errno;
	return 0;
}

static void unmap_all(struct maps *m)
{
	if (m->data != MAP_FAILED)
		munmap(m->data, m->data_len);
	if (m->status != MAP_FAILED)
		munmap(m->status, 4096);
	if (m->control != MAP_FAILED)
		munmap(m->control, 4096);
}

/* Write through /proc/self/mem (FOLL_FORCE): 0 if refused */
static int poke_mem(void *addr, size_t len)
{
	unsigned char buf[64];
	int fd = open("/proc/self/mem", O_RDWR | O_CLOEXEC), ret;

	if (fd < 0)
		return -errno;
	len = len < sizeof(buf) ? len : sizeof(buf);
	if (pread(fd, buf, len, (off_t)(uintptr_t)addr) != (ssize_t)len) {
		close(fd);
		return -2;	/* cannot even read it */
	}
	buf[0] ^= 0x40;
	ret = pwrite(fd, buf, len, (off_t)(uintptr_t)addr) == (ssize_t)len;
	close(fd);
	return ret;
}

static int poke_vm(void *addr)
{
	unsigned char c = 0x55;
	struct iovec local = { &c, 1 }, remote = { addr, 1 };

	return process_vm_writev(getpid(), &local, 1, &remote, 1, 0) == 1;
}

#define FAILED(...) do { ok = 0; snprintf(why + strlen(why), sizeof(why) - strlen(why), __VA_ARGS__); } while (0)

/* A data mapping with PROT_WRITE, shared or private: refused without RW */
static bool writable_data_refused(int fd, char *why, size_t len)
{
	static const struct { int prot, flags; const char *what; } tries[] = {
		{ PROT_READ | PROT_WRITE, MAP_SHARED, "shared read-write" },
		{ PROT_WRITE, MAP_SHARED, "shared write-only" },
		{ PROT_READ | PROT_WRITE, MAP_PRIVATE, "private read-write" },
	};
	bool ok = true;

	for (size_t i = 0; i < sizeof(tries) / sizeof(tries[0]); i++) {
		void *p = mmap(NULL, M.buffer_bytes, tries[i].prot, tries[i].flags, fd, 0);

		if (p != MAP_FAILED) {
			snprintf(why + strlen(why), len - strlen(why), " %s data mapping made;",
				 tries[i].what);
			munmap(p, M.buffer_bytes);
			ok = false;
		} else if (errno != EPERM && errno != EACCES) {
			snprintf(why + strlen(why), len - strlen(why), " %s data mapping: %s;",
				 tries[i].what, strerror(errno));
			ok = false;
		}
	}
	return ok;
}

static void test_mprotect(enum fkind kind)
{
	struct snd_pcm_sync_ptr before, after;
	int rw = restricted_kind(kind, O_RDWR), ro = restricted_kind(kind, O_RDONLY), ok = 1;
	char why[400] = "";
	struct maps m[3];

	memset(&before, 0, sizeof(before));
	before.flags = SNDRV_PCM_SYNC_PTR_APPL | SNDRV_PCM_SYNC_PTR_AVAIL_MIN;
	ioctl(M.fd, SNDRV_PCM_IOCTL_SYNC_PTR, &before);
	if (!writable_data_refused(rw, why, sizeof(why)) ||
	    !writable_data_refused(ro, why, sizeof(why)))
		ok = 0;
	if (map_all(ro, PROT_READ, MAP_SHARED, &m[0]) ||
	    map_all(rw, PROT_READ, MAP_SHARED, &m[1]) ||
	    map_all(rw, PROT_READ, MAP_PRIVATE, &m[2]))
		FAILED(" mapping: %s;", strerror(errno));
	for (int i = 0; i < 3 && ok; i++) {
		const char *n = i == 0 ? "O_RDONLY shared" : i == 1 ? "O_RDWR shared" : "private";

		if (mprotect(m[i].status, 4096, PROT_READ | PROT_WRITE) == 0)
			FAILED(" %s status made writable;", n);
		if (mprotect(m[i].control, 4096, PROT_READ | PROT_WRITE) == 0)
			FAILED(" %s control made writable;", n);
		if (mprotect(m[i].control, 4096, PROT_WRITE) == 0)
			FAILED(" %s control made write-only;", n);
		if (mprotect(m[i].data, m[i].data_len, PROT_READ | PROT_WRITE) == 0)
			FAILED(" %s data made writable;", n);
		if (poke_mem(m[i].status, 64) == 1 || poke_mem(m[i].control, 64) == 1)
			FAILED(" %s status/control written through /proc/self/mem;", n);
		if (poke_mem(m[i].data, 64) == 1)
			FAILED(" %s data written through /proc/self/mem;", n);
		if (poke_vm(m[i].status) || poke_vm(m[i].control) || poke_vm(m[i].data))
			FAILED(" %s mapping written by process_vm_writev;", n);
		if (madvise(m[i].data, m[i].data_len, 23 /* MADV_POPULATE_WRITE */) == 0)
			FAILED(" %s data populated for writing;", n);
		if (attack_touch(m[i].status, 4096, false) || attack_touch(m[i].control, 4096, false) ||
		    attack_touch(m[i].data, m[i].data_len, false))
			FAILED(" %s mapping unreadable;", n);
		if (attack_touch(m[i].control, 4096, true) != SIGSEGV)
			FAILED(" %s control page writable;", n);
		if (attack_touch(m[i].data, m[i].data_len, true) != SIGSEGV)
			FAILED(" %s data writable;", n);
	}
	/* writable status mapping: the kernel gives a read-only one */
	{
		void *p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, rw,
			       SNDRV_PCM_MMAP_OFFSET_STATUS_NEW);

		if (p != MAP_FAILED) {
			if (attack_touch(p, 4096, true) != SIGSEGV)
				FAILED(" PROT_WRITE status mapping is writable;");
			munmap(p, 4096);
		}
		p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE, rw,
			 SNDRV_PCM_MMAP_OFFSET_CONTROL_NEW);
		if (p != MAP_FAILED) {
			FAILED(" private writable control mapping allowed;");
			munmap(p, 4096);
		}
	}
	memset(&after, 0, sizeof(after));
	after.flags = SNDRV_PCM_SYNC_PTR_APPL | SNDRV_PCM_SYNC_PTR_AVAIL_MIN;
	ioctl(M.fd, SNDRV_PCM_IOCTL_SYNC_PTR, &after);
	if (after.c.control.appl_ptr != before.c.control.appl_ptr ||
	    after.c.control.avail_min != before.c.control.avail_min)
		FAILED(" control changed: appl_ptr %lu -> %lu, avail_min %lu -> %lu;",
		       (unsigned long)before.c.control.appl_ptr,
		       (unsigned long)after.c.control.appl_ptr,
		       (unsigned long)before.c.control.avail_min,
		       (unsigned long)after.c.control.avail_min);
	for (int i = 0; i < 3; i++)
		unmap_all(&m[i]);
	close(rw);
	close(ro);
	ksft_test_result(ok && master_ok("mprotect"),
			 "%s: no writable data mapping without RW; no mapping (shared, private) becomes writable by mprotect, /proc/self/mem, process_vm_writev or MADV_POPULATE_WRITE%s\n",
			 fkind_names[kind], why);
}

/*
 * A page of a restricted file's mapping that something could pin (a pipe
 * by vmsplice, io_uring as a fixed buffer, process_vm_readv while it
 * copies) would outlive the revocation that zaps the mapping: the
 * mappings are VM_IO, and each attempt must fail
 */
static void test_pin(enum fkind kind)
{
	int fd = restricted_kind(kind, O_RDWR), ok = 1, pipefd[2];
	char why[400] = "", buf[64];
	struct maps m;

	if (pipe2(pipefd, O_NONBLOCK | O_CLOEXEC) < 0 || map_all(fd, PROT_READ, MAP_SHARED, &m))
		FAILED(" setting up: %s;", strerror(errno));
	for (int r = 0; ok && r < 3; r++) {
		unsigned char *p = r == 0 ? m.data : r == 1 ? m.status : m.control;
		struct iovec iov = { p, 4096 }, local = { buf, sizeof(buf) };
		const char *n = r == 0 ? "data" : r == 1 ? "status" : "control";
		ssize_t got;

		got = vmsplice(pipefd[1], &iov, 1, 0);
		if (got > 0) {
			FAILED(" vmsplice took %zd bytes of the %s page;", got, n);
			while (read(pipefd[0], buf, sizeof(buf)) > 0)
				;
		}
		iov.iov_len = sizeof(buf);
		got = process_vm_readv(getpid(), &local, 1, &iov, 1, 0);
		if (got >= 0)
			FAILED(" process_vm_readv read %zd bytes of the %s page;", got, n);
#ifdef HAVE_LIBURING
		{
			struct io_uring ring;
			int ret;

			if (io_uring_queue_init(2, &ring, 0) == 0) {
				iov.iov_len = r == 0 ? m.data_len : 4096;
				ret = io_uring_register_buffers(&ring, &iov, 1);
				if (ret == 0)
					FAILED(" io_uring registered the %s mapping as a fixed buffer;", n);
				io_uring_queue_exit(&ring);
			}
		}
#endif
	}
	/* the method works: the master's own mapping is not VM_IO (information) */
	if (kind == F_EXCL) {
		void *own = mmap(NULL, 4096, PROT_READ, MAP_SHARED, M.fd, 0);
		struct iovec iov = { own, 4096 };
		ssize_t got = own == MAP_FAILED ? -1 : vmsplice(pipefd[1], &iov, 1, 0);

		ksft_print_msg("control: vmsplice from the master's own data mapping: %s\n",
			       got >= 0 ? "takes its page" : strerror(errno));
		if (own != MAP_FAILED)
			munmap(own, 4096);
	}
	unmap_all(&m);
	close(pipefd[0]);
	close(pipefd[1]);
	close(fd);
	ksft_test_result(ok && master_ok("pin"),
			 "%s: no page of its mappings can be pinned (vmsplice, process_vm_readv%s)%s\n",
			 fkind_names[kind],
#ifdef HAVE_LIBURING
			 ", io_uring fixed buffers",
#else
			 "",
#endif
			 why);
}

/*
 * A capture client without RW tries to change a sample of the buffer the
 * master reads: the master (Loopback:1 capture, prepared, so that nothing
 * else writes) fills its buffer with a pattern through its own mapping,
 * each client tries every way to write, and the master reads it back.
 */
static void test_capture_samples(void)
{
	struct master cap;
	unsigned char *own, *ro = MAP_FAILED, *priv = MAP_FAILED;
	int ok = 1, err, changed = 0, seen = 0;
	char why[400] = "";
	size_t len;

	master_init(&cap, "Loopback", 1, SNDRV_PCM_STREAM_CAPTURE);
	err = master_open(&cap, false);
	if (err)
		ksft_exit_fail_msg("capture master: %s\n", strerror(-err));
	len = cap.buffer_bytes;
	own = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, cap.fd, 0);
	if (own == MAP_FAILED)
		ksft_exit_fail_msg("capture master's mapping: %s\n", strerror(errno));
	for (size_t i = 0; i < len; i++)
		own[i] = (unsigned char)(i * 13 + 1);
	for (int kind = F_EXCL; kind <= F_EXPORT; kind++) {
		int fd = kind == F_EXCL ? master_restricted_open(&cap, O_RDWR) :
					  pcm_export(cap.fd, P_SHARED, O_RDWR | O_CLOEXEC);
		struct iovec iov = { own, 64 };

		if (fd < 0) {
			FAILED(" %s: %s;", fkind_names[kind], strerror(-fd));
			continue;
		}
		if (!writable_data_refused(fd, why, sizeof(why)))
			ok = 0;
		ro = mmap(NULL, len, PROT_READ, MAP_SHARED, fd, 0);
		priv = mmap(NULL, len, PROT_READ, MAP_PRIVATE, fd, 0);
		if (ro == MAP_FAILED || priv == MAP_FAILED) {
			FAILED(" %s: read-only mappings: %s;", fkind_names[kind], strerror(errno));
		} else {
			for (int r = 0; r < 2; r++) {
				unsigned char *p = r ? priv : ro;

				if (mprotect(p, len, PROT_READ | PROT_WRITE) == 0)
					FAILED(" %s: mprotect made the mapping writable;", fkind_names[kind]);
				poke_mem(p, 64);
				poke_mem(p + len - 64, 64);
				poke_vm(p);
				madvise(p, len, 23 /* MADV_POPULATE_WRITE */);
				attack_touch(p, len, true);
			}
			/* the client follows: it reads what the master's buffer holds */
			seen += !memcmp(ro, own, len);
			munmap(ro, len);
			munmap(priv, len);
		}
		/* a transfer would only move appl_ptr, but try */
		if (readv(fd, &iov, 1) >= 0 || errno != EPERM)
			FAILED(" %s: readv: %s;", fkind_names[kind], strerror(errno));
		close(fd);
	}
	for (size_t i = 0; i < len; i++)
		changed += own[i] != (unsigned char)(i * 13 + 1);
	munmap(own, len);
	master_close(&cap);
	ksft_test_result(ok && !changed && seen == 2 && master_ok("capture samples"),
			 "capture, without RW (O_APPEND|O_EXCL open and export, O_RDWR): no write through any mapping, /proc/self/mem, process_vm_writev or madvise reaches the buffer the master reads (%d bytes changed, %d of 2 clients read the master's samples)%s\n",
			 changed, seen, why);
}

static void test_madvise_mremap(enum fkind kind)
{
	static const int advs[] = {
		MADV_NORMAL, MADV_RANDOM, MADV_SEQUENTIAL, MADV_WILLNEED, MADV_DONTNEED,
		MADV_FREE, MADV_REMOVE, MADV_DONTFORK, MADV_DOFORK, MADV_MERGEABLE,
		MADV_UNMERGEABLE, MADV_HUGEPAGE, MADV_NOHUGEPAGE, MADV_DONTDUMP,
		MADV_DODUMP, MADV_WIPEONFORK, MADV_KEEPONFORK, MADV_COLD, MADV_PAGEOUT,
		22 /* POPULATE_READ */, 23 /* POPULATE_WRITE */, 25 /* COLLAPSE */,
	};
	int fd = restricted_kind(kind, O_RDWR), ok = 1;
	char why[256] = "";
	struct maps m;

	if (map_all(fd, PROT_READ, MAP_SHARED, &m))
		FAILED(" mapping: %s;", strerror(errno));
	for (size_t a = 0; ok && a < sizeof(advs) / sizeof(advs[0]); a++) {
		unsigned char *regions[3] = { m.data, m.status, m.control };
		size_t lens[3] = { m.data_len, 4096, 4096 };

		for (int r = 0; r < 3; r++) {
			int ret = madvise(regions[r], lens[r], advs[a]);

			if (advs[a] == 23 && ret == 0)
				FAILED(" MADV_POPULATE_WRITE on a read-only mapping succeeded;");
			if (attack_touch(regions[r], lens[r], false))
				FAILED(" unreadable after madvise %d;", advs[a]);
		}
		madvise(m.data, m.data_len, MADV_DOFORK);
	}
	/* mremap: no growing, moving is fine, no DONTUNMAP copies */
	{
		unsigned char *regions[3] = { m.data, m.status, m.control };
		size_t lens[3] = { m.data_len, 4096, 4096 };

		for (int r = 0; r < 3; r++) {
			void *p = mremap(regions[r], lens[r], lens[r] + 4096, MREMAP_MAYMOVE);

			if (p != MAP_FAILED) {
				FAILED(" mremap grew region %d;", r);
				regions[r] = p;
				lens[r] += 4096;
			}
			p = mremap(regions[r], lens[r], lens[r], MREMAP_MAYMOVE | 4 /* DONTUNMAP */);
			if (p != MAP_FAILED) {
				FAILED(" mremap DONTUNMAP copied region %d;", r);
				munmap(p, lens[r]);
			}
			{
				void *hole = mmap(NULL, lens[r], PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

				p = mremap(regions[r], lens[r], lens[r], MREMAP_MAYMOVE | MREMAP_FIXED, hole);
				if (p == MAP_FAILED)
					munmap(hole, lens[r]);
				else
					regions[r] = p;
			}
			if (attack_touch(regions[r], lens[r], false))
				FAILED(" region %d unreadable after moving;", r);
		}
		if (mprotect(regions[0], lens[0], PROT_READ | PROT_WRITE) == 0 ||
		    mprotect(regions[1], 4096, PROT_READ | PROT_WRITE) == 0 ||
		    mprotect(regions[2], 4096, PROT_READ | PROT_WRITE) == 0)
			FAILED(" a moved mapping made writable;");
		m.data = regions[0], m.status = regions[1], m.control = regions[2];
		m.data_len = lens[0];
	}
	unmap_all(&m);
	close(fd);
	ksft_test_result(ok && master_ok("madvise"),
			 "%s: madvise (every advice) and mremap of the three mappings: no growth, no write, still readable%s\n",
			 fkind_names[kind], why);
}

/* ------------------------------------------------------------------ */

struct link_arg {
	int restricted;		/* a SHARED file on the master's stream */
	int narrow;		/* every permission but CONTROL */
};

/* Another process, owning streams of its own, tries to link the master's */
static int link_attacker(void *p)
{
	struct link_arg *a = p;
	struct master own, lo;
	int ok = 1;
	char why[256] = "";

	master_init(&own, "Dummy", 0, SNDRV_PCM_STREAM_PLAYBACK);
	master_init(&lo, "Loopback", 0, SNDRV_PCM_STREAM_PLAYBACK);
	if (master_open(&own, true) || master_open(&lo, true)) {
		printf("# a stream of our own: %s\n", strerror(errno));
		return 2;
	}
	if (ioctl(own.fd, SNDRV_PCM_IOCTL_LINK, a->restricted) == 0 || errno != EPERM)
		FAILED(" LINK(own, restricted): %s;", strerror(errno));
	if (ioctl(own.fd, SNDRV_PCM_IOCTL_LINK, a->narrow) == 0 || errno != EPERM)
		FAILED(" LINK(own, ALL-but-CONTROL): %s;", strerror(errno));
	if (ioctl(lo.fd, SNDRV_PCM_IOCTL_LINK, a->restricted) == 0 || errno != EPERM)
		FAILED(" LINK(other card, restricted): %s;", strerror(errno));
	if (ioctl(a->restricted, SNDRV_PCM_IOCTL_LINK, own.fd) == 0 || errno != EPERM)
		FAILED(" LINK(restricted, own): %s;", strerror(errno));
	if (ioctl(a->narrow, SNDRV_PCM_IOCTL_LINK, own.fd) == 0 || errno != EPERM)
		FAILED(" LINK(ALL-but-CONTROL, own): %s;", strerror(errno));
	if (ioctl(a->restricted, SNDRV_PCM_IOCTL_UNLINK) == 0 || errno != EPERM)
		FAILED(" UNLINK(restricted): %s;", strerror(errno));
	/* had any gone through, the master would stop with our streams */
	ioctl(own.fd, SNDRV_PCM_IOCTL_DROP);
	ioctl(lo.fd, SNDRV_PCM_IOCTL_DROP);
	master_close(&own);
	master_close(&lo);
	if (!ok)
		printf("#%s\n", why);
	return ok ? 0 : 3;
}

static void test_link(enum fkind kind)
{
	struct link_arg a;
	unsigned int mask = P_ALL & ~P_CONTROL;
	int rc;

	memset(&a, 0, sizeof(a));
	a.restricted = restricted_kind(kind, O_RDWR);
	/* every permission but CONTROL, through an O_APPEND open narrowed */
	a.narrow = pcm_open_sub(M.card, M.dev, M.stream, M.sub, O_RDWR | O_APPEND | O_NONBLOCK);
	if (a.narrow < 0 || ioctl(a.narrow, SNDRV_PCM_IOCTL_PERM_RESTRICT, &mask))
		ksft_exit_fail_msg("narrowed file: %s\n", strerror(errno));
	rc = in_child(false, link_attacker, &a);
	ksft_test_result(rc == 0 && master_ok("link"),
			 "%s: LINK from a process owning other streams, with a file without CONTROL on either side, same card or not: EPERM, and the master keeps running (status %d)\n",
			 fkind_names[kind], rc);
	close(a.narrow);
	close(a.restricted);
}

#ifdef HAVE_LIBURING
static void test_uring(enum fkind kind)
{
	struct io_uring ring;
	struct io_uring_sqe *sqe;
	struct io_uring_cqe *cqe;
	static char buf[4096];
	int fds[2], ok = 1, res[3] = { 0, 0, 0 };
	char why[160] = "";

	/* writes go to the playback master, reads to the capture one */
	fds[0] = restricted_kind(kind, O_RDWR);
	fds[1] = kind == F_EXCL ? master_restricted_open(&C, O_RDWR) :
				  pcm_export(C.fd, P_SHARED, O_RDWR | O_CLOEXEC);
	if (fds[1] < 0 || io_uring_queue_init(4, &ring, 0)) {
		ksft_test_result_fail("io_uring: %s\n", strerror(errno));
		return;
	}
	io_uring_register_files(&ring, fds, 2);
	close(fds[0]);	/* the fixed files keep them */
	close(fds[1]);
	for (int op = 0; op < 3; op++) {
		sqe = io_uring_get_sqe(&ring);
		if (op == 0)
			io_uring_prep_read(sqe, 1, buf, sizeof(buf), 0);
		else if (op == 1)
			io_uring_prep_write(sqe, 0, buf, sizeof(buf), 0);
		else
			io_uring_prep_poll_add(sqe, 0, POLLIN | POLLOUT);
		sqe->flags |= IOSQE_FIXED_FILE;
		io_uring_submit(&ring);
		if (io_uring_wait_cqe(&ring, &cqe) == 0) {
			res[op] = cqe->res;
			io_uring_cqe_seen(&ring, cqe);
		}
	}
	if (res[0] != -EPERM || res[1] != -EPERM)
		FAILED(" read %d, write %d;", res[0], res[1]);
	if (res[2] < 0)
		FAILED(" poll %d;", res[2]);
	io_uring_unregister_files(&ring);
	io_uring_queue_exit(&ring);
	ksft_test_result(ok && master_ok("uring"),
			 "%s: io_uring read/write through fixed restricted files: EPERM; poll works%s\n",
			 fkind_names[kind], why);
}
#endif

/* ------------------------------------------------------------------ */
/* procfs */

struct proc_scan {
	int files, unreadable, writable, pointers;
	char first[600];
};

static void scan_dir(const char *dir, struct proc_scan *ps)
{
	DIR *d = opendir(dir);
	struct dirent *e;

	if (!d)
		return;
	while ((e = readdir(d))) {
		char path[512], buf[8192];
		struct stat st;
		ssize_t n;
		int fd;

		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		if (lstat(path, &st) < 0 || S_ISLNK(st.st_mode))
			continue;
		if (S_ISDIR(st.st_mode)) {
			scan_dir(path, ps);
			continue;
		}
		ps->files++;
		fd = open(path, O_WRONLY | O_NONBLOCK | O_CLOEXEC);
		if (fd >= 0) {
			ps->writable++;
			snprintf(ps->first, sizeof(ps->first), "%s writable", path);
			close(fd);
		}
		fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
		if (fd < 0) {
			ps->unreadable++;
			continue;
		}
		n = read(fd, buf, sizeof(buf) - 1);
		close(fd);
		if (n <= 0)
			continue;
		buf[n] = 0;
		/* a kernel address: 0xffff followed by 12 hex digits */
		for (char *p = buf; (p = strstr(p, "ffff")); p += 4) {
			int hex = 0;

			while (hex < 16 && p[hex] && strchr("0123456789abcdef", p[hex]))
				hex++;
			if (hex == 16) {
				ps->pointers++;
				snprintf(ps->first, sizeof(ps->first), "%s: %.16s", path, p);
				break;
			}
		}
	}
	closedir(d);
}

static int proc_as_nobody(void *arg)
{
	struct proc_scan *ps = arg;

	scan_dir("/proc/asound", ps);
	printf("# /proc/asound as nobody: %d files, %d unreadable, %d writable, %d with kernel addresses%s%s\n",
	       ps->files, ps->unreadable, ps->writable, ps->pointers,
	       ps->first[0] ? ": " : "", ps->first);
	return ps->writable || ps->pointers || !ps->files ? 3 : 0;
}

static void test_procfs(void)
{
	struct proc_scan ps;
	char path[128], buf[4096];
	int fd = restricted(O_RDWR), rc, pf;
	ssize_t n;

	memset(&ps, 0, sizeof(ps));
	rc = in_child(true, proc_as_nobody, &ps);
	ksft_test_result(rc == 0 && master_ok("procfs"),
			 "/proc/asound, read as nobody: nothing writable, no kernel address, the master unchanged (status %d)\n",
			 rc);
	/* what the status entry tells about the master's substream */
	snprintf(path, sizeof(path), "/proc/asound/card%d/pcm%d%c/sub%d/status", M.card, M.dev,
		 M.stream == SNDRV_PCM_STREAM_PLAYBACK ? 'p' : 'c', M.sub);
	pf = open(path, O_RDONLY | O_CLOEXEC);
	n = pf >= 0 ? read(pf, buf, sizeof(buf) - 1) : -1;
	if (pf >= 0)
		close(pf);
	if (n > 0) {
		buf[n] = 0;
		for (char *l = strtok(buf, "\n"); l; l = strtok(NULL, "\n"))
			ksft_print_msg("  %s: %s\n", path, l);
	}
	close(fd);
}

/* ------------------------------------------------------------------ */

int main(int argc, char **argv)
{
	char *dash;

	probe_emptypath();
	if (argc == 4 && !strcmp(argv[1], "--probe"))
		return probe_main(atoi(argv[2]), argv[3]);

	if (!have_emptypath)
		ksft_print_msg("no O_EMPTYPATH on this kernel: re-opens through it must fail with ENOENT\n");
	attack_catch_faults();
	signal(SIGUSR1, SIG_IGN);
	if (readlink("/proc/self/exe", self_exe, sizeof(self_exe) - 1) < 0)
		ksft_exit_fail_msg("readlink: %s\n", strerror(errno));
	/* the probes: this program and its 32-bit twin, named without suffix */
	dash = strstr(self_exe, "-32");
	if (dash && !dash[3])
		*dash = 0;

	ksft_print_header();
#ifdef HAVE_LIBURING
	ksft_set_plan(2 * 13 + 4 + 4 + 2);
#else
	ksft_set_plan(2 * 12 + 4 + 4 + 2);
#endif
	ksft_print_msg("ABI %s\n", PCM_ABI);
	master_init(&M, "Dummy", 0, SNDRV_PCM_STREAM_PLAYBACK);
	master_init(&L, "Loopback", 0, SNDRV_PCM_STREAM_PLAYBACK);
	master_init(&C, "Dummy", 0, SNDRV_PCM_STREAM_CAPTURE);
	if (master_open(&M, true) || master_open(&L, true) || master_open(&C, true))
		ksft_exit_fail_msg("masters: %s\n", strerror(errno));

	for (int kind = F_EXCL; kind <= F_EXPORT; kind++) {
		test_fcntl(kind);
		test_dup(kind);
		test_scm_rights(kind);
		test_pidfd_getfd(kind);
		test_exec(kind);		/* 4 results */
		test_mprotect(kind);
		test_pin(kind);
		test_madvise_mremap(kind);
		test_link(kind);
#ifdef HAVE_LIBURING
		test_uring(kind);		/* the 64-bit build has liburing */
#endif
	}
	test_reopen_node();		/* 4 results */
	test_reopen_export();		/* 4 results */
	test_capture_samples();
	test_procfs();

	master_close(&M);
	master_close(&L);
	master_close(&C);
	ksft_finished();
}
