// SPDX-License-Identifier: GPL-2.0
/*
 * An ioctl fuzzer for restricted PCM files, run while masters play.
 *
 * The parent is the sound server: it opens, configures and starts a master
 * on each of Dummy:0 playback and capture, Loopback:0 playback and
 * Loopback:1 capture, and hands out restricted fds over a socket, as a
 * server would: O_APPEND | O_EXCL opens of the master's substream, and
 * exports (SHARED_EXPORT, SHARED or narrower); after some batches it
 * revokes one of them by name, or all of a master's with -1. It starts
 * attacker processes, 64-bit, 32-bit and x32 builds of this program
 * (--child), which drop to uid nobody and, in batches:
 *
 *  - issue ioctls on their restricted fds: a sweep of the whole 'A' space
 *    (every number, every direction, the sizes of every PCM struct in
 *    every ABI), then random commands of any type, size and direction,
 *    with random and boundary arguments (NULL, unmapped, partially mapped,
 *    kernel, huge, inside the PCM mappings, structured payloads);
 *  - interleave mmap/munmap/mprotect/madvise/mremap of the three regions,
 *    touching the mappings, poll/epoll, read/write/readv/writev, io_uring
 *    read/write/poll/splice (64-bit build), fcntl, dup, SCM_RIGHTS, fork,
 *    PERM_RESTRICT, close and re-request;
 *  - call LINK and friends on a stream of their own with the restricted
 *    fds as argument.
 *
 * Every result is judged by an oracle written from the kernel's
 * documentation (pcm-restricted-sharing.rst, in pcm-attack.h):
 * a call the file's mask does not allow must fail (-EPERM for ioctls,
 * with its argument untouched), an ioctl of another type answers -ENOTTY,
 * a mapping made without write permission must not become writable. A
 * file that answers -ENODEV must be revoked (PERM_GET says so), answer
 * -ENODEV to every PCM ioctl from then on, make no mapping, poll POLLERR
 * and POLLHUP, and every mapping made of it must read zeros. After every
 * batch the parent checks each master: state, parameters, appl_ptr
 * unchanged, hw_ptr progressing.
 *
 * With KCOV (debugfs), the PCs reached in the instrumented PCM core are
 * printed as "kcov-pcs:" lines for scripts/kcov-coverage.
 *
 *   pcm-ioctl-fuzz [--seconds S] [--batches N] [--ops N] [--seed N]
 *                  [--abis x86_64,i386,x32] [--procs-per-abi N] [--kcov]
 */
#include <getopt.h>
#include <limits.h>
#include <poll.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include "kselftest.h"
#include "pcm-attack.h"
#include "fd-passing.h"
#ifdef HAVE_LIBURING
#include <liburing.h>
#endif

enum { M_REQ_FD = 1, M_FD, M_BATCH, M_ACK, M_DONE, M_PCS };

/* the same layout in every ABI: four ints, then 64-bit words */
struct msg {
	int32_t type, a, b, c;
	uint64_t v[6];
};

struct pcs_msg {
	int32_t type, n, pad[2];
	uint64_t pc[250];
};

#define NSTREAMS 4
#define MAX_CHILDREN 12

/* ------------------------------------------------------------------ */
/* the attacker */

struct rfile {			/* an open file description we hold fds or maps of */
	unsigned int mask;
	int accmode;
	int refs;
	bool revoked;
};

struct slot {
	int fd;
	int stream;
	struct rfile *file;
};

enum mkind { MAP_DATA, MAP_STATUS, MAP_CONTROL, MAP_OTHER };

struct mapping {
	unsigned char *addr;
	size_t len;
	int prot, flags;
	enum mkind kind;
	bool ro_file;		/* MAP_SHARED of a file not open for writing */
	struct rfile *file;
};

#define NSLOTS 10
#define NMAPS 24

struct attacker {
	uint64_t seed;
	int sock, own_fd;
	struct slot slots[NSLOTS];
	struct mapping maps[NMAPS];
	unsigned char *arena;	/* 2 pages, then a PROT_NONE guard page */
	unsigned char *unmapped;	/* PROT_NONE */
	unsigned char *scratch;	/* room for mremap targets */
	unsigned long ioctls, calls, violations, faults, revoked;
	unsigned long sweep_pos;
	struct kcov kcov;
	bool have_kcov;
	size_t buffer_bytes;
#ifdef HAVE_LIBURING
	struct io_uring ring;
	bool have_ring;
#endif
};

static struct attacker A;

static void violation(const char *fmt, ...)
{
	va_list ap;

	A.violations++;
	if (A.violations > 30)
		return;
	va_start(ap, fmt);
	printf("# VIOLATION (%s, pid %d): ", PCM_ABI, getpid());
	vprintf(fmt, ap);
	printf("\n");
	va_end(ap);
	fflush(stdout);
}

/* A message to the other side, with the descriptor @fd if not negative: 0 or -errno */
static int send_msg(int sock, const struct msg *m, int fd)
{
	return fdp_send(sock, m, sizeof(*m), fd, MSG_NOSIGNAL);
}

/*
 * A message from the other side; *@fd gets the descriptor that came with
 * it, or -1 (without @fd, one that came is closed). 0, -errno, or -EPIPE
 * when the other side is gone.
 */
static int recv_msg(int sock, struct msg *m, int *fd)
{
	ssize_t n;
	int got = fdp_recv(sock, m, sizeof(*m), MSG_CMSG_CLOEXEC, &n, NULL);

	if (fd)
		*fd = -1;
	if (n <= 0)
		return n < 0 ? got : -EPIPE;
	if (got >= 0) {
		if (fd)
			*fd = got;
		else
			close(got);
	}
	return 0;
}

static const int accmodes[] = { O_RDWR, O_RDONLY, O_WRONLY };

/* Ask the server for a restricted fd on @stream; fills the slot */
static void slot_request(struct slot *s, int stream)
{
	struct msg m = { .type = M_REQ_FD, .a = stream };
	int fd, acc = accmodes[rnd(&A.seed, 3)], ret;

	m.b = acc | (rnd(&A.seed, 2) ? O_NONBLOCK : 0);
	s->fd = -1;
	if (send_msg(A.sock, &m, -1) || recv_msg(A.sock, &m, &fd) || fd < 0)
		return;
	s->fd = fd;
	s->stream = stream;
	s->file = calloc(1, sizeof(*s->file));
	s->file->accmode = acc;
	s->file->refs = 1;
	/* an open gives SHARED, an export what the server chose */
	ret = ioctl(fd, SNDRV_PCM_IOCTL_PERM_GET, &s->file->mask);
	if (ret < 0 && errno == ENODEV) {
		s->file->revoked = true;	/* on the way already */
		A.revoked++;
	} else if (ret < 0 || (s->file->mask & ~P_SHARED)) {
		violation("a restricted fd from the server holds %#x (%s)", s->file->mask,
			  ret < 0 ? strerror(errno) : "PERM_GET");
	}
}

static void file_put(struct rfile *f)
{
	if (--f->refs == 0)
		free(f);
}

static void slot_close(struct slot *s)
{
	if (s->fd < 0)
		return;
	close(s->fd);
	file_put(s->file);
	s->fd = -1;
	s->file = NULL;
}

static void map_drop(struct mapping *m)
{
	m->addr = NULL;
	if (m->file)
		file_put(m->file);
	m->file = NULL;
}

/*
 * A file that answered -ENODEV: it must be revoked for good (PERM_GET says
 * so too), and no mapping made of it reaches the stream any more: having
 * no RW, each reads zeros. Returns whether it is revoked.
 */
static bool file_answered_enodev(struct slot *s, const char *what)
{
	struct rfile *f = s->file;
	unsigned int got;

	if (f->revoked)
		return true;
	if (ioctl(s->fd, SNDRV_PCM_IOCTL_PERM_GET, &got) == 0 || errno != ENODEV) {
		violation("%s: ENODEV from a file that is not revoked (PERM_GET: %s)", what,
			  strerror(errno));
		return false;
	}
	f->revoked = true;
	A.revoked++;
	for (int i = 0; i < NMAPS; i++) {
		struct mapping *m = &A.maps[i];
		size_t bad = m->len;

		if (!m->addr || m->file != f || m->kind == MAP_OTHER || !(m->prot & PROT_READ))
			continue;
		A.calls++;
		if (attack_touch(m->addr, m->len, false)) {
			violation("a mapping of a revoked file faulted on reading (signal %d)", attack_sig);
			continue;
		}
		for (size_t b = 0; b < m->len && bad == m->len; b++)
			if (m->addr[b])
				bad = b;
		if (bad != m->len)
			violation("a %s mapping of a revoked file reads %#x at %zu, not zero",
				  m->kind == MAP_DATA ? "data" : m->kind == MAP_STATUS ? "status" : "control",
				  m->addr[bad], bad);
	}
	return true;
}

