// SPDX-License-Identifier: GPL-2.0
/*
 * Every order of the ends of a shared stream, with revocation. A master
 * plays; two clients hold all three mappings (data, status, control):
 *
 *   R  a SHARED file (an O_APPEND|O_EXCL open or an export, in turn), open
 *      read-only: its mappings cannot be written
 *   W  an export holding SHARED | RW, open read-write, with a writable data
 *      mapping
 *
 * The events, in every order:
 *
 *   V  the master revokes them, one of five ways: by naming each file
 *      (SHARED_REVOKE with the fd of its own copy), by -1, by HW_FREE, by
 *      HW_PARAMS over the setup, or by closing (then V is M)
 *   M  the master closes its file (last, unless it is the revocation)
 *   U  the clients unmap their mappings
 *   C  the clients close their files
 *   F  a child is forked that keeps the mappings (its copies of the files
 *      closed) and checks them at each step, until the end
 *   D  the card is unbound through sysfs: disconnect, then snd_card_free,
 *      which waits for every file and mapping to go
 *
 * Between the steps, the survivors must behave as the kernel's
 * documentation (pcm-restricted-sharing.rst) says:
 *  - before revocation: the clients' calls work or get EPERM, their
 *    mappings show the stream;
 *  - once revoked (V, M, or D): every call -ENODEV, poll POLLERR (and
 *    POLLHUP, unless the card is gone), no new mapping; the mappings that
 *    cannot be written read zeros, in this process and in the child,
 *    which keep running, even after the master has set up a new buffer
 *    with a new signal; the writable ones raise SIGBUS, which is caught;
 *  - the master's HW_FREE and HW_PARAMS succeed while the clients hold
 *    their files and dead mappings, and once it has closed, a plain open
 *    of its substream (O_RDWR | O_NONBLOCK) succeeds at once; that new
 *    master plays a new signal the dead mappings do not show, and at the
 *    end, after the clients' late munmaps and closes, its HW_FREE and
 *    HW_PARAMS succeed;
 *  - after D: the master gets -ENODEV; once the clients and the child are
 *    gone, the unbind completes and the card, bound again, plays.
 *
 * Besides: revocation by name is exact (two files of a kind, one named:
 * the other keeps the stream), and it ends a write blocked on a full
 * buffer and a poll blocked for room (by fd, by -1, by close).
 *
 * The default run: on each card, the five ways, each with every order of
 * V, U, C and F (M last), and the unbind, with every order of V, U, C, D
 * (F first) by fd and by close: 2 x (5 x 24 + 2 x 24) = 336 orders, under
 * KASAN (the VM's kernel). --seconds S then goes on with random orders of
 * all six events until S seconds have passed. --quick runs each order
 * once, on one card, and the unbind orders one way each, cards and ways
 * in turn: 5 x 24 + 24 = 144 orders.
 *
 *   pcm-lifetime [--seconds S] [--quick] [--seed N]
 */
#include <getopt.h>
#include <poll.h>
#include "kselftest.h"
#include "pcm-attack.h"

enum ev { EV_REVOKE, EV_MASTER_CLOSE, EV_UNMAP, EV_CLOSE, EV_FORK, EV_UNBIND, NEV };
static const char ev_letter[NEV] = { 'V', 'M', 'U', 'C', 'F', 'D' };

enum way { BY_FD, BY_ALL, BY_HW_FREE, BY_HW_PARAMS, BY_CLOSE, NWAYS };
static const char *const way_names[NWAYS] = {
	"by fd", "by -1", "by HW_FREE", "by HW_PARAMS", "by close",
};

enum { CL_R, CL_W, NCLIENTS };
enum { MAP_DATA, MAP_STATUS, MAP_CONTROL, NMAPS };

struct client {
	int fd, copy;		/* copy: the master's, to name it (by fd) */
	unsigned int mask;
	unsigned char *map[NMAPS];
	size_t len[NMAPS];
	bool writable[NMAPS];	/* may be written: raises SIGBUS once revoked */
	bool prot_write[NMAPS];	/* mapped with PROT_WRITE */
};

struct run {
	struct master m;
	struct master again;	/* the substream opened anew after M */
	enum way way;
	bool export_r;		/* R is an export, not an O_APPEND|O_EXCL open */
	struct client cl[NCLIENTS];
	bool revoked, master_closed, unmapped, closed, unbound;
	pid_t child;
	int to_child, from_child;
	struct unbind_job unbind;
	unsigned char pattern;	/* of the signal the master wrote last */
	char why[1024];
	unsigned long ioctls;
};

#define FAIL(r, ...) do {						\
	size_t __l = strlen((r)->why);					\
	if (__l < sizeof((r)->why) - 200)				\
		snprintf((r)->why + __l, sizeof((r)->why) - __l, " " __VA_ARGS__); \
} while (0)

static inline unsigned char pattern_at(unsigned char seed, size_t i)
{
	/* never zero; the same in every page (the dummy's buffer is one page) */
	return 0x80 | ((seed + i) & 0x7f);
}

/* The master writes a signal into its buffer, through a mapping of its own */
static int master_write_signal(struct run *r)
{
	size_t len = r->m.buffer_bytes;
	unsigned char *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, r->m.fd, 0);

	if (p == MAP_FAILED)
		return -errno;
	r->pattern += 17;
	for (size_t i = 0; i < len; i++)
		p[i] = pattern_at(r->pattern, i % 4096);
	munmap(p, len);
	return 0;
}

