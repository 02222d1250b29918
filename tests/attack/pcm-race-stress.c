// SPDX-License-Identifier: GPL-2.0
/*
 * A race stress of restricted sharing. For a bounded time:
 *
 *  - a master per card (Dummy:0 and Loopback:0 playback) cycles
 *    HW_PARAMS, SW_PARAMS, PREPARE, START, exports (SHARED_EXPORT, sent to
 *    the clients over a socket), status queries, revocations (by fd and by
 *    -1), DROP, HW_FREE (which revokes too), and every few cycles closes
 *    and reopens its substream (the last controlling file: revokes);
 *  - client processes, each with several threads, open restricted files on
 *    the masters' substreams or take exported ones from the socket,
 *    PERM_RESTRICT them, map and unmap the three regions, touch the
 *    mappings, poll, call allowed and denied ioctls, hand fds over to each
 *    other, fork, and close;
 *  - with --unbind, the cards are unbound and bound again through sysfs
 *    while all of that runs (the unbind waits for every file to close:
 *    everyone closes on -ENODEV).
 *
 * Judged: a denied ioctl never succeeds (-EPERM, or -ENODEV once revoked
 * or disconnected); a file that answered -ENODEV answers it to every call
 * from then on, and its mappings read zeros (within a bound, for the
 * disconnect that zaps them after it cuts the calls); a master's call
 * never fails or finds its stream changed for a reason other than a
 * disconnect (HW_PARAMS and HW_FREE succeed whatever the clients map);
 * every unbind completes and the card comes back; every process exits
 * normally. With --kmemleak (boot with kmemleak=on) the leaked objects
 * after the run (and after the earlier phases of the battery, since the
 * first that began kmemleak in this boot: pcm-race-pairs
 * --kmemleak-begin) are counted, and must be none.
 *
 *   pcm-race-stress [--seconds S] [--procs N] [--threads N] [--unbind]
 *                   [--kmemleak] [--seed N]
 */
#include <getopt.h>
#include <poll.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include "kselftest.h"
#include "pcm-attack.h"
#include "fd-passing.h"

#define NCARDS 2
#define MAX_PROCS 16
#define MAX_THREADS 16

struct card_state {
	char id[16];
	int card, dev, sub;	/* the master's substream, -1 when closed */
	unsigned long cycles, reopens, busy, disconnects;
	unsigned long disturbances, unbinds, unbind_stuck;
	unsigned long exports, revokes;
};

/* shared by every process */
struct shared {
	volatile int stop;
	struct card_state cards[NCARDS];
	unsigned long ioctls, calls, violations, opens, open_failures;
	unsigned long maps, touches, forks, handoffs, received, revoked_seen;
	unsigned long unexplained;	/* master failures printed so far */
};

static struct shared *S;
static uint64_t base_seed;
static int fd_sock[2];		/* exported files, from the masters to the clients */

#define ADD(field, n) __atomic_add_fetch(&(field), (n), __ATOMIC_RELAXED)

static void report(const char *fmt, ...)
{
	va_list ap;

	if (ADD(S->unexplained, 1) > 40)
		return;
	va_start(ap, fmt);
	printf("# ");
	vprintf(fmt, ap);
	printf("\n");
	fflush(stdout);
	va_end(ap);
}

/* ------------------------------------------------------------------ */
/* the masters */

static int master_call(int fd, unsigned long cmd, void *arg, unsigned long *count)
{
	(*count)++;
	return xioctl(fd, cmd, arg);
}

/* Send @fd to whichever client takes it; the master keeps no copy */
static void send_export(int fd)
{
	char c = 0;

	/* a full queue: the file goes with our copy */
	fdp_send(fd_sock[0], &c, 1, fd, MSG_DONTWAIT | MSG_NOSIGNAL);
}

/*
 * A few exports of masks within SHARED (no RW: appl_ptr stays the
 * master's), sent on; one kept, to be revoked by name later. Returns
 * an error of an export, or 0.
 */
