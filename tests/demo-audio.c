// SPDX-License-Identifier: GPL-2.0
/*
 * The audio side of the demo: check what the restricted client read from
 * the shared buffer and what the follower recorded against what the
 * master played, and cut a stretch of it out for the picture.
 *
 * The master is alsa-lib's test/pcm_shared in export mode: a 440 Hz sine
 * at half of full scale, the same on both channels, S16_LE at 48 kHz,
 * from frame 0 of the stream on. 440 Hz at 48 kHz is 11 cycles in 1200
 * frames, so frame f of the stream holds
 *
 *	lrint(0.5 * 32767 * sin(2 * pi * 11 * (f % 1200) / 1200))
 *
 * (the master adds the phase up frame by frame, so a sample may differ
 * from this by one where it rounds the other way; the checks allow that,
 * and say how often it happened).
 *
 *   demo-audio client DUMP          every sample the client read from the
 *                                   shared buffer (test/pcm_shared -o DUMP:
 *                                   "frame ch0 ch1" lines) is the sine at
 *                                   that frame of the stream
 *   demo-audio follower FILE FRAMES the recording (raw S16_LE, 2 channels)
 *                                   is FRAMES frames of the sine, in order,
 *                                   with no frame missing or repeated
 *   demo-audio plot DUMP FRAMES     "frame played_left read_left" for
 *                                   FRAMES frames from around the middle of
 *                                   what the client read ("-" for a frame
 *                                   it did not read)
 *
 * Each check prints one line and exits 0 only when it holds.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define RATE		48000
#define CHANNELS	2
#define CYCLE		1200	/* frames in which the sine repeats */
#define CYCLES		11	/* 440 Hz: cycles of the sine in CYCLE frames */

static long played(unsigned long long frame)
{
	return lrint(0.5 * 32767 * sin(2 * M_PI * CYCLES * (double)(frame % CYCLE) / CYCLE));
}

/* the difference of a sample from the sine, at most 1 when it holds */
static long off(long got, unsigned long long frame)
{
	return labs(got - played(frame));
}

/* the next "frame ch0 ch1" line of a pcm_shared -o dump; 0 at its end */
static int dump_next(FILE *f, unsigned long long *frame, long *l, long *r)
{
	char line[256];

	while (fgets(line, sizeof(line), f))
		if (line[0] != '#' && sscanf(line, "%llu %ld %ld", frame, l, r) == 3)
			return 1;
	return 0;
}

static int check_client(const char *dump_path)
{
	long checked = 0, rounded = 0, l, r;
	unsigned long long frame, first = 0, last = 0;
	FILE *f = fopen(dump_path, "r");

	if (!f)
		return perror(dump_path), 2;
	while (dump_next(f, &frame, &l, &r)) {
		if (off(l, frame) > 1 || off(r, frame) > 1) {
			printf("client: FAIL: at frame %llu it read %ld %ld, the master played %ld %ld\n",
			       frame, l, r, played(frame), played(frame));
			return 1;
		}
		rounded += off(l, frame) + off(r, frame);
		if (!checked)
			first = frame;
		last = frame;
		checked++;
	}
	fclose(f);
	if (checked < RATE / 10) {
		printf("client: FAIL: only %ld frames read from the shared buffer\n", checked);
		return 1;
	}
	printf("client: %ld frames read from the shared buffer (frames %llu..%llu of the stream), "
	       "each the master's sine at its position (%ld of %ld samples rounded the other way)\n",
	       checked, first, last, rounded, checked * CHANNELS);
	return 0;
}

static int check_follower(const char *path, long want)
{
	long got, start, rounded = 0, i;
	int16_t *rec;
	FILE *f = fopen(path, "rb");

	if (!f)
		return perror(path), 2;
	fseek(f, 0, SEEK_END);
	got = ftell(f) / (2 * CHANNELS);
	rewind(f);
	rec = malloc(got * 2 * CHANNELS + 1);
	if (!rec || fread(rec, 2 * CHANNELS, got, f) != (size_t)got)
		return fprintf(stderr, "demo-audio: %s: short read\n", path), 2;
	fclose(f);
	if (got < CYCLE) {
		printf("follower: FAIL: %ld frames recorded\n", got);
		return 1;
	}
	/* where in the sine's cycle the recording starts */
	for (start = 0; start < CYCLE; start++) {
		for (i = 0; i < CYCLE; i++)
			if (off(rec[i * 2], start + i) > 1)
				break;
		if (i == CYCLE)
			break;
	}
	if (start == CYCLE) {
		printf("follower: FAIL: the first %d frames recorded are not the master's sine\n",
		       CYCLE);
		return 1;
	}
	for (i = 0; i < got * CHANNELS; i++) {
		long o = off(rec[i], start + i / CHANNELS);

		if (o > 1) {
			printf("follower: FAIL: frame %ld channel %ld: recorded %d, the sine "
			       "going on from the first frames has %ld: a frame missing or repeated\n",
			       i / CHANNELS, i % CHANNELS, rec[i], played(start + i / CHANNELS));
			return 1;
		}
		rounded += o;
	}
	if (got != want) {
		printf("follower: FAIL: %ld frames recorded, %ld asked for\n", got, want);
		return 1;
	}
	printf("follower: all %ld frames recorded are the master's sine, in order, from "
	       "%ld frames into its cycle (%ld of %ld samples rounded the other way)\n",
	       got, start, rounded, got * CHANNELS);
	return 0;
}

static int plot(const char *dump_path, long want)
{
	long n = 0, from, l, r;
	unsigned long long *fr = NULL, frame, first;
	long *left = NULL;
	FILE *f = fopen(dump_path, "r");

	if (!f)
		return perror(dump_path), 2;
	while (dump_next(f, &frame, &l, &r)) {
		fr = realloc(fr, (n + 1) * sizeof(*fr));
		left = realloc(left, (n + 1) * sizeof(*left));
		if (!fr || !left)
			return 2;
		fr[n] = frame;
		left[n++] = l;
	}
	fclose(f);
	if (!n)
		return 1;
	/* every frame of the stretch: "-" where the client read none */
	from = n > want ? n / 2 - want / 2 : 0;
	printf("# frame played_left read_left\n");
	first = fr[from];
	for (frame = first; frame < first + want; frame++) {
		while (from < n && fr[from] < frame)
			from++;
		if (from < n && fr[from] == frame)
			printf("%llu %ld %ld\n", frame, played(frame), left[from]);
		else
			printf("%llu %ld -\n", frame, played(frame));
	}
	return 0;
}

int main(int argc, char **argv)
{
	if (argc == 3 && !strcmp(argv[1], "client"))
		return check_client(argv[2]);
	if (argc == 4 && !strcmp(argv[1], "follower"))
		return check_follower(argv[2], atol(argv[3]));
	if (argc == 4 && !strcmp(argv[1], "plot"))
		return plot(argv[2], atol(argv[3]));
	fprintf(stderr, "usage: demo-audio client|follower|plot ... (see the source)\n");
	return 2;
}
