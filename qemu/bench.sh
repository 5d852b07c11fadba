# bench: vusbkey next to Linux's reference (dummy_hcd + g_mass_storage ro=1 serving the
# same image from tmpfs) and the memory-copy ceiling, in one VM run. Each measurement is
# one `VUSBKEY-METRIC NAME VALUE` line; the host computes min/median/max and ratios.
# Runs alternate between the contenders so that drift in the host's speed hits all alike.
# vusbkey-timeout: 3600
# vusbkey-flavour: release
RUNS=$(bench_runs)
IMAGE=/vusbkey/bench/image.img

# usb_dir_of BLOCK: the sysfs directory of the USB device the block device BLOCK (sdX) is on.
usb_dir_of() {
	dir=$(readlink -f "/sys/block/$1/device")
	while [ "$dir" != / ] && [ ! -f "$dir/idVendor" ]; do dir=${dir%/*}; done
	[ "$dir" != / ] && echo "$dir"
}

# The block device whose USB device has idVendor $1, or nothing.
disk_of() {
	for block in /sys/block/sd*; do
		[ -e "$block" ] || continue
		dir=$(usb_dir_of "${block##*/}") || continue
		[ "$(cat "$dir/idVendor")" = "$1" ] && echo "/dev/${block##*/}"
	done
}

# speed_of DISK: the speed in Mb/s of the USB device the block device DISK (/dev/sdX) is on.
speed_of() { dir=$(usb_dir_of "${1#/dev/}") && cat "$dir/speed"; }

# timed_load CMD...: runs CMD (an insmod) and waits for one more SCSI disk; prints seconds.
timed_load() {
	before=$(ls -d /sys/block/sd* 2>/dev/null | wc -l)
	elapsed sh -c "$* && while [ \$(ls -d /sys/block/sd* 2>/dev/null | wc -l) -le $before ]; do usleep 2000; done" 2>&1 |
		sed -n 's/^seconds=\([0-9.]*\).*/\1/p'
}

# unload MODULE: rmmod, then wait until its disk is gone (USB disconnects are asynchronous).
unload() {
	rmmod "$1"
	while ls -d /sys/block/sd* > /dev/null 2>&1; do usleep 2000; done
}

echo 0 > /sys/module/usb_storage/parameters/delay_use
for m in configfs udc-core libcomposite usb_f_mass_storage dummy_hcd; do
	insmod /vusbkey/ref/$m.ko || fail bench-reference-load "insmod $m failed"
done
REF_LOAD="insmod /vusbkey/ref/g_mass_storage.ko file=$IMAGE ro=1 removable=1"

progress "bench: insmod to block device, $RUNS runs each"
i=0
while [ $i -lt "$RUNS" ]; do
	metric insmod_s.vusbkey "$(timed_load insmod /vusbkey/vusbkey.ko)"
	unload vusbkey
	metric insmod_s.reference "$(timed_load $REF_LOAD)"
	unload g_mass_storage
	i=$((i + 1))
done

# The agent as a guest's boot starts it: running before the key disk appears, waiting for it
# (it scans sysfs again at each kernel uevent). The module is loaded a second after the
# agent starts; the measure is from the disk's block device appearing to the verdict.
progress "bench: agent waiting for the key disk, disk appears to verdict, $RUNS runs"
i=0
while [ $i -lt "$RUNS" ]; do
	(sleep 1 && insmod /vusbkey/vusbkey.ko) &
	loader=$!
	secs=$(elapsed --from /sys/block/sda vusbkey-agent --timeout 30 --trusted-dir /etc/vusbkey/trusted 2>&1 >/dev/null |
		sed -n 's/^seconds=\([0-9.]*\) exit=0$/\1/p')
	wait $loader
	[ -n "$secs" ] && metric agent_s.vusbkey_waiting "$secs" || fail bench-agent-waiting "the waiting agent did not accept the key disk"
	unload vusbkey
	i=$((i + 1))
done

progress "bench: loading the module with the ${IMAGE##*/} image ($(wc -c < $IMAGE) bytes) and the reference"
metric insmod_s.vusbkey_large "$(timed_load insmod /vusbkey/bench/vusbkey.ko)"
timed_load $REF_LOAD > /dev/null
VUS=$(disk_of 1209)
REF=$(disk_of 0525)
if [ -z "$VUS" ] || [ -z "$REF" ]; then
	fail bench-disks "vusbkey disk '$VUS', reference disk '$REF'"
	return
fi
check bench-same-bytes sh -c "[ \"\$(sha256sum < $VUS)\" = \"\$(sha256sum < $REF)\" ]"

