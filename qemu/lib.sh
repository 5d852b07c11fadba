# vusbkey guest test library, sourced by /init and by every suite in tests/vm/.
# Each check prints one line the host parses: `VUSBKEY-RESULT pass|fail NAME DETAIL`.

RESULTS_FILE=/tmp/.vusbkey-results

# pass NAME [DETAIL], fail NAME [DETAIL]: a check's result. RESULT_PREFIX, when set, goes
# before every name (a suite that runs another's checks a second time keeps them apart).
pass() {
	echo "VUSBKEY-RESULT pass ${RESULT_PREFIX:-}$1 ${2:-}"
	echo "${RESULT_PREFIX:-}$1" >> "$RESULTS_FILE"
}

fail() {
	echo "VUSBKEY-RESULT fail ${RESULT_PREFIX:-}$1 ${2:-}"
	echo "${RESULT_PREFIX:-}$1" >> "$RESULTS_FILE"
}

# progress TEXT: shown on the host's terminal as it happens.
progress() {
	echo "VUSBKEY-PROGRESS $*"
}

# check NAME CMD...: passes when CMD exits 0; on failure the detail is CMD's last output line.
check() {
	local name=$1 out
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
	local stats before state rc after
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
	local skip
	skip=$(cat /tmp/.vusbkey-dmesg-baseline 2>/dev/null || echo 0)
	dmesg | tail -n +$((skip + 1)) |
		grep -E 'BUG:|WARNING:|Oops|KASAN|possible (recursive|circular) locking|lockdep|inconsistent lock|INFO: task .* blocked|general protection|kernel BUG|Call Trace' |
		head -n 3
}

# kernel_log_clean NAME: fails when kmemleak (after a scan) or the kernel log shows a report.
kernel_log_clean() {
	local leaks="" reports
	if [ -w /sys/kernel/debug/kmemleak ]; then
		echo scan > /sys/kernel/debug/kmemleak
		echo scan > /sys/kernel/debug/kmemleak
		leaks=$(grep -c 'unreferenced object' /sys/kernel/debug/kmemleak)
		[ "$leaks" = 0 ] && leaks=""
	fi
	reports=$(kernel_reports)
	if [ -n "$leaks" ]; then
		cat /sys/kernel/debug/kmemleak
		# The first object's allocation backtrace, in the result line itself: a CI log that
		# keeps only the results still says where the object came from.
		fail "$1" "kmemleak: $leaks unreferenced object(s); the first allocated at: $(grep -m 1 -A 24 'unreferenced object' /sys/kernel/debug/kmemleak |
			sed -n '/backtrace/,$ s/^ *\(\[<[0-9a-f]*>\] \)*\([A-Za-z_][A-Za-z0-9_.]*\)+0x.*/\2/p' |
			grep -v -e '^kmemleak' -e '^kmem_cache' -e '^__kmalloc' | head -n 8 | tr '\n' ' ')${reports:+; kernel report: $(echo "$reports" | head -n 1)}"
	elif [ -n "$reports" ]; then
		dmesg | tail -n 60
		fail "$1" "kernel report: $(echo "$reports" | head -n 1)"
	else
		pass "$1"
	fi
}

# Seconds since boot, to 10 ms.
now() { cut -d' ' -f1 /proc/uptime; }
# seconds_between T0 T1: the seconds between two `now` values, as a decimal (not the
# `elapsed` program of tests/vmtools, which times a command).
seconds_between() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", b - a }'; }

# wait_for SECONDS CMD...: polls CMD every 50 ms until it succeeds. Like every helper
# here, it keeps its variables local: a suite's own loop counters must survive the call.
wait_for() {
	local tries=$(($1 * 20))
	shift
	while [ $tries -gt 0 ]; do
		"$@" > /dev/null 2>&1 && return 0
		sleep 0.05
		tries=$((tries - 1))
	done
	return 1
}

# usb_dev VID PID: the sysfs directory of the USB device with these ids.
usb_dev() {
	local d
	for d in /sys/bus/usb/devices/*; do
		[ -f "$d/idVendor" ] || continue
		if [ "$(cat "$d/idVendor")" = "$1" ] && [ "$(cat "$d/idProduct")" = "$2" ]; then
			echo "$d"
			return 0
		fi
	done
	return 1
}

# disk_of WORD: the sdX whose sysfs path contains WORD (vusbkey or dummy_hcd), with its node.
disk_of() {
	local b
	for b in /sys/block/sd*; do
		[ -e "$b" ] || continue
		case $(readlink -f "$b") in
		*"$1"*)
			[ -b "/dev/${b##*/}" ] || return 1
			echo "${b##*/}"
			return 0
			;;
		esac
	done
	return 1
}

