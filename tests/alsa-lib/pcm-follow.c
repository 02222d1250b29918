// SPDX-License-Identifier: GPL-2.0
/*
 * The follow plugin of alsa-lib (docs/alsa-lib.md), in the VM, with
 * unmodified aplay and arecord from the sysroot.
 *
 * aplay plays a pattern whose frames carry their own number into a
 * loopback, with mmap or with read/write access; arecord records it at the
 * other end (the witness: the master's output must stay sample-exact).
 * Followers, arecord -D follow:..., record what aplay plays: each file must
 * be one stretch of what was played, frame after frame, each sample as it
 * was (a follower starts late, so it holds a stretch, not all). When aplay
 * goes, the followers end with an error instead of waiting forever. Then
 * arecord as the master of a loopback capture, followed by a second
 * arecord; a follower stopped for longer than its buffer, which must get
 * an overrun and go on; a master killed under its follower; the plugin
 * through the API, with poll, an overrun and the disconnect, measuring how
 * far the follower is behind the master; and configurations that must
 * fail with a message that says why.
 *
 * Nothing here asserts a duration: the waits are bounds on progress.
 */
#include <poll.h>
#include "pcm-shared-lib.h"
#include "kselftest_harness.h"

#define CONF_HOME	"/tmp/xdg-follow"
#define NO_SUCH_DEVICE	"No such device"

/* configurations that must fail, in a private place */
__attribute__((constructor)) static void setup_files(void)
{
	FILE *fp;

	mkdir(CONF_HOME, 0755);
	mkdir(CONF_HOME "/alsa", 0755);
	fp = fopen(CONF_HOME "/alsa/asoundrc", "w");
	if (fp) {
		fputs("pcm.follow_plughw {\n\ttype follow\n\tslave.pcm \"plughw:Loopback,0\"\n}\n"
		      "pcm.follow_null {\n\ttype follow\n\tslave.pcm \"null\"\n}\n"
		      "pcm.follow_no_slave {\n\ttype follow\n}\n"
		      "pcm.follow_unknown_field {\n\ttype follow\n"
		      "\tslave.pcm \"hw:Loopback,0\"\n\tcolour blue\n}\n"
		      "pcm.follow_bad_stream {\n\ttype follow\n"
		      "\tslave.pcm \"hw:Loopback,0\"\n\tstream sideways\n}\n",
		      fp);
		fclose(fp);
	}
	setenv("XDG_CONFIG_HOME", CONF_HOME, 1);
	write_pattern_file(PATTERN_FILE, PATTERN_FRAMES);
}

/*
 * What a follower recorded, frame by frame, against what aplay played: the
 * pattern, then silence. Stretches of frames that follow each other; gaps
 * between them; never a frame repeated, out of order, or not played.
 */
struct stretches {
	size_t frames;		/* in the recording */
	int count;
	long first, last;	/* played frames: the first and the last seen */
	long pattern;		/* frames of the pattern seen */
	char why[200];		/* what is wrong, or "" */
};

static void find_stretches(const short *rec, size_t frames, long pattern_frames,
			   struct stretches *s)
{
	long prev = -1, n;
	size_t i;

	memset(s, 0, sizeof(*s));
	s->frames = frames;
	for (i = 0; i < frames; i++) {
		const short *f = rec + i * CHANNELS;

		n = pattern_index(f);
		if (n >= pattern_frames || (n < 0 && (f[0] || f[1]))) {
			snprintf(s->why, sizeof(s->why),
				 "frame %zu (%hd %hd) is none that aplay played",
				 i, f[0], f[1]);
			return;
		}
		if (n < 0) {
			/* silence: it comes after the pattern, and only there */
			if (i == 0) {
				snprintf(s->why, sizeof(s->why),
					 "the recording starts after the pattern");
				return;
			}
			n = prev >= pattern_frames - 1 ? prev + 1 : pattern_frames;
		} else {
			s->pattern++;
		}
		if (i == 0) {
			s->count = 1;
			s->first = n;
		} else if (n <= prev) {
			snprintf(s->why, sizeof(s->why),
				 "frame %zu is played frame %ld, after %ld", i, n, prev);
			return;
		} else if (n != prev + 1) {
			s->count++;
		}
		prev = n;
	}
	s->last = prev;
}

/* the follower's recording, checked: its stretches */
static void recording_stretches(struct __test_metadata *_metadata,
				const char *file, int s32, long pattern_frames,
				struct stretches *s)
{
	size_t len, frames, i;
	char *data = read_file(file, &len);
	short *rec;

	ASSERT_NE(NULL, data) TH_LOG("no recording %s", file);
	/* S32_LE through plug: the S16 sample in the upper half */
	frames = len / (CHANNELS * (s32 ? 4 : 2));
	rec = (short *)data;
	if (s32) {
		const int *w = (const int *)data;

		for (i = 0; i < frames * CHANNELS; i++) {
			if (w[i] & 0xffff) {
				snprintf(s->why, sizeof(s->why),
					 "sample %zu of %s (0x%08x) is no S16 sample", i,
					 file, w[i]);
				free(data);
				return;
			}
			rec[i] = w[i] >> 16;
		}
	}
	find_stretches(rec, frames, pattern_frames, s);
	free(data);
	TH_LOG("%s: %zu frames, %d stretch(es), played frames %ld to %ld%s%s",
	       file, s->frames, s->count, s->first, s->last,
	       s->why[0] ? ": " : "", s->why);
}