static int master_setup(struct run *r, bool start)
{
	int err = pcm_configure(r->m.fd, &r->m.setup);

	if (!err)
		err = master_write_signal(r);
	if (!err)
		err = xioctl(r->m.fd, SNDRV_PCM_IOCTL_PREPARE, NULL);
	if (!err && start)
		err = xioctl(r->m.fd, SNDRV_PCM_IOCTL_START, NULL);
	return err;
}

/* ------------------------------------------------------------------ */
/* what a mapping must show */

/*
 * Before revocation: the status page says RUNNING, the data buffer holds
 * the master's signal, a writable mapping can be written. After: zeros,
 * or SIGBUS where the mapping could be written. Returns NULL or what is
 * wrong.
 */
static const char *check_map(const struct client *c, int i, bool revoked, unsigned char pattern)
{
	static char why[160];
	volatile unsigned char *p = c->map[i];
	size_t len = c->len[i], bad = len;
	int sig;

	if (revoked && c->writable[i]) {
		sig = attack_touch(p, len, false);
		if (sig != SIGBUS) {
			snprintf(why, sizeof(why), "writable mapping %d read after revocation: signal %d, not SIGBUS",
				 i, sig);
			return why;
		}
		return NULL;
	}
	sig = attack_touch(p, len, !revoked && c->prot_write[i]);
	if (sig) {
		snprintf(why, sizeof(why), "mapping %d faulted (signal %d)%s", i, sig,
			 revoked ? " after revocation" : "");
		return why;
	}
	if (revoked) {
		for (size_t j = 0; j < len && bad == len; j++)
			if (p[j])
				bad = j;
		if (bad != len) {
			snprintf(why, sizeof(why), "mapping %d reads %#x at %zu after revocation, not zero",
				 i, p[bad], bad);
			return why;
		}
	} else if (i == MAP_STATUS) {
		int state = *(volatile int *)p;

		if (state != SNDRV_PCM_STATE_RUNNING) {
			snprintf(why, sizeof(why), "status page says state %d, not RUNNING", state);
			return why;
		}
	} else if (i == MAP_DATA) {
		for (size_t j = 0; j < len && bad == len; j++)
			if (p[j] != pattern_at(pattern, j % 4096))
				bad = j;
		if (bad != len) {
			snprintf(why, sizeof(why), "data reads %#x at %zu, not the master's signal",
				 p[bad], bad);
			return why;
		}
	}
	return NULL;
}

/* ------------------------------------------------------------------ */
/* the forked child: keeps the mappings, checks them when told */

static void child_main(struct run *r, int in, int out)
{
	char cmd;

	/* the files themselves stay with the parent: only the mappings here */
	for (int c = 0; c < NCLIENTS; c++) {
		if (r->cl[c].fd >= 0)
			close(r->cl[c].fd);
		if (r->cl[c].copy >= 0)
			close(r->cl[c].copy);
	}
	if (r->m.fd >= 0)
		close(r->m.fd);
	if (r->again.fd >= 0)
		close(r->again.fd);
	while (read(in, &cmd, 1) == 1 && cmd != 'Q') {
		unsigned char pattern;
		char reply = 0;

		if (read(in, &pattern, 1) != 1)
			break;
		for (int c = 0; c < NCLIENTS && !r->unmapped; c++) {
			for (int i = 0; i < NMAPS; i++) {
				const char *why = check_map(&r->cl[c], i, cmd == 'R', pattern);

				if (why) {
					printf("# child: client %c: %s\n", c ? 'W' : 'R', why);
					fflush(stdout);
					reply = 1;
				}
			}
		}
		if (write(out, &reply, 1) != 1)
			break;
	}
	_exit(0);
}

static void child_check(struct run *r, char after)
{
	char cmd[2] = { r->revoked ? 'R' : 'L', (char)r->pattern }, reply = 1;

	if (!r->child)
		return;
	if (write(r->to_child, cmd, 2) != 2 || read(r->from_child, &reply, 1) != 1)
		FAIL(r, "after %c: the child is gone;", after);
	else if (reply)
		FAIL(r, "after %c: the child's mappings are wrong (above);", after);
}

static void child_end(struct run *r)
{
	int status;

	if (!r->child)
		return;
	if (write(r->to_child, "Q", 1) < 0)
		FAIL(r, "the child: %s;", strerror(errno));
	if (waitpid(r->child, &status, 0) != r->child || !WIFEXITED(status) ||
	    WEXITSTATUS(status))
		FAIL(r, "the child ended with status %#x;", status);
	close(r->to_child);
	close(r->from_child);
	r->child = 0;
}

/* ------------------------------------------------------------------ */

static int client_ioctl(struct run *r, int fd, unsigned long cmd, void *arg)
{
	r->ioctls++;
	return xioctl(fd, cmd, arg);
}

