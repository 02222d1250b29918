// SPDX-License-Identifier: GPL-2.0
/*
 * Restricted shared access through alsa-lib (docs/alsa-lib.md), in the VM.
 *
 * An unmodified aplay plays a pattern whose frames carry their own
 * number; a shared handle, opened by name (hw:Loopback,0,0, hw:Dummy
 * without a subdevice, a configuration alias) or on a restricted fd,
 * must see aplay's setup, follow the position, map the buffer read-only
 * (whether aplay uses mmap or read/write access), and be refused
 * everything that would control the stream, while aplay plays on: it
 * exits 0, reports no xrun, and every frame arrives in order at an
 * arecord on the other end of the loopback. Then arecord as the master
 * of a loopback capture, seen by a shared handle sample by sample; this
 * process as a master exporting restricted fds to a child, and a master
 * whose close revokes the handle of the process that follows it;
 * alsa-lib's test/pcm_shared; and wrong uses that must fail cleanly
 * without leaking.
 */
#include <poll.h>
#include <sys/socket.h>
#include "pcm-shared-lib.h"
#include "kselftest_harness.h"

#define ALIAS_CONF "/tmp/xdg/alsa/asoundrc"

/*
 * Configuration aliases of type hw for the shared open by alias, loaded
 * from $XDG_CONFIG_HOME/alsa/asoundrc before alsa-lib reads its
 * configuration in any test.
 */
__attribute__((constructor)) static void setup_config(void)
{
	FILE *fp;

	mkdir("/tmp/xdg", 0755);
	mkdir("/tmp/xdg/alsa", 0755);
	fp = fopen(ALIAS_CONF, "w");
	if (fp) {
		fputs("pcm.monitor_alias {\n"
		      "\ttype hw\n\tcard Loopback\n\tdevice 0\n\tsubdevice 1\n}\n"
		      "pcm.sync_ptr_alias {\n"
		      "\ttype hw\n\tcard Loopback\n\tdevice 0\n\tsubdevice 3\n"
		      "\tsync_ptr_ioctl true\n}\n"
		      "pcm.plug_alias {\n\ttype plug\n\tslave.pcm \"hw:Loopback,0,1\"\n}\n",
		      fp);
		fclose(fp);
	}
	setenv("XDG_CONFIG_HOME", "/tmp/xdg", 1);
}

static int card_index(const char *id)
{
	return snd_card_get_index(id);
}

/* Everything a handle without CONTROL and RW must be refused, -EPERM */
static void assert_controls_refused(struct __test_metadata *_metadata,
				    snd_pcm_t *pcm, snd_pcm_stream_t stream)
{
	snd_pcm_hw_params_t *hw;
	snd_pcm_sw_params_t *sw;
	snd_pcm_chmap_t *map;
	snd_async_handler_t *handler;
	snd_pcm_access_t access;
	const snd_pcm_channel_area_t *areas;
	snd_pcm_uframes_t offset, frames = 1;
	short frame[CHANNELS * 4] = { 0 };
	char *before = pcm_setup_text(pcm), *after;
	int playback = stream == SND_PCM_STREAM_PLAYBACK;

	ASSERT_NE(NULL, before);
	snd_pcm_hw_params_alloca(&hw);
	snd_pcm_sw_params_alloca(&sw);
	ASSERT_EQ(0, snd_pcm_hw_params_current(pcm, hw));
	ASSERT_EQ(0, snd_pcm_sw_params_current(pcm, sw));
	snd_pcm_hw_params_get_access(hw, &access);

	EXPECT_EQ(-EPERM, snd_pcm_hw_params(pcm, hw));
	EXPECT_EQ(-EPERM, snd_pcm_hw_free(pcm));
	EXPECT_EQ(-EPERM, snd_pcm_sw_params(pcm, sw));
	snd_pcm_sw_params_set_tstamp_mode(pcm, sw, SND_PCM_TSTAMP_ENABLE);
	EXPECT_EQ(-EPERM, snd_pcm_sw_params(pcm, sw));
	EXPECT_EQ(-EPERM, snd_pcm_prepare(pcm));
	EXPECT_EQ(-EPERM, snd_pcm_reset(pcm));
	EXPECT_EQ(-EPERM, snd_pcm_start(pcm));
	EXPECT_EQ(-EPERM, snd_pcm_drop(pcm));
	EXPECT_EQ(-EPERM, snd_pcm_drain(pcm));
	EXPECT_EQ(-EPERM, snd_pcm_pause(pcm, 1));
	EXPECT_EQ(-EPERM, snd_pcm_pause(pcm, 0));
	EXPECT_EQ(-EPERM, snd_pcm_resume(pcm));
	EXPECT_EQ(-EPERM, snd_pcm_rewind(pcm, 1));
	EXPECT_EQ(-EPERM, snd_pcm_forward(pcm, 1));
	EXPECT_EQ(-EPERM, snd_pcm_unlink(pcm));
	if (access == SND_PCM_ACCESS_RW_INTERLEAVED) {
		EXPECT_EQ(-EPERM, playback ? snd_pcm_writei(pcm, frame, 1) :
					     snd_pcm_readi(pcm, frame, 1));
	} else {
		EXPECT_EQ(-EPERM, playback ? snd_pcm_mmap_writei(pcm, frame, 1) :
					     snd_pcm_mmap_readi(pcm, frame, 1));
		EXPECT_EQ(0, snd_pcm_mmap_begin(pcm, &areas, &offset, &frames));
		EXPECT_EQ(-EPERM, snd_pcm_mmap_commit(pcm, offset, frames));
	}
	EXPECT_EQ(-EPERM, snd_async_add_pcm_handler(&handler, pcm, NULL, NULL));
	map = snd_pcm_get_chmap(pcm);
	if (map) {
		EXPECT_EQ(-EPERM, snd_pcm_set_chmap(pcm, map));
		free(map);
	}
	/* nor can it give itself, or hand on, more than it has */
	EXPECT_EQ(-EPERM, snd_pcm_perm_restrict(pcm, SND_PCM_PERM_ALL));
	EXPECT_EQ(-EPERM, snd_pcm_shared_export(pcm, SND_PCM_PERM_ALL));

	/* and the handle is as it was */
	after = pcm_setup_text(pcm);
	ASSERT_NE(NULL, after);
	EXPECT_STREQ(before, after);
	free(before);
	free(after);
}

/*
 * Each variant: how aplay plays (device, mmap or not), and how the shared
 * handle gets to the stream (a name, or a restricted open by hand whose
 * fd it adopts).
 */
FIXTURE(aplay) {
	pid_t aplay, arecord;
	struct pattern_feed feed;
	snd_pcm_t *pcm;
	char log[64], rec_log[64], rec[64];
	snd_pcm_stream_t stream;
};

FIXTURE_VARIANT(aplay) {
	const char *play;	/* aplay -D */
	const char *shared;	/* snd_pcm_open_shared(), or NULL: by fd */
	const char *node_card;	/* by fd: the card whose device 0 to open */
	int mmap;
	int loopback_sub;	/* >= 0: arecord checks every frame arrives */
};

