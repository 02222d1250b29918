// SPDX-License-Identifier: GPL-2.0
/*
 * Every class boundary of restricted sharing, on real cards.
 *
 * A master opens and configures a stream; a client file on the same
 * substream gets a permission mask in one of the three ways a file can
 * hold less than everything:
 *
 *  - open(node, O_APPEND | O_EXCL): SNDRV_PCM_PERM_SHARED;
 *  - open(node, O_APPEND), then PERM_RESTRICT to the mask;
 *  - SHARED_EXPORT by the master with the mask (an anonymous file).
 *
 * Each PCM ioctl, as this ABI encodes it, ioctls of other types, and each
 * other entry point (read/write, readv/writev, poll, mmap of each region,
 * fasync) is tried on the client:
 *
 *  - a call the mask does not allow must fail with EPERM, leave its
 *    argument untouched (no kernel memory in the reply), make no file
 *    descriptor, revoke no file and leave the master's stream exactly as
 *    it was;
 *  - a call the mask allows must not fail with EPERM, and, when its
 *    argument makes it a no-op, must not change the master's stream; an
 *    allowed mapping of the data buffer must succeed where the stream can
 *    be followed;
 *  - an ioctl of another type than 'A' answers ENOTTY, whatever the mask.
 *
 * The master's view (state, hw_ptr progression, appl_ptr, hw and sw
 * parameters, timestamp mode) is read back through the master after each
 * call (but for the hw parameters, whose read-back is a refinement and
 * costs, after an allowed mmap, poll or ioctl of another type, which do not
 * reach the ioctl handler), and a witness, a second exported file, must
 * still be alive. A
 * stream set up with RW_INTERLEAVED access is followed too: a file without
 * RW maps its buffer read-only and reads the samples the master wrote.
 * On each stream, the master's SHARED_EXPORT and SHARED_REVOKE are also
 * tried with what they must refuse, and PERM_RESTRICT where a file may not
 * give up CONTROL.
 * Built as a 64-bit, a 32-bit (time32 and time64) and an x32 program, so
 * the compat handlers are crossed as well (those try every mask on one
 * stream, SHARED on the others). One TAP line per (stream, way of opening,
 * mask, entry point).
 */
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/uio.h>
#include "kselftest.h"
#include "pcm-util.h"

enum kind {
	K_IOCTL_PTR,		/* ioctl with a pointer to a buffer */
	K_IOCTL_VAL,		/* ioctl with an integer argument */
	K_READ, K_WRITE, K_READV, K_WRITEV, K_POLL, K_FASYNC,
	K_MMAP,
};

/* what the argument of an ioctl holds, when it is not a no-op */
enum argv {
	A_NONE,
	A_REVOKE_ALL,		/* SHARED_REVOKE: -1 */
	A_REVOKE_WITNESS,	/* SHARED_REVOKE: the witness */
};

struct entry {
	const char *name;
	enum kind kind;
	unsigned long cmd;	/* ioctl command, or mmap offset */
	size_t size;		/* argument size, or mmap length (0: data) */
	unsigned int need;	/* SNDRV_PCM_PERM_* needed, P_FREE or P_NOTTY */
	unsigned int flags;	/* SYNC_PTR flags; PROT_* for mmap */
	int stream;		/* -1, or the only stream it applies to */
	enum argv argv;
};