/* a follower that ended because its master went: with an error, no hang */
static void assert_follower_ended(struct __test_metadata *_metadata, pid_t *pid,
				  const char *log)
{
	int status = wait_exit(*pid, WAIT_EXIT_MS);
	char *text;

	if (status < 0)
		stop_process(pid);
	*pid = 0;
	ASSERT_LE(0, status) TH_LOG("the follower (%s) did not end when its master did", log);
	text = read_file(log, NULL);
	EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) != 0)
		TH_LOG("the follower ended with status %d", status);
	EXPECT_TRUE(text && strstr(text, NO_SUCH_DEVICE))
		TH_LOG("the follower's log:\n%s", text);
	free(text);
}

/* arecord following name into a recording of its own, none before */
static pid_t spawn_follower(const char *log, const char *name, const char *file,
			    const char *const extra[])
{
	unlink(file);
	return spawn_alsa_util("arecord", log, name, 0, file, extra);
}

/* arecord recording into file: until it has written n frames */
static void wait_recorded(struct __test_metadata *_metadata, pid_t pid,
			  const char *log, const char *file, size_t frames)
{
	long long end = now_ms() + WAIT_START_MS;
	struct stat st;
	int status = -1;
	char *text;

	while (stat(file, &st) < 0 || (size_t)st.st_size < frames * CHANNELS * 2) {
		if (now_ms() > end || waitpid(pid, &status, WNOHANG) != 0) {
			text = read_file(log, NULL);
			ASSERT_TRUE(0) TH_LOG("%s: not %zu frames recorded (arecord %s %d); %s:\n%s",
					      file, frames, status < 0 ? "runs" :
					      WIFSIGNALED(status) ? "killed by signal" :
					      "exited with", status < 0 ? 0 :
					      WIFSIGNALED(status) ? WTERMSIG(status) :
					      WEXITSTATUS(status), log, text);
		}
		sleep_ms(20);
	}
}

/*
 * The frame of the pattern the master plays next, read in its buffer:
 * the newest it has written, less what it has queued (the frame at the hw
 * pointer is an old one when the queue is empty), or -1 in the silence
 * after the pattern.
 */
static long master_position(struct __test_metadata *_metadata, snd_pcm_t *probe)
{
	const snd_pcm_channel_area_t *areas;
	snd_pcm_uframes_t appl, again, frames;
	snd_pcm_sframes_t avail;
	long newest;
	int i;

	/* the hw pointer as of now, not as of the last interrupt */
	ASSERT_EQ(0, snd_pcm_hwsync(probe));
	for (i = 0; i < 1000; i++) {
		frames = BUFFER;
		ASSERT_EQ(0, snd_pcm_mmap_begin(probe, &areas, &appl, &frames));
		avail = snd_pcm_avail_update(probe);
		ASSERT_LE(0, avail);
		newest = pattern_index(area_frame(areas, (appl + BUFFER - 1) % BUFFER));
		frames = BUFFER;
		ASSERT_EQ(0, snd_pcm_mmap_begin(probe, &areas, &again, &frames));
		if (again == appl)
			return newest < 0 ? -1 : newest + 1 - (BUFFER - avail);
	}
	ASSERT_TRUE(0) TH_LOG("the master's pointers do not hold still");
	return -1;
}

/* until the master has played n frames more than at from */
static void wait_master_past(struct __test_metadata *_metadata, snd_pcm_t *probe,
			     long from, long frames)
{
	long long end = now_ms() + WAIT_EXIT_MS;

	while (master_position(_metadata, probe) < from + frames) {
		ASSERT_GT(end, now_ms()) TH_LOG("the master does not get past %ld",
						from + frames);
		sleep_ms(20);
	}
}

/*
 * aplay playing the pattern without end (pattern_feed_start()), held back
 * before its stream starts: it sets the stream up, queues half a buffer
 * and waits for more, so that followers can attach before a frame is
 * played, and see those frames queued. release_master() lets the rest
 * through; aplay starts the stream once its buffer is full, as with any
 * file, and plays on until end_master() or stop_master().
 */
struct gated_master {
	pid_t aplay;
	struct pattern_feed feed;
};

