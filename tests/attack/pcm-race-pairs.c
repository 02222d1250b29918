// SPDX-License-Identifier: GPL-2.0
/*
 * Targeted races between one call a restricted file may make and one call
 * of the master, each pair hammered from two threads for a bounded number
 * of iterations, on Dummy:0 and Loopback:0 playback. Run with
 * preempt=full: on one CPU the races only happen where the kernel may
 * preempt. A pair passes when the kernel does not splat (vm-run watches)
 * and the master's calls fail only as documented.
 *
 *   refine-vs-free      HW_REFINE  |  HW_PARAMS + HW_FREE
 *                       (fixup_unreferenced_params() reads the DMA buffer
 *                       descriptor that HW_FREE frees: a use-after-free
 *                       under KASAN unless HW_REFINE is serialized)
 *   mmap-vs-prepare     mmap/munmap of the data buffer  |  PREPARE
 *                       (the master's PREPARE, HW_PARAMS or HW_FREE must
 *                       not fail with EBUSY because a client is inside
 *                       mmap(), as it does while mmap takes the buffer
 *                       the way read/write do)
 *   query-vs-setup      CHANNEL_INFO, HW_PARAMS_GET, SW_PARAMS_GET, STATUS,
 *                       DELAY, SYNC_PTR  |  HW_PARAMS, SW_PARAMS, PREPARE,
 *                       START, DROP, HW_FREE
 *   open-vs-close       restricted open, PERM_RESTRICT, mmap, close  |
 *                       master close and reopen of the substream
 *   poll-vs-close       poll/epoll on restricted files  |  master
 *                       START/DROP and close/reopen
 *   mmap-vs-revoke      mmap of the three regions of an export and
 *                       touching them, from two threads  |  the master's
 *                       revocation of it (by fd, by -1, HW_FREE, HW_PARAMS
 *                       over the setup), at a point that moves: afterwards
 *                       no page of the stream is reachable through any
 *                       mapping made before, during or after: every page
 *                       that cannot be written reads zero, every one that
 *                       can raises SIGBUS, and a new mmap fails with ENODEV
 *   export-vs-setup     SHARED_EXPORT from two threads, and calls on the
 *                       new files  |  HW_PARAMS, PREPARE, START, revoke
 *                       all, DROP, HW_FREE: an export succeeds or fails with
 *                       EBADFD (no setup), its file holds the mask asked or
 *                       is revoked (ENODEV), and nothing else happens
 *
 *   pcm-race-pairs [--iterations N] [--only NAME] [--seconds S]
 *                  [--kmemleak | --kmemleak-begin]
 *
 * --seconds repeats the whole set until S seconds have passed. --kmemleak
 * (boot with kmemleak=on) counts the objects leaked by the run;
 * --kmemleak-begin only forgets what boot left, for the count of a later
 * phase (pcm-race-stress --kmemleak) to cover this run too.
 */
#include <getopt.h>
#include <poll.h>
#include <sys/epoll.h>
#include "kselftest.h"
#include "pcm-attack.h"

static unsigned long iterations = 3000;
static unsigned long pair_iterations;	/* of the pair running */
static unsigned long total_calls;
static double pair_deadline;	/* with --seconds: when the pair stops */

/* the master's side goes on for @iterations, or until the deadline */
static bool more(unsigned long i, unsigned long of)
{
	return i < of && (!pair_deadline || now_s() < pair_deadline);
}

struct pair_ctx {
	struct master *m;
	unsigned long master_calls, client_calls;
	unsigned long documented, busy, unexpected;
	char first[160];
	volatile int master_done;
};

static void unexpected(struct pair_ctx *c, const char *what, int err)
{
	/* from the master's and the clients' threads */
	if (__atomic_fetch_add(&c->unexpected, 1, __ATOMIC_RELAXED) == 0)
		snprintf(c->first, sizeof(c->first), "%s: %s", what, strerror(-err));
}