static int master_export(struct card_state *cs, int fd, uint64_t *seed, int *kept,
			 unsigned long *ioctls)
{
	static const int modes[] = { O_RDONLY, O_WRONLY, O_RDWR };

	for (int n = rnd(seed, 4); n > 0; n--) {
		unsigned int mask = P_SHARED & (uint32_t)rnd_next(seed);
		int ex = pcm_export(fd, mask, modes[rnd(seed, 3)] |
				    (rnd(seed, 2) ? O_NONBLOCK : 0) | O_CLOEXEC);

		(*ioctls)++;
		if (ex < 0)
			return ex;
		ADD(cs->exports, 1);
		send_export(ex);
		if (*kept < 0 && rnd(seed, 2))
			*kept = ex;
		else
			close(ex);
	}
	return 0;
}

static void master_proc(int ci)
{
	struct card_state *cs = &S->cards[ci];
	struct pcm_setup setup = pcm_default_setup;
	uint64_t seed = base_seed ^ (0x1234567ULL * (ci + 1));
	unsigned long ioctls = 0;
	int fd = -1, card = -1, kept = -1;

	prctl(PR_SET_NAME, "race-master");
	while (!S->stop) {
		struct snd_pcm_status st;
		const char *step = NULL;
		int err = 0, n;
		bool started = false;

		if (fd < 0) {
			card = pcm_find_card(cs->id);
			if (card >= 0)
				fd = pcm_open(card, cs->dev, SNDRV_PCM_STREAM_PLAYBACK,
					      O_RDWR | O_NONBLOCK);
			if (fd < 0) {
				usleep(5000);
				continue;
			}
			cs->card = card;
			cs->sub = pcm_subdevice(fd);
			ADD(cs->reopens, 1);
		}
		/* one cycle: whatever the clients map, HW_PARAMS and HW_FREE work */
		ioctls++;
		err = pcm_configure(fd, &setup);
		ioctls += 4;
		if (err)
			step = "HW_PARAMS/SW_PARAMS";
		if (!err && (err = master_export(cs, fd, &seed, &kept, &ioctls)))
			step = "SHARED_EXPORT";
		if (!err && (err = master_call(fd, SNDRV_PCM_IOCTL_PREPARE, NULL, &ioctls)))
			step = "PREPARE";
		if (!err && (err = master_call(fd, SNDRV_PCM_IOCTL_START, NULL, &ioctls)))
			step = "START";
		if (!err)
			started = true;
		if (!err && rnd(&seed, 3) == 0) {
			/* by name (the one kept, if any), or all */
			err = pcm_revoke(fd, kept >= 0 && rnd(&seed, 2) ? kept : -1);
			ioctls++;
			if (err)
				step = "SHARED_REVOKE";
			else
				ADD(cs->revokes, 1);
			if (kept >= 0)
				close(kept);
			kept = -1;
		}
		for (n = rnd(&seed, 20); !err && n > 0; n--) {
			memset(&st, 0, sizeof(st));
			err = master_call(fd, SNDRV_PCM_IOCTL_STATUS, &st, &ioctls);
			if (!err && st.state != SNDRV_PCM_STATE_RUNNING) {
				step = "running stream";
				err = -EPIPE;
				report("%s master: state %d while running", cs->id, st.state);
			} else if (!err && st.appl_ptr != 0) {
				step = "running stream";
				err = -EPIPE;
				report("%s master: appl_ptr moved to %lu", cs->id,
				       (unsigned long)st.appl_ptr);
			} else if (err) {
				step = "STATUS";
			}
		}
		if (!err && (err = master_call(fd, SNDRV_PCM_IOCTL_DROP, NULL, &ioctls)))
			step = "DROP";
		if (!err && (err = master_call(fd, SNDRV_PCM_IOCTL_HW_FREE, NULL, &ioctls)))
			step = "HW_FREE";
		ADD(cs->cycles, 1);
		if (err) {
			int why = xioctl(fd, SNDRV_PCM_IOCTL_PVERSION, &(int){ 0 });

			if (why == -ENODEV || pcm_find_card(cs->id) != card) {
				ADD(cs->disconnects, 1);	/* unbound under us */
			} else if (err == -EBUSY) {
				ADD(cs->busy, 1);
				if (cs->busy <= 3)
					report("%s master: %s failed with EBUSY (a restricted client was mapping the buffer)",
					       cs->id, step);
			} else {
				ADD(cs->disturbances, 1);
				report("%s master: %s failed: %s", cs->id, step, strerror(-err));
			}
			if (started)
				xioctl(fd, SNDRV_PCM_IOCTL_DROP, NULL);
			if (why == -ENODEV || pcm_find_card(cs->id) != card) {
				if (kept >= 0)
					close(kept);
				kept = -1;
				close(fd);
				fd = -1;
				cs->sub = -1;
				continue;
			}
		}
		if (rnd(&seed, 8) == 0) {
			cs->sub = -1;
			if (kept >= 0)
				close(kept);
			kept = -1;
			close(fd);
			fd = -1;
		}
	}
	if (kept >= 0)
		close(kept);
	if (fd >= 0)
		close(fd);
	ADD(S->ioctls, ioctls);
}