/* What the clients may still do, given what has happened so far */
static void check_clients(struct run *r, char after)
{
	for (int c = 0; c < NCLIENTS && !r->closed; c++) {
		struct client *cl = &r->cl[c];
		struct snd_pcm_status st;
		struct pollfd pfd = { .fd = cl->fd, .events = POLLIN | POLLOUT };
		char name = c ? 'W' : 'R', buf[64];
		unsigned int perm = 0;
		short want;
		void *p;
		int err;

		memset(&st, 0, sizeof(st));
		if (!r->revoked) {
			err = client_ioctl(r, cl->fd, SNDRV_PCM_IOCTL_PERM_GET, &perm);
			if (err || perm != cl->mask)
				FAIL(r, "after %c: %c: PERM_GET %d/%#x;", after, name, err, perm);
			err = client_ioctl(r, cl->fd, SNDRV_PCM_IOCTL_HWSYNC, NULL);
			if (err)
				FAIL(r, "after %c: %c: HWSYNC %d;", after, name, err);
			err = client_ioctl(r, cl->fd, SNDRV_PCM_IOCTL_DROP, NULL);
			if (err != -EPERM)
				FAIL(r, "after %c: %c: DROP %d, not -EPERM;", after, name, err);
			if (poll(&pfd, 1, 0) < 0 || (pfd.revents & (POLLERR | POLLHUP)))
				FAIL(r, "after %c: %c: poll %#x;", after, name, pfd.revents);
			continue;
		}
		/* revoked, or disconnected: nothing but close */
		err = client_ioctl(r, cl->fd, SNDRV_PCM_IOCTL_PERM_GET, &perm);
		if (err != -ENODEV)
			FAIL(r, "after %c: %c: PERM_GET %d, not -ENODEV;", after, name, err);
		err = client_ioctl(r, cl->fd, SNDRV_PCM_IOCTL_STATUS, &st);
		if (err != -ENODEV)
			FAIL(r, "after %c: %c: STATUS %d, not -ENODEV;", after, name, err);
		err = client_ioctl(r, cl->fd, SNDRV_PCM_IOCTL_HWSYNC, NULL);
		if (err != -ENODEV)
			FAIL(r, "after %c: %c: HWSYNC %d, not -ENODEV;", after, name, err);
		err = client_ioctl(r, cl->fd, SNDRV_PCM_IOCTL_DROP, NULL);
		if (err != -ENODEV)
			FAIL(r, "after %c: %c: DROP %d, not -ENODEV;", after, name, err);
		err = client_ioctl(r, cl->fd, SNDRV_PCM_IOCTL_PERM_RESTRICT, &(unsigned int){ 0 });
		if (err != -ENODEV)
			FAIL(r, "after %c: %c: PERM_RESTRICT %d, not -ENODEV;", after, name, err);
		/* R is open read-only on a playback stream: no transfer at all */
		err = c == CL_W && write(cl->fd, buf, sizeof(buf)) < 0 ? -errno : 0;
		if (c == CL_W && err != -ENODEV)
			FAIL(r, "after %c: W: write %d, not -ENODEV;", after, err);
		want = r->unbound ? POLLERR : POLLERR | POLLHUP;
		if (poll(&pfd, 1, 0) != 1 || (pfd.revents & want) != want)
			FAIL(r, "after %c: %c: poll %#x, not %#x;", after, name, pfd.revents, want);
		p = mmap(NULL, 4096, PROT_READ, MAP_SHARED, cl->fd, SNDRV_PCM_MMAP_OFFSET_STATUS_NEW);
		if (p != MAP_FAILED) {
			munmap(p, 4096);
			FAIL(r, "after %c: %c: a new mapping succeeded;", after, name);
		} else if (errno != ENODEV) {
			FAIL(r, "after %c: %c: a new mapping: %s, not ENODEV;", after, name,
			     strerror(errno));
		}
	}
	for (int c = 0; c < NCLIENTS && !r->unmapped; c++) {
		for (int i = 0; i < NMAPS; i++) {
			const char *why = check_map(&r->cl[c], i, r->revoked, r->pattern);

			if (why)
				FAIL(r, "after %c: %c: %s;", after, c ? 'W' : 'R', why);
		}
	}
	child_check(r, after);
}

/* ------------------------------------------------------------------ */
/* the events */

static void revoke_event(struct run *r)
{
	int err = 0;

	switch (r->way) {
	case BY_FD:
		for (int c = 0; c < NCLIENTS && !err; c++)
			err = pcm_revoke(r->m.fd, r->cl[c].copy);
		break;
	case BY_ALL:
		err = pcm_revoke(r->m.fd, -1);
		break;
	case BY_HW_FREE:
		xioctl(r->m.fd, SNDRV_PCM_IOCTL_DROP, NULL);
		err = xioctl(r->m.fd, SNDRV_PCM_IOCTL_HW_FREE, NULL);
		/* the master sets the stream up again, with a new signal */
		if (!err)
			err = master_setup(r, true);
		break;
	case BY_HW_PARAMS:
		xioctl(r->m.fd, SNDRV_PCM_IOCTL_DROP, NULL);
		err = master_setup(r, true);
		break;
	default:
		break;
	}
	if (r->unbound) {
		if (err != -ENODEV)
			FAIL(r, "revoke %s after the disconnect: %d, not -ENODEV;",
			     way_names[r->way], err);
		return;
	}
	if (err)
		FAIL(r, "revoke %s: %s;", way_names[r->way], strerror(-err));
	/* a new signal the dead mappings must not show */
	if (!err && (r->way == BY_FD || r->way == BY_ALL) && master_write_signal(r))
		FAIL(r, "the master's own mapping after the revocation: %s;", strerror(errno));
	r->revoked = true;
}