static void hold_master(struct __test_metadata *_metadata, struct gated_master *m,
			const char *dev, int mmap, const char *log)
{
	long long end = now_ms() + WAIT_START_MS;
	snd_pcm_status_t *status;
	snd_pcm_t *probe;
	int err;

	ASSERT_EQ(0, pattern_feed_start(&m->feed, strrchr(dev, ':') + 1, 1));
	m->aplay = spawn_alsa_util("aplay", log, dev, mmap, m->feed.fifo, NULL);
	ASSERT_LT(0, m->aplay);
	err = open_shared_wait(&probe, dev, SND_PCM_STREAM_PLAYBACK, SND_PCM_STATE_PREPARED);
	ASSERT_EQ(0, err) TH_LOG("aplay does not set %s up: %s", dev, snd_strerror(err));
	/* aplay sets the stream up before it writes: until all is queued */
	snd_pcm_status_alloca(&status);
	for (;;) {
		err = snd_pcm_status(probe, status);
		if (err < 0 || snd_pcm_status_get_avail(status) <= BUFFER / 2 ||
		    now_ms() > end)
			break;
		sleep_ms(10);
	}
	snd_pcm_close(probe);
	ASSERT_EQ(0, err) TH_LOG("%s: %s", dev, snd_strerror(err));
	ASSERT_GE(BUFFER / 2, snd_pcm_status_get_avail(status))
		TH_LOG("aplay does not queue half a buffer on %s", dev);
	ASSERT_EQ(SND_PCM_STATE_PREPARED, snd_pcm_status_get_state(status));
}

static void release_master(struct gated_master *m)
{
	pattern_feed_release(&m->feed);
}

/* the pattern comes to its end, aplay plays it out: the frames of it */
static long end_master(struct __test_metadata *_metadata, struct gated_master *m)
{
	long played = pattern_feed_end(&m->feed);

	EXPECT_LE(PATTERN_FRAMES, played) TH_LOG("the pattern's feed: %s", strerror(-played));
	return played;
}

/* at once; the frames of the pattern that aplay may have played */
static long stop_master(struct gated_master *m)
{
	stop_process(&m->aplay);
	return pattern_feed_stop(&m->feed);
}

/*
 * aplay plays into a loopback, the witness records the other end, and
 * followers record what aplay plays.
 */
#define FOLLOWERS	3

FIXTURE(playback) {
	struct gated_master master;
	pid_t witness, follower[FOLLOWERS];
	long pattern_frames;
	char dev[32], aplay_log[64], witness_log[64], witness_rec[64];
	char name[FOLLOWERS][96], log[FOLLOWERS][64], rec[FOLLOWERS][64];
};

FIXTURE_VARIANT(playback) {
	int mmap;		/* aplay -M */
	int sub;		/* of the loopback */
	const char *name;	/* the first follower's name */
};

FIXTURE_VARIANT_ADD(playback, aplay_mmap) {
	.mmap = 1, .sub = 0, .name = "follow:CARD=Loopback,DEV=0,SUBDEV=0",
};
/* read/write access: followers map the buffer read-only all the same */
FIXTURE_VARIANT_ADD(playback, aplay_rw) {
	.mmap = 0, .sub = 1, .name = "follow:CARD=Loopback,DEV=0,SUBDEV=1",
};
/* no subdevice: the one of the device whose stream is set up */
FIXTURE_VARIANT_ADD(playback, short_name) {
	.mmap = 1, .sub = 2, .name = "follow:Loopback",
};

/* the witness records, aplay has set its stream up and waits */
static void hold_playback(struct __test_metadata *_metadata, FIXTURE_DATA(playback) *self,
			  const FIXTURE_VARIANT(playback) *variant)
{
	char dev[32];
	snd_pcm_t *probe;
	int err;

	/* the other end captures first, so that no frame gets lost */
	snprintf(dev, sizeof(dev), "hw:Loopback,1,%d", variant->sub);
	snprintf(self->witness_log, sizeof(self->witness_log), "/tmp/witness%d.log",
		 variant->sub);
	snprintf(self->witness_rec, sizeof(self->witness_rec), "/tmp/witness%d.raw",
		 variant->sub);
	self->witness = spawn_alsa_util("arecord", self->witness_log, dev, 0,
					self->witness_rec, NULL);
	ASSERT_LT(0, self->witness);
	err = open_shared_running(&probe, dev, SND_PCM_STREAM_CAPTURE);
	ASSERT_EQ(0, err) TH_LOG("arecord on %s does not run: %s", dev, snd_strerror(err));
	snd_pcm_close(probe);

	snprintf(self->dev, sizeof(self->dev), "hw:Loopback,0,%d", variant->sub);
	snprintf(self->aplay_log, sizeof(self->aplay_log), "/tmp/aplay%d.log", variant->sub);
	hold_master(_metadata, &self->master, self->dev, variant->mmap, self->aplay_log);
}

FIXTURE_SETUP(playback)
{
}

FIXTURE_TEARDOWN(playback)
{
	int i;

	for (i = 0; i < FOLLOWERS; i++)
		stop_process(&self->follower[i]);
	stop_master(&self->master);
	stop_process(&self->witness);
}

/*
 * The pattern comes to its end; aplay played it to its end undisturbed,
 * and the witness got every frame
 */
