/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Shared pieces of the attack tests (pcm-ioctl-fuzz, pcm-race-stress,
 * pcm-lifetime, pcm-escape): the holder of a restricted fd is the attacker,
 * the master's stream and the kernel are what must survive.
 *
 *  - the permission oracle, written from the kernel's documentation
 *    (pcm-restricted-sharing.rst) independently of the
 *    kernel's table: what a file holding a given mask may do;
 *  - masters that play on a card and can prove they were not disturbed;
 *  - card unbind/rebind through sysfs, KCOV and kmemleak helpers;
 *  - the "figures:" line that scripts/stress adds up.
 *
 * Header-only, like pcm-util.h, so that each program builds as one static
 * 64-bit, 32-bit or x32 binary.
 */
#ifndef PCM_ATTACK_H
#define PCM_ATTACK_H

#include <grp.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <ucontext.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/wait.h>
#include "pcm-util.h"

#define P_ANY		0x40000000u	/* not decided here: anything but success is fine */

#define UID_NOBODY	65534

/*
 * What an ioctl needs, by the table of the kernel's documentation
 * (pcm-restricted-sharing.rst): the ioctl number decides, for
 * the native and every compat form alike (same number, other size). The
 * old API reuses the numbers of HW_REFINE/HW_PARAMS with a smaller struct.
 * Numbers of other types are the VFS's or nobody's: the PCM file answers
 * them -ENOTTY whatever its mask, as it always did (the generic ones the
 * VFS answers before the driver are not decided here).
 */
static inline unsigned int attack_ioctl_need(unsigned long cmd)
{
	unsigned int type = _IOC_TYPE(cmd), nr = _IOC_NR(cmd);

	if (type != 'A') {
		switch (type) {
		case 0x00:	/* FIBMAP, FIGETBSZ */
		case 0x54:	/* FIOCLEX, FIONCLEX, FIONBIO, FIOASYNC, FIOQSIZE, FIONREAD */
		case 'X':	/* FIFREEZE, FITHAW */
		case 'f':	/* FS_IOC_* */
		case 0x94:	/* FICLONE, FIDEDUPERANGE */
		case 0x15:	/* FS_IOC_GETFSUUID, FS_IOC_GETFSSYSFSPATH */
			return P_ANY;
		}
		return P_NOTTY;
	}
	switch (nr) {
	case 0x00: case 0x01: case 0x02: case 0x04:
	case 0x14: case 0x15:
	case 0x20: case 0x21: case 0x24: case 0x32:
		return P_STATUS;
	case 0x10:
		return _IOC_SIZE(cmd) <= sizeof(struct pcm_hw_params_old) ?
			P_CONTROL : P_STATUS;
	case 0x22:
		return P_SYNC;
	case 0x23:
		return P_ANY;	/* SYNC_PTR: by its flags, see attack_sync_ptr_need() */
	case 0x46: case 0x49: case 0x50: case 0x51: case 0x52: case 0x53:
		return P_RW;
	case 0x70: case 0x71:
		return P_FREE;
	default:
		return P_CONTROL;
	}
}

static inline unsigned int attack_sync_ptr_need(unsigned int flags)
{
	unsigned int need = 0;

	if (!(flags & SNDRV_PCM_SYNC_PTR_APPL))
		need |= P_RW;
	if (!(flags & SNDRV_PCM_SYNC_PTR_AVAIL_MIN))
		need |= P_CONTROL;
	return need ?: P_SYNC;
}

/*
 * mmap: by offset; a writable mapping of the control page or the data
 * buffer (it moves appl_ptr, or feeds samples) needs RW as well
 */
static inline unsigned int attack_mmap_need(unsigned long offset, int prot)
{
	unsigned int write = (prot & PROT_WRITE) ? P_RW : 0;

	switch (offset) {
	case SNDRV_PCM_MMAP_OFFSET_STATUS_OLD:
	case SNDRV_PCM_MMAP_OFFSET_STATUS_NEW:
		return P_SYNC;
	case SNDRV_PCM_MMAP_OFFSET_CONTROL_OLD:
	case SNDRV_PCM_MMAP_OFFSET_CONTROL_NEW:
		return P_SYNC | write;
	default:
		return P_MMAP | write;
	}
}

