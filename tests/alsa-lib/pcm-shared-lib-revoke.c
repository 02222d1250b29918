// SPDX-License-Identifier: GPL-2.0
/*
 * The master stays in charge (docs/alsa-lib.md, and the kernel's
 * Documentation/sound/designs/pcm-restricted-sharing.rst), through
 * alsa-lib, in the VM: snd_pcm_shared_export() makes an anonymous file that
 * holds exactly the permissions asked for, and snd_pcm_shared_revoke()
 * takes it back, by naming it or all of them at once; so do freeing the
 * stream, setting it up anew and closing it. A revoked handle does not
 * crash its process, also when the revocation lands while it reads its
 * status page and its buffer: its calls return -ENODEV, its state is
 * DISCONNECTED, poll reports an error and its mapped buffer reads zeros.
 * This process is the master and plays the pattern on, undisturbed, through
 * all of it; the followers are processes of their own that get their file
 * over a UNIX socket.
 */
#include <poll.h>
#include "pcm-shared-lib.h"
#include "kselftest_harness.h"

#define MASTER		"hw:Loopback,0,6"
#define FOLLOWERS	3

/* what a follower found wrong, by the verdict it sends back */
static const char *const follower_failures[] = {
	[1] = "cannot open the fd it was sent",
	[2] = "no mapped buffer",
	[3] = "never revoked",
	[4] = "snd_pcm_avail_update() does not fail with -ENODEV",
	[5] = "snd_pcm_hwsync() does not fail with -ENODEV",
	[6] = "snd_pcm_delay() does not fail with -ENODEV",
	[7] = "snd_pcm_status() does not fail with -ENODEV",
	[8] = "snd_pcm_htimestamp() does not fail with -ENODEV",
	[9] = "no poll descriptors",
	[10] = "poll does not report an error",
	[11] = "snd_pcm_wait() does not fail with -ENODEV",
	[12] = "the mapped buffer does not read zeros",
	[13] = "snd_pcm_close() fails",
};

/*
 * A follower's handle on the fd it was sent: it says it is ready, and
 * reads its status page and (unless the handle may write the buffer, and
 * so has it mapped writable) its buffer on, until the handle is revoked;
 * then the handle must be gone as an unplugged one is. 0 when it is.
 */
static int follow_until_revoked(int sock, int fd)
{
	const snd_pcm_channel_area_t *areas;
	snd_pcm_uframes_t off, frames = BUFFER, avail, k;
	snd_pcm_sframes_t delay;
	snd_pcm_status_t *status;
	snd_htimestamp_t ts;
	struct pollfd pfd[4];
	unsigned short revents = 0;
	unsigned int perm = 0;
	volatile int sum = 0;
	int reads_buffer, n, i = 0;
	long long end;
	snd_pcm_t *pcm;
	char c = 'r';

	n = snd_pcm_open_shared_fd(&pcm, fd, 0);
	close(fd);
	if (n < 0)
		return 1;
	if (snd_pcm_mmap_begin(pcm, &areas, &off, &frames) < 0)
		return 2;
	reads_buffer = snd_pcm_perm_get(pcm, &perm) == 0 && !(perm & SND_PCM_PERM_RW);
	if (write(sock, &c, 1) != 1)
		return 3;
	end = now_ms() + WAIT_EXIT_MS;
	while (snd_pcm_state(pcm) != SND_PCM_STATE_DISCONNECTED) {
		if (now_ms() > end)
			return 3;
		snd_pcm_avail_update(pcm);
		snd_pcm_htimestamp(pcm, &avail, &ts);
		snd_pcm_delay(pcm, &delay);
		for (k = 0; reads_buffer && k < BUFFER; k += 97)
			sum += area_frame(areas, k)[0];
		/* leave the master some of the CPU */
		if (!(++i % 8))
			sleep_ms(1);
	}
	if (snd_pcm_avail_update(pcm) != -ENODEV)
		return 4;
	if (snd_pcm_hwsync(pcm) != -ENODEV)
		return 5;
	if (snd_pcm_delay(pcm, &delay) != -ENODEV)
		return 6;
	snd_pcm_status_alloca(&status);
	if (snd_pcm_status(pcm, status) != -ENODEV)
		return 7;
	if (snd_pcm_htimestamp(pcm, &avail, &ts) != -ENODEV)
		return 8;
	n = snd_pcm_poll_descriptors_count(pcm);
	if (n < 1 || n > 4 || snd_pcm_poll_descriptors(pcm, pfd, n) != n)
		return 9;
	if (poll(pfd, n, 1000) <= 0 ||
	    snd_pcm_poll_descriptors_revents(pcm, pfd, n, &revents) < 0 ||
	    !(revents & POLLERR))
		return 10;
	if (snd_pcm_wait(pcm, 1000) != -ENODEV)
		return 11;
	for (k = 0; reads_buffer && k < BUFFER; k++)
		if (area_frame(areas, k)[0] || area_frame(areas, k)[1])
			return 12;
	if (snd_pcm_close(pcm) < 0)
		return 13;
	return 0;
}

