// SPDX-License-Identifier: GPL-2.0
/*
 * Regression tests of the fixes at the head of the kernel series, each
 * of which fails on a kernel without its fix:
 *
 *  - SIGIO: another file of the substream turning FASYNC off, or closing
 *    after an O_ASYNC open, must not stop the owner's signals;
 *  - procfs: reading the status file must not reset avail_max;
 *  - OSS: a native O_APPEND open must not attach to a substream that
 *    /dev/dsp holds;
 *  - the data mmap waits for HW_PARAMS, interruptibly, instead of making
 *    it fail with -EBUSY;
 *  - the DMA sync of DELAY and friends against HW_FREE (a use-after-free
 *    that KASAN reports, on a buffer that needs explicit syncs);
 *  - PERM_RESTRICT publishes the new mask before it stops the stream;
 *  - SW_PARAMS_GET never returns a torn set;
 *  - suspend (snd_pcm_suspend_all() takes open_mutex) with restricted and
 *    exported files in every state, under lockdep.
 *
 * The last four and the mmap test use snd-testpcm (tests/kernel/kmod), loaded
 * from the path in $TESTPCM_MODULE (default /root/snd-testpcm.ko).
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <sound/asound.h>

#include "kselftest_harness.h"
#include "../../include/sound/asound-shared.h"
#include "pcm-util.h"

#define PERIOD		1024
#define PERIODS		4
#define CHANNELS	2
#define BUFFER_BYTES	(PERIOD * PERIODS * CHANNELS * 2)

/* the test driver, loaded once */
static int testpcm_card(void)
{
	const char *path = getenv("TESTPCM_MODULE") ?: "/root/snd-testpcm.ko";
	int card = pcm_find_card("TestPCM"), fd, tries;

	if (card >= 0)
		return card;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	if (syscall(SYS_finit_module, fd, "", 0) && errno != EEXIST) {
		close(fd);
		return -1;
	}
	close(fd);
	for (tries = 0; tries < 1000 && card < 0; tries++) {
		card = pcm_find_card("TestPCM");
		if (card < 0)
			usleep(1000);
	}
	return card;
}

/* device 0's playback stream, non-blocking */
static int playback_open(int card, int flags)
{
	return pcm_open(card, 0, SNDRV_PCM_STREAM_PLAYBACK, flags | O_NONBLOCK);
}

/* open with O_APPEND the substream another file has: name its subdevice */
static int playback_attach(int card, int subdevice, int flags)
{
	return pcm_open_sub(card, 0, SNDRV_PCM_STREAM_PLAYBACK, subdevice,
			    flags | O_APPEND | O_NONBLOCK);
}

static int write_param(const char *name, const char *val)
{
	char path[128];
	int fd, ret;

	snprintf(path, sizeof(path), "/sys/module/snd_testpcm/parameters/%s", name);
	fd = open(path, O_WRONLY);
	if (fd < 0)
		return -errno;
	ret = write(fd, val, strlen(val)) < 0 ? -errno : 0;
	close(fd);
	return ret;
}

static int held(void)
{
	char buf[16] = "";
	int fd = open("/sys/module/snd_testpcm/parameters/held", O_RDONLY);

	if (fd < 0)
		return -1;
	if (read(fd, buf, sizeof(buf) - 1) < 0)
		buf[0] = 0;
	close(fd);
	return atoi(buf);
}

/* wait (bounded) until n driver callbacks are held */
static bool wait_held(int n)
{
	int tries;

	for (tries = 0; tries < 20000; tries++) {
		if (held() == n)
			return true;
		usleep(1000);
	}
	return false;
}

/* S16_LE stereo 48 kHz, mmap access, 4 periods of 1024 frames */
static int hw_params(int fd)
{
	struct snd_pcm_hw_params hw;

	hw_params_any(&hw);
	hw_params_set_mask(&hw, SNDRV_PCM_HW_PARAM_ACCESS, SNDRV_PCM_ACCESS_MMAP_INTERLEAVED);
	hw_params_set_mask(&hw, SNDRV_PCM_HW_PARAM_FORMAT, SNDRV_PCM_FORMAT_S16_LE);
	hw_params_set_int(&hw, SNDRV_PCM_HW_PARAM_CHANNELS, CHANNELS);
	hw_params_set_int(&hw, SNDRV_PCM_HW_PARAM_RATE, 48000);
	hw_params_set_int(&hw, SNDRV_PCM_HW_PARAM_PERIOD_SIZE, PERIOD);
	hw_params_set_int(&hw, SNDRV_PCM_HW_PARAM_PERIODS, PERIODS);
	return xioctl(fd, SNDRV_PCM_IOCTL_HW_PARAMS, &hw);
}

