#!/bin/sh
# vusbkey test VM init: mounts the basics, runs the suites named by `vusbkey.suite=` on
# the kernel command line (comma-separated, from /vusbkey/tests/), reports, powers off.
/bin/busybox --install -s /bin
export PATH=/bin:/usr/bin:/usr/sbin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mount -t tmpfs tmpfs /tmp
mount -t debugfs debugfs /sys/kernel/debug
. /vusbkey/lib.sh
kernel_log_baseline
suites=$(sed -n 's/.*vusbkey\.suite=\([^ ]*\).*/\1/p' /proc/cmdline | tr , ' ')
for suite in $suites; do
	if [ -f "/vusbkey/tests/$suite.sh" ]; then
		( . "/vusbkey/tests/$suite.sh" )
	else
		fail "suite-$suite" "no such suite in /vusbkey/tests"
	fi
done
results_done
reboot -f