static struct slot *pick_slot(void)
{
	for (int tries = 0; tries < 20; tries++) {
		struct slot *s = &A.slots[rnd(&A.seed, NSLOTS)];

		if (s->fd >= 0)
			return s;
	}
	for (int i = 0; i < NSLOTS; i++)
		if (A.slots[i].fd >= 0)
			return &A.slots[i];
	return NULL;
}

/* ------------------------------------------------------------------ */
/* commands and arguments */

static const unsigned long known_cmds[] = {
	SNDRV_PCM_IOCTL_PVERSION, SNDRV_PCM_IOCTL_INFO, SNDRV_PCM_IOCTL_TSTAMP,
	SNDRV_PCM_IOCTL_TTSTAMP, SNDRV_PCM_IOCTL_USER_PVERSION,
	SNDRV_PCM_IOCTL_HW_REFINE, SNDRV_PCM_IOCTL_HW_PARAMS, SNDRV_PCM_IOCTL_HW_FREE,
	SNDRV_PCM_IOCTL_SW_PARAMS, SNDRV_PCM_IOCTL_HW_PARAMS_GET,
	SNDRV_PCM_IOCTL_SW_PARAMS_GET, SNDRV_PCM_IOCTL_STATUS, SNDRV_PCM_IOCTL_DELAY,
	SNDRV_PCM_IOCTL_HWSYNC, __SNDRV_PCM_IOCTL_SYNC_PTR, __SNDRV_PCM_IOCTL_SYNC_PTR64,
	SNDRV_PCM_IOCTL_SYNC_PTR, SNDRV_PCM_IOCTL_STATUS_EXT, SNDRV_PCM_IOCTL_CHANNEL_INFO,
	SNDRV_PCM_IOCTL_PREPARE, SNDRV_PCM_IOCTL_RESET, SNDRV_PCM_IOCTL_START,
	SNDRV_PCM_IOCTL_DROP, SNDRV_PCM_IOCTL_DRAIN, SNDRV_PCM_IOCTL_PAUSE,
	SNDRV_PCM_IOCTL_REWIND, SNDRV_PCM_IOCTL_RESUME, SNDRV_PCM_IOCTL_XRUN,
	SNDRV_PCM_IOCTL_FORWARD, SNDRV_PCM_IOCTL_WRITEI_FRAMES,
	SNDRV_PCM_IOCTL_READI_FRAMES, SNDRV_PCM_IOCTL_WRITEN_FRAMES,
	SNDRV_PCM_IOCTL_READN_FRAMES, SNDRV_PCM_IOCTL_LINK, SNDRV_PCM_IOCTL_UNLINK,
	SNDRV_PCM_IOCTL_PERM_GET, SNDRV_PCM_IOCTL_PERM_RESTRICT,
	SNDRV_PCM_IOCTL_SHARED_EXPORT, SNDRV_PCM_IOCTL_SHARED_REVOKE,
	PCM_IOCTL_HW_REFINE_OLD,
	PCM_IOCTL_HW_PARAMS_OLD,
	/* generic ones the VFS or other ALSA devices know */
	0x5451, 0x5450, 0x5421, 0x5452, 0x541b, 0x5460,
	_IOR('U', 0x00, int), _IOR('U', 0x01, struct snd_ctl_card_info),
	_IOW('T', 0x00, int), _IOR('H', 0x00, int),
};

/* the sizes of the PCM structs in every ABI, and a few around them */
static const unsigned short struct_sizes[] = {
	0, 1, 2, 3, 4, 8, 12, 16, 24, 32, 56, 64, 104, 108, 128, 132, 136,
	152, 252, 256, 288, 352, 604, 608, 1024, 4096, 0x3fff,
};

static const unsigned char known_nrs[] = {
	0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x10, 0x11, 0x12, 0x13, 0x14, 0x15,
	0x16, 0x20, 0x21, 0x22, 0x23, 0x24, 0x25, 0x32, 0x40, 0x41, 0x42, 0x43,
	0x44, 0x45, 0x46, 0x47, 0x48, 0x49, 0x4a, 0x50, 0x51, 0x52, 0x53, 0x60,
	0x61, 0x6f, 0x70, 0x71, 0x72, 0x73, 0x74, 0x7f, 0x80, 0xff,
};

static unsigned long gen_cmd(void)
{
	unsigned int r = rnd(&A.seed, 100), dir, size;
	unsigned long cmd;

	if (r < 45) {
		cmd = known_cmds[rnd(&A.seed, sizeof(known_cmds) / sizeof(known_cmds[0]))];
		if (rnd(&A.seed, 3) == 0)
			cmd = _IOC(rnd(&A.seed, 4), _IOC_TYPE(cmd), _IOC_NR(cmd), _IOC_SIZE(cmd));
		if (rnd(&A.seed, 4) == 0)
			cmd = _IOC(_IOC_DIR(cmd), _IOC_TYPE(cmd), _IOC_NR(cmd),
				   struct_sizes[rnd(&A.seed, sizeof(struct_sizes) / 2)]);
		return cmd;
	}
	dir = rnd(&A.seed, 4);
	size = rnd(&A.seed, 2) ? struct_sizes[rnd(&A.seed, sizeof(struct_sizes) / 2)] :
				 rnd(&A.seed, 1 << 14);
	if (r < 85)
		return _IOC(dir, 'A', rnd(&A.seed, 2) ? known_nrs[rnd(&A.seed, sizeof(known_nrs))] :
				      rnd(&A.seed, 256), size);
	if (r < 95)
		return _IOC(dir, rnd(&A.seed, 256), rnd(&A.seed, 256), size);
	return (unsigned long)(uint32_t)rnd_next(&A.seed);
}

/* The next command of the systematic sweep of the 'A' space, or 0 when done */
static unsigned long sweep_cmd(void)
{
	unsigned long n = A.sweep_pos++;
	unsigned int nsizes = sizeof(struct_sizes) / sizeof(struct_sizes[0]);

	if (n >= 256UL * 4 * nsizes)
		return 0;
	return _IOC(n / nsizes % 4, 'A', n / nsizes / 4, struct_sizes[n % nsizes]);
}

struct arg {
	unsigned long val;
	unsigned char *buf;	/* our buffer, when the argument points into it */
	size_t len;		/* bytes of it the kernel may look at */
	bool flags_known;
	unsigned int sync_flags;
};

static struct mapping *pick_map(void)
{
	for (int tries = 0; tries < 10; tries++) {
		struct mapping *m = &A.maps[rnd(&A.seed, NMAPS)];

		if (m->addr)
			return m;
	}
	return NULL;
}

static int random_fd(void)
{
	struct slot *s;

	switch (rnd(&A.seed, 6)) {
	case 0:
		return A.own_fd;
	case 1:
		return -1;
	case 2:
		return A.sock;
	case 3:
		return rnd(&A.seed, 64);
	default:
		s = pick_slot();
		return s ? s->fd : -1;
	}
}

static void __fill_struct(unsigned long cmd, unsigned char *p, size_t len, struct arg *a);

/* A structured payload for command @cmd at @room (@len bytes of it) */
static void fill_struct(unsigned long cmd, unsigned char *room, size_t len, struct arg *a)
{
	static unsigned char tmp[8192 + 1024];
	unsigned char *p = tmp;

	memcpy(tmp, room, len);
	__fill_struct(cmd, p, len, a);
	memcpy(room, tmp, len);
}

