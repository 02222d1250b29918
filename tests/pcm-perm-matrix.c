// SPDX-License-Identifier: GPL-2.0
/*
 * Every class boundary of restricted sharing, on real cards.
 *
 * A master opens and configures a stream; a client file on the same
 * substream gets a permission mask (the restricted open's own, or any
 * other through PERM_RESTRICT). Each PCM ioctl, as this ABI encodes it,
 * and each other entry point (read/write, readv/writev, poll, mmap of
 * each region, fasync) is tried on the client:
 *
 *  - a call the mask does not allow must fail with EPERM, leave its
 *    argument untouched (no kernel memory in the reply) and leave the
 *    master's stream exactly as it was;
 *  - a call the mask allows must not fail with EPERM, and, when its
 *    argument makes it a no-op, must not change the master's stream.
 *
 * The master's view (state, hw_ptr progression, appl_ptr, hw and sw
 * parameters, timestamp mode) is read back through the master after each
 * call. Built as a 64-bit, a 32-bit (time32 and time64) and an x32
 * program, so the compat handlers are crossed as well. One TAP line per
 * (stream, mask, entry point).
 */
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/uio.h>
#include "kselftest.h"
#include "pcm-util.h"

#if defined(__x86_64__) && defined(__ILP32__)
#define ABI "x32"
#elif defined(__i386__) && defined(__USE_TIME_BITS64)
#define ABI "i386-time64"
#elif defined(__i386__)
#define ABI "i386"
#else
#define ABI "x86_64"
#endif

#define P_MMAP		SNDRV_PCM_PERM_MMAP
#define P_SYNC		SNDRV_PCM_PERM_SYNC
#define P_STATUS	SNDRV_PCM_PERM_STATUS
#define P_RW		SNDRV_PCM_PERM_RW
#define P_CONTROL	SNDRV_PCM_PERM_CONTROL
#define P_ALL		SNDRV_PCM_PERM_ALL
#define P_NONE		0x80000000u	/* free: nothing needed */

/* the old API (kernel-internal), with this ABI's layout */
struct hw_params_old {
	unsigned int flags;
	unsigned int masks[3];
	struct snd_interval intervals[12];
	unsigned int rmask, cmask, info, msbits, rate_num, rate_den;
	snd_pcm_uframes_t fifo_size;
	unsigned char reserved[64];
};
#define IOCTL_HW_REFINE_OLD	_IOWR('A', 0x10, struct hw_params_old)
#define IOCTL_HW_PARAMS_OLD	_IOWR('A', 0x11, struct hw_params_old)

enum kind {
	K_IOCTL_PTR,		/* ioctl with a pointer to a buffer */
	K_IOCTL_VAL,		/* ioctl with an integer argument */
	K_READ, K_WRITE, K_READV, K_WRITEV, K_POLL, K_FASYNC,
	K_MMAP,
};

struct entry {
	const char *name;
	enum kind kind;
	unsigned long cmd;	/* ioctl command, or mmap offset */
	size_t size;		/* argument size, or mmap length (0: data) */
	unsigned int need;	/* SNDRV_PCM_PERM_* needed, or P_NONE */
	unsigned int flags;	/* SYNC_PTR flags; PROT_* for mmap */
	int stream;		/* -1, or the only stream it applies to */
};

#define IOC(n, c, t, p)		{ n, K_IOCTL_PTR, c, sizeof(t), p, 0, -1 }
#define IOV(n, c, p)		{ n, K_IOCTL_VAL, c, 0, p, 0, -1 }

