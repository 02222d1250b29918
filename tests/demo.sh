#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# The demo, inside the test VM (scripts/demo boots it):
#   aplay, unmodified, is the master: it plays a tone into hw:Loopback,0,0
#   arecord records the other end of the loopback, hw:Loopback,1,0
#   test/pcm_shared (alsa-lib's example) opens the playing stream with
#   snd_pcm_open_shared(), follows it, reads the samples from the shared
#   buffer, and tries to control the stream
# then checks that all it showed was true. With --quiet: TAP only.
# Data for the picture goes to /dev/ttyS2 (vm-run --output).

q=0
[ "${1:-}" = --quiet ] && q=1
tone=/tmp/tone.wav
fail=0 n=0

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
# wait (bounded) until a procfs status file shows a running stream
running() {
	i=0
	while [ $i -lt 2000 ]; do
		grep -q 'state: RUNNING' "$1" 2>/dev/null && return 0
		usleep 10000
		i=$((i + 1))
	done
	return 1
}

/tests/demo-audio tone $tone 4 || exit 2
say "== Restricted shared PCM access =="
say ""
say "master   aplay -M -D hw:Loopback,0,0  (unmodified: 440 Hz left, 660 Hz right, S16_LE 48 kHz, 4 s)"
say "witness  arecord -D hw:Loopback,1,0   (what reaches the other end of the loopback)"
say "client   pcm_shared -m -D hw:Loopback,0,0  (alsa-lib test/pcm_shared.c: snd_pcm_open_shared(),"
say "         a restricted fd: mmap, sync and status; no control, no transfer)"
say ""

arecord -q -D hw:Loopback,1,0 -f S16_LE -c 2 -r 48000 -t raw -d 7 /tmp/captured.raw &
rec=$!
running /proc/asound/Loopback/pcm1c/sub0/status || say "arecord did not start"
aplay -q -M -D hw:Loopback,0,0 -B 1000000 $tone &
play=$!
running /proc/asound/Loopback/pcm0p/sub0/status || say "aplay did not start"

if [ $q = 1 ]; then
	pcm_shared -m -q -D hw:Loopback,0,0 -d 2.5 -i 100 -o /tmp/client.txt > /tmp/client.log 2>&1
	client=$?
else
	{ pcm_shared -m -D hw:Loopback,0,0 -d 2.5 -i 100 -o /tmp/client.txt 2>&1
	  echo $? > /tmp/client.rc; } | tee /tmp/client.log
	client=$(cat /tmp/client.rc)
fi
wait $play
played=$?
wait $rec
recorded=$?

say ""
say "== What it showed, checked =="
check "aplay played to the end, undisturbed (exit status $played)" test $played = 0
check "arecord recorded (exit status $recorded)" test $recorded = 0
check "the restricted client followed the stream (pcm_shared exit status $client)" test "$client" = 0
check "every controlling call was refused with EPERM" \
	sh -c 'n=$(grep -c "refused (-1, Operation not permitted)" /tmp/client.log);
	       other=$(grep -c "refused" /tmp/client.log);
	       echo "$n refusals"; [ "$n" -ge 10 ] && [ "$n" = "$other" ]'
check "the levels the client read are not silence" \
	sh -c 'grep -E "frames read from the buffer, peak" /tmp/client.log | grep -v "peak *-inf"'
check "the client's samples are what aplay wrote" /tests/demo-audio client $tone /tmp/client.txt
check "the loopback delivered the tone untouched" /tests/demo-audio capture $tone /tmp/captured.raw

# a stretch of the signal as sent and as read, for the picture
/tests/demo-audio plot $tone /tmp/client.txt 480 > /dev/ttyS2 2>/dev/null

[ $q = 1 ] && echo "1..$n"
exit $fail