static void assert_master_undisturbed(struct __test_metadata *_metadata,
				      FIXTURE_DATA(playback) *self)
{
	int status;
	char *why;

	self->pattern_frames = end_master(_metadata, &self->master);
	status = wait_exit(self->master.aplay, WAIT_EXIT_MS);
	if (status < 0)
		stop_process(&self->master.aplay);
	self->master.aplay = 0;
	ASSERT_TRUE(status >= 0 && WIFEXITED(status) && WEXITSTATUS(status) == 0)
		TH_LOG("aplay ended with status %d", status);
	why = log_trouble(self->aplay_log);
	EXPECT_EQ(NULL, why) TH_LOG("aplay printed '%s'", why);
	free(why);
	why = witness_verdict(&self->witness, self->witness_log, self->witness_rec,
			      self->pattern_frames);
	EXPECT_EQ(NULL, why) TH_LOG("at the loopback's other end: %s", why);
	free(why);
}

/*
 * Three followers at once, by three names: the variant's, the one with
 * every argument, and plug on top converting to S32_LE. Each recording is
 * one stretch of what aplay played, sample-exact; each follower ends with
 * an error when aplay has gone; aplay's output is as it was.
 */
TEST_F_TIMEOUT(playback, followers_sample_exact, 180)
{
	static const char *const s32[] = { "-f", "S32_LE", NULL };
	struct stretches s;
	int i;

	hold_playback(_metadata, self, variant);
	snprintf(self->name[0], sizeof(self->name[0]), "%s", variant->name);
	snprintf(self->name[1], sizeof(self->name[1]),
		 "follow:CARD=Loopback,DEV=0,SUBDEV=%d,STREAM=playback", variant->sub);
	snprintf(self->name[2], sizeof(self->name[2]),
		 "plug:'follow:CARD=Loopback,DEV=0,SUBDEV=%d'", variant->sub);
	for (i = 0; i < FOLLOWERS; i++) {
		snprintf(self->log[i], sizeof(self->log[i]), "/tmp/follower%d.log", i);
		snprintf(self->rec[i], sizeof(self->rec[i]), "/tmp/follower%d.raw", i);
		self->follower[i] = spawn_follower(self->log[i], self->name[i], self->rec[i],
						   i == 2 ? s32 : NULL);
		ASSERT_LT(0, self->follower[i]);
	}
	for (i = 0; i < FOLLOWERS; i++)
		wait_recorded(_metadata, self->follower[i], self->log[i], self->rec[i], 0);
	release_master(&self->master);
	for (i = 0; i < FOLLOWERS; i++)
		wait_recorded(_metadata, self->follower[i], self->log[i], self->rec[i],
			      PATTERN_FRAMES / 2);

	assert_master_undisturbed(_metadata, self);
	for (i = 0; i < FOLLOWERS; i++) {
		assert_follower_ended(_metadata, &self->follower[i], self->log[i]);
		recording_stretches(_metadata, self->rec[i], i == 2, self->pattern_frames, &s);
		EXPECT_STREQ("", s.why) TH_LOG("%s", self->name[i]);
		EXPECT_EQ(1, s.count) TH_LOG("%s: %d stretches", self->name[i], s.count);
		EXPECT_LE(PERIOD, s.pattern) TH_LOG("%s: %ld frames of the pattern",
						    self->name[i], s.pattern);
	}
}

/*
 * A follower stopped (SIGSTOP) while the master plays on for more than its
 * buffer and the master's: an overrun when it runs again, which arecord
 * reports and recovers from; the recording is stretches in order, a gap
 * between them, no frame repeated or wrong.
 */
TEST_F_TIMEOUT(playback, slow_follower_overruns, 180)
{
	static const char *const small[] = { "--buffer-size=4096", NULL };
	snd_pcm_t *probe;
	struct stretches s;
	char *log;
	long pos;

	hold_playback(_metadata, self, variant);
	self->follower[0] = spawn_follower("/tmp/slow.log", variant->name, "/tmp/slow.raw",
					   small);
	ASSERT_LT(0, self->follower[0]);
	wait_recorded(_metadata, self->follower[0], "/tmp/slow.log", "/tmp/slow.raw", 0);
	release_master(&self->master);
	ASSERT_EQ(0, open_shared_running(&probe, self->dev, SND_PCM_STREAM_PLAYBACK));
	wait_recorded(_metadata, self->follower[0], "/tmp/slow.log", "/tmp/slow.raw",
		      2 * PERIOD);

	kill(self->follower[0], SIGSTOP);
	pos = master_position(_metadata, probe);
	ASSERT_LE(0, pos);
	wait_master_past(_metadata, probe, pos, BUFFER + 4096 + 2 * PERIOD);
	kill(self->follower[0], SIGCONT);
	TH_LOG("the follower was stopped from about frame %ld to %ld", pos,
	       master_position(_metadata, probe));
	snd_pcm_close(probe);

	assert_master_undisturbed(_metadata, self);
	assert_follower_ended(_metadata, &self->follower[0], "/tmp/slow.log");
	log = read_file("/tmp/slow.log", NULL);
	EXPECT_TRUE(log && strstr(log, "overrun!!!")) TH_LOG("arecord's log:\n%s", log);
	if (log && strstr(log, "overrun!!!"))
		TH_LOG("arecord: %.*s", (int)strcspn(strstr(log, "overrun!!!"), "\n"),
		       strstr(log, "overrun!!!"));
	free(log);
	recording_stretches(_metadata, "/tmp/slow.raw", 0, self->pattern_frames, &s);
	EXPECT_STREQ("", s.why);
	EXPECT_LE(2, s.count) TH_LOG("no gap where the follower was stopped");
}

