/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Helpers shared by the VM tests: find a card by its id, configure a
 * stream through the raw PCM UAPI, and take snapshots of what the owner of
 * a stream can see, to prove that another file changed nothing.
 *
 * Header-only so that each test builds as one static 64-bit, 32-bit or
 * x32 program.
 */
#ifndef PCM_UTIL_H
#define PCM_UTIL_H

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sound/asound.h>

/* The ABI this program was built for: the kernel crosses other paths */
#if defined(__x86_64__) && defined(__ILP32__)
#define PCM_ABI "x32"
#elif defined(__i386__) && defined(__USE_TIME_BITS64)
#define PCM_ABI "i386-time64"
#elif defined(__i386__)
#define PCM_ABI "i386"
#else
#define PCM_ABI "x86_64"
#endif

/* the permission classes, short */
#define P_MMAP		SNDRV_PCM_PERM_MMAP
#define P_SYNC		SNDRV_PCM_PERM_SYNC
#define P_STATUS	SNDRV_PCM_PERM_STATUS
#define P_RW		SNDRV_PCM_PERM_RW
#define P_CONTROL	SNDRV_PCM_PERM_CONTROL
#define P_ALL		SNDRV_PCM_PERM_ALL
#define P_SHARED	SNDRV_PCM_PERM_SHARED
/* for tables of what a call needs */
#define P_FREE		0x80000000u	/* nothing */
#define P_NOTTY		0x20000000u	/* not a PCM ioctl: -ENOTTY on every file */

/*
 * The old hw_params API (kernel-internal, struct snd_pcm_hw_params_old),
 * with this ABI's layout: HW_REFINE_OLD and HW_PARAMS_OLD share the
 * numbers of HW_REFINE and HW_PARAMS, with a smaller argument.
 */
struct pcm_hw_params_old {
	unsigned int flags;
	unsigned int masks[3];
	struct snd_interval intervals[12];
	unsigned int rmask, cmask, info, msbits, rate_num, rate_den;
	snd_pcm_uframes_t fifo_size;
	unsigned char reserved[64];
};
#define PCM_IOCTL_HW_REFINE_OLD	_IOWR('A', 0x10, struct pcm_hw_params_old)
#define PCM_IOCTL_HW_PARAMS_OLD	_IOWR('A', 0x11, struct pcm_hw_params_old)

/* Card number of the card whose id is @id (as in /proc/asound/cards), or -1 */
static inline int pcm_find_card(const char *id)
{
	for (int card = 0; card < 32; card++) {
		struct snd_ctl_card_info info;
		char path[64];
		int fd;

		snprintf(path, sizeof(path), "/dev/snd/controlC%d", card);
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			continue;
		memset(&info, 0, sizeof(info));
		if (ioctl(fd, SNDRV_CTL_IOCTL_CARD_INFO, &info) == 0 &&
		    !strcmp((char *)info.id, id)) {
			close(fd);
			return card;
		}
		close(fd);
	}
	return -1;
}

static inline void pcm_path(char *buf, size_t len, int card, int dev, int stream)
{
	snprintf(buf, len, "/dev/snd/pcmC%dD%d%c", card, dev,
		 stream == SNDRV_PCM_STREAM_PLAYBACK ? 'p' : 'c');
}

static inline int pcm_open(int card, int dev, int stream, int flags)
{
	char path[64];

	pcm_path(path, sizeof(path), card, dev, stream);
	return open(path, flags | O_CLOEXEC);
}

/*
 * Open a given subdevice (@sub >= 0), as alsa-lib does: the preference is
 * set through the card's control device, for this process.
 */
static inline int pcm_open_sub(int card, int dev, int stream, int sub, int flags)
{
	char path[64];
	int ctl, fd, err;

	if (sub < 0)
		return pcm_open(card, dev, stream, flags);
	snprintf(path, sizeof(path), "/dev/snd/controlC%d", card);
	ctl = open(path, O_RDWR | O_CLOEXEC);
	if (ctl < 0)
		return -1;
	if (ioctl(ctl, SNDRV_CTL_IOCTL_PCM_PREFER_SUBDEVICE, &sub) < 0) {
		err = errno;
		close(ctl);
		errno = err;
		return -1;
	}
	fd = pcm_open(card, dev, stream, flags);
	err = errno;
	close(ctl);
	errno = err;
	return fd;
}

/* The subdevice an open PCM file is attached to, or -errno */
static inline int pcm_subdevice(int fd)
{
	struct snd_pcm_info info;

	memset(&info, 0, sizeof(info));
	if (ioctl(fd, SNDRV_PCM_IOCTL_INFO, &info) < 0)
		return -errno;
	return info.subdevice;
}