static const struct entry entries[] = {
	IOC("PVERSION", SNDRV_PCM_IOCTL_PVERSION, int, P_STATUS),
	IOC("INFO", SNDRV_PCM_IOCTL_INFO, struct snd_pcm_info, P_STATUS),
	IOC("TSTAMP", SNDRV_PCM_IOCTL_TSTAMP, int, P_STATUS),
	IOC("TTSTAMP", SNDRV_PCM_IOCTL_TTSTAMP, int, P_CONTROL),
	IOC("USER_PVERSION", SNDRV_PCM_IOCTL_USER_PVERSION, int, P_STATUS),
	IOC("HW_REFINE", SNDRV_PCM_IOCTL_HW_REFINE, struct snd_pcm_hw_params, P_STATUS),
	IOC("HW_PARAMS", SNDRV_PCM_IOCTL_HW_PARAMS, struct snd_pcm_hw_params, P_CONTROL),
	IOV("HW_FREE", SNDRV_PCM_IOCTL_HW_FREE, P_CONTROL),
	IOC("SW_PARAMS", SNDRV_PCM_IOCTL_SW_PARAMS, struct snd_pcm_sw_params, P_CONTROL),
	IOC("HW_PARAMS_GET", SNDRV_PCM_IOCTL_HW_PARAMS_GET, struct snd_pcm_hw_params, P_STATUS),
	IOC("SW_PARAMS_GET", SNDRV_PCM_IOCTL_SW_PARAMS_GET, struct snd_pcm_sw_params, P_STATUS),
	IOC("STATUS", SNDRV_PCM_IOCTL_STATUS, struct snd_pcm_status, P_STATUS),
	IOC("DELAY", SNDRV_PCM_IOCTL_DELAY, snd_pcm_sframes_t, P_STATUS),
	IOV("HWSYNC", SNDRV_PCM_IOCTL_HWSYNC, P_SYNC),
	{ "SYNC_PTR(read-only)", K_IOCTL_PTR, SNDRV_PCM_IOCTL_SYNC_PTR, sizeof(struct snd_pcm_sync_ptr),
	  P_SYNC, SNDRV_PCM_SYNC_PTR_APPL | SNDRV_PCM_SYNC_PTR_AVAIL_MIN, -1 },
	{ "SYNC_PTR(hwsync,read-only)", K_IOCTL_PTR, SNDRV_PCM_IOCTL_SYNC_PTR, sizeof(struct snd_pcm_sync_ptr),
	  P_SYNC, SNDRV_PCM_SYNC_PTR_HWSYNC | SNDRV_PCM_SYNC_PTR_APPL | SNDRV_PCM_SYNC_PTR_AVAIL_MIN, -1 },
	{ "SYNC_PTR(write appl)", K_IOCTL_PTR, SNDRV_PCM_IOCTL_SYNC_PTR, sizeof(struct snd_pcm_sync_ptr),
	  P_RW, SNDRV_PCM_SYNC_PTR_AVAIL_MIN, -1 },
	{ "SYNC_PTR(write avail_min)", K_IOCTL_PTR, SNDRV_PCM_IOCTL_SYNC_PTR, sizeof(struct snd_pcm_sync_ptr),
	  P_CONTROL, SNDRV_PCM_SYNC_PTR_APPL, -1 },
	{ "SYNC_PTR(write both)", K_IOCTL_PTR, SNDRV_PCM_IOCTL_SYNC_PTR, sizeof(struct snd_pcm_sync_ptr),
	  P_RW | P_CONTROL, 0, -1 },
	IOC("STATUS_EXT", SNDRV_PCM_IOCTL_STATUS_EXT, struct snd_pcm_status, P_STATUS),
	IOC("CHANNEL_INFO", SNDRV_PCM_IOCTL_CHANNEL_INFO, struct snd_pcm_channel_info, P_STATUS),
	IOV("PREPARE", SNDRV_PCM_IOCTL_PREPARE, P_CONTROL),
	IOV("RESET", SNDRV_PCM_IOCTL_RESET, P_CONTROL),
	IOV("START", SNDRV_PCM_IOCTL_START, P_CONTROL),
	IOV("DROP", SNDRV_PCM_IOCTL_DROP, P_CONTROL),
	IOV("DRAIN", SNDRV_PCM_IOCTL_DRAIN, P_CONTROL),
	IOV("PAUSE", SNDRV_PCM_IOCTL_PAUSE, P_CONTROL),
	IOC("REWIND", SNDRV_PCM_IOCTL_REWIND, snd_pcm_uframes_t, P_RW),
	IOV("RESUME", SNDRV_PCM_IOCTL_RESUME, P_CONTROL),
	IOV("XRUN", SNDRV_PCM_IOCTL_XRUN, P_CONTROL),
	IOC("FORWARD", SNDRV_PCM_IOCTL_FORWARD, snd_pcm_uframes_t, P_RW),
	IOC("WRITEI_FRAMES", SNDRV_PCM_IOCTL_WRITEI_FRAMES, struct snd_xferi, P_RW),
	IOC("READI_FRAMES", SNDRV_PCM_IOCTL_READI_FRAMES, struct snd_xferi, P_RW),
	IOC("WRITEN_FRAMES", SNDRV_PCM_IOCTL_WRITEN_FRAMES, struct snd_xfern, P_RW),
	IOC("READN_FRAMES", SNDRV_PCM_IOCTL_READN_FRAMES, struct snd_xfern, P_RW),
	IOV("LINK", SNDRV_PCM_IOCTL_LINK, P_CONTROL),
	IOV("UNLINK", SNDRV_PCM_IOCTL_UNLINK, P_CONTROL),
	IOC("PERM_GET", SNDRV_PCM_IOCTL_PERM_GET, unsigned int, P_NONE),
	IOC("HW_REFINE_OLD", IOCTL_HW_REFINE_OLD, struct hw_params_old, P_CONTROL),
	IOC("HW_PARAMS_OLD", IOCTL_HW_PARAMS_OLD, struct hw_params_old, P_CONTROL),
	IOV("unknown _IO('A',0x99)", _IO('A', 0x99), P_CONTROL),
	IOC("unknown _IOR('A',0x7f,int)", _IOR('A', 0x7f, int), int, P_CONTROL),
	IOC("unknown _IOWR('A',0x05,long)", _IOWR('A', 0x05, long), long, P_CONTROL),
	IOV("unknown _IO('B',0x01)", _IO('B', 0x01), P_CONTROL),
	{ "write()", K_WRITE, 0, 0, P_RW, 0, SNDRV_PCM_STREAM_PLAYBACK },
	{ "writev()", K_WRITEV, 0, 0, P_RW, 0, SNDRV_PCM_STREAM_PLAYBACK },
	{ "read()", K_READ, 0, 0, P_RW, 0, SNDRV_PCM_STREAM_CAPTURE },
	{ "readv()", K_READV, 0, 0, P_RW, 0, SNDRV_PCM_STREAM_CAPTURE },
	{ "poll()", K_POLL, 0, 0, P_STATUS, 0, -1 },
	{ "fcntl(F_SETFL, O_ASYNC)", K_FASYNC, 0, 0, P_CONTROL, 0, -1 },
	{ "mmap(data, PROT_READ)", K_MMAP, 0, 0, P_MMAP, PROT_READ, -1 },
	{ "mmap(data, PROT_READ|PROT_WRITE)", K_MMAP, 0, 0, P_MMAP, PROT_READ | PROT_WRITE, -1 },
	{ "mmap(status)", K_MMAP, SNDRV_PCM_MMAP_OFFSET_STATUS_NEW, 4096, P_SYNC, PROT_READ, -1 },
	{ "mmap(control, PROT_READ)", K_MMAP, SNDRV_PCM_MMAP_OFFSET_CONTROL_NEW, 4096, P_SYNC, PROT_READ, -1 },
	{ "mmap(control, PROT_READ|PROT_WRITE)", K_MMAP, SNDRV_PCM_MMAP_OFFSET_CONTROL_NEW, 4096,
	  P_RW, PROT_READ | PROT_WRITE, -1 },
};

