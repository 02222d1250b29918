// SPDX-License-Identifier: GPL-2.0
/*
 * Wrong uses of the restricted sharing API that need no sound card: NULL
 * arguments, unknown names, PCMs that are not of type hw, descriptors
 * that are closed or not PCMs, permission bits out of range. Each must
 * fail with its own error and leave no file descriptor and no memory
 * behind. It runs on the host under valgrind (with ALSA_CONFIG_DIR
 * pointing at the sysroot's configuration), which finds the leaks, and
 * in the VM, where it counts the heap (ASSERT_FAILS_CLEANLY).
 */
#include <signal.h>
#include <sys/eventfd.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include "pcm-shared-lib.h"

/*
 * The kselftest harness waits on each test's process with pidfd_open(),
 * which the valgrind of Debian 12 (3.19) does not know: it answers ENOSYS.
 * Where it does, wait on SIGCHLD instead, through a signalfd (the harness
 * runs one test process at a time, and takes its status once the fd is
 * readable); an eventfd that is readable at once stands for a process
 * that has exited already.
 */
static long harness_syscall(long nr, long pid, long flags)
{
	struct timespec now = { 0, 0 };
	sigset_t chld;
	siginfo_t info;
	long fd = syscall(nr, pid, flags);

	if (fd >= 0 || errno != ENOSYS || nr != __NR_pidfd_open)
		return fd;
	sigemptyset(&chld);
	sigaddset(&chld, SIGCHLD);
	sigprocmask(SIG_BLOCK, &chld, NULL);
	/* the SIGCHLD of the test before */
	while (sigtimedwait(&chld, NULL, &now) > 0)
		;
	memset(&info, 0, sizeof(info));
	if (waitid(P_PID, pid, &info, WEXITED | WNOHANG | WNOWAIT) == 0 && info.si_pid)
		return eventfd(1, EFD_CLOEXEC);
	return signalfd(-1, &chld, SFD_CLOEXEC);
}
#define syscall(nr, ...) harness_syscall(nr, __VA_ARGS__)
#include "kselftest_harness.h"
#undef syscall

static char config_home[] = "/tmp/pcm-shared-bad.XXXXXX";

/* configuration aliases that are not of type hw, in a private place */
__attribute__((constructor)) static void setup_config(void)
{
	char path[128];
	FILE *fp;

	if (!mkdtemp(config_home))
		return;
	snprintf(path, sizeof(path), "%s/alsa", config_home);
	mkdir(path, 0755);
	snprintf(path, sizeof(path), "%s/alsa/asoundrc", config_home);
	fp = fopen(path, "w");
	if (fp) {
		fputs("pcm.plug_alias {\n\ttype plug\n\tslave.pcm \"hw:0,0\"\n}\n"
		      "pcm.string_alias \"null\"\n"
		      "pcm.hw_alias_nowhere {\n\ttype hw\n\tcard 31\n}\n",
		      fp);
		fclose(fp);
	}
	setenv("XDG_CONFIG_HOME", config_home, 1);
}

__attribute__((destructor)) static void remove_config(void)
{
	char path[128];

	snprintf(path, sizeof(path), "%s/alsa/asoundrc", config_home);
	unlink(path);
	snprintf(path, sizeof(path), "%s/alsa", config_home);
	rmdir(path);
	rmdir(config_home);
}

FIXTURE(bad) {
	int fds;
	snd_pcm_t *null_pcm;	/* a PCM that is not of type hw */
};

FIXTURE_SETUP(bad)
{
	snd_pcm_t *pcm;

	/* alsa-lib reads its configuration once: before counting */
	snd_pcm_open_shared(&pcm, "no_such_pcm", SND_PCM_STREAM_PLAYBACK, 0);
	ASSERT_EQ(0, snd_pcm_open(&self->null_pcm, "null", SND_PCM_STREAM_PLAYBACK, 0));
	self->fds = count_fds();
}

FIXTURE_TEARDOWN(bad)
{
	if (self->null_pcm)
		snd_pcm_close(self->null_pcm);
	/* what is left is a leak for valgrind */
	snd_config_update_free_global();
}

