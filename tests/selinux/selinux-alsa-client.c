// SPDX-License-Identifier: GPL-2.0
/*
 * A client of an export through alsa-lib, for selinux-pcm.c: run in a
 * client domain with a UNIX socket as descriptor 3, it receives an export,
 * adopts it with snd_pcm_open_shared_fd() and does what a follower does:
 * read the setup, the state, the status and the position, map the buffer
 * and read it, poll, close. Exits 0 when all of it worked.
 *
 *   selinux-alsa-client MASTER_PID
 *
 * Last, it signals MASTER_PID, which no test domain may: the denial is a
 * marker in the audit log, after which selinux-pcm knows it has seen every
 * denial of this process (audit records reach the log in order).
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <alsa/asoundlib.h>
#include "fd-passing.h"

static int recv_one_fd(int sock)
{
	char buf[16];
	int fd = fdp_recv(sock, buf, sizeof(buf), MSG_CMSG_CLOEXEC, NULL, NULL);

	return fd >= 0 ? fd : -1;
}

#define CHECK(call) do {						\
	int __err = (call);						\
	if (__err < 0) {						\
		printf("# %s: %s\n", #call, snd_strerror(__err));	\
		return 1;						\
	}								\
} while (0)

static int follow(int fd)
{
	const snd_pcm_channel_area_t *areas;
	snd_pcm_uframes_t offset, frames, period;
	snd_pcm_hw_params_t *hw;
	snd_pcm_status_t *status;
	snd_pcm_sframes_t avail, delay;
	unsigned int rate, channels;
	struct pollfd pfds[4];
	snd_pcm_access_t access;
	snd_pcm_t *pcm;
	volatile const unsigned char *p;
	int count, sum = 0;

	CHECK(snd_pcm_open_shared_fd(&pcm, fd, SND_PCM_NONBLOCK));
	snd_pcm_hw_params_alloca(&hw);
	CHECK(snd_pcm_hw_params_current(pcm, hw));
	CHECK(snd_pcm_hw_params_get_rate(hw, &rate, NULL));
	CHECK(snd_pcm_hw_params_get_channels(hw, &channels));
	CHECK(snd_pcm_hw_params_get_period_size(hw, &period, NULL));
	CHECK(snd_pcm_hw_params_get_access(hw, &access));
	if (snd_pcm_state(pcm) != SND_PCM_STATE_PREPARED) {
		printf("# state %s, not PREPARED\n", snd_pcm_state_name(snd_pcm_state(pcm)));
		return 1;
	}
	snd_pcm_status_alloca(&status);
	CHECK(snd_pcm_status(pcm, status));
	CHECK(snd_pcm_hwsync(pcm));
	delay = 0;
	CHECK(snd_pcm_delay(pcm, &delay));
	CHECK(avail = snd_pcm_avail_update(pcm));
	count = snd_pcm_poll_descriptors(pcm, pfds, 4);
	CHECK(count);
	if (poll(pfds, count, 0) < 0) {
		printf("# poll: %s\n", strerror(errno));
		return 1;
	}
	frames = period;
	CHECK(snd_pcm_mmap_begin(pcm, &areas, &offset, &frames));
	p = (const unsigned char *)areas[0].addr + areas[0].first / 8;
	for (unsigned int i = 0; i < frames * areas[0].step / 8 && i < 4096; i++)
		sum += p[i];	/* reading the mapped buffer must not fault */
	CHECK(snd_pcm_close(pcm));
	printf("# alsa-lib: %s, %u Hz, %u channels, PREPARED, avail %ld, delay %ld, "
	       "%lu frames of the buffer read through mmap\n",
	       snd_pcm_access_name(access), rate, channels, (long)avail, (long)delay,
	       (unsigned long)frames);
	return sum < 0;
}

int main(int argc, char **argv)
{
	int fd, rc;

	if (argc < 2)
		return 2;
	setvbuf(stdout, NULL, _IOLBF, 0);
	fd = recv_one_fd(3);
	if (fd < 0) {
		printf("# no export arrived\n");
		rc = 1;
	} else {
		rc = follow(fd);
		close(fd);
	}
	/* the marker: no test domain may signal a master */
	if (kill(atoi(argv[1]), 0) == 0 || errno != EACCES) {
		printf("# signalling the master: %s, expected EACCES\n",
		       errno ? strerror(errno) : "allowed");
		rc = 1;
	}
	return rc;
}
