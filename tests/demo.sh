#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# The demo, inside the test VM (scripts/demo boots it):
#   test/pcm_shared (alsa-lib's example) is the master, as root: it opens
#   and sets up hw:Loopback,0,0 for playback, plays a sine, and exports a
#   restricted anonymous file (snd_pcm_shared_export()) to its child, the
#   client, which runs as uid 65534 and may not open /dev/snd at all. The
#   client follows the stream through that fd, is refused control, asks
#   to be revoked and sees its handle go; the master sets the stream up
#   again and plays on (pcm_shared -u 65534 -s)
#   arecord, unmodified, follows the same stream meanwhile through the
#   follow plugin (-D follow:CARD=Loopback,DEV=0) and records it
# then checks that all it showed was true. With --quiet: TAP only.
# Data for the picture goes to /dev/ttyS2 (vm-run --output).

q=0
[ "${1:-}" = --quiet ] && q=1
fail=0 n=0
follow_frames=96000	# arecord -d 2 at 48 kHz

say() { [ $q = 1 ] || printf '%s\n' "$*"; }
check() {
	# check NAME COMMAND...: one TAP line in quiet mode, a verdict otherwise
	name=$1
	shift
	n=$((n + 1))
	if out=$("$@" 2>&1); then
		[ $q = 1 ] && echo "ok $n $name" || echo "  ok    $name${out:+: $out}"
	else
		fail=1
		[ $q = 1 ] && echo "not ok $n $name${out:+: $out}" || echo "  FAIL  $name${out:+: $out}"
	fi
}
# wait until a procfs status file shows a running stream, while process
# PID lives, for 20 s at most
running() {
	end=$(($(date +%s) + 20))
	while [ "$(date +%s)" -lt $end ] && kill -0 "$2" 2>/dev/null; do
		grep -q 'state: RUNNING' "$1" 2>/dev/null && return 0
		usleep 10000
	done
	return 1
}
# the lines of the log that match, at least MIN of them: print them
lines() {
	min=$1 re=$2
	c=$(grep -cE "$re" /tmp/shared.log)
	grep -E "$re" /tmp/shared.log | sed 's/^ *//' | head -3 | tr '\n' ';' | sed 's/;$//; s/;/; /g'
	[ "$c" -ge "$min" ]
}

card=$(readlink /proc/asound/Loopback 2>/dev/null)	# cardN
node=/dev/snd/pcmC${card#card}D0p
say "== Restricted shared PCM access =="
say ""
say "master    pcm_shared -D hw:Loopback,0,0 -u 65534 -s -w FILE  (alsa-lib test/pcm_shared.c, as root)"
say "          sets up the playback stream (mmap, S16_LE, 2 channels, 48 kHz), plays a 440 Hz sine,"
say "          exports a restricted anonymous file (snd_pcm_shared_export: mmap, sync, status) and"
say "          passes it to its client; takes it back when the client has seen enough and the"
say "          follower is done (FILE), sets the stream up again and plays on"
say "client    its child, as uid 65534 without groups; the device nodes are root's:"
say "          $(ls -l "$node" 2>&1 | sed 's/  */ /g')"
say "follower  arecord -D follow:CARD=Loopback,DEV=0 -d 2  (unmodified; the follow plugin)"
say ""

rm -f /tmp/client.txt /tmp/followed.raw /tmp/followed.done
# The master sets the stream up again right after it revokes the client,
# and that ends every follower: the client asks to be revoked only once
# arecord is done (-w)
if [ $q = 1 ]; then
	{ pcm_shared -q -D hw:Loopback,0,0 -u 65534 -s -d 4 -i 100 -w /tmp/followed.done -o /tmp/client.txt \
		> /tmp/shared.log 2>&1; echo $? > /tmp/shared.rc; } &
else
	{ pcm_shared -D hw:Loopback,0,0 -u 65534 -s -d 4 -i 100 -w /tmp/followed.done -o /tmp/client.txt 2>&1
	  echo $? > /tmp/shared.rc; } | tee /tmp/shared.log &
fi
master=$!
# the master starts the stream when it has filled the buffer: follow it then
running /proc/asound/Loopback/pcm0p/sub0/status $master || say "the master did not start"
arecord -q -D follow:CARD=Loopback,DEV=0 -f S16_LE -c 2 -r 48000 -t raw -d 2 \
	/tmp/followed.raw 2> /tmp/arecord.log &
rec=$!
wait $rec
recorded=$?
touch /tmp/followed.done
wait $master
shared=$(cat /tmp/shared.rc 2>/dev/null || echo none)
say ""
say "follower: arecord exited with status $recorded$([ -s /tmp/arecord.log ] && printf ', and printed:\n%s' "$(sed 's/^/  /' /tmp/arecord.log)")"

say ""
say "== What it showed, checked =="
check "the master (root) set hw:Loopback,0,0 up, played, and exported a restricted fd" \
	lines 1 '^master: exported fd with permissions 0x07$'
check "the client runs as uid 65534, without supplementary groups" \
	lines 1 '^client: running as uid 65534, gid 65534, no supplementary groups$'
check "on its own the client cannot open the device: the plain open fails with EACCES" \
	lines 1 "^  open $node O_RDWR +refused \(-13, "
check "nor any other way in (restricted open, snd_pcm_open, snd_pcm_open_shared)" \
	sh -c 'c=$(grep -A4 "^client: on its own, it cannot reach the stream:" /tmp/shared.log |
		grep -cE "^  (open|snd_pcm_open).* refused \((-13|-1), ");
	       echo "$c of 4 refused"; [ "$c" = 4 ]'