FIXTURE_VARIANT_ADD(aplay, loopback_rw_by_name) {
	.play = "hw:Loopback,0,0", .shared = "hw:Loopback,0,0",
	.mmap = 0, .loopback_sub = 0,
};
FIXTURE_VARIANT_ADD(aplay, loopback_mmap_by_name) {
	.play = "hw:Loopback,0,0", .shared = "hw:Loopback,0,0",
	.mmap = 1, .loopback_sub = 0,
};
FIXTURE_VARIANT_ADD(aplay, dummy_rw_no_subdevice) {
	.play = "hw:Dummy,0", .shared = "hw:Dummy",
	.mmap = 0, .loopback_sub = -1,
};
FIXTURE_VARIANT_ADD(aplay, dummy_mmap_no_subdevice) {
	.play = "hw:Dummy,0", .shared = "hw:Dummy",
	.mmap = 1, .loopback_sub = -1,
};
FIXTURE_VARIANT_ADD(aplay, config_alias_rw) {
	.play = "hw:Loopback,0,1", .shared = "monitor_alias",
	.mmap = 0, .loopback_sub = 1,
};
FIXTURE_VARIANT_ADD(aplay, config_alias_mmap) {
	.play = "hw:Loopback,0,1", .shared = "monitor_alias",
	.mmap = 1, .loopback_sub = 1,
};
/* no status and control pages: SYNC_PTR, which may only read back */
FIXTURE_VARIANT_ADD(aplay, sync_ptr_ioctl_mmap) {
	.play = "hw:Loopback,0,3", .shared = "sync_ptr_alias",
	.mmap = 1, .loopback_sub = 3,
};
FIXTURE_VARIANT_ADD(aplay, restricted_fd_rw) {
	.play = "hw:Loopback,0,2", .node_card = "Loopback",
	.mmap = 0, .loopback_sub = 2,
};
FIXTURE_VARIANT_ADD(aplay, restricted_fd_mmap) {
	.play = "hw:Loopback,0,2", .node_card = "Loopback",
	.mmap = 1, .loopback_sub = 2,
};

/* the restricted open by hand: the one busy substream of device 0 */
static int open_restricted_fd(const char *card_id, snd_pcm_t **pcm)
{
	long long end = now_ms() + WAIT_START_MS;
	char node[64];
	int fd, err;

	snprintf(node, sizeof(node), "/dev/snd/pcmC%dD0p", card_index(card_id));
	for (;;) {
		fd = open(node, O_RDWR | O_APPEND | O_EXCL | O_CLOEXEC);
		if (fd >= 0) {
			err = snd_pcm_open_shared_fd(pcm, fd, 0);
			close(fd);
			if (err == 0 && snd_pcm_state(*pcm) == SND_PCM_STATE_RUNNING)
				return 0;
			if (err == 0)
				snd_pcm_close(*pcm);
			if (err < 0 && err != -EBADFD)
				return err;
		} else if (errno != EBADFD) {
			return -errno;
		}
		if (now_ms() > end)
			return -ETIMEDOUT;
		sleep_ms(20);
	}
}

FIXTURE_SETUP(aplay)
{
	int err;

	self->stream = SND_PCM_STREAM_PLAYBACK;
	if (variant->loopback_sub >= 0) {
		char dev[32];
		snd_pcm_t *probe;

		/* the other end captures first, so that no frame gets lost */
		snprintf(dev, sizeof(dev), "hw:Loopback,1,%d", variant->loopback_sub);
		snprintf(self->rec, sizeof(self->rec), "/tmp/rec%d.raw",
			 variant->loopback_sub);
		snprintf(self->rec_log, sizeof(self->rec_log), "/tmp/arecord%d.log",
			 variant->loopback_sub);
		self->arecord = spawn_alsa_util("arecord", self->rec_log, dev, 0,
						self->rec, NULL);
		ASSERT_LT(0, self->arecord);
		err = open_shared_running(&probe, dev, SND_PCM_STREAM_CAPTURE);
		ASSERT_EQ(0, err) TH_LOG("arecord on %s does not run: %s", dev,
					 snd_strerror(err));
		snd_pcm_close(probe);
	}
	/* aplay plays on until the test has done its checks */
	snprintf(self->log, sizeof(self->log), "/tmp/aplay.log");
	ASSERT_EQ(0, pattern_feed_start(&self->feed, "aplay", 0));
	self->aplay = spawn_alsa_util("aplay", self->log, variant->play,
				      variant->mmap, self->feed.fifo, NULL);
	ASSERT_LT(0, self->aplay);
	if (variant->shared)
		err = open_shared_running(&self->pcm, variant->shared, self->stream);
	else
		err = open_restricted_fd(variant->node_card, &self->pcm);
	ASSERT_EQ(0, err) TH_LOG("no shared handle on aplay's stream: %s",
				 snd_strerror(err));
}

FIXTURE_TEARDOWN(aplay)
{
	if (self->pcm)
		snd_pcm_close(self->pcm);
	stop_process(&self->aplay);
	pattern_feed_stop(&self->feed);
	stop_process(&self->arecord);
}

/*
 * aplay played on undisturbed: it ended well and said nothing of trouble,
 * and on a loopback the other end got the whole pattern, in order.
 */
static void assert_aplay_undisturbed(struct __test_metadata *_metadata,
				     FIXTURE_DATA(aplay) *self,
				     const FIXTURE_VARIANT(aplay) *variant)
{
	long played = pattern_feed_end(&self->feed);
	int status = wait_exit(self->aplay, WAIT_EXIT_MS);
	char *trouble, *why;

	self->aplay = 0;
	ASSERT_LE(PATTERN_FRAMES, played) TH_LOG("the pattern's feed: %s",
						 strerror(-played));
	ASSERT_TRUE(status >= 0 && WIFEXITED(status) && WEXITSTATUS(status) == 0)
		TH_LOG("aplay ended with status %d", status);
	trouble = log_trouble(self->log);
	ASSERT_EQ(NULL, trouble) TH_LOG("aplay printed '%s'", trouble);
	free(trouble);
	if (variant->loopback_sub < 0)
		return;

	/* what arrived at the other end */
	why = witness_verdict(&self->arecord, self->rec_log, self->rec, played);
	EXPECT_EQ(NULL, why) TH_LOG("at the loopback's other end: %s", why);
	free(why);
}