/* Thirty settle, thirty more must not grow the heap; valgrind finds less */
#define FAILS	60

TEST_F_TIMEOUT(bad, open_shared_bad_arguments, 120)
{
	snd_pcm_t *pcm = NULL;

	ASSERT_FAILS_CLEANLY(FAILS, -EINVAL, snd_pcm_open_shared(NULL, "hw:0",
								 SND_PCM_STREAM_PLAYBACK, 0));
	ASSERT_FAILS_CLEANLY(FAILS, -EINVAL, snd_pcm_open_shared(&pcm, NULL,
								 SND_PCM_STREAM_PLAYBACK, 0));
	ASSERT_FAILS_CLEANLY(FAILS, -EINVAL, snd_pcm_open_shared(&pcm, "hw:0",
								 (snd_pcm_stream_t)7, 0));
	ASSERT_FAILS_CLEANLY(FAILS, -EINVAL, snd_pcm_open_shared(&pcm, "hw:0",
								 SND_PCM_STREAM_PLAYBACK,
								 SND_PCM_ASYNC));
	ASSERT_FAILS_CLEANLY(FAILS, -EINVAL, snd_pcm_open_shared(&pcm, "hw:0",
								 SND_PCM_STREAM_CAPTURE, 0x100));
	EXPECT_EQ(NULL, pcm);
}

TEST_F_TIMEOUT(bad, open_shared_unknown_name, 120)
{
	snd_pcm_t *pcm = NULL;

	ASSERT_FAILS_CLEANLY(FAILS, -ENOENT, snd_pcm_open_shared(&pcm, "no_such_pcm",
								 SND_PCM_STREAM_PLAYBACK, 0));
	ASSERT_FAILS_CLEANLY(FAILS, -ENOENT, snd_pcm_open_shared(&pcm, "",
								 SND_PCM_STREAM_PLAYBACK, 0));
	ASSERT_FAILS_CLEANLY(FAILS, -ENODEV, snd_pcm_open_shared(&pcm, "hw:NoSuchCard",
								 SND_PCM_STREAM_PLAYBACK, 0));
	ASSERT_FAILS_CLEANLY(FAILS, -ENOENT, snd_pcm_open_shared(&pcm, "hw_alias_nowhere",
								 SND_PCM_STREAM_PLAYBACK, 0));
	EXPECT_EQ(NULL, pcm);
}

TEST_F_TIMEOUT(bad, open_shared_not_type_hw, 120)
{
	snd_pcm_t *pcm = NULL;

	ASSERT_FAILS_CLEANLY(FAILS, -EINVAL, snd_pcm_open_shared(&pcm, "null",
								 SND_PCM_STREAM_PLAYBACK, 0));
	ASSERT_FAILS_CLEANLY(FAILS, -EINVAL, snd_pcm_open_shared(&pcm, "string_alias",
								 SND_PCM_STREAM_CAPTURE, 0));
	ASSERT_FAILS_CLEANLY(FAILS, -EINVAL, snd_pcm_open_shared(&pcm, "plug_alias",
								 SND_PCM_STREAM_PLAYBACK, 0));
	ASSERT_FAILS_CLEANLY(FAILS, -EINVAL, snd_pcm_open_shared(&pcm, "plughw:0,0",
								 SND_PCM_STREAM_PLAYBACK, 0));
	EXPECT_EQ(NULL, pcm);
}