static inline bool attack_denied(unsigned int need, unsigned int mask)
{
	if (need & (P_FREE | P_ANY | P_NOTTY))
		return false;
	return (need & mask) != need;
}

/* ------------------------------------------------------------------ */
/* masters */

struct master {
	const char *card_id;
	int dev, stream;
	int card, sub, fd;
	struct pcm_setup setup;
	size_t buffer_bytes;
	struct pcm_snapshot last;
	struct timespec last_time;
	unsigned long checks, stalls;
	char name[48];
};

static inline void master_init(struct master *m, const char *card_id, int dev, int stream)
{
	memset(m, 0, sizeof(*m));
	m->card_id = card_id;
	m->dev = dev;
	m->stream = stream;
	m->fd = -1;
	m->setup = pcm_default_setup;
	snprintf(m->name, sizeof(m->name), "%s:%d/%s", card_id, dev,
		 stream == SNDRV_PCM_STREAM_PLAYBACK ? "playback" : "capture");
}

/* Open, configure and (if @start) start the master; 0 or -errno */
static inline int master_open(struct master *m, bool start)
{
	int err;

	m->card = pcm_find_card(m->card_id);
	if (m->card < 0)
		return -ENODEV;
	m->fd = pcm_open(m->card, m->dev, m->stream, O_RDWR | O_NONBLOCK);
	if (m->fd < 0)
		return -errno;
	err = pcm_configure(m->fd, &m->setup);
	if (!err)
		err = xioctl(m->fd, SNDRV_PCM_IOCTL_PREPARE, NULL);
	if (!err && start)
		err = xioctl(m->fd, SNDRV_PCM_IOCTL_START, NULL);
	if (err) {
		close(m->fd);
		m->fd = -1;
		return err;
	}
	m->sub = pcm_subdevice(m->fd);
	m->buffer_bytes = (size_t)m->setup.period * m->setup.periods *
			  m->setup.channels * 2;
	pcm_snapshot(m->fd, &m->last);
	clock_gettime(CLOCK_MONOTONIC, &m->last_time);
	return 0;
}

static inline void master_close(struct master *m)
{
	if (m->fd >= 0)
		close(m->fd);
	m->fd = -1;
}

/* A restricted open of the master's substream; fd or -errno */
static inline int master_restricted_open(const struct master *m, int flags)
{
	int fd = pcm_open_sub(m->card, m->dev, m->stream, m->sub,
			      flags | O_APPEND | O_EXCL);

	return fd < 0 ? -errno : fd;
}

static inline double ts_diff(const struct timespec *a, const struct timespec *b)
{
	return (b->tv_sec - a->tv_sec) + (b->tv_nsec - a->tv_nsec) / 1e9;
}

/*
 * The master's view now, against the last one: state, appl_ptr, hw and sw
 * parameters must be equal, and hw_ptr must have moved forward (waiting
 * for it, boundedly, if it has not yet), by no more than the stream's rate
 * allows in the guest time that passed, give or take a buffer. The bound
 * is the stream's own clock, not a measure of the test's speed. Returns
 * NULL or what differs.
 */