#define IOC(n, c, t, p)		{ n, K_IOCTL_PTR, c, sizeof(t), p, 0, -1, A_NONE }
#define IOV(n, c, p)		{ n, K_IOCTL_VAL, c, 0, p, 0, -1, A_NONE }

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
	  P_SYNC, SNDRV_PCM_SYNC_PTR_APPL | SNDRV_PCM_SYNC_PTR_AVAIL_MIN, -1, A_NONE },
	{ "SYNC_PTR(hwsync,read-only)", K_IOCTL_PTR, SNDRV_PCM_IOCTL_SYNC_PTR, sizeof(struct snd_pcm_sync_ptr),
	  P_SYNC, SNDRV_PCM_SYNC_PTR_HWSYNC | SNDRV_PCM_SYNC_PTR_APPL | SNDRV_PCM_SYNC_PTR_AVAIL_MIN, -1, A_NONE },
	{ "SYNC_PTR(write appl)", K_IOCTL_PTR, SNDRV_PCM_IOCTL_SYNC_PTR, sizeof(struct snd_pcm_sync_ptr),
	  P_RW, SNDRV_PCM_SYNC_PTR_AVAIL_MIN, -1, A_NONE },
	{ "SYNC_PTR(write avail_min)", K_IOCTL_PTR, SNDRV_PCM_IOCTL_SYNC_PTR, sizeof(struct snd_pcm_sync_ptr),
	  P_CONTROL, SNDRV_PCM_SYNC_PTR_APPL, -1, A_NONE },
	{ "SYNC_PTR(write both)", K_IOCTL_PTR, SNDRV_PCM_IOCTL_SYNC_PTR, sizeof(struct snd_pcm_sync_ptr),
	  P_RW | P_CONTROL, 0, -1, A_NONE },
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
	IOC("PERM_GET", SNDRV_PCM_IOCTL_PERM_GET, unsigned int, P_FREE),
	IOC("SHARED_EXPORT", SNDRV_PCM_IOCTL_SHARED_EXPORT, struct snd_pcm_shared_export, P_CONTROL),
	{ "SHARED_REVOKE(-1)", K_IOCTL_PTR, SNDRV_PCM_IOCTL_SHARED_REVOKE, sizeof(int),
	  P_CONTROL, 0, -1, A_REVOKE_ALL },
	{ "SHARED_REVOKE(witness)", K_IOCTL_PTR, SNDRV_PCM_IOCTL_SHARED_REVOKE, sizeof(int),
	  P_CONTROL, 0, -1, A_REVOKE_WITNESS },
	IOC("HW_REFINE_OLD", PCM_IOCTL_HW_REFINE_OLD, struct pcm_hw_params_old, P_CONTROL),
	IOC("HW_PARAMS_OLD", PCM_IOCTL_HW_PARAMS_OLD, struct pcm_hw_params_old, P_CONTROL),
	IOV("unknown _IO('A',0x99)", _IO('A', 0x99), P_CONTROL),
	IOC("unknown _IOR('A',0x7f,int)", _IOR('A', 0x7f, int), int, P_CONTROL),
	IOC("unknown _IOWR('A',0x05,long)", _IOWR('A', 0x05, long), long, P_CONTROL),
	/* other types: nobody's, a terminal's, the other ALSA devices' */
	IOV("other type _IO('B',0x01)", _IO('B', 0x01), P_NOTTY),
	IOC("other type TCGETS", 0x5401, char[64], P_NOTTY),
	IOC("other type _IOR('U',0x00,int) (control PVERSION)", _IOR('U', 0x00, int), int, P_NOTTY),
	IOC("other type _IOR('H',0x00,int) (hwdep PVERSION)", _IOR('H', 0x00, int), int, P_NOTTY),
	IOC("other type _IOR('T',0x00,int) (timer PVERSION)", _IOR('T', 0x00, int), int, P_NOTTY),
	{ "write()", K_WRITE, 0, 0, P_RW, 0, SNDRV_PCM_STREAM_PLAYBACK, A_NONE },
	{ "writev()", K_WRITEV, 0, 0, P_RW, 0, SNDRV_PCM_STREAM_PLAYBACK, A_NONE },
	{ "read()", K_READ, 0, 0, P_RW, 0, SNDRV_PCM_STREAM_CAPTURE, A_NONE },
	{ "readv()", K_READV, 0, 0, P_RW, 0, SNDRV_PCM_STREAM_CAPTURE, A_NONE },
	{ "poll()", K_POLL, 0, 0, P_STATUS, 0, -1, A_NONE },
	{ "fcntl(F_SETFL, O_ASYNC)", K_FASYNC, 0, 0, P_CONTROL, 0, -1, A_NONE },
	{ "mmap(data, PROT_READ)", K_MMAP, 0, 0, P_MMAP, PROT_READ, -1, A_NONE },
	{ "mmap(data, PROT_READ|PROT_WRITE)", K_MMAP, 0, 0, P_MMAP | P_RW,
	  PROT_READ | PROT_WRITE, -1, A_NONE },
	{ "mmap(status)", K_MMAP, SNDRV_PCM_MMAP_OFFSET_STATUS_NEW, 4096, P_SYNC, PROT_READ, -1, A_NONE },
	{ "mmap(control, PROT_READ)", K_MMAP, SNDRV_PCM_MMAP_OFFSET_CONTROL_NEW, 4096, P_SYNC,
	  PROT_READ, -1, A_NONE },
	{ "mmap(control, PROT_READ|PROT_WRITE)", K_MMAP, SNDRV_PCM_MMAP_OFFSET_CONTROL_NEW, 4096,
	  P_SYNC | P_RW, PROT_READ | PROT_WRITE, -1, A_NONE },
};