/* the master killed under its follower: the follower ends with an error */
TEST_F_TIMEOUT(playback, master_killed, 120)
{
	struct stretches s;
	long played;

	hold_playback(_metadata, self, variant);
	self->follower[0] = spawn_follower("/tmp/orphan.log", variant->name, "/tmp/orphan.raw",
					   NULL);
	ASSERT_LT(0, self->follower[0]);
	wait_recorded(_metadata, self->follower[0], "/tmp/orphan.log", "/tmp/orphan.raw", 0);
	release_master(&self->master);
	wait_recorded(_metadata, self->follower[0], "/tmp/orphan.log", "/tmp/orphan.raw",
		      2 * PERIOD);
	played = stop_master(&self->master);
	assert_follower_ended(_metadata, &self->follower[0], "/tmp/orphan.log");
	recording_stretches(_metadata, "/tmp/orphan.raw", 0, played, &s);
	EXPECT_STREQ("", s.why);
	EXPECT_EQ(1, s.count);
}

/*
 * arecord as the master of a loopback capture, with mmap or read/write
 * access, and a second arecord following it: the follower's recording is
 * a stretch of the master's, sample by sample.
 */
FIXTURE(capture) {
	pid_t aplay, master, follower;
};

FIXTURE_VARIANT(capture) {
	int mmap;
	const char *name;
};

FIXTURE_VARIANT_ADD(capture, arecord_mmap) {
	.mmap = 1, .name = "follow:CARD=Loopback,DEV=1,SUBDEV=4",
};
FIXTURE_VARIANT_ADD(capture, arecord_rw) {
	.mmap = 0, .name = "follow:CARD=Loopback,DEV=1,SUBDEV=4,STREAM=capture",
};

FIXTURE_SETUP(capture)
{
}

FIXTURE_TEARDOWN(capture)
{
	stop_process(&self->follower);
	stop_process(&self->aplay);
	stop_process(&self->master);
}

TEST_F_TIMEOUT(capture, follower_is_a_stretch_of_the_master, 180)
{
	snd_pcm_t *probe;
	short *mrec, *frec;
	size_t mlen, flen, mframes, fframes, i, j, k;
	long n = -1, pattern = 0;
	char *trouble;
	int status;

	self->master = spawn_alsa_util("arecord", "/tmp/cmaster.log", "hw:Loopback,1,4",
				       variant->mmap, "/tmp/cmaster.raw", NULL);
	ASSERT_LT(0, self->master);
	ASSERT_EQ(0, open_shared_running(&probe, "hw:Loopback,1,4", SND_PCM_STREAM_CAPTURE));
	snd_pcm_close(probe);
	self->follower = spawn_follower("/tmp/cfollower.log", variant->name,
					"/tmp/cfollower.raw", NULL);
	ASSERT_LT(0, self->follower);
	wait_recorded(_metadata, self->follower, "/tmp/cfollower.log",
		      "/tmp/cfollower.raw", 1);
	self->aplay = spawn_alsa_util("aplay", "/tmp/caplay.log", "hw:Loopback,0,4", 0,
				      PATTERN_FILE, NULL);
	ASSERT_LT(0, self->aplay);
	status = wait_exit(self->aplay, WAIT_EXIT_MS);
	self->aplay = 0;
	ASSERT_TRUE(status >= 0 && WIFEXITED(status) && WEXITSTATUS(status) == 0);

	/* the master stops; the follower ends with an error */
	sleep_ms(300);
	kill(self->master, SIGINT);
	status = wait_exit(self->master, WAIT_EXIT_MS);
	self->master = 0;
	ASSERT_LE(0, status);
	EXPECT_EQ(NULL, (trouble = log_trouble("/tmp/cmaster.log")))
		TH_LOG("the master printed '%s'", trouble);
	free(trouble);
	assert_follower_ended(_metadata, &self->follower, "/tmp/cfollower.log");

	mrec = (short *)read_file("/tmp/cmaster.raw", &mlen);
	frec = (short *)read_file("/tmp/cfollower.raw", &flen);
	ASSERT_NE(NULL, mrec);
	ASSERT_NE(NULL, frec);
	mframes = mlen / (CHANNELS * 2);
	fframes = flen / (CHANNELS * 2);
	ASSERT_EQ(PATTERN_FRAMES, pattern_in_order(mrec, mframes, &j));
	/* where the follower's recording lies in the master's */
	for (i = 0; i < fframes; i++)
		if ((n = pattern_index(frec + i * CHANNELS)) >= 0)
			break;
	ASSERT_GT(fframes, i) TH_LOG("the follower recorded none of the pattern");
	ASSERT_LE(i, j + n) TH_LOG("the follower has more before frame %ld than the master", n);
	j = j + n - i;
	for (k = 0; k < fframes && j + k < mframes; k++) {
		if (memcmp(frec + k * CHANNELS, mrec + (j + k) * CHANNELS, CHANNELS * 2))
			break;
		if (pattern_index(frec + k * CHANNELS) >= 0)
			pattern++;
	}
	EXPECT_TRUE(k == fframes || j + k == mframes)
		TH_LOG("frame %zu of the follower (%hd %hd) is not frame %zu of the master (%hd %hd)",
		       k, frec[k * CHANNELS], frec[k * CHANNELS + 1], j + k,
		       mrec[(j + k) * CHANNELS], mrec[(j + k) * CHANNELS + 1]);
	/* what it has beyond what the master wrote to its file: silence */
	for (; k < fframes; k++)
		if (frec[k * CHANNELS] || frec[k * CHANNELS + 1])
			break;
	EXPECT_EQ(fframes, k) TH_LOG("frame %zu of the follower, beyond the master's file, "
				     "is not silence", k);
	EXPECT_LE(PERIOD, pattern);
	TH_LOG("the follower's %zu frames are the master's from frame %zu, %ld of the pattern",
	       fframes, j, pattern);
	free(mrec);
	free(frec);
}