static void master_close_event(struct run *r)
{
	int err, fd;

	if (!r->unbound) {
		/* with clients still holding files and dead mappings */
		if (r->way == BY_FD) {
			for (int c = 0; c < NCLIENTS; c++) {
				err = pcm_revoke(r->m.fd, r->cl[c].copy);
				if (err)
					FAIL(r, "revoking a revoked file again: %s;", strerror(-err));
			}
		}
		if (r->revoked) {
			xioctl(r->m.fd, SNDRV_PCM_IOCTL_DROP, NULL);
			err = xioctl(r->m.fd, SNDRV_PCM_IOCTL_HW_FREE, NULL);
			if (!err)
				err = master_setup(r, false);
			if (err)
				FAIL(r, "the master's HW_FREE/HW_PARAMS over revoked clients: %s;",
				     strerror(-err));
		}
	}
	for (int c = 0; c < NCLIENTS; c++) {
		if (r->cl[c].copy >= 0)
			close(r->cl[c].copy);
		r->cl[c].copy = -1;
	}
	master_close(&r->m);
	r->master_closed = true;
	r->revoked = true;
	if (r->unbound)
		return;
	/*
	 * The revoked files let go of the substream: it opens again at once,
	 * and plays a new signal that no dead mapping may show
	 */
	fd = pcm_open_sub(r->m.card, r->m.dev, r->m.stream, r->m.sub, O_RDWR | O_NONBLOCK);
	if (fd < 0) {
		FAIL(r, "a plain open of the substream after the master closed: %s;", strerror(errno));
		return;
	}
	r->again = r->m;
	r->again.fd = fd;
	r->m.fd = -1;
	{
		struct master old = r->m;
		int err;

		r->m = r->again;	/* master_setup() works on r->m */
		err = master_setup(r, true);
		r->again = r->m;
		r->m = old;
		if (err)
			FAIL(r, "the substream opened again: set up: %s;", strerror(-err));
	}
}

/*
 * The end, for the substream opened again: the late munmaps and closes of
 * the revoked clients must have left it alone, HW_FREE and HW_PARAMS work
 */
static void again_end(struct run *r)
{
	int err;

	if (r->again.fd < 0)
		return;
	if (!r->unbound) {
		xioctl(r->again.fd, SNDRV_PCM_IOCTL_DROP, NULL);
		err = xioctl(r->again.fd, SNDRV_PCM_IOCTL_HW_FREE, NULL);
		if (!err)
			err = pcm_configure(r->again.fd, &r->again.setup);
		if (err)
			FAIL(r, "the substream opened again: HW_FREE/HW_PARAMS at the end: %s;",
			     strerror(-err));
	}
	master_close(&r->again);
}

static void event(struct run *r, int ev)
{
	int to[2], from[2];
	char proc[32];

	switch (ev) {
	case EV_REVOKE:
		if (r->way == BY_CLOSE)
			master_close_event(r);
		else
			revoke_event(r);
		break;
	case EV_MASTER_CLOSE:
		master_close_event(r);
		break;
	case EV_UNMAP:
		for (int c = 0; c < NCLIENTS; c++)
			for (int i = 0; i < NMAPS; i++)
				munmap(r->cl[c].map[i], r->cl[c].len[i]);
		r->unmapped = true;
		break;
	case EV_CLOSE:
		for (int c = 0; c < NCLIENTS; c++)
			close(r->cl[c].fd);
		r->closed = true;
		break;
	case EV_FORK:
		if (pipe(to) < 0 || pipe(from) < 0) {
			FAIL(r, "pipe: %s;", strerror(errno));
			break;
		}
		fflush(stdout);
		r->child = fork();
		if (r->child == 0) {
			close(to[1]);
			close(from[0]);
			if (r->closed)
				for (int c = 0; c < NCLIENTS; c++)
					r->cl[c].fd = -1;
			if (r->master_closed)
				r->m.fd = -1;
			child_main(r, to[0], from[1]);
		}
		close(to[0]);
		close(from[1]);
		r->to_child = to[1];
		r->from_child = from[0];
		if (r->child < 0) {
			FAIL(r, "fork: %s;", strerror(errno));
			r->child = 0;
		}
		break;
	case EV_UNBIND:
		if (card_unbind_async(&r->unbind, r->m.card_id)) {
			FAIL(r, "unbind thread: %s;", strerror(errno));
			break;
		}
		r->unbound = true;
		r->revoked = true;
		/*
		 * The disconnect is done when the card's procfs directory goes:
		 * after every device's disconnect (the revocation), before the
		 * wait for files. The control device refuses opens earlier, as
		 * soon as the card is shut down: not a sign of the revocation.
		 */
		snprintf(proc, sizeof(proc), "/proc/asound/card%d", r->m.card);
		if (!pcm_wait_for(access(proc, F_OK) < 0 ||
				  __atomic_load_n(&r->unbind.done, __ATOMIC_ACQUIRE), 20000))
			FAIL(r, "the card was not disconnected;");
		if (!r->master_closed) {
			int err = xioctl(r->m.fd, SNDRV_PCM_IOCTL_HWSYNC, NULL);

			if (err != -ENODEV)
				FAIL(r, "master HWSYNC after disconnect: %d;", err);
		}
		if (r->again.fd >= 0 && xioctl(r->again.fd, SNDRV_PCM_IOCTL_HWSYNC, NULL) != -ENODEV)
			FAIL(r, "the substream opened again: HWSYNC after the disconnect is not -ENODEV;");
		break;
	}
}