static int client_open(struct pair_ctx *c)
{
	return master_restricted_open(c->m, O_RDWR | O_NONBLOCK);
}

/* ------------------------------------------------------------------ */

static void *refine_client(void *arg)
{
	struct pair_ctx *c = arg;
	struct snd_pcm_hw_params hw;
	int fd = client_open(c);

	if (fd < 0)
		return NULL;
	while (!c->master_done) {
		hw_params_any(&hw);
		ioctl(fd, SNDRV_PCM_IOCTL_HW_REFINE, &hw);
		c->client_calls++;
	}
	close(fd);
	return NULL;
}

static void refine_master(struct pair_ctx *c)
{
	for (unsigned long i = 0; more(i, pair_iterations); i++) {
		int err = pcm_configure(c->m->fd, &c->m->setup);

		if (!err)
			err = xioctl(c->m->fd, SNDRV_PCM_IOCTL_HW_FREE, NULL);
		c->master_calls += 2;
		if (err)
			unexpected(c, "HW_PARAMS/HW_FREE", err);
	}
}

/* ------------------------------------------------------------------ */

static void *mmap_client(void *arg)
{
	struct pair_ctx *c = arg;
	int fd = client_open(c);

	if (fd < 0)
		return NULL;
	while (!c->master_done) {
		void *p = mmap(NULL, 4096, PROT_READ, MAP_SHARED, fd, 0);

		if (p != MAP_FAILED)
			munmap(p, 4096);
		c->client_calls++;
	}
	close(fd);
	return NULL;
}

static void mmap_master(struct pair_ctx *c)
{
	for (unsigned long i = 0; more(i, pair_iterations); i++) {
		int err = xioctl(c->m->fd, SNDRV_PCM_IOCTL_PREPARE, NULL);

		c->master_calls++;
		if (err == -EBUSY)
			c->busy++;
		else if (err)
			unexpected(c, "PREPARE", err);
	}
}

/* ------------------------------------------------------------------ */

static void *query_client(void *arg)
{
	struct pair_ctx *c = arg;
	union {
		struct snd_pcm_hw_params hw;
		struct snd_pcm_sw_params sw;
		struct snd_pcm_status st;
		struct snd_pcm_channel_info ci;
		struct snd_pcm_sync_ptr sp;
		snd_pcm_sframes_t delay;
	} u;
	uint64_t seed = 42;
	int fd = client_open(c);

	if (fd < 0)
		return NULL;
	while (!c->master_done) {
		memset(&u, 0, sizeof(u));
		switch (rnd(&seed, 7)) {
		case 0:
			u.ci.channel = rnd(&seed, 3);
			ioctl(fd, SNDRV_PCM_IOCTL_CHANNEL_INFO, &u);
			break;
		case 1:
			ioctl(fd, SNDRV_PCM_IOCTL_HW_PARAMS_GET, &u);
			break;
		case 2:
			ioctl(fd, SNDRV_PCM_IOCTL_SW_PARAMS_GET, &u);
			break;
		case 3:
			ioctl(fd, SNDRV_PCM_IOCTL_STATUS, &u);
			break;
		case 4:
			ioctl(fd, SNDRV_PCM_IOCTL_DELAY, &u);
			break;
		case 5:
			u.sp.flags = SNDRV_PCM_SYNC_PTR_APPL | SNDRV_PCM_SYNC_PTR_AVAIL_MIN |
				     SNDRV_PCM_SYNC_PTR_HWSYNC;
			ioctl(fd, SNDRV_PCM_IOCTL_SYNC_PTR, &u);
			break;
		default:
			ioctl(fd, SNDRV_PCM_IOCTL_HWSYNC);
		}
		c->client_calls++;
	}
	close(fd);
	return NULL;
}

/*
 * The master sets its stream up and takes it down: HW_PARAMS and
 * SW_PARAMS, PREPARE, START, with @revoke a revocation of every export
 * while it plays, DROP, HW_FREE. 0, or the first error.
 */