# agent_runs METRIC: RUNS runs of the agent on the key disk, each one's seconds as METRIC.
agent_runs() {
	i=0
	while [ $i -lt "$RUNS" ]; do
		secs=$(elapsed vusbkey-agent --timeout 0 --trusted-dir /etc/vusbkey/trusted 2>&1 >/dev/null |
			sed -n 's/^seconds=\([0-9.]*\) exit=0$/\1/p')
		[ -n "$secs" ] && metric "$1" "$secs" || fail bench-agent "the agent did not accept the key disk"
		i=$((i + 1))
	done
}
progress "bench: agent, device present to verdict"
agent_runs agent_s.vusbkey
# The same with address-space randomisation off, so that each run's code sits where the
# last run's did: TCG then reuses its translations of the guest's code (it finds them by
# address), which under randomisation it redoes on every run. The difference is the
# emulator's, not the agent's: under KVM nothing is translated. The first of these runs
# still translates (the median of three is a later one).
echo 0 > /proc/sys/kernel/randomize_va_space
agent_runs agent_s.vusbkey_fixed_addresses
echo 2 > /proc/sys/kernel/randomize_va_space

# pin MASK: the readers diskread_value starts and the USB storage threads (usb-storage's, one
# per USB disk, and the reference gadget's file-storage) on the CPUs of affinity mask MASK. A
# read through usb-storage goes from the reader to usb-storage's thread and back, and under
# TCG waking a task on another vCPU means waking that vCPU's host thread: each crossing
# cost about 0.1 ms on 2026-12-07 (random 4 KiB reads of vusbkey 3,680/s with the threads
# where the scheduler put them, 11,948/s with all on CPU 0; the reference 884/s and
# 1,153/s). The targets' reads run on CPU 0, to measure the devices' paths rather than the
# emulator's wake-ups, every contender alike; the same reads spread by the scheduler are
# kept as `*_unpinned`.
pin() {
	READ_CPUS=$1
	for pid in $(ps -o pid,comm | awk '$2 == "usb-storage" || $2 == "file-storage" { print $1 }'); do
		taskset -p "$1" "$pid" > /dev/null || fail bench-pin "taskset -p $1 $pid failed"
	done
}
EVERY_CPU=$(printf '%x' $(((1 << $(nproc)) - 1)))