static int map_client(struct run *r, struct client *c, bool writable)
{
	static const unsigned long offs[NMAPS] = {
		0, SNDRV_PCM_MMAP_OFFSET_STATUS_NEW, SNDRV_PCM_MMAP_OFFSET_CONTROL_NEW,
	};

	for (int i = 0; i < NMAPS; i++) {
		int prot = i == MAP_DATA && writable ? PROT_READ | PROT_WRITE : PROT_READ;

		c->len[i] = i == MAP_DATA ? r->m.buffer_bytes : 4096;
		c->map[i] = mmap(NULL, c->len[i], prot, MAP_SHARED, c->fd, offs[i]);
		if (c->map[i] == MAP_FAILED)
			return -errno;
		/* what may be written: data and control of a file with RW */
		c->writable[i] = writable && i != MAP_STATUS;
		c->prot_write[i] = prot & PROT_WRITE;
	}
	return 0;
}

static bool run_order(const char *card_id, enum way way, const int *order, int n,
		      bool export_r, unsigned long *ioctls)
{
	struct run r;
	char name[NEV + 1];
	int err;

	memset(&r, 0, sizeof(r));
	for (int i = 0; i < n; i++)
		name[i] = ev_letter[order[i]];
	name[n] = 0;
	r.way = way;
	r.export_r = export_r;
	r.again.fd = -1;

	err = card_bind(card_id);
	if (err) {
		ksft_print_msg("%s: card not bound: %s\n", card_id, strerror(-err));
		return false;
	}
	master_init(&r.m, card_id, 0, SNDRV_PCM_STREAM_PLAYBACK);
	err = master_open(&r.m, false);
	if (!err) {
		xioctl(r.m.fd, SNDRV_PCM_IOCTL_DROP, NULL);
		err = master_setup(&r, true);
	}
	if (err) {
		ksft_print_msg("%s %s: master: %s\n", card_id, name, strerror(-err));
		master_close(&r.m);
		return false;
	}
	r.cl[CL_R].mask = P_SHARED;
	r.cl[CL_R].fd = export_r ? pcm_export(r.m.fd, P_SHARED, O_RDONLY | O_CLOEXEC) :
				   master_restricted_open(&r.m, O_RDONLY | O_NONBLOCK);
	r.cl[CL_W].mask = P_SHARED | P_RW;
	r.cl[CL_W].fd = pcm_export(r.m.fd, P_SHARED | P_RW, O_RDWR | O_NONBLOCK | O_CLOEXEC);
	for (int c = 0; c < NCLIENTS; c++) {
		r.cl[c].copy = -1;
		if (r.cl[c].fd < 0) {
			ksft_print_msg("%s %s: client %c: %s\n", card_id, name, c ? 'W' : 'R',
				       strerror(-r.cl[c].fd));
			ksft_exit_fail_msg("restricted clients are needed\n");
		}
		if (way == BY_FD)
			r.cl[c].copy = fcntl(r.cl[c].fd, F_DUPFD_CLOEXEC, 0);
		err = map_client(&r, &r.cl[c], c == CL_W);
		if (err)
			ksft_exit_fail_msg("%s %s: client %c mappings: %s\n", card_id, name,
					   c ? 'W' : 'R', strerror(-err));
	}
	check_clients(&r, '-');
	for (int i = 0; i < n; i++) {
		event(&r, order[i]);
		check_clients(&r, ev_letter[order[i]]);
	}
	child_end(&r);
	if (!r.closed)
		event(&r, EV_CLOSE);
	if (!r.unmapped)
		event(&r, EV_UNMAP);
	again_end(&r);
	if (r.unbound) {
		/* nothing holds the card any more: the unbind completes */
		err = card_unbind_wait(&r.unbind, 30000);
		if (err) {
			FAIL(&r, "the unbind did not complete: %s;", strerror(-err));
		} else {
			/* and the card, bound again, plays */
			struct master again;

			err = card_bind(card_id);
			master_init(&again, card_id, 0, SNDRV_PCM_STREAM_PLAYBACK);
			if (!err)
				err = master_open(&again, true);
			if (!err && master_check(&again))
				err = -EIO;
			if (err)
				FAIL(&r, "the card bound again does not play: %s;", strerror(-err));
			master_close(&again);
		}
	}
	*ioctls += r.ioctls;
	ksft_test_result(!r.why[0], "%s %s, R %s: %s: %s\n", card_id, way_names[way],
			 export_r ? "exported" : "opened O_APPEND|O_EXCL", name,
			 r.why[0] ? r.why : "as specified");
	return !r.why[0];
}