# no_disk WORD: no sdX of WORD any more.
no_disk() { ! disk_of "$1"; }

# attr_is FILE VALUE
attr_is() { [ "$(cat "$1" 2>/dev/null)" = "$2" ]; }

# key_bus: the USB bus number of the vusbkey.ko root hub the keys are on (port N's device is
# `BUS-N`): the fastest of its root hubs, at `speed=super` the SuperSpeed one (beside an
# empty USB 2.0 one).
key_bus() {
	for hub in /sys/devices/platform/vusbkey/usb*; do
		echo "$(cat "$hub/speed") $(cat "$hub/busnum")"
	done | sort -n | tail -n 1 | cut -d ' ' -f 2
}

# hostile_traffic_settings OPS: sets `seed` (from `vusbkey.seed=` on the kernel command line,
# else random) and `budget`, the hostile tool's length: `vusbkey.soak_minutes=N` minutes
# (`cargo xtask soak`), else OPS operations.
hostile_traffic_settings() {
	soak_minutes=$(sed -n 's/.*vusbkey\.soak_minutes=\([0-9]*\).*/\1/p' /proc/cmdline)
	seed=$(sed -n 's/.*vusbkey\.seed=\([0-9a-fx]*\).*/\1/p' /proc/cmdline)
	[ -n "$seed" ] || seed=$(($(date +%s) * 1000 + $$))
	if [ -n "$soak_minutes" ]; then
		budget="--seconds $((soak_minutes * 60))"
	else
		budget="--ops $1"
	fi
}

# bench_runs: the benchmark's repetitions (`vusbkey.bench_runs=`, default 3).
bench_runs() {
	runs=$(sed -n 's/.*vusbkey\.bench_runs=\([0-9]*\).*/\1/p' /proc/cmdline)
	echo "${runs:-3}"
}

# metric NAME VALUE: one measurement, for the host's benchmark table.
metric() {
	echo "VUSBKEY-METRIC $1 $2"
}

# diskread_value ARGS...: one diskread run, on the CPUs of the affinity mask $READ_CPUS if it
# is set; prints the field named by $FIELD.
diskread_value() {
	if [ -n "$READ_CPUS" ]; then
		set -- taskset "$READ_CPUS" diskread "$@"
	else
		set -- diskread "$@"
	fi
	"$@" | sed -n "s/.*$FIELD=\([0-9.]*\).*/\1/p"
}

# scsi_differential PREFIX OURS REF SERIAL: sg3-utils against the disks OURS (a vusbkey
# device) and REF (Linux's reference, f_mass_storage ro=1), both sdX serving the same image:
# the same answers to INQUIRY, READ CAPACITY(10/16), MODE SENSE, REQUEST SENSE and malformed
# commands, our VPD pages (serial SERIAL), and the same bytes. Checks are named PREFIX-diff-*.
scsi_differential() {
	local p=$1 sgo sgr last lba t
	sgo=/dev/$(ls "/sys/block/$2/device/scsi_generic/")
	sgr=/dev/$(ls "/sys/block/$3/device/scsi_generic/")
	mkdir -p /tmp/diff
	run_both() { # run_both NAME CMD-ARGS... : runs the sg3 tool on both devices
		local name=$1
		shift
		"$@" "$sgo" > "/tmp/diff/$name.ours" 2>&1
		"$@" "$sgr" > "/tmp/diff/$name.ref" 2>&1
		if ! diff "/tmp/diff/$name.ref" "/tmp/diff/$name.ours" > "/tmp/diff/$name.diff"; then
			echo "--- differential $name (- reference f_mass_storage, + vusbkey)"
			cat "/tmp/diff/$name.diff"
		fi
	}
	same() { # same NAME FILTER: what FILTER picks from both outputs is equal and not empty
		grep -oE "$2" "/tmp/diff/$1.ours" > "/tmp/diff/$1.o"
		grep -oE "$2" "/tmp/diff/$1.ref" > "/tmp/diff/$1.r"
		if [ -s "/tmp/diff/$1.o" ] && cmp -s "/tmp/diff/$1.o" "/tmp/diff/$1.r"; then
			pass "$p-diff-$1"
		else
			fail "$p-diff-$1" "ours: $(tr '\n' ' ' < "/tmp/diff/$1.o") ref: $(tr '\n' ' ' < "/tmp/diff/$1.r")"
		fi
	}
	run_both inq sg_inq
	same inq 'PQual=[0-9]+ +PDT=[0-9]+'
	run_both readcap sg_readcap
	same readcap 'Last LBA=[0-9]+|Number of logical blocks=[0-9]+|Logical block length=[0-9]+'
	run_both readcap16 sg_readcap --16
	same readcap16 'Last LBA=[0-9]+|Number of logical blocks=[0-9]+|Logical block length=[0-9]+'
	run_both modes sg_modes
	same modes 'WP=[01]'
	run_both requests sg_requests
	same requests 'Sense key: [A-Za-z ]+|Additional sense: .*'
	run_both vpd sg_vpd
	# f_mass_storage has no VPD pages (it rejects EVPD); ours must have 00h and 80h.
	check "$p-vpd-pages" sh -c "grep -q 'Supported VPD pages' /tmp/diff/vpd.ours && grep -q 'Unit serial number' /tmp/diff/vpd.ours"
	check "$p-vpd-serial" sh -c "sg_vpd -p sn $sgo | grep -q $4"
	# Malformed commands: the same sense key (and ASC) from both.
	last=$(($(cat "/sys/block/$2/size") - 1))
	lba=$(printf '%08x' $((last + 1)) | sed 's/../& /g')
	raw_unknown() { sg_raw -r 64 "$1" ff 00 00 00 00 00; }
	raw_write() { sg_raw -s 512 -i /dev/zero "$1" 2a 00 00 00 00 00 00 00 01 00; }
	raw_lba() { sg_raw -r 512 "$1" 28 00 $lba 00 00 01 00; }
	for t in unknown write lba; do
		run_both "raw-$t" "raw_$t"
		same "raw-$t" 'Sense key: [A-Za-z ]+|Additional sense: .*'
	done
	check "$p-diff-sha256" sh -c "[ \"\$(sha256sum < /dev/$2)\" = \"\$(sha256sum < /dev/$3)\" ]"
}