/*
 * A follower: a process of its own, started before the master opens its
 * stream, so that it holds no mapping of the master's. For each fd it is
 * sent, it follows until revoked and sends its verdict back.
 */
static void follower(int sock)
{
	char verdict;
	int fd;

	while ((fd = recv_fd(sock)) >= 0) {
		verdict = follow_until_revoked(sock, fd);
		if (write(sock, &verdict, 1) != 1)
			break;
	}
	_exit(0);
}

/* this process as the master, and its followers */
struct followed {
	snd_pcm_t *pcm;		/* the master's handle, NULL once closed */
	int playing;		/* the master plays on while it waits */
	unsigned long next;
	pid_t child[FOLLOWERS];
	int sock[FOLLOWERS];
	int fd[FOLLOWERS];	/* the master's copies of the exported fds */
};

static void followed_setup(struct __test_metadata *_metadata, struct followed *self)
{
	int i, err, sv[2];

	for (i = 0; i < FOLLOWERS; i++)
		self->sock[i] = self->fd[i] = -1;
	for (i = 0; i < FOLLOWERS; i++) {
		ASSERT_EQ(0, socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv));
		self->child[i] = fork();
		ASSERT_LE(0, self->child[i]);
		if (self->child[i] == 0) {
			close(sv[0]);
			follower(sv[1]);
		}
		close(sv[1]);
		self->sock[i] = sv[0];
	}
	err = pattern_master_open(&self->pcm, MASTER);
	ASSERT_EQ(0, err) TH_LOG("%s: %s", MASTER, snd_strerror(err));
	ASSERT_EQ(0, pattern_master_start(self->pcm, &self->next));
	self->playing = 1;
}

static void followed_teardown(struct followed *self)
{
	int i;

	for (i = 0; i < FOLLOWERS; i++) {
		stop_process(&self->child[i]);
		if (self->sock[i] >= 0)
			close(self->sock[i]);
		if (self->fd[i] >= 0)
			close(self->fd[i]);
	}
	if (self->pcm)
		snd_pcm_close(self->pcm);
}

FIXTURE(revoke) {
	struct followed f;
	int fds;	/* open in this process, the master's included */
};

FIXTURE_SETUP(revoke)
{
	followed_setup(_metadata, &self->f);
	self->fds = count_fds();
}

FIXTURE_TEARDOWN(revoke)
{
	followed_teardown(&self->f);
}

/* play on until follower i has said something: what it said */
static int hear_follower(struct __test_metadata *_metadata, struct followed *self, int i,
			 int ms)
{
	long long end = now_ms() + ms;
	struct pollfd pfd = { self->sock[i], POLLIN, 0 };
	char c;

	for (;;) {
		if (self->playing)
			EXPECT_EQ(0, pattern_master_play(self->pcm, &self->next));
		if (poll(&pfd, 1, 20) > 0)
			break;
		if (now_ms() > end)
			return -ETIMEDOUT;
	}
	return read(self->sock[i], &c, 1) == 1 ? c : -EIO;
}