static bool next_perm(int *a, int n)
{
	int i = n - 2, j = n - 1, t;

	while (i >= 0 && a[i] >= a[i + 1])
		i--;
	if (i < 0)
		return false;
	while (a[j] <= a[i])
		j--;
	t = a[i], a[i] = a[j], a[j] = t;
	for (j = n - 1, i++; i < j; i++, j--)
		t = a[i], a[i] = a[j], a[j] = t;
	return true;
}

static const char *const cards[] = { "Dummy", "Loopback" };
static unsigned long runs, failed;
static struct figures fig;

/* ------------------------------------------------------------------ */
/* revocation by name is exact; blocked calls end */

/*
 * Two files of the same kind on one stream, each with its data and status
 * mapped: revoking one by name cuts it off, the other keeps the stream
 */
static void exact_revocation(bool export)
{
	struct run r;
	struct client *a = &r.cl[CL_R], *b = &r.cl[CL_W];
	const char *why = NULL;
	int err, pa, pb;

	memset(&r, 0, sizeof(r));
	r.again.fd = -1;
	master_init(&r.m, "Loopback", 0, SNDRV_PCM_STREAM_PLAYBACK);
	err = master_open(&r.m, false);
	if (!err) {
		xioctl(r.m.fd, SNDRV_PCM_IOCTL_DROP, NULL);
		err = master_setup(&r, true);
	}
	if (err)
		ksft_exit_fail_msg("exact revocation: master: %s\n", strerror(-err));
	for (int c = 0; c < 2; c++) {
		struct client *cl = &r.cl[c];

		cl->mask = P_SHARED;
		cl->fd = export ? pcm_export(r.m.fd, P_SHARED, O_RDONLY | O_CLOEXEC) :
				  master_restricted_open(&r.m, O_RDONLY | O_NONBLOCK);
		if (cl->fd < 0 || map_client(&r, cl, false))
			ksft_exit_fail_msg("exact revocation: client: %s\n", strerror(errno));
	}
	err = pcm_revoke(r.m.fd, a->fd);
	pa = pcm_perm(a->fd);
	pb = pcm_perm(b->fd);
	for (int i = 0; i < NMAPS && !why; i++) {
		why = check_map(a, i, true, r.pattern);
		if (!why)
			why = check_map(b, i, false, r.pattern);
	}
	for (int c = 0; c < 2; c++) {
		for (int i = 0; i < NMAPS; i++)
			munmap(r.cl[c].map[i], r.cl[c].len[i]);
		close(r.cl[c].fd);
	}
	master_close(&r.m);
	ksft_test_result(!err && pa == -ENODEV && pb == (int)P_SHARED && !why,
			 "revocation by name is exact (%s): the one named answers %s, the other %s; %s\n",
			 export ? "two exports" : "two O_APPEND|O_EXCL opens",
			 pa < 0 ? strerror(-pa) : "a mask", pb == (int)P_SHARED ? "SHARED" : "not SHARED",
			 why ? why : "the mappings of the one read zeros, of the other the stream");
}

struct blocked {
	pthread_t thread;
	volatile pid_t tid;
	int fd;
	bool poll;		/* poll(POLLOUT), else write() */
	size_t bytes;
	volatile int done;
	ssize_t ret;
	int err;
	short revents;
};

static void *blocked_call(void *arg)
{
	struct blocked *b = arg;
	static char zeros[65536];

	b->tid = syscall(SYS_gettid);
	if (b->poll) {
		struct pollfd pfd = { .fd = b->fd, .events = POLLOUT };

		b->ret = poll(&pfd, 1, -1);
		b->revents = pfd.revents;
	} else {
		b->ret = write(b->fd, zeros, b->bytes);
	}
	b->err = errno;
	__atomic_store_n(&b->done, 1, __ATOMIC_RELEASE);
	return NULL;
}

/* Whether a thread sleeps (in the call it was given, presumably) */
static bool sleeping(pid_t tid)
{
	char path[64], buf[256], *p;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/self/task/%d/stat", tid);
	f = fopen(path, "r");
	if (!f)
		return false;
	p = fgets(buf, sizeof(buf), f);
	fclose(f);
	p = p ? strrchr(buf, ')') : NULL;
	return p && p[1] == ' ' && p[2] == 'S';
}

static void wake(int sig)
{
	(void)sig;
}

/*
 * A write blocked on a full buffer (an export with RW) and a poll for
 * POLLOUT blocked on it (an export without), on a running stream with
 * half-second periods: revocation by name or by -1 ends both at once, the
 * write with ENODEV (or what it moved, had a period passed first), the
 * poll with POLLERR | POLLHUP. Closing the master stops the stream first
 * (as DROP does), which ends them too; after it, a poll reports POLLERR |
 * POLLHUP, and the substream opens again once the last call has let go
 * (from a work: within a bound). HW_FREE and HW_PARAMS need the stream
 * stopped, which ends the calls before they revoke: not tried here.
 */