/* ioctl() that returns -errno */
static inline int xioctl(int fd, unsigned long cmd, void *arg)
{
	return ioctl(fd, cmd, arg) < 0 ? -errno : 0;
}

static inline struct snd_mask *hw_mask(struct snd_pcm_hw_params *p, int n)
{
	return &p->masks[n - SNDRV_PCM_HW_PARAM_FIRST_MASK];
}

static inline struct snd_interval *hw_interval(struct snd_pcm_hw_params *p, int n)
{
	return &p->intervals[n - SNDRV_PCM_HW_PARAM_FIRST_INTERVAL];
}

static inline void hw_params_any(struct snd_pcm_hw_params *p)
{
	memset(p, 0, sizeof(*p));
	for (int n = SNDRV_PCM_HW_PARAM_FIRST_MASK; n <= SNDRV_PCM_HW_PARAM_LAST_MASK; n++)
		memset(hw_mask(p, n), 0xff, sizeof(struct snd_mask));
	for (int n = SNDRV_PCM_HW_PARAM_FIRST_INTERVAL; n <= SNDRV_PCM_HW_PARAM_LAST_INTERVAL; n++) {
		hw_interval(p, n)->min = 0;
		hw_interval(p, n)->max = ~0U;
	}
	p->rmask = ~0U;
	p->info = ~0U;
}

static inline void hw_params_set_mask(struct snd_pcm_hw_params *p, int n, unsigned int bit)
{
	struct snd_mask *m = hw_mask(p, n);

	memset(m, 0, sizeof(*m));
	m->bits[bit / 32] = 1U << (bit % 32);
}

static inline void hw_params_set_int(struct snd_pcm_hw_params *p, int n, unsigned int v)
{
	struct snd_interval *i = hw_interval(p, n);

	i->min = i->max = v;
	i->openmin = i->openmax = 0;
	i->integer = 1;
}

struct pcm_setup {
	int access;		/* SNDRV_PCM_ACCESS_* */
	int format;		/* SNDRV_PCM_FORMAT_* */
	unsigned int channels;
	unsigned int rate;
	unsigned int period;	/* frames */
	unsigned int periods;
};

static const struct pcm_setup pcm_default_setup = {
	.access = SNDRV_PCM_ACCESS_MMAP_INTERLEAVED,
	.format = SNDRV_PCM_FORMAT_S16_LE,
	.channels = 2,
	.rate = 48000,
	.period = 1024,
	.periods = 4,
};

/* HW_PARAMS as @s says; a stream that never stops on its own. 0 or -errno */
static inline int pcm_configure(int fd, const struct pcm_setup *s)
{
	struct snd_pcm_hw_params hw;
	struct snd_pcm_sw_params sw;
	int tstamp = SNDRV_PCM_TSTAMP_TYPE_MONOTONIC;
	int err, ver = SNDRV_PCM_VERSION;

	xioctl(fd, SNDRV_PCM_IOCTL_USER_PVERSION, &ver);
	hw_params_any(&hw);
	hw_params_set_mask(&hw, SNDRV_PCM_HW_PARAM_ACCESS, s->access);
	hw_params_set_mask(&hw, SNDRV_PCM_HW_PARAM_FORMAT, s->format);
	hw_params_set_int(&hw, SNDRV_PCM_HW_PARAM_CHANNELS, s->channels);
	hw_params_set_int(&hw, SNDRV_PCM_HW_PARAM_RATE, s->rate);
	hw_params_set_int(&hw, SNDRV_PCM_HW_PARAM_PERIOD_SIZE, s->period);
	hw_params_set_int(&hw, SNDRV_PCM_HW_PARAM_PERIODS, s->periods);
	err = xioctl(fd, SNDRV_PCM_IOCTL_HW_PARAMS, &hw);
	if (err)
		return err;
	err = xioctl(fd, SNDRV_PCM_IOCTL_TTSTAMP, &tstamp);
	if (err)
		return err;
	memset(&sw, 0, sizeof(sw));
	sw.proto = SNDRV_PCM_VERSION;
	sw.tstamp_mode = SNDRV_PCM_TSTAMP_ENABLE;
	sw.tstamp_type = SNDRV_PCM_TSTAMP_TYPE_MONOTONIC;
	sw.period_step = 1;
	sw.avail_min = s->period;
	sw.start_threshold = ~0UL >> 1;	/* started explicitly */
	sw.stop_threshold = ~0UL >> 1;	/* clamped to the boundary: never stops */
	sw.silence_threshold = 0;
	sw.silence_size = 0;
	err = xioctl(fd, SNDRV_PCM_IOCTL_SW_PARAMS, &sw);
	if (err)
		return err;
	sw.stop_threshold = sw.boundary;
	sw.start_threshold = sw.boundary;
	return xioctl(fd, SNDRV_PCM_IOCTL_SW_PARAMS, &sw);
}