/* The handle's setup is aplay's: parameters, sw params, its dump */
static void check_setup_is_aplays(struct __test_metadata *_metadata,
				  FIXTURE_DATA(aplay) *self,
				  const FIXTURE_VARIANT(aplay) *variant)
{
	snd_pcm_hw_params_t *hw;
	snd_pcm_sw_params_t *sw;
	snd_pcm_access_t access;
	snd_pcm_format_t format;
	snd_pcm_uframes_t size, boundary;
	unsigned int val, perm = 0;
	char *mine, *log, *aplays;
	int dir;

	ASSERT_EQ(SND_PCM_TYPE_HW, snd_pcm_type(self->pcm));
	ASSERT_EQ(0, snd_pcm_perm_get(self->pcm, &perm));
	EXPECT_EQ(SND_PCM_PERM_SHARED, perm);

	snd_pcm_hw_params_alloca(&hw);
	snd_pcm_sw_params_alloca(&sw);
	ASSERT_EQ(0, snd_pcm_hw_params_current(self->pcm, hw));
	ASSERT_EQ(0, snd_pcm_hw_params_get_access(hw, &access));
	EXPECT_EQ(variant->mmap ? SND_PCM_ACCESS_MMAP_INTERLEAVED :
				  SND_PCM_ACCESS_RW_INTERLEAVED, access);
	ASSERT_EQ(0, snd_pcm_hw_params_get_format(hw, &format));
	EXPECT_EQ(SND_PCM_FORMAT_S16_LE, format);
	ASSERT_EQ(0, snd_pcm_hw_params_get_channels(hw, &val));
	EXPECT_EQ(CHANNELS, val);
	ASSERT_EQ(0, snd_pcm_hw_params_get_rate(hw, &val, &dir));
	EXPECT_EQ(RATE, val);
	EXPECT_EQ(0, dir);
	ASSERT_EQ(0, snd_pcm_hw_params_get_period_size(hw, &size, &dir));
	EXPECT_EQ(PERIOD, size);
	ASSERT_EQ(0, snd_pcm_hw_params_get_buffer_size(hw, &size));
	EXPECT_EQ(BUFFER, size);
	ASSERT_EQ(0, snd_pcm_sw_params_current(self->pcm, sw));
	ASSERT_EQ(0, snd_pcm_sw_params_get_boundary(sw, &boundary));
	EXPECT_EQ(0, boundary % BUFFER);
	ASSERT_EQ(0, snd_pcm_sw_params_get_start_threshold(sw, &size));
	EXPECT_EQ(BUFFER, size);	/* aplay's choice */

	/* every line of aplay -v's dump of its setup, down to the boundary */
	mine = pcm_setup_text(self->pcm);
	ASSERT_NE(NULL, mine);
	log = read_file(self->log, NULL);
	ASSERT_NE(NULL, log);
	aplays = setup_text(log);
	ASSERT_NE(NULL, aplays) TH_LOG("no setup in aplay's log:\n%s", log);
	EXPECT_STREQ(aplays, mine);
	free(mine);
	free(aplays);
	free(log);
}

/*
 * status, delay, avail_update, htimestamp and poll follow aplay's stream.
 * aplay asks for no timestamps, so the stream has none: the shared handle
 * reports the same zero timestamps that aplay's own handle gets.
 */
static void check_position_advances(struct __test_metadata *_metadata,
				    FIXTURE_DATA(aplay) *self)
{
	snd_pcm_status_t *status;
	snd_htimestamp_t trigger, trigger0, ts;
	struct pollfd pfd[4];
	unsigned short revents;
	long long end = now_ms() + WAIT_START_MS;
	snd_pcm_sframes_t delay, avail, first_delay = -1, first_avail = -1;
	snd_pcm_uframes_t havail, first_havail = (snd_pcm_uframes_t)-1;
	int changed_delay = 0, changed_avail = 0, changed_havail = 0;
	int changed_status = 0, polled = 0, n;
	snd_pcm_uframes_t first_savail = (snd_pcm_uframes_t)-1;

	snd_pcm_status_alloca(&status);
	ASSERT_EQ(0, snd_pcm_status(self->pcm, status));
	snd_pcm_status_get_trigger_htstamp(status, &trigger0);
	ASSERT_TRUE(trigger0.tv_sec || trigger0.tv_nsec);

	n = snd_pcm_poll_descriptors_count(self->pcm);
	ASSERT_LE(1, n);
	ASSERT_GE(4, n);
	ASSERT_EQ(n, snd_pcm_poll_descriptors(self->pcm, pfd, n));

	while (!(changed_delay && changed_avail && changed_havail &&
		 changed_status && polled)) {
		ASSERT_GT(end, now_ms()) TH_LOG("the position did not move: "
			"delay %d avail %d htimestamp %d status %d poll %d",
			changed_delay, changed_avail, changed_havail,
			changed_status, polled);

		ASSERT_EQ(0, snd_pcm_status(self->pcm, status));
		ASSERT_EQ(SND_PCM_STATE_RUNNING, snd_pcm_status_get_state(status));
		snd_pcm_status_get_trigger_htstamp(status, &trigger);
		EXPECT_EQ(0, memcmp(&trigger, &trigger0, sizeof(trigger)));
		snd_pcm_status_get_htstamp(status, &ts);
		EXPECT_EQ(0, ts.tv_sec + ts.tv_nsec);
		ASSERT_GE(BUFFER, snd_pcm_status_get_avail(status));
		ASSERT_GE(BUFFER, snd_pcm_status_get_delay(status));
		if (first_savail == (snd_pcm_uframes_t)-1)
			first_savail = snd_pcm_status_get_avail(status);
		else if (snd_pcm_status_get_avail(status) != first_savail)
			changed_status = 1;

		ASSERT_EQ(0, snd_pcm_hwsync(self->pcm));
		ASSERT_EQ(0, snd_pcm_delay(self->pcm, &delay));
		ASSERT_LE(0, delay);
		ASSERT_GE(BUFFER, delay);
		if (first_delay < 0)
			first_delay = delay;
		else if (delay != first_delay)
			changed_delay = 1;

		avail = snd_pcm_avail_update(self->pcm);
		ASSERT_LE(0, avail);
		ASSERT_GE(BUFFER, avail);
		if (first_avail < 0)
			first_avail = avail;
		else if (avail != first_avail)
			changed_avail = 1;
		ASSERT_LE(0, snd_pcm_avail(self->pcm));

		ASSERT_EQ(0, snd_pcm_htimestamp(self->pcm, &havail, &ts));
		EXPECT_EQ(0, ts.tv_sec + ts.tv_nsec);
		ASSERT_GE(BUFFER, havail);
		if (first_havail == (snd_pcm_uframes_t)-1)
			first_havail = havail;
		else if (havail != first_havail)
			changed_havail = 1;

		/* poll works; aplay may take each period's room first */
		revents = 0;
		if (poll(pfd, n, 10) > 0)
			ASSERT_EQ(0, snd_pcm_poll_descriptors_revents(self->pcm, pfd, n,
								      &revents));
		EXPECT_EQ(0, revents & (POLLERR | POLLNVAL));
		polled = 1;
	}
}

/*
 * Every call that would control the stream is refused, and closing the
 * handle leaves the stream alone
 */