static void __fill_struct(unsigned long cmd, unsigned char *p, size_t len, struct arg *a)
{
	unsigned int nr = _IOC_NR(cmd);
	struct slot *s = pick_slot();

	switch (nr) {
	case 0x10: case 0x11:
		if (rnd(&A.seed, 2) && s)
			ioctl(s->fd, SNDRV_PCM_IOCTL_HW_PARAMS_GET, p);
		else
			hw_params_any((void *)p);
		if (rnd(&A.seed, 2))
			((struct snd_pcm_hw_params *)p)->rmask = (uint32_t)rnd_next(&A.seed);
		break;
	case 0x13:
		if (s)
			ioctl(s->fd, SNDRV_PCM_IOCTL_SW_PARAMS_GET, p);
		if (rnd(&A.seed, 2))
			((struct snd_pcm_sw_params *)p)->avail_min = rnd(&A.seed, 8192);
		break;
	case 0x23: {
		unsigned int f = rnd(&A.seed, 16);

		if (rnd(&A.seed, 2))
			f |= SNDRV_PCM_SYNC_PTR_APPL | SNDRV_PCM_SYNC_PTR_AVAIL_MIN;
		memcpy(p, &f, sizeof(f));
		a->flags_known = true;
		a->sync_flags = f;
		break;
	}
	case 0x24: {
		uint32_t d = (uint32_t)rnd_next(&A.seed) & 0xff;

		/* audio_tstamp_data sits after state, 2 timespecs, ... : spray it */
		for (size_t off = 0; off + 4 <= len && off < 256; off += 4)
			memcpy(p + off, &d, 4);
		break;
	}
	case 0x32:
		*(unsigned int *)p = rnd(&A.seed, 4) == 0 ? (uint32_t)rnd_next(&A.seed) :
							 rnd(&A.seed, 4);
		break;
	case 0x50: case 0x51: case 0x52: case 0x53: {
		/* struct snd_xferi/xfern: result, buf(s), frames */
		void **bufs = (void **)(A.arena + 2048);

		bufs[0] = bufs[1] = A.arena + 1024;
		memset(p, 0, 3 * sizeof(long));
		((long *)p)[1] = (long)(nr == 0x52 || nr == 0x53 ? (void *)bufs : A.arena + 1024);
		((unsigned long *)p)[2] = rnd(&A.seed, 3) ? rnd(&A.seed, 256) :
						      (unsigned long)rnd_next(&A.seed);
		break;
	}
	case 0x46: case 0x49:
		*(unsigned long *)p = rnd(&A.seed, 2) ? rnd(&A.seed, 8192) : ~0UL;
		break;
	case 0x71: case 0x04: case 0x03: case 0x02: {
		unsigned int v = rnd(&A.seed, 2) ? rnd(&A.seed, 64) : (uint32_t)rnd_next(&A.seed);

		memcpy(p, &v, sizeof(v));
		break;
	}
	case 0x60: case 0x73: {
		int fd = rnd(&A.seed, 4) ? random_fd() : -1;

		memcpy(p, &fd, sizeof(fd));
		break;
	}
	case 0x72: {
		struct snd_pcm_shared_export ex;

		/* a valid request, mostly: through, it would make a file */
		memset(&ex, 0, sizeof(ex));
		ex.perm = rnd(&A.seed, 4) ? P_SHARED & (uint32_t)rnd_next(&A.seed) :
					    (uint32_t)rnd_next(&A.seed);
		ex.flags = accmodes[rnd(&A.seed, 3)] | (rnd(&A.seed, 2) ? O_CLOEXEC : 0);
		ex.fd = -1;
		if (!rnd(&A.seed, 8))
			ex.reserved[rnd(&A.seed, sizeof(ex.reserved))] = 1;
		memcpy(p, &ex, sizeof(ex));
		break;
	}
	default:
		break;
	}
}

static struct arg gen_arg(unsigned long cmd)
{
	struct arg a = { 0 };
	size_t size = _IOC_SIZE(cmd), room;
	unsigned char *guard = A.arena + 8192;
	struct mapping *m;
	unsigned int k = rnd(&A.seed, 100);

	if (k < 8)
		return a;				/* NULL */
	if (k < 16) {
		/* an integer: LINK's fd, PAUSE's flag, or anything */
		switch (rnd(&A.seed, 4)) {
		case 0:
			a.val = random_fd();
			break;
		case 1:
			a.val = rnd(&A.seed, 4);
			break;
		case 2:
			a.val = ~0UL;
			break;
		default:
			a.val = (unsigned long)rnd_next(&A.seed);
		}
		return a;
	}
	if (k < 21) {
		static const unsigned long bad[] = {
			(unsigned long)-4096L, (unsigned long)-1L, 0x1000,
#if ULONG_MAX > 0xffffffffUL
			0xffffffff81000000UL, 0x8000000000000000UL, 0x00007ffffffff000UL,
			0xffff888000000000UL,
#else
			0xc0000000UL, 0xbffff000UL,
#endif
		};
		a.val = bad[rnd(&A.seed, sizeof(bad) / sizeof(bad[0]))];
		return a;
	}
	if (k < 26) {
		a.val = (unsigned long)(A.unmapped + rnd(&A.seed, 16) * 4096 + rnd(&A.seed, 64));
		return a;
	}
	if (k < 34 && (m = pick_map())) {
		a.val = (unsigned long)(m->addr + rnd(&A.seed, (unsigned int)m->len));
		return a;
	}
	/* into the arena: whole, or running into the guard page */
	if (k < 44 && size)
		room = 1 + rnd(&A.seed, (unsigned int)size);
	else
		room = size + rnd(&A.seed, 64);
	if (room > 8192)
		room = 8192;
	a.buf = guard - room;
	a.len = room < size ? room : size;
	a.val = (unsigned long)a.buf;
	switch (rnd(&A.seed, 4)) {
	case 0:
		memset(a.buf, 0, room);
		break;
	case 1:
		memset(a.buf, 0xff, room);
		break;
	default:
		for (size_t i = 0; i < room; i++)
			a.buf[i] = (unsigned char)rnd_next(&A.seed);
	}
	if (rnd(&A.seed, 3))
		fill_struct(cmd, a.buf, room, &a);
	/* flags of SYNC_PTR as the kernel will read them, if it can */
	a.flags_known = false;
	if (_IOC_NR(cmd) == 0x23 && room >= 4) {
		memcpy(&a.sync_flags, a.buf, 4);
		a.flags_known = true;
	}
	return a;
}

static const char *errname(int e)
{
	static char buf[32];

	snprintf(buf, sizeof(buf), "%s", strerror(e));
	return buf;
}

/* One ioctl on a restricted fd, judged by the oracle */
static void do_ioctl(struct slot *s, unsigned long cmd, bool structured)
{
	static unsigned char before[8192];
	struct arg a = structured ? gen_arg(cmd) : (struct arg){ 0 };
	unsigned int need = attack_ioctl_need(cmd);
	bool sync_ptr = _IOC_TYPE(cmd) == 'A' && _IOC_NR(cmd) == 0x23;
	long ret;
	int err;

	if (a.buf)
		memcpy(before, a.buf, a.len);
	ret = ioctl(s->fd, cmd, a.val);
	err = ret < 0 ? errno : 0;
	A.ioctls++;
	if (A.have_kcov)
		kcov_collect(&A.kcov);

	if (_IOC_TYPE(cmd) != 'A') {
		/* not a PCM command: what it always was, whatever the file */
		if ((need & P_NOTTY) && (ret >= 0 || err != ENOTTY))
			violation("cmd=%#lx of type %#lx: %s, not ENOTTY", cmd,
				  (unsigned long)_IOC_TYPE(cmd), ret >= 0 ? "succeeded" : errname(err));
		return;
	}
	if (s->file->revoked) {
		if (ret >= 0 || err != ENODEV)
			violation("cmd=%#lx on a revoked file: %s", cmd,
				  ret >= 0 ? "succeeded" : errname(err));
		return;
	}
	if (ret < 0 && err == ENODEV && file_answered_enodev(s, "ioctl"))
		return;

	if (ret >= 0 && _IOC_TYPE(cmd) == 'A' && _IOC_NR(cmd) == 0x71) {
		/* a random PERM_RESTRICT went through: only ever fewer bits */
		unsigned int got = ~0U;

		ioctl(s->fd, SNDRV_PCM_IOCTL_PERM_GET, &got);
		if (got & ~s->file->mask)
			violation("PERM_RESTRICT cmd=%#lx raised the mask %#x to %#x",
				  cmd, s->file->mask, got);
		s->file->mask = got;
	}
	if (sync_ptr) {
		/* the kernel decides by the flags it read; success tells */
		if (ret >= 0 && a.flags_known &&
		    attack_denied(attack_sync_ptr_need(a.sync_flags), s->file->mask))
			violation("SYNC_PTR cmd=%#lx flags=%#x succeeded with mask %#x",
				  cmd, a.sync_flags, s->file->mask);
		if (ret >= 0 && !a.flags_known && s->file->mask != P_SHARED &&
		    !(s->file->mask & P_SYNC))
			violation("SYNC_PTR cmd=%#lx succeeded with mask %#x", cmd, s->file->mask);
		return;
	}
	if (!attack_denied(need, s->file->mask))
		return;
	if (ret >= 0 || err != EPERM)
		violation("cmd=%#lx (dir %lu type %#lx nr %#lx size %lu) mask=%#x arg=%#lx: %s",
			  cmd, (unsigned long)_IOC_DIR(cmd), (unsigned long)_IOC_TYPE(cmd),
			  (unsigned long)_IOC_NR(cmd), (unsigned long)_IOC_SIZE(cmd),
			  s->file->mask, a.val, ret >= 0 ? "succeeded" : errname(err));
	else if (a.buf && memcmp(before, a.buf, a.len))
		violation("cmd=%#lx denied but wrote its argument", cmd);
}