/*
 * The plugin through the API, in this process: the setup it allows, poll,
 * an overrun and its recovery, the disconnect; and how far behind the
 * master the follower is when it wakes up.
 */
FIXTURE(api) {
	struct gated_master master;
	snd_pcm_t *probe, *pcm;
	long next;		/* the frame expected next */
	long lag[4096];		/* master position - frame after the newest */
	int nlag, gaps;
};

FIXTURE_VARIANT(api) {
	int mmap;
};

FIXTURE_VARIANT_ADD(api, aplay_mmap) {
	.mmap = 1,
};
FIXTURE_VARIANT_ADD(api, aplay_rw) {
	.mmap = 0,
};

#define API_NAME	"follow:CARD=Loopback,DEV=0,SUBDEV=7"
#define API_PERIOD	256
#define API_BUFFER	16384	/* 1 s, as the master's: room for a busy VM */

FIXTURE_SETUP(api)
{
	hold_master(_metadata, &self->master, "hw:Loopback,0,7", variant->mmap,
		    "/tmp/api-aplay.log");
	/* started before the master: from its first frame on */
	self->next = 0;
}

FIXTURE_TEARDOWN(api)
{
	if (self->pcm)
		snd_pcm_close(self->pcm);
	if (self->probe)
		snd_pcm_close(self->probe);
	stop_master(&self->master);
}

/*
 * Wait with poll until the follower says there are frames, and take them
 * all: each the one after the one before (a gap only when allowed), and
 * never less than avail_min when poll woke up for them.
 */
static void take_frames(struct __test_metadata *_metadata, FIXTURE_DATA(api) *self,
			int gap_allowed)
{
	const snd_pcm_channel_area_t *areas;
	snd_pcm_uframes_t off, frames, i;
	struct pollfd pfd[4];
	unsigned short revents = 0;
	snd_pcm_sframes_t avail;
	long long end = now_ms() + WAIT_START_MS;
	long n, pos;
	int nfds = snd_pcm_poll_descriptors_count(self->pcm);

	ASSERT_LE(1, nfds);
	ASSERT_GE(4, nfds);
	ASSERT_EQ(nfds, snd_pcm_poll_descriptors(self->pcm, pfd, nfds));
	do {
		ASSERT_GT(end, now_ms()) TH_LOG("poll did not report frames");
		if (poll(pfd, nfds, 1000) <= 0)
			continue;
		ASSERT_EQ(0, snd_pcm_poll_descriptors_revents(self->pcm, pfd, nfds, &revents));
		ASSERT_EQ(0, revents & (POLLERR | POLLNVAL));
	} while (!(revents & POLLIN));

	avail = snd_pcm_avail_update(self->pcm);
	ASSERT_LE(API_PERIOD, avail) TH_LOG("poll woke up for %ld frames", avail);
	frames = avail;
	ASSERT_EQ(0, snd_pcm_mmap_begin(self->pcm, &areas, &off, &frames));
	for (i = 0; i < frames; i++) {
		n = pattern_index(area_frame(areas, off + i));
		ASSERT_LE(0, n) TH_LOG("frame %lu is not the pattern", i);
		if (n != self->next) {
			ASSERT_TRUE(gap_allowed && n > self->next)
				TH_LOG("frame %ld after frame %ld", n, self->next - 1);
			self->gaps++;
		}
		self->next = n + 1;
	}
	/* how far the master has gone beyond the newest frame */
	pos = master_position(_metadata, self->probe);
	if (pos >= 0 && self->nlag < (int)(sizeof(self->lag) / sizeof(self->lag[0])))
		self->lag[self->nlag++] = pos - self->next;
	ASSERT_EQ((snd_pcm_sframes_t)frames, snd_pcm_mmap_commit(self->pcm, off, frames));
}