static void check_control_refused(struct __test_metadata *_metadata,
				  FIXTURE_DATA(aplay) *self)
{
	snd_pcm_t *other;
	unsigned int perm = 0;

	assert_controls_refused(_metadata, self->pcm, self->stream);
	EXPECT_EQ(SND_PCM_STATE_RUNNING, snd_pcm_state(self->pcm));
	ASSERT_EQ(0, snd_pcm_perm_get(self->pcm, &perm));
	EXPECT_EQ(SND_PCM_PERM_SHARED, perm);

	/* nor can it be linked to another stream, either way round */
	ASSERT_EQ(0, snd_pcm_open(&other, "hw:Dummy,0,7", SND_PCM_STREAM_PLAYBACK, 0));
	ASSERT_EQ(0, snd_pcm_set_params(other, SND_PCM_FORMAT_S16_LE,
					SND_PCM_ACCESS_RW_INTERLEAVED, CHANNELS,
					RATE, 0, 100000));
	EXPECT_EQ(-EPERM, snd_pcm_link(self->pcm, other));
	EXPECT_EQ(-EPERM, snd_pcm_link(other, self->pcm));
	snd_pcm_close(other);

	/* closing it leaves the stream alone */
	EXPECT_EQ(0, snd_pcm_close(self->pcm));
	self->pcm = NULL;
}

/*
 * The buffer, mapped read-only whether aplay uses mmap or read/write
 * access: the frames queued between the hw and the application pointer
 * are aplay's, each at its place.
 */
static void check_buffer_data(struct __test_metadata *_metadata,
			      FIXTURE_DATA(aplay) *self,
			      const FIXTURE_VARIANT(aplay) *variant)
{
	const snd_pcm_channel_area_t *areas;
	snd_pcm_uframes_t hw = 0, appl = 0, off, frames = BUFFER;
	long long end = now_ms() + WAIT_START_MS;
	long checked = 0, wrong = 0;

	ASSERT_EQ(0, snd_pcm_mmap_begin(self->pcm, &areas, &off, &frames));
	ASSERT_NE(NULL, areas[0].addr);
	EXPECT_EQ(0, areas[0].first);
	EXPECT_EQ(16 * CHANNELS, areas[0].step);
	EXPECT_EQ(areas[0].addr, areas[1].addr);
	EXPECT_EQ(16, areas[1].first);

	/* the dummy's buffer is one fake page: its contents mean nothing */
	while (variant->loopback_sub >= 0 && checked < 4 * PERIOD) {
		ASSERT_GT(end, now_ms()) TH_LOG("%ld frames checked", checked);
		ASSERT_EQ(0, shared_pointers(self->pcm, BUFFER, &areas, &hw, &appl));
		/* queued frames stay until played; check those not played */
		for (off = hw; off != appl; off = (off + 1) % BUFFER) {
			long n = pattern_index(area_frame(areas, off));

			if (n < 0)	/* the padding after the pattern */
				continue;
			checked++;
			if ((unsigned long)n % BUFFER != off)
				wrong++;
		}
		sleep_ms(20);
	}
	EXPECT_EQ(0, wrong) TH_LOG("%ld of %ld frames not at their place", wrong, checked);
}

/*
 * One playback of aplay per variant, all the checks on it in turn (each
 * takes a fraction of the playback): the setup, the position, the buffer,
 * then the refusals and the close; aplay must play on undisturbed.
 */
TEST_F_TIMEOUT(aplay, follows_undisturbed, 120)
{
	check_setup_is_aplays(_metadata, self, variant);
	check_position_advances(_metadata, self);
	check_buffer_data(_metadata, self, variant);
	check_control_refused(_metadata, self);
	assert_aplay_undisturbed(_metadata, self, variant);
}

/*
 * The capture side: arecord is the master of the loopback capture; a
 * shared handle reads its buffer while aplay plays the pattern into the
 * playback end, and must see exactly what arecord records, sample by
 * sample, each frame at its place.
 */
FIXTURE(capture) {
	pid_t aplay, arecord;
	struct pattern_feed feed;
	snd_pcm_t *pcm;
};

FIXTURE_SETUP(capture)
{
	self->arecord = spawn_alsa_util("arecord", "/tmp/arecord.log",
					"hw:Loopback,1,4", 1, "/tmp/rec.raw", NULL);
	ASSERT_LT(0, self->arecord);
	ASSERT_EQ(0, open_shared_running(&self->pcm, "hw:Loopback,1,4",
					 SND_PCM_STREAM_CAPTURE));
}

FIXTURE_TEARDOWN(capture)
{
	if (self->pcm)
		snd_pcm_close(self->pcm);
	stop_process(&self->aplay);
	pattern_feed_stop(&self->feed);
	stop_process(&self->arecord);
}

struct seen {
	long index;		/* pattern frame number */
	snd_pcm_uframes_t off;	/* where in the buffer */
	short s[CHANNELS];
};

TEST_F_TIMEOUT(capture, buffer_is_what_was_played, 120)
{
	const snd_pcm_channel_area_t *areas;
	snd_pcm_uframes_t hw = 0, appl = 0, hw2 = 0, last, off, keep_from;
	struct seen *seen = calloc(PATTERN_FRAMES, sizeof(*seen));
	size_t nseen = 0, len, frames, first, i;
	long wrong = 0, ahead, n, played;
	short *rec;
	char *trouble;
	int status;
	unsigned int perm = 0;

	ASSERT_NE(NULL, seen);
	ASSERT_EQ(0, snd_pcm_perm_get(self->pcm, &perm));
	EXPECT_EQ(SND_PCM_PERM_SHARED, perm);
	assert_controls_refused(_metadata, self->pcm, SND_PCM_STREAM_CAPTURE);

	/* aplay plays on until the shared handle has seen enough */
	ASSERT_EQ(0, pattern_feed_start(&self->feed, "capture", 0));
	self->aplay = spawn_alsa_util("aplay", "/tmp/aplay-capture.log",
				      "hw:Loopback,0,4", 0, self->feed.fifo, NULL);
	ASSERT_LT(0, self->aplay);
	ASSERT_EQ(0, shared_pointers(self->pcm, BUFFER, &areas, &hw, &appl));
	last = hw;
	/* read each period that arrives */
	while (nseen < PATTERN_FRAMES) {
		struct seen batch[BUFFER];
		size_t nb = 0, k;

		ASSERT_EQ(0, waitpid(self->aplay, &status, WNOHANG)) TH_LOG("aplay ended");
		sleep_ms(10);
		ASSERT_EQ(0, shared_pointers(self->pcm, BUFFER, &areas, &hw, &appl));
		for (off = last; off != hw && nb < BUFFER; off = (off + 1) % BUFFER) {
			const short *f = area_frame(areas, off);

			batch[nb].off = off;
			memcpy(batch[nb].s, f, sizeof(batch[nb].s));
			batch[nb].index = pattern_index(batch[nb].s);
			nb++;
		}
		/* drop what the capture may have come round to meanwhile */
		ASSERT_EQ(0, shared_pointers(self->pcm, BUFFER, &areas, &hw2, &appl));
		ahead = (long)((hw2 + BUFFER - last) % BUFFER);
		keep_from = ahead > BUFFER - PERIOD ? ahead - (BUFFER - PERIOD) : 0;
		for (k = keep_from; k < nb && nseen < PATTERN_FRAMES; k++)
			if (batch[k].index >= 0)
				seen[nseen++] = batch[k];
		last = hw;
	}
	played = pattern_feed_end(&self->feed);
	ASSERT_LE(PATTERN_FRAMES, played) TH_LOG("the pattern's feed: %s", strerror(-played));
	status = wait_exit(self->aplay, WAIT_EXIT_MS);
	self->aplay = 0;
	ASSERT_TRUE(status >= 0 && WIFEXITED(status) && WEXITSTATUS(status) == 0);
	EXPECT_EQ(NULL, (trouble = log_trouble("/tmp/aplay-capture.log")))
		TH_LOG("aplay printed '%s'", trouble);
	free(trouble);

	/* arecord's file: the pattern, whole and in order */
	sleep_ms(300);
	kill(self->arecord, SIGINT);
	status = wait_exit(self->arecord, WAIT_EXIT_MS);
	self->arecord = 0;
	ASSERT_TRUE(status >= 0);
	EXPECT_EQ(NULL, (trouble = log_trouble("/tmp/arecord.log")))
		TH_LOG("arecord printed '%s'", trouble);
	free(trouble);
	rec = (short *)read_file("/tmp/rec.raw", &len);
	ASSERT_NE(NULL, rec);
	frames = len / (CHANNELS * sizeof(short));
	ASSERT_EQ(played, pattern_in_order(rec, frames, &first));

	/*
	 * What the shared handle saw: the samples arecord recorded at the
	 * same stream position, frame n of the pattern at position first + n
	 */
	ASSERT_LE(4 * PERIOD, nseen) TH_LOG("only %zu frames seen", nseen);
	for (i = 0; i < nseen; i++) {
		n = seen[i].index;
		if (n >= played ||
		    (first + n) % BUFFER != seen[i].off ||
		    memcmp(seen[i].s, rec + (first + n) * CHANNELS, sizeof(seen[i].s)))
			wrong++;
	}
	EXPECT_EQ(0, wrong) TH_LOG("%ld of %zu frames differ from arecord's", wrong, nseen);
	free(rec);
	free(seen);
	/* arecord has gone, and with it the access of the shared handle */
	EXPECT_EQ(SND_PCM_STATE_DISCONNECTED, snd_pcm_state(self->pcm));
	EXPECT_EQ(-ENODEV, snd_pcm_avail_update(self->pcm));
}