/* ------------------------------------------------------------------ */
/* the other ways in */

static void add_map(unsigned char *p, size_t len, int prot, int flags, enum mkind kind,
		    bool ro_file, struct rfile *file)
{
	for (int i = 0; i < NMAPS; i++) {
		if (!A.maps[i].addr) {
			A.maps[i] = (struct mapping){ p, len, prot, flags, kind, ro_file, file };
			file->refs++;
			return;
		}
	}
	munmap(p, len);
}

/* A mapping without write permission must not become writable */
static void check_no_write(struct mapping *m, const char *how)
{
	if (m->kind == MAP_STATUS || m->kind == MAP_CONTROL ||
	    (m->kind == MAP_DATA && m->ro_file)) {
		if (mprotect(m->addr, m->len, PROT_READ | PROT_WRITE) == 0) {
			violation("%s: %s mapping made writable", how,
				  m->kind == MAP_STATUS ? "status" :
				  m->kind == MAP_CONTROL ? "control" : "read-only data");
			mprotect(m->addr, m->len, m->prot);
		}
		A.calls++;
	}
}

static void do_mmap(struct slot *s)
{
	static const int prots[] = { PROT_READ, PROT_READ | PROT_WRITE, PROT_WRITE,
				     PROT_NONE, PROT_READ | PROT_EXEC };
	unsigned long off;
	size_t len;
	int prot = prots[rnd(&A.seed, 5)];
	int flags = rnd(&A.seed, 4) ? MAP_SHARED : MAP_PRIVATE;
	enum mkind kind;
	unsigned int need;
	void *p;

	switch (rnd(&A.seed, 8)) {
	case 0: case 1: case 2:
		off = 0, kind = MAP_DATA;
		len = rnd(&A.seed, 2) ? A.buffer_bytes : 4096 * (1 + rnd(&A.seed, 4));
		break;
	case 3:
		off = SNDRV_PCM_MMAP_OFFSET_STATUS_NEW, kind = MAP_STATUS, len = 4096;
		break;
	case 4:
		off = SNDRV_PCM_MMAP_OFFSET_CONTROL_NEW, kind = MAP_CONTROL, len = 4096;
		break;
	case 5:
		off = rnd(&A.seed, 2) ? SNDRV_PCM_MMAP_OFFSET_STATUS_OLD :
					SNDRV_PCM_MMAP_OFFSET_CONTROL_OLD;
		kind = off == SNDRV_PCM_MMAP_OFFSET_STATUS_OLD ? MAP_STATUS : MAP_CONTROL;
		len = 4096;
		break;
	case 6:
		off = 4096UL * rnd(&A.seed, 8), kind = MAP_DATA;
		len = 4096 * (1 + rnd(&A.seed, 8));
		break;
	default:
		off = (unsigned long)rnd_next(&A.seed) & ~4095UL, kind = MAP_OTHER;
		len = rnd(&A.seed, 2) ? 4096 : (size_t)1 << (12 + rnd(&A.seed, 20));
	}
	need = attack_mmap_need(off, prot);
	p = mmap64(NULL, len, prot, flags, s->fd, (off64_t)off);
	A.calls++;
	if (A.have_kcov)
		kcov_collect(&A.kcov);
	if (p == MAP_FAILED) {
		if (errno == ENODEV && !s->file->revoked)
			file_answered_enodev(s, "mmap");
		return;
	}
	if (s->file->revoked)
		violation("mmap(off=%#lx len=%zu prot=%d) of a revoked file succeeded", off, len, prot);
	if (attack_denied(need, s->file->mask))
		violation("mmap(off=%#lx len=%zu prot=%d flags=%d) succeeded with mask %#x",
			  off, len, prot, flags, s->file->mask);
	add_map(p, len, prot, flags, kind,
		flags == MAP_SHARED && s->file->accmode == O_RDONLY, s->file);
	for (int i = 0; i < NMAPS; i++)
		if (A.maps[i].addr == p)
			check_no_write(&A.maps[i], "mmap+mprotect");
}

static void do_munmap(void)
{
	struct mapping *m = pick_map();

	if (!m)
		return;
	A.calls++;
	if (m->len > 4096 && rnd(&A.seed, 3) == 0) {
		/* split it: drop the first page */
		munmap(m->addr, 4096);
		m->addr += 4096;
		m->len -= 4096;
		return;
	}
	munmap(m->addr, m->len);
	map_drop(m);
}

static void do_mprotect(void)
{
	static const int prots[] = { PROT_READ, PROT_READ | PROT_WRITE, PROT_NONE, PROT_WRITE,
				     PROT_READ | PROT_EXEC };
	struct mapping *m = pick_map();
	int prot = prots[rnd(&A.seed, 5)];

	if (!m)
		return;
	A.calls++;
	if (mprotect(m->addr, m->len, prot) == 0) {
		if ((prot & PROT_WRITE) &&
		    (m->kind == MAP_STATUS || m->kind == MAP_CONTROL ||
		     (m->kind == MAP_DATA && m->ro_file)))
			violation("mprotect(PROT_WRITE) of a %s mapping succeeded",
				  m->kind == MAP_STATUS ? "status" :
				  m->kind == MAP_CONTROL ? "control" : "read-only data");
		m->prot = prot;
	}
}

static void do_madvise(void)
{
	static const int advs[] = {
		MADV_NORMAL, MADV_RANDOM, MADV_SEQUENTIAL, MADV_WILLNEED, MADV_DONTNEED,
		MADV_FREE, MADV_REMOVE, MADV_DONTFORK, MADV_DOFORK, MADV_MERGEABLE,
		MADV_UNMERGEABLE, MADV_HUGEPAGE, MADV_NOHUGEPAGE, MADV_DONTDUMP,
		MADV_DODUMP, MADV_WIPEONFORK, MADV_KEEPONFORK, MADV_COLD, MADV_PAGEOUT,
		22 /* MADV_POPULATE_READ */, 23 /* MADV_POPULATE_WRITE */,
		25 /* MADV_COLLAPSE */,
	};
	struct mapping *m = pick_map();
	int adv = advs[rnd(&A.seed, sizeof(advs) / sizeof(advs[0]))];

	if (!m)
		return;
	A.calls++;
	if (madvise(m->addr, m->len, adv) == 0 && adv == 23 &&
	    (m->kind == MAP_STATUS || m->kind == MAP_CONTROL) && m->flags == MAP_SHARED)
		violation("MADV_POPULATE_WRITE on a read-only PCM mapping succeeded");
}

static void do_mremap(void)
{
	struct mapping *m = pick_map();
	void *p;

	if (!m)
		return;
	A.calls++;
	switch (rnd(&A.seed, 3)) {
	case 0:		/* grow: the PCM mappings do not expand */
		p = mremap(m->addr, m->len, m->len + 4096, MREMAP_MAYMOVE);
		if (p != MAP_FAILED) {
			if (m->kind != MAP_OTHER)
				violation("mremap grew a PCM mapping");
			m->addr = p;
			m->len += 4096;
		}
		break;
	case 1:		/* move */
		if (m->len > 16 * 4096)
			break;
		p = mremap(m->addr, m->len, m->len, MREMAP_MAYMOVE | MREMAP_FIXED,
			   A.scratch + 4096 * rnd(&A.seed, 16));
		if (p != MAP_FAILED) {
			/* the target replaced part of scratch or another mapping */
			for (int i = 0; i < NMAPS; i++) {
				struct mapping *o = &A.maps[i];

				if (o != m && o->addr &&
				    o->addr < (unsigned char *)p + m->len &&
				    (unsigned char *)p < o->addr + o->len)
					map_drop(o);	/* gone; leak the rest */
			}
			m->addr = p;
		}
		break;
	default:	/* shrink */
		if (m->len > 4096) {
			p = mremap(m->addr, m->len, 4096, 0);
			if (p != MAP_FAILED)
				m->len = 4096;
		}
	}
}

static void do_touch(void)
{
	struct mapping *m = pick_map();

	if (!m || !(m->prot & (PROT_READ | PROT_WRITE)))
		return;
	A.calls++;
	if (attack_touch(m->addr, m->len, (m->prot & PROT_WRITE) && m->kind == MAP_DATA))
		A.faults++;
}