struct stream {
	const char *card_id;
	int dev, stream;
	int card, sub;
	int master, other;	/* other: a second stream, for LINK */
	struct snd_pcm_sw_params sw;
	struct snd_pcm_hw_params hw;
	size_t buffer_bytes;
	unsigned int frame_bytes;
	char name[64];
};

static bool dry_run;
static void *xfer_buf;
static unsigned int planned;

static void result(bool ok, const char *fmt, ...)
{
	char msg[256];
	va_list ap;

	if (dry_run) {
		planned++;
		return;
	}
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	ksft_test_result(ok, "%s\n", msg);
}

static const char *mask_name(unsigned int m)
{
	static char buf[64];

	if (m == SNDRV_PCM_PERM_SHARED)
		return "SHARED";
	if (m == P_ALL)
		return "ALL";
	snprintf(buf, sizeof(buf), "%s%s%s%s%s%s",
		 m & P_MMAP ? "MMAP|" : "", m & P_SYNC ? "SYNC|" : "",
		 m & P_STATUS ? "STATUS|" : "", m & P_RW ? "RW|" : "",
		 m & P_CONTROL ? "CONTROL|" : "", m ? "" : "none|");
	buf[strlen(buf) - 1] = 0;
	return buf;
}

/* The client file: restricted open for SHARED, else O_APPEND narrowed */
static int open_client(struct stream *s, unsigned int mask)
{
	int fd, err;

	if (mask == SNDRV_PCM_PERM_SHARED)
		return pcm_open_sub(s->card, s->dev, s->stream, s->sub,
				    O_RDWR | O_NONBLOCK | O_APPEND | O_EXCL);
	fd = pcm_open_sub(s->card, s->dev, s->stream, s->sub,
			  O_RDWR | O_NONBLOCK | O_APPEND);
	if (fd < 0)
		return fd;
	err = xioctl(fd, SNDRV_PCM_IOCTL_PERM_RESTRICT, &mask);
	if (err) {
		close(fd);
		errno = -err;
		return -1;
	}
	return fd;
}

