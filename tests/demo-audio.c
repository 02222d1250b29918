// SPDX-License-Identifier: GPL-2.0
/*
 * The audio side of the demo: make the tone the master plays, and check
 * what came out of the loopback and what the shared client read.
 *
 *   demo-audio tone FILE.wav SECONDS       440 Hz left, 660 Hz right, 48 kHz
 *                                          S16_LE, then 0.5 s of silence
 *   demo-audio capture TONE.wav FILE.raw   the capture holds the tone, every
 *                                          sample equal, in order
 *   demo-audio client TONE.wav DUMP        every sample the client read from
 *                                          the shared buffer (test/pcm_shared
 *                                          -o DUMP: "frame ch0 ch1" lines)
 *                                          equals the tone at that frame
 *   demo-audio plot TONE.wav DUMP FRAMES   "frame sent_left read_left" for
 *                                          FRAMES frames around the middle
 *                                          of what the client read
 *
 * Each check prints one line and exits 0 only when it holds.
 */
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define RATE		48000
#define CHANNELS	2
#define SILENCE_TAIL	(RATE / 2)

struct wav_header {
	char riff[4];
	uint32_t riff_size;
	char wave[4];
	char fmt[4];
	uint32_t fmt_size;
	uint16_t format, channels;
	uint32_t rate, byte_rate;
	uint16_t block_align, bits;
	char data[4];
	uint32_t data_size;
} __attribute__((packed));

static int16_t *read_wav(const char *path, long *frames)
{
	struct wav_header h;
	int16_t *s;
	FILE *f = fopen(path, "rb");

	if (!f || fread(&h, sizeof(h), 1, f) != 1 || memcmp(h.data, "data", 4) ||
	    h.channels != CHANNELS || h.bits != 16) {
		fprintf(stderr, "demo-audio: %s: not the demo's WAV file\n", path);
		exit(2);
	}
	*frames = h.data_size / (2 * CHANNELS);
	s = malloc(h.data_size);
	if (!s || fread(s, 1, h.data_size, f) != h.data_size) {
		fprintf(stderr, "demo-audio: %s: short file\n", path);
		exit(2);
	}
	fclose(f);
	return s;
}

static int make_tone(const char *path, double seconds)
{
	long n = (long)(seconds * RATE), total = n + SILENCE_TAIL;
	struct wav_header h = {
		"RIFF", 36 + total * 4, "WAVE", "fmt ", 16, 1, CHANNELS,
		RATE, RATE * 4, 4, 16, "data", total * 4,
	};
	FILE *f = fopen(path, "wb");

	if (!f)
		return perror(path), 2;
	fwrite(&h, sizeof(h), 1, f);
	for (long i = 0; i < total; i++) {
		int16_t s[2] = { 0, 0 };

		if (i < n) {
			s[0] = (int16_t)lrint(16000 * sin(2 * M_PI * 440 * i / RATE));
			s[1] = (int16_t)lrint(16000 * sin(2 * M_PI * 660 * i / RATE));
		}
		fwrite(s, sizeof(s), 1, f);
	}
	return fclose(f) ? 2 : 0;
}

/* the tone part of the file: the 0.5 s of silence at the end is padding */
static long tone_frames(long frames)
{
	return frames - SILENCE_TAIL;
}

