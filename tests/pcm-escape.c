// SPDX-License-Identifier: GPL-2.0
/*
 * Ways out of a restricted PCM file: can its holder end up with more than
 * SNDRV_PCM_PERM_SHARED, or make a mapping writable, or drive the master's
 * stream through another one, or learn through procfs what it should not?
 *
 *  - fcntl(F_SETFL) of every flag, F_DUPFD, dup, dup2, dup3;
 *  - SCM_RIGHTS to an unprivileged process, pidfd_getfd();
 *  - fork+exec, with and without O_CLOEXEC, into a 64-bit and a 32-bit
 *    program, as root and as nobody;
 *  - re-opening /proc/self/fd/N and /proc/PID/fd/N, as root (what root's
 *    own open of the node gives) and as nobody (nothing);
 *  - mprotect of every mapping, MAP_PRIVATE variants, writes through
 *    /proc/self/mem and process_vm_writev, madvise and mremap of each;
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
#ifdef HAVE_LIBURING
#include <liburing.h>
#endif

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

/* A fd that is exactly a SHARED restricted file: mask, and denials */
static bool is_shared(int fd, char *why, size_t len)
{
	struct snd_pcm_sw_params sw;
	unsigned int perm = perm_of(fd);
	int one = 1;

	if (perm != P_SHARED) {
		snprintf(why, len, "mask %#x", perm);
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
	if (ioctl(fd, SNDRV_PCM_IOCTL_HWSYNC) < 0) {
		snprintf(why, len, "HWSYNC: %s", strerror(errno));
		return false;
	}
	return true;
}

static int restricted(int flags)
{
	int fd = master_restricted_open(&M, flags);

	if (fd < 0)
		ksft_exit_fail_msg("restricted open of %s: %s\n", M.name, strerror(-fd));
	return fd;
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

static void test_fcntl(void)
{
	static const int flags[] = { O_APPEND, O_NONBLOCK, O_DIRECT, O_NOATIME, O_ASYNC };
	int fd = restricted(O_RDWR), ok = 1;
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
			 "fcntl(F_SETFL) of every flag combination keeps the mask; O_ASYNC refused %s\n", why);
}

static void test_dup(void)
{
	int fd = restricted(O_RDWR), ok = 1, d[5];
	char why[128] = "";

	d[0] = fcntl(fd, F_DUPFD, 100);
	d[1] = fcntl(fd, F_DUPFD_CLOEXEC, 110);
	d[2] = dup(fd);
	d[3] = dup2(fd, 120);
	d[4] = dup3(fd, 121, O_CLOEXEC);
	for (int i = 0; i < 5; i++) {
		if (d[i] < 0 || !is_shared(d[i], why, sizeof(why)))
			ok = 0;
		if (d[i] >= 0)
			close(d[i]);
	}
	ok = ok && is_shared(fd, why, sizeof(why));
	close(fd);
	ksft_test_result(ok && master_ok("dup"),
			 "F_DUPFD, F_DUPFD_CLOEXEC, dup, dup2, dup3 share the mask %s\n", why);
}

static int recv_fd(int sock)
{
	char c, cbuf[CMSG_SPACE(sizeof(int))];
	struct iovec iov = { &c, 1 };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1,
			     .msg_control = cbuf, .msg_controllen = sizeof(cbuf) };
	struct cmsghdr *cm;
	int fd = -1;

	if (recvmsg(sock, &mh, 0) <= 0)
		return -1;
	cm = CMSG_FIRSTHDR(&mh);
	if (cm && cm->cmsg_type == SCM_RIGHTS)
		memcpy(&fd, CMSG_DATA(cm), sizeof(int));
	return fd;
}

static int send_fd(int sock, int fd)
{
	char c = 0, cbuf[CMSG_SPACE(sizeof(int))];
	struct iovec iov = { &c, 1 };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1,
			     .msg_control = cbuf, .msg_controllen = sizeof(cbuf) };
	struct cmsghdr *cm = CMSG_FIRSTHDR(&mh);

	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(cm), &fd, sizeof(int));
	return sendmsg(sock, &mh, 0) < 0 ? -1 : 0;
}

static int scm_receiver(void *arg)
{
	int sock = *(int *)arg, fd = recv_fd(sock);
	char why[128];

	if (fd < 0)
		return 2;
	if (!is_shared(fd, why, sizeof(why))) {
		printf("# received fd: %s\n", why);
		return 3;
	}
	return 0;
}

