# hostile: a VM turned against the key disk (issue 8). `hostile` drives seeded malformed
# traffic through usbdevfs, as QEMU's usb-host would forward it, and checks after every
# round that the disk still follows Bulk-Only and serves exactly the image. Then the
# faults: rmmod with URBs in flight, `connected` 0/1 during transfers, usb-storage
# unbind/rebind, failslab during insmod and during I/O. Each scenario ends with a clean
# kernel log (no KASAN, lockdep, WARN, BUG, Oops, hung task, kmemleak report).
#
# Kernel command line: `vusbkey.soak_minutes=N` runs the hostile traffic for N minutes
# instead of the bounded count; `vusbkey.seed=S` fixes the seed (otherwise random, and
# printed in the results).
# vusbkey-timeout: 1500

IMAGE=/vusbkey/image.img
ID=1209:0001
hostile_traffic_settings 1000
image_sha=$(sha256sum "$IMAGE" | cut -d' ' -f1)

# The kernel log of each scenario is judged on its own.
scenario_log() {
	kernel_log_clean "$1"
	kernel_log_baseline
}

# The block device usb-storage made of the key disk.
key_disk() {
	for b in /sys/block/sd*; do
		case $(readlink -f "$b") in
		*vusbkey*) echo "/dev/${b##*/}" && return 0 ;;
		esac
	done
	return 1
}

# The key disk's interface as usb-storage names it (e.g. 1-1:1.0).
key_interface() {
	for i in /sys/bus/usb/drivers/usb-storage/*:*; do
		case $(readlink -f "$i") in
		*vusbkey*) echo "${i##*/}" && return 0 ;;
		esac
	done
	return 1
}

# Reads the whole key disk; succeeds when it hashes to the image.
disk_is_image() {
	disk=$(key_disk) || return 1
	echo 1 > /proc/sys/vm/drop_caches
	[ "$(sha256sum "$disk" | cut -d' ' -f1)" = "$image_sha" ]
}

# Reads the key disk up to 20 times, until a read fails (started in the background).
reader() {
	for pass in $(seq 20); do
		disk=$(key_disk) && dd if="$disk" of=/dev/null bs=64k iflag=direct 2> /dev/null || return
	done
}

# hold_urbs LOG: starts `hostile hold` in the background, waits until its URBs are queued.
hold_urbs() {
	hostile --device $ID hold --urbs 8 --patience 120 > "$1" 2>&1 &
	hold_pid=$!
	wait_for 30 grep -q "holding" "$1"
}

# result NAME RC LOG: pass when RC is 0, with the log's last line as detail either way.
result() {
	if [ "$2" = 0 ]; then
		pass "$1" "$(tail -n 1 "$3")"
	else
		fail "$1" "exit $2: $(tail -n 1 "$3")"
	fi
}

# --- the device under hostile traffic ------------------------------------------------
check hostile-insmod insmod /vusbkey/vusbkey.ko
check hostile-baseline hostile --device $ID check --image $IMAGE
check hostile-bulk-in-nak hostile --device $ID nak --image $IMAGE
progress "hostile traffic, seed $seed, $budget"
# Shown as it goes (a soak runs for long), and kept for the result's detail.
{
	hostile --device $ID run --image $IMAGE --seed "$seed" $budget 2>&1
	echo $? > /tmp/run.rc
} | tee /tmp/run.log
result hostile-traffic "$(cat /tmp/run.rc)" /tmp/run.log
scenario_log hostile-traffic-kernel-log
check hostile-usb-storage-back wait_for 30 disk_is_image

# --- rmmod with the device open and URBs in flight -----------------------------------
progress "rmmod with URBs in flight"
if hold_urbs /tmp/hold.log; then
	# System sleep flushes the held URBs (usbcore unlinks them after suspending the device);
	# `hold` submits them again after the resume, and the device NAKs them again.
	check hostile-sleep-urbs-in-flight sleep_cycle
	check hostile-rmmod-urbs-in-flight timeout 60 rmmod vusbkey
	wait $hold_pid
	rc=$?
	cat /tmp/hold.log
	result hostile-rmmod-urbs-given-back $rc /tmp/hold.log