static inline const char *master_check(struct master *m)
{
	static char why[200], out[320];
	struct pcm_snapshot now;
	struct timespec t;
	const char *diff;
	unsigned long moved, limit;
	int tries = 0;

	for (;;) {
		pcm_snapshot(m->fd, &now);
		clock_gettime(CLOCK_MONOTONIC, &t);
		if (now.status.hw_ptr != m->last.status.hw_ptr ||
		    now.status.state != SNDRV_PCM_STATE_RUNNING || tries++ >= 5000)
			break;
		usleep(1000);	/* a bound on the wait, not a measure */
	}
	m->checks++;
	if (now.status.state == SNDRV_PCM_STATE_RUNNING &&
	    now.status.hw_ptr == m->last.status.hw_ptr) {
		m->stalls++;
		snprintf(why, sizeof(why), "hw_ptr stalled at %lu",
			 (unsigned long)now.status.hw_ptr);
		return why;
	}
	diff = pcm_snapshot_diff(&m->last, &now);
	moved = now.status.hw_ptr - m->last.status.hw_ptr;
	if (m->last.sw.boundary)
		moved = (now.status.hw_ptr + m->last.sw.boundary - m->last.status.hw_ptr) %
			m->last.sw.boundary;
	limit = (unsigned long)(m->setup.rate * (ts_diff(&m->last_time, &t) + 1.0)) +
		2UL * m->setup.period * m->setup.periods;
	if (diff && !strncmp(diff, "hw_ptr", 6) && moved <= limit)
		diff = NULL;	/* the guest was slow: still within the clock */
	if (!diff && moved > limit) {
		snprintf(why, sizeof(why), "hw_ptr %lu -> %lu: %lu frames, more than %lu",
			 (unsigned long)m->last.status.hw_ptr,
			 (unsigned long)now.status.hw_ptr, moved, limit);
		diff = why;
	}
	if (diff) {
		snprintf(out, sizeof(out), "%s: %s", m->name, diff);
		diff = out;
	}
	m->last = now;
	m->last_time = t;
	return diff;
}

/* ------------------------------------------------------------------ */
/* cards: unbind and rebind through sysfs */

static inline const char *card_driver(const char *card_id)
{
	if (!strcmp(card_id, "Dummy"))
		return "snd_dummy";
	if (!strcmp(card_id, "Loopback"))
		return "snd_aloop";
	return NULL;
}

static inline int sysfs_write(const char *path, const char *val)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC), err = 0;

	if (fd < 0)
		return -errno;
	if (write(fd, val, strlen(val)) < 0)
		err = -errno;
	close(fd);
	return err;
}

/* Blocks until every file of the card is closed (snd_card_free waits) */
static inline int card_unbind(const char *card_id)
{
	char path[128], dev[64];

	snprintf(path, sizeof(path), "/sys/bus/platform/drivers/%s/unbind", card_driver(card_id));
	snprintf(dev, sizeof(dev), "%s.0", card_driver(card_id));
	return sysfs_write(path, dev);
}

/* Rebind and wait (boundedly) for the card to come back; 0 or -errno */
static inline int card_bind(const char *card_id)
{
	char path[128], dev[64];
	int err;

	if (pcm_find_card(card_id) >= 0)
		return 0;
	snprintf(path, sizeof(path), "/sys/bus/platform/drivers/%s/bind", card_driver(card_id));
	snprintf(dev, sizeof(dev), "%s.0", card_driver(card_id));
	err = sysfs_write(path, dev);
	if (err && err != -EBUSY && err != -ENODEV)	/* bound meanwhile */
		return err;
	return pcm_wait_for(pcm_find_card(card_id) >= 0, 20000) ? 0 : -ETIMEDOUT;
}

/*
 * Unbind from a thread, since it blocks until the card's files are closed.
 * A thread, not a child process: a forked child would hold copies of our
 * fds and mappings, and the unbind would wait for itself.
 */
struct unbind_job {
	pthread_t thread;
	const char *card_id;
	int err;
	volatile int done;
};

static inline void *unbind_thread(void *arg)
{
	struct unbind_job *job = arg;

	job->err = card_unbind(job->card_id);
	__atomic_store_n(&job->done, 1, __ATOMIC_RELEASE);
	return NULL;
}

static inline int card_unbind_async(struct unbind_job *job, const char *card_id)
{
	job->card_id = card_id;
	job->err = 0;
	job->done = 0;
	return -pthread_create(&job->thread, NULL, unbind_thread, job);
}

/* Wait up to @ms for the unbind; 0 done, -ETIMEDOUT (still blocked), or its error */
static inline int card_unbind_wait(struct unbind_job *job, int ms)
{
	if (!pcm_wait_for(__atomic_load_n(&job->done, __ATOMIC_ACQUIRE), ms))
		return -ETIMEDOUT;
	pthread_join(job->thread, NULL);
	return job->err;
}

/* ------------------------------------------------------------------ */
/* faults when touching mappings */

static __thread sigjmp_buf *volatile attack_jmp;
static __thread volatile int attack_sig;

