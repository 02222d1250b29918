// SPDX-License-Identifier: GPL-2.0
/*
 * The measurements of 'make bench' (scripts/bench), run in the VM on the
 * patched and on the baseline kernel:
 *
 *   pcm-bench [-r REPS] [-t MS] [-s SECONDS] [-c CLIENTS] TEST...
 *
 *   plain     what a plain open of a substream (and its setup) costs in
 *             slab objects, per cache: every PCM substream of every card
 *             opened once, the slab counted before and after; then the
 *             time of a plain open and close of the dummy card's
 *             substream 0, per pair and for each call alone
 *   hot       cost per call of the hot-path ioctls on a master file alone;
 *             then, where the kernel has restricted opens, on the master,
 *             on a restricted file attached to it (O_APPEND|O_EXCL) and on
 *             an exported one (SHARED_EXPORT), in turn
 *   export    SHARED_EXPORT followed by close() of the new file, per pair
 *             (and a restricted open and close, for comparison)
 *   position  a restricted client reads the position: a load from the
 *             mapped status page, SYNC_PTR, a round trip over a UNIX socket
 *             to the master process
 *   datapath  a client writing into the shared buffer against the same
 *             audio relayed through a shared-memory ring by the master
 *   scale     CLIENTS restricted clients on one substream
 *   revoke    SHARED_REVOKE with 1, 64 and CLIENTS exported files mapped:
 *             revoking them all (-1), and one by its descriptor beside
 *             that many others
 *
 * Each sample is one line "BENCH METRIC UNIT VALUE" on stdout; other lines
 * are commentary. A per-call cost is the mean over as many calls as fit in
 * MS milliseconds (default 50); every test first runs once unrecorded, so
 * that one-time costs (lockdep learning a lock chain, say) stay out. Times
 * are CLOCK_MONOTONIC of the guest, CPU times CLOCK_PROCESS_CPUTIME_ID.
 * Everything but the slab count of 'plain' runs on the playback substream 0
 * of the snd-dummy card, set up as tests/pcm-util.h does.
 */
#include <dirent.h>
#include <limits.h>
#include <math.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include "pcm-util.h"

#define STREAM		SNDRV_PCM_STREAM_PLAYBACK
#define FRAME_BYTES	4	/* S16_LE stereo */
#define RESTRICTED	(O_RDWR | O_APPEND | O_EXCL)

static int reps = 5;
static double budget_ns = 50e6;
static int seconds = 2;
static int nclients = 1024;
static int card;

static void die(const char *what)
{
	fprintf(stderr, "pcm-bench: %s: %s\n", what, strerror(errno));
	exit(1);
}

static void check(int err, const char *what)
{
	if (err < 0) {
		errno = -err;
		die(what);
	}
}