else
	fail hostile-rmmod-urbs-in-flight "hostile hold never queued its URBs: $(tail -n 1 /tmp/hold.log)"
	kill $hold_pid 2> /dev/null
	rmmod vusbkey
fi
check hostile-reinsmod insmod /vusbkey/vusbkey.ko
hostile --device $ID run --image $IMAGE --seed "$seed" --seconds 600 > /tmp/run2.log 2>&1 &
run_pid=$!
wait_for 60 grep -q "round 0 ok" /tmp/run2.log
check hostile-rmmod-mid-traffic timeout 60 rmmod vusbkey
wait $run_pid
rc=$?
if [ $rc = 2 ]; then pass hostile-rmmod-tool-sees-gone; else fail hostile-rmmod-tool-sees-gone "exit $rc: $(tail -n 1 /tmp/run2.log)"; fi
scenario_log hostile-rmmod-kernel-log

# --- connected 0/1 during transfers --------------------------------------------------
progress "connected 0/1 during transfers"
insmod /vusbkey/vusbkey.ko
connected=$(ls /sys/bus/platform/devices/vusbkey*/connected | head -n 1)
if [ -w "$connected" ]; then
	hold_urbs /tmp/hold.log
	echo 0 > "$connected"
	wait $hold_pid
	result hostile-unplug-urbs-given-back $? /tmp/hold.log
	echo 1 > "$connected"
	hostile --device $ID run --image $IMAGE --seed "$seed" --seconds 600 > /tmp/run3.log 2>&1 &
	run_pid=$!
	wait_for 60 grep -q "round 0 ok" /tmp/run3.log
	echo 0 > "$connected"
	wait $run_pid
	rc=$?
	if [ $rc = 2 ]; then pass hostile-unplug-tool-sees-gone; else fail hostile-unplug-tool-sees-gone "exit $rc: $(tail -n 1 /tmp/run3.log)"; fi
	echo 1 > "$connected"
	check hostile-replug-check hostile --device $ID check --image $IMAGE
	for delay in 0 0.1 0.5 1; do
		wait_for 30 key_disk
		reader &
		reader_pid=$!
		sleep $delay
		echo 0 > "$connected"
		wait $reader_pid
		echo 1 > "$connected"
	done
	check hostile-replug-reads-image wait_for 30 disk_is_image
else
	fail hostile-connected-attribute "no writable connected attribute under /sys/bus/platform/devices/vusbkey*"
fi
scenario_log hostile-connected-kernel-log

# --- usb-storage unbind/rebind during reads ------------------------------------------
progress "usb-storage unbind/rebind"
for delay in 0 0.1 0.3 0.7 1; do
	wait_for 30 key_interface
	intf=$(key_interface)
	reader &
	reader_pid=$!
	sleep $delay
	echo "$intf" > /sys/bus/usb/drivers/usb-storage/unbind
	wait $reader_pid
	echo "$intf" > /sys/bus/usb/drivers/usb-storage/bind
done
check hostile-rebind-reads-image wait_for 30 disk_is_image
scenario_log hostile-rebind-kernel-log