static inline void attack_fault_handler(int sig, siginfo_t *si, void *uc)
{
	ucontext_t *ctx = uc;
	char msg[128];
	int n;

	attack_sig = sig;
	if (attack_jmp)
		siglongjmp(*attack_jmp, 1);
	n = snprintf(msg, sizeof(msg), "# fatal signal %d at address %p, ip %#lx (pid %d)\n",
		     sig, si->si_addr,
#if defined(__i386__)
		     (unsigned long)ctx->uc_mcontext.gregs[REG_EIP],
#else
		     (unsigned long)ctx->uc_mcontext.gregs[REG_RIP],
#endif
		     getpid());
	if (write(2, msg, n) < 0)
		n = 0;
	signal(sig, SIG_DFL);
	raise(sig);
}

static inline void attack_catch_faults(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = attack_fault_handler;
	sa.sa_flags = SA_NODEFER | SA_SIGINFO;
	sigaction(SIGSEGV, &sa, NULL);
	sigaction(SIGBUS, &sa, NULL);
	signal(SIGIO, SIG_IGN);
	signal(SIGPIPE, SIG_IGN);
}

/* Read (and if @write, write back) every page of a mapping; 0 or the signal */
static inline int attack_touch(volatile unsigned char *p, size_t len, bool write)
{
	sigjmp_buf jb;
	volatile size_t off;

	attack_sig = 0;
	if (sigsetjmp(jb, 1)) {
		attack_jmp = NULL;
		return attack_sig;
	}
	attack_jmp = &jb;
	for (off = 0; off < len; off += 4096) {
		unsigned char c = p[off];

		if (write)
			p[off] = c;
	}
	attack_jmp = NULL;
	return 0;
}

/* ------------------------------------------------------------------ */
/* privileges, KCOV, kmemleak, figures */

static inline int drop_to_nobody(void)
{
	if (setgroups(0, NULL) < 0 && errno != EPERM)
		return -errno;
	if (setresgid(UID_NOBODY, UID_NOBODY, UID_NOBODY) < 0 ||
	    setresuid(UID_NOBODY, UID_NOBODY, UID_NOBODY) < 0)
		return -errno;
	return 0;
}

/* the kernel's unsigned long is 64 bits: the same number in every ABI */
#define KCOV_INIT_TRACE		_IOC(_IOC_READ, 'c', 1, 8)
#define KCOV_ENABLE		_IO('c', 100)
#define KCOV_DISABLE		_IO('c', 101)
#define KCOV_TRACE_PC		0
#define KCOV_WORDS		(1 << 16)

struct kcov {
	int fd;
	uint64_t *area;		/* the kernel writes 64-bit words, in every ABI */
	uint64_t *pcs;		/* unique PCs seen, open addressing */
	size_t npcs, cap;
};

/* Enable KCOV for the calling thread; false when the kernel has none */
static inline bool kcov_start(struct kcov *k)
{
	memset(k, 0, sizeof(*k));
	k->fd = open("/sys/kernel/debug/kcov", O_RDWR | O_CLOEXEC);
	if (k->fd < 0)
		return false;
	/* the size is in unsigned longs of the kernel: 64-bit words */
	if (ioctl(k->fd, KCOV_INIT_TRACE, (unsigned long)KCOV_WORDS) < 0)
		goto fail;
	k->area = mmap(NULL, KCOV_WORDS * 8, PROT_READ | PROT_WRITE, MAP_SHARED, k->fd, 0);
	if (k->area == MAP_FAILED)
		goto fail;
	if (ioctl(k->fd, KCOV_ENABLE, KCOV_TRACE_PC) < 0)
		goto fail;
	k->cap = 1 << 15;
	k->pcs = calloc(k->cap, sizeof(uint64_t));
	__atomic_store_n(&k->area[0], 0, __ATOMIC_RELAXED);
	return true;
fail:
	close(k->fd);
	k->fd = -1;
	return false;
}