# load_module NAME [PARAM=VALUE...]: loads a module of the running kernel and the modules it
# depends on, from /lib/modules/$(uname -r) (busybox modprobe reads the modules.dep that
# xtask wrote there); succeeds at once when NAME is built in. On Debian's stock kernel.
load_module() {
	local name
	name=$(echo "$1" | tr - _)
	sed 's/-/_/g' "/lib/modules/$(uname -r)/modules.builtin" 2> /dev/null |
		grep -q "/$name\.ko\$" && return 0
	modprobe "$@"
}

# Linux's reference device where there is no g_mass_storage (Debian's stock kernel): the
# mass-storage gadget function set up through the gadget configfs and bound to dummy_hcd's
# UDC, as g_mass_storage would be loaded with `file=IMAGE ro=1 removable=0` (same ids).
REF_GADGET=/sys/kernel/config/usb_gadget/vusbkey-ref

# ref_gadget_up IMAGE: the reference device serving IMAGE read-only.
ref_gadget_up() {
	local lun
	load_module dummy_hcd && load_module usb_f_mass_storage || return 1
	grep -q ' /sys/kernel/config configfs ' /proc/mounts ||
		mount -t configfs configfs /sys/kernel/config || return 1
	mkdir "$REF_GADGET" || return 1
	echo 0x0525 > "$REF_GADGET/idVendor"
	echo 0xa4a5 > "$REF_GADGET/idProduct"
	mkdir "$REF_GADGET/strings/0x409"
	echo "Linux $(uname -r) with dummy_udc" > "$REF_GADGET/strings/0x409/manufacturer"
	echo "Mass Storage Gadget" > "$REF_GADGET/strings/0x409/product"
	lun="$REF_GADGET/functions/mass_storage.0/lun.0"
	mkdir "$REF_GADGET/functions/mass_storage.0" || return 1
	# ro only changes while no file is open.
	echo 1 > "$lun/ro" && echo 0 > "$lun/removable" && echo "$1" > "$lun/file" || return 1
	mkdir "$REF_GADGET/configs/c.1" || return 1
	ln -s "$REF_GADGET/functions/mass_storage.0" "$REF_GADGET/configs/c.1/" || return 1
	echo dummy_udc.0 > "$REF_GADGET/UDC"
}

# ref_gadget_down: unbinds the reference device and removes it from configfs.
ref_gadget_down() {
	[ -d "$REF_GADGET" ] || return 0
	echo "" > "$REF_GADGET/UDC"
	rm -f "$REF_GADGET/configs/c.1/mass_storage.0"
	rmdir "$REF_GADGET/configs/c.1" "$REF_GADGET/functions/mass_storage.0" \
		"$REF_GADGET/strings/0x409" "$REF_GADGET"
}