static int setup_cycle(struct master *m, bool revoke)
{
	int err = pcm_configure(m->fd, &m->setup);

	if (!err)
		err = xioctl(m->fd, SNDRV_PCM_IOCTL_PREPARE, NULL);
	if (!err)
		err = xioctl(m->fd, SNDRV_PCM_IOCTL_START, NULL);
	if (!err && revoke)
		err = pcm_revoke(m->fd, -1);
	if (!err)
		err = xioctl(m->fd, SNDRV_PCM_IOCTL_DROP, NULL);
	if (!err)
		err = xioctl(m->fd, SNDRV_PCM_IOCTL_HW_FREE, NULL);
	return err;
}

static void query_master(struct pair_ctx *c)
{
	for (unsigned long i = 0; more(i, pair_iterations); i++) {
		int err = setup_cycle(c->m, false);

		c->master_calls += 6;
		if (err)
			unexpected(c, "setup cycle", err);
	}
}

/* ------------------------------------------------------------------ */

static void *open_client(void *arg)
{
	struct pair_ctx *c = arg;
	uint64_t seed = 7;

	while (!c->master_done) {
		int fd = client_open(c);
		unsigned int mask = P_SHARED & (uint32_t)rnd_next(&seed);
		void *p = MAP_FAILED;

		c->client_calls++;
		if (fd < 0)
			continue;
		if (rnd(&seed, 2))
			ioctl(fd, SNDRV_PCM_IOCTL_PERM_RESTRICT, &mask);
		if (rnd(&seed, 2))
			p = mmap(NULL, 4096, PROT_READ, MAP_SHARED, fd,
				 rnd(&seed, 2) ? 0 : SNDRV_PCM_MMAP_OFFSET_STATUS_NEW);
		ioctl(fd, SNDRV_PCM_IOCTL_HWSYNC);
		if (p != MAP_FAILED && rnd(&seed, 2)) {
			close(fd);		/* the mapping outlives the fd */
			attack_touch(p, 4096, false);
			munmap(p, 4096);
		} else {
			if (p != MAP_FAILED)
				munmap(p, 4096);
			close(fd);
		}
		c->client_calls += 3;
	}
	return NULL;
}

static void open_master(struct pair_ctx *c)
{
	for (unsigned long i = 0; more(i, pair_iterations / 4); i++) {
		int err;

		master_close(c->m);
		err = master_open(c->m, i & 1);
		c->master_calls += 8;
		if (err == -EBUSY) {
			/* HW_PARAMS/PREPARE refused while a client was in mmap() */
			c->busy++;
		} else if (err) {
			unexpected(c, "master reopen", err);
			break;
		}
	}
}

/* ------------------------------------------------------------------ */

static void *poll_client(void *arg)
{
	struct pair_ctx *c = arg;

	while (!c->master_done) {
		int fd = client_open(c), ep;
		struct epoll_event ev = { .events = EPOLLIN | EPOLLOUT | EPOLLERR }, out;
		struct pollfd pfd;

		c->client_calls++;
		if (fd < 0)
			continue;
		ep = epoll_create1(EPOLL_CLOEXEC);
		epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
		for (int i = 0; i < 8 && !c->master_done; i++) {
			pfd = (struct pollfd){ .fd = fd, .events = POLLIN | POLLOUT };
			poll(&pfd, 1, 1);
			epoll_wait(ep, &out, 1, 1);
			c->client_calls += 2;
		}
		if (c->client_calls & 1) {
			close(fd);	/* the epoll item goes with the file */
			close(ep);
		} else {
			close(ep);
			close(fd);
		}
	}
	return NULL;
}