static inline void kcov_add(struct kcov *k, uint64_t pc)
{
	size_t i;

	if (k->npcs * 2 >= k->cap) {
		uint64_t *old = k->pcs;
		size_t oldcap = k->cap;

		k->cap *= 2;
		k->pcs = calloc(k->cap, sizeof(uint64_t));
		k->npcs = 0;
		for (i = 0; i < oldcap; i++)
			if (old[i])
				kcov_add(k, old[i]);
		free(old);
	}
	for (i = (pc * 0x9e3779b97f4a7c15ULL) >> 40 & (k->cap - 1);
	     k->pcs[i]; i = (i + 1) & (k->cap - 1))
		if (k->pcs[i] == pc)
			return;
	k->pcs[i] = pc;
	k->npcs++;
}

/* Collect what the last calls covered */
static inline void kcov_collect(struct kcov *k)
{
	uint64_t n, i;

	if (k->fd < 0 || !k->area)
		return;
	n = __atomic_load_n(&k->area[0], __ATOMIC_RELAXED);
	if (n > KCOV_WORDS - 1)
		n = KCOV_WORDS - 1;
	for (i = 0; i < n; i++)
		kcov_add(k, k->area[i + 1]);
	__atomic_store_n(&k->area[0], 0, __ATOMIC_RELAXED);
}

/* "kcov-pcs: HEX..." lines, for scripts/kcov-coverage on the host */
static inline void kcov_print(FILE *f, const uint64_t *pcs, size_t cap)
{
	int col = 0;

	for (size_t i = 0; i < cap; i++) {
		if (!pcs[i])
			continue;
		if (!col)
			fprintf(f, "kcov-pcs:");
		fprintf(f, " %llx", (unsigned long long)pcs[i]);
		if (++col == 16) {
			fprintf(f, "\n");
			col = 0;
		}
	}
	if (col)
		fprintf(f, "\n");
}

/*
 * kmemleak: kmemleak_begin() forgets what boot left, once per boot, so that
 * the count at the end of the last phase of a battery covers every phase
 * since the first began; kmemleak_count() scans and returns the number of
 * leaked objects reported (printing them), or -1 when kmemleak is off
 * (boot with kmemleak=on).
 */
#define KMEMLEAK_BEGUN	"/run/pcm-kmemleak-begun"

static inline bool kmemleak_begin(void)
{
	int fd;

	if (access(KMEMLEAK_BEGUN, F_OK) == 0)
		return true;
	if (sysfs_write("/sys/kernel/debug/kmemleak", "scan") ||
	    sysfs_write("/sys/kernel/debug/kmemleak", "clear"))
		return false;
	fd = open(KMEMLEAK_BEGUN, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
	if (fd >= 0)
		close(fd);
	return true;
}

static inline int kmemleak_count(FILE *out)
{
	char line[512];
	int leaks = 0;
	FILE *f;

	/* objects younger than 5 s are not reported: let the last ones age */
	sleep(6);
	if (sysfs_write("/sys/kernel/debug/kmemleak", "scan") < 0)
		return -1;
	sysfs_write("/sys/kernel/debug/kmemleak", "scan");
	f = fopen("/sys/kernel/debug/kmemleak", "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		if (!strncmp(line, "unreferenced object", 19))
			leaks++;
		if (out)
			fprintf(out, "# kmemleak: %s", line);
	}
	fclose(f);
	return leaks;
}

struct figures {
	unsigned long ioctls, calls, procs, threads, seconds;
	unsigned long disturbances, violations, leaks;
};

static inline void figures_print(const char *prog, const struct figures *f)
{
	printf("figures: prog=%s abi=%s ioctls=%lu calls=%lu procs=%lu threads=%lu "
	       "seconds=%lu disturbances=%lu violations=%lu leaks=%lu\n",
	       prog, PCM_ABI, f->ioctls, f->calls, f->procs, f->threads,
	       f->seconds, f->disturbances, f->violations, f->leaks);
	fflush(stdout);
}

/* xorshift64*: reproducible from a printed seed */
static inline uint64_t rnd_next(uint64_t *s)
{
	uint64_t x = *s;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	*s = x;
	return x * 0x2545f4914f6cdd1dULL;
}

static inline unsigned int rnd(uint64_t *s, unsigned int n)
{
	return n ? (unsigned int)(rnd_next(s) % n) : 0;
}

static inline double now_s(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec + t.tv_nsec / 1e9;
}

#endif /* PCM_ATTACK_H */