/* ------------------------------------------------------------------ */
/* the clients */

struct cmap {
	unsigned char *p;
	size_t len;
	bool data;
};

struct client {
	int fd;
	unsigned int mask;
	bool revoked;		/* it answered -ENODEV: it must go on doing so */
	int revoked_ops;	/* calls made since */
	struct cmap maps[3];
};

/* fds handed from thread to thread within a process */
static pthread_mutex_t pool_lock = PTHREAD_MUTEX_INITIALIZER;
static struct client pool[8];
static int pool_n;

struct tstats {
	unsigned long ioctls, calls, violations, opens, open_failures, maps, touches, forks, handoffs;
	unsigned long received, revoked_seen;
};

static void violation(struct tstats *ts, const struct client *c, const char *fmt, ...)
{
	char msg[200];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	ts->violations++;
	report("VIOLATION: %s (mask %#x%s)", msg, c->mask, c->revoked ? ", revoked" : "");
}

/* A mapping of a revoked file reads zeros (or was writable: it cannot be) */
static bool map_is_dead(const struct cmap *m)
{
	volatile unsigned char *p = m->p;

	if (attack_touch(p, m->len, false))
		return false;
	for (size_t i = 0; i < m->len; i++)
		if (p[i])
			return false;
	return true;
}

/*
 * @err is what a call on @c answered. -ENODEV: the file is revoked (or its
 * card disconnected), from now on for good, and its mappings read zeros
 * (a disconnect cuts the calls before it zaps the mappings: a bound).
 * Returns false when the client should let go of the file.
 */
static bool note(struct client *c, int err, const char *what, struct tstats *ts)
{
	if (c->revoked) {
		if (err != -ENODEV)
			violation(ts, c, "%s on a revoked file: %s", what,
				  err ? strerror(-err) : "succeeded");
		/* a few more, then let go: an unbind waits for the file */
		return ++c->revoked_ops < 8;
	}
	if (err != -ENODEV)
		return true;
	c->revoked = true;
	ts->revoked_seen++;
	for (int i = 0; i < 3; i++) {
		if (c->maps[i].p && !pcm_wait_for(map_is_dead(&c->maps[i]), 2000))
			violation(ts, c, "a mapping (%d) of a revoked file still reaches the stream", i);
	}
	return true;
}

static void client_release(struct client *c)
{
	for (int i = 0; i < 3; i++) {
		if (c->maps[i].p)
			munmap(c->maps[i].p, c->maps[i].len);
		c->maps[i].p = NULL;
	}
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
}

static const unsigned long denied_cmds[] = {
	SNDRV_PCM_IOCTL_DROP, SNDRV_PCM_IOCTL_START, SNDRV_PCM_IOCTL_PREPARE,
	SNDRV_PCM_IOCTL_RESET, SNDRV_PCM_IOCTL_HW_FREE, SNDRV_PCM_IOCTL_XRUN,
	SNDRV_PCM_IOCTL_PAUSE, SNDRV_PCM_IOCTL_DRAIN, SNDRV_PCM_IOCTL_RESUME,
	SNDRV_PCM_IOCTL_UNLINK, SNDRV_PCM_IOCTL_TTSTAMP,
};