# --- allocation failures (failslab) --------------------------------------------------
failslab=/sys/kernel/debug/failslab
failslab_on() {
	echo N > $failslab/ignore-gfp-wait
	echo 0 > $failslab/verbose
	echo Y > $failslab/task-filter
	echo 1 > $failslab/interval
	echo -1 > $failslab/times
	echo 0 > $failslab/space
	echo "$1" > $failslab/probability
}
failslab_off() {
	echo 0 > $failslab/probability
}
# failing CMD...: runs CMD with this task's allocations failing as failslab says.
failing() {
	sh -c 'echo 1 > /proc/self/make-it-fail && exec "$@"' failing "$@"
}
# injected_log_clean NAME: kernel_log_clean, except for the stack dumps warn_alloc prints
# about the allocation failures injected on purpose (same report patterns as lib.sh).
injected_log_clean() {
	skip=$(cat /tmp/.vusbkey-dmesg-baseline 2> /dev/null || echo 0)
	reports=$(dmesg | tail -n +$((skip + 1)) |
		awk '/vmalloc error|page allocation failure/ {s = 1} s && /<\/TASK>/ {s = 0; next} !s' |
		grep -E 'BUG:|WARNING:|Oops|KASAN|possible (recursive|circular) locking|lockdep|inconsistent lock|INFO: task .* blocked|general protection|kernel BUG|Call Trace' |
		head -n 3)
	if [ -n "$reports" ]; then
		dmesg | tail -n 60
		fail "$1" "kernel report: $(echo "$reports" | head -n 1)"
	else
		pass "$1"
	fi
	# kmemleak, and nothing since.
	dmesg | wc -l > /tmp/.vusbkey-dmesg-baseline
	scenario_log "$1-kmemleak"
}
# insmod_failing N: loads the module with the Nth allocation of the load failing; unloads
# it again when it loaded anyway; fails when a refused load left the module behind.
insmod_failing() {
	out=$(hostile insmod /vusbkey/vusbkey.ko --fail-nth "$1")
	rc=$?
	if [ $rc = 0 ]; then
		# Loaded: whatever failed was survivable, so the disk must come up.
		loaded=$((loaded + 1))
		wait_for 20 key_interface || fail hostile-failslab-insmod-disk "'$out' but no disk appeared"
		rmmod vusbkey || fail hostile-failslab-insmod-unload "rmmod after '$out' failed"
	elif grep -q '^vusbkey ' /proc/modules; then
		fail hostile-failslab-insmod-clean "'$out' but the module stayed loaded"
		rmmod vusbkey
	else
		refused=$((refused + 1))
	fi
}
if [ -d $failslab ]; then
	progress "failslab during insmod"
	check hostile-failslab-rmmod rmmod vusbkey
	echo N > $failslab/ignore-gfp-wait
	echo 0 > $failslab/verbose
	failslab_off
	calls=$(hostile insmod /vusbkey/vusbkey.ko --fail-nth 100000000 | sed -n 's/.*, \([0-9]*\) calls.*/\1/p')
	rmmod vusbkey
	if [ -n "$calls" ]; then
		loaded=0
		refused=0
		# About 12 calls spread over the load (100 in a soak), then each of the last 10,
		# the end of init.
		stride=$((calls / 12 + 1))
		[ -n "$soak_minutes" ] && stride=$((calls / 100 + 1))
		n=1
		while [ $n -le "$calls" ]; do
			insmod_failing $n
			n=$((n + stride))
		done
		if [ $stride -gt 1 ]; then
			n=$((calls > 10 ? calls - 10 : 1))
			while [ $n -le "$calls" ]; do
				insmod_failing $n
				n=$((n + 1))
			done
		fi
		pass hostile-failslab-insmod "$calls allocation calls; $loaded loads despite a failure, $refused refused cleanly"
	else
		fail hostile-failslab-insmod "could not count the load's allocation calls"
	fi
	injected_log_clean hostile-failslab-insmod-kernel-log

	progress "failslab during I/O"
	check hostile-failslab-io-insmod insmod /vusbkey/vusbkey.ko
	wait_for 30 key_disk
	# Failed commands time out and go through SCSI error handling: keep that short.
	disk=$(key_disk) && echo 5 > "/sys/block/${disk#/dev/}/device/timeout"
	storage_pid=$(ps -o pid,comm | awk '$2 ~ /usb-storage/ {print $1; exit}')
	[ -n "$storage_pid" ] && echo 1 > /proc/$storage_pid/make-it-fail
	for p in 2 10; do
		failslab_on $p
		disk=$(key_disk) && failing dd if="$disk" of=/dev/null bs=64k iflag=direct > /dev/null 2>&1
		failslab_off
	done
	[ -n "$storage_pid" ] && echo 0 > /proc/$storage_pid/make-it-fail 2> /dev/null
	for p in 2 20; do
		failslab_on $p
		failing hostile --device $ID check --image $IMAGE > /dev/null 2>&1
		failslab_off
	done
	check hostile-failslab-io-recovers hostile --device $ID check --image $IMAGE
	check hostile-failslab-io-reads-image wait_for 30 disk_is_image
	scenario_log hostile-failslab-io-kernel-log
fi

check hostile-rmmod rmmod vusbkey
scenario_log hostile-final-kernel-log