static void do_poll(void)
{
	struct pollfd pfd[3];
	struct slot *ss[3];
	int n = 1 + rnd(&A.seed, 3), ret;

	for (int i = 0; i < n; i++) {
		ss[i] = pick_slot();
		if (!ss[i])
			return;
		pfd[i].fd = ss[i]->fd;
		pfd[i].events = (short)rnd_next(&A.seed);
		pfd[i].revents = 0;
	}
	ret = poll(pfd, n, 0);
	A.calls++;
	if (A.have_kcov)
		kcov_collect(&A.kcov);
	for (int i = 0; ret >= 0 && i < n; i++) {
		if (!ss[i]->file->revoked && (pfd[i].revents & POLLHUP))
			file_answered_enodev(ss[i], "poll");
		if (ss[i]->file->revoked &&
		    (pfd[i].revents & (POLLERR | POLLHUP)) != (POLLERR | POLLHUP))
			violation("poll on a revoked file reported %#x", pfd[i].revents);
		if (!(ss[i]->file->mask & P_STATUS) &&
		    (pfd[i].revents & ~(POLLERR | POLLNVAL | POLLHUP)))
			violation("poll without STATUS reported %#x", pfd[i].revents);
	}
	if (rnd(&A.seed, 4) == 0) {
		int ep = epoll_create1(EPOLL_CLOEXEC);
		struct epoll_event ev = { .events = EPOLLIN | EPOLLOUT | EPOLLERR }, out[3];

		for (int i = 0; i < n; i++)
			epoll_ctl(ep, EPOLL_CTL_ADD, pfd[i].fd, &ev);
		epoll_wait(ep, out, 3, 0);
		close(ep);
		A.calls += n + 2;
	}
}

/* read/write/readv/writev: nobody here holds RW */
static void do_rw(struct slot *s)
{
	struct iovec iov[2] = { { A.arena, rnd(&A.seed, 4096) },
				{ A.arena + 4096, rnd(&A.seed, 4096) } };
	size_t len = rnd(&A.seed, 4) ? rnd(&A.seed, 8192) : 0;
	unsigned char *buf = rnd(&A.seed, 5) ? A.arena : A.unmapped;
	ssize_t ret;
	const char *what;
	int niov = 1 + rnd(&A.seed, 2);

	switch (rnd(&A.seed, 4)) {
	case 0:
		ret = read(s->fd, buf, len), what = "read";
		break;
	case 1:
		ret = write(s->fd, buf, len), what = "write";
		break;
	case 2:
		ret = readv(s->fd, iov, niov), what = "readv";
		len = iov[0].iov_len + (niov > 1 ? iov[1].iov_len : 0);
		break;
	default:
		ret = writev(s->fd, iov, niov), what = "writev";
		len = iov[0].iov_len + (niov > 1 ? iov[1].iov_len : 0);
	}
	A.calls++;
	if (A.have_kcov)
		kcov_collect(&A.kcov);
	/* a zero-length transfer may succeed in the VFS without asking */
	if (ret > 0 || (ret == 0 && len))
		violation("%s of %zu bytes returned %zd without RW", what, len, ret);
}

#ifdef HAVE_LIBURING
static void do_uring(struct slot *s)
{
	struct io_uring_sqe *sqe;
	struct io_uring_cqe *cqe;
	struct iovec iov = { A.arena, 64 + rnd(&A.seed, 4096) };
	int op = rnd(&A.seed, 6), pipefd[2] = { -1, -1 };

	if (!A.have_ring)
		return;
	sqe = io_uring_get_sqe(&A.ring);
	if (!sqe)
		return;
	switch (op) {
	case 0:
		io_uring_prep_read(sqe, s->fd, A.arena, iov.iov_len, 0);
		break;
	case 1:
		io_uring_prep_write(sqe, s->fd, A.arena, iov.iov_len, 0);
		break;
	case 2:
		io_uring_prep_readv(sqe, s->fd, &iov, 1, 0);
		break;
	case 3:
		io_uring_prep_writev(sqe, s->fd, &iov, 1, 0);
		break;
	case 4:
		io_uring_prep_poll_add(sqe, s->fd, POLLIN | POLLOUT);
		break;
	default:
		if (pipe2(pipefd, O_NONBLOCK | O_CLOEXEC) < 0)
			return;
		io_uring_prep_splice(sqe, s->fd, -1, pipefd[1], -1, 4096, 0);
	}
	if (rnd(&A.seed, 2))
		sqe->rw_flags = RWF_NOWAIT;
	io_uring_sqe_set_data64(sqe, 1);
	io_uring_submit(&A.ring);
	A.calls++;
	if (io_uring_wait_cqe_timeout(&A.ring, &cqe, &(struct __kernel_timespec){ 0, 20000000 })) {
		/* a poll that nothing wakes: cancel it */
		sqe = io_uring_get_sqe(&A.ring);
		io_uring_prep_cancel64(sqe, 1, 0);
		io_uring_sqe_set_data64(sqe, 2);
		io_uring_submit(&A.ring);
		for (int i = 0; i < 2 && io_uring_wait_cqe(&A.ring, &cqe) == 0; i++)
			io_uring_cqe_seen(&A.ring, cqe);
	} else {
		if (op != 4 && cqe->res > 0)
			violation("io_uring op %d moved %d bytes without RW", op, cqe->res);
		if (op == 4 && !(s->file->mask & P_STATUS) &&
		    cqe->res > 0 && (cqe->res & ~(POLLERR | POLLHUP | POLLNVAL)))
			violation("io_uring poll without STATUS reported %#x", cqe->res);
		io_uring_cqe_seen(&A.ring, cqe);
	}
	if (A.have_kcov)
		kcov_collect(&A.kcov);
	if (pipefd[0] >= 0) {
		close(pipefd[0]);
		close(pipefd[1]);
	}
}
#else
static void do_uring(struct slot *s) { (void)s; }
#endif

static void do_fcntl(struct slot *s)
{
	static const int fl[] = { O_APPEND, O_NONBLOCK, O_ASYNC, O_DIRECT, O_NOATIME };
	int flags = 0, ret;

	for (int i = 0; i < 5; i++)
		if (rnd(&A.seed, 3) == 0)
			flags |= fl[i];
	ret = fcntl(s->fd, F_SETFL, flags);
	A.calls++;
	if (ret == 0 && (flags & O_ASYNC)) {
		violation("fcntl(F_SETFL, O_ASYNC) succeeded without CONTROL");
		fcntl(s->fd, F_SETFL, flags & ~O_ASYNC);
	}
	if (rnd(&A.seed, 2)) {
		fcntl(s->fd, F_SETOWN, getpid());
		fcntl(s->fd, F_SETSIG, SIGIO);
		A.calls += 2;
	}
}

static void do_restrict(struct slot *s)
{
	unsigned int want, mask = s->file->mask;
	int ret, err;

	switch (rnd(&A.seed, 4)) {
	case 0:
		want = mask & (uint32_t)rnd_next(&A.seed);	/* a subset */
		break;
	case 1:
		want = mask | (1U << rnd(&A.seed, 5));		/* maybe more */
		break;
	case 2:
		want = (uint32_t)rnd_next(&A.seed);		/* unknown bits */
		break;
	default:
		want = mask;
	}
	ret = ioctl(s->fd, SNDRV_PCM_IOCTL_PERM_RESTRICT, &want);
	err = errno;
	A.ioctls++;
	if (s->file->revoked) {
		if (ret == 0 || err != ENODEV)
			violation("PERM_RESTRICT on a revoked file: %s",
				  ret == 0 ? "succeeded" : errname(err));
		return;
	}
	if (ret < 0 && err == ENODEV && file_answered_enodev(s, "PERM_RESTRICT"))
		return;
	if (want & ~P_ALL) {
		if (ret == 0 || err != EINVAL)
			violation("PERM_RESTRICT(%#x) with unknown bits: %s", want,
				  ret == 0 ? "succeeded" : errname(err));
	} else if (want & ~mask) {
		if (ret == 0 || err != EPERM)
			violation("PERM_RESTRICT(%#x) from %#x: %s", want, mask,
				  ret == 0 ? "succeeded" : errname(err));
	} else if (ret) {
		violation("PERM_RESTRICT(%#x) from %#x failed: %s", want, mask, errname(err));
	} else {
		s->file->mask = want;
	}
}