static int check_capture(const char *tone_path, const char *raw_path)
{
	long frames, got, start, tone;
	int16_t *sent = read_wav(tone_path, &frames), *rec;
	FILE *f = fopen(raw_path, "rb");

	if (!f)
		return perror(raw_path), 2;
	fseek(f, 0, SEEK_END);
	got = ftell(f) / (2 * CHANNELS);
	rewind(f);
	rec = malloc(got * 2 * CHANNELS + 1);
	if (fread(rec, 2 * CHANNELS, got, f) != (size_t)got)
		return fprintf(stderr, "demo-audio: %s: short read\n", raw_path), 2;
	fclose(f);
	tone = tone_frames(frames);
	/* the capture began before the playback: skip its leading silence */
	for (start = 0; start < got; start++)
		if (rec[start * 2] || rec[start * 2 + 1])
			break;
	/* the tone's first sample is 0 on both channels */
	if (start > 0)
		start--;
	if (got - start < tone) {
		printf("capture: FAIL: %ld frames of the tone arrived, %ld were sent\n",
		       got - start, tone);
		return 1;
	}
	for (long i = 0; i < tone * 2; i++) {
		if (rec[start * 2 + i] != sent[i]) {
			printf("capture: FAIL: frame %ld channel %ld: sent %d, received %d\n",
			       i / 2, i % 2, sent[i], rec[start * 2 + i]);
			return 1;
		}
	}
	printf("capture: all %ld frames of the tone arrived at the loopback's "
	       "other end, every sample equal\n", tone);
	return 0;
}

static int check_client(const char *tone_path, const char *dump_path)
{
	long frames, checked = 0, first = -1, last = -1;
	unsigned long long frame;
	int16_t *sent = read_wav(tone_path, &frames);
	char line[256];
	long l, r;
	FILE *f = fopen(dump_path, "r");

	if (!f)
		return perror(dump_path), 2;
	while (fgets(line, sizeof(line), f)) {
		if (line[0] == '#')
			continue;
		if (sscanf(line, "%llu %ld %ld", &frame, &l, &r) != 3)
			continue;
		if ((long)frame >= frames)
			continue;	/* past the file: aplay's padding */
		if (sent[frame * 2] != l || sent[frame * 2 + 1] != r) {
			printf("client: FAIL: at frame %llu it read %ld %ld, aplay wrote %d %d\n",
			       frame, l, r, sent[frame * 2], sent[frame * 2 + 1]);
			return 1;
		}
		if (first < 0)
			first = frame;
		last = frame;
		checked++;
	}
	fclose(f);
	if (checked < RATE / 10) {
		printf("client: FAIL: only %ld frames read from the shared buffer\n", checked);
		return 1;
	}
	printf("client: %ld frames read from the shared buffer (frames %ld..%ld), "
	       "every sample equal to what aplay wrote\n", checked, first, last);
	return 0;
}

static int plot(const char *tone_path, const char *dump_path, long want)
{
	long frames, n = 0, from;
	int16_t *sent = read_wav(tone_path, &frames);
	unsigned long long *fr = NULL;
	long *left = NULL, l, r;
	char line[256];
	unsigned long long frame;
	FILE *f = fopen(dump_path, "r");

	if (!f)
		return perror(dump_path), 2;
	while (fgets(line, sizeof(line), f)) {
		if (line[0] == '#' || sscanf(line, "%llu %ld %ld", &frame, &l, &r) != 3)
			continue;
		if ((long)frame >= tone_frames(frames))
			continue;
		fr = realloc(fr, (n + 1) * sizeof(*fr));
		left = realloc(left, (n + 1) * sizeof(*left));
		fr[n] = frame;
		left[n++] = l;
	}
	fclose(f);
	if (!n)
		return 1;
	from = n > want ? n / 2 - want / 2 : 0;
	printf("# frame sent_left read_left\n");
	for (long i = from; i < n && i < from + want; i++)
		printf("%llu %d %ld\n", fr[i], sent[fr[i] * 2], left[i]);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc == 4 && !strcmp(argv[1], "tone"))
		return make_tone(argv[2], atof(argv[3]));
	if (argc == 4 && !strcmp(argv[1], "capture"))
		return check_capture(argv[2], argv[3]);
	if (argc == 4 && !strcmp(argv[1], "client"))
		return check_client(argv[2], argv[3]);
	if (argc == 5 && !strcmp(argv[1], "plot"))
		return plot(argv[2], argv[3], atol(argv[4]));
	fprintf(stderr, "usage: demo-audio tone|capture|client|plot ... (see the source)\n");
	return 2;
}