/* one random operation; returns false once the file should go */
static bool client_op(struct client *c, uint64_t *seed, struct tstats *ts)
{
	union {
		struct snd_pcm_status st;
		struct snd_pcm_hw_params hw;
		struct snd_pcm_sw_params sw;
		struct snd_pcm_sync_ptr sp;
		struct snd_pcm_channel_info ci;
		snd_pcm_uframes_t frames;
		int i;
	} u;
	unsigned int r = rnd(seed, 100), m;
	int err;

	memset(&u, 0, sizeof(u));
	if (r < 30) {
		/* allowed queries */
		static const unsigned long q[] = {
			SNDRV_PCM_IOCTL_STATUS, SNDRV_PCM_IOCTL_HWSYNC, SNDRV_PCM_IOCTL_SYNC_PTR,
			SNDRV_PCM_IOCTL_HW_PARAMS_GET, SNDRV_PCM_IOCTL_SW_PARAMS_GET,
			SNDRV_PCM_IOCTL_DELAY, SNDRV_PCM_IOCTL_INFO, SNDRV_PCM_IOCTL_CHANNEL_INFO,
			SNDRV_PCM_IOCTL_STATUS_EXT, SNDRV_PCM_IOCTL_HW_REFINE,
		};
		unsigned long cmd = q[rnd(seed, sizeof(q) / sizeof(q[0]))];

		if (cmd == SNDRV_PCM_IOCTL_SYNC_PTR)
			u.sp.flags = SNDRV_PCM_SYNC_PTR_APPL | SNDRV_PCM_SYNC_PTR_AVAIL_MIN |
				     (rnd(seed, 2) ? SNDRV_PCM_SYNC_PTR_HWSYNC : 0);
		if (cmd == SNDRV_PCM_IOCTL_HW_REFINE)
			hw_params_any(&u.hw);
		err = xioctl(c->fd, cmd, &u);
		ts->ioctls++;
		return note(c, err, "an allowed query", ts);
	}
	if (r < 50) {
		/* denied: must never go through */
		unsigned long cmd = denied_cmds[rnd(seed, sizeof(denied_cmds) / sizeof(denied_cmds[0]))];

		if (rnd(seed, 4) == 0) {
			cmd = SNDRV_PCM_IOCTL_SYNC_PTR;
			u.sp.flags = rnd(seed, 2) ? SNDRV_PCM_SYNC_PTR_APPL : 0;
		} else if (rnd(seed, 4) == 0) {
			cmd = rnd(seed, 2) ? SNDRV_PCM_IOCTL_FORWARD : SNDRV_PCM_IOCTL_REWIND;
			u.frames = 64;
		} else if (rnd(seed, 5) == 0) {
			cmd = SNDRV_PCM_IOCTL_SW_PARAMS;
			xioctl(c->fd, SNDRV_PCM_IOCTL_SW_PARAMS_GET, &u.sw);
			u.sw.avail_min++;
		}
		err = _IOC_DIR(cmd) == _IOC_NONE || cmd == SNDRV_PCM_IOCTL_PAUSE ?
		      (ioctl(c->fd, cmd, 1UL) < 0 ? -errno : 0) : xioctl(c->fd, cmd, &u);
		ts->ioctls++;
		if (err != -EPERM && err != -ENODEV)
			violation(ts, c, "denied ioctl %#lx: %s", cmd,
				  err ? strerror(-err) : "succeeded");
		return note(c, err, "a denied ioctl", ts);
	}
	if (r < 58) {
		m = c->mask & (uint32_t)rnd_next(seed);
		err = xioctl(c->fd, SNDRV_PCM_IOCTL_PERM_RESTRICT, &m);
		ts->ioctls++;
		if (!err)
			c->mask = m;
		return note(c, err, "PERM_RESTRICT", ts);
	}
	if (r < 72) {
		int slot = rnd(seed, 3);
		struct cmap *cm = &c->maps[slot];
		unsigned long off = slot == 0 ? 0 : slot == 1 ? SNDRV_PCM_MMAP_OFFSET_STATUS_NEW :
						 SNDRV_PCM_MMAP_OFFSET_CONTROL_NEW;
		size_t len = slot == 0 ? 4096 * (1 + rnd(seed, 4)) : 4096;
		void *p;

		if (cm->p) {
			munmap(cm->p, cm->len);
			cm->p = NULL;
		}
		p = mmap64(NULL, len, PROT_READ, MAP_SHARED, c->fd, (off64_t)off);
		ts->calls++;
		/* the VFS maps no file open write-only, whatever it is */
		if (p == MAP_FAILED && errno == EACCES &&
		    (fcntl(c->fd, F_GETFL) & O_ACCMODE) == O_WRONLY)
			return true;
		if (p == MAP_FAILED)
			return note(c, -errno, "mmap", ts);
		if (c->revoked)
			violation(ts, c, "a revoked file made a new mapping");
		cm->p = p;
		cm->len = len;
		cm->data = slot == 0;
		ts->maps++;
		return true;
	}
	if (r < 82) {
		for (int i = 0; i < 3; i++) {
			if (c->maps[i].p) {
				if (attack_touch(c->maps[i].p, c->maps[i].len, false))
					violation(ts, c, "a read-only mapping faulted");
				ts->touches++;
			}
		}
		return true;
	}
	if (r < 90) {
		struct pollfd pfd = { .fd = c->fd, .events = POLLIN | POLLOUT };

		poll(&pfd, 1, 0);
		ts->calls++;
		if (c->revoked && !(pfd.revents & POLLERR))
			violation(ts, c, "poll on a revoked file: %#x", pfd.revents);
		if (!(pfd.revents & POLLERR))
			return true;
		return note(c, xioctl(c->fd, SNDRV_PCM_IOCTL_PVERSION, &u.i), "PVERSION", ts);
	}
	if (r < 92) {
		/* a child inherits the fd and the mappings, and goes */
		pid_t pid = fork();

		if (pid == 0) {
			ioctl(c->fd, SNDRV_PCM_IOCTL_DROP);
			ioctl(c->fd, SNDRV_PCM_IOCTL_HWSYNC);
			_exit(0);
		}
		if (pid > 0)
			waitpid(pid, NULL, 0);
		ts->forks++;
		return true;
	}
	return true;
}

