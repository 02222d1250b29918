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
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/wait.h>

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

static inline int write_pattern_file(const char *path)
{
	short f[CHANNELS];
	unsigned long n;
	FILE *fp = fopen(path, "w");

	if (!fp)
		return -errno;
	for (n = 0; n < PATTERN_FRAMES; n++) {
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

/* aplay or arecord with the stream parameters of these tests */
static inline pid_t spawn_alsa_util(const char *prog, const char *log,
				    const char *device, int mmap,
				    const char *file, const char *extra)
{
	char dev[64];
	char *argv[24];
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
	if (extra)
		argv[n++] = (char *)extra;
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
 * fails with -EBADFD until the master has set the stream up; the master
 * has also set its sw params once the stream runs.
 */
static inline int open_shared_running(snd_pcm_t **pcm, const char *name,
				      snd_pcm_stream_t stream)
{
	long long end = now_ms() + WAIT_START_MS;
	int err;

	for (;;) {
		err = snd_pcm_open_shared(pcm, name, stream, 0);
		if (err == 0) {
			if (snd_pcm_state(*pcm) == SND_PCM_STATE_RUNNING)
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

#endif