/*
 * This process as the master: it plays the pattern through mmap access,
 * with timestamps, and exports restricted fds to a child over a UNIX
 * socket (SCM_RIGHTS).
 */
FIXTURE(master) {
	snd_pcm_t *pcm;
	unsigned long next;	/* the next pattern frame to play */
	pid_t child;
	int sock;
};

FIXTURE_SETUP(master)
{
	int err = pattern_master_open(&self->pcm, "hw:Loopback,0,5");

	ASSERT_EQ(0, err) TH_LOG("hw:Loopback,0,5: %s", snd_strerror(err));
	self->sock = -1;
}

FIXTURE_TEARDOWN(master)
{
	stop_process(&self->child);
	if (self->sock >= 0)
		close(self->sock);
	if (self->pcm)
		snd_pcm_close(self->pcm);
}

static int master_play(FIXTURE_DATA(master) *self)
{
	return pattern_master_play(self->pcm, &self->next);
}

static int master_start(FIXTURE_DATA(master) *self)
{
	return pattern_master_start(self->pcm, &self->next);
}

/* keep playing until the child is done; its wait status */
static int master_play_until_child_exits(FIXTURE_DATA(master) *self)
{
	long long end = now_ms() + WAIT_EXIT_MS;
	int status, err;

	for (;;) {
		pid_t r = waitpid(self->child, &status, WNOHANG);

		if (r == self->child) {
			self->child = 0;
			return status;
		}
		if (now_ms() > end)
			return -ETIMEDOUT;
		/* refill late, so that a period's room shows for a while */
		sleep_ms(40);
		err = master_play(self);
		if (err < 0)
			return err;
	}
}

/*
 * Export an fd with the permissions and hand it to a child, which runs
 * the check with the handle it makes of it: 0 when all held.
 */
typedef int (*child_check)(snd_pcm_t *pcm, int sock, const char *master_setup);

static void export_to_child(struct __test_metadata *_metadata,
			    FIXTURE_DATA(master) *self, unsigned int perm,
			    int want_open, child_check check)
{
	char *setup = pcm_setup_text(self->pcm);
	int sv[2], fd, status;

	ASSERT_NE(NULL, setup);
	ASSERT_EQ(0, master_start(self));
	if (self->sock >= 0)
		close(self->sock);
	self->sock = -1;
	fd = snd_pcm_shared_export(self->pcm, perm);
	ASSERT_LE(0, fd) TH_LOG("snd_pcm_shared_export: %s", snd_strerror(fd));
	ASSERT_EQ(0, socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv));
	self->child = fork();
	ASSERT_LE(0, self->child);
	if (self->child == 0) {
		snd_pcm_t *pcm;
		int rfd, err;

		close(sv[0]);
		rfd = recv_fd(sv[1]);
		if (rfd < 0)
			_exit(10);
		err = snd_pcm_open_shared_fd(&pcm, rfd, 0);
		close(rfd);
		if (err != want_open) {
			fprintf(stderr, "# child: snd_pcm_open_shared_fd: %s\n",
				snd_strerror(err));
			_exit(11);
		}
		if (err < 0)
			_exit(0);
		err = check(pcm, sv[1], setup);
		snd_pcm_close(pcm);
		_exit(err);
	}
	close(sv[1]);
	self->sock = sv[0];
	ASSERT_EQ(0, send_fd(self->sock, fd));
	close(fd);
	free(setup);

	status = master_play_until_child_exits(self);
	ASSERT_TRUE(status >= 0 && WIFEXITED(status))
		TH_LOG("master: %s", status < 0 ? snd_strerror(status) : "child died");
	EXPECT_EQ(0, WEXITSTATUS(status));
	/* the master played on, undisturbed */
	EXPECT_EQ(SND_PCM_STATE_RUNNING, snd_pcm_state(self->pcm));
	EXPECT_EQ(0, master_play(self));
}

#define CHILD_CHECK(cond) do { \
	if (!(cond)) { \
		fprintf(stderr, "# child: %s:%d: %s\n", __FILE__, __LINE__, #cond); \
		return 1; \
	} \
} while (0)