static int cmp_long(const void *a, const void *b)
{
	long x = *(const long *)a, y = *(const long *)b;

	return x < y ? -1 : x > y;
}

TEST_F_TIMEOUT(api, poll_overrun_disconnect, 180)
{
	snd_pcm_hw_params_t *hw;
	snd_pcm_sw_params_t *sw;
	snd_pcm_uframes_t size;
	snd_pcm_sframes_t avail;
	struct pollfd pfd[4];
	unsigned short revents = 0;
	long long end;
	short frame[CHANNELS];
	long pos, sum = 0;
	int i, nfds;

	/* capture only */
	EXPECT_EQ(-EINVAL, snd_pcm_open(&self->pcm, API_NAME, SND_PCM_STREAM_PLAYBACK, 0));
	ASSERT_EQ(0, snd_pcm_open(&self->pcm, API_NAME, SND_PCM_STREAM_CAPTURE, 0));
	EXPECT_EQ(SND_PCM_TYPE_FOLLOW, snd_pcm_type(self->pcm));

	/* the master's format, rate and channels, and nothing else */
	snd_pcm_hw_params_alloca(&hw);
	snd_pcm_sw_params_alloca(&sw);
	ASSERT_EQ(0, snd_pcm_hw_params_any(self->pcm, hw));
	EXPECT_GT(0, snd_pcm_hw_params_set_format(self->pcm, hw, SND_PCM_FORMAT_S32_LE));
	EXPECT_GT(0, snd_pcm_hw_params_set_channels(self->pcm, hw, 1));
	EXPECT_GT(0, snd_pcm_hw_params_set_rate(self->pcm, hw, 48000, 0));
	ASSERT_EQ(0, snd_pcm_hw_params_set_access(self->pcm, hw,
						  SND_PCM_ACCESS_MMAP_INTERLEAVED));
	ASSERT_EQ(0, snd_pcm_hw_params_set_format(self->pcm, hw, SND_PCM_FORMAT_S16_LE));
	ASSERT_EQ(0, snd_pcm_hw_params_set_channels(self->pcm, hw, CHANNELS));
	ASSERT_EQ(0, snd_pcm_hw_params_set_rate(self->pcm, hw, RATE, 0));
	ASSERT_EQ(0, snd_pcm_hw_params_set_period_size(self->pcm, hw, API_PERIOD, 0));
	ASSERT_EQ(0, snd_pcm_hw_params_set_buffer_size(self->pcm, hw, API_BUFFER));
	ASSERT_EQ(0, snd_pcm_hw_params(self->pcm, hw));
	ASSERT_EQ(0, snd_pcm_sw_params_current(self->pcm, sw));
	ASSERT_EQ(0, snd_pcm_sw_params_get_avail_min(sw, &size));
	EXPECT_EQ(API_PERIOD, size);
	ASSERT_EQ(SND_PCM_STATE_PREPARED, snd_pcm_state(self->pcm));
	ASSERT_EQ(0, snd_pcm_start(self->pcm));
	release_master(&self->master);
	ASSERT_EQ(0, open_shared_running(&self->probe, "hw:Loopback,0,7",
					 SND_PCM_STREAM_PLAYBACK));

	/* woken up by poll for every period, all of it in order, from frame 0 */
	for (i = 0; i < 64; i++)
		take_frames(_metadata, self, 0);
	ASSERT_LT(0, self->nlag);
	qsort(self->lag, self->nlag, sizeof(self->lag[0]), cmp_long);
	for (i = 0; i < self->nlag; i++)
		sum += self->lag[i];
	TH_LOG("behind the master when woken up (%s master, period %d): "
	       "min %ld, median %ld, mean %ld, max %ld frames over %d wake-ups (%d Hz)",
	       variant->mmap ? "mmap" : "read/write", API_PERIOD, self->lag[0],
	       self->lag[self->nlag / 2], sum / self->nlag, self->lag[self->nlag - 1],
	       self->nlag, RATE);

	/* left alone for longer than its buffer and the master's: an overrun */
	pos = master_position(_metadata, self->probe);
	wait_master_past(_metadata, self->probe, pos, BUFFER + API_BUFFER + 2 * PERIOD);
	EXPECT_EQ(-EPIPE, snd_pcm_avail_update(self->pcm));
	EXPECT_EQ(SND_PCM_STATE_XRUN, snd_pcm_state(self->pcm));
	EXPECT_EQ(-EPIPE, snd_pcm_mmap_readi(self->pcm, frame, 1));
	ASSERT_EQ(0, snd_pcm_recover(self->pcm, -EPIPE, 1));
	ASSERT_EQ(SND_PCM_STATE_PREPARED, snd_pcm_state(self->pcm));
	ASSERT_EQ(0, snd_pcm_start(self->pcm));
	take_frames(_metadata, self, 1);
	EXPECT_EQ(1, self->gaps);
	for (i = 0; i < 8; i++)
		take_frames(_metadata, self, 0);

	/* the master goes: poll reports an error, the calls -ENODEV */
	stop_master(&self->master);
	nfds = snd_pcm_poll_descriptors_count(self->pcm);
	ASSERT_EQ(nfds, snd_pcm_poll_descriptors(self->pcm, pfd, nfds));
	end = now_ms() + WAIT_EXIT_MS;
	do {
		ASSERT_GT(end, now_ms()) TH_LOG("poll did not report the master gone");
		if (poll(pfd, nfds, 1000) <= 0)
			continue;
		ASSERT_EQ(0, snd_pcm_poll_descriptors_revents(self->pcm, pfd, nfds, &revents));
		/* what was delivered before may still be taken */
		if (revents & POLLIN) {
			avail = snd_pcm_avail_update(self->pcm);
			if (avail > 0)
				snd_pcm_forward(self->pcm, avail);
		}
	} while (!(revents & POLLERR));
	EXPECT_EQ(SND_PCM_STATE_DISCONNECTED, snd_pcm_state(self->pcm));
	EXPECT_EQ(-ENODEV, snd_pcm_avail_update(self->pcm));
	EXPECT_EQ(-ENODEV, snd_pcm_mmap_readi(self->pcm, frame, 1));
	EXPECT_EQ(-ENODEV, snd_pcm_prepare(self->pcm));
	EXPECT_EQ(-ENODEV, snd_pcm_wait(self->pcm, 1000));
	EXPECT_EQ(0, snd_pcm_close(self->pcm));
	self->pcm = NULL;
}