/*
 * sw params whose every field differs from HW_PARAMS' defaults; the
 * boundary, which only depends on the buffer size, is learned with a first
 * SW_PARAMS unless sw->boundary is given
 */
static int sw_params_custom(int fd, struct snd_pcm_sw_params *sw)
{
	snd_pcm_uframes_t boundary = sw->boundary;

	if (!boundary) {
		memset(sw, 0, sizeof(*sw));
		sw->proto = SNDRV_PCM_VERSION;
		sw->period_step = 1;
		sw->avail_min = PERIOD;
		if (xioctl(fd, SNDRV_PCM_IOCTL_SW_PARAMS, sw))
			return -errno;
		boundary = sw->boundary;
	}
	memset(sw, 0, sizeof(*sw));
	sw->proto = SNDRV_PCM_VERSION;
	sw->tstamp_mode = SNDRV_PCM_TSTAMP_ENABLE;
	sw->period_step = 1;
	sw->avail_min = 2 * PERIOD;
	sw->start_threshold = boundary;
	sw->stop_threshold = boundary;
	sw->silence_threshold = PERIOD;
	sw->silence_size = PERIOD;
	sw->boundary = boundary;
	return xioctl(fd, SNDRV_PCM_IOCTL_SW_PARAMS, sw);
}

/* a stream that runs on, and only stops when told to */
static int setup_running(int fd)
{
	struct snd_pcm_sw_params sw = { 0 };
	int err;

	err = hw_params(fd);
	if (!err)
		err = sw_params_custom(fd, &sw);
	if (!err)
		err = xioctl(fd, SNDRV_PCM_IOCTL_PREPARE, NULL);
	if (!err)
		err = xioctl(fd, SNDRV_PCM_IOCTL_START, NULL);
	return err;
}

static int state_of(int fd)
{
	struct snd_pcm_status st;

	memset(&st, 0, sizeof(st));
	return xioctl(fd, SNDRV_PCM_IOCTL_STATUS, &st) ?: st.state;
}

static int sigio_count;

static void on_sigio(int sig)
{
	__atomic_fetch_add(&sigio_count, 1, __ATOMIC_RELAXED);
}

/* wait (bounded) for another SIGIO: false if none came */
static bool sigio_arrives(void)
{
	int start = __atomic_load_n(&sigio_count, __ATOMIC_RELAXED), i;

	for (i = 0; i < 5000; i++) {
		if (__atomic_load_n(&sigio_count, __ATOMIC_RELAXED) != start)
			return true;
		usleep(1000);
	}
	return false;
}

/* an owner of a running snd-dummy playback stream that wants SIGIO */
FIXTURE(sigio) {
	int card;
	int master;
};

FIXTURE_SETUP(sigio)
{
	struct sigaction sa = { .sa_handler = on_sigio };

	self->card = pcm_find_card("Dummy");
	ASSERT_LE(0, self->card);
	self->master = playback_open(self->card, O_RDWR);
	ASSERT_LE(0, self->master);
	sigaction(SIGIO, &sa, NULL);
	ASSERT_EQ(0, fcntl(self->master, F_SETOWN, getpid()));
	ASSERT_EQ(0, fcntl(self->master, F_SETFL,
			   fcntl(self->master, F_GETFL) | O_ASYNC));
	ASSERT_EQ(0, setup_running(self->master));
	ASSERT_TRUE(sigio_arrives());
}

FIXTURE_TEARDOWN(sigio)
{
	close(self->master);
	signal(SIGIO, SIG_DFL);
}

/* closing a second file opened with O_ASYNC turns FASYNC off for it only */
TEST_F(sigio, close_of_another_file)
{
	int fd;

	fd = playback_attach(self->card, pcm_subdevice(self->master),
			     O_RDWR | O_ASYNC);
	ASSERT_LE(0, fd);
	close(fd);
	EXPECT_TRUE(sigio_arrives());
}

