// SPDX-License-Identifier: GPL-2.0
/*
 * snd-testpcm: a virtual sound card for what snd-dummy and snd-aloop
 * cannot show in the test VM: a buffer that needs explicit syncs, and
 * callbacks that wait, as a slow driver's (USB, firmware) do.
 *
 * The buffer is managed and vmalloc'ed without preallocation, so every
 * HW_PARAMS allocates, and every HW_FREE frees, the snd_dma_buffer that
 * describes it; the hardware info says SNDRV_PCM_INFO_EXPLICIT_SYNC, so the
 * PCM core syncs it around position updates. Writing Y to
 * /sys/module/snd_testpcm/parameters/hold makes hw_params wait until N is
 * written, and Y to hold_stop makes the trigger that stops the stream
 * wait (the PCM is nonatomic, so its callbacks may sleep);
 * /sys/module/snd_testpcm/parameters/held counts the callers waiting. The
 * stream never moves: the pointer stays at 0.
 */
#include <linux/init.h>
#include <linux/module.h>
#include <linux/moduleparam.h>
#include <linux/platform_device.h>
#include <linux/sysfs.h>
#include <linux/wait.h>
#include <sound/core.h>
#include <sound/pcm.h>

static DECLARE_WAIT_QUEUE_HEAD(hold_wait);
static bool hold, hold_stop;
static atomic_t held = ATOMIC_INIT(0);

static int hold_set(const char *val, const struct kernel_param *kp)
{
	int err = param_set_bool(val, kp);

	wake_up_all(&hold_wait);
	return err;
}

static const struct kernel_param_ops hold_ops = {
	.set = hold_set,
	.get = param_get_bool,
};
module_param_cb(hold, &hold_ops, &hold, 0644);
MODULE_PARM_DESC(hold, "hw_params waits while this is set");
module_param_cb(hold_stop, &hold_ops, &hold_stop, 0644);
MODULE_PARM_DESC(hold_stop, "the trigger that stops waits while this is set");
static int held_get(char *buf, const struct kernel_param *kp)
{
	return sysfs_emit(buf, "%d\n", atomic_read(&held));
}

static const struct kernel_param_ops held_ops = {
	.get = held_get,
};
module_param_cb(held, &held_ops, NULL, 0444);
MODULE_PARM_DESC(held, "callbacks waiting");

static const struct snd_pcm_hardware testpcm_hw = {
	.info = SNDRV_PCM_INFO_MMAP | SNDRV_PCM_INFO_MMAP_VALID |
		SNDRV_PCM_INFO_INTERLEAVED | SNDRV_PCM_INFO_EXPLICIT_SYNC,
	.formats = SNDRV_PCM_FMTBIT_S16_LE,
	.rates = SNDRV_PCM_RATE_48000,
	.rate_min = 48000,
	.rate_max = 48000,
	.channels_min = 2,
	.channels_max = 2,
	.buffer_bytes_max = 64 * 1024,
	.period_bytes_min = 64,
	.period_bytes_max = 32 * 1024,
	.periods_min = 2,
	.periods_max = 64,
};

static int testpcm_open(struct snd_pcm_substream *substream)
{
	substream->runtime->hw = testpcm_hw;
	return 0;
}

static int testpcm_close(struct snd_pcm_substream *substream)
{
	return 0;
}

/* wait while *flag is set; interruptible, as a driver waiting for I/O is */
static int testpcm_wait(bool *flag)
{
	int err;

	atomic_inc(&held);
	err = wait_event_interruptible(hold_wait, !READ_ONCE(*flag));
	atomic_dec(&held);
	return err;
}

static int testpcm_hw_params(struct snd_pcm_substream *substream,
			     struct snd_pcm_hw_params *params)
{
	return testpcm_wait(&hold);
}

static int testpcm_prepare(struct snd_pcm_substream *substream)
{
	return 0;
}

static int testpcm_trigger(struct snd_pcm_substream *substream, int cmd)
{
	/* a stop cannot fail: wait without a signal ending it */
	if (cmd == SNDRV_PCM_TRIGGER_STOP && READ_ONCE(hold_stop)) {
		atomic_inc(&held);
		wait_event(hold_wait, !READ_ONCE(hold_stop));
		atomic_dec(&held);
	}
	return 0;
}

static snd_pcm_uframes_t testpcm_pointer(struct snd_pcm_substream *substream)
{
	return 0;
}

static const struct snd_pcm_ops testpcm_ops = {
	.open =		testpcm_open,
	.close =	testpcm_close,
	.hw_params =	testpcm_hw_params,
	.prepare =	testpcm_prepare,
	.trigger =	testpcm_trigger,
	.pointer =	testpcm_pointer,
};

static int testpcm_probe(struct platform_device *pdev)
{
	struct snd_card *card;
	struct snd_pcm *pcm;
	int err;

	err = snd_devm_card_new(&pdev->dev, -1, "TestPCM", THIS_MODULE, 0,
				&card);
	if (err < 0)
		return err;
	err = snd_pcm_new(card, "TestPCM", 0, 1, 1, &pcm);
	if (err < 0)
		return err;
	snd_pcm_set_ops(pcm, SNDRV_PCM_STREAM_PLAYBACK, &testpcm_ops);
	snd_pcm_set_ops(pcm, SNDRV_PCM_STREAM_CAPTURE, &testpcm_ops);
	snd_pcm_set_managed_buffer_all(pcm, SNDRV_DMA_TYPE_VMALLOC, NULL, 0, 0);
	pcm->nonatomic = true;
	strscpy(pcm->name, "TestPCM");
	strscpy(card->driver, "TestPCM");
	strscpy(card->shortname, "TestPCM");
	strscpy(card->longname, "Test PCM: explicit sync, slow hw_params");
	return snd_card_register(card);
}

static struct platform_driver testpcm_driver = {
	.probe = testpcm_probe,
	.driver = {
		.name = "snd_testpcm",
	},
};

static struct platform_device *testpcm_device;

static int __init testpcm_init(void)
{
	int err;

	err = platform_driver_register(&testpcm_driver);
	if (err < 0)
		return err;
	testpcm_device = platform_device_register_simple("snd_testpcm", -1,
							 NULL, 0);
	if (IS_ERR(testpcm_device)) {
		platform_driver_unregister(&testpcm_driver);
		return PTR_ERR(testpcm_device);
	}
	return 0;
}

static void __exit testpcm_exit(void)
{
	platform_device_unregister(testpcm_device);
	platform_driver_unregister(&testpcm_driver);
}

module_init(testpcm_init);
module_exit(testpcm_exit);
MODULE_DESCRIPTION("Test PCM with explicit syncs and a slow hw_params");
MODULE_LICENSE("GPL");
