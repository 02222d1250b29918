// SPDX-License-Identifier: GPL-2.0
/*
 * The safety rule of docs/alsa-lib.md, on the baseline kernel, which does
 * not know restricted sharing: it ignores O_EXCL and attaches a file with
 * full control. The library must find that out before it hands out a
 * handle or a file descriptor: snd_pcm_open_shared(),
 * snd_pcm_open_shared_fd(), snd_pcm_shared_export() and
 * snd_pcm_shared_revoke() return -ENOTSUP, and no file descriptor is left
 * behind, while aplay plays on.
 */
#include "pcm-shared-lib.h"
#include "kselftest_harness.h"

/* the kernel's own view, for a kernel where no shared open works */
static int stream_running(int card, int device, int sub)
{
	char path[96];
	char *status;
	int running;

	snprintf(path, sizeof(path), "/proc/asound/card%d/pcm%dp/sub%d/status",
		 card, device, sub);
	status = read_file(path, NULL);
	running = status && strstr(status, "state: RUNNING");
	free(status);
	return running;
}

FIXTURE(baseline) {
	pid_t aplay;
	struct pattern_feed feed;
	int card, fds;
};

FIXTURE_SETUP(baseline)
{
	long long end = now_ms() + WAIT_START_MS;

	self->card = snd_card_get_index("Loopback");
	ASSERT_LE(0, self->card);
	/* aplay plays on until the test is done */
	ASSERT_EQ(0, pattern_feed_start(&self->feed, "baseline", 0));
	self->aplay = spawn_alsa_util("aplay", "/tmp/aplay.log", "hw:Loopback,0,0",
				      1, self->feed.fifo, NULL);
	ASSERT_LT(0, self->aplay);
	while (!stream_running(self->card, 0, 0)) {
		ASSERT_GT(end, now_ms()) TH_LOG("aplay does not play");
		sleep_ms(20);
	}
	self->fds = count_fds();
}

FIXTURE_TEARDOWN(baseline)
{
	stop_process(&self->aplay);
	pattern_feed_stop(&self->feed);
}

/* nothing left open, and aplay played to its end as usual */
static void assert_clean(struct __test_metadata *_metadata,
			 FIXTURE_DATA(baseline) *self)
{
	int status;
	char *trouble;

	EXPECT_EQ(self->fds, count_fds());
	EXPECT_LE(PATTERN_FRAMES, pattern_feed_end(&self->feed));
	status = wait_exit(self->aplay, WAIT_EXIT_MS);
	self->aplay = 0;
	ASSERT_TRUE(status >= 0 && WIFEXITED(status) && WEXITSTATUS(status) == 0)
		TH_LOG("aplay ended with status %d", status);
	trouble = log_trouble("/tmp/aplay.log");
	EXPECT_EQ(NULL, trouble) TH_LOG("aplay printed '%s'", trouble);
	free(trouble);
}

TEST_F_TIMEOUT(baseline, open_shared_by_subdevice, 120)
{
	snd_pcm_t *pcm = NULL;

	EXPECT_EQ(-ENOTSUP, snd_pcm_open_shared(&pcm, "hw:Loopback,0,0",
						SND_PCM_STREAM_PLAYBACK, 0));
	EXPECT_EQ(NULL, pcm);
	assert_clean(_metadata, self);
}

/* without a subdevice, such a kernel refuses O_APPEND on 8 substreams */
TEST_F_TIMEOUT(baseline, open_shared_one_busy_of_several, 120)
{
	snd_pcm_t *pcm = NULL;

	EXPECT_EQ(-ENOTSUP, snd_pcm_open_shared(&pcm, "hw:Loopback",
						SND_PCM_STREAM_PLAYBACK, 0));
	EXPECT_EQ(NULL, pcm);
	assert_clean(_metadata, self);
}

/* the O_APPEND | O_EXCL open succeeds here, with full control */
TEST_F_TIMEOUT(baseline, open_shared_fd, 120)
{
	snd_pcm_t *pcm = NULL;
	char node[64];
	int fd;

	snprintf(node, sizeof(node), "/dev/snd/pcmC%dD0p", self->card);
	/* device 0 has 8 substreams: pick aplay's through the control device */
	fd = open(node, O_RDWR | O_APPEND | O_EXCL | O_CLOEXEC);
	if (fd < 0) {
		snd_ctl_t *ctl;
		char name[16];

		snprintf(name, sizeof(name), "hw:%d", self->card);
		ASSERT_EQ(0, snd_ctl_open(&ctl, name, 0));
		ASSERT_EQ(0, snd_ctl_pcm_prefer_subdevice(ctl, 0));
		fd = open(node, O_RDWR | O_APPEND | O_EXCL | O_CLOEXEC);
		snd_ctl_close(ctl);
	}
	ASSERT_LE(0, fd) TH_LOG("open %s: %s", node, strerror(errno));
	EXPECT_EQ(-ENOTSUP, snd_pcm_open_shared_fd(&pcm, fd, 0));
	EXPECT_EQ(NULL, pcm);
	close(fd);
	assert_clean(_metadata, self);
}

/*
 * a master of its own: no export, no revocation, and no permission mask to
 * read; control is never handed on, on any kernel
 */
TEST_F_TIMEOUT(baseline, shared_export, 120)
{
	snd_pcm_t *master;
	unsigned int perm = 0x5a;
	int fds;

	ASSERT_EQ(0, snd_pcm_open(&master, "hw:Dummy,0,1", SND_PCM_STREAM_PLAYBACK, 0));
	ASSERT_EQ(0, snd_pcm_set_params(master, SND_PCM_FORMAT_S16_LE,
					SND_PCM_ACCESS_MMAP_INTERLEAVED, CHANNELS,
					RATE, 0, 500000));
	fds = count_fds();
	EXPECT_EQ(-ENOTSUP, snd_pcm_shared_export(master, SND_PCM_PERM_SHARED));
	EXPECT_EQ(-ENOTSUP, snd_pcm_shared_export(master, SND_PCM_PERM_SHARED |
						 SND_PCM_PERM_RW));
	EXPECT_EQ(-EPERM, snd_pcm_shared_export(master, SND_PCM_PERM_ALL));
	EXPECT_EQ(-ENOTSUP, snd_pcm_shared_revoke(master, -1));
	EXPECT_EQ(-ENOTSUP, snd_pcm_perm_get(master, &perm));
	EXPECT_EQ(0x5a, perm);
	EXPECT_EQ(-ENOTSUP, snd_pcm_perm_restrict(master, SND_PCM_PERM_SHARED));
	EXPECT_EQ(fds, count_fds());
	/* and the master's handle is whole */
	EXPECT_EQ(SND_PCM_STATE_PREPARED, snd_pcm_state(master));
	EXPECT_EQ(0, snd_pcm_close(master));
	assert_clean(_metadata, self);
}

TEST_HARNESS_MAIN