/* what the master set up, timestamps that advance, the queued frames */
static int check_shared(snd_pcm_t *pcm, int sock, const char *master_setup)
{
	snd_pcm_status_t *status;
	snd_htimestamp_t ts0 = { 0, 0 }, ts, sts0, sts;
	snd_pcm_uframes_t avail, hw = 0, appl = 0, off;
	const snd_pcm_channel_area_t *areas;
	long long end = now_ms() + WAIT_START_MS;
	unsigned int perm = 0;
	long checked = 0, wrong = 0;
	char *setup = pcm_setup_text(pcm);

	CHILD_CHECK(snd_pcm_perm_get(pcm, &perm) == 0 && perm == SND_PCM_PERM_SHARED);
	CHILD_CHECK(setup && strcmp(setup, master_setup) == 0);
	free(setup);
	snd_pcm_status_alloca(&status);
	CHILD_CHECK(snd_pcm_status(pcm, status) == 0);
	snd_pcm_status_get_htstamp(status, &sts0);
	CHILD_CHECK(snd_pcm_htimestamp(pcm, &avail, &ts0) == 0);
	do {
		CHILD_CHECK(now_ms() < end);
		sleep_ms(20);
		CHILD_CHECK(snd_pcm_htimestamp(pcm, &avail, &ts) == 0);
		CHILD_CHECK(snd_pcm_status(pcm, status) == 0);
		CHILD_CHECK(snd_pcm_status_get_state(status) == SND_PCM_STATE_RUNNING);
		snd_pcm_status_get_htstamp(status, &sts);
	} while (ts.tv_sec == ts0.tv_sec && ts.tv_nsec == ts0.tv_nsec);
	/* the master enabled timestamps: they advance */
	CHILD_CHECK(ts.tv_sec > ts0.tv_sec ||
		    (ts.tv_sec == ts0.tv_sec && ts.tv_nsec > ts0.tv_nsec));
	CHILD_CHECK(sts.tv_sec > sts0.tv_sec ||
		    (sts.tv_sec == sts0.tv_sec && sts.tv_nsec > sts0.tv_nsec));

	while (checked < 4 * PERIOD) {
		CHILD_CHECK(now_ms() < end);
		CHILD_CHECK(shared_pointers(pcm, BUFFER, &areas, &hw, &appl) == 0);
		for (off = hw; off != appl; off = (off + 1) % BUFFER) {
			long n = pattern_index(area_frame(areas, off));

			checked++;
			if (n < 0 || (unsigned long)n % BUFFER != off)
				wrong++;
		}
		sleep_ms(20);
	}
	CHILD_CHECK(wrong == 0);

	/* woken when there is a period of room, as the master is */
	for (;;) {
		struct pollfd pfd[4];
		unsigned short revents = 0;
		int n = snd_pcm_poll_descriptors_count(pcm);

		CHILD_CHECK(now_ms() < end);
		CHILD_CHECK(n >= 1 && n <= 4);
		CHILD_CHECK(snd_pcm_poll_descriptors(pcm, pfd, n) == n);
		if (poll(pfd, n, 100) <= 0)
			continue;
		CHILD_CHECK(snd_pcm_poll_descriptors_revents(pcm, pfd, n, &revents) == 0);
		CHILD_CHECK(!(revents & (POLLERR | POLLNVAL)));
		if (revents & POLLOUT)
			break;
	}
	return 0;
}

TEST_F_TIMEOUT(master, export_shared_to_child, 120)
{
	export_to_child(_metadata, self, SND_PCM_PERM_SHARED, 0, check_shared);
}

/* controlling calls refused in the child, the master plays on */
static int check_refused(snd_pcm_t *pcm, int sock, const char *master_setup)
{
	struct __test_metadata meta = { .name = "child", .exit_code = KSFT_PASS };

	/* a failed assertion aborts this process: the master sees it die */
	assert_controls_refused(&meta, pcm, SND_PCM_STREAM_PLAYBACK);
	return !__test_passed(&meta) || snd_pcm_state(pcm) != SND_PCM_STATE_RUNNING;
}

TEST_F_TIMEOUT(master, export_refuses_control, 120)
{
	export_to_child(_metadata, self, SND_PCM_PERM_SHARED, 0, check_refused);
}

/* without MMAP: no buffer, but the position and the status */
static int check_no_mmap(snd_pcm_t *pcm, int sock, const char *master_setup)
{
	const snd_pcm_channel_area_t *areas;
	snd_pcm_uframes_t off, frames = BUFFER;
	snd_pcm_sframes_t delay;
	unsigned int perm = 0;

	CHILD_CHECK(snd_pcm_perm_get(pcm, &perm) == 0);
	CHILD_CHECK(perm == (SND_PCM_PERM_SYNC | SND_PCM_PERM_STATUS));
	CHILD_CHECK(snd_pcm_mmap_begin(pcm, &areas, &off, &frames) == -EBADFD);
	CHILD_CHECK(snd_pcm_delay(pcm, &delay) == 0 && delay >= 0 && delay <= BUFFER);
	CHILD_CHECK(snd_pcm_state(pcm) == SND_PCM_STATE_RUNNING);
	return 0;
}

TEST_F_TIMEOUT(master, export_sync_status, 120)
{
	export_to_child(_metadata, self, SND_PCM_PERM_SYNC | SND_PCM_PERM_STATUS,
			0, check_no_mmap);
}

static int check_nothing(snd_pcm_t *pcm, int sock, const char *master_setup)
{
	return 0;
}

/* an fd that cannot learn the setup is not made a handle */
TEST_F_TIMEOUT(master, export_without_status, 120)
{
	export_to_child(_metadata, self, SND_PCM_PERM_MMAP | SND_PCM_PERM_SYNC,
			-EPERM, check_nothing);
	export_to_child(_metadata, self, 0, -EPERM, check_nothing);
}

/*
 * given every permission it may hand on, closing the shared handle still
 * leaves the stream be
 */
TEST_F_TIMEOUT(master, export_all_close_leaves_stream, 120)
{
	export_to_child(_metadata, self, SND_PCM_PERM_SHARED | SND_PCM_PERM_RW,
			0, check_nothing);
}

/* the handle drops permissions and keeps what it kept */
static int check_restrict(snd_pcm_t *pcm, int sock, const char *master_setup)
{
	snd_pcm_sframes_t delay;
	const snd_pcm_channel_area_t *areas;
	snd_pcm_uframes_t hw, appl;
	unsigned int perm = 0;

	CHILD_CHECK(snd_pcm_perm_restrict(pcm, 0x20) == -EINVAL);
	CHILD_CHECK(snd_pcm_perm_restrict(pcm, SND_PCM_PERM_SHARED | SND_PCM_PERM_RW) == -EPERM);
	CHILD_CHECK(shared_pointers(pcm, BUFFER, &areas, &hw, &appl) == 0);
	CHILD_CHECK(snd_pcm_perm_restrict(pcm, SND_PCM_PERM_SYNC | SND_PCM_PERM_STATUS) == 0);
	CHILD_CHECK(snd_pcm_perm_get(pcm, &perm) == 0);
	CHILD_CHECK(perm == (SND_PCM_PERM_SYNC | SND_PCM_PERM_STATUS));
	CHILD_CHECK(snd_pcm_perm_restrict(pcm, SND_PCM_PERM_SHARED) == -EPERM);
	CHILD_CHECK(snd_pcm_delay(pcm, &delay) == 0);
	CHILD_CHECK(snd_pcm_perm_restrict(pcm, SND_PCM_PERM_SYNC) == 0);
	CHILD_CHECK(snd_pcm_delay(pcm, &delay) == -EPERM);
	CHILD_CHECK(snd_pcm_state(pcm) == SND_PCM_STATE_RUNNING);
	return 0;
}

TEST_F_TIMEOUT(master, perm_restrict, 120)
{
	export_to_child(_metadata, self, SND_PCM_PERM_SHARED, 0, check_restrict);
}

/*
 * The master goes away: the kernel stops the stream, the shared handle
 * sees it and may still ask, but nothing else; its mapping stays. The
 * master is a process of its own here, so that nothing of it is left in
 * this one to keep its file open.
 */