static void blocked_calls(enum way way)
{
	static char zeros[1 << 18];
	struct pollfd pfd;
	struct run r;
	struct blocked b[2];
	char why[300] = "";
	int err = 0, fd = -1;

	memset(&r, 0, sizeof(r));
	memset(b, 0, sizeof(b));
	r.again.fd = -1;
	signal(SIGUSR2, wake);
	master_init(&r.m, "Loopback", 0, SNDRV_PCM_STREAM_PLAYBACK);
	r.m.setup.access = SNDRV_PCM_ACCESS_RW_INTERLEAVED;	/* for write() */
	r.m.setup.period = 24000;
	r.m.setup.periods = 2;
	err = master_open(&r.m, false);
	if (!err) {
		/*
		 * Transfers block or not as the substream was opened, for every
		 * file of it: the master opens it again, blocking
		 */
		master_close(&r.m);
		r.m.fd = pcm_open_sub(r.m.card, r.m.dev, r.m.stream, r.m.sub, O_RDWR);
		err = r.m.fd < 0 ? -errno : pcm_configure(r.m.fd, &r.m.setup);
		if (!err)
			err = xioctl(r.m.fd, SNDRV_PCM_IOCTL_PREPARE, NULL);
	}
	if (err)
		ksft_exit_fail_msg("blocked calls: master: %s\n", strerror(-err));
	b[0].fd = pcm_export(r.m.fd, P_SHARED | P_RW, O_RDWR | O_CLOEXEC);
	b[1].fd = pcm_export(r.m.fd, P_SHARED, O_RDONLY | O_CLOEXEC);
	b[1].poll = true;
	/* the buffer full: no room before the first period has played */
	b[0].bytes = 65536;
	if (b[0].fd < 0 || b[1].fd < 0 || r.m.buffer_bytes > sizeof(zeros) ||
	    write(b[0].fd, zeros, r.m.buffer_bytes) < 0 ||
	    xioctl(r.m.fd, SNDRV_PCM_IOCTL_START, NULL))
		ksft_exit_fail_msg("blocked calls: clients: %s\n", strerror(errno));
	for (int i = 0; i < 2; i++) {
		pthread_create(&b[i].thread, NULL, blocked_call, &b[i]);
		/* a bound on the wait: blocked or not, the revocation must end it */
		pcm_wait_for(b[i].tid && sleeping(b[i].tid), 2000);
	}
	switch (way) {
	case BY_FD:
		err = pcm_revoke(r.m.fd, b[0].fd);
		if (!err)
			err = pcm_revoke(r.m.fd, b[1].fd);
		break;
	case BY_ALL:
		err = pcm_revoke(r.m.fd, -1);
		break;
	default:
		master_close(&r.m);
		break;
	}
	if (err)
		snprintf(why + strlen(why), sizeof(why) - strlen(why), " revoking: %s;", strerror(-err));
	for (int i = 0; i < 2; i++) {
		if (!pcm_wait_for(__atomic_load_n(&b[i].done, __ATOMIC_ACQUIRE), 10000)) {
			snprintf(why + strlen(why), sizeof(why) - strlen(why),
				 " the %s is still blocked 10 s after the revocation;",
				 b[i].poll ? "poll" : "write");
			pthread_kill(b[i].thread, SIGUSR2);
		}
		pthread_join(b[i].thread, NULL);
	}
	if (b[0].ret < 0 && b[0].err != ENODEV && (way != BY_CLOSE || b[0].err != EBADFD))
		snprintf(why + strlen(why), sizeof(why) - strlen(why), " the write: %s;",
			 strerror(b[0].err));
	if (b[1].ret != 1 || !(b[1].revents & POLLERR) ||
	    (way != BY_CLOSE && !(b[1].revents & POLLHUP)))
		snprintf(why + strlen(why), sizeof(why) - strlen(why), " the poll: %zd, %#x;",
			 b[1].ret, b[1].revents);
	/* from now on: revoked */
	pfd = (struct pollfd){ .fd = b[1].fd, .events = POLLOUT };
	if (poll(&pfd, 1, 0) != 1 || (pfd.revents & (POLLERR | POLLHUP)) != (POLLERR | POLLHUP))
		snprintf(why + strlen(why), sizeof(why) - strlen(why), " a poll after it: %#x;",
			 pfd.revents);
	if (write(b[0].fd, zeros, 64) >= 0 || errno != ENODEV)
		snprintf(why + strlen(why), sizeof(why) - strlen(why), " a write after it: %s;",
			 strerror(errno));
	if (pcm_perm(b[0].fd) != -ENODEV || pcm_perm(b[1].fd) != -ENODEV)
		snprintf(why + strlen(why), sizeof(why) - strlen(why), " not revoked;");
	if (way == BY_CLOSE) {
		/* a bound, deciding only failure: the open, not its timing, is checked */
		for (int ms = 0; fd < 0 && ms < 5000; ms++) {
			fd = pcm_open_sub(r.m.card, r.m.dev, r.m.stream, r.m.sub, O_RDWR | O_NONBLOCK);
			if (fd < 0)
				usleep(1000);
		}
		if (fd < 0)
			snprintf(why + strlen(why), sizeof(why) - strlen(why),
				 " the substream does not open again: %s;", strerror(errno));
		else
			close(fd);
	}
	close(b[0].fd);
	close(b[1].fd);
	master_close(&r.m);
	ksft_test_result(!why[0], "revocation %s ends a blocked write (%zd, %s) and a blocked poll (%#x)%s\n",
			 way_names[way], b[0].ret, b[0].ret < 0 ? strerror(b[0].err) : "bytes",
			 b[1].revents, why);
}

/*
 * The orders of @evs (sorted), with M appended unless the way closes; on
 * both cards, or with @quick one card per order, in turn
 */