static void test_scm_rights(void)
{
	int sv[2], fd = restricted(O_RDWR), rc;

	socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
	send_fd(sv[0], fd);
	rc = in_child(true, scm_receiver, &sv[1]);
	close(sv[0]);
	close(sv[1]);
	close(fd);
	ksft_test_result(rc == 0 && master_ok("scm"),
			 "SCM_RIGHTS to a process of uid nobody: the same mask (status %d)\n", rc);
}

struct getfd_arg {
	int holder_pid, target_fd;
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
	if (!is_shared(fd, why, sizeof(why))) {
		printf("# stolen fd: %s\n", why);
		return 3;
	}
	return 0;
}

static void test_pidfd_getfd(void)
{
	int fd = restricted(O_RDWR), pipefd[2], rc;
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
	rc = in_child(true, getfd_thief, &a);
	close(pipefd[1]);
	waitpid(holder, NULL, 0);
	close(fd);
	ksft_test_result(rc == 0 && master_ok("pidfd_getfd"),
			 "pidfd_getfd() by another process of uid nobody: the same mask (status %d)\n", rc);
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

static void test_exec(void)
{
	static const char *const suffixes[] = { "", "-32" };
	int fd = restricted(O_RDWR);

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
					 "fork+exec (%s program, as %s): inherited fd keeps SHARED (%d), O_CLOEXEC closes it (%d)\n",
					 s ? "32-bit" : "64-bit", nobody ? "nobody" : "root",
					 rc_keep, rc_close);
		}
	}
	close(fd);
}

/* Open @path with the master's subdevice preferred; fd or -errno */
static int open_path_sub(const char *path, int flags)
{
	char ctl[64];
	int c, fd, err;

	snprintf(ctl, sizeof(ctl), "/dev/snd/controlC%d", M.card);
	c = open(ctl, O_RDWR | O_CLOEXEC);
	if (c >= 0)
		ioctl(c, SNDRV_CTL_IOCTL_PCM_PREFER_SUBDEVICE, &M.sub);
	fd = open(path, flags | O_CLOEXEC);
	err = errno;
	if (c >= 0)
		close(c);
	return fd < 0 ? -err : fd;
}

static const int reopen_flags[] = {
	O_RDONLY, O_WRONLY, O_RDWR,
	O_RDWR | O_APPEND, O_RDWR | O_APPEND | O_EXCL, O_RDONLY | O_APPEND | O_EXCL,
	O_RDWR | O_APPEND | O_NONBLOCK,
};
#define NREOPEN (sizeof(reopen_flags) / sizeof(reopen_flags[0]))

static int reopen_as_nobody(void *arg)
{
	const char *path = arg;
	int bad = 0;

	for (size_t i = 0; i < NREOPEN; i++) {
		int fd = open_path_sub(path, reopen_flags[i] | O_NONBLOCK);

		if (fd >= 0) {
			printf("# %s reopened by nobody with flags %#x: mask %#x\n", path,
			       reopen_flags[i], perm_of(fd));
			close(fd);
			bad++;
		} else if (fd != -EACCES && fd != -EPERM) {
			printf("# %s reopened by nobody with flags %#x: %s\n", path,
			       reopen_flags[i], strerror(-fd));
		}
	}
	return bad ? 3 : 0;
}