static void poll_master(struct pair_ctx *c)
{
	for (unsigned long i = 0; more(i, pair_iterations / 4); i++) {
		int err = 0;

		if (i % 4 == 3) {
			master_close(c->m);
			err = master_open(c->m, true);
		} else {
			xioctl(c->m->fd, SNDRV_PCM_IOCTL_DROP, NULL);
			err = xioctl(c->m->fd, SNDRV_PCM_IOCTL_PREPARE, NULL);
			if (!err)
				err = xioctl(c->m->fd, SNDRV_PCM_IOCTL_START, NULL);
			usleep(500);
		}
		c->master_calls += 3;
		if (err) {
			unexpected(c, "DROP/PREPARE/START", err);
			break;
		}
	}
}

/* ------------------------------------------------------------------ */

/*
 * mmap-vs-revoke. Per round, the master exports a file (SHARED, read-only,
 * or SHARED | RW with writable data mappings, in turn); two threads map
 * its regions and touch them until they see it revoked, then map once
 * more; the master revokes it after a number of calls that grows with the
 * round, so that the revocation lands before, among and after the mmaps.
 */
#define RV_MAPS 24

struct rv_map {
	unsigned char *p;
	size_t len;
	bool may_write;		/* a writable mapping: SIGBUS once revoked */
};

struct rv_ctx {
	pthread_barrier_t start, stop;
	volatile int fd, revoked, done;
	bool rw;
	size_t data_len;
	struct rv_map maps[2][RV_MAPS];
	int nmaps[2];
	unsigned long late_maps;	/* mmaps after the revocation that worked */
	volatile unsigned long calls[2];
};

static struct rv_ctx rv;

static void rv_map_one(int t, uint64_t *seed)
{
	static const unsigned long offs[3] = {
		0, SNDRV_PCM_MMAP_OFFSET_STATUS_NEW, SNDRV_PCM_MMAP_OFFSET_CONTROL_NEW,
	};
	int region = rnd(seed, 3), prot = PROT_READ;
	size_t len = region ? 4096 : rv.data_len;
	struct rv_map *m;
	void *p;

	if (region == 0 && rv.rw)
		prot |= PROT_WRITE;
	p = mmap(NULL, len, prot, MAP_SHARED, rv.fd, offs[region]);
	rv.calls[t]++;
	if (p == MAP_FAILED)
		return;
	attack_touch(p, len, prot & PROT_WRITE);
	if (rv.nmaps[t] == RV_MAPS) {
		/* keep the older ones: drop one in the middle */
		m = &rv.maps[t][RV_MAPS / 2 + rnd(seed, RV_MAPS / 2)];
		munmap(m->p, m->len);
	} else {
		m = &rv.maps[t][rv.nmaps[t]++];
	}
	m->p = p;
	m->len = len;
	/* a file with RW may write its data and control pages */
	m->may_write = rv.rw && region != 1;
}

static void *rv_client(void *arg)
{
	int t = (int)(long)arg;
	uint64_t seed = 0x5eed + t;

	attack_catch_faults();
	for (;;) {
		pthread_barrier_wait(&rv.start);
		if (rv.done)
			break;
		while (!__atomic_load_n(&rv.revoked, __ATOMIC_ACQUIRE))
			rv_map_one(t, &seed);
		/* after the revocation: refused */
		{
			void *p = mmap(NULL, 4096, PROT_READ, MAP_SHARED, rv.fd,
				       SNDRV_PCM_MMAP_OFFSET_STATUS_NEW);

			if (p != MAP_FAILED) {
				__atomic_add_fetch(&rv.late_maps, 1, __ATOMIC_RELAXED);
				munmap(p, 4096);
			}
		}
		pthread_barrier_wait(&rv.stop);
	}
	return NULL;
}