TEST_F_TIMEOUT(bad, open_shared_fd_not_a_pcm, 120)
{
	snd_pcm_t *pcm = NULL;
	int null_fd, pipe_fd[2], sock_fd[2], file_fd, closed_fd;

	null_fd = open("/dev/null", O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, null_fd);
	ASSERT_EQ(0, pipe2(pipe_fd, O_CLOEXEC));
	ASSERT_EQ(0, socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sock_fd));
	file_fd = open("/proc/self/status", O_RDONLY | O_CLOEXEC);
	ASSERT_LE(0, file_fd);
	closed_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	ASSERT_LE(0, closed_fd);
	close(closed_fd);
	self->fds = count_fds();

	ASSERT_FAILS_CLEANLY(FAILS, -EBADF, snd_pcm_open_shared_fd(&pcm, -1, 0));
	ASSERT_FAILS_CLEANLY(FAILS, -EBADF, snd_pcm_open_shared_fd(&pcm, closed_fd, 0));
	ASSERT_FAILS_CLEANLY(FAILS, -ENOTTY, snd_pcm_open_shared_fd(&pcm, null_fd, 0));
	ASSERT_FAILS_CLEANLY(FAILS, -ENOTTY, snd_pcm_open_shared_fd(&pcm, pipe_fd[0], 0));
	ASSERT_FAILS_CLEANLY(FAILS, -ENOTTY, snd_pcm_open_shared_fd(&pcm, sock_fd[0], 0));
	ASSERT_FAILS_CLEANLY(FAILS, -ENOTTY, snd_pcm_open_shared_fd(&pcm, file_fd, 0));
	ASSERT_FAILS_CLEANLY(FAILS, -EINVAL, snd_pcm_open_shared_fd(NULL, null_fd, 0));
	ASSERT_FAILS_CLEANLY(FAILS, -EINVAL, snd_pcm_open_shared_fd(&pcm, null_fd,
								    SND_PCM_ASYNC));
	EXPECT_EQ(NULL, pcm);
	close(null_fd);
	close(pipe_fd[0]);
	close(pipe_fd[1]);
	close(sock_fd[0]);
	close(sock_fd[1]);
	close(file_fd);
}

TEST_F_TIMEOUT(bad, perm_calls_need_a_hw_pcm, 120)
{
	unsigned int perm = 0x5a;

	ASSERT_FAILS_CLEANLY(FAILS, -EINVAL, snd_pcm_perm_get(NULL, &perm));
	ASSERT_FAILS_CLEANLY(FAILS, -EINVAL, snd_pcm_perm_get(self->null_pcm, NULL));
	ASSERT_FAILS_CLEANLY(FAILS, -EINVAL, snd_pcm_perm_get(self->null_pcm, &perm));
	EXPECT_EQ(0x5a, perm);
	ASSERT_FAILS_CLEANLY(FAILS, -EINVAL, snd_pcm_perm_restrict(NULL, SND_PCM_PERM_SHARED));
	ASSERT_FAILS_CLEANLY(FAILS, -EINVAL, snd_pcm_perm_restrict(self->null_pcm,
								   SND_PCM_PERM_SHARED));
	ASSERT_FAILS_CLEANLY(FAILS, -EINVAL, snd_pcm_shared_export(NULL, SND_PCM_PERM_SHARED));
	ASSERT_FAILS_CLEANLY(FAILS, -EINVAL, snd_pcm_shared_export(self->null_pcm,
								   SND_PCM_PERM_SHARED));
	ASSERT_FAILS_CLEANLY(FAILS, -EINVAL, snd_pcm_shared_revoke(NULL, -1));
	ASSERT_FAILS_CLEANLY(FAILS, -EINVAL, snd_pcm_shared_revoke(self->null_pcm, -1));
	ASSERT_FAILS_CLEANLY(FAILS, -EINVAL, snd_pcm_shared_revoke(self->null_pcm, 0));
}

TEST_F_TIMEOUT(bad, perm_bits_out_of_range, 120)
{
	static const unsigned int bad_bits[] = {
		SND_PCM_PERM_ALL + 1, 0x40, 0x100, 0x80000000u, ~0u,
	};
	unsigned int i;

	for (i = 0; i < sizeof(bad_bits) / sizeof(bad_bits[0]); i++) {
		ASSERT_FAILS_CLEANLY(FAILS, -EINVAL, snd_pcm_perm_restrict(self->null_pcm,
									   bad_bits[i]));
		ASSERT_FAILS_CLEANLY(FAILS, -EINVAL, snd_pcm_shared_export(self->null_pcm,
									   bad_bits[i]));
	}
}

TEST_HARNESS_MAIN