# reads SUFFIX: sequential reads (1 MiB blocks, the whole disk) and 10 s of random 4 KiB
# reads of vusbkey and the reference, O_DIRECT, $RUNS runs each, as metrics named
# seq_mib_s.CONTENDER$SUFFIX and rand_iops.CONTENDER$SUFFIX; with SUFFIX empty, the tmpfs
# ceiling's too (buffered: the page cache, a memory copy per read).
reads() {
	i=0
	while [ $i -lt "$RUNS" ]; do
		FIELD=mib_per_s
		[ -z "$1" ] && metric seq_mib_s.ceiling "$(diskread_value --buffered $IMAGE)"
		metric seq_mib_s.vusbkey$1 "$(diskread_value "$VUS")"
		metric seq_mib_s.reference$1 "$(diskread_value "$REF")"
		FIELD=reads_per_s
		random="--pattern random --block 4096 --seconds 10 --seed $i"
		[ -z "$1" ] && metric rand_iops.ceiling "$(diskread_value --buffered $random $IMAGE)"
		metric rand_iops.vusbkey$1 "$(diskread_value $random "$VUS")"
		metric rand_iops.reference$1 "$(diskread_value $random "$REF")"
		i=$((i + 1))
	done
}
progress "bench: sequential (1 MiB) and random (4 KiB, 10 s) O_DIRECT reads, $RUNS runs each, on CPU 0"
pin 1
reads ""
# profile NAME CMD...: where the CPUs' time goes while CMD runs. perf samples every CPU on
# the cpu-clock (TCG has no PMU) and reports the number of samples (metric
# profile_samples.NAME) and their share by thread (the kworkers summed), by binary and by
# symbol (the top 12), as `VUSBKEY-PROFILE NAME BY PERCENT WHAT` lines.
profile() {
	name=$1
	shift
	if ! perf record -q -e cpu-clock -F 999 -a -o /tmp/$name.perf -- "$@" > /dev/null 2>&1; then
		fail bench-profile-$name "perf record failed"
		return
	fi
	metric profile_samples.$name "$(perf script -i /tmp/$name.perf -F comm 2> /dev/null | wc -l)"
	for by in comm dso sym; do
		perf report -i /tmp/$name.perf --stdio --no-children --sort $by -g none --percent-limit 1 2> /dev/null |
			awk -v name=$name -v by=$by '
				/^ *[0-9.]+%/ {
					pct = $1; sub("%", "", pct); $1 = ""; sub(/^ +/, ""); sub(/ +$/, "")
					if (by == "comm" && $0 ~ /^kworker\//) $0 = "kworker/*"
					share[$0] += pct
				}
				END { for (what in share) printf "VUSBKEY-PROFILE %s %s %.2f %s\n", name, by, share[what], what }' |
			sort -k4,4nr | head -n 12
	done
	rm -f /tmp/$name.perf
}
echo 0 > /proc/sys/kernel/kptr_restrict
progress "bench: where the time goes (perf): 4 sequential passes and 5 s of random 4 KiB reads of vusbkey"
profile seq taskset 1 sh -c "diskread $VUS && diskread $VUS && diskread $VUS && diskread $VUS"
profile rand taskset 1 diskread --pattern random --block 4096 --seconds 5 --seed 0 "$VUS"
progress "bench: the same reads of vusbkey and the reference with the threads where the scheduler puts them"
pin "$EVERY_CPU"
reads _unpinned

# The same module and image with its device at SuperSpeed (speed=super: usb-storage then
# sends up to 2048 sectors per command, not 240), against the reference still loaded.
rmmod vusbkey
while [ -n "$(disk_of 1209)" ]; do usleep 2000; done
progress "bench: vusbkey at SuperSpeed (speed=super): sequential and random reads, $RUNS runs each"
timed_load insmod /vusbkey/bench/vusbkey.ko speed=super > /dev/null
VUS=$(disk_of 1209)
if [ -z "$VUS" ] || [ "$(speed_of "$VUS")" != 5000 ]; then
	fail bench-super "no SuperSpeed vusbkey disk ('$VUS' at $(speed_of "$VUS") Mb/s)"
else
	pin 1
	i=0
	while [ $i -lt "$RUNS" ]; do
		FIELD=mib_per_s
		metric seq_mib_s.vusbkey_super "$(diskread_value "$VUS")"
		FIELD=reads_per_s
		metric rand_iops.vusbkey_super "$(diskread_value --pattern random --block 4096 --seconds 10 --seed $i "$VUS")"
		i=$((i + 1))
	done
	profile seq-super taskset 1 sh -c "diskread $VUS && diskread $VUS && diskread $VUS && diskread $VUS"
fi
# The ports' readers run at once, on every CPU (read_all); their usb-storage threads are new.
READ_CPUS=

rmmod g_mass_storage
unload vusbkey

# port_disk N: the /dev/sdX of port N of vusbkey's root hub (the one the devices are on).
port_disk() {
	for block in /sys/block/sd*; do
		case $(readlink -f "$block") in
		*/platform/vusbkey/usb[0-9]*/[0-9]*-$1/*) echo "/dev/${block##*/}" && return 0 ;;
		esac
	done
	return 1
}
# cpu_ticks: the busy and the total time of all CPUs so far, in jiffies (/proc/stat).
cpu_ticks() { awk '/^cpu / { busy = $2 + $3 + $4 + $7 + $8; print busy, busy + $5 + $6 }' /proc/stat; }
# read_all DISK...: reads every DISK whole $PASSES times (sequential, O_DIRECT, 1 MiB), the
# disks at once; prints the seconds it took, nothing if a read failed. How busy the CPUs
# were meanwhile (percent of all of them) goes to /tmp/cpu_busy: whether the reads of
# several ports kept both vCPUs at work.
PASSES=4
read_all() {
	before=$(cpu_ticks)
	elapsed sh -c "for d in $*; do (i=0; while [ \$i -lt $PASSES ]; do diskread \$d > /dev/null || exit 1; i=\$((i + 1)); done) & done; wait" 2>&1 |
		sed -n 's/^seconds=\([0-9.]*\) exit=0$/\1/p'
	echo "$before $(cpu_ticks)" | awk '{ printf "%.0f\n", 100 * ($3 - $1) / ($4 - $2) }' > /tmp/cpu_busy
}

progress "bench: a module with a port per VM (3 x 64 MiB): port 1 alone, then all 3 at once, $RUNS runs each"
timed_load insmod /vusbkey/bench/ports/vusbkey.ko > /dev/null
while [ "$(ls -d /sys/block/sd* 2> /dev/null | wc -l)" -lt 3 ]; do usleep 2000; done
P1=$(port_disk 1)
P2=$(port_disk 2)
P3=$(port_disk 3)
if [ -z "$P1" ] || [ -z "$P2" ] || [ -z "$P3" ]; then
	fail bench-ports "port disks '$P1' '$P2' '$P3'"
else
	MIB=$(($(blockdev --getsize64 "$P1") >> 20))
	i=0
	while [ $i -lt "$RUNS" ]; do
		secs=$(read_all "$P1")
		[ -n "$secs" ] && metric seq_mib_s.one_port "$(awk -v s="$secs" -v m=$((PASSES * MIB)) 'BEGIN { printf "%.2f", m / s }')"
		metric cpu_busy_pct.one_port "$(cat /tmp/cpu_busy)"
		secs=$(read_all "$P1" "$P2" "$P3")
		[ -n "$secs" ] && metric seq_mib_s.three_ports "$(awk -v s="$secs" -v m=$((3 * PASSES * MIB)) 'BEGIN { printf "%.2f", m / s }')"
		metric cpu_busy_pct.three_ports "$(cat /tmp/cpu_busy)"
		i=$((i + 1))
	done
fi
unload vusbkey
pass bench-done "$RUNS runs"