static void do_dup(struct slot *s)
{
	for (int i = 0; i < NSLOTS; i++) {
		struct slot *d = &A.slots[i];

		if (d->fd >= 0)
			continue;
		d->fd = rnd(&A.seed, 2) ? fcntl(s->fd, F_DUPFD_CLOEXEC, 3) :
					  dup3(s->fd, 200 + i, O_CLOEXEC);
		A.calls++;
		if (d->fd < 0)
			return;
		d->stream = s->stream;
		d->file = s->file;
		d->file->refs++;
		return;
	}
}

/* Pass a fd through SCM_RIGHTS to ourselves: the same file, the same mask */
static void do_scm(struct slot *s)
{
	int sv[2], fd = -1;
	unsigned int got = 0;
	struct msg m = { .type = 0 };

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
		return;
	if (!send_msg(sv[0], &m, s->fd) && !recv_msg(sv[1], &m, &fd) && fd >= 0) {
		int ret = ioctl(fd, SNDRV_PCM_IOCTL_PERM_GET, &got);

		if (ret < 0 && errno == ENODEV)
			file_answered_enodev(s, "PERM_GET of a passed fd");
		else if (ret < 0 || got != s->file->mask)
			violation("fd passed by SCM_RIGHTS has mask %#x, not %#x",
				  got, s->file->mask);
		if (ioctl(fd, SNDRV_PCM_IOCTL_DROP) == 0 || (errno != EPERM && errno != ENODEV))
			violation("DROP through a passed fd did not fail with EPERM");
		A.ioctls += 2;
		close(fd);
	}
	close(sv[0]);
	close(sv[1]);
	A.calls += 3;
}

/* A forked child tries the denied calls on the inherited fds and mappings */
static void do_fork(void)
{
	pid_t pid = fork();
	int status;

	if (pid < 0)
		return;
	if (pid == 0) {
		int bad = 0;

		for (int i = 0; i < NSLOTS; i++) {
			struct slot *s = &A.slots[i];

			if (s->fd < 0)
				continue;
			if (ioctl(s->fd, SNDRV_PCM_IOCTL_DROP) == 0 ||
			    (errno != EPERM && errno != ENODEV))
				bad++;
			if (ioctl(s->fd, SNDRV_PCM_IOCTL_PAUSE, 1) == 0 ||
			    (errno != EPERM && errno != ENODEV))
				bad++;
		}
		for (int i = 0; i < NMAPS; i++) {
			struct mapping *m = &A.maps[i];

			if (m->addr && (m->kind == MAP_STATUS || m->kind == MAP_CONTROL) &&
			    mprotect(m->addr, m->len, PROT_READ | PROT_WRITE) == 0)
				bad++;
			if (m->addr && (m->prot & PROT_READ))
				attack_touch(m->addr, m->len, false);
		}
		_exit(bad ? 3 : 0);
	}
	waitpid(pid, &status, 0);
	A.calls++;
	if (!WIFEXITED(status) || WEXITSTATUS(status))
		violation("a forked child could do denied calls (status %#x)", status);
}

/* ioctls on a stream of our own, with the restricted fds as argument */
static void do_own(void)
{
	struct slot *s = pick_slot();
	int ret, err;

	if (A.own_fd < 0)
		return;
	switch (rnd(&A.seed, 8)) {
	case 0: case 1: case 2:
		if (!s)
			return;
		ret = ioctl(A.own_fd, SNDRV_PCM_IOCTL_LINK, s->fd);
		err = errno;
		A.ioctls++;
		if (ret == 0 || err != EPERM) {
			violation("LINK(own, restricted fd with mask %#x): %s", s->file->mask,
				  ret == 0 ? "succeeded" : errname(err));
			if (ret == 0)
				ioctl(A.own_fd, SNDRV_PCM_IOCTL_UNLINK);
		}
		return;
	case 3:
		ioctl(A.own_fd, SNDRV_PCM_IOCTL_LINK, random_fd());
		break;
	case 4:
		ioctl(A.own_fd, SNDRV_PCM_IOCTL_UNLINK);
		break;
	case 5:
		ioctl(A.own_fd, SNDRV_PCM_IOCTL_DROP);
		ioctl(A.own_fd, SNDRV_PCM_IOCTL_PREPARE);
		ioctl(A.own_fd, SNDRV_PCM_IOCTL_START);
		A.ioctls += 2;
		break;
	case 6:
		ioctl(A.own_fd, SNDRV_PCM_IOCTL_PAUSE, (unsigned long)rnd(&A.seed, 2));
		break;
	default:
		if (s)
			ioctl(s->fd, SNDRV_PCM_IOCTL_LINK, A.own_fd);
		if (s && errno != EPERM && !(errno == ENODEV && file_answered_enodev(s, "LINK")))
			violation("LINK(restricted, own) did not fail with EPERM");
		break;
	}
	A.ioctls++;
	if (A.have_kcov)
		kcov_collect(&A.kcov);
}

static void one_op(void)
{
	struct slot *s = pick_slot();
	unsigned int r = rnd(&A.seed, 1000);

	if (!s) {
		slot_request(&A.slots[0], rnd(&A.seed, NSTREAMS));
		return;
	}
	/* a revoked file is worth less: let it go more often */
	if (s->file->revoked && rnd(&A.seed, 8) == 0) {
		int stream = s->stream;

		slot_close(s);
		slot_request(s, stream);
		A.calls += 2;
		return;
	}
	if (r < 550)
		do_ioctl(s, gen_cmd(), true);
	else if (r < 610)
		do_mmap(s);
	else if (r < 640)
		do_munmap();
	else if (r < 665)
		do_mprotect();
	else if (r < 685)
		do_madvise();
	else if (r < 700)
		do_mremap();
	else if (r < 740)
		do_touch();
	else if (r < 790)
		do_poll();
	else if (r < 830)
		do_rw(s);
	else if (r < 860)
		do_uring(s);
	else if (r < 875)
		do_fcntl(s);
	else if (r < 895)
		do_restrict(s);
	else if (r < 905)
		do_dup(s);
	else if (r < 915)
		do_scm(s);
	else if (r < 918)
		do_fork();
	else if (r < 960)
		do_own();
	else {
		/* close one and ask for another */
		int stream = s->stream;

		slot_close(s);
		slot_request(s, rnd(&A.seed, 2) ? stream : (int)rnd(&A.seed, NSTREAMS));
		A.calls += 2;
	}
}