/* export an fd with perm to follower i, and play on until it is ready */
static void start_follower(struct __test_metadata *_metadata, struct followed *self,
			   int i, unsigned int perm)
{
	int said;

	self->fd[i] = snd_pcm_shared_export(self->pcm, perm);
	ASSERT_LE(0, self->fd[i]) TH_LOG("snd_pcm_shared_export: %s", snd_strerror(self->fd[i]));
	ASSERT_EQ(0, send_fd(self->sock[i], self->fd[i]));
	said = hear_follower(_metadata, self, i, WAIT_START_MS);
	ASSERT_EQ('r', said) TH_LOG("follower %d: %s", i, said >= 0 &&
				    said < (int)(sizeof(follower_failures) / sizeof(char *)) ?
				    follower_failures[said] : "is not ready");
}

/* play on until follower i has seen its handle go as it must */
static void wait_follower(struct __test_metadata *_metadata, struct followed *self, int i)
{
	int said = hear_follower(_metadata, self, i, WAIT_EXIT_MS);

	EXPECT_EQ(0, said) TH_LOG("follower %d: %s", i, said > 0 &&
				  said < (int)(sizeof(follower_failures) / sizeof(char *)) ?
				  follower_failures[said] : "does not say");
	if (self->fd[i] >= 0)
		close(self->fd[i]);
	self->fd[i] = -1;
}

/* the master played on, undisturbed */
static void assert_master_plays(struct __test_metadata *_metadata, struct followed *self)
{
	EXPECT_EQ(SND_PCM_STATE_RUNNING, snd_pcm_state(self->pcm));
	EXPECT_EQ(0, pattern_master_play(self->pcm, &self->next));
}

/*
 * An anonymous file, holding exactly what was asked, open for reading
 * only unless it may transfer, close-on-exec, not to be reopened
 */
TEST_F_TIMEOUT(revoke, export_makes_an_anonymous_file, 120)
{
	struct followed *f = &self->f;
	static const unsigned int perms[] = {
		0, SND_PCM_PERM_MMAP, SND_PCM_PERM_SYNC | SND_PCM_PERM_STATUS,
		SND_PCM_PERM_SHARED, SND_PCM_PERM_SHARED | SND_PCM_PERM_RW,
	};
	char path[64], target[64];
	unsigned int i, perm;
	snd_pcm_t *pcm;
	ssize_t len;
	int fd, flags, err;

	for (i = 0; i < sizeof(perms) / sizeof(perms[0]); i++) {
		fd = snd_pcm_shared_export(f->pcm, perms[i]);
		ASSERT_LE(0, fd) TH_LOG("0x%x: %s", perms[i], snd_strerror(fd));
		snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
		len = readlink(path, target, sizeof(target) - 1);
		ASSERT_LT(0, len);
		target[len] = 0;
		EXPECT_STREQ("anon_inode:[snd_pcm_shared]", target);
		EXPECT_TRUE(fcntl(fd, F_GETFD) & FD_CLOEXEC);
		flags = fcntl(fd, F_GETFL);
		EXPECT_EQ(perms[i] & SND_PCM_PERM_RW ? O_RDWR : O_RDONLY, flags & O_ACCMODE)
			TH_LOG("0x%x: open flags 0x%x", perms[i], flags);
		/* no way up through the proc file */
		EXPECT_GT(0, open(path, O_RDWR | O_CLOEXEC));
		EXPECT_GT(0, open(path, O_RDONLY | O_APPEND | O_CLOEXEC));
		/* a handle of it where it may learn the setup */
		err = snd_pcm_open_shared_fd(&pcm, fd, 0);
		if ((perms[i] & (SND_PCM_PERM_SYNC | SND_PCM_PERM_STATUS)) !=
		    (SND_PCM_PERM_SYNC | SND_PCM_PERM_STATUS)) {
			EXPECT_EQ(-EPERM, err);
		} else {
			ASSERT_EQ(0, err) TH_LOG("0x%x: %s", perms[i], snd_strerror(err));
			perm = ~0u;
			EXPECT_EQ(0, snd_pcm_perm_get(pcm, &perm));
			EXPECT_EQ(perms[i], perm);
			EXPECT_EQ(SND_PCM_STATE_RUNNING, snd_pcm_state(pcm));
			EXPECT_EQ(0, snd_pcm_close(pcm));
		}
		close(fd);
		assert_master_plays(_metadata, f);
	}
	EXPECT_EQ(self->fds, count_fds());
}