/*
 * Fill the argument of @e. When the call is expected to be denied, the
 * argument would change the stream if the call went through; when it is
 * allowed, the argument makes it a no-op.
 */
static void fill_arg(struct stream *s, const struct entry *e, void *arg,
		     bool denied, const struct pcm_snapshot *snap)
{
	if (!denied)
		memset(arg, 0, e->size);
	switch (e->cmd) {
	case SNDRV_PCM_IOCTL_TTSTAMP:
		*(int *)arg = SNDRV_PCM_TSTAMP_TYPE_MONOTONIC_RAW;
		break;
	case SNDRV_PCM_IOCTL_HW_REFINE:
		hw_params_any(arg);
		break;
	case SNDRV_PCM_IOCTL_HW_PARAMS:
		memcpy(arg, &s->hw, sizeof(s->hw));
		hw_params_set_int(arg, SNDRV_PCM_HW_PARAM_RATE, 44100);
		break;
	case SNDRV_PCM_IOCTL_SW_PARAMS:
		memcpy(arg, &s->sw, sizeof(s->sw));
		((struct snd_pcm_sw_params *)arg)->avail_min += 1;
		break;
	case SNDRV_PCM_IOCTL_SYNC_PTR: {
		struct snd_pcm_sync_ptr *sp = arg;

		sp->flags = e->flags;
		sp->c.control.appl_ptr = snap->status.appl_ptr + (denied ? 64 : 0);
		sp->c.control.avail_min = s->sw.avail_min + (denied ? 1 : 0);
		break;
	}
	case SNDRV_PCM_IOCTL_CHANNEL_INFO:
		((struct snd_pcm_channel_info *)arg)->channel = 0;
		break;
	case SNDRV_PCM_IOCTL_REWIND:
	case SNDRV_PCM_IOCTL_FORWARD:
		*(snd_pcm_uframes_t *)arg = denied ? 64 : 0;
		break;
	case SNDRV_PCM_IOCTL_USER_PVERSION:
		*(int *)arg = SNDRV_PCM_VERSION;
		break;
	case SNDRV_PCM_IOCTL_WRITEI_FRAMES:
	case SNDRV_PCM_IOCTL_READI_FRAMES: {
		struct snd_xferi *x = arg;

		x->buf = xfer_buf;
		x->frames = denied ? 64 : 0;
		break;
	}
	case SNDRV_PCM_IOCTL_WRITEN_FRAMES:
	case SNDRV_PCM_IOCTL_READN_FRAMES: {
		static void *bufs[2];
		struct snd_xfern *x = arg;

		bufs[0] = bufs[1] = xfer_buf;
		x->bufs = bufs;
		x->frames = denied ? 64 : 0;
		break;
	}
	default:
		break;
	}
}

static unsigned long ioctl_value(struct stream *s, const struct entry *e)
{
	switch (e->cmd) {
	case SNDRV_PCM_IOCTL_PAUSE:
		return 1;
	case SNDRV_PCM_IOCTL_LINK:
		return s->other;
	default:
		return 0;
	}
}