struct client_thread {
	pthread_t t;
	int proc, idx;
	struct tstats ts;
};

/* An exported file a master sent, if there is one; fd or -1 */
static int take_export(void)
{
	char c;
	int fd = fdp_recv(fd_sock[1], &c, 1, MSG_DONTWAIT | MSG_CMSG_CLOEXEC, NULL, NULL);

	return fd >= 0 ? fd : -1;
}

static void *client_thread_fn(void *arg)
{
	struct client_thread *ct = arg;
	uint64_t seed = base_seed ^ ((uint64_t)(ct->proc * 131 + ct->idx + 1) << 20);
	struct tstats *ts = &ct->ts;

	attack_catch_faults();
	while (!S->stop) {
		struct client c = { .fd = -1, .mask = P_SHARED };
		struct card_state *cs = &S->cards[rnd(&seed, NCARDS)];
		bool took = false, pooled = false;
		int n;

		/* sometimes take over a file another thread left */
		if (rnd(&seed, 4) == 0) {
			pthread_mutex_lock(&pool_lock);
			if (pool_n > 0) {
				c = pool[--pool_n];
				took = pooled = true;
			}
			pthread_mutex_unlock(&pool_lock);
		}
		if (!took && rnd(&seed, 2) && (c.fd = take_export()) >= 0) {
			/* an export: its mask is the master's choice */
			int perm = pcm_perm(c.fd);

			c.mask = perm < 0 ? 0 : (unsigned int)perm;
			if (perm == -ENODEV) {
				/* revoked in flight */
				c.revoked = true;
				ts->revoked_seen++;
			} else if (perm < 0 || (perm & ~P_SHARED)) {
				violation(ts, &c, "an exported file holds %d", perm);
			}
			ts->received++;
			took = true;
		}
		if (!took) {
			int card = cs->card, sub = cs->sub;

			if (sub < 0) {
				usleep(1000);
				continue;
			}
			c.fd = pcm_open_sub(card, cs->dev, SNDRV_PCM_STREAM_PLAYBACK, sub,
					    (rnd(&seed, 3) ? O_RDWR : O_RDONLY) |
					    O_APPEND | O_EXCL | O_NONBLOCK);
			if (c.fd < 0) {
				ts->open_failures++;
				continue;
			}
			ts->opens++;
		}
		if (pooled)
			ts->handoffs++;
		for (n = 1 + rnd(&seed, 40); n > 0 && !S->stop; n--)
			if (!client_op(&c, &seed, ts))
				break;
		if (n == 0 && !c.revoked && rnd(&seed, 4) == 0) {
			/* leave it, mappings and all, to another thread */
			pthread_mutex_lock(&pool_lock);
			if (pool_n < 8) {
				pool[pool_n++] = c;
				c.fd = -1;
				memset(c.maps, 0, sizeof(c.maps));
			}
			pthread_mutex_unlock(&pool_lock);
		}
		client_release(&c);
	}
	return NULL;
}