/*
 * Configurations that cannot follow: each arecord or aplay fails, with a
 * message that says why.
 */
FIXTURE(bad) {
	struct gated_master master;
};

/* a stream to follow on subdevice 3, set up and held there throughout */
FIXTURE_SETUP(bad)
{
	hold_master(_metadata, &self->master, "hw:Loopback,0,3", 1, "/tmp/bad-aplay.log");
}

FIXTURE_TEARDOWN(bad)
{
	stop_master(&self->master);
}

/* prog -D name fails within the bounds, and says what was to be said */
static void assert_fails(struct __test_metadata *_metadata, const char *prog,
			 const char *name, const char *const extra[], const char *says)
{
	pid_t pid = spawn_alsa_util(prog, "/tmp/bad.log", name, 0,
				    strcmp(prog, "aplay") ? "/tmp/bad.raw" : PATTERN_FILE,
				    extra);
	int status = wait_exit(pid, WAIT_EXIT_MS);
	char *log;

	if (status < 0)
		stop_process(&pid);
	log = read_file("/tmp/bad.log", NULL);
	EXPECT_TRUE(status >= 0 && WIFEXITED(status) && WEXITSTATUS(status) != 0)
		TH_LOG("%s -D %s did not fail (status %d)", prog, name, status);
	EXPECT_TRUE(log && strstr(log, says))
		TH_LOG("%s -D %s: no '%s' in:\n%s", prog, name, says, log);
	free(log);
}

TEST_F_TIMEOUT(bad, configurations_fail_clearly, 180)
{
	static const char *const s32[] = { "-f", "S32_LE", NULL };
	static const char *const mono[] = { "-c", "1", NULL };

	assert_fails(_metadata, "aplay", "follow:CARD=Loopback,DEV=0,SUBDEV=3", NULL,
		     "opens for capture only");
	assert_fails(_metadata, "arecord", "follow:CARD=NoSuchCard,DEV=0", NULL,
		     "cannot attach to the stream to follow");
	assert_fails(_metadata, "arecord", "follow:CARD=Loopback,DEV=0,SUBDEV=6", NULL,
		     "no stream to follow");
	assert_fails(_metadata, "arecord", "follow:CARD=Loopback,DEV=0,SUBDEV=6,STREAM=capture",
		     NULL, "nobody has set up the capture stream");
	assert_fails(_metadata, "arecord", "follow_plughw", NULL,
		     "only type hw can be opened shared");
	assert_fails(_metadata, "arecord", "follow_null", NULL,
		     "only type hw can be opened shared");
	assert_fails(_metadata, "arecord", "follow_no_slave", NULL, "slave is not defined");
	assert_fails(_metadata, "arecord", "follow_unknown_field", NULL, "Unknown field colour");
	assert_fails(_metadata, "arecord", "follow_bad_stream", NULL, "Invalid stream sideways");
	/* the stream runs: what it is not, a follower is not either */
	assert_fails(_metadata, "arecord", "follow:CARD=Loopback,DEV=0,SUBDEV=3", s32,
		     "Sample format non available");
	assert_fails(_metadata, "arecord", "follow:CARD=Loopback,DEV=0,SUBDEV=3", mono,
		     "Channels count non available");
}

TEST_HARNESS_MAIN
