// SPDX-License-Identifier: GPL-2.0
/*
 * Every order of the four ends of a shared stream, for a client holding all
 * three mappings (data, status, control) of a restricted file:
 *
 *   M  the master closes its file
 *   C  the client closes its restricted file
 *   U  the client unmaps its three mappings
 *   D  the card is unbound through sysfs (driver unbind: disconnect, then
 *      snd_card_free, which waits for every file and mapping to go)
 *
 * 4! = 24 orders on each of Dummy and Loopback, run under KASAN (the VM's
 * kernel). Between the steps the survivors must behave as SPEC.md says:
 *  - after M: the stream is stopped; the client gets -EBADFD for everything
 *    but PERM_GET and status queries, poll reports POLLERR, its mappings
 *    stay valid memory, a new restricted open fails with -EBADFD;
 *  - after D: every file gets -ENODEV, the mappings stay readable;
 *  - after all four: the unbind completes (nothing holds the card), and
 *    the card, bound again, plays.
 *
 *   pcm-lifetime [--rounds N] [--seconds S]
 */
#include <getopt.h>
#include <poll.h>
#include "kselftest.h"
#include "pcm-attack.h"

enum { EV_MASTER_CLOSE, EV_CLIENT_CLOSE, EV_CLIENT_MUNMAP, EV_UNBIND, NEV };
static const char ev_letter[NEV] = { 'M', 'C', 'U', 'D' };

struct run {
	struct master m;
	int client;
	unsigned char *data, *status, *control;
	size_t data_len;
	bool master_closed, client_closed, unmapped, unbound;
	struct unbind_job unbind;
	char why[512];
	unsigned long ioctls;
};

#define FAIL(r, ...) do {						\
	size_t __l = strlen((r)->why);					\
	snprintf((r)->why + __l, sizeof((r)->why) - __l, " " __VA_ARGS__); \
} while (0)

static int client_ioctl(struct run *r, unsigned long cmd, void *arg)
{
	r->ioctls++;
	return xioctl(r->client, cmd, arg);
}

/* What the client may still do, given what has happened so far */
static void check_client(struct run *r, char after)
{
	struct snd_pcm_status st;
	unsigned int perm = 0;
	struct pollfd pfd;
	int err;

	if (r->client_closed)
		goto maps;
	memset(&st, 0, sizeof(st));
	if (r->unbound) {
		err = client_ioctl(r, SNDRV_PCM_IOCTL_PERM_GET, &perm);
		if (err != -ENODEV)
			FAIL(r, "after %c: PERM_GET on a disconnected card: %d;", after, err);
		err = client_ioctl(r, SNDRV_PCM_IOCTL_STATUS, &st);
		if (err != -ENODEV)
			FAIL(r, "after %c: STATUS on a disconnected card: %d;", after, err);
	} else if (r->master_closed) {
		err = client_ioctl(r, SNDRV_PCM_IOCTL_PERM_GET, &perm);
		if (err || perm != P_SHARED)
			FAIL(r, "after %c: PERM_GET %d/%#x;", after, err, perm);
		err = client_ioctl(r, SNDRV_PCM_IOCTL_STATUS, &st);
		if (err || st.state == SNDRV_PCM_STATE_RUNNING)
			FAIL(r, "after %c: STATUS %d, state %d;", after, err, st.state);
		err = client_ioctl(r, SNDRV_PCM_IOCTL_HWSYNC, NULL);
		if (err != -EBADFD)
			FAIL(r, "after %c: HWSYNC %d, not -EBADFD;", after, err);
		err = client_ioctl(r, SNDRV_PCM_IOCTL_PERM_RESTRICT, &(unsigned int){ 0 });
		if (err != -EBADFD)
			FAIL(r, "after %c: PERM_RESTRICT %d, not -EBADFD;", after, err);
		pfd = (struct pollfd){ .fd = r->client, .events = POLLIN | POLLOUT };
		if (poll(&pfd, 1, 0) != 1 || !(pfd.revents & POLLERR))
			FAIL(r, "after %c: poll %#x, not POLLERR;", after, pfd.revents);
		err = master_restricted_open(&r->m, O_RDWR | O_NONBLOCK);
		if (err >= 0) {
			close(err);
			FAIL(r, "after %c: a new restricted open succeeded;", after);
		} else if (err != -EBADFD) {
			FAIL(r, "after %c: a new restricted open: %d, not -EBADFD;", after, err);
		}
		if (!r->unmapped) {
			void *p = mmap(NULL, 4096, PROT_READ, MAP_SHARED, r->client,
				       SNDRV_PCM_MMAP_OFFSET_STATUS_NEW);

			if (p != MAP_FAILED) {
				munmap(p, 4096);
				FAIL(r, "after %c: a new mapping succeeded;", after);
			}
		}
	} else {
		err = client_ioctl(r, SNDRV_PCM_IOCTL_HWSYNC, NULL);
		if (err)
			FAIL(r, "after %c: HWSYNC %d;", after, err);
		err = client_ioctl(r, SNDRV_PCM_IOCTL_DROP, NULL);
		if (err != -EPERM)
			FAIL(r, "after %c: DROP %d, not -EPERM;", after, err);
	}
maps:
	if (r->unmapped)
		return;
	/* valid memory until unmapped, whatever else happened */
	if (attack_touch(r->data, r->data_len, true) ||
	    attack_touch(r->status, 4096, false) || attack_touch(r->control, 4096, false))
		FAIL(r, "after %c: a mapping faulted (signal %d);", after, attack_sig);
}