static void client_proc(int proc, int threads)
{
	struct client_thread ct[MAX_THREADS];
	struct tstats sum = { 0 };

	prctl(PR_SET_NAME, "race-client");
	for (int i = 0; i < threads; i++) {
		ct[i] = (struct client_thread){ .proc = proc, .idx = i };
		pthread_create(&ct[i].t, NULL, client_thread_fn, &ct[i]);
	}
	for (int i = 0; i < threads; i++) {
		pthread_join(ct[i].t, NULL);
		sum.ioctls += ct[i].ts.ioctls;
		sum.calls += ct[i].ts.calls;
		sum.violations += ct[i].ts.violations;
		sum.opens += ct[i].ts.opens;
		sum.open_failures += ct[i].ts.open_failures;
		sum.maps += ct[i].ts.maps;
		sum.touches += ct[i].ts.touches;
		sum.forks += ct[i].ts.forks;
		sum.handoffs += ct[i].ts.handoffs;
		sum.received += ct[i].ts.received;
		sum.revoked_seen += ct[i].ts.revoked_seen;
	}
	for (int i = 0; i < pool_n; i++)
		client_release(&pool[i]);
	ADD(S->ioctls, sum.ioctls);
	ADD(S->calls, sum.calls + sum.maps + sum.touches);
	ADD(S->violations, sum.violations);
	ADD(S->opens, sum.opens);
	ADD(S->open_failures, sum.open_failures);
	ADD(S->maps, sum.maps);
	ADD(S->touches, sum.touches);
	ADD(S->forks, sum.forks);
	ADD(S->handoffs, sum.handoffs);
	ADD(S->received, sum.received);
	ADD(S->revoked_seen, sum.revoked_seen);
}

/* ------------------------------------------------------------------ */

/* Which processes still hold files of a card being unbound (for the report) */
static void who_holds(void)
{
	char cmd[] = "for p in /proc/[0-9]*; do "
		     "l=$(ls -l $p/fd 2>/dev/null | grep -c 'snd/'); "
		     "m=$(grep -c 'snd/' $p/maps 2>/dev/null); "
		     "[ \"$l$m\" != 00 ] && echo \"# pid ${p#/proc/} ($(cat $p/comm)): $l fds, $m mappings\"; "
		     "done";

	if (system(cmd) < 0)
		printf("# (cannot list holders)\n");
}

/* The exports no client took yet: they would keep a card from unbinding */
static void drain_exports(void)
{
	int fd;

	while ((fd = take_export()) >= 0)
		close(fd);
}

/* Wait up to @ms for the unbind, draining the mailbox meanwhile */
static int unbind_wait_draining(struct unbind_job *job, int ms)
{
	for (int waited = 0; waited < ms; waited += 10) {
		int err;

		drain_exports();
		err = card_unbind_wait(job, 10);
		if (err != -ETIMEDOUT)
			return err;
	}
	return -ETIMEDOUT;
}

