// SPDX-License-Identifier: GPL-2.0
/*
 * The test VM works: snd-dummy and snd-aloop PCMs open and run through the
 * raw PCM UAPI (the patched kernel headers in the sysroot).
 */
#include "kselftest_harness.h"
#include "pcm-util.h"

static void raw_open_run(struct __test_metadata *_metadata, const char *id,
			 int dev, int stream)
{
	struct pcm_setup setup = pcm_default_setup;
	struct snd_pcm_info info;
	struct snd_pcm_status st;
	int card, fd;

	setup.access = SNDRV_PCM_ACCESS_RW_INTERLEAVED;
	card = pcm_find_card(id);
	ASSERT_GE(card, 0) TH_LOG("card %s not found", id);
	fd = pcm_open(card, dev, stream, O_RDWR | O_NONBLOCK);
	ASSERT_GE(fd, 0) TH_LOG("open: %s", strerror(errno));
	memset(&info, 0, sizeof(info));
	ASSERT_EQ(0, xioctl(fd, SNDRV_PCM_IOCTL_INFO, &info));
	EXPECT_EQ(card, info.card);
	EXPECT_EQ(stream, info.stream);
	ASSERT_EQ(0, pcm_configure(fd, &setup));
	ASSERT_EQ(0, xioctl(fd, SNDRV_PCM_IOCTL_PREPARE, NULL));
	ASSERT_EQ(0, xioctl(fd, SNDRV_PCM_IOCTL_START, NULL));
	ASSERT_EQ(0, xioctl(fd, SNDRV_PCM_IOCTL_STATUS, &st));
	EXPECT_EQ(SNDRV_PCM_STATE_RUNNING, st.state);
	ASSERT_EQ(0, xioctl(fd, SNDRV_PCM_IOCTL_DROP, NULL));
	close(fd);
}

TEST(raw_dummy_playback) { raw_open_run(_metadata, "Dummy", 0, SNDRV_PCM_STREAM_PLAYBACK); }
TEST(raw_dummy_capture) { raw_open_run(_metadata, "Dummy", 0, SNDRV_PCM_STREAM_CAPTURE); }
TEST(raw_loopback_playback) { raw_open_run(_metadata, "Loopback", 0, SNDRV_PCM_STREAM_PLAYBACK); }
TEST(raw_loopback_capture) { raw_open_run(_metadata, "Loopback", 1, SNDRV_PCM_STREAM_CAPTURE); }

TEST_HARNESS_MAIN
