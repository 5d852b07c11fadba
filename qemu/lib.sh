# vusbkey guest test library, sourced by /init and by every suite in tests/vm/.
# Each check prints one line the host parses: `VUSBKEY-RESULT pass|fail NAME DETAIL`.

RESULTS_FILE=/tmp/.vusbkey-results

pass() {
	echo "VUSBKEY-RESULT pass $1 ${2:-}"
	echo "$1" >> "$RESULTS_FILE"
}

fail() {
	echo "VUSBKEY-RESULT fail $1 ${2:-}"
	echo "$1" >> "$RESULTS_FILE"
}

# progress TEXT: shown on the host's terminal as it happens.
progress() {
	echo "VUSBKEY-PROGRESS $*"
}

# check NAME CMD...: passes when CMD exits 0; on failure the detail is CMD's last output line.
check() {
	name=$1
	shift
	if out=$("$@" 2>&1); then
		pass "$name"
	else
		fail "$name" "exit $?: $(echo "$out" | tail -n 1)"
	fi
}

# The end marker with the number of results, so the host sees lost or garbled lines.
results_done() {
	count=0
	[ -f "$RESULTS_FILE" ] && count=$(wc -l < "$RESULTS_FILE")
	echo "VUSBKEY-DONE $count"
}

# sleep_cycle: one system suspend-resume with /sys/power/pm_test=devices (every device is
# suspended and resumed by the PM core, no wake-up source needed; the debug kernel has
# CONFIG_PM_DEBUG). Fails unless the PM core counts one more successful suspend (a device
# that fails to suspend or resume makes it count a failure).
sleep_cycle() {
	stats=/sys/power/suspend_stats
	before=$(cat $stats/success) || return 1
	state=freeze
	grep -qw mem /sys/power/state && state=mem
	echo devices > /sys/power/pm_test || return 1
	echo $state > /sys/power/state
	rc=$?
	echo none > /sys/power/pm_test
	after=$(cat $stats/success)
	echo "suspend to $state: exit $rc, successful suspends $before -> $after, failed $(cat $stats/fail)"
	[ $rc = 0 ] && [ "$after" = $((before + 1)) ]
}

# Marks what the kernel already reported at boot, so that later checks see only new reports.
kernel_log_baseline() {
	if [ -w /sys/kernel/debug/kmemleak ]; then
		echo scan > /sys/kernel/debug/kmemleak
		echo clear > /sys/kernel/debug/kmemleak
	fi
	dmesg | wc -l > /tmp/.vusbkey-dmesg-baseline
}

# Reports that the kernel logged since the baseline (KASAN, lockdep, WARN, BUG, Oops, hung tasks).
kernel_reports() {
	skip=$(cat /tmp/.vusbkey-dmesg-baseline 2>/dev/null || echo 0)
	dmesg | tail -n +$((skip + 1)) |
		grep -E 'BUG:|WARNING:|Oops|KASAN|possible (recursive|circular) locking|lockdep|inconsistent lock|INFO: task .* blocked|general protection|kernel BUG|Call Trace' |
		head -n 3
}

# kernel_log_clean NAME: fails when kmemleak (after a scan) or the kernel log shows a report.
kernel_log_clean() {
	leaks=""
	if [ -w /sys/kernel/debug/kmemleak ]; then
		echo scan > /sys/kernel/debug/kmemleak
		echo scan > /sys/kernel/debug/kmemleak
		leaks=$(grep -c 'unreferenced object' /sys/kernel/debug/kmemleak)
		[ "$leaks" = 0 ] && leaks=""
	fi
	reports=$(kernel_reports)
	if [ -n "$leaks" ]; then
		cat /sys/kernel/debug/kmemleak
		fail "$1" "kmemleak: $leaks unreferenced object(s)"
	elif [ -n "$reports" ]; then
		dmesg | tail -n 60
		fail "$1" "kernel report: $(echo "$reports" | head -n 1)"
	else
		pass "$1"
	fi
}