static double now_ns(clockid_t clock)
{
	struct timespec ts;

	clock_gettime(clock, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

static bool warming_up;

static void sample(const char *metric, const char *unit, double value)
{
	if (warming_up)
		return;
	printf("BENCH %s %s %.6g\n", metric, unit, value);
	fflush(stdout);
}

/* Calls counted in batches until the time budget of one sample is spent */
struct timing {
	double t0, elapsed;
	long calls;
};

static void timing_start(struct timing *t)
{
	t->calls = 0;
	t->t0 = now_ns(CLOCK_MONOTONIC);
}

static bool timing_more(struct timing *t, long batch)
{
	t->calls += batch;
	t->elapsed = now_ns(CLOCK_MONOTONIC) - t->t0;
	return t->elapsed < budget_ns;
}

static double timing_per_call(const struct timing *t)
{
	return t->elapsed / t->calls;
}

/* The master: substream 0 opened normally, set up, and running if @start */
static int master_open(bool start)
{
	int fd = pcm_open_sub(card, 0, STREAM, 0, O_RDWR | O_NONBLOCK);

	if (fd < 0)
		die("open master");
	check(pcm_configure(fd, &pcm_default_setup), "configure master");
	check(xioctl(fd, SNDRV_PCM_IOCTL_PREPARE, NULL), "PREPARE");
	if (start)
		check(xioctl(fd, SNDRV_PCM_IOCTL_START, NULL), "START");
	return fd;
}

/* A second file on the master's substream: restricted, or O_APPEND only */
static int attach(int flags)
{
	int fd = pcm_open_sub(card, 0, STREAM, 0, flags | O_NONBLOCK);

	if (fd < 0)
		die("open a file on the busy substream");
	return fd;
}

/* Does this kernel have restricted opens? (baseline: no PERM_GET) */
static bool have_restricted(int master)
{
	unsigned int perm;

	return xioctl(master, SNDRV_PCM_IOCTL_PERM_GET, &perm) == 0;
}

static int restricted_open(void)
{
	unsigned int perm = 0;
	int fd = attach(RESTRICTED);

	check(xioctl(fd, SNDRV_PCM_IOCTL_PERM_GET, &perm), "PERM_GET");
	if (perm != SNDRV_PCM_PERM_SHARED) {
		fprintf(stderr, "pcm-bench: restricted open got mask %#x\n", perm);
		exit(1);
	}
	return fd;
}

/* A new anonymous file on @master's substream holding @perm */
static int export_fd(int master, unsigned int perm)
{
	struct snd_pcm_shared_export ex;

	memset(&ex, 0, sizeof(ex));
	ex.perm = perm;
	ex.flags = O_RDWR | O_NONBLOCK | O_CLOEXEC;
	if (ioctl(master, SNDRV_PCM_IOCTL_SHARED_EXPORT, &ex) < 0)
		die("SHARED_EXPORT");
	return ex.fd;
}

static int exported_open(int master)
{
	unsigned int perm = 0;
	int fd = export_fd(master, SNDRV_PCM_PERM_SHARED);

	check(xioctl(fd, SNDRV_PCM_IOCTL_PERM_GET, &perm), "PERM_GET");
	if (perm != SNDRV_PCM_PERM_SHARED) {
		fprintf(stderr, "pcm-bench: exported file got mask %#x\n", perm);
		exit(1);
	}
	return fd;
}

struct mapping {
	volatile struct snd_pcm_mmap_status *status;
	volatile struct snd_pcm_mmap_control *control;
	char *data;
	size_t data_bytes;
	unsigned long buffer_size, boundary, period;
};

/* Map what a client of @fd maps; the control page and buffer writable if @rw */
static void map_stream(int fd, bool rw, struct mapping *m)
{
	struct snd_pcm_sw_params sw;
	long page = sysconf(_SC_PAGESIZE);

	m->period = pcm_default_setup.period;
	m->buffer_size = m->period * pcm_default_setup.periods;
	m->data_bytes = m->buffer_size * FRAME_BYTES;
	check(xioctl(fd, SNDRV_PCM_IOCTL_SW_PARAMS_GET, &sw), "SW_PARAMS_GET");
	m->boundary = sw.boundary;
	m->status = mmap(NULL, page, PROT_READ, MAP_SHARED, fd,
			 SNDRV_PCM_MMAP_OFFSET_STATUS);
	if (m->status == MAP_FAILED)
		die("mmap status");
	m->control = mmap(NULL, page, PROT_READ | (rw ? PROT_WRITE : 0),
			  MAP_SHARED, fd, SNDRV_PCM_MMAP_OFFSET_CONTROL);
	if (m->control == MAP_FAILED)
		die("mmap control");
	/* a file without RW may only map the buffer read-only */
	m->data = mmap(NULL, m->data_bytes, PROT_READ | (rw ? PROT_WRITE : 0),
		       MAP_SHARED, fd, SNDRV_PCM_MMAP_OFFSET_DATA);
	if (m->data == MAP_FAILED)
		die("mmap data");
}

/* Touch every page of the mappings, as a client that reads them has */
static void touch_stream(const struct mapping *m)
{
	long page = sysconf(_SC_PAGESIZE);
	volatile char sink;

	sink = m->status->state;
	sink = m->control->appl_ptr;
	for (size_t off = 0; off < m->data_bytes; off += page)
		sink = ((volatile char *)m->data)[off];
	(void)sink;
}

static void unmap_stream(struct mapping *m)
{
	long page = sysconf(_SC_PAGESIZE);

	munmap((void *)m->status, page);
	munmap((void *)m->control, page);
	munmap(m->data, m->data_bytes);
}

/* hot path -------------------------------------------------------------- */

struct hot_call {
	const char *name;
	unsigned long cmd;
	unsigned int sync_flags;	/* SYNC_PTR only */
	bool master_only;		/* needs a permission a client lacks */
};

#define SYNC_READ (SNDRV_PCM_SYNC_PTR_HWSYNC | SNDRV_PCM_SYNC_PTR_APPL | \
		   SNDRV_PCM_SYNC_PTR_AVAIL_MIN)

static const struct hot_call hot_calls[] = {
	{ .name = "PVERSION", .cmd = SNDRV_PCM_IOCTL_PVERSION },
	{ .name = "SYNC_PTR", .cmd = SNDRV_PCM_IOCTL_SYNC_PTR, .sync_flags = SYNC_READ },
	/* the form that writes appl_ptr and avail_min (back, unchanged) */
	{ .name = "SYNC_PTR_write", .cmd = SNDRV_PCM_IOCTL_SYNC_PTR, .master_only = true },
	{ .name = "HWSYNC", .cmd = SNDRV_PCM_IOCTL_HWSYNC },
	{ .name = "STATUS_EXT", .cmd = SNDRV_PCM_IOCTL_STATUS_EXT },
	{ .name = "DELAY", .cmd = SNDRV_PCM_IOCTL_DELAY },
};

union hot_arg {
	struct snd_pcm_sync_ptr sync_ptr;
	struct snd_pcm_status status;
	snd_pcm_sframes_t delay;
	int version;
};

static void hot_arg_init(int fd, const struct hot_call *c, union hot_arg *arg)
{
	memset(arg, 0, sizeof(*arg));
	if (c->cmd != SNDRV_PCM_IOCTL_SYNC_PTR)
		return;
	arg->sync_ptr.flags = SNDRV_PCM_SYNC_PTR_APPL | SNDRV_PCM_SYNC_PTR_AVAIL_MIN;
	check(xioctl(fd, SNDRV_PCM_IOCTL_SYNC_PTR, &arg->sync_ptr), "SYNC_PTR");
	arg->sync_ptr.flags = c->sync_flags;
}

/* ns per call of @c on @fd */
static double hot_measure(int fd, const struct hot_call *c)
{
	struct timing t;
	union hot_arg arg;

	hot_arg_init(fd, c, &arg);
	timing_start(&t);
	do {
		for (int i = 0; i < 16; i++)
			if (ioctl(fd, c->cmd, &arg) < 0)
				die(c->name);
	} while (timing_more(&t, 16));
	return timing_per_call(&t);
}

static void hot_sample(const char *role, int fd, const struct hot_call *c)
{
	char metric[64];

	snprintf(metric, sizeof(metric), "hot.%s.%s", role, c->name);
	sample(metric, "ns", hot_measure(fd, c));
}

static void test_hot(void)
{
	const size_t ncalls = sizeof(hot_calls) / sizeof(hot_calls[0]);
	static const char *const role[] = { "master", "restricted", "exported" };
	int master, fd[3];

	master = master_open(true);
	/* item 1: the master alone, as on any kernel */
	for (int r = 0; r < reps; r++)
		for (size_t i = 0; i < ncalls; i++)
			hot_sample("alone", master, &hot_calls[i]);
	if (!have_restricted(master)) {
		printf("# no restricted opens on this kernel: master alone only\n");
		close(master);
		return;
	}
	/*
	 * items 2 and 7: a restricted file (O_APPEND|O_EXCL) and an exported
	 * one attached; the same calls on the three files in turn, the order
	 * rotated every round
	 */
	fd[0] = master;
	fd[1] = restricted_open();
	fd[2] = exported_open(master);
	for (int r = 0; r < reps; r++)
		for (size_t i = 0; i < ncalls; i++) {
			if (hot_calls[i].master_only)
				continue;
			for (int k = 0; k < 3; k++) {
				int f = (r + k) % 3;

				hot_sample(role[f], fd[f], &hot_calls[i]);
			}
		}
	close(fd[2]);
	close(fd[1]);
	close(master);
}

/* position -------------------------------------------------------------- */

static double position_load(const struct mapping *m)
{
	volatile snd_pcm_uframes_t sink = 0;
	struct timing t;

	timing_start(&t);
	do {
		for (int i = 0; i < 4096; i++)
			sink += m->status->hw_ptr;
	} while (timing_more(&t, 4096));
	(void)sink;
	return timing_per_call(&t);
}

/*
 * The relay: the master process answers each request on a UNIX socket
 * with the position it reads from its own status page (the cheapest answer
 * a server can give, so the figure is the cost of the round trip).
 */
static void position_server(int sock, const struct mapping *m)
{
	char req;

	while (recv(sock, &req, 1, 0) == 1) {
		snd_pcm_uframes_t pos = m->status->hw_ptr;

		if (send(sock, &pos, sizeof(pos), 0) != sizeof(pos))
			break;
	}
	_exit(0);
}

static double position_socket(int sock)
{
	snd_pcm_uframes_t pos;
	struct timing t;
	char req = 'p';

	timing_start(&t);
	do {
		if (send(sock, &req, 1, 0) != 1 ||
		    recv(sock, &pos, sizeof(pos), 0) != sizeof(pos))
			die("position round trip");
	} while (timing_more(&t, 1));
	return timing_per_call(&t);
}

static void test_position(void)
{
	static const struct hot_call sync_ptr = {
		.name = "SYNC_PTR", .cmd = SNDRV_PCM_IOCTL_SYNC_PTR, .sync_flags = SYNC_READ
	};
	struct mapping master_map, client_map;
	int master, client, sv[2];
	pid_t server;

	master = master_open(true);
	if (!have_restricted(master)) {
		printf("# no restricted opens on this kernel: position skipped\n");
		close(master);
		return;
	}
	client = restricted_open();
	map_stream(master, false, &master_map);
	map_stream(client, false, &client_map);
	if (socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv) < 0)
		die("socketpair");
	server = fork();
	if (server < 0)
		die("fork");
	if (server == 0) {
		close(sv[0]);
		close(client);
		position_server(sv[1], &master_map);
	}
	close(sv[1]);
	for (int r = 0; r < reps; r++) {
		sample("position.mmap", "ns", position_load(&client_map));
		sample("position.sync_ptr", "ns", hot_measure(client, &sync_ptr));
		sample("position.socket", "ns", position_socket(sv[0]));
	}
	close(sv[0]);
	waitpid(server, NULL, 0);
	unmap_stream(&client_map);
	unmap_stream(&master_map);
	close(client);
	close(master);
}