/* Run one entry point on @fd; returns 0 or -errno. @arg/@argsz for ioctls. */
static int call(struct stream *s, int fd, const struct entry *e, void *arg,
		bool denied, const struct pcm_snapshot *snap)
{
	size_t bytes = denied ? 64 * s->frame_bytes : 0;
	struct iovec iov[2];
	struct pollfd pfd;
	void *map;
	int ret, flags;

	switch (e->kind) {
	case K_IOCTL_PTR:
		return xioctl(fd, e->cmd, arg);
	case K_IOCTL_VAL:
		return ioctl(fd, e->cmd, ioctl_value(s, e)) < 0 ? -errno : 0;
	case K_WRITE:
		return write(fd, xfer_buf, bytes) < 0 ? -errno : 0;
	case K_READ:
		return read(fd, xfer_buf, bytes) < 0 ? -errno : 0;
	case K_WRITEV:
	case K_READV:
		/* one segment per channel; RW_NONINTERLEAVED is not set, so an
		 * allowed call fails in the driver layer, not with EPERM
		 */
		iov[0].iov_base = iov[1].iov_base = xfer_buf;
		iov[0].iov_len = iov[1].iov_len = bytes / 2;
		ret = e->kind == K_WRITEV ? writev(fd, iov, 2) : readv(fd, iov, 2);
		return ret < 0 ? -errno : 0;
	case K_POLL:
		pfd.fd = fd;
		pfd.events = POLLIN | POLLOUT;
		ret = poll(&pfd, 1, 0);
		if (ret < 0)
			return -errno;
		return (pfd.revents & POLLERR) ? -EPERM : 0;
	case K_FASYNC:
		flags = fcntl(fd, F_GETFL);
		ret = fcntl(fd, F_SETFL, flags | O_ASYNC);
		if (ret < 0)
			return -errno;
		fcntl(fd, F_SETFL, flags);
		return 0;
	case K_MMAP: {
		size_t len = e->size ? e->size : s->buffer_bytes;

		map = mmap(NULL, len, e->flags, MAP_SHARED, fd, e->cmd);
		if (map == MAP_FAILED)
			return -errno;
		munmap(map, len);
		return 0;
	}
	}
	return -ENOSYS;
}

static bool applies(const struct stream *s, const struct entry *e, unsigned int mask)
{
	bool denied;

	if (e->stream >= 0 && e->stream != s->stream)
		return false;
	if (e->need == P_NONE)
		return true;
	denied = (e->need & mask) != e->need;
	/* allowed control calls would change the stream: nothing to check */
	if (!denied && (e->need & P_CONTROL))
		return false;
	return true;
}

static void run_entries(struct stream *s, unsigned int mask, const char *state)
{
	static unsigned char arg[4096], pattern[4096];
	struct pcm_snapshot before, after;
	int client = -1;

	if (!dry_run) {
		client = open_client(s, mask);
		if (client < 0) {
			ksft_exit_fail_msg("%s: client open with mask %s: %s\n",
					   s->name, mask_name(mask), strerror(errno));
		}
	}
	for (size_t i = 0; i < sizeof(entries) / sizeof(entries[0]); i++) {
		const struct entry *e = &entries[i];
		bool denied, ok, untouched = true;
		const char *diff = NULL;
		int ret;

		if (!applies(s, e, mask))
			continue;
		if (dry_run) {
			result(true, "");
			continue;
		}
		denied = e->need != P_NONE && (e->need & mask) != e->need;
		pcm_snapshot(s->master, &before);
		if (e->kind == K_IOCTL_PTR) {
			/* poison what the call has no reason to fill */
			memset(arg, 0xa5, sizeof(arg));
			fill_arg(s, e, arg, denied, &before);
			memcpy(pattern, arg, e->size);
		}
		ret = call(s, client, e, arg, denied, &before);
		pcm_snapshot(s->master, &after);
		if (e->kind == K_IOCTL_PTR && denied)
			untouched = !memcmp(arg, pattern, e->size);
		diff = pcm_snapshot_diff(&before, &after);
		if (denied)
			ok = ret == -EPERM && untouched && !diff;
		else
			ok = ret != -EPERM && !diff;
		result(ok, "%s %s %s mask=%s %s: %s%s%s%s", ABI, s->name, state,
		       mask_name(mask), e->name,
		       ret ? strerror(-ret) : "ok",
		       denied ? " (denied)" : " (allowed)",
		       untouched ? "" : ", argument written",
		       diff ? ", master changed: " : "");
		if (diff && !dry_run)
			ksft_print_msg("    master changed: %s\n", diff);
	}
	if (client >= 0)
		close(client);
}