static void rv_master(struct pair_ctx *c)
{
	struct master *m = c->m;
	pthread_t t[2];
	unsigned long checked = 0, nonzero = 0, nosigbus = 0;

	memset(&rv, 0, sizeof(rv));
	rv.data_len = m->buffer_bytes;
	pthread_barrier_init(&rv.start, NULL, 3);
	pthread_barrier_init(&rv.stop, NULL, 3);
	for (long i = 0; i < 2; i++)
		pthread_create(&t[i], NULL, rv_client, (void *)i);
	for (unsigned long i = 0; more(i, pair_iterations / 8); i++) {
		int err = 0, way = i % 4;
		unsigned long mapped;
		unsigned char *own;

		/* a signal in the buffer, so that a page of it is never zero */
		own = mmap(NULL, m->buffer_bytes, PROT_READ | PROT_WRITE, MAP_SHARED, m->fd, 0);
		if (own != MAP_FAILED) {
			memset(own, 0x5a, m->buffer_bytes);
			munmap(own, m->buffer_bytes);
		}
		rv.rw = i & 1;
		rv.fd = pcm_export(m->fd, rv.rw ? P_SHARED | P_RW : P_SHARED,
				   (rv.rw ? O_RDWR : O_RDONLY) | O_CLOEXEC);
		c->master_calls += 2;
		if (rv.fd < 0) {
			unexpected(c, "SHARED_EXPORT", rv.fd);
			break;
		}
		rv.revoked = 0;
		mapped = rv.calls[0] + rv.calls[1];
		pthread_barrier_wait(&rv.start);
		/*
		 * A point that moves with the round: after 0 to 7 of the
		 * clients' mmaps, then 0 to 15 calls of the master's own, so
		 * that it lands before, between and inside them (the wait is
		 * bounded, and decides nothing)
		 */
		for (unsigned long k = 0; k < 1000000 &&
		     rv.calls[0] + rv.calls[1] < mapped + i % 8; k++)
			sched_yield();
		for (unsigned long k = 0; k < (i * 7) % 16; k++)
			ioctl(m->fd, SNDRV_PCM_IOCTL_HWSYNC);
		switch (way) {
		case 0:
			err = pcm_revoke(m->fd, rv.fd);
			break;
		case 1:
			err = pcm_revoke(m->fd, -1);
			break;
		case 2:
			xioctl(m->fd, SNDRV_PCM_IOCTL_DROP, NULL);
			err = xioctl(m->fd, SNDRV_PCM_IOCTL_HW_FREE, NULL);
			if (!err)
				err = pcm_configure(m->fd, &m->setup);
			break;
		default:
			xioctl(m->fd, SNDRV_PCM_IOCTL_DROP, NULL);
			err = pcm_configure(m->fd, &m->setup);
			break;
		}
		if (!err && way >= 2)
			err = xioctl(m->fd, SNDRV_PCM_IOCTL_PREPARE, NULL);
		if (!err && way >= 2)
			err = xioctl(m->fd, SNDRV_PCM_IOCTL_START, NULL);
		c->master_calls += 3;
		if (err)
			unexpected(c, "revocation", err);
		__atomic_store_n(&rv.revoked, 1, __ATOMIC_RELEASE);
		pthread_barrier_wait(&rv.stop);
		/* no page of the stream is reachable through any mapping */
		for (int th = 0; th < 2; th++) {
			for (int j = 0; j < rv.nmaps[th]; j++) {
				struct rv_map *mp = &rv.maps[th][j];

				checked++;
				if (mp->may_write) {
					if (attack_touch(mp->p, mp->len, false) != SIGBUS)
						nosigbus++;
				} else if (attack_touch(mp->p, mp->len, false)) {
					nonzero++;
				} else {
					for (size_t b = 0; b < mp->len; b++) {
						if (mp->p[b]) {
							nonzero++;
							break;
						}
					}
				}
				munmap(mp->p, mp->len);
			}
			rv.nmaps[th] = 0;
		}
		close(rv.fd);
	}
	rv.done = 1;
	pthread_barrier_wait(&rv.start);
	for (int i = 0; i < 2; i++)
		pthread_join(t[i], NULL);
	c->client_calls = rv.calls[0] + rv.calls[1];
	if (nonzero || nosigbus || rv.late_maps) {
		c->unexpected += nonzero + nosigbus + rv.late_maps;
		snprintf(c->first, sizeof(c->first),
			 "%lu of %lu mappings reach the stream after the revocation (%lu not zero, %lu without SIGBUS), %lu mmaps after it worked",
			 nonzero + nosigbus, checked, nonzero, nosigbus, rv.late_maps);
	} else if (!c->first[0]) {
		snprintf(c->first, sizeof(c->first), "%lu mappings checked", checked);
	}
	pthread_barrier_destroy(&rv.start);
	pthread_barrier_destroy(&rv.stop);
}