static void test_proc_fd(void)
{
	int fd = restricted(O_RDWR), ok = 1, rc, rc2;
	char path[64], node[64], why[160] = "";

	/* as root: exactly what root's own open of the node gives */
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	pcm_path(node, sizeof(node), M.card, M.dev, M.stream);
	for (size_t i = 0; i < NREOPEN; i++) {
		int f = reopen_flags[i] | O_NONBLOCK;
		int viaproc = open_path_sub(path, f), direct = open_path_sub(node, f);
		unsigned int p1 = viaproc >= 0 ? perm_of(viaproc) : 0;
		unsigned int p2 = direct >= 0 ? perm_of(direct) : 0;
		int s1 = viaproc >= 0 ? pcm_subdevice(viaproc) : -1;
		int s2 = direct >= 0 ? pcm_subdevice(direct) : -1;

		if ((viaproc < 0) != (direct < 0) || p1 != p2 ||
		    ((f & O_APPEND) && s1 != s2)) {
			snprintf(why + strlen(why), sizeof(why) - strlen(why),
				 " flags %#x: /proc gives %d/%#x, the node %d/%#x;", f,
				 viaproc < 0 ? viaproc : 0, p1, direct < 0 ? direct : 0, p2);
			ok = 0;
		}
		if ((f & (O_APPEND | O_EXCL)) == (O_APPEND | O_EXCL) && p1 != P_SHARED)
			ok = 0;
		if (viaproc >= 0)
			close(viaproc);
		if (direct >= 0)
			close(direct);
	}
	ksft_test_result(ok && master_ok("proc fd root"),
			 "/proc/self/fd re-open as root gives what root's open of the node gives%s\n", why);

	/* as nobody, its own fd: the node's permissions stop it */
	{
		pid_t pid;
		int status, pipefd[2];
		char c;

		if (pipe(pipefd) < 0)
			ksft_exit_fail_msg("pipe: %s\n", strerror(errno));
		pid = fork();
		if (pid == 0) {
			char p[64];

			drop_to_nobody();
			prctl(PR_SET_DUMPABLE, 1);
			snprintf(p, sizeof(p), "/proc/self/fd/%d", fd);
			rc = reopen_as_nobody(p);
			/* stay alive for the next one */
			close(pipefd[1]);
			if (read(pipefd[0], &c, 1) < 0)
				_exit(rc);
			_exit(rc);
		}
		close(pipefd[0]);
		/* another nobody process, through /proc/PID/fd */
		snprintf(path, sizeof(path), "/proc/%d/fd/%d", pid, fd);
		usleep(100000);
		rc2 = in_child(true, reopen_as_nobody, path);
		close(pipefd[1]);
		waitpid(pid, &status, 0);
		rc = WIFEXITED(status) ? WEXITSTATUS(status) : 128;
	}
	ksft_test_result(rc == 0 && master_ok("proc fd nobody"),
			 "/proc/self/fd re-open as nobody fails for every flag combination (status %d)\n", rc);
	ksft_test_result(rc2 == 0 && master_ok("proc pid fd nobody"),
			 "/proc/PID/fd re-open by another nobody process fails (status %d)\n", rc2);

	/* the root master's fd, from nobody */
	snprintf(path, sizeof(path), "/proc/%d/fd/%d", getpid(), M.fd);
	rc = in_child(true, reopen_as_nobody, path);
	ksft_test_result(rc == 0 && master_ok("proc master fd"),
			 "/proc/PID/fd of the master's own fd, re-opened by nobody, fails (status %d)\n", rc);
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

static void test_mprotect(void)
{
	struct snd_pcm_sync_ptr before, after;
	int rw = restricted(O_RDWR), ro = restricted(O_RDONLY), ok = 1;
	char why[256] = "";
	struct maps m[3];

#define FAILED(...) do { ok = 0; snprintf(why + strlen(why), sizeof(why) - strlen(why), __VA_ARGS__); } while (0)

	memset(&before, 0, sizeof(before));
	before.flags = SNDRV_PCM_SYNC_PTR_APPL | SNDRV_PCM_SYNC_PTR_AVAIL_MIN;
	ioctl(M.fd, SNDRV_PCM_IOCTL_SYNC_PTR, &before);
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
		if (i == 0 && mprotect(m[i].data, m[i].data_len, PROT_READ | PROT_WRITE) == 0)
			FAILED(" data of an O_RDONLY file made writable;");
		if (poke_mem(m[i].status, 64) == 1 || poke_mem(m[i].control, 64) == 1)
			FAILED(" %s status/control written through /proc/self/mem;", n);
		if (poke_vm(m[i].status) || poke_vm(m[i].control))
			FAILED(" %s status/control written by process_vm_writev;", n);
		if (i == 0 && poke_mem(m[i].data, 64) == 1)
			FAILED(" read-only data written through /proc/self/mem;");
		if (attack_touch(m[i].status, 4096, false) || attack_touch(m[i].control, 4096, false))
			FAILED(" %s mapping unreadable;", n);
		if (attack_touch(m[i].control, 4096, true) != SIGSEGV)
			FAILED(" %s control page writable;", n);
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
			 "no status/control mapping (shared, private) becomes writable by mprotect, /proc/self/mem or process_vm_writev%s\n",
			 why);
}