check "the client followed the stream through the fd: position, timestamps, mapped buffer" \
	lines 2 '^(timestamps advanced [0-9.]+ s|[1-9][0-9]* frames read from the buffer, peak -6\.[0-9] dB)$'
check "what the client read from the shared buffer is what the master played" \
	/tests/demo-audio client /tmp/client.txt
check "every controlling call through the fd was refused with EPERM" \
	sh -c 'sed -n "/^permissions 0x07; trying to control the stream/,/^the stream is/p" \
		/tmp/shared.log > /tmp/controls.log;
	       n=$(grep -c " refused (-1, Operation not permitted)$" /tmp/controls.log);
	       tried=$(grep -cE "^  (snd_pcm_[a-z_]+|a transfer of a frame) " /tmp/controls.log);
	       echo "$n of $tried refused, $(tail -1 /tmp/controls.log)";
	       [ "$n" = 14 ] && [ "$n" = "$tried" ] && grep -q "^the stream is RUNNING$" /tmp/controls.log'
check "the master revoked the fd" lines 1 '^master: revoked the exported fd: done$'
check "the client saw it: DISCONNECTED, its calls fail with ENODEV, poll an error, the buffer zeros" \
	sh -c 'grep -q "^client: revoked, the handle reports DISCONNECTED$" /tmp/shared.log &&
	       c=$(grep -cE "^  snd_pcm_[a-z_]+ +fails \(-19, No such device\)$" /tmp/shared.log) &&
	       echo "DISCONNECTED, $c calls failed with ENODEV" && [ "$c" = 5 ] &&
	       grep -q "^  poll  *reports an error" /tmp/shared.log &&
	       grep -q "^  the mapped buffer  *reads zeros$" /tmp/shared.log'
check "the client exited with status 0" \
	lines 2 '^(client: ok|master: the child exited with status 0)$'
check "the master set the stream up again and played on (pcm_shared exit status $shared)" \
	sh -c 'grep -q "^master: set the stream up again and started it: done$" /tmp/shared.log &&
	       grep "^master: since it was set up again: RUNNING" /tmp/shared.log | sed "s/^master: //" &&
	       [ "$0" = 0 ]' "$shared"
check "arecord followed the stream (exit status $recorded, no overrun)" \
	sh -c '[ "$0" = 0 ] && ! grep -q . /tmp/arecord.log' "$recorded"
check "what arecord recorded is what the master played" \
	/tests/demo-audio follower /tmp/followed.raw $follow_frames

# a stretch of the signal as played and as read, for the picture
/tests/demo-audio plot /tmp/client.txt 480 > /dev/ttyS2 2>/dev/null

[ $q = 1 ] && echo "1..$n"
exit $fail
