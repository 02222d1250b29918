// SPDX-License-Identifier: GPL-2.0
/*
 * The test VM works: snd-dummy and snd-aloop PCMs open and run through the
 * patched alsa-lib in the sysroot.
 */
#include <alsa/asoundlib.h>
#include "kselftest_harness.h"

static void lib_open_run(struct __test_metadata *_metadata, const char *name,
			 snd_pcm_stream_t stream)
{
	short buf[2 * 480] = { 0 };
	snd_pcm_t *pcm;
	int err;

	err = snd_pcm_open(&pcm, name, stream, 0);
	ASSERT_EQ(0, err) TH_LOG("snd_pcm_open(%s): %s", name, snd_strerror(err));
	err = snd_pcm_set_params(pcm, SND_PCM_FORMAT_S16_LE, SND_PCM_ACCESS_RW_INTERLEAVED,
				 2, 48000, 0, 100000);
	ASSERT_EQ(0, err) TH_LOG("snd_pcm_set_params: %s", snd_strerror(err));
	if (stream == SND_PCM_STREAM_PLAYBACK) {
		EXPECT_EQ(480, snd_pcm_writei(pcm, buf, 480));
	} else {
		/* capture starts on its own only once a buffer is asked for */
		EXPECT_EQ(0, snd_pcm_start(pcm));
		EXPECT_EQ(480, snd_pcm_readi(pcm, buf, 480));
	}
	EXPECT_EQ(0, snd_pcm_drop(pcm));
	EXPECT_EQ(0, snd_pcm_close(pcm));
}

TEST(alsa_lib_dummy_playback) { lib_open_run(_metadata, "hw:Dummy,0", SND_PCM_STREAM_PLAYBACK); }
TEST(alsa_lib_dummy_capture) { lib_open_run(_metadata, "hw:Dummy,0", SND_PCM_STREAM_CAPTURE); }
TEST(alsa_lib_loopback_playback) { lib_open_run(_metadata, "hw:Loopback,0,0", SND_PCM_STREAM_PLAYBACK); }
TEST(alsa_lib_loopback_capture) { lib_open_run(_metadata, "hw:Loopback,1,0", SND_PCM_STREAM_CAPTURE); }

TEST_HARNESS_MAIN
