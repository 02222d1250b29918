/* SPDX-License-Identifier: GPL-2.0 */
/*
 * File descriptors over UNIX sockets (SCM_RIGHTS), for every group of
 * tests: the sendmsg() and recvmsg() plumbing, once. Each test keeps its
 * own small wrapper, which says what it sends and how it reads a failure.
 *
 * Header-only, plain POSIX: it serves the raw-UAPI tests (64-bit, 32-bit,
 * x32) and the alsa-lib ones alike.
 */
#ifndef FD_PASSING_H
#define FD_PASSING_H

#include <errno.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/uio.h>

/*
 * Send @len bytes of @data on @sock, with the descriptor @fd when it is
 * not negative; @flags for sendmsg() (MSG_NOSIGNAL, MSG_DONTWAIT). 0, or
 * -errno.
 */
static inline int fdp_send(int sock, const void *data, size_t len, int fd, int flags)
{
	union {
		struct cmsghdr align;
		char buf[CMSG_SPACE(sizeof(int))];
	} cbuf;
	struct iovec iov = { .iov_base = (void *)data, .iov_len = len };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };

	if (fd >= 0) {
		struct cmsghdr *cm;

		memset(&cbuf, 0, sizeof(cbuf));
		mh.msg_control = cbuf.buf;
		mh.msg_controllen = sizeof(cbuf.buf);
		cm = CMSG_FIRSTHDR(&mh);
		cm->cmsg_level = SOL_SOCKET;
		cm->cmsg_type = SCM_RIGHTS;
		cm->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(cm), &fd, sizeof(int));
	}
	return sendmsg(sock, &mh, flags) < 0 ? -errno : 0;
}

/*
 * Receive up to @len bytes into @data on @sock, @flags for recvmsg()
 * (MSG_CMSG_CLOEXEC, MSG_DONTWAIT), and the descriptor that came with
 * them. Returns the descriptor, -1 when none came (the other end closed:
 * *@got is 0), or -errno. *@got gets what recvmsg() returned and
 * *@msg_flags its msg_flags (MSG_CTRUNC: a descriptor was refused, by an
 * LSM for one), each when not NULL. A message carries one descriptor; of
 * several, the last is returned and the others are closed.
 */
static inline int fdp_recv(int sock, void *data, size_t len, int flags, ssize_t *got,
			   int *msg_flags)
{
	union {
		struct cmsghdr align;
		char buf[CMSG_SPACE(sizeof(int) * 4)];
	} cbuf;
	struct iovec iov = { .iov_base = data, .iov_len = len };
	struct msghdr mh = {
		.msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = cbuf.buf, .msg_controllen = sizeof(cbuf.buf),
	};
	struct cmsghdr *cm;
	ssize_t n;
	int fd = -1;

	n = recvmsg(sock, &mh, flags);
	if (got)
		*got = n;
	if (n < 0)
		return -errno;
	if (msg_flags)
		*msg_flags = mh.msg_flags;
	for (cm = CMSG_FIRSTHDR(&mh); cm; cm = CMSG_NXTHDR(&mh, cm)) {
		if (cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SCM_RIGHTS &&
		    cm->cmsg_len >= CMSG_LEN(sizeof(int))) {
			if (fd >= 0)
				close(fd);
			memcpy(&fd, CMSG_DATA(cm), sizeof(int));
		}
	}
	return fd;
}

#endif /* FD_PASSING_H */