static int child_main(int sock, int own_fd, uint64_t seed, int ops, bool want_kcov,
		      size_t buffer_bytes)
{
	struct msg m;
	int i;

	memset(&A, 0, sizeof(A));
	A.seed = seed ?: 1;
	A.sock = sock;
	A.own_fd = own_fd;
	A.buffer_bytes = buffer_bytes;
	attack_catch_faults();
	if (want_kcov)
		A.have_kcov = kcov_start(&A.kcov);
	if (drop_to_nobody()) {
		fprintf(stderr, "cannot drop to nobody: %s\n", strerror(errno));
		return 1;
	}
	A.arena = mmap(NULL, 3 * 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	mprotect(A.arena + 8192, 4096, PROT_NONE);
	A.unmapped = mmap(NULL, 17 * 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	A.scratch = mmap(NULL, 32 * 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
#ifdef HAVE_LIBURING
	A.have_ring = io_uring_queue_init(8, &A.ring, 0) == 0;
#endif
	for (i = 0; i < NSLOTS; i++)
		A.slots[i].fd = -1;
	for (i = 0; i < NSTREAMS * 2 && i < NSLOTS; i++)
		slot_request(&A.slots[i], i % NSTREAMS);

	for (;;) {
		/* the sweep first, spread over the first batches */
		for (i = 0; i < ops / 2; i++) {
			unsigned long cmd = sweep_cmd();
			struct slot *s = pick_slot();

			if (!cmd || !s)
				break;
			do_ioctl(s, cmd, rnd(&A.seed, 2));
		}
		for (i = 0; i < ops; i++)
			one_op();
		/* the mask a file reports is the one we think it has */
		for (i = 0; i < NSLOTS; i++) {
			struct slot *s = &A.slots[i];
			unsigned int got = 0;

			if (s->fd < 0)
				continue;
			A.ioctls++;
			if (ioctl(s->fd, SNDRV_PCM_IOCTL_PERM_GET, &got) < 0) {
				if (errno != ENODEV)
					violation("PERM_GET: %s", strerror(errno));
				else
					file_answered_enodev(s, "PERM_GET");
			} else if (s->file->revoked) {
				violation("PERM_GET of a revoked file succeeded");
			} else if (got != s->file->mask) {
				violation("PERM_GET says %#x, expected %#x", got, s->file->mask);
			}
		}
		m = (struct msg){ .type = M_BATCH };
		m.v[0] = A.ioctls, m.v[1] = A.calls, m.v[2] = A.violations, m.v[3] = A.faults;
		m.v[4] = A.revoked;
		if (send_msg(sock, &m, -1) || recv_msg(sock, &m, NULL) || m.type != M_ACK)
			return 1;
		if (!m.a)
			break;
	}
	if (A.have_kcov)
		kcov_collect(&A.kcov);
	m = (struct msg){ .type = M_DONE, .a = A.have_kcov };
	m.v[0] = A.ioctls, m.v[1] = A.calls, m.v[2] = A.violations, m.v[3] = A.faults;
	m.v[4] = A.revoked;
	send_msg(sock, &m, -1);
	if (A.have_kcov) {
		struct pcs_msg pm = { .type = M_PCS };

		for (size_t j = 0; j < A.kcov.cap; j++) {
			if (!A.kcov.pcs[j])
				continue;
			pm.pc[pm.n++] = A.kcov.pcs[j];
			if (pm.n == 250) {
				send(sock, &pm, sizeof(pm), MSG_NOSIGNAL);
				pm.n = 0;
			}
		}
		if (pm.n)
			send(sock, &pm, sizeof(pm), MSG_NOSIGNAL);
	}
	m = (struct msg){ .type = M_ACK };
	send_msg(sock, &m, -1);
	return 0;
}

/* ------------------------------------------------------------------ */
/* the server */

struct child {
	pid_t pid;
	int sock, own_fd;
	const char *abi;
	bool done, gone;
	double last_heard;
	uint64_t ioctls, calls, violations, faults, batches, revoked;
};

static struct master masters[NSTREAMS];
static struct child children[MAX_CHILDREN];
static int nchildren;
static struct kcov all_pcs;	/* only its table is used */
static struct kcov server_kcov = { .fd = -1 };	/* around opens, exports, revocations */
static uint64_t server_seed;
static unsigned long exports, revocations;

/* the exports the server keeps a copy of, to revoke by name */
#define KEPT 8
static int kept[NSTREAMS][KEPT];

static void server_kcov_on(void)
{
	if (server_kcov.fd >= 0)
		ioctl(server_kcov.fd, KCOV_ENABLE, KCOV_TRACE_PC);
}

static void server_kcov_off(void)
{
	if (server_kcov.fd >= 0) {
		ioctl(server_kcov.fd, KCOV_DISABLE, 0);
		kcov_collect(&server_kcov);
	}
}

/*
 * A restricted fd on stream @i for an attacker, open as @flags says: an
 * O_APPEND|O_EXCL open, or an export holding SHARED or less (a copy kept);
 * fd or -errno
 */
static int hand_out(int i, int flags)
{
	int fd;

	server_kcov_on();
	if (rnd(&server_seed, 2)) {
		fd = master_restricted_open(&masters[i], flags);
	} else {
		unsigned int mask = rnd(&server_seed, 3) ? P_SHARED :
				    P_SHARED & (uint32_t)rnd_next(&server_seed);
		int *k = &kept[i][rnd(&server_seed, KEPT)];

		fd = pcm_export(masters[i].fd, mask, (flags & (O_ACCMODE | O_NONBLOCK)) | O_CLOEXEC);
		if (fd >= 0) {
			exports++;
			if (*k >= 0)
				close(*k);
			*k = fcntl(fd, F_DUPFD_CLOEXEC, 0);
		}
	}
	server_kcov_off();
	return fd;
}

/* Take back one export by name, or all restricted files of a master */
static void revoke_some(void)
{
	int i = rnd(&server_seed, NSTREAMS), *k = &kept[i][rnd(&server_seed, KEPT)], err;

	server_kcov_on();
	if (*k >= 0 && rnd(&server_seed, 2)) {
		err = pcm_revoke(masters[i].fd, *k);
		close(*k);
		*k = -1;
	} else {
		err = pcm_revoke(masters[i].fd, -1);
	}
	server_kcov_off();
	if (err)
		printf("# DISTURBANCE: SHARED_REVOKE on %s: %s\n", masters[i].name, strerror(-err));
	else
		revocations++;
}

static void master_setup(void)
{
	master_init(&masters[0], "Dummy", 0, SNDRV_PCM_STREAM_PLAYBACK);
	master_init(&masters[1], "Dummy", 0, SNDRV_PCM_STREAM_CAPTURE);
	master_init(&masters[2], "Loopback", 0, SNDRV_PCM_STREAM_PLAYBACK);
	master_init(&masters[3], "Loopback", 1, SNDRV_PCM_STREAM_CAPTURE);
	for (int i = 0; i < NSTREAMS; i++) {
		int err = master_open(&masters[i], true);

		if (err)
			ksft_exit_fail_msg("master %s: %s\n", masters[i].name, strerror(-err));
	}
}

/* A stream of the attacker's own: another Dummy substream, running */
static int own_stream(void)
{
	struct master own;

	master_init(&own, "Dummy", 0, SNDRV_PCM_STREAM_PLAYBACK);
	if (master_open(&own, true))
		return -1;
	return own.fd;
}

static void spawn(const char *bin, const char *abi, uint64_t seed, int ops, bool kcov)
{
	struct child *c = &children[nchildren];
	int sv[2];
	char a_sock[16], a_own[16], a_seed[32], a_ops[16], a_buf[24];

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
		ksft_exit_fail_msg("socketpair: %s\n", strerror(errno));
	c->own_fd = own_stream();
	c->abi = abi;
	c->pid = fork();
	if (c->pid == 0) {
		fcntl(sv[1], F_SETFD, 0);
		if (c->own_fd >= 0)
			fcntl(c->own_fd, F_SETFD, 0);
		snprintf(a_sock, sizeof(a_sock), "%d", sv[1]);
		snprintf(a_own, sizeof(a_own), "%d", c->own_fd);
		snprintf(a_seed, sizeof(a_seed), "%llu", (unsigned long long)seed);
		snprintf(a_ops, sizeof(a_ops), "%d", ops);
		snprintf(a_buf, sizeof(a_buf), "%zu", masters[0].buffer_bytes);
		execl(bin, bin, "--child", a_sock, a_own, a_seed, a_ops, kcov ? "1" : "0",
		      a_buf, (char *)NULL);
		fprintf(stderr, "exec %s: %s\n", bin, strerror(errno));
		_exit(127);
	}
	close(sv[1]);
	c->sock = sv[0];
	c->last_heard = now_s();
	nchildren++;
}

static unsigned long disturbances;

static void check_masters(void)
{
	for (int i = 0; i < NSTREAMS; i++) {
		const char *why = master_check(&masters[i]);

		if (why) {
			disturbances++;
			if (disturbances <= 20)
				printf("# DISTURBANCE: %s\n", why);
		}
	}
}

static void serve(double seconds, unsigned long batches)
{
	double start = now_s(), last_report = start;
	unsigned long total_batches = 0;
	int live = nchildren;

	while (live > 0) {
		struct pollfd pfd[MAX_CHILDREN];

		for (int i = 0; i < nchildren; i++) {
			pfd[i].fd = children[i].gone ? -1 : children[i].sock;
			pfd[i].events = POLLIN;
		}
		if (poll(pfd, nchildren, 1000) < 0 && errno != EINTR)
			break;
		for (int i = 0; i < nchildren; i++) {
			struct child *c = &children[i];
			union { struct msg m; struct pcs_msg p; } u;
			ssize_t n;

			if (!c->gone && !pfd[i].revents && now_s() - c->last_heard > 300) {
				/* a watchdog, not a measure: say where it hangs */
				char path[64], line[256];
				FILE *f;

				snprintf(path, sizeof(path), "/proc/%d/syscall", c->pid);
				f = fopen(path, "r");
				printf("# attacker %d (%s) silent for 300 s, in syscall: %s", c->pid,
				       c->abi, f && fgets(line, sizeof(line), f) ? line : "?\n");
				if (f)
					fclose(f);
				kill(c->pid, SIGKILL);
				c->gone = true;
				live--;
				continue;
			}
			if (c->gone || !(pfd[i].revents & (POLLIN | POLLHUP | POLLERR)))
				continue;
			c->last_heard = now_s();
			n = recv(c->sock, &u, sizeof(u), 0);
			if (n <= 0) {
				c->gone = true;
				live--;
				continue;
			}
			switch (u.m.type) {
			case M_REQ_FD: {
				int fd = -1;

				/* the attacker's open path is covered too */
				if (u.m.a >= 0 && u.m.a < NSTREAMS)
					fd = hand_out(u.m.a, u.m.b);
				u.m.type = M_FD;
				u.m.c = fd < 0 ? fd : 0;
				send_msg(c->sock, &u.m, fd);
				if (fd >= 0)
					close(fd);
				break;
			}
			case M_BATCH: {
				bool more;

				check_masters();
				/* now and then, the server takes files back */
				if (rnd(&server_seed, 2) == 0)
					revoke_some();
				c->batches++;
				total_batches++;
				c->ioctls = u.m.v[0], c->calls = u.m.v[1];
				c->violations = u.m.v[2], c->faults = u.m.v[3];
				c->revoked = u.m.v[4];
				more = seconds > 0 ? now_s() - start < seconds :
						     c->batches < batches;
				u.m = (struct msg){ .type = M_ACK, .a = more };
				send_msg(c->sock, &u.m, -1);
				break;
			}
			case M_DONE:
				c->ioctls = u.m.v[0], c->calls = u.m.v[1];
				c->violations = u.m.v[2], c->faults = u.m.v[3];
				c->revoked = u.m.v[4];
				break;
			case M_PCS:
				for (int j = 0; j < u.p.n && j < 250; j++)
					kcov_add(&all_pcs, u.p.pc[j]);
				break;
			case M_ACK:	/* the child's last word */
				c->done = true;
				c->gone = true;
				live--;
				break;
			}
		}
		if (now_s() - last_report >= 15) {
			unsigned long io = 0, v = 0;

			for (int i = 0; i < nchildren; i++)
				io += children[i].ioctls, v += children[i].violations;
			printf("# fuzz: %.0f s, %lu batches, %lu ioctls, %lu violations, %lu disturbances\n",
			       now_s() - start, total_batches, io, v, disturbances);
			fflush(stdout);
			last_report = now_s();
		}
	}
}

static void usage(void)
{
	fprintf(stderr, "usage: pcm-ioctl-fuzz [--seconds S] [--batches N] [--ops N] [--seed N]\n"
			"                      [--abis x86_64,i386,x32] [--procs-per-abi N] [--kcov]\n");
	exit(2);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "seconds", required_argument, NULL, 's' },
		{ "batches", required_argument, NULL, 'b' },
		{ "ops", required_argument, NULL, 'o' },
		{ "seed", required_argument, NULL, 'r' },
		{ "abis", required_argument, NULL, 'a' },
		{ "procs-per-abi", required_argument, NULL, 'p' },
		{ "kcov", no_argument, NULL, 'k' },
		{ NULL, 0, NULL, 0 },
	};
	double seconds = 0, start;
	unsigned long batches = 20;
	int ops = 300, per_abi = 1, opt;
	uint64_t seed = 0;
	bool kcov = false;
	char abis[64] = "x86_64,i386,x32", abis_list[64], self[256], *dir, *tok, *save;
	struct figures fig = { 0 };
	unsigned long violations = 0, faults = 0, revoked_seen = 0;
	bool children_ok = true;

	if (argc >= 8 && !strcmp(argv[1], "--child"))
		return child_main(atoi(argv[2]), atoi(argv[3]), strtoull(argv[4], NULL, 0),
				  atoi(argv[5]), atoi(argv[6]), strtoul(argv[7], NULL, 0));

	while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (opt) {
		case 's': seconds = atof(optarg); break;
		case 'b': batches = strtoul(optarg, NULL, 0); break;
		case 'o': ops = atoi(optarg); break;
		case 'r': seed = strtoull(optarg, NULL, 0); break;
		case 'a': snprintf(abis, sizeof(abis), "%s", optarg); break;
		case 'p': per_abi = atoi(optarg); break;
		case 'k': kcov = true; break;
		default: usage();
		}
	}
	if (!seed)
		seed = (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 32);
	signal(SIGPIPE, SIG_IGN);
	signal(SIGIO, SIG_IGN);
	all_pcs.cap = 1 << 14;
	all_pcs.pcs = calloc(all_pcs.cap, sizeof(uint64_t));

	ksft_print_header();
	ksft_print_msg("seed %llu, %s, abis %s x %d, %d ops per batch\n",
		       (unsigned long long)seed,
		       seconds > 0 ? "timed" : "bounded", abis, per_abi, ops);
	master_setup();
	server_seed = seed ^ 0x5e7e7;
	for (int i = 0; i < NSTREAMS; i++)
		for (int k = 0; k < KEPT; k++)
			kept[i][k] = -1;
	if (kcov && kcov_start(&server_kcov))
		ioctl(server_kcov.fd, KCOV_DISABLE, 0);

	snprintf(abis_list, sizeof(abis_list), "%s", abis);
	/* the attacker binaries sit next to this one */
	if (readlink("/proc/self/exe", self, sizeof(self) - 1) < 0)
		ksft_exit_fail_msg("readlink /proc/self/exe: %s\n", strerror(errno));
	self[sizeof(self) - 1] = 0;
	dir = strrchr(self, '/');
	*dir = 0;
	for (tok = strtok_r(abis, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		char bin[320];

		snprintf(bin, sizeof(bin), "%s/pcm-ioctl-fuzz%s", self,
			 !strcmp(tok, "x86_64") ? "" : !strcmp(tok, "i386") ? "-32" :
			 !strcmp(tok, "x32") ? "-x32" : "-unknown");
		for (int i = 0; i < per_abi && nchildren < MAX_CHILDREN; i++)
			spawn(bin, tok, seed + nchildren * 7919, ops, kcov);
	}
	ksft_set_plan(3 + NSTREAMS);
	start = now_s();
	serve(seconds, batches);
	for (int i = 0; i < nchildren; i++) {
		struct child *c = &children[i];
		int status = 0;

		waitpid(c->pid, &status, 0);
		if (!c->done || !WIFEXITED(status) || WEXITSTATUS(status)) {
			children_ok = false;
			ksft_print_msg("attacker %d (%s) ended badly: status %#x%s\n", c->pid,
				       c->abi, status, c->done ? "" : ", did not finish");
		}
		ksft_print_msg("attacker %d (%s): %llu batches, %llu ioctls, %llu other calls, "
			       "%llu violations, %llu faults, %llu files found revoked\n", c->pid, c->abi,
			       (unsigned long long)c->batches, (unsigned long long)c->ioctls,
			       (unsigned long long)c->calls, (unsigned long long)c->violations,
			       (unsigned long long)c->faults, (unsigned long long)c->revoked);
		revoked_seen += c->revoked;
		fig.ioctls += c->ioctls;
		fig.calls += c->calls;
		violations += c->violations;
		faults += c->faults;
	}
	fig.seconds = (unsigned long)(now_s() - start + 0.5);
	fig.procs = nchildren + 1;
	fig.threads = nchildren + 1;
	fig.violations = violations;
	fig.disturbances = disturbances;

	ksft_test_result(children_ok && nchildren > 0, "%d attackers (%s) ran to the end\n",
			 nchildren, abis_list);
	ksft_test_result(exports > 0 && revocations > 0 && revoked_seen > 0,
			 "the server exported (%lu) and revoked (%lu), the attackers found files revoked (%lu)\n",
			 exports, revocations, revoked_seen);
	ksft_test_result(violations == 0,
			 "no call the mask denies succeeded, wrote its argument or made a mapping writable (%lu violations in %lu ioctls, %lu calls)\n",
			 violations, fig.ioctls, fig.calls);
	for (int i = 0; i < NSTREAMS; i++) {
		const char *why = master_check(&masters[i]);

		if (why) {
			disturbances++;
			ksft_print_msg("DISTURBANCE: %s\n", why);
		}
		ksft_test_result(why == NULL && masters[i].stalls == 0 && disturbances == 0,
				 "master %s undisturbed and progressing (%lu checks)\n",
				 masters[i].name, masters[i].checks);
	}
	fig.disturbances = disturbances;
	if (kcov) {
		size_t n = 0;

		for (size_t j = 0; server_kcov.pcs && j < server_kcov.cap; j++)
			if (server_kcov.pcs[j])
				kcov_add(&all_pcs, server_kcov.pcs[j]);

		for (size_t j = 0; j < all_pcs.cap; j++)
			n += all_pcs.pcs[j] != 0;
		ksft_print_msg("kcov: %zu distinct PCs in the instrumented PCM core\n", n);
		kcov_print(stdout, all_pcs.pcs, all_pcs.cap);
	}
	figures_print("pcm-ioctl-fuzz", &fig);
	for (int i = 0; i < NSTREAMS; i++)
		master_close(&masters[i]);
	ksft_finished();
}