FIXTURE(orphan) {
	pid_t master;
	int sock;
	snd_pcm_t *pcm;
};

FIXTURE_SETUP(orphan)
{
	int sv[2];

	ASSERT_EQ(0, socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv));
	self->master = fork();
	ASSERT_LE(0, self->master);
	if (self->master == 0) {
		FIXTURE_DATA(master) m = { .sock = -1 };
		struct pollfd pfd = { sv[1], POLLIN, 0 };
		int fd;

		close(sv[0]);
		if (pattern_master_open(&m.pcm, "hw:Loopback,0,5") < 0 ||
		    master_start(&m) < 0)
			_exit(10);
		fd = snd_pcm_shared_export(m.pcm, SND_PCM_PERM_SHARED);
		if (fd < 0 || send_fd(sv[1], fd) < 0)
			_exit(11);
		close(fd);
		/* play until told to go */
		while (poll(&pfd, 1, 20) == 0)
			if (master_play(&m) < 0)
				_exit(12);
		/*
		 * The shared handle maps the buffer, and the kernel frees it
		 * all the same (hw_free in snd_pcm_close()): it revokes the
		 * shared handle first.
		 */
		_exit(snd_pcm_close(m.pcm) == 0 ? 0 : 13);
	}
	close(sv[1]);
	self->sock = sv[0];
}

FIXTURE_TEARDOWN(orphan)
{
	if (self->pcm)
		snd_pcm_close(self->pcm);
	stop_process(&self->master);
	close(self->sock);
}

TEST_F_TIMEOUT(orphan, master_closes_first, 120)
{
	const snd_pcm_channel_area_t *areas;
	snd_pcm_uframes_t hw, appl;
	snd_pcm_status_t *status;
	struct pollfd pfd[4];
	unsigned short revents = 0;
	long long end = now_ms() + WAIT_START_MS;
	volatile short sample;
	snd_pcm_t *other;
	int fd, n, st;
	char c = 'q';

	fd = recv_fd(self->sock);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, snd_pcm_open_shared_fd(&self->pcm, fd, 0));
	close(fd);
	ASSERT_EQ(SND_PCM_STATE_RUNNING, snd_pcm_state(self->pcm));
	ASSERT_EQ(0, shared_pointers(self->pcm, BUFFER, &areas, &hw, &appl));

	ASSERT_EQ(1, write(self->sock, &c, 1));
	st = wait_exit(self->master, WAIT_EXIT_MS);
	self->master = 0;
	ASSERT_TRUE(st >= 0 && WIFEXITED(st));
	ASSERT_EQ(0, WEXITSTATUS(st));
	/* the master's close took the shared handle's access back */
	while (snd_pcm_state(self->pcm) == SND_PCM_STATE_RUNNING) {
		ASSERT_GT(end, now_ms());
		sleep_ms(20);
	}
	snd_pcm_status_alloca(&status);
	EXPECT_EQ(SND_PCM_STATE_DISCONNECTED, snd_pcm_state(self->pcm));
	EXPECT_EQ(-ENODEV, snd_pcm_status(self->pcm, status));
	EXPECT_EQ(-ENODEV, snd_pcm_hwsync(self->pcm));
	EXPECT_EQ(-ENODEV, snd_pcm_avail_update(self->pcm));
	n = snd_pcm_poll_descriptors_count(self->pcm);
	ASSERT_LE(1, n);
	ASSERT_GE(4, n);
	ASSERT_EQ(n, snd_pcm_poll_descriptors(self->pcm, pfd, n));
	ASSERT_LT(0, poll(pfd, n, 1000));
	ASSERT_EQ(0, snd_pcm_poll_descriptors_revents(self->pcm, pfd, n, &revents));
	EXPECT_TRUE(revents & POLLERR);
	/* still mapped, and reading zeros */
	for (n = 0; n < BUFFER; n++) {
		sample = area_frame(areas, n)[0] | area_frame(areas, n)[1];
		if (sample)
			break;
	}
	EXPECT_EQ(BUFFER, n) TH_LOG("frame %d reads %hd", n, sample);
	EXPECT_EQ(-EPERM, snd_pcm_drop(self->pcm));
	/* a new shared open finds nobody to follow */
	EXPECT_EQ(-EBADFD, snd_pcm_open_shared(&other, "hw:Loopback,0,5",
					       SND_PCM_STREAM_PLAYBACK, 0));
	/* and nothing of the revoked handle holds the device */
	ASSERT_EQ(0, snd_pcm_open(&other, "hw:Loopback,0,5", SND_PCM_STREAM_PLAYBACK,
				  SND_PCM_NONBLOCK));
	EXPECT_EQ(0, snd_pcm_close(other));
	EXPECT_EQ(0, snd_pcm_close(self->pcm));
	self->pcm = NULL;
}

/*
 * alsa-lib's test/pcm_shared: as a master exporting to a child, and as a
 * monitor of aplay whose dump of the samples it read, with their frame
 * positions, must be the pattern aplay played at those positions.
 */
FIXTURE(program) {
	pid_t pid, aplay;
	struct pattern_feed feed;
};

FIXTURE_SETUP(program)
{
}

FIXTURE_TEARDOWN(program)
{
	stop_process(&self->pid);
	stop_process(&self->aplay);
	pattern_feed_stop(&self->feed);
}

/* Run pcm_shared with @argv to its end (*@pid while it runs): it must exit 0 */
static void run_pcm_shared(struct __test_metadata *_metadata, pid_t *pid, char *argv[])
{
	int status;

	*pid = spawn_logged("/tmp/pcm_shared.log", argv);
	ASSERT_LT(0, *pid);
	status = wait_exit(*pid, WAIT_EXIT_MS);
	*pid = 0;
	ASSERT_TRUE(status >= 0 && WIFEXITED(status));
	EXPECT_EQ(0, WEXITSTATUS(status)) {
		char *log = read_file("/tmp/pcm_shared.log", NULL);

		TH_LOG("%s", log);
		free(log);
	}
}

TEST_F_TIMEOUT(program, pcm_shared_export, 120)
{
	char *argv[] = { "pcm_shared", "-D", "hw:Loopback,0,6", "-d", "2", "-q", NULL };

	run_pcm_shared(_metadata, &self->pid, argv);
}