/* data path ------------------------------------------------------------- */

static void slab_settle(void);

/* One second of a 1 kHz tone: what the client plays, over and over */
static int16_t tone[48000 * 2];

static void tone_init(void)
{
	for (int f = 0; f < 48000; f++)
		tone[2 * f] = tone[2 * f + 1] = 16384 * sin(2 * M_PI * f / 48);
}

/* Copy @frames frames from cyclic @src at @src_pos to cyclic @dst at @dst_pos */
static size_t copy_frames(char *dst, unsigned long dst_frames, unsigned long dst_pos,
			  const char *src, unsigned long src_frames,
			  unsigned long src_pos, unsigned long frames)
{
	size_t bytes = 0;

	while (frames) {
		unsigned long d = dst_pos % dst_frames, s = src_pos % src_frames;
		unsigned long n = frames;

		if (n > dst_frames - d)
			n = dst_frames - d;
		if (n > src_frames - s)
			n = src_frames - s;
		memcpy(dst + d * FRAME_BYTES, src + s * FRAME_BYTES, n * FRAME_BYTES);
		bytes += n * FRAME_BYTES;
		dst_pos += n;
		src_pos += n;
		frames -= n;
	}
	return bytes;
}

/* Frames the application may write into the hardware buffer */
static unsigned long playback_avail(const struct mapping *m)
{
	long avail = m->status->hw_ptr + m->buffer_size - m->control->appl_ptr;

	if (avail < 0)
		avail += m->boundary;
	else if ((unsigned long)avail >= m->boundary)
		avail -= m->boundary;
	return avail;
}

/* Pass @frames written frames to the kernel through the control page */
static void appl_forward(const struct mapping *m, unsigned long frames)
{
	unsigned long appl = m->control->appl_ptr + frames;

	if (appl >= m->boundary)
		appl -= m->boundary;
	__atomic_store_n(&m->control->appl_ptr, appl, __ATOMIC_RELEASE);
}

/*
 * The writers wait for half a period of space: snd-dummy's timer may
 * fire a frame short of a full period, and a writer waiting for a full
 * one would then skip a wake-up now and then, which changes its cost.
 */
static void datapath_open(int *master)
{
	struct snd_pcm_sw_params sw;

	*master = master_open(false);
	check(xioctl(*master, SNDRV_PCM_IOCTL_SW_PARAMS_GET, &sw), "SW_PARAMS_GET");
	sw.avail_min = pcm_default_setup.period / 2;
	check(xioctl(*master, SNDRV_PCM_IOCTL_SW_PARAMS, &sw), "SW_PARAMS");
}

/* Wait until the buffer has room: poll() on the PCM file */
static void wait_space(int fd, const struct mapping *m)
{
	struct pollfd pfd = { .fd = fd, .events = POLLOUT };

	while (playback_avail(m) < m->period / 2)
		if (poll(&pfd, 1, 1000) <= 0 || (pfd.revents & POLLERR)) {
			errno = EIO;
			die("poll on the PCM");
		}
}

/* What each process of a data-path run reports */
struct copy_stats {
	double cpu_ns;		/* CPU time while the stream ran */
	double bytes;		/* bytes copied */
	double frames;		/* frames passed on */
};

static void report_stats(int pipe_fd, const struct copy_stats *s)
{
	if (write(pipe_fd, s, sizeof(*s)) != sizeof(*s))
		die("report to the parent");
}

static void read_stats(int pipe_fd, struct copy_stats *s)
{
	if (read(pipe_fd, s, sizeof(*s)) != sizeof(*s))
		die("read a child's report");
}

/*
 * Direct: the client holds a file restricted to SHARED | RW, maps the
 * buffer and its control page, and writes each period into the buffer
 * itself. The master only starts the stream.
 */