static int setup_stream(struct stream *s)
{
	struct pcm_setup setup = pcm_default_setup;
	int err;

	snprintf(s->name, sizeof(s->name), "%s:%d/%s", s->card_id, s->dev,
		 s->stream == SNDRV_PCM_STREAM_PLAYBACK ? "playback" : "capture");
	s->card = pcm_find_card(s->card_id);
	if (s->card < 0)
		return -ENODEV;
	s->master = pcm_open(s->card, s->dev, s->stream, O_RDWR | O_NONBLOCK);
	if (s->master < 0)
		return -errno;
	err = pcm_configure(s->master, &setup);
	if (err)
		return err;
	s->sub = pcm_subdevice(s->master);
	/* a second substream in the same state, for LINK */
	s->other = pcm_open(s->card, s->dev, s->stream, O_RDWR | O_NONBLOCK);
	if (s->other < 0)
		return -errno;
	err = pcm_configure(s->other, &setup);
	if (err)
		return err;
	xioctl(s->master, SNDRV_PCM_IOCTL_HW_PARAMS_GET, &s->hw);
	xioctl(s->master, SNDRV_PCM_IOCTL_SW_PARAMS_GET, &s->sw);
	s->frame_bytes = setup.channels * 2;
	s->buffer_bytes = (size_t)setup.period * setup.periods * s->frame_bytes;
	return 0;
}

static void teardown_stream(struct stream *s)
{
	close(s->other);
	close(s->master);
}

static const unsigned int masks[] = {
	SNDRV_PCM_PERM_SHARED, 0, P_MMAP, P_SYNC, P_STATUS, P_RW, P_CONTROL,
	SNDRV_PCM_PERM_SHARED | P_RW, P_ALL,
};

static void run_stream(struct stream *s, bool all_masks)
{
	int err;

	if (!dry_run) {
		err = setup_stream(s);
		if (err)
			ksft_exit_fail_msg("%s: master setup: %s\n", s->name, strerror(-err));
	}
	/* PREPARED: nothing may move at all */
	if (!dry_run) {
		xioctl(s->master, SNDRV_PCM_IOCTL_PREPARE, NULL);
		xioctl(s->other, SNDRV_PCM_IOCTL_PREPARE, NULL);
	}
	for (size_t m = 0; m < (all_masks ? sizeof(masks) / sizeof(masks[0]) : 1); m++)
		run_entries(s, masks[m], "prepared");
	/* RUNNING: hw_ptr moves on, nothing else changes */
	if (!dry_run) {
		xioctl(s->master, SNDRV_PCM_IOCTL_START, NULL);
		xioctl(s->other, SNDRV_PCM_IOCTL_START, NULL);
	}
	run_entries(s, SNDRV_PCM_PERM_SHARED, "running");
	if (!dry_run)
		teardown_stream(s);
}

static struct stream streams[] = {
	{ .card_id = "Dummy", .dev = 0, .stream = SNDRV_PCM_STREAM_PLAYBACK },
	{ .card_id = "Dummy", .dev = 0, .stream = SNDRV_PCM_STREAM_CAPTURE },
	{ .card_id = "Loopback", .dev = 0, .stream = SNDRV_PCM_STREAM_PLAYBACK },
	{ .card_id = "Loopback", .dev = 1, .stream = SNDRV_PCM_STREAM_CAPTURE },
};

static void run_all(void)
{
	for (size_t i = 0; i < sizeof(streams) / sizeof(streams[0]); i++)
		run_stream(&streams[i], i == 0 || i == 3);
}

int main(void)
{
	signal(SIGIO, SIG_IGN);
	xfer_buf = calloc(1, 1 << 16);

	ksft_print_header();
	for (size_t i = 0; i < sizeof(streams) / sizeof(streams[0]); i++) {
		if (pcm_find_card(streams[i].card_id) < 0)
			ksft_exit_fail_msg("card %s not found: is the driver built in?\n",
					   streams[i].card_id);
	}
	dry_run = true;
	run_all();
	dry_run = false;
	ksft_set_plan(planned);
	ksft_print_msg("ABI %s, %u cases\n", ABI, planned);
	run_all();
	ksft_finished();
}
