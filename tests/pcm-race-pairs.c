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
 *
 *   pcm-race-pairs [--iterations N] [--only NAME] [--seconds S]
 *
 * --seconds repeats the whole set until S seconds have passed.
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
	if (!c->unexpected++)
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

static void query_master(struct pair_ctx *c)
{
	for (unsigned long i = 0; more(i, pair_iterations); i++) {
		int err = pcm_configure(c->m->fd, &c->m->setup);

		if (!err)
			err = xioctl(c->m->fd, SNDRV_PCM_IOCTL_PREPARE, NULL);
		if (!err)
			err = xioctl(c->m->fd, SNDRV_PCM_IOCTL_START, NULL);
		if (!err)
			err = xioctl(c->m->fd, SNDRV_PCM_IOCTL_DROP, NULL);
		if (!err)
			err = xioctl(c->m->fd, SNDRV_PCM_IOCTL_HW_FREE, NULL);
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
		{ NULL, 0, NULL, 0 },
	};
	static const char *const cards[] = { "Loopback", "Dummy" };
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
		else
			return 2;
	}
	attack_catch_faults();
	for (size_t i = 0; i < npairs; i++)
		if (!only || !strcmp(only, pairs[i].name))
			planned += 2;
	ksft_print_header();
	if (!seconds)
		ksft_set_plan(planned);
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
		ksft_set_plan(planned * rounds);
	fig.seconds = (unsigned long)(now_s() - start + 0.5);
	fig.ioctls = total_calls;
	fig.procs = 1;
	fig.threads = 4;
	figures_print("pcm-race-pairs", &fig);
	ksft_finished();
}