static void test_madvise_mremap(void)
{
	static const int advs[] = {
		MADV_NORMAL, MADV_RANDOM, MADV_SEQUENTIAL, MADV_WILLNEED, MADV_DONTNEED,
		MADV_FREE, MADV_REMOVE, MADV_DONTFORK, MADV_DOFORK, MADV_MERGEABLE,
		MADV_UNMERGEABLE, MADV_HUGEPAGE, MADV_NOHUGEPAGE, MADV_DONTDUMP,
		MADV_DODUMP, MADV_WIPEONFORK, MADV_KEEPONFORK, MADV_COLD, MADV_PAGEOUT,
		22 /* POPULATE_READ */, 23 /* POPULATE_WRITE */, 25 /* COLLAPSE */,
	};
	int fd = restricted(O_RDWR), ok = 1;
	char why[256] = "";
	struct maps m;

	if (map_all(fd, PROT_READ | PROT_WRITE, MAP_SHARED, &m))
		FAILED(" mapping: %s;", strerror(errno));
	for (size_t a = 0; ok && a < sizeof(advs) / sizeof(advs[0]); a++) {
		unsigned char *regions[3] = { m.data, m.status, m.control };
		size_t lens[3] = { m.data_len, 4096, 4096 };

		for (int r = 0; r < 3; r++) {
			int ret = madvise(regions[r], lens[r], advs[a]);

			if (advs[a] == 23 && r > 0 && ret == 0)
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
		if (mprotect(regions[1], 4096, PROT_READ | PROT_WRITE) == 0 ||
		    mprotect(regions[2], 4096, PROT_READ | PROT_WRITE) == 0)
			FAILED(" moved status/control made writable;");
		m.data = regions[0], m.status = regions[1], m.control = regions[2];
		m.data_len = lens[0];
	}
	unmap_all(&m);
	close(fd);
	ksft_test_result(ok && master_ok("madvise"),
			 "madvise (every advice) and mremap of the three mappings: no growth, no write, still readable%s\n",
			 why);
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

static void test_link(void)
{
	struct link_arg a;
	unsigned int mask = P_ALL & ~P_CONTROL;
	int rc;

	memset(&a, 0, sizeof(a));
	a.restricted = restricted(O_RDWR);
	/* every permission but CONTROL, through an O_APPEND open narrowed */
	a.narrow = pcm_open_sub(M.card, M.dev, M.stream, M.sub, O_RDWR | O_APPEND | O_NONBLOCK);
	if (a.narrow < 0 || ioctl(a.narrow, SNDRV_PCM_IOCTL_PERM_RESTRICT, &mask))
		ksft_exit_fail_msg("narrowed file: %s\n", strerror(errno));
	rc = in_child(false, link_attacker, &a);
	ksft_test_result(rc == 0 && master_ok("link"),
			 "LINK from a process owning other streams, with a file without CONTROL on either side, same card or not: EPERM, and the master keeps running (status %d)\n",
			 rc);
	close(a.narrow);
	close(a.restricted);
}

static void test_uring(void)
{
#ifdef HAVE_LIBURING
	struct io_uring ring;
	struct io_uring_sqe *sqe;
	struct io_uring_cqe *cqe;
	static char buf[4096];
	int fds[2], ok = 1, res[3] = { 0, 0, 0 };
	char why[160] = "";

	/* writes go to the playback master, reads to the capture one */
	fds[0] = restricted(O_RDWR);
	fds[1] = master_restricted_open(&C, O_RDWR);
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
			 "io_uring read/write through fixed restricted files: EPERM; poll works%s\n", why);
#else
	ksft_test_result_pass("io_uring: tested by the 64-bit build\n");
#endif
}

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

	if (argc == 4 && !strcmp(argv[1], "--probe"))
		return probe_main(atoi(argv[2]), argv[3]);

	attack_catch_faults();
	signal(SIGUSR1, SIG_IGN);
	if (readlink("/proc/self/exe", self_exe, sizeof(self_exe) - 1) < 0)
		ksft_exit_fail_msg("readlink: %s\n", strerror(errno));
	/* the probes: this program and its 32-bit twin, named without suffix */
	dash = strstr(self_exe, "-32");
	if (dash && !dash[3])
		*dash = 0;

	ksft_print_header();
	ksft_set_plan(17);
	ksft_print_msg("ABI %s\n", PCM_ABI);
	master_init(&M, "Dummy", 0, SNDRV_PCM_STREAM_PLAYBACK);
	master_init(&L, "Loopback", 0, SNDRV_PCM_STREAM_PLAYBACK);
	master_init(&C, "Dummy", 0, SNDRV_PCM_STREAM_CAPTURE);
	if (master_open(&M, true) || master_open(&L, true) || master_open(&C, true))
		ksft_exit_fail_msg("masters: %s\n", strerror(errno));

	test_fcntl();
	test_dup();
	test_scm_rights();
	test_pidfd_getfd();
	test_exec();		/* 4 results */
	test_proc_fd();		/* 4 results */
	test_mprotect();
	test_madvise_mremap();
	test_link();
	test_uring();
	test_procfs();

	master_close(&M);
	master_close(&L);
	master_close(&C);
	ksft_finished();
}