static void unbinder(double seconds, uint64_t *seed, unsigned long *completed)
{
	double start = now_s();

	while (now_s() - start < seconds - 5) {
		struct card_state *cs = &S->cards[rnd(seed, NCARDS)];
		struct unbind_job job;
		double t0;
		int err;

		usleep(200000 + rnd(seed, 800000));
		t0 = now_s();
		if (card_unbind_async(&job, cs->id))
			break;
		err = unbind_wait_draining(&job, 60000);
		if (err == -ETIMEDOUT) {
			ADD(cs->unbind_stuck, 1);
			printf("# unbind of %s still blocked after 60 s; holders:\n", cs->id);
			who_holds();
			err = unbind_wait_draining(&job, 600000);
		}
		if (err) {
			printf("# unbind of %s: %s\n", cs->id, strerror(-err));
			ADD(cs->unbind_stuck, 1);
			break;
		}
		ADD(cs->unbinds, 1);
		printf("# unbind of %s done in %.1f s\n", cs->id, now_s() - t0);
		err = card_bind(cs->id);
		if (err) {
			printf("# bind of %s: %s\n", cs->id, strerror(-err));
			ADD(cs->unbind_stuck, 1);
			break;
		}
		(*completed)++;
	}
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "seconds", required_argument, NULL, 's' },
		{ "procs", required_argument, NULL, 'p' },
		{ "threads", required_argument, NULL, 't' },
		{ "unbind", no_argument, NULL, 'u' },
		{ "kmemleak", no_argument, NULL, 'k' },
		{ "seed", required_argument, NULL, 'r' },
		{ NULL, 0, NULL, 0 },
	};
	int procs = 3, threads = 4, opt, bad_exits = 0, nchild = 0;
	bool unbind = false, kmemleak = false;
	double seconds = 20, start, last;
	pid_t pids[MAX_PROCS + NCARDS];
	unsigned long completed = 0;
	struct figures fig = { 0 };
	uint64_t seed;
	int leaks = 0;

	base_seed = (uint64_t)time(NULL) * 2654435761ULL;
	while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (opt) {
		case 's': seconds = atof(optarg); break;
		case 'p': procs = atoi(optarg); break;
		case 't': threads = atoi(optarg); break;
		case 'u': unbind = true; break;
		case 'k': kmemleak = true; break;
		case 'r': base_seed = strtoull(optarg, NULL, 0); break;
		default: return 2;
		}
	}
	if (procs > MAX_PROCS)
		procs = MAX_PROCS;
	if (threads > MAX_THREADS)
		threads = MAX_THREADS;
	seed = base_seed;
	signal(SIGPIPE, SIG_IGN);
	signal(SIGIO, SIG_IGN);

	ksft_print_header();
	ksft_set_plan(4 + NCARDS + (unbind ? 1 : 0) + (kmemleak ? 1 : 0));
	ksft_print_msg("seed %llu: %.0f s, %d client processes x %d threads, %s\n",
		       (unsigned long long)base_seed, seconds, procs, threads,
		       unbind ? "with unbind/rebind" : "cards stay bound");
	if (kmemleak && !kmemleak_begin())
		ksft_print_msg("kmemleak is off: boot with kmemleak=on\n");

	/* the masters' mailbox: a few exports at a time, never a backlog */
	if (socketpair(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0, fd_sock) < 0)
		ksft_exit_fail_msg("socketpair: %s\n", strerror(errno));
	setsockopt(fd_sock[0], SOL_SOCKET, SO_SNDBUF, &(int){ 4096 }, sizeof(int));
	S = mmap(NULL, sizeof(*S), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	memset(S, 0, sizeof(*S));
	snprintf(S->cards[0].id, sizeof(S->cards[0].id), "Dummy");
	snprintf(S->cards[1].id, sizeof(S->cards[1].id), "Loopback");
	for (int i = 0; i < NCARDS; i++) {
		S->cards[i].sub = -1;
		if (pcm_find_card(S->cards[i].id) < 0 && card_bind(S->cards[i].id))
			ksft_exit_fail_msg("card %s not found\n", S->cards[i].id);
	}

	start = now_s();
	for (int i = 0; i < NCARDS; i++) {
		pids[nchild] = fork();
		if (pids[nchild] == 0) {
			master_proc(i);
			_exit(0);
		}
		nchild++;
	}
	for (int p = 0; p < procs; p++) {
		pids[nchild] = fork();
		if (pids[nchild] == 0) {
			client_proc(p, threads);
			_exit(0);
		}
		nchild++;
	}
	last = start;
	if (unbind) {
		unbinder(seconds, &seed, &completed);
	}
	while (now_s() - start < seconds) {
		sleep(1);
		if (now_s() - last >= 30) {
			ksft_print_msg("race: %.0f s, master cycles %lu/%lu, unbinds %lu, violations %lu\n",
				       now_s() - start, S->cards[0].cycles, S->cards[1].cycles,
				       completed, S->violations);
			last = now_s();
		}
	}
	S->stop = 1;
	for (int i = 0; i < nchild; i++) {
		int status;

		waitpid(pids[i], &status, 0);
		if (!WIFEXITED(status) || WEXITSTATUS(status)) {
			bad_exits++;
			ksft_print_msg("process %d ended with status %#x\n", pids[i], status);
		}
	}
	/* what no client took goes, and the cards are back as they were */
	drain_exports();
	close(fd_sock[0]);
	close(fd_sock[1]);
	for (int i = 0; i < NCARDS; i++)
		card_bind(S->cards[i].id);

	fig.seconds = (unsigned long)(now_s() - start + 0.5);
	fig.ioctls = S->ioctls;
	fig.calls = S->calls;
	fig.procs = 1 + NCARDS + procs;
	fig.threads = 1 + (unbind ? 1 : 0) + NCARDS + procs * threads;
	fig.violations = S->violations;
	for (int i = 0; i < NCARDS; i++) {
		struct card_state *cs = &S->cards[i];

		fig.disturbances += cs->disturbances + cs->busy;
		ksft_print_msg("%s: %lu master cycles, %lu opens of the master, %lu exports, %lu revocations by name or -1, %lu EBUSY, %lu cycles cut by a disconnect, %lu unbinds\n",
			       cs->id, cs->cycles, cs->reopens, cs->exports, cs->revokes, cs->busy,
			       cs->disconnects, cs->unbinds);
	}
	ksft_print_msg("clients: %lu restricted opens (%lu refused), %lu exports taken, %lu revocations seen, %lu mappings, %lu touches, %lu forks, %lu hand-overs\n",
		       S->opens, S->open_failures, S->received, S->revoked_seen, S->maps, S->touches,
		       S->forks, S->handoffs);

	ksft_test_result(bad_exits == 0, "every process exited normally\n");
	ksft_test_result(S->violations == 0,
			 "no denied ioctl went through, no revoked file did anything but fail with ENODEV or kept a mapping that reaches the stream (%lu violations in %lu ioctls)\n",
			 S->violations, S->ioctls);
	ksft_test_result(S->opens > 0, "restricted files were opened (%lu)\n", S->opens);
	ksft_test_result(S->received > 0 && S->revoked_seen > 0,
			 "exported files were taken (%lu) and revocations seen (%lu)\n",
			 S->received, S->revoked_seen);
	for (int i = 0; i < NCARDS; i++) {
		struct card_state *cs = &S->cards[i];

		ksft_test_result(cs->disturbances == 0 && cs->busy == 0 && cs->cycles > 0,
				 "%s master: %lu cycles, no call failed or stream changed but for a disconnect (%lu unexplained, %lu EBUSY)\n",
				 cs->id, cs->cycles, cs->disturbances, cs->busy);
	}
	if (unbind) {
		unsigned long stuck = S->cards[0].unbind_stuck + S->cards[1].unbind_stuck;

		ksft_test_result(stuck == 0 && completed > 0,
				 "every unbind completed and the card came back (%lu unbinds, %lu stuck)\n",
				 completed, stuck);
	}
	if (kmemleak) {
		leaks = kmemleak_count(stdout);
		ksft_test_result(leaks == 0, "kmemleak: %d unreferenced objects after the races%s\n",
				 leaks, leaks < 0 ? " (kmemleak is off: boot with kmemleak=on)" : "");
		fig.leaks = leaks < 0 ? 0 : leaks;
	}
	figures_print("pcm-race-stress", &fig);
	ksft_finished();
}