static void event(struct run *r, int ev)
{
	switch (ev) {
	case EV_MASTER_CLOSE:
		master_close(&r->m);
		r->master_closed = true;
		break;
	case EV_CLIENT_CLOSE:
		close(r->client);
		r->client_closed = true;
		break;
	case EV_CLIENT_MUNMAP:
		munmap(r->data, r->data_len);
		munmap(r->status, 4096);
		munmap(r->control, 4096);
		r->unmapped = true;
		break;
	case EV_UNBIND:
		if (card_unbind_async(&r->unbind, r->m.card_id)) {
			FAIL(r, "unbind thread: %s;", strerror(errno));
			break;
		}
		r->unbound = true;
		/* the card leaves the list at disconnect, before the wait for files */
		if (!pcm_wait_for(pcm_find_card(r->m.card_id) < 0 ||
				  __atomic_load_n(&r->unbind.done, __ATOMIC_ACQUIRE), 20000))
			FAIL(r, "the card was not disconnected;");
		if (!r->master_closed) {
			int err = xioctl(r->m.fd, SNDRV_PCM_IOCTL_HWSYNC, NULL);

			if (err != -ENODEV)
				FAIL(r, "master HWSYNC after disconnect: %d;", err);
		}
		break;
	}
}

static bool run_order(const char *card_id, const int *order, unsigned long *ioctls)
{
	struct run r;
	char name[8];
	int err;

	memset(&r, 0, sizeof(r));
	for (int i = 0; i < NEV; i++)
		name[i] = ev_letter[order[i]];
	name[NEV] = 0;

	err = card_bind(card_id);
	if (err) {
		ksft_print_msg("%s: card not bound: %s\n", card_id, strerror(-err));
		return false;
	}
	master_init(&r.m, card_id, 0, SNDRV_PCM_STREAM_PLAYBACK);
	err = master_open(&r.m, true);
	if (err) {
		ksft_print_msg("%s %s: master: %s\n", card_id, name, strerror(-err));
		return false;
	}
	r.client = master_restricted_open(&r.m, O_RDWR | O_NONBLOCK);
	if (r.client < 0) {
		ksft_print_msg("%s %s: client: %s\n", card_id, name, strerror(-r.client));
		master_close(&r.m);
		return false;
	}
	r.data_len = r.m.buffer_bytes;
	r.data = mmap(NULL, r.data_len, PROT_READ | PROT_WRITE, MAP_SHARED, r.client, 0);
	r.status = mmap(NULL, 4096, PROT_READ, MAP_SHARED, r.client,
			SNDRV_PCM_MMAP_OFFSET_STATUS_NEW);
	r.control = mmap(NULL, 4096, PROT_READ, MAP_SHARED, r.client,
			 SNDRV_PCM_MMAP_OFFSET_CONTROL_NEW);
	if (r.data == MAP_FAILED || r.status == MAP_FAILED || r.control == MAP_FAILED)
		ksft_exit_fail_msg("%s %s: mappings: %s\n", card_id, name, strerror(errno));
	check_client(&r, '-');
	for (int i = 0; i < NEV; i++) {
		event(&r, order[i]);
		check_client(&r, ev_letter[order[i]]);
	}
	/* nothing holds the card any more: the unbind completes */
	err = card_unbind_wait(&r.unbind, 30000);
	if (err)
		FAIL(&r, "the unbind did not complete: %s;", strerror(-err));
	else {
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
	*ioctls += r.ioctls;
	ksft_test_result(!r.why[0], "%s %s: %s\n", card_id, name, r.why[0] ? r.why : "as specified");
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

int main(int argc, char **argv)
{
	static const char *const cards[] = { "Dummy", "Loopback" };
	static const struct option opts[] = {
		{ "rounds", required_argument, NULL, 'r' },
		{ "seconds", required_argument, NULL, 's' },
		{ NULL, 0, NULL, 0 },
	};
	int rounds = 1, opt, round = 0;
	double seconds = 0, start;
	struct figures fig = { 0 };
	unsigned long runs = 0, failed = 0;

	while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (opt == 'r')
			rounds = atoi(optarg);
		else if (opt == 's')
			seconds = atof(optarg);
		else
			return 2;
	}
	attack_catch_faults();
	ksft_print_header();
	if (!seconds)
		ksft_set_plan(rounds * 2 * 24);
	ksft_print_msg("ABI %s: every order of master close (M), client close (C), client munmap (U), card unbind (D)\n",
		       PCM_ABI);
	start = now_s();
	do {
		for (size_t c = 0; c < 2; c++) {
			int order[NEV] = { 0, 1, 2, 3 };

			do {
				runs++;
				if (!run_order(cards[c], order, &fig.ioctls))
					failed++;
			} while (next_perm(order, NEV));
		}
		round++;
		if (seconds)
			ksft_print_msg("lifetime: round %d, %lu runs, %lu failed, %.0f s\n",
				       round, runs, failed, now_s() - start);
	} while (seconds ? now_s() - start < seconds : round < rounds);
	if (seconds)
		ksft_set_plan(runs);
	fig.calls = runs;
	fig.procs = 1;
	fig.threads = 2;
	fig.seconds = (unsigned long)(now_s() - start + 0.5);
	fig.violations = failed;
	figures_print("pcm-lifetime", &fig);
	ksft_finished();
}