/* a hundred settle, a hundred more must not grow the heap */
#define FAILS	200

/* what cannot be exported or revoked: refused, and nothing left behind */
TEST_F_TIMEOUT(revoke, refused_cleanly, 120)
{
	struct followed *f = &self->f;
	snd_pcm_t *shared, *unset, *other;
	struct pollfd pfd[4];
	int null_fd, closed_fd, other_fd;

	/* stopped, and still set up: the calls take longer than its buffer */
	ASSERT_EQ(0, snd_pcm_drop(f->pcm));
	f->playing = 0;
	ASSERT_EQ(0, snd_pcm_open_shared(&shared, MASTER, SND_PCM_STREAM_PLAYBACK, 0));
	ASSERT_EQ(0, snd_pcm_open(&unset, "hw:Loopback,0,7", SND_PCM_STREAM_PLAYBACK, 0));
	ASSERT_EQ(0, pattern_master_open(&other, "hw:Dummy,0,0"));
	other_fd = snd_pcm_shared_export(other, SND_PCM_PERM_SHARED);
	ASSERT_LE(0, other_fd);
	null_fd = open("/dev/null", O_RDWR | O_CLOEXEC);
	closed_fd = open("/dev/null", O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, null_fd);
	ASSERT_LE(0, closed_fd);
	close(closed_fd);
	/* the master's own file, which holds control */
	ASSERT_LE(1, snd_pcm_poll_descriptors(f->pcm, pfd, 4));
	self->fds = count_fds();

	/* control is never handed on; nor anything that is not a permission */
	ASSERT_FAILS_CLEANLY(FAILS, -EPERM, snd_pcm_shared_export(f->pcm, SND_PCM_PERM_ALL));
	ASSERT_FAILS_CLEANLY(FAILS, -EPERM, snd_pcm_shared_export(f->pcm,
								  SND_PCM_PERM_CONTROL));
	ASSERT_FAILS_CLEANLY(FAILS, -EINVAL, snd_pcm_shared_export(f->pcm, 0x40));
	/* a handle that does not control the stream does neither */
	ASSERT_FAILS_CLEANLY(FAILS, -EPERM, snd_pcm_shared_export(shared, SND_PCM_PERM_SHARED));
	ASSERT_FAILS_CLEANLY(FAILS, -EPERM, snd_pcm_shared_revoke(shared, -1));
	/* a stream that is not set up has nothing to export */
	ASSERT_FAILS_CLEANLY(FAILS, -EBADFD, snd_pcm_shared_export(unset, SND_PCM_PERM_SHARED));
	/* only a restricted file of this substream is revoked by it */
	ASSERT_FAILS_CLEANLY(FAILS, -EBADF, snd_pcm_shared_revoke(f->pcm, closed_fd));
	ASSERT_FAILS_CLEANLY(FAILS, -EINVAL, snd_pcm_shared_revoke(f->pcm, null_fd));
	ASSERT_FAILS_CLEANLY(FAILS, -EINVAL, snd_pcm_shared_revoke(f->pcm, pfd[0].fd));
	ASSERT_FAILS_CLEANLY(FAILS, -EINVAL, snd_pcm_shared_revoke(f->pcm, other_fd));
	EXPECT_EQ(SND_PCM_STATE_SETUP, snd_pcm_state(shared));

	close(null_fd);
	close(other_fd);
	snd_pcm_close(other);
	snd_pcm_close(unset);
	snd_pcm_close(shared);
}

/*
 * Revoked by name while the follower reads its status page and buffer as
 * fast as it can: again and again, so that the revocation lands between
 * two reads. Naming it again changes nothing.
 */
TEST_F_TIMEOUT(revoke, by_fd_while_reading, 300)
{
	struct followed *f = &self->f;
	int round;

	for (round = 0; round < 12; round++) {
		start_follower(_metadata, f, 0, SND_PCM_PERM_SHARED);
		/* a few milliseconds apart from round to round */
		sleep_ms(round * 3);
		ASSERT_EQ(0, snd_pcm_shared_revoke(f->pcm, f->fd[0]));
		ASSERT_EQ(0, snd_pcm_shared_revoke(f->pcm, f->fd[0]));
		wait_follower(_metadata, f, 0);
		assert_master_plays(_metadata, f);
	}
	EXPECT_EQ(self->fds, count_fds());
}