TEST_F_TIMEOUT(program, pcm_shared_monitor, 120)
{
	char *argv[] = { "pcm_shared", "-m", "-D", "hw:Loopback,0,7", "-d", "1",
			 "-q", "-o", "/tmp/monitor.txt", NULL };
	snd_pcm_t *probe;
	char line[128];
	long pos, a, b, checked = 0, wrong = 0;
	short f[CHANNELS];
	char *trouble;
	int status;
	FILE *fp;

	/* aplay plays on until pcm_shared has ended */
	ASSERT_EQ(0, pattern_feed_start(&self->feed, "monitor", 0));
	self->aplay = spawn_alsa_util("aplay", "/tmp/aplay-monitor.log",
				      "hw:Loopback,0,7", 1, self->feed.fifo, NULL);
	ASSERT_LT(0, self->aplay);
	ASSERT_EQ(0, open_shared_running(&probe, "hw:Loopback,0,7",
					 SND_PCM_STREAM_PLAYBACK));
	snd_pcm_close(probe);
	run_pcm_shared(_metadata, &self->pid, argv);
	fp = fopen("/tmp/monitor.txt", "r");
	ASSERT_NE(NULL, fp);
	while (fgets(line, sizeof(line), fp)) {
		if (line[0] == '#')
			continue;
		ASSERT_EQ(3, sscanf(line, "%ld %ld %ld", &pos, &a, &b));
		f[0] = a;
		f[1] = b;
		if (pattern_index(f) < 0)
			continue;
		checked++;
		if (pattern_index(f) != pos)	/* aplay's frame n at position n */
			wrong++;
	}
	fclose(fp);
	EXPECT_LE(4 * PERIOD, checked);
	EXPECT_EQ(0, wrong) TH_LOG("%ld of %ld frames not at their position", wrong, checked);
	EXPECT_LE(PATTERN_FRAMES, pattern_feed_end(&self->feed));
	status = wait_exit(self->aplay, WAIT_EXIT_MS);
	self->aplay = 0;
	EXPECT_TRUE(status >= 0 && WIFEXITED(status) && WEXITSTATUS(status) == 0);
	EXPECT_EQ(NULL, (trouble = log_trouble("/tmp/aplay-monitor.log")))
		TH_LOG("aplay printed '%s'", trouble);
	free(trouble);
}

/*
 * Wrong uses that need a card: each fails with its own error, and leaves
 * no file descriptor and no memory behind.
 */
FIXTURE(bad) {
	snd_pcm_t *master[3];
	int fds;
};

FIXTURE_SETUP(bad)
{
	snd_pcm_t *pcm;

	/* let alsa-lib read its configuration before counting */
	snd_pcm_open_shared(&pcm, "hw:Loopback,0,3", SND_PCM_STREAM_PLAYBACK, 0);
	self->fds = count_fds();
}

FIXTURE_TEARDOWN(bad)
{
	int i;

	for (i = 0; i < 3; i++)
		if (self->master[i])
			snd_pcm_close(self->master[i]);
}

static snd_pcm_t *setup_master(struct __test_metadata *_metadata,
			       const char *name, int set_up)
{
	snd_pcm_t *pcm = NULL;

	ASSERT_EQ(0, snd_pcm_open(&pcm, name, SND_PCM_STREAM_PLAYBACK, 0));
	if (set_up)
		EXPECT_EQ(0, snd_pcm_set_params(pcm, SND_PCM_FORMAT_S16_LE,
						SND_PCM_ACCESS_MMAP_INTERLEAVED,
						CHANNELS, RATE, 0, 100000));
	return pcm;
}

/* a hundred settle, a hundred more must not grow the heap */
#define FAILS	200

TEST_F_TIMEOUT(bad, nobody_runs_the_stream, 120)
{
	snd_pcm_t *pcm;

	ASSERT_FAILS_CLEANLY(FAILS, -EBADFD, snd_pcm_open_shared(&pcm, "hw:Loopback,0,3",
								 SND_PCM_STREAM_PLAYBACK, 0));
	ASSERT_FAILS_CLEANLY(FAILS, -EBADFD, snd_pcm_open_shared(&pcm, "hw:Loopback,1,3",
								 SND_PCM_STREAM_CAPTURE, 0));
}

TEST_F_TIMEOUT(bad, stream_not_set_up, 120)
{
	snd_pcm_t *pcm;

	self->master[0] = setup_master(_metadata, "hw:Dummy,0,4", 0);
	self->fds = count_fds();
	ASSERT_FAILS_CLEANLY(FAILS, -EBADFD, snd_pcm_open_shared(&pcm, "hw:Dummy,0,4",
								 SND_PCM_STREAM_PLAYBACK, 0));
}

TEST_F_TIMEOUT(bad, several_streams_run, 120)
{
	snd_pcm_t *pcm;

	self->master[0] = setup_master(_metadata, "hw:Dummy,0,5", 1);
	self->master[1] = setup_master(_metadata, "hw:Dummy,0,6", 1);
	self->fds = count_fds();
	ASSERT_FAILS_CLEANLY(FAILS, -EINVAL, snd_pcm_open_shared(&pcm, "hw:Dummy",
								 SND_PCM_STREAM_PLAYBACK, 0));
}

TEST_F_TIMEOUT(bad, no_such_subdevice_or_device, 120)
{
	snd_pcm_t *pcm;

	ASSERT_FAILS_CLEANLY(FAILS, -ENODEV, snd_pcm_open_shared(&pcm, "hw:Loopback,0,9",
								 SND_PCM_STREAM_PLAYBACK, 0));
	ASSERT_FAILS_CLEANLY(FAILS, -ENOENT, snd_pcm_open_shared(&pcm, "hw:Loopback,5",
								 SND_PCM_STREAM_PLAYBACK, 0));
}

TEST_F_TIMEOUT(bad, not_type_hw, 120)
{
	snd_pcm_t *pcm;

	self->master[0] = setup_master(_metadata, "hw:Loopback,0,1", 1);
	self->fds = count_fds();
	ASSERT_FAILS_CLEANLY(FAILS, -EINVAL, snd_pcm_open_shared(&pcm, "plug_alias",
								 SND_PCM_STREAM_PLAYBACK, 0));
	ASSERT_FAILS_CLEANLY(FAILS, -EINVAL, snd_pcm_open_shared(&pcm, "plughw:Loopback,0,1",
								 SND_PCM_STREAM_PLAYBACK, 0));
}

TEST_F_TIMEOUT(bad, fd_not_a_pcm, 120)
{
	snd_pcm_t *pcm;
	char node[64];
	int fd;

	snprintf(node, sizeof(node), "/dev/snd/controlC%d", card_index("Loopback"));
	fd = open(node, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, fd);
	self->fds = count_fds();
	ASSERT_FAILS_CLEANLY(FAILS, -ENOTTY, snd_pcm_open_shared_fd(&pcm, fd, 0));
	close(fd);
}

TEST_F_TIMEOUT(bad, perm_out_of_range, 120)
{
	snd_pcm_t *m;

	m = self->master[0] = setup_master(_metadata, "hw:Dummy,0,5", 1);
	self->fds = count_fds();
	ASSERT_FAILS_CLEANLY(FAILS, -EINVAL, snd_pcm_shared_export(m, SND_PCM_PERM_ALL + 1));
	ASSERT_FAILS_CLEANLY(FAILS, -EINVAL, snd_pcm_shared_export(m, 0x80000000u));
	ASSERT_FAILS_CLEANLY(FAILS, -EINVAL, snd_pcm_shared_export(m, ~0u));
	ASSERT_FAILS_CLEANLY(FAILS, -EINVAL, snd_pcm_perm_restrict(m, 0x40));
	ASSERT_FAILS_CLEANLY(FAILS, -EINVAL, snd_pcm_perm_restrict(m, ~0u));
}

TEST_HARNESS_MAIN