static void orders(enum way way, const int *evs, int n, bool quick, int *turn)
{
	int order[NEV];

	memcpy(order, evs, n * sizeof(int));
	do {
		int full[NEV], len = n;

		memcpy(full, order, n * sizeof(int));
		if (way != BY_CLOSE)
			full[len++] = EV_MASTER_CLOSE;
		for (int c = 0; c < 2; c++) {
			if (quick && c != *turn % 2)
				continue;
			runs++;
			if (!run_order(cards[c], way, full, len, (*turn / 2) % 2, &fig.ioctls))
				failed++;
		}
		(*turn)++;
	} while (next_perm(order, n));
}

static void default_set(bool quick)
{
	static const int plain[] = { EV_REVOKE, EV_UNMAP, EV_CLOSE, EV_FORK };
	static const int unbind[] = { EV_REVOKE, EV_UNMAP, EV_CLOSE, EV_UNBIND };
	static const enum way unbind_ways[] = { BY_FD, BY_CLOSE };
	int turn = 0, order[4];

	for (int way = 0; way < NWAYS; way++)
		orders(way, plain, 4, quick, &turn);
	/*
	 * The unbind (a second or more each, under KASAN) by fd and by close;
	 * with --quick, each order once, the way and the card in turn. The
	 * child forked first holds the mappings through the unbind.
	 */
	memcpy(order, unbind, sizeof(unbind));
	do {
		for (int w = 0; w < 2; w++) {
			for (int c = 0; c < 2; c++) {
				enum way way = unbind_ways[w];
				int evs[NEV], len = 5;

				if (quick && (w != turn % 2 || c != (turn / 2) % 2))
					continue;
				evs[0] = EV_FORK;
				memcpy(evs + 1, order, sizeof(order));
				if (way != BY_CLOSE)
					evs[len++] = EV_MASTER_CLOSE;
				runs++;
				if (!run_order(cards[c], way, evs, len, (turn / 4) % 2, &fig.ioctls))
					failed++;
			}
		}
		turn++;
	} while (next_perm(order, 4));
}

/* A random order of all six events (V before M), or five when V is M */
static void random_order(uint64_t *seed)
{
	enum way way = rnd(seed, NWAYS);
	int evs[NEV], n = 0, card = rnd(seed, 2);

	for (int e = 0; e < NEV; e++)
		if (e != EV_MASTER_CLOSE || way != BY_CLOSE)
			evs[n++] = e;
	if (rnd(seed, 3))
		n--;			/* the unbind (last), one time in three */
	for (int i = n - 1; i > 0; i--) {
		int j = rnd(seed, i + 1), t = evs[i];

		evs[i] = evs[j], evs[j] = t;
	}
	/* V before M: swap them if needed */
	for (int i = 0, v = -1; i < n; i++) {
		if (evs[i] == EV_REVOKE)
			v = i;
		if (evs[i] == EV_MASTER_CLOSE && v < 0) {
			for (int k = i + 1; k < n; k++) {
				if (evs[k] == EV_REVOKE) {
					evs[k] = EV_MASTER_CLOSE;
					evs[i] = EV_REVOKE;
					break;
				}
			}
			break;
		}
	}
	runs++;
	if (!run_order(cards[card], way, evs, n, rnd(seed, 2), &fig.ioctls))
		failed++;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "seconds", required_argument, NULL, 's' },
		{ "quick", no_argument, NULL, 'q' },
		{ "seed", required_argument, NULL, 'r' },
		{ NULL, 0, NULL, 0 },
	};
	double seconds = 0, start;
	bool quick = false;
	uint64_t seed = 1;
	int opt;

	while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (opt == 's')
			seconds = atof(optarg);
		else if (opt == 'q')
			quick = true;
		else if (opt == 'r')
			seed = strtoull(optarg, NULL, 0) ?: 1;
		else
			return 2;
	}
	attack_catch_faults();
	ksft_print_header();
	if (!seconds)
		ksft_set_plan(2 + 3 + (quick ? 5 * 24 + 24 : 2 * (5 * 24 + 2 * 24)));
	ksft_print_msg("ABI %s: orders of revocation (V, five ways), master close (M), client munmap (U) and close (C), fork (F), card unbind (D)\n",
		       PCM_ABI);
	start = now_s();
	exact_revocation(true);
	exact_revocation(false);
	blocked_calls(BY_FD);
	blocked_calls(BY_ALL);
	blocked_calls(BY_CLOSE);
	default_set(quick);
	if (seconds)
		ksft_print_msg("lifetime: default set, %lu runs, %lu failed, %.0f s\n",
			       runs, failed, now_s() - start);
	while (seconds && now_s() - start < seconds) {
		random_order(&seed);
		if (runs % 100 == 0)
			ksft_print_msg("lifetime: %lu runs, %lu failed, %.0f s\n", runs, failed,
				       now_s() - start);
	}
	if (seconds)
		ksft_set_plan(2 + 3 + runs);
	fig.calls = runs;
	fig.procs = 2;
	fig.threads = 2;
	fig.seconds = (unsigned long)(now_s() - start + 0.5);
	fig.violations = failed;
	figures_print("pcm-lifetime", &fig);
	ksft_finished();
}