TEST_F(sigio, another_file_turning_it_off)
{
	int fd, flags;

	fd = playback_attach(self->card, pcm_subdevice(self->master), O_RDWR);
	ASSERT_LE(0, fd);
	flags = fcntl(fd, F_GETFL);
	ASSERT_EQ(0, fcntl(fd, F_SETOWN, getpid()));
	ASSERT_EQ(0, fcntl(fd, F_SETFL, flags | O_ASYNC));
	ASSERT_EQ(0, fcntl(fd, F_SETFL, flags & ~O_ASYNC));
	EXPECT_TRUE(sigio_arrives());
	close(fd);
	EXPECT_TRUE(sigio_arrives());
}

/*
 * Any user may read the procfs status file; it must not reset avail_max,
 * which the owner reads to see how close it came to an xrun. The stream
 * runs empty for a while, so avail_max grows, and is stopped before the
 * file is read, so that nothing updates avail_max meanwhile.
 */
TEST(procfs_status_keeps_avail_max)
{
	int card = pcm_find_card("Dummy"), master, fd, tries;
	struct snd_pcm_status st;
	char path[96], buf[2048];

	ASSERT_LE(0, card);
	master = playback_open(card, O_RDWR);
	ASSERT_LE(0, master);
	ASSERT_EQ(0, setup_running(master));
	for (tries = 0; tries < 5000; tries++) {
		struct snd_pcm_sync_ptr sp = {
			.flags = SNDRV_PCM_SYNC_PTR_HWSYNC | SNDRV_PCM_SYNC_PTR_APPL |
				 SNDRV_PCM_SYNC_PTR_AVAIL_MIN,
		};

		ASSERT_EQ(0, xioctl(master, SNDRV_PCM_IOCTL_SYNC_PTR, &sp));
		if (sp.s.status.hw_ptr >= PERIOD)
			break;
		usleep(1000);
	}
	ASSERT_EQ(0, xioctl(master, SNDRV_PCM_IOCTL_DROP, NULL));
	snprintf(path, sizeof(path), "/proc/asound/card%d/pcm0p/sub0/status", card);
	fd = open(path, O_RDONLY);
	ASSERT_LE(0, fd);
	ASSERT_LT(0, read(fd, buf, sizeof(buf) - 1));
	close(fd);
	memset(&st, 0, sizeof(st));
	ASSERT_EQ(0, xioctl(master, SNDRV_PCM_IOCTL_STATUS, &st));
	EXPECT_LE((snd_pcm_uframes_t)PERIOD, st.avail_max) TH_LOG("avail_max %lu after the procfs read",
					       (unsigned long)st.avail_max);
	close(master);
}

/* OSS sets up and reallocates the buffer on its own: no file may join it */
TEST(oss_stream_is_not_shared)
{
	int card = pcm_find_card("Dummy"), dsp, fd;

	ASSERT_EQ(0, card) TH_LOG("/dev/dsp is card 0, which must be snd-dummy");
	dsp = open("/dev/dsp", O_WRONLY | O_NONBLOCK);
	ASSERT_LE(0, dsp) TH_LOG("/dev/dsp: %s", strerror(errno));
	/* OSS took the first free substream: 0 */
	fd = playback_attach(card, 0, O_RDWR);
	EXPECT_EQ(-1, fd);
	EXPECT_EQ(EBUSY, errno);
	if (fd >= 0)
		close(fd);
	fd = playback_attach(card, 0, O_RDONLY | O_EXCL);
	EXPECT_EQ(-1, fd);
	if (fd >= 0)
		close(fd);
	close(dsp);
}

FIXTURE(testpcm) {
	int card;
};

FIXTURE_SETUP(testpcm)
{
	self->card = testpcm_card();
	ASSERT_LE(0, self->card) TH_LOG("snd-testpcm is needed (tests/kernel/kmod)");
	ASSERT_EQ(0, write_param("hold", "N"));
	ASSERT_EQ(0, write_param("hold_stop", "N"));
}

FIXTURE_TEARDOWN(testpcm)
{
	write_param("hold", "N");
	write_param("hold_stop", "N");
}

static void on_sigusr1(int sig)
{
}