/* the pair's threads are the master's own here: nothing to start */
static void *no_client(void *arg)
{
	(void)arg;
	return NULL;
}

/* ------------------------------------------------------------------ */

/* export-vs-setup: exports, and calls on them, against the master's setup */
static void *export_client(void *arg)
{
	struct pair_ctx *c = arg;
	uint64_t seed = (uintptr_t)&seed;
	static const unsigned int masks[] = {
		P_SHARED, P_MMAP, P_SYNC | P_STATUS, P_SHARED | P_RW, 0,
	};

	while (!c->master_done) {
		unsigned int mask = masks[rnd(&seed, 5)];
		int fd = pcm_export(c->m->fd, mask, O_RDWR | O_CLOEXEC), got;
		struct snd_pcm_status st;

		__atomic_add_fetch(&c->client_calls, 1, __ATOMIC_RELAXED);
		if (fd == -EBADFD)
			continue;	/* the master was between HW_FREE and HW_PARAMS */
		if (fd < 0) {
			unexpected(c, "SHARED_EXPORT", fd);
			continue;
		}
		got = pcm_perm(fd);
		if (got != (int)mask && got != -ENODEV)
			unexpected(c, "PERM_GET of a new export", got < 0 ? got : -EPROTO);
		for (int i = 0; i < 8; i++) {
			void *p;

			ioctl(fd, SNDRV_PCM_IOCTL_HWSYNC);
			ioctl(fd, SNDRV_PCM_IOCTL_STATUS, &st);
			p = mmap(NULL, 4096, PROT_READ, MAP_SHARED, fd,
				 SNDRV_PCM_MMAP_OFFSET_STATUS_NEW);
			if (p != MAP_FAILED) {
				attack_touch(p, 4096, false);
				munmap(p, 4096);
			}
		}
		__atomic_add_fetch(&c->client_calls, 25, __ATOMIC_RELAXED);
		close(fd);
	}
	return NULL;
}

static void export_master(struct pair_ctx *c)
{
	for (unsigned long i = 0; more(i, pair_iterations); i++) {
		int err = setup_cycle(c->m, i & 1);

		c->master_calls += 8;
		if (err)
			unexpected(c, "setup cycle", err);
	}
}

/* ------------------------------------------------------------------ */

struct pair {
	const char *name;
	void *(*client)(void *);
	void (*master)(struct pair_ctx *);
	int clients;
	bool start;	/* the master plays during the pair */
	int weight;	/* iterations of the master's side, in units of --iterations */
};

/* the cheap pairs that found holes get more rounds: their windows are narrow */
static const struct pair pairs[] = {
	{ "refine-vs-free", refine_client, refine_master, 2, false, 10 },
	{ "mmap-vs-prepare", mmap_client, mmap_master, 2, false, 4 },
	{ "query-vs-setup", query_client, query_master, 2, false, 1 },
	{ "open-vs-close", open_client, open_master, 3, true, 1 },
	{ "poll-vs-close", poll_client, poll_master, 2, true, 1 },
	{ "mmap-vs-revoke", no_client, rv_master, 0, true, 4 },
	{ "export-vs-setup", export_client, export_master, 2, false, 1 },
};