static void direct_client(int fd, unsigned long total, int ready, int report)
{
	struct copy_stats s = { 0 };
	struct mapping m;
	double cpu0;

	map_stream(fd, true, &m);
	/* fill the buffer before the start, as any client does */
	s.bytes = copy_frames(m.data, m.buffer_size, 0, (char *)tone, 48000,
			      0, m.buffer_size);
	appl_forward(&m, m.buffer_size);
	if (write(ready, "r", 1) != 1)
		die("ready");
	cpu0 = now_ns(CLOCK_PROCESS_CPUTIME_ID);
	for (unsigned long done = m.buffer_size; done < total;) {
		unsigned long n;

		wait_space(fd, &m);
		n = playback_avail(&m);
		if (n > total - done)
			n = total - done;
		s.bytes += copy_frames(m.data, m.buffer_size, m.control->appl_ptr,
				       (char *)tone, 48000, done, n);
		appl_forward(&m, n);
		done += n;
	}
	s.cpu_ns = now_ns(CLOCK_PROCESS_CPUTIME_ID) - cpu0;
	s.frames = total;
	report_stats(report, &s);
	_exit(0);
}

static void datapath_direct(unsigned long total, struct copy_stats *client_stats,
			    struct copy_stats *master_stats)
{
	unsigned int perm = SNDRV_PCM_PERM_SHARED | SNDRV_PCM_PERM_RW;
	int master, client, ready[2], report[2];
	double cpu0;
	pid_t pid;
	char c;

	datapath_open(&master);
	client = attach(O_RDWR | O_APPEND);
	check(xioctl(client, SNDRV_PCM_IOCTL_PERM_RESTRICT, &perm), "PERM_RESTRICT");
	if (pipe(ready) < 0 || pipe(report) < 0)
		die("pipe");
	pid = fork();
	if (pid < 0)
		die("fork");
	if (pid == 0) {
		close(master);
		direct_client(client, total, ready[1], report[1]);
	}
	if (read(ready[0], &c, 1) != 1)
		die("client not ready");
	cpu0 = now_ns(CLOCK_PROCESS_CPUTIME_ID);
	check(xioctl(master, SNDRV_PCM_IOCTL_START, NULL), "START");
	read_stats(report[0], client_stats);
	master_stats->cpu_ns = now_ns(CLOCK_PROCESS_CPUTIME_ID) - cpu0;
	master_stats->bytes = master_stats->frames = 0;
	waitpid(pid, NULL, 0);
	check(xioctl(master, SNDRV_PCM_IOCTL_DROP, NULL), "DROP");
	close(client);
	close(master);
	close(ready[0]), close(ready[1]), close(report[0]), close(report[1]);
}

/*
 * Relay (what dmix or a sound server does): the client writes into a
 * shared-memory ring as large as the hardware buffer; the master, woken
 * by the PCM each period, copies what the ring holds into the hardware
 * buffer and wakes the client through an eventfd to refill it.
 */
struct ring {
	unsigned long head, tail;	/* frames written, frames taken */
	int done;
	char data[];
};

static void relay_client(struct ring *ring, unsigned long frames, int space,
			 int ready, int report)
{
	struct copy_stats s = { 0 };
	bool started = false;
	double cpu0 = 0;
	uint64_t count;

	for (;;) {
		unsigned long tail = __atomic_load_n(&ring->tail, __ATOMIC_ACQUIRE);
		unsigned long n = frames - (ring->head - tail);

		s.bytes += copy_frames(ring->data, frames, ring->head,
				       (char *)tone, 48000, ring->head, n);
		s.frames += n;
		__atomic_store_n(&ring->head, ring->head + n, __ATOMIC_RELEASE);
		if (!started) {
			started = true;
			if (write(ready, "r", 1) != 1)
				die("ready");
			cpu0 = now_ns(CLOCK_PROCESS_CPUTIME_ID);
		}
		if (read(space, &count, sizeof(count)) != sizeof(count))
			die("eventfd read");
		if (__atomic_load_n(&ring->done, __ATOMIC_ACQUIRE))
			break;
	}
	s.cpu_ns = now_ns(CLOCK_PROCESS_CPUTIME_ID) - cpu0;
	report_stats(report, &s);
	_exit(0);
}

/* The master's side: move @n frames from the ring into the buffer */
static double relay_take(const struct mapping *m, struct ring *ring,
			 unsigned long frames, unsigned long n, int space)
{
	uint64_t one = 1;
	double bytes;

	bytes = copy_frames(m->data, m->buffer_size, m->control->appl_ptr,
			    ring->data, frames, ring->tail, n);
	appl_forward(m, n);
	__atomic_store_n(&ring->tail, ring->tail + n, __ATOMIC_RELEASE);
	if (write(space, &one, sizeof(one)) != sizeof(one))
		die("eventfd write");
	return bytes;
}

static void datapath_relay(unsigned long total, struct copy_stats *client_stats,
			   struct copy_stats *master_stats)
{
	int master, space, ready[2], report[2];
	struct ring *ring;
	struct mapping m;
	size_t ring_bytes;
	uint64_t one = 1;
	double cpu0;
	pid_t pid;
	char c;