/* a 32-bit or x32 program: the kernel's compat handlers */
#if defined(__ILP32__)
#define COMPAT	1
#else
#define COMPAT	0
#endif

/* the three ways to a file that holds less than everything */
enum way { W_EXCL, W_RESTRICT, W_EXPORT, NWAYS };
static const char *const way_names[NWAYS] = {
	"open(O_APPEND|O_EXCL)", "open(O_APPEND)+PERM_RESTRICT", "SHARED_EXPORT",
};

struct stream {
	const char *card_id;
	int dev, stream;
	int access;		/* SNDRV_PCM_ACCESS_* the master sets up */
	bool all_masks;		/* every mask, not only SHARED */
	int card, sub;
	int master, other;	/* other: a second stream, for LINK */
	int witness;		/* an exported file no call may revoke */
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
	char msg[320];
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

	if (m == P_SHARED)
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

/* The client file, opened the given way with the given mask; fd or -errno */
static int open_client(struct stream *s, enum way way, unsigned int mask)
{
	int fd, err, got;

	switch (way) {
	case W_EXCL:
		fd = pcm_open_sub(s->card, s->dev, s->stream, s->sub,
				  O_RDWR | O_NONBLOCK | O_APPEND | O_EXCL);
		if (fd < 0)
			return -errno;
		break;
	case W_RESTRICT:
		fd = pcm_open_sub(s->card, s->dev, s->stream, s->sub,
				  O_RDWR | O_NONBLOCK | O_APPEND);
		if (fd < 0)
			return -errno;
		err = xioctl(fd, SNDRV_PCM_IOCTL_PERM_RESTRICT, &mask);
		if (err) {
			close(fd);
			return err;
		}
		break;
	default:
		fd = pcm_export(s->master, mask, O_RDWR | O_NONBLOCK | O_CLOEXEC);
		if (fd < 0)
			return fd;
		break;
	}
	/* the file holds exactly what was asked for */
	got = pcm_perm(fd);
	if (got != (int)mask) {
		close(fd);
		return got < 0 ? got : -EPROTO;
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
	if (e->argv == A_REVOKE_ALL) {
		*(int *)arg = -1;
		return;
	}
	if (e->argv == A_REVOKE_WITNESS) {
		*(int *)arg = s->witness;
		return;
	}
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
	case SNDRV_PCM_IOCTL_SHARED_EXPORT: {
		struct snd_pcm_shared_export *ex = arg;

		/* a valid request: through, it would make a file */
		memset(ex, 0, sizeof(*ex));
		ex->perm = P_SHARED;
		ex->flags = O_RDONLY | O_CLOEXEC;
		ex->fd = -1;
		break;
	}
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

static bool is_denied(const struct entry *e, unsigned int mask)
{
	if (e->need & (P_FREE | P_NOTTY))
		return false;
	return (e->need & mask) != e->need;
}

static bool applies(const struct stream *s, const struct entry *e, unsigned int mask)
{
	if (e->stream >= 0 && e->stream != s->stream)
		return false;
	/* allowed control calls would change the stream: nothing to check */
	if (!is_denied(e, mask) && (e->need & P_CONTROL))
		return false;
	return true;
}

/*
 * What an allowed call must return, where the documentation says: 1 when it
 * must succeed, -errno when it must fail so, 0 when anything but EPERM will do.
 * A file without RW and CONTROL follows the buffer of a read/write stream
 * too; files that may write or control it map it as the owner does, which
 * for such a stream is not at all.
 */
static int expected(const struct stream *s, const struct entry *e, unsigned int mask)
{
	bool rw_access = s->access == SNDRV_PCM_ACCESS_RW_INTERLEAVED;

	if (e->need & P_NOTTY)
		return -ENOTTY;
	if (e->kind != K_MMAP || e->cmd != 0)
		return 0;
	if (!rw_access)
		return 1;
	if (!(e->flags & PROT_WRITE) && !(mask & (P_RW | P_CONTROL)))
		return 1;
	return -EINVAL;
}

static bool reaches_ioctl(const struct entry *e)
{
	return (e->kind == K_IOCTL_PTR || e->kind == K_IOCTL_VAL) && !(e->need & P_NOTTY);
}

static void run_entries(struct stream *s, enum way way, unsigned int mask, const char *state)
{
	static unsigned char arg[4096], pattern[4096];
	struct pcm_snapshot before, after;
	bool have_before = false;
	int client = -1;

	if (!dry_run) {
		client = open_client(s, way, mask);
		if (client < 0) {
			ksft_exit_fail_msg("%s: client %s with mask %s: %s\n", s->name,
					   way_names[way], mask_name(mask), strerror(-client));
		}
	}
	for (size_t i = 0; i < sizeof(entries) / sizeof(entries[0]); i++) {
		const struct entry *e = &entries[i];
		bool denied, ok, untouched = true;
		const char *diff = NULL;
		int ret, fd_before, want, witness, self;

		if (!applies(s, e, mask))
			continue;
		if (dry_run) {
			result(true, "");
			continue;
		}
		denied = is_denied(e, mask);
		want = denied ? -EPERM : expected(s, e, mask);
		/* the last call's "after" is this one's "before", unless it differed */
		if (!have_before)
			pcm_snapshot(s->master, &before);
		if (e->kind == K_IOCTL_PTR) {
			/* poison what the call has no reason to fill */
			memset(arg, 0xa5, sizeof(arg));
			fill_arg(s, e, arg, denied || want < 0, &before);
			memcpy(pattern, arg, e->size);
		}
		fd_before = pcm_next_fd();
		ret = call(s, client, e, arg, denied, &before);
		if (denied || reaches_ioctl(e)) {
			pcm_snapshot(s->master, &after);
		} else {
			/* mmap, poll, other types: the hw setup is out of reach */
			after = before;
			after.sw_err = xioctl(s->master, SNDRV_PCM_IOCTL_SW_PARAMS_GET, &after.sw);
			xioctl(s->master, SNDRV_PCM_IOCTL_STATUS, &after.status);
		}
		if (e->kind == K_IOCTL_PTR && want < 0)
			untouched = !memcmp(arg, pattern, e->size);
		diff = pcm_snapshot_diff(&before, &after);
		/* nothing was revoked, no file was made */
		witness = pcm_perm(s->witness);
		self = pcm_perm(client);
		if (!diff && witness != (int)P_SHARED)
			diff = "the witness was revoked";
		if (!diff && self != (int)mask)
			diff = "the client's mask changed, or it was revoked";
		if (!diff && pcm_next_fd() != fd_before)
			diff = "a file descriptor was made";
		before = after;
		have_before = !diff;
		if (want < 0)
			ok = ret == want && untouched && !diff;
		else if (want > 0)
			ok = ret == 0 && !diff;
		else
			ok = ret != -EPERM && !diff;
		result(ok, "%s %s %s %s mask=%s %s: %s%s%s%s%s", PCM_ABI, s->name, state,
		       way_names[way], mask_name(mask), e->name,
		       ret ? strerror(-ret) : "ok",
		       denied ? " (denied)" : want < 0 ? " (refused)" : " (allowed)",
		       untouched ? "" : ", argument written",
		       diff ? ", " : "", diff ? diff : "");
	}
	if (client >= 0)
		close(client);
}

/*
 * A file without RW follows a stream set up with RW_INTERLEAVED access:
 * what the master wrote is in the mapping, read-only; a file that may
 * write gets EINVAL, as the master itself does.
 */
static void follow_rw_stream(struct stream *s, enum way way, const int16_t *wrote,
			     size_t frames)
{
	unsigned int masks[2] = { P_SHARED, way == W_EXCL ? 0 : P_SHARED | P_RW };

	for (int m = 0; m < (way == W_EXCL ? 1 : 2); m++) {
		int client, err = 0, diffs = 0;
		void *map;

		if (dry_run) {
			result(true, "");
			continue;
		}
		client = open_client(s, way, masks[m]);
		if (client < 0)
			ksft_exit_fail_msg("%s: client %s with mask %s: %s\n", s->name,
					   way_names[way], mask_name(masks[m]), strerror(-client));
		map = mmap(NULL, s->buffer_bytes, PROT_READ, MAP_SHARED, client, 0);
		if (map == MAP_FAILED) {
			err = -errno;
		} else {
			for (size_t i = 0; i < frames * 2; i++)
				diffs += ((int16_t *)map)[i] != wrote[i];
			if (mprotect(map, s->buffer_bytes, PROT_READ | PROT_WRITE) == 0)
				diffs = -1;
			munmap(map, s->buffer_bytes);
		}
		close(client);
		if (masks[m] & P_RW)
			result(err == -EINVAL,
			       "%s %s %s mask=%s: mmap(data, PROT_READ) %s, as the master's own (EINVAL)",
			       PCM_ABI, s->name, way_names[way], mask_name(masks[m]),
			       err ? strerror(-err) : "succeeded");
		else
			result(!err && diffs == 0,
			       "%s %s %s mask=%s: follows read-only (%s, %d of %zu samples differ from what the master wrote%s)",
			       PCM_ABI, s->name, way_names[way], mask_name(masks[m]),
			       err ? strerror(-err) : "mapped", diffs < 0 ? 0 : diffs, frames * 2,
			       diffs < 0 ? ", mprotect made it writable" : "");
	}
}

/* The master's own export: no CONTROL to give, no more than its own mode */
static void export_errors(struct stream *s)
{
	static const struct {
		unsigned int perm, flags;
		int err;
		const char *what;
	} cases[] = {
		{ P_SHARED | P_CONTROL, O_RDWR, -EPERM, "CONTROL in the mask" },
		{ P_ALL, O_RDONLY, -EPERM, "ALL" },
		{ P_SHARED | 0x100, O_RDWR, -EINVAL, "an unknown bit" },
		{ P_SHARED, O_RDWR | O_APPEND, -EINVAL, "an unknown flag" },
	};

	struct snd_pcm_shared_export ex;
	int fd_before, ret, ro, fresh, fd, fdflags, flflags;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		if (dry_run) {
			result(true, "");
			continue;
		}
		fd_before = pcm_next_fd();
		ret = pcm_export(s->master, cases[i].perm, cases[i].flags);
		if (ret >= 0)
			close(ret);
		result(ret == cases[i].err && pcm_next_fd() == fd_before,
		       "%s %s SHARED_EXPORT by the master with %s: %s, no descriptor left",
		       PCM_ABI, s->name, cases[i].what, ret >= 0 ? "succeeded" : strerror(-ret));
	}
	if (dry_run) {
		for (int i = 0; i < 4; i++)
			result(true, "");
		return;
	}
	/* a reserved byte set */
	memset(&ex, 0, sizeof(ex));
	ex.perm = P_SHARED;
	ex.flags = O_RDONLY;
	ex.reserved[sizeof(ex.reserved) - 1] = 1;
	fd_before = pcm_next_fd();
	ret = xioctl(s->master, SNDRV_PCM_IOCTL_SHARED_EXPORT, &ex);
	if (!ret)
		close(ex.fd);
	result(ret == -EINVAL && pcm_next_fd() == fd_before,
	       "%s %s SHARED_EXPORT with a reserved byte set: %s, no descriptor left",
	       PCM_ABI, s->name, ret ? strerror(-ret) : "succeeded");
	/* no more than the exporter's own access mode */
	ro = pcm_open_sub(s->card, s->dev, s->stream, s->sub, O_RDONLY | O_NONBLOCK | O_APPEND);
	ret = pcm_export(ro, P_SHARED, O_RDWR);
	if (ret >= 0)
		close(ret);
	fd = pcm_export(ro, P_SHARED, O_RDONLY);
	result(ro >= 0 && ret == -EPERM && fd >= 0,
	       "%s %s SHARED_EXPORT by an O_RDONLY file: O_RDWR %s, O_RDONLY %s",
	       PCM_ABI, s->name, ret >= 0 ? "succeeded" : strerror(-ret),
	       fd >= 0 ? "succeeds" : strerror(-fd));
	if (fd >= 0)
		close(fd);
	if (ro >= 0)
		close(ro);
	/* a substream not set up */
	fresh = pcm_open(s->card, s->dev, s->stream, O_RDWR | O_NONBLOCK);
	fd_before = pcm_next_fd();
	ret = pcm_export(fresh, P_SHARED, O_RDONLY);
	if (ret >= 0)
		close(ret);
	result(fresh >= 0 && ret == -EBADFD && pcm_next_fd() == fd_before,
	       "%s %s SHARED_EXPORT of a substream not set up: %s, no descriptor left",
	       PCM_ABI, s->name, ret >= 0 ? "succeeded" : strerror(-ret));
	if (fresh >= 0)
		close(fresh);
	/* the flags asked for, on the new descriptor */
	fd = pcm_export(s->master, P_SHARED, O_RDONLY | O_NONBLOCK);
	fdflags = fd >= 0 ? fcntl(fd, F_GETFD) : -1;
	flflags = fd >= 0 ? fcntl(fd, F_GETFL) : -1;
	if (fd >= 0)
		close(fd);
	ret = fd;
	fd = pcm_export(s->master, P_SHARED, O_WRONLY | O_CLOEXEC);
	result(ret >= 0 && fd >= 0 && !(fdflags & FD_CLOEXEC) && (flflags & O_NONBLOCK) &&
	       (flflags & O_ACCMODE) == O_RDONLY && (fcntl(fd, F_GETFD) & FD_CLOEXEC) &&
	       !(fcntl(fd, F_GETFL) & O_NONBLOCK) && (fcntl(fd, F_GETFL) & O_ACCMODE) == O_WRONLY,
	       "%s %s SHARED_EXPORT honours O_CLOEXEC, O_NONBLOCK and the access mode",
	       PCM_ABI, s->name);
	if (fd >= 0)
		close(fd);
}

/*
 * SHARED_REVOKE names a file without CONTROL on the same substream, or
 * -1: anything else is EINVAL (EBADF when not open); naming a revoked file
 * again succeeds. The witness lives through all of it.
 */
static void revoke_errors(struct stream *s)
{
	int devnull, other_export, append, closed, victim, r1, r2, gone;

	if (dry_run) {
		for (int i = 0; i < 7; i++)
			result(true, "");
		return;
	}
	devnull = open("/dev/null", O_RDONLY | O_CLOEXEC);
	other_export = pcm_export(s->other, P_SHARED, O_RDONLY | O_CLOEXEC);
	append = pcm_open_sub(s->card, s->dev, s->stream, s->sub, O_RDWR | O_NONBLOCK | O_APPEND);
	closed = pcm_next_fd();
	result(pcm_revoke(s->master, s->master) == -EINVAL,
	       "%s %s SHARED_REVOKE naming the master itself: EINVAL", PCM_ABI, s->name);
	result(pcm_revoke(s->master, s->other) == -EINVAL,
	       "%s %s SHARED_REVOKE naming the master of another substream: EINVAL", PCM_ABI, s->name);
	result(other_export >= 0 && pcm_revoke(s->master, other_export) == -EINVAL &&
	       pcm_perm(other_export) == (int)P_SHARED,
	       "%s %s SHARED_REVOKE naming an export of another substream: EINVAL, it lives",
	       PCM_ABI, s->name);
	result(append >= 0 && pcm_revoke(s->master, append) == -EINVAL && pcm_perm(append) == (int)P_ALL,
	       "%s %s SHARED_REVOKE naming an O_APPEND file holding CONTROL: EINVAL, it lives",
	       PCM_ABI, s->name);
	result(pcm_revoke(s->master, devnull) == -EINVAL,
	       "%s %s SHARED_REVOKE naming /dev/null: EINVAL", PCM_ABI, s->name);
	result(pcm_revoke(s->master, closed) == -EBADF,
	       "%s %s SHARED_REVOKE naming a descriptor not open: EBADF", PCM_ABI, s->name);
	victim = pcm_export(s->master, P_SHARED, O_RDONLY | O_CLOEXEC);
	r1 = pcm_revoke(s->master, victim);
	r2 = pcm_revoke(s->master, victim);
	gone = pcm_perm(victim);
	result(victim >= 0 && !r1 && !r2 && gone == -ENODEV && pcm_perm(s->witness) == (int)P_SHARED,
	       "%s %s SHARED_REVOKE naming an export, twice: %d, %d; it answers %s, the witness lives",
	       PCM_ABI, s->name, r1, r2, gone < 0 ? strerror(-gone) : "a mask");
	close(victim);
	close(append);
	close(other_export);
	close(devnull);
}

/*
 * The last file holding CONTROL gives it up: an O_APPEND file, left alone
 * in control of a substream of its own after the file that opened it
 * closed, restricts itself to SHARED. Nobody may drive the stream any
 * more: it is revoked with its export, and the substream is free again.
 */
static void last_control_gives_up(struct stream *s)
{
	unsigned int shared = P_SHARED;
	int opener, append = -1, ex = -1, err = -1, pa = 0, pe = 0, again = -1, sub;

	opener = pcm_open(s->card, s->dev, s->stream, O_RDWR | O_NONBLOCK);
	sub = opener >= 0 ? pcm_subdevice(opener) : -1;
	if (opener >= 0 && !pcm_configure(opener, &pcm_default_setup)) {
		append = pcm_open_sub(s->card, s->dev, s->stream, sub,
				      O_RDWR | O_NONBLOCK | O_APPEND);
		ex = append >= 0 ? pcm_export(append, P_SHARED, O_RDONLY | O_CLOEXEC) : -1;
	}
	if (opener >= 0)
		close(opener);
	if (append >= 0 && ex >= 0) {
		err = xioctl(append, SNDRV_PCM_IOCTL_PERM_RESTRICT, &shared);
		pa = pcm_perm(append);
		pe = pcm_perm(ex);
		again = pcm_open_sub(s->card, s->dev, s->stream, sub, O_RDWR | O_NONBLOCK);
	}
	result(!err && pa == -ENODEV && pe == -ENODEV && again >= 0,
	       "%s %s the last file holding CONTROL gives it up: PERM_RESTRICT %s, it answers %s, its export %s, the substream opens again: %s",
	       PCM_ABI, s->name, err ? strerror(-err) : "succeeds",
	       pa < 0 ? strerror(-pa) : "a mask", pe < 0 ? strerror(-pe) : "a mask",
	       again >= 0 ? "yes" : strerror(errno));
	if (again >= 0)
		close(again);
	if (ex >= 0)
		close(ex);
	if (append >= 0)
		close(append);
}

/*
 * PERM_RESTRICT: only files that can be revoked may give up CONTROL: not
 * the one that opened the substream, not an O_APPEND file while it maps
 * the data buffer as a controlling file
 */
static void restrict_errors(struct stream *s)
{
	unsigned int shared = P_SHARED, all = P_ALL, unknown = P_SHARED | 0x100;
	int append, err1, err2, excl;
	void *map;

	if (dry_run) {
		for (int i = 0; i < 4; i++)
			result(true, "");
		return;
	}
	last_control_gives_up(s);
	err1 = xioctl(s->master, SNDRV_PCM_IOCTL_PERM_RESTRICT, &shared);
	result(err1 == -EBUSY && pcm_perm(s->master) == (int)P_ALL,
	       "%s %s PERM_RESTRICT(SHARED) by the file that opened the substream: %s, still ALL",
	       PCM_ABI, s->name, err1 ? strerror(-err1) : "succeeded");
	append = pcm_open_sub(s->card, s->dev, s->stream, s->sub, O_RDWR | O_NONBLOCK | O_APPEND);
	map = mmap(NULL, s->buffer_bytes, PROT_READ, MAP_SHARED, append, 0);
	err1 = xioctl(append, SNDRV_PCM_IOCTL_PERM_RESTRICT, &shared);
	if (map != MAP_FAILED)
		munmap(map, s->buffer_bytes);
	err2 = xioctl(append, SNDRV_PCM_IOCTL_PERM_RESTRICT, &shared);
	result(map != MAP_FAILED && err1 == -EBUSY && !err2 && pcm_perm(append) == (int)P_SHARED,
	       "%s %s PERM_RESTRICT(SHARED) by an O_APPEND file: while it maps the data as a controlling file %s, unmapped %s",
	       PCM_ABI, s->name, err1 ? strerror(-err1) : "succeeded",
	       err2 ? strerror(-err2) : "succeeds");
	close(append);
	excl = pcm_open_sub(s->card, s->dev, s->stream, s->sub,
			    O_RDWR | O_NONBLOCK | O_APPEND | O_EXCL);
	err1 = xioctl(excl, SNDRV_PCM_IOCTL_PERM_RESTRICT, &unknown);
	err2 = xioctl(excl, SNDRV_PCM_IOCTL_PERM_RESTRICT, &all);
	result(err1 == -EINVAL && err2 == -EPERM && pcm_perm(excl) == (int)P_SHARED,
	       "%s %s PERM_RESTRICT of a SHARED file: unknown bits %s, more bits %s, still SHARED",
	       PCM_ABI, s->name, err1 ? strerror(-err1) : "succeeded",
	       err2 ? strerror(-err2) : "succeeded");
	close(excl);
}

static int setup_stream(struct stream *s)
{
	struct pcm_setup setup = pcm_default_setup;
	int err;

	setup.access = s->access;
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
	close(s->witness);
	close(s->other);
	close(s->master);
}

/* the masks tried on the streams that get all of them */
static const unsigned int all_masks[] = {
	P_SHARED, 0, P_MMAP, P_SYNC, P_STATUS, P_RW, P_CONTROL, P_SHARED | P_RW, P_ALL,
};

/*
 * Every mask, each way, on the streams marked for it; SHARED elsewhere. The
 * compat builds cross other handlers for each command, but the same check
 * for each mask: they try every mask on the first stream only.
 */
static void run_way(struct stream *s, enum way way, bool many)
{
	for (size_t m = 0; m < sizeof(all_masks) / sizeof(all_masks[0]); m++) {
		unsigned int mask = all_masks[m];

		if (mask != P_SHARED && (!many || way == W_EXCL))
			continue;
		/* an export never holds CONTROL: see export_errors() */
		if (way == W_EXPORT && (mask & P_CONTROL))
			continue;
		run_entries(s, way, mask, "prepared");
	}
}

static struct stream streams[5];

static void run_stream(struct stream *s)
{
	static int16_t wrote[2 * 1024];
	size_t frames = sizeof(wrote) / sizeof(wrote[0]) / 2;
	int err;

	snprintf(s->name, sizeof(s->name), "%s:%d/%s%s", s->card_id, s->dev,
		 s->stream == SNDRV_PCM_STREAM_PLAYBACK ? "playback" : "capture",
		 s->access == SNDRV_PCM_ACCESS_RW_INTERLEAVED ? " (RW_INTERLEAVED)" : "");
	if (!dry_run) {
		err = setup_stream(s);
		if (err)
			ksft_exit_fail_msg("%s: master setup: %s\n", s->name, strerror(-err));
		s->witness = pcm_export(s->master, P_SHARED, O_RDONLY | O_CLOEXEC);
		if (s->witness < 0)
			ksft_exit_fail_msg("%s: SHARED_EXPORT of the witness: %s\n", s->name,
					   strerror(-s->witness));
		xioctl(s->master, SNDRV_PCM_IOCTL_PREPARE, NULL);
		xioctl(s->other, SNDRV_PCM_IOCTL_PREPARE, NULL);
	}
	if (s->access == SNDRV_PCM_ACCESS_RW_INTERLEAVED) {
		/* the master writes a known signal; the start threshold holds it */
		if (!dry_run) {
			struct snd_xferi x = { .buf = wrote, .frames = frames };

			for (size_t i = 0; i < frames * 2; i++)
				wrote[i] = (int16_t)(0x1111 + 7 * i);
			err = xioctl(s->master, SNDRV_PCM_IOCTL_WRITEI_FRAMES, &x);
			if (err || x.result != (snd_pcm_sframes_t)frames)
				ksft_exit_fail_msg("%s: master write: %s\n", s->name, strerror(-err));
		}
		for (int way = 0; way < NWAYS; way++) {
			follow_rw_stream(s, way, wrote, frames);
			run_entries(s, way, P_SHARED, "prepared");
		}
		if (!dry_run)
			teardown_stream(s);
		return;
	}
	/* PREPARED: nothing may move at all */
	export_errors(s);
	revoke_errors(s);
	restrict_errors(s);
	for (int way = 0; way < NWAYS; way++)
		run_way(s, way, s->all_masks && (!COMPAT || s == &streams[0]));
	/* RUNNING: hw_ptr moves on, nothing else changes */
	if (!dry_run) {
		xioctl(s->master, SNDRV_PCM_IOCTL_START, NULL);
		xioctl(s->other, SNDRV_PCM_IOCTL_START, NULL);
	}
	for (int way = 0; way < NWAYS; way++)
		run_entries(s, way, P_SHARED, "running");
	if (!dry_run)
		teardown_stream(s);
}

#define MMAP_I	SNDRV_PCM_ACCESS_MMAP_INTERLEAVED
#define RW_I	SNDRV_PCM_ACCESS_RW_INTERLEAVED

static struct stream streams[5] = {
	{ .card_id = "Dummy", .dev = 0, .stream = SNDRV_PCM_STREAM_PLAYBACK, .access = MMAP_I,
	  .all_masks = true },
	{ .card_id = "Dummy", .dev = 0, .stream = SNDRV_PCM_STREAM_CAPTURE, .access = MMAP_I },
	{ .card_id = "Loopback", .dev = 0, .stream = SNDRV_PCM_STREAM_PLAYBACK, .access = MMAP_I },
	{ .card_id = "Loopback", .dev = 1, .stream = SNDRV_PCM_STREAM_CAPTURE, .access = MMAP_I,
	  .all_masks = true },
	/* a real buffer (the dummy's is a fake one), written with write() */
	{ .card_id = "Loopback", .dev = 0, .stream = SNDRV_PCM_STREAM_PLAYBACK, .access = RW_I },
};

static void run_all(void)
{
	for (size_t i = 0; i < sizeof(streams) / sizeof(streams[0]); i++)
		run_stream(&streams[i]);
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
	ksft_print_msg("ABI %s, %u cases\n", PCM_ABI, planned);
	run_all();
	ksft_finished();
}