/*
 * mmap() of the data buffer waits while another file's HW_PARAMS is in a
 * slow driver callback, rather than fail with -EBUSY; a signal ends the
 * wait. The child maps while the parent's HW_PARAMS is held in the driver;
 * it exits 0 only if its mmap() returned EINTR.
 */
TEST_F(testpcm, mmap_wait_is_interruptible)
{
	int master, status, tries;
	pid_t pid;

	master = playback_open(self->card, O_RDWR);
	ASSERT_LE(0, master);
	ASSERT_EQ(0, hw_params(master));
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		struct sigaction sa = { .sa_handler = on_sigusr1 };
		void *map;

		/* no SA_RESTART: the mmap() must come back */
		sigaction(SIGUSR1, &sa, NULL);
		if (!wait_held(1))
			_exit(3);
		map = mmap(NULL, BUFFER_BYTES, PROT_READ, MAP_SHARED, master, 0);
		_exit(map == MAP_FAILED && errno == EINTR ? 0 :
		      map == MAP_FAILED && errno == EBUSY ? 2 : 1);
	}
	ASSERT_EQ(0, write_param("hold", "Y"));
	/* a second setup, held in the driver with buffer_mutex */
	if (!fork()) {
		_exit(hw_params(master) ? 1 : 0);
	}
	ASSERT_TRUE(wait_held(1));
	/* wait for the child to sleep in mmap(), then signal it */
	for (tries = 0; tries < 2000; tries++) {
		char path[64], buf[256] = "";
		FILE *f;

		snprintf(path, sizeof(path), "/proc/%d/syscall", pid);
		f = fopen(path, "r");
		if (f) {
			if (!fgets(buf, sizeof(buf), f))
				buf[0] = 0;
			fclose(f);
		}
		if (atoi(buf) == SYS_mmap || waitpid(pid, &status, WNOHANG) == pid)
			break;
		usleep(1000);
	}
	kill(pid, SIGUSR1);
	/* it must come back while HW_PARAMS is still held */
	for (tries = 0; tries < 10000; tries++) {
		if (waitpid(pid, &status, WNOHANG) == pid)
			break;
		usleep(1000);
	}
	EXPECT_EQ(1, held());
	write_param("hold", "N");
	if (tries == 10000)
		ASSERT_EQ(pid, waitpid(pid, &status, 0));
	while (wait(NULL) > 0)
		;
	EXPECT_TRUE(WIFEXITED(status));
	EXPECT_EQ(0, WEXITSTATUS(status))
		TH_LOG("%s", WEXITSTATUS(status) == 2 ? "mmap failed with EBUSY" :
			     WEXITSTATUS(status) == 1 ? "mmap did not end with EINTR" :
			     "the child did not see HW_PARAMS held");
	close(master);
}

struct race {
	int fd;
	int stop;
	long rounds;
};

static void *delay_thread(void *arg)
{
	struct race *r = arg;
	snd_pcm_sframes_t delay;

	while (!__atomic_load_n(&r->stop, __ATOMIC_RELAXED)) {
		ioctl(r->fd, SNDRV_PCM_IOCTL_DELAY, &delay);
		ioctl(r->fd, SNDRV_PCM_IOCTL_HWSYNC);
		r->rounds++;
	}
	return NULL;
}

/*
 * DELAY and HWSYNC of one file sync a buffer that needs explicit syncs
 * while the owner frees and allocates it with HW_FREE and HW_PARAMS:
 * without the fix KASAN reports a use-after-free of the snd_dma_buffer.
 * The buffer is allocated at each HW_PARAMS (no preallocation), so that
 * the descriptor the sync reads is freed by each HW_FREE.
 */