/* Everything the owner of a stream can read back */
struct pcm_snapshot {
	struct snd_pcm_status status;
	struct snd_pcm_hw_params hw;
	struct snd_pcm_sw_params sw;
	int hw_err, sw_err;
};

static inline int pcm_snapshot(int fd, struct pcm_snapshot *snap)
{
	memset(snap, 0, sizeof(*snap));
	snap->hw_err = xioctl(fd, SNDRV_PCM_IOCTL_HW_PARAMS_GET, &snap->hw);
	snap->sw_err = xioctl(fd, SNDRV_PCM_IOCTL_SW_PARAMS_GET, &snap->sw);
	return xioctl(fd, SNDRV_PCM_IOCTL_STATUS, &snap->status);
}

/*
 * Compare two snapshots of one stream. While it runs, hw_ptr may only move
 * forward (modulo the boundary, less than a buffer); everything else must
 * be equal. Returns NULL or what differs.
 */
static inline const char *pcm_snapshot_diff(const struct pcm_snapshot *a,
					    const struct pcm_snapshot *b)
{
	static char why[160];
	unsigned long moved;

	if (a->status.state != b->status.state) {
		snprintf(why, sizeof(why), "state %d -> %d", a->status.state, b->status.state);
		return why;
	}
	if (a->status.appl_ptr != b->status.appl_ptr) {
		snprintf(why, sizeof(why), "appl_ptr %lu -> %lu",
			 (unsigned long)a->status.appl_ptr, (unsigned long)b->status.appl_ptr);
		return why;
	}
	moved = b->status.hw_ptr - a->status.hw_ptr;
	if (a->sw.boundary)
		moved = (b->status.hw_ptr + a->sw.boundary - a->status.hw_ptr) % a->sw.boundary;
	if (a->status.state == SNDRV_PCM_STATE_RUNNING ?
	    moved > 4 * 65536UL : moved != 0) {
		snprintf(why, sizeof(why), "hw_ptr %lu -> %lu",
			 (unsigned long)a->status.hw_ptr, (unsigned long)b->status.hw_ptr);
		return why;
	}
	if (a->hw_err != b->hw_err || memcmp(&a->hw, &b->hw, sizeof(a->hw)))
		return "hw_params";
	if (a->sw_err != b->sw_err || memcmp(&a->sw, &b->sw, sizeof(a->sw)))
		return "sw_params (or timestamp mode)";
	return NULL;
}

/* This file's permission mask, or -errno (-ENODEV once it is revoked) */
static inline int pcm_perm(int fd)
{
	unsigned int perm = 0;
	int err = xioctl(fd, SNDRV_PCM_IOCTL_PERM_GET, &perm);

	return err ? err : (int)perm;
}

/*
 * SHARED_EXPORT on @fd (a file holding CONTROL): a new anonymous file on the
 * same substream holding exactly @perm, open with @flags (O_RDONLY, O_WRONLY
 * or O_RDWR, | O_CLOEXEC, | O_NONBLOCK). Its descriptor, or -errno.
 */
static inline int pcm_export(int fd, unsigned int perm, unsigned int flags)
{
	struct snd_pcm_shared_export ex;
	int err;

	memset(&ex, 0, sizeof(ex));
	ex.perm = perm;
	ex.flags = flags;
	ex.fd = -1;
	err = xioctl(fd, SNDRV_PCM_IOCTL_SHARED_EXPORT, &ex);
	return err ? err : ex.fd;
}

/* SHARED_REVOKE on @fd of the file @target names, or of every one with -1 */
static inline int pcm_revoke(int fd, int target)
{
	return xioctl(fd, SNDRV_PCM_IOCTL_SHARED_REVOKE, &target);
}

/* The lowest free descriptor: what a call that made none leaves unchanged */
static inline int pcm_next_fd(void)
{
	static int any = -1;
	int fd;

	/* a dup is cheaper than an open */
	if (any < 0)
		any = open("/dev/null", O_RDONLY | O_CLOEXEC);
	fd = fcntl(any, F_DUPFD_CLOEXEC, 0);
	if (fd >= 0)
		close(fd);
	return fd;
}

/* Poll @cond every millisecond for up to @ms; the wait is a bound, not a measure */
#define pcm_wait_for(cond, ms) ({					\
	int __left = (ms);						\
	while (!(cond) && __left-- > 0)					\
		usleep(1000);						\
	(cond);								\
})

#endif /* PCM_UTIL_H */