/*
 * Revoked all at once: exported ones, one of them with RW (whose handle
 * may not touch its writable buffer once revoked, but whose library does
 * not), and a restricted open by name in this process
 */
TEST_F_TIMEOUT(revoke, all, 120)
{
	struct followed *f = &self->f;
	snd_pcm_t *by_name;
	int i;

	ASSERT_EQ(0, snd_pcm_open_shared(&by_name, MASTER, SND_PCM_STREAM_PLAYBACK, 0));
	start_follower(_metadata, f, 0, SND_PCM_PERM_SHARED);
	start_follower(_metadata, f, 1, SND_PCM_PERM_SHARED);
	start_follower(_metadata, f, 2, SND_PCM_PERM_SHARED | SND_PCM_PERM_RW);
	ASSERT_EQ(0, snd_pcm_shared_revoke(f->pcm, -1));
	for (i = 0; i < FOLLOWERS; i++)
		wait_follower(_metadata, f, i);
	EXPECT_EQ(SND_PCM_STATE_DISCONNECTED, snd_pcm_state(by_name));
	EXPECT_EQ(-ENODEV, snd_pcm_avail_update(by_name));
	EXPECT_EQ(0, snd_pcm_close(by_name));
	assert_master_plays(_metadata, f);
	/* what is revoked stays so: new exports are not */
	start_follower(_metadata, f, 0, SND_PCM_PERM_SHARED);
	ASSERT_EQ(0, snd_pcm_shared_revoke(f->pcm, -4));
	wait_follower(_metadata, f, 0);
}

/*
 * The master frees its stream, sets it up anew, or closes it, with a
 * follower that maps the buffer: it is not held back, and the follower
 * is revoked.
 */
FIXTURE(master_goes) {
	struct followed f;
};

FIXTURE_VARIANT(master_goes) {
	int how;
};

enum { BY_HW_FREE, BY_HW_PARAMS, BY_CLOSE };

FIXTURE_VARIANT_ADD(master_goes, hw_free) {
	.how = BY_HW_FREE,
};
FIXTURE_VARIANT_ADD(master_goes, hw_params) {
	.how = BY_HW_PARAMS,
};
FIXTURE_VARIANT_ADD(master_goes, close) {
	.how = BY_CLOSE,
};

FIXTURE_SETUP(master_goes)
{
	followed_setup(_metadata, &self->f);
}

FIXTURE_TEARDOWN(master_goes)
{
	followed_teardown(&self->f);
}

TEST_F_TIMEOUT(master_goes, follower_revoked, 120)
{
	struct followed *f = &self->f;
	snd_pcm_t *again;

	start_follower(_metadata, f, 0, SND_PCM_PERM_SHARED);
	f->playing = 0;
	switch (variant->how) {
	case BY_HW_FREE:
		ASSERT_EQ(0, snd_pcm_drop(f->pcm));
		ASSERT_EQ(0, snd_pcm_hw_free(f->pcm));
		break;
	case BY_HW_PARAMS:
		ASSERT_EQ(0, snd_pcm_drop(f->pcm));
		ASSERT_EQ(0, pattern_master_setup(f->pcm));
		break;
	case BY_CLOSE:
		ASSERT_EQ(0, snd_pcm_close(f->pcm));
		f->pcm = NULL;
		/* the device is free at once */
		ASSERT_EQ(0, snd_pcm_open(&again, MASTER, SND_PCM_STREAM_PLAYBACK,
					  SND_PCM_NONBLOCK));
		EXPECT_EQ(0, snd_pcm_close(again));
		break;
	}
	wait_follower(_metadata, f, 0);
	if (!f->pcm)
		return;
	/* and the master sets the stream up again and plays on */
	ASSERT_EQ(0, snd_pcm_close(f->pcm));
	ASSERT_EQ(0, pattern_master_open(&f->pcm, MASTER));
	f->next = 0;
	ASSERT_EQ(0, pattern_master_start(f->pcm, &f->next));
	f->playing = 1;
	assert_master_plays(_metadata, f);
}

TEST_HARNESS_MAIN