TEST_F_TIMEOUT(testpcm, dma_sync_against_hw_free, 300)
{
	struct race r[2];
	pthread_t threads[2];
	int master, i, rounds = 1000;

	master = playback_open(self->card, O_RDWR);
	ASSERT_LE(0, master);
	ASSERT_EQ(0, hw_params(master));
	ASSERT_EQ(0, xioctl(master, SNDRV_PCM_IOCTL_PREPARE, NULL));
	for (i = 0; i < 2; i++) {
		r[i] = (struct race){ .fd = playback_open(self->card, O_RDWR | O_APPEND) };
		ASSERT_LE(0, r[i].fd);
		pthread_create(&threads[i], NULL, delay_thread, &r[i]);
	}
	for (i = 0; i < rounds; i++) {
		ASSERT_EQ(0, xioctl(master, SNDRV_PCM_IOCTL_HW_FREE, NULL));
		ASSERT_EQ(0, hw_params(master));
		ASSERT_EQ(0, xioctl(master, SNDRV_PCM_IOCTL_PREPARE, NULL));
	}
	for (i = 0; i < 2; i++) {
		__atomic_store_n(&r[i].stop, 1, __ATOMIC_RELAXED);
		pthread_join(threads[i], NULL);
		EXPECT_LT(0, r[i].rounds);
		close(r[i].fd);
	}
	close(master);
}

/*
 * An attached file that was the last to hold CONTROL gives it up while
 * another thread uses the same file. The stream is stopped in between (the
 * driver's stop trigger is held): a PREPARE that the other thread issues
 * then must already be refused, since the new mask must be in effect
 * before anything else happens.
 */
TEST_F(testpcm, perm_restrict_publishes_first)
{
	int owner, fd, status;
	unsigned int perm = SNDRV_PCM_PERM_SHARED;
	pid_t pid;

	owner = playback_open(self->card, O_RDWR);
	ASSERT_LE(0, owner);
	ASSERT_EQ(0, setup_running(owner));
	fd = playback_open(self->card, O_RDWR | O_APPEND);
	ASSERT_LE(0, fd);
	close(owner);
	ASSERT_EQ(SNDRV_PCM_STATE_RUNNING, state_of(fd));
	ASSERT_EQ(0, write_param("hold_stop", "Y"));
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid)
		_exit(xioctl(fd, SNDRV_PCM_IOCTL_PERM_RESTRICT, &perm) ? 1 : 0);
	ASSERT_TRUE(wait_held(1)) TH_LOG("the stop trigger was not reached");
	/* PERM_RESTRICT is inside the stop: the mask must be the new one */
	EXPECT_NE(0, xioctl(fd, SNDRV_PCM_IOCTL_PREPARE, NULL));
	EXPECT_NE(0, xioctl(fd, SNDRV_PCM_IOCTL_START, NULL));
	ASSERT_EQ(0, write_param("hold_stop", "N"));
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	/* revoked with the other files without CONTROL */
	EXPECT_EQ(-ENODEV, xioctl(fd, SNDRV_PCM_IOCTL_PERM_GET, &perm));
	close(fd);
}

struct torn {
	int fd;
	int stop;
	long reads, torn;
	struct snd_pcm_sw_params custom;
};

static void *sw_get_thread(void *arg)
{
	struct torn *t = arg;
	struct snd_pcm_sw_params sw;
	bool is_custom, is_default;

	while (!__atomic_load_n(&t->stop, __ATOMIC_RELAXED)) {
		if (ioctl(t->fd, SNDRV_PCM_IOCTL_SW_PARAMS_GET, &sw))
			continue;
		t->reads++;
		is_custom = sw.avail_min == t->custom.avail_min &&
			    sw.start_threshold == t->custom.start_threshold &&
			    sw.stop_threshold == t->custom.stop_threshold &&
			    sw.silence_size == t->custom.silence_size &&
			    sw.tstamp_mode == t->custom.tstamp_mode;
		is_default = sw.avail_min == PERIOD && sw.start_threshold == 1 &&
			     sw.stop_threshold == PERIOD * PERIODS &&
			     sw.silence_size == 0 &&
			     sw.tstamp_mode == SNDRV_PCM_TSTAMP_NONE;
		if (!is_custom && !is_default)
			t->torn++;
	}
	return NULL;
}