static void run_pair(const struct pair *p, const char *card_id)
{
	struct master m;
	struct pair_ctx c;
	pthread_t t[4];
	int err;

	memset(&c, 0, sizeof(c));
	pair_iterations = iterations * p->weight;
	master_init(&m, card_id, 0, SNDRV_PCM_STREAM_PLAYBACK);
	err = master_open(&m, p->start);
	if (err) {
		ksft_test_result_fail("%s on %s: master: %s\n", p->name, card_id, strerror(-err));
		return;
	}
	c.m = &m;
	for (int i = 0; i < p->clients; i++)
		pthread_create(&t[i], NULL, p->client, &c);
	p->master(&c);
	c.master_done = 1;
	for (int i = 0; i < p->clients; i++)
		pthread_join(t[i], NULL);
	master_close(&m);
	total_calls += c.master_calls + c.client_calls;
	ksft_test_result(!c.unexpected && !c.busy,
			 "%s on %s: %lu master calls, %lu client calls, %lu EBUSY, %lu unexpected%s%s\n",
			 p->name, card_id, c.master_calls, c.client_calls, c.busy, c.unexpected,
			 c.first[0] ? ": " : "", c.first);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "iterations", required_argument, NULL, 'i' },
		{ "only", required_argument, NULL, 'o' },
		{ "seconds", required_argument, NULL, 's' },
		{ "kmemleak", no_argument, NULL, 'k' },
		{ "kmemleak-begin", no_argument, NULL, 'b' },
		{ NULL, 0, NULL, 0 },
	};
	static const char *const cards[] = { "Loopback", "Dummy" };
	bool kmemleak = false, kmemleak_start = false;
	const char *only = NULL;
	size_t npairs = sizeof(pairs) / sizeof(pairs[0]), planned = 0;
	struct figures fig = { 0 };
	double start = now_s(), seconds = 0;
	int opt, rounds = 0;

	while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (opt == 'i')
			iterations = strtoul(optarg, NULL, 0);
		else if (opt == 'o')
			only = optarg;
		else if (opt == 's')
			seconds = atof(optarg);
		else if (opt == 'k')
			kmemleak = kmemleak_start = true;
		else if (opt == 'b')
			kmemleak_start = true;
		else
			return 2;
	}
	attack_catch_faults();
	for (size_t i = 0; i < npairs; i++)
		if (!only || !strcmp(only, pairs[i].name))
			planned += 2;
	ksft_print_header();
	if (kmemleak_start && !kmemleak_begin())
		ksft_print_msg("kmemleak is off: boot with kmemleak=on\n");
	if (!seconds)
		ksft_set_plan(planned + kmemleak);
	ksft_print_msg("ABI %s, %lu iterations per pair (times its weight)\n", PCM_ABI, iterations);
	do {
		for (size_t i = 0; i < npairs; i++) {
			if (only && strcmp(only, pairs[i].name))
				continue;
			for (int c = 0; c < 2; c++) {
				/* with --seconds, a round takes about a minute at most */
				if (seconds)
					pair_deadline = now_s() + 60.0 / planned;
				run_pair(&pairs[i], cards[c]);
			}
		}
		rounds++;
		if (seconds)
			ksft_print_msg("pairs: round %d done, %.0f s\n", rounds, now_s() - start);
	} while (seconds && now_s() - start < seconds);
	if (seconds)
		ksft_set_plan(planned * rounds + kmemleak);
	if (kmemleak) {
		int leaks = kmemleak_count(stdout);

		ksft_test_result(leaks == 0, "kmemleak: %d unreferenced objects after the pairs%s\n",
				 leaks, leaks < 0 ? " (kmemleak is off: boot with kmemleak=on)" : "");
		fig.leaks = leaks < 0 ? 0 : leaks;
	}
	fig.seconds = (unsigned long)(now_s() - start + 0.5);
	fig.ioctls = total_calls;
	fig.procs = 1;
	fig.threads = 4;
	figures_print("pcm-race-pairs", &fig);
	ksft_finished();
}
