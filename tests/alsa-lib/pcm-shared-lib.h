/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Helpers of the alsa-lib tests of restricted sharing: the masters are
 * unmodified aplay and arecord processes, the data a pattern that says
 * which frame it is, the checks for leaks a count of file descriptors.
 * No kernel headers here: they clash with <alsa/asoundlib.h>.
 */
#ifndef PCM_SHARED_LIB_H
#define PCM_SHARED_LIB_H

#include <alsa/asoundlib.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include "fd-passing.h"

extern char **environ;

/* The stream every master here plays: the same on both loopback ends */
#define RATE		16000
#define CHANNELS	2
#define PERIOD		1024
#define BUFFER		16384		/* 1 s: room for a slow, busy VM */
#define PATTERN_FRAMES	(3 * RATE)
/*
 * Silence after the pattern: snd-aloop garbles a few frames shortly
 * before a playback ends (on the baseline kernel too), so the end is not
 * part of what is compared.
 */
#define PATTERN_PAD	(RATE / 2)
#define PATTERN_FILE	"/tmp/pattern.raw"

/* Generous bounds on waiting for progress; no test asserts a duration. */
#define WAIT_START_MS	30000
#define WAIT_EXIT_MS	60000

static inline long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

static inline void sleep_ms(unsigned int ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

/*
 * Frame n of the pattern carries n in both channels, each sample with the
 * top bit set, so that no frame of it is silence and each is unique.
 */
static inline void pattern_frame(unsigned long n, short *f)
{
	f[0] = (short)(0x8000 | (n & 0x7fff));
	f[1] = (short)(0x8000 | ((n >> 15) & 0x7fff));
}

/* the frame number of a pattern frame, -1 for any other frame */
static inline long pattern_index(const short *f)
{
	unsigned short a = f[0], b = f[1];

	if (!(a & 0x8000) || !(b & 0x8000))
		return -1;
	return (a & 0x7fff) | ((long)(b & 0x7fff) << 15);
}

/* frames of the pattern, then PATTERN_PAD frames of silence */
static inline int write_pattern_file(const char *path, unsigned long frames)
{
	short f[CHANNELS];
	unsigned long n;
	FILE *fp = fopen(path, "w");

	if (!fp)
		return -errno;
	for (n = 0; n < frames; n++) {
		pattern_frame(n, f);
		fwrite(f, sizeof(f), 1, fp);
	}
	memset(f, 0, sizeof(f));
	for (n = 0; n < PATTERN_PAD; n++)
		fwrite(f, sizeof(f), 1, fp);
	return fclose(fp) ? -errno : 0;
}

/* Run a program with its stdout and stderr in a file */
static inline pid_t spawn_logged(const char *log, char *const argv[])
{
	posix_spawn_file_actions_t fa;
	pid_t pid;
	int err;

	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 1, log, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	posix_spawn_file_actions_adddup2(&fa, 1, 2);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	err = posix_spawnp(&pid, argv[0], &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	return err ? -err : pid;
}

/* Wait for a process to end; its wait status, or -ETIMEDOUT */
static inline int wait_exit(pid_t pid, int ms)
{
	long long end = now_ms() + ms;
	int status;

	for (;;) {
		pid_t r = waitpid(pid, &status, WNOHANG);

		if (r == pid)
			return status;
		if (r < 0)
			return -errno;
		if (now_ms() > end)
			return -ETIMEDOUT;
		sleep_ms(20);
	}
}

static inline void stop_process(pid_t *pid)
{
	if (*pid > 0) {
		kill(*pid, SIGKILL);
		waitpid(*pid, NULL, 0);
	}
	*pid = 0;
}

/*
 * The pattern without end, for a master that must play on for as long as
 * a test needs it, however slowly the test runs: a process of its own
 * writes it into a FIFO, period by period, until pattern_feed_end() asks
 * it to stop; it then ends with at least PATTERN_FRAMES frames of pattern
 * in all and the silence after them. Held, it writes half a buffer and
 * waits for pattern_feed_release(): the master sets its stream up and
 * waits for more, without starting it.
 */
struct pattern_feed {
	pid_t pid;
	unsigned long *shared;	/* [0]: stop; [1]: frames written; [2]: go */
	char fifo[64];
};

#define FEED_SHARED	(3 * sizeof(unsigned long))

static inline int pattern_feed_start(struct pattern_feed *feed, const char *name,
				     int held)
{
	short buf[PERIOD * CHANNELS];
	unsigned long n = 0, i;
	int fd;

	snprintf(feed->fifo, sizeof(feed->fifo), "/tmp/feed-%s", name);
	unlink(feed->fifo);
	if (mkfifo(feed->fifo, 0600) < 0)
		return -errno;
	feed->shared = mmap(NULL, FEED_SHARED, PROT_READ | PROT_WRITE,
			    MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (feed->shared == MAP_FAILED) {
		feed->shared = NULL;
		return -errno;
	}
	feed->pid = fork();
	if (feed->pid < 0)
		return -errno;
	if (feed->pid > 0)
		return 0;

	/* nothing of the test's, only the FIFO, once the master opens it */
	close_range(3, ~0U, 0);
	fd = open(feed->fifo, O_WRONLY);
	if (fd < 0)
		_exit(1);
	while (n < PATTERN_FRAMES || !__atomic_load_n(&feed->shared[0], __ATOMIC_ACQUIRE)) {
		for (i = 0; i < PERIOD; i++)
			pattern_frame(n + i, buf + i * CHANNELS);
		if (write(fd, buf, sizeof(buf)) != sizeof(buf))
			_exit(1);
		n += PERIOD;
		__atomic_store_n(&feed->shared[1], n, __ATOMIC_RELEASE);
		while (held && n == BUFFER / 2 &&
		       !__atomic_load_n(&feed->shared[2], __ATOMIC_ACQUIRE))
			sleep_ms(5);
	}
	memset(buf, 0, sizeof(buf));
	for (i = 0; i < PATTERN_PAD; i += PERIOD)
		if (write(fd, buf, sizeof(buf)) != sizeof(buf))
			_exit(1);
	_exit(0);
}

static inline void pattern_feed_release(struct pattern_feed *feed)
{
	__atomic_store_n(&feed->shared[2], 1, __ATOMIC_RELEASE);
}

/*
 * Let the pattern come to its end; how many frames of it were written, or
 * a negative error code
 */
static inline long pattern_feed_end(struct pattern_feed *feed)
{
	int status;

	if (!feed->shared || feed->pid <= 0)
		return -ESRCH;
	__atomic_store_n(&feed->shared[0], 1, __ATOMIC_RELEASE);
	pattern_feed_release(feed);
	status = wait_exit(feed->pid, WAIT_EXIT_MS);
	if (status < 0)
		return status;
	feed->pid = 0;
	if (!WIFEXITED(status) || WEXITSTATUS(status))
		return -EIO;
	return __atomic_load_n(&feed->shared[1], __ATOMIC_ACQUIRE);
}

/* end it at once; the frames of pattern written, which the master may play */
static inline long pattern_feed_stop(struct pattern_feed *feed)
{
	long written = 0;

	stop_process(&feed->pid);
	if (feed->shared) {
		written = __atomic_load_n(&feed->shared[1], __ATOMIC_ACQUIRE);
		munmap(feed->shared, FEED_SHARED);
	}
	feed->shared = NULL;
	if (feed->fifo[0])
		unlink(feed->fifo);
	feed->fifo[0] = 0;
	return written;
}

/*
 * aplay or arecord with the stream parameters of these tests; extra, a
 * NULL-terminated list, adds arguments (a later one of the same option
 * wins)
 */
static inline pid_t spawn_alsa_util(const char *prog, const char *log,
				    const char *device, int mmap,
				    const char *file, const char *const extra[])
{
	char dev[128];
	char *argv[32];
	int n = 0;

	snprintf(dev, sizeof(dev), "%s", device);
	argv[n++] = (char *)prog;
	argv[n++] = "-v";
	argv[n++] = "-D";
	argv[n++] = dev;
	argv[n++] = "-t";
	argv[n++] = "raw";
	argv[n++] = "-f";
	argv[n++] = "S16_LE";
	argv[n++] = "-c";
	argv[n++] = "2";
	argv[n++] = "-r";
	argv[n++] = "16000";
	argv[n++] = "--period-size=1024";
	argv[n++] = "--buffer-size=16384";
	if (mmap)
		argv[n++] = "-M";
	while (extra && *extra && n < 30)
		argv[n++] = (char *)*extra++;
	argv[n++] = (char *)file;
	argv[n] = NULL;
	return spawn_logged(log, argv);
}

/* a whole file, NUL-terminated; read to its end, as /proc files want */
static inline char *read_file(const char *path, size_t *len)
{
	FILE *fp = fopen(path, "r");
	size_t size = 0, room = 4096, n;
	char *buf, *more;

	if (!fp)
		return NULL;
	buf = malloc(room + 1);
	while (buf && (n = fread(buf + size, 1, room - size, fp)) > 0) {
		size += n;
		if (size == room) {
			room *= 2;
			more = realloc(buf, room + 1);
			if (!more)
				free(buf);
			buf = more;
		}
	}
	fclose(fp);
	if (buf) {
		buf[size] = 0;
		if (len)
			*len = size;
	}
	return buf;
}

/*
 * The line in which a master told of a disturbed stream (malloc'd), or
 * NULL: aplay and arecord report xruns, errors and suspicious positions.
 */
static inline char *log_trouble(const char *log)
{
	static const char *const words[] = {
		"underrun", "overrun", "Suspicious", "xrun", "rror", "failed", NULL,
	};
	const char *const *w;
	char *text = read_file(log, NULL), *found = NULL, *p, *e;

	if (!text)
		return strdup("no log");
	for (w = words; *w && !found; w++) {
		p = strstr(text, *w);
		if (!p)
			continue;
		while (p > text && p[-1] != '\n')
			p--;
		e = strchr(p, '\n');
		found = e ? strndup(p, e - p) : strdup(p);
	}
	free(text);
	return found;
}

/*
 * How many frames of the whole pattern follow in order, from the first
 * frame 0 of a recording on; *first is where it starts.
 */
static inline size_t pattern_in_order(const short *rec, size_t frames,
				       size_t *first)
{
	size_t i;

	for (*first = 0; *first < frames; (*first)++)
		if (pattern_index(rec + *first * CHANNELS) == 0)
			break;
	for (i = 0; *first + i < frames; i++)
		if (pattern_index(rec + (*first + i) * CHANNELS) != (long)i)
			break;
	return i;
}

/*
 * The recording of arecord on the other end of a loopback that aplay
 * played a pattern of pattern_frames into: stop it once everything has
 * arrived, and say what is wrong with it (malloc'd), or NULL when it holds
 * the whole pattern in order and arecord reported no trouble.
 */
static inline char *witness_verdict(pid_t *arecord, const char *log,
				    const char *file, size_t pattern_frames)
{
	char *why = NULL, *trouble;
	short *rec;
	size_t len, frames, first, n;
	int status;

	sleep_ms(300);
	kill(*arecord, SIGINT);
	status = wait_exit(*arecord, WAIT_EXIT_MS);
	if (status < 0)
		stop_process(arecord);
	*arecord = 0;
	if (status < 0)
		return strdup("arecord did not end");
	trouble = log_trouble(log);
	if (trouble) {
		if (asprintf(&why, "arecord printed '%s'", trouble) < 0)
			why = NULL;
		free(trouble);
		return why ? why : strdup("arecord printed trouble");
	}
	rec = (short *)read_file(file, &len);
	if (!rec)
		return strdup("no recording");
	frames = len / (CHANNELS * sizeof(short));
	n = pattern_in_order(rec, frames, &first);
	if (n != pattern_frames &&
	    asprintf(&why, "%zu frames recorded; from frame 0 at %zu, %zu in order, "
		     "then %ld (%hd %hd)", frames, first, n,
		     first + n < frames ? pattern_index(rec + (first + n) * CHANNELS) : -1,
		     first + n < frames ? rec[(first + n) * CHANNELS] : 0,
		     first + n < frames ? rec[(first + n) * CHANNELS + 1] : 0) < 0)
		why = strdup("the pattern did not arrive whole");
	free(rec);
	return why;
}

/*
 * This process as a master: it sets the stream up for mmap access with
 * the parameters of these tests, with timestamps, and plays the pattern,
 * frame *next on.
 */
static inline int pattern_master_setup(snd_pcm_t *pcm)
{
	snd_pcm_hw_params_t *hw;
	snd_pcm_sw_params_t *sw;
	int err;

	snd_pcm_hw_params_alloca(&hw);
	snd_pcm_sw_params_alloca(&sw);
	if ((err = snd_pcm_hw_params_any(pcm, hw)) < 0 ||
	    (err = snd_pcm_hw_params_set_access(pcm, hw,
						SND_PCM_ACCESS_MMAP_INTERLEAVED)) < 0 ||
	    (err = snd_pcm_hw_params_set_format(pcm, hw, SND_PCM_FORMAT_S16_LE)) < 0 ||
	    (err = snd_pcm_hw_params_set_channels(pcm, hw, CHANNELS)) < 0 ||
	    (err = snd_pcm_hw_params_set_rate(pcm, hw, RATE, 0)) < 0 ||
	    (err = snd_pcm_hw_params_set_period_size(pcm, hw, PERIOD, 0)) < 0 ||
	    (err = snd_pcm_hw_params_set_buffer_size(pcm, hw, BUFFER)) < 0 ||
	    (err = snd_pcm_hw_params(pcm, hw)) < 0 ||
	    (err = snd_pcm_sw_params_current(pcm, sw)) < 0 ||
	    (err = snd_pcm_sw_params_set_tstamp_mode(pcm, sw, SND_PCM_TSTAMP_ENABLE)) < 0 ||
	    (err = snd_pcm_sw_params_set_start_threshold(pcm, sw, BUFFER)) < 0)
		return err;
	return snd_pcm_sw_params(pcm, sw);
}

static inline int pattern_master_open(snd_pcm_t **pcm, const char *name)
{
	int err;

	err = snd_pcm_open(pcm, name, SND_PCM_STREAM_PLAYBACK, 0);
	if (err < 0)
		return err;
	err = pattern_master_setup(*pcm);
	if (err < 0) {
		snd_pcm_close(*pcm);
		*pcm = NULL;
	}
	return err;
}

/* play what there is room for, of the pattern */
static inline int pattern_master_play(snd_pcm_t *pcm, unsigned long *next)
{
	short buf[PERIOD * CHANNELS];
	snd_pcm_sframes_t avail = snd_pcm_avail_update(pcm), r;
	int i;

	while (avail >= PERIOD) {
		for (i = 0; i < PERIOD; i++)
			pattern_frame(*next + i, buf + i * CHANNELS);
		r = snd_pcm_mmap_writei(pcm, buf, PERIOD);
		if (r < 0)
			return r;
		*next += r;
		avail -= r;
	}
	return avail < 0 ? avail : 0;
}

/* fill the buffer: the stream starts when it is full */
static inline int pattern_master_start(snd_pcm_t *pcm, unsigned long *next)
{
	int err;

	while (snd_pcm_state(pcm) != SND_PCM_STATE_RUNNING) {
		err = pattern_master_play(pcm, next);
		if (err < 0)
			return err;
	}
	return 0;
}

/* Pass a file descriptor over a UNIX socket (SCM_RIGHTS): 0 or -errno */
static inline int send_fd(int sock, int fd)
{
	char c = 0;

	return fdp_send(sock, &c, 1, fd, 0);
}

/* The file descriptor that came over a UNIX socket, or -EIO */
static inline int recv_fd(int sock)
{
	char c;
	int fd = fdp_recv(sock, &c, 1, MSG_CMSG_CLOEXEC, NULL, NULL);

	return fd >= 0 ? fd : -EIO;
}

static inline int count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	int n = 0;

	if (!d)
		return -errno;
	while ((e = readdir(d)))
		if (e->d_name[0] != '.')
			n++;
	closedir(d);
	return n - 1;	/* the directory's own */
}

/*
 * Open a shared handle on a stream that a master is starting: the open
 * fails with -EBADFD until the master has set the stream up (prepared
 * it, for a master that does), and the master has also set its sw params
 * once the stream runs.
 */
static inline int open_shared_wait(snd_pcm_t **pcm, const char *name,
				   snd_pcm_stream_t stream, snd_pcm_state_t state)
{
	long long end = now_ms() + WAIT_START_MS;
	int err;

	for (;;) {
		err = snd_pcm_open_shared(pcm, name, stream, 0);
		if (err == 0) {
			if (snd_pcm_state(*pcm) == state)
				return 0;
			snd_pcm_close(*pcm);
			err = -EAGAIN;
		}
		if (err != -EBADFD && err != -EAGAIN)
			return err;
		if (now_ms() > end)
			return -ETIMEDOUT;
		sleep_ms(20);
	}
}

static inline int open_shared_running(snd_pcm_t **pcm, const char *name,
				      snd_pcm_stream_t stream)
{
	return open_shared_wait(pcm, name, stream, SND_PCM_STATE_RUNNING);
}

/*
 * The hw and application pointers modulo the buffer size, through the
 * public API only: snd_pcm_mmap_begin() starts at the application
 * pointer, avail is the distance to the hw pointer. Read until the
 * application pointer held still meanwhile.
 */
static inline int shared_pointers(snd_pcm_t *pcm, snd_pcm_uframes_t buffer,
				  const snd_pcm_channel_area_t **areas,
				  snd_pcm_uframes_t *hw, snd_pcm_uframes_t *appl)
{
	snd_pcm_uframes_t off1, off2, frames;
	snd_pcm_sframes_t avail;
	int err, i;

	for (i = 0; i < 1000; i++) {
		frames = buffer;
		err = snd_pcm_mmap_begin(pcm, areas, &off1, &frames);
		if (err < 0)
			return err;
		avail = snd_pcm_avail_update(pcm);
		if (avail < 0)
			return avail;
		frames = buffer;
		err = snd_pcm_mmap_begin(pcm, areas, &off2, &frames);
		if (err < 0)
			return err;
		if (off1 == off2) {
			*appl = off1;
			*hw = (off1 + avail) % buffer;
			return 0;
		}
	}
	return -EAGAIN;
}

static inline const short *area_frame(const snd_pcm_channel_area_t *areas,
				      snd_pcm_uframes_t off)
{
	return (const short *)((const char *)areas[0].addr +
			       (areas[0].first + off * areas[0].step) / 8);
}

/* The setup part of snd_pcm_dump(): from "Hardware PCM" to appl_ptr */
static inline char *setup_text(const char *dump)
{
	const char *start = strstr(dump, "Hardware PCM");
	const char *end = start ? strstr(start, "  appl_ptr") : NULL;

	if (!start || !end)
		return NULL;
	return strndup(start, end - start);
}

static inline char *pcm_setup_text(snd_pcm_t *pcm)
{
	snd_output_t *out;
	char *text, *copy, *setup = NULL;
	size_t len;

	if (snd_output_buffer_open(&out) < 0)
		return NULL;
	if (snd_pcm_dump(pcm, out) == 0) {
		len = snd_output_buffer_string(out, &text);
		copy = strndup(text, len);
		if (copy)
			setup = setup_text(copy);
		free(copy);
	}
	snd_output_close(out);
	return setup;
}

static inline size_t heap_in_use(void)
{
	return mallinfo2().uordblks;
}

/*
 * For the kselftest harness: the same failing call n times must fail with
 * its error each time, leave no file descriptor beyond self->fds, and no
 * memory beyond what was in use after the first half of the calls
 * (alsa-lib and malloc settle first). The second half of the calls going
 * over 1 KiB of slack is a leak of 2048 / n bytes or more per call.
 */
#define ASSERT_FAILS_CLEANLY(n, expected, call) do { \
	size_t __heap = 0; \
	int __i, __err; \
	for (__i = 0; __i < (n); __i++) { \
		if (__i == (n) / 2) \
			__heap = heap_in_use(); \
		__err = (call); \
		ASSERT_EQ(expected, __err) TH_LOG("%s: %s", #call, snd_strerror(__err)); \
	} \
	EXPECT_EQ(self->fds, count_fds()); \
	EXPECT_GE(__heap + 1024, heap_in_use()) \
		TH_LOG("heap grew by %zu bytes", heap_in_use() - __heap); \
} while (0)

#endif