/* HW_PARAMS resets the sw params: a reader sees either set, never a mix */
TEST_F_TIMEOUT(testpcm, sw_params_get_is_never_torn, 300)
{
	struct torn t = { 0 };
	struct snd_pcm_sw_params got;
	pthread_t thread;
	int master, i;

	master = playback_open(self->card, O_RDWR);
	ASSERT_LE(0, master);
	ASSERT_EQ(0, hw_params(master));
	t.custom.boundary = 0;
	ASSERT_EQ(0, sw_params_custom(master, &t.custom));
	/* a file with CONTROL, which HW_PARAMS does not revoke */
	t.fd = playback_attach(self->card, pcm_subdevice(master), O_RDWR);
	ASSERT_LE(0, t.fd);
	pthread_create(&thread, NULL, sw_get_thread, &t);
	for (i = 0; i < 1000; i++) {
		struct snd_pcm_sw_params sw = t.custom;

		ASSERT_EQ(0, hw_params(master));
		ASSERT_EQ(0, sw_params_custom(master, &sw));
	}
	__atomic_store_n(&t.stop, 1, __ATOMIC_RELAXED);
	pthread_join(thread, NULL);
	EXPECT_EQ(0, t.torn) TH_LOG("%ld torn of %ld reads", t.torn, t.reads);
	/* the reads happened: SW_PARAMS_GET works, and gives the last set */
	EXPECT_LT(0, t.reads);
	ASSERT_EQ(0, xioctl(t.fd, SNDRV_PCM_IOCTL_SW_PARAMS_GET, &got));
	EXPECT_EQ(t.custom.avail_min, got.avail_min);
	EXPECT_EQ(t.custom.start_threshold, got.start_threshold);
	EXPECT_EQ(t.custom.stop_threshold, got.stop_threshold);
	close(t.fd);
	close(master);
}

static int write_str(const char *path, const char *s)
{
	int fd = open(path, O_WRONLY), ret;

	if (fd < 0)
		return -errno;
	ret = write(fd, s, strlen(s)) < 0 ? -errno : 0;
	close(fd);
	return ret;
}

/*
 * Suspend (to idle, with pm_test stopping after the devices' suspend)
 * while snd-dummy has a running stream with restricted and exported files,
 * one of them revoked, with mappings: snd_pcm_suspend_all() takes
 * open_mutex and the stream locks, as revocation does; lockdep sees both.
 * Then the owner frees and closes, revoking the rest.
 */
TEST(suspend_with_shared_files)
{
	int card = pcm_find_card("Dummy"), master, r, ex, gone;
	struct snd_pcm_shared_export e = { .perm = SNDRV_PCM_PERM_SHARED };
	void *m1, *m2;

	ASSERT_LE(0, card);
	master = playback_open(card, O_RDWR);
	ASSERT_LE(0, master);
	ASSERT_EQ(0, setup_running(master));
	r = playback_open(card, O_RDONLY | O_APPEND | O_EXCL);
	ASSERT_LE(0, r);
	ASSERT_EQ(0, xioctl(master, SNDRV_PCM_IOCTL_SHARED_EXPORT, &e));
	ex = e.fd;
	ASSERT_EQ(0, xioctl(master, SNDRV_PCM_IOCTL_SHARED_EXPORT, &e));
	gone = e.fd;
	ASSERT_EQ(0, xioctl(master, SNDRV_PCM_IOCTL_SHARED_REVOKE, &gone));
	m1 = mmap(NULL, BUFFER_BYTES, PROT_READ, MAP_SHARED, r, 0);
	m2 = mmap(NULL, BUFFER_BYTES, PROT_READ, MAP_SHARED, ex, 0);
	ASSERT_TRUE(m1 != MAP_FAILED && m2 != MAP_FAILED);

	ASSERT_EQ(0, write_str("/sys/power/pm_test", "devices"));
	ASSERT_EQ(0, write_str("/sys/power/state", "freeze"));
	write_str("/sys/power/pm_test", "none");
	EXPECT_EQ(SNDRV_PCM_STATE_SUSPENDED, state_of(master));
	EXPECT_EQ(SNDRV_PCM_STATE_SUSPENDED, state_of(r));

	ASSERT_EQ(0, xioctl(master, SNDRV_PCM_IOCTL_DROP, NULL));
	EXPECT_EQ(0, xioctl(master, SNDRV_PCM_IOCTL_HW_FREE, NULL));
	EXPECT_EQ(-ENODEV, state_of(r));
	EXPECT_EQ(-ENODEV, state_of(ex));
	close(master);
	munmap(m1, BUFFER_BYTES);
	munmap(m2, BUFFER_BYTES);
	close(r);
	close(ex);
	close(gone);
}

TEST_HARNESS_MAIN