	datapath_open(&master);
	map_stream(master, true, &m);
	ring_bytes = sizeof(*ring) + m.buffer_size * FRAME_BYTES;
	ring = mmap(NULL, ring_bytes, PROT_READ | PROT_WRITE,
		    MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (ring == MAP_FAILED)
		die("mmap ring");
	space = eventfd(0, 0);
	if (space < 0 || pipe(ready) < 0 || pipe(report) < 0)
		die("eventfd/pipe");
	pid = fork();
	if (pid < 0)
		die("fork");
	if (pid == 0) {
		close(master);
		relay_client(ring, m.buffer_size, space, ready[1], report[1]);
	}
	if (read(ready[0], &c, 1) != 1)
		die("client not ready");
	/* the ring is full: fill the buffer from it before the start */
	master_stats->bytes = relay_take(&m, ring, m.buffer_size, m.buffer_size, space);
	cpu0 = now_ns(CLOCK_PROCESS_CPUTIME_ID);
	check(xioctl(master, SNDRV_PCM_IOCTL_START, NULL), "START");
	for (unsigned long done = m.buffer_size; done < total;) {
		unsigned long head, n;

		wait_space(master, &m);
		head = __atomic_load_n(&ring->head, __ATOMIC_ACQUIRE);
		n = playback_avail(&m);
		if (n > head - ring->tail)
			n = head - ring->tail;
		if (n > total - done)
			n = total - done;
		master_stats->bytes += relay_take(&m, ring, m.buffer_size, n, space);
		done += n;
	}
	master_stats->frames = total;
	master_stats->cpu_ns = now_ns(CLOCK_PROCESS_CPUTIME_ID) - cpu0;
	__atomic_store_n(&ring->done, 1, __ATOMIC_RELEASE);
	if (write(space, &one, sizeof(one)) != sizeof(one))
		die("eventfd write");
	read_stats(report[0], client_stats);
	waitpid(pid, NULL, 0);
	check(xioctl(master, SNDRV_PCM_IOCTL_DROP, NULL), "DROP");
	unmap_stream(&m);
	munmap(ring, ring_bytes);
	close(space);
	close(master);
	close(ready[0]), close(ready[1]), close(report[0]), close(report[1]);
}

static void datapath_report(const char *mode, const struct copy_stats *client,
			    const struct copy_stats *master, unsigned long total)
{
	char metric[64];
	double audio_s = total / 48000.0;
	double per_frame = 0;

	/* each stage copies its frames once: sum the stages' bytes per frame */
	if (client->frames)
		per_frame += client->bytes / client->frames;
	if (master->frames)
		per_frame += master->bytes / master->frames;
	snprintf(metric, sizeof(metric), "datapath.%s.bytes_per_frame", mode);
	sample(metric, "B", per_frame);
	snprintf(metric, sizeof(metric), "datapath.%s.cpu", mode);
	sample(metric, "us/s", (client->cpu_ns + master->cpu_ns) / 1e3 / audio_s);
	snprintf(metric, sizeof(metric), "datapath.%s.cpu_client", mode);
	sample(metric, "us/s", client->cpu_ns / 1e3 / audio_s);
	snprintf(metric, sizeof(metric), "datapath.%s.cpu_master", mode);
	sample(metric, "us/s", master->cpu_ns / 1e3 / audio_s);
}

static void test_datapath(void)
{
	unsigned long total = seconds * 48000UL;
	struct copy_stats client, master;
	int probe = master_open(false);
	bool restricted = have_restricted(probe);

	close(probe);
	if (!restricted) {
		printf("# no restricted opens on this kernel: data path skipped\n");
		return;
	}
	tone_init();
	for (int r = 0; r < reps; r++) {
		slab_settle();
		datapath_direct(total, &client, &master);
		datapath_report("direct", &client, &master, total);
		slab_settle();
		datapath_relay(total, &client, &master);
		datapath_report("relay", &client, &master, total);
	}
}

/* scale ----------------------------------------------------------------- */

#define MAX_CACHES 512

struct slab_usage {
	struct {
		char name[48];
		unsigned long objects, size;	/* in use; slot size */
	} cache[MAX_CACHES];
	int ncaches;
	double slab_kb;		/* /proc/meminfo Slab: the pages they take */
	double pagetables_kb;
};

/*
 * Let freed objects really go before counting: wait for RCU callbacks,
 * then shrink every cache, which also empties KASAN's quarantine of it.
 */
static void slab_settle(void)
{
	struct dirent *d;
	DIR *dir;

	usleep(100000);
	dir = opendir("/sys/kernel/slab");
	if (!dir)
		die("/sys/kernel/slab");
	while ((d = readdir(dir))) {
		char path[300];
		int fd;

		if (d->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/sys/kernel/slab/%s/shrink", d->d_name);
		fd = open(path, O_WRONLY);
		if (fd < 0)
			continue;
		if (write(fd, "1", 1) != 1)
			die(path);
		close(fd);
	}
	closedir(dir);
}

static void slab_read(struct slab_usage *u)
{
	char line[512];
	FILE *f;

	slab_settle();
	memset(u, 0, sizeof(*u));
	f = fopen("/proc/slabinfo", "r");
	if (!f)
		die("/proc/slabinfo");
	while (fgets(line, sizeof(line), f) && u->ncaches < MAX_CACHES) {
		unsigned long total;

		if (sscanf(line, "%47s %lu %lu %lu", u->cache[u->ncaches].name,
			   &u->cache[u->ncaches].objects, &total,
			   &u->cache[u->ncaches].size) == 4)
			u->ncaches++;
	}
	fclose(f);
	f = fopen("/proc/meminfo", "r");
	if (!f)
		die("/proc/meminfo");
	while (fgets(line, sizeof(line), f)) {
		sscanf(line, "Slab: %lf", &u->slab_kb);
		sscanf(line, "PageTables: %lf", &u->pagetables_kb);
	}
	fclose(f);
}

/* The size a cache's objects are asked for, without KASAN's additions */
static unsigned long slab_object_size(const char *cache)
{
	char path[128], buf[32];
	unsigned long size = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/sys/kernel/slab/%s/object_size", cache);
	f = fopen(path, "r");
	if (f && fgets(buf, sizeof(buf), f))
		size = strtoul(buf, NULL, 10);
	if (f)
		fclose(f);
	return size;
}

/*
 * Slab memory per client from @a to @b, as "METRIC.slot" (objects in use
 * times their slot size, which includes KASAN's redzone and metadata) and
 * "METRIC.object" (times the object size: what the objects are without
 * KASAN); the caches that grew by at least half an object per client are
 * named.
 */
static void slab_per_client(const struct slab_usage *a, const struct slab_usage *b,
			    int clients, const char *metric)
{
	double slot = 0, object = 0;
	char name[96];

	printf("# %s, objects per client:", metric);
	for (int i = 0; i < b->ncaches; i++) {
		long grown = b->cache[i].objects;

		for (int j = 0; j < a->ncaches; j++)
			if (!strcmp(a->cache[j].name, b->cache[i].name))
				grown -= a->cache[j].objects;
		if (!grown)
			continue;
		slot += grown * (double)b->cache[i].size;
		object += grown * (double)slab_object_size(b->cache[i].name);
		if (grown * 2 >= clients)
			printf(" %s %.2f x %lu B (object %lu B);", b->cache[i].name,
			       grown / (double)clients, b->cache[i].size,
			       slab_object_size(b->cache[i].name));
	}
	printf("\n");
	snprintf(name, sizeof(name), "%s.slot", metric);
	sample(name, "B/client", slot / clients);
	snprintf(name, sizeof(name), "%s.object", metric);
	sample(name, "B/client", object / clients);
}

static void scale_check_cost(int client, const char *attached)
{
	static const struct hot_call hwsync = {
		.name = "HWSYNC", .cmd = SNDRV_PCM_IOCTL_HWSYNC
	};
	char metric[64];
	struct timing t;

	/* a denied call is the check alone (and the syscall around it) */
	timing_start(&t);
	do {
		for (int i = 0; i < 16; i++)
			if (ioctl(client, SNDRV_PCM_IOCTL_START) == 0 || errno != EPERM)
				die("START on a restricted file was not denied");
	} while (timing_more(&t, 16));
	snprintf(metric, sizeof(metric), "scale.denied.%s", attached);
	sample(metric, "ns", timing_per_call(&t));
	snprintf(metric, sizeof(metric), "scale.hwsync.%s", attached);
	sample(metric, "ns", hot_measure(client, &hwsync));
}

/*
 * @n restricted clients on a running stream: what they take and cost, and
 * the master's close with all of them attached. With @n == 1, the same
 * steps for comparison, with only the master's close recorded.
 */
static void scale_once(int n, int *fds, struct mapping *maps)
{
	static struct slab_usage before, opened, mapped;
	int master, ctl, sub = 0;
	bool many = n > 1;
	char path[64];
	double t0;

	master = master_open(true);
	/* the clients pick the subdevice as alsa-lib does, through the control */
	snprintf(path, sizeof(path), "/dev/snd/controlC%d", card);
	ctl = open(path, O_RDWR | O_CLOEXEC);
	if (ctl < 0 || ioctl(ctl, SNDRV_CTL_IOCTL_PCM_PREFER_SUBDEVICE, &sub) < 0)
		die("prefer subdevice");
	pcm_path(path, sizeof(path), card, 0, STREAM);

	fds[0] = restricted_open();
	if (many) {
		scale_check_cost(fds[0], "1");
		slab_read(&before);
	}
	t0 = now_ns(CLOCK_MONOTONIC);
	for (int i = 1; i < n; i++) {
		fds[i] = open(path, RESTRICTED | O_NONBLOCK | O_CLOEXEC);
		if (fds[i] < 0)
			die("restricted open");
	}
	if (many) {
		sample("scale.open_all", "ms", (now_ns(CLOCK_MONOTONIC) - t0) / 1e6);
		slab_read(&opened);
	}
	t0 = now_ns(CLOCK_MONOTONIC);
	for (int i = 0; i < n; i++)
		map_stream(fds[i], false, &maps[i]);
	if (many) {
		sample("scale.map_all", "ms", (now_ns(CLOCK_MONOTONIC) - t0) / 1e6);
		slab_read(&mapped);
		slab_per_client(&before, &opened, n - 1, "scale.slab_open");
		slab_per_client(&opened, &mapped, n, "scale.slab_map");
		sample("scale.slab_pages_open", "B/client",
		       (opened.slab_kb - before.slab_kb) * 1024 / (n - 1));
		sample("scale.slab_pages_map", "B/client",
		       (mapped.slab_kb - opened.slab_kb) * 1024 / n);
		sample("scale.pagetables_map", "B/client",
		       (mapped.pagetables_kb - opened.pagetables_kb) * 1024 / n);
		scale_check_cost(fds[0], "all");
	}

	t0 = now_ns(CLOCK_MONOTONIC);
	close(master);
	sample(many ? "scale.master_close.all" : "scale.master_close.1", "ms",
	       (now_ns(CLOCK_MONOTONIC) - t0) / 1e6);
	/* revoked (-ENODEV); the first series of the kernel said -EBADFD */
	if (ioctl(fds[n - 1], SNDRV_PCM_IOCTL_HWSYNC) == 0 ||
	    (errno != ENODEV && errno != EBADFD))
		die("a client still syncs after the master closed");

	t0 = now_ns(CLOCK_MONOTONIC);
	for (int i = 0; i < n; i++) {
		unmap_stream(&maps[i]);
		close(fds[i]);
	}
	if (many)
		sample("scale.close_all", "ms", (now_ns(CLOCK_MONOTONIC) - t0) / 1e6);
	close(ctl);
}

/* room for @n more files; the file table grows now, not while measuring */
static void reserve_fds(int n)
{
	struct rlimit rl = { n + 64, n + 64 };

	if (setrlimit(RLIMIT_NOFILE, &rl) < 0)
		die("RLIMIT_NOFILE");
	if (dup2(0, n + 32) < 0)
		die("dup2");
	close(n + 32);
}

static void test_scale(void)
{
	int probe = master_open(false);
	bool restricted = have_restricted(probe);
	struct mapping *maps;
	int *fds;

	close(probe);
	if (!restricted) {
		printf("# no restricted opens on this kernel: scale skipped\n");
		return;
	}
	reserve_fds(nclients);
	fds = calloc(nclients, sizeof(*fds));
	maps = calloc(nclients, sizeof(*maps));
	if (!fds || !maps)
		die("calloc");
	for (int r = 0; r < reps; r++) {
		/* the warm-up only has to meet each path once */
		scale_once(warming_up ? 64 : nclients, fds, maps);
		scale_once(1, fds, maps);
	}
	free(maps);
	free(fds);
}

/* export and revocation ------------------------------------------------- */

/* The card's control file, with @sub preferred for this process's opens */
static int prefer_subdevice(int sub)
{
	char path[64];
	int ctl;

	snprintf(path, sizeof(path), "/dev/snd/controlC%d", card);
	ctl = open(path, O_RDWR | O_CLOEXEC);
	if (ctl < 0 || ioctl(ctl, SNDRV_CTL_IOCTL_PCM_PREFER_SUBDEVICE, &sub) < 0)
		die("prefer subdevice");
	return ctl;
}

/*
 * What handing a client a file costs the master: SHARED_EXPORT and the
 * close() of the new descriptor (its release runs in close, as the last
 * reference goes), per pair; for comparison, a restricted open of the
 * node and its close.
 */
static void test_export(void)
{
	struct snd_pcm_shared_export ex;
	int master, ctl, sub = 0;
	struct timing t;
	char path[64];

	master = master_open(true);
	if (!have_restricted(master)) {
		printf("# no restricted opens on this kernel: export skipped\n");
		close(master);
		return;
	}
	ctl = prefer_subdevice(sub);
	pcm_path(path, sizeof(path), card, 0, STREAM);
	for (int r = 0; r < reps; r++) {
		double cpu0 = now_ns(CLOCK_PROCESS_CPUTIME_ID);

		timing_start(&t);
		do {
			for (int i = 0; i < 4; i++) {
				memset(&ex, 0, sizeof(ex));
				ex.perm = SNDRV_PCM_PERM_SHARED;
				ex.flags = O_RDWR | O_NONBLOCK | O_CLOEXEC;
				if (ioctl(master, SNDRV_PCM_IOCTL_SHARED_EXPORT, &ex) < 0)
					die("SHARED_EXPORT");
				close(ex.fd);
			}
		} while (timing_more(&t, 4));
		sample("export.export_close", "ns", timing_per_call(&t));
		/* the CPU time of the same: guest time passed idle would differ */
		sample("export.export_close_cpu", "ns",
		       (now_ns(CLOCK_PROCESS_CPUTIME_ID) - cpu0) / t.calls);

		cpu0 = now_ns(CLOCK_PROCESS_CPUTIME_ID);
		timing_start(&t);
		do {
			for (int i = 0; i < 4; i++) {
				int fd = open(path, RESTRICTED | O_NONBLOCK | O_CLOEXEC);

				if (fd < 0)
					die("restricted open");
				close(fd);
			}
		} while (timing_more(&t, 4));
		sample("export.restricted_open_close", "ns", timing_per_call(&t));
		sample("export.restricted_open_close_cpu", "ns",
		       (now_ns(CLOCK_PROCESS_CPUTIME_ID) - cpu0) / t.calls);
	}
	close(ctl);
	close(master);
}

/*
 * One SHARED_REVOKE on @master with @n exported files, each mapping the
 * status page, the control page and the data buffer, every page touched:
 * of all of them (-1), or, with @one, of the last one by its descriptor
 * (the @n - 1 others stay). Returns the guest ns of the ioctl.
 */
static double revoke_once(int master, int n, bool one, int *fds,
			  struct mapping *maps)
{
	int target;
	double t0, t;

	for (int i = 0; i < n; i++) {
		fds[i] = export_fd(master, SNDRV_PCM_PERM_SHARED);
		map_stream(fds[i], false, &maps[i]);
		touch_stream(&maps[i]);
	}
	target = one ? fds[n - 1] : -1;
	slab_settle();
	t0 = now_ns(CLOCK_MONOTONIC);
	if (ioctl(master, SNDRV_PCM_IOCTL_SHARED_REVOKE, &target) < 0)
		die("SHARED_REVOKE");
	t = now_ns(CLOCK_MONOTONIC) - t0;
	/* the revoked file is cut off, the others (if any) are not */
	if (ioctl(fds[n - 1], SNDRV_PCM_IOCTL_HWSYNC) == 0 || errno != ENODEV)
		die("a revoked file still syncs");
	if (maps[n - 1].status->hw_ptr != 0)
		die("a revoked status mapping still shows the stream");
	if (n > 1 && ioctl(fds[0], SNDRV_PCM_IOCTL_HWSYNC) != (one ? 0 : -1))
		die("SHARED_REVOKE took the wrong files");
	for (int i = 0; i < n; i++) {
		unmap_stream(&maps[i]);
		close(fds[i]);
	}
	return t;
}

static void test_revoke(void)
{
	const int counts[] = { 1, 64, nclients };
	struct mapping *maps;
	int master, *fds;
	char metric[64];

	master = master_open(true);
	if (!have_restricted(master)) {
		printf("# no restricted opens on this kernel: revoke skipped\n");
		close(master);
		return;
	}
	reserve_fds(nclients);
	fds = calloc(nclients + 1, sizeof(*fds));
	maps = calloc(nclients + 1, sizeof(*maps));
	if (!fds || !maps)
		die("calloc");
	for (int r = 0; r < reps; r++)
		for (size_t c = 0; c < sizeof(counts) / sizeof(counts[0]); c++) {
			int n = counts[c];

			/* the warm-up only has to meet each path once */
			if (warming_up && n > 64)
				continue;
			snprintf(metric, sizeof(metric), "revoke.all.%d", n);
			sample(metric, "us", revoke_once(master, n, false, fds, maps) / 1e3);
			/* one of n + 1: n others present */
			snprintf(metric, sizeof(metric), "revoke.one.%d", n);
			sample(metric, "us", revoke_once(master, n + 1, true, fds, maps) / 1e3);
		}
	free(maps);
	free(fds);
	close(master);
}

/* plain open -------------------------------------------------------------- */

#define MAX_PLAIN 512

static int name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/*
 * Plain opens (O_RDWR, no O_APPEND) of every PCM node until each has no
 * free substream left: every substream of every card, once. Returns how
 * many files it opened into @fds.
 */
static int plain_open_all(int *fds)
{
	static char names[64][NAME_MAX + 1];
	char *sorted[64];
	struct dirent *d;
	int nnames = 0, n = 0;
	DIR *dir;

	dir = opendir("/dev/snd");
	if (!dir)
		die("/dev/snd");
	while ((d = readdir(dir)) && nnames < 64) {
		int c, dev;
		char dir_c;

		if (sscanf(d->d_name, "pcmC%dD%d%c", &c, &dev, &dir_c) != 3)
			continue;
		snprintf(names[nnames], sizeof(names[0]), "%s", d->d_name);
		sorted[nnames] = names[nnames];
		nnames++;
	}
	closedir(dir);
	qsort(sorted, nnames, sizeof(sorted[0]), name_cmp);
	for (int i = 0; i < nnames; i++) {
		char path[NAME_MAX + 16];

		snprintf(path, sizeof(path), "/dev/snd/%s", sorted[i]);
		while (n < MAX_PLAIN) {
			int fd = open(path, O_RDWR | O_NONBLOCK | O_CLOEXEC);

			if (fd < 0)
				break;
			fds[n++] = fd;
		}
	}
	return n;
}

/*
 * Objects per file from @a to @b, for each cache that grew or shrank by
 * at least half an object per file: "METRIC.CACHE" samples (objects per
 * file), and the bytes, as slab_per_client() gives them.
 */
static void slab_per_file(const struct slab_usage *a, const struct slab_usage *b,
			  int files, const char *bytes_metric, const char *objects_metric)
{
	char name[128];

	for (int i = 0; i < b->ncaches; i++) {
		long grown = b->cache[i].objects;

		for (int j = 0; j < a->ncaches; j++)
			if (!strcmp(a->cache[j].name, b->cache[i].name))
				grown -= a->cache[j].objects;
		if (labs(grown) * 2 < files)
			continue;
		snprintf(name, sizeof(name), "%s.%s", objects_metric, b->cache[i].name);
		sample(name, "obj/file", grown / (double)files);
	}
	slab_per_client(a, b, files, bytes_metric);
}

/*
 * Plain opens (O_RDWR, no O_APPEND) and closes of @path, @n pairs; the
 * guest ns spent in open() and in close() added to @open_ns and @close_ns
 */
static void plain_pairs(const char *path, int n, double *open_ns, double *close_ns)
{
	for (int i = 0; i < n; i++) {
		double t0 = now_ns(CLOCK_MONOTONIC), t1;
		int fd = open(path, O_RDWR | O_NONBLOCK | O_CLOEXEC);

		if (fd < 0)
			die("plain open");
		t1 = now_ns(CLOCK_MONOTONIC);
		close(fd);
		*open_ns += t1 - t0;
		*close_ns += now_ns(CLOCK_MONOTONIC) - t1;
	}
}

/*
 * A plain open and close of substream 0 of the dummy card, the only file
 * on it: the substream attached and released, its runtime allocated and
 * freed, each time. The close is counted whole: the release runs before
 * close() returns to user space. Samples: ns per pair, and per open() and
 * per close() alone.
 */
static void plain_open_close(const char *path)
{
	double open_ns = 0, close_ns = 0;
	struct timing t;

	/* a few unrecorded first: the caches were just shrunk */
	plain_pairs(path, 8, &open_ns, &close_ns);
	open_ns = close_ns = 0;
	timing_start(&t);
	do
		plain_pairs(path, 4, &open_ns, &close_ns);
	while (timing_more(&t, 4));
	sample("plain.open_close", "ns", timing_per_call(&t));
	sample("plain.open", "ns", open_ns / t.calls);
	sample("plain.close", "ns", close_ns / t.calls);
}

/*
 * What a plain open costs, on any kernel: every substream opened once, the
 * slab counted before and after; then each of those files set up (where
 * the driver takes the default setup) and prepared, counted again; then
 * the time of a plain open and close of the dummy card's substream 0.
 */
static void test_plain(void)
{
	static struct slab_usage before, opened, setup;
	static int fds[MAX_PLAIN];
	int n, nsetup, ctl;
	char path[64];

	ctl = prefer_subdevice(0);
	pcm_path(path, sizeof(path), card, 0, STREAM);
	for (int r = 0; r < reps; r++) {
		slab_read(&before);
		n = plain_open_all(fds);
		if (n < 2) {
			errno = ENODEV;
			die("plain opens");
		}
		slab_read(&opened);
		nsetup = 0;
		for (int i = 0; i < n; i++)
			if (pcm_configure(fds[i], &pcm_default_setup) == 0 &&
			    xioctl(fds[i], SNDRV_PCM_IOCTL_PREPARE, NULL) == 0)
				nsetup++;
		slab_read(&setup);
		sample("plain.files", "files", n);
		sample("plain.setups", "files", nsetup);
		slab_per_file(&before, &opened, n, "plain.slab_open", "plain.objects_open");
		if (nsetup)
			slab_per_file(&opened, &setup, nsetup, "plain.slab_setup",
				      "plain.objects_setup");
		for (int i = 0; i < n; i++)
			close(fds[i]);
		plain_open_close(path);
	}
	close(ctl);
}

/* ----------------------------------------------------------------------- */

static const struct {
	const char *name;
	void (*run)(void);
} tests[] = {
	{ "plain", test_plain },
	{ "hot", test_hot },
	{ "export", test_export },
	{ "position", test_position },
	{ "datapath", test_datapath },
	{ "scale", test_scale },
	{ "revoke", test_revoke },
};

/* Once unrecorded and short, then measured */
static void run_test(const char *name, void (*run)(void))
{
	int measured_reps = reps;
	double measured_budget = budget_ns;

	printf("# %s\n", name);
	fflush(stdout);
	warming_up = true;
	reps = 1;
	budget_ns /= 5;
	run();
	warming_up = false;
	reps = measured_reps;
	budget_ns = measured_budget;
	run();
}

static void usage(void)
{
	fprintf(stderr, "usage: pcm-bench [-r REPS] [-t MS] [-s SECONDS] "
		"[-c CLIENTS] plain|hot|export|position|datapath|scale|revoke...\n");
	exit(2);
}

int main(int argc, char **argv)
{
	int opt;

	while ((opt = getopt(argc, argv, "r:t:s:c:")) != -1) {
		switch (opt) {
		case 'r': reps = atoi(optarg); break;
		case 't': budget_ns = atof(optarg) * 1e6; break;
		case 's': seconds = atoi(optarg); break;
		case 'c': nclients = atoi(optarg); break;
		default: usage();
		}
	}
	if (optind == argc || reps < 1 || budget_ns <= 0 || seconds < 1 || nclients < 2)
		usage();
	card = pcm_find_card("Dummy");
	if (card < 0) {
		fprintf(stderr, "pcm-bench: no snd-dummy card\n");
		return 1;
	}
	for (int i = optind; i < argc; i++) {
		size_t t;

		for (t = 0; t < sizeof(tests) / sizeof(tests[0]); t++)
			if (!strcmp(argv[i], tests[t].name))
				break;
		if (t == sizeof(tests) / sizeof(tests[0]))
			usage();
		run_test(tests[t].name, tests[t].run);
	}
	return 0;
}
