# kmod: vusbkey.ko in the debug kernel (issue 6). Sourced by /init after /vusbkey/lib.sh.
# Needs: /vusbkey/vusbkey.ko, the image it carries at /vusbkey/image.img, the reference
# modules in /vusbkey/ref/, sg3-utils on PATH. Optional: /vusbkey/token.pst, the token file
# the image should carry (else the token check only proves the file is readable).
# With `vusbkey.kmod=smoke` on the kernel command line (`cargo xtask test` on Linux 7.2,
# release) it runs the smoke subset: load, enumeration, whole-disk hashes (buffered and
# O_DIRECT), the read-only mount with the token, writes refused, unplug/replug, 20
# insmod/rmmod cycles, rmmod while readers run, and the kernel log; not the rest (storm, PM,
# parameters, other rmmod cases, differential against the reference, failslab). With
# KMOD_KO set (distro.sh and dkms.sh set it) it tests that module file instead. With
# `vusbkey.kmod_speed=super` (or `high`) it loads the module with that `speed=` (`cargo
# xtask test` runs the whole suite at both speeds), and the reference with dummy_hcd's
# `is_super_speed` to match.
# vusbkey-timeout: 1500

KO=${KMOD_KO:-/vusbkey/vusbkey.ko}
SPEED=$(sed -n 's/.*vusbkey\.kmod_speed=\([a-z]*\).*/\1/p' /proc/cmdline)
# Every load of the module passes these (the speed, when the command line asks for one).
KMOD_PARAMS=${SPEED:+speed=$SPEED}
# The module's default.
SPEED=${SPEED:-high}
IMG=/vusbkey/image.img
REF=/vusbkey/ref
PDEV=/sys/devices/platform/vusbkey
IMG_SHA=$(sha256sum "$IMG" | cut -d' ' -f1)
IMG_SIZE=$(stat -c %s "$IMG")
DEF_SERIAL=$(echo "$IMG_SHA" | cut -c1-16 | tr a-f A-F)

# ---- helpers ----

# full: the whole suite runs, not the smoke subset (`vusbkey.kmod=smoke`); it gates every
# part the subset leaves out.
KMOD_SMOKE=0
grep -q 'vusbkey\.kmod=smoke' /proc/cmdline && KMOD_SMOKE=1
full() { [ $KMOD_SMOKE = 0 ]; }
# insmod/rmmod cycles of the load-cycle check.
CYCLES=100
full || CYCLES=20

command -v progress > /dev/null || progress() { :; }

# no_usb_dev VID PID: no such USB device.
no_usb_dev() { ! usb_dev "$@"; }

# mark_log writes a unique marker into the kernel log; log_since_mark prints what came after
# it (robust to the ring buffer wrapping, unlike line counts); new_log_has WORD greps that.
mark_n=0
mark_log() {
	mark_n=$((mark_n + 1))
	log_mark="vusbkey-kmod-test-mark-$mark_n"
	echo "$log_mark" > /dev/kmsg
}
log_since_mark() { dmesg | sed -n "/$log_mark\$/,\$p"; }
new_log_has() { log_since_mark | grep -q "$1"; }


# root_hubs_are SPEEDS HUB DEV: the controller's root hubs run at SPEEDS (ascending, one
# hub each) and USB device DEV is on the one at HUB.
root_hubs_are() {
	speeds=$(cat $PDEV/usb*/speed | sort -n | tr '\n' ' ')
	parent=$(dirname "$(readlink -f "$3")")
	echo "root hubs at $speeds; the device's hub at $(cat "$parent/speed")"
	[ "$speeds" = "$1 " ] && [ "$(cat "$parent/speed")" = "$2" ]
}

# Unloads vusbkey if loaded (best effort; checks are explicit elsewhere).
unload() { grep -q '^vusbkey ' /proc/modules && rmmod vusbkey; true; }

# load ARGS...: insmod and wait (10 s) for the disk; prints the seconds it took.
load() {
	t0=$(now)
	insmod "$KO" $KMOD_PARAMS "$@" || return 1
	wait_for 10 disk_of vusbkey || return 1
	seconds_between "$t0" "$(now)"
}

# A new device appears at once, not after usb-storage's default 1 s settle delay
# (the reference in ../shared/TOOLCHAIN.md was measured the same way).
echo 0 > /sys/module/usb_storage/parameters/delay_use

# ---- load, identity, sysfs ----

progress "kmod: load, enumerate, read"

if secs=$(load); then
	pass kmod-insmod "disk after ${secs}s"
else
	fail kmod-insmod "$(dmesg | grep vusbkey | tail -n 1)"
fi
check kmod-load-logged sh -c "dmesg | grep -q 'vusbkey.*loaded: 1 port(s)' && dmesg | grep -q 'vusbkey.*port 1: disk $IMG_SIZE bytes, sha256 $IMG_SHA'"
check kmod-sysfs-sha256 attr_is $PDEV/image_sha256 "$IMG_SHA"
check kmod-sysfs-size attr_is $PDEV/image_size "$IMG_SIZE"
check kmod-sysfs-connected attr_is $PDEV/connected 1
check kmod-sysfs-ro sh -c "! echo x > $PDEV/image_sha256"

dev=$(usb_dev 1209 0001)
if [ -n "$dev" ]; then
	pass kmod-enum-ids "$dev 1209:0001"
	check kmod-enum-serial attr_is "$dev/serial" "$DEF_SERIAL"
	check kmod-enum-manufacturer attr_is "$dev/manufacturer" vusbkey
	check kmod-enum-product attr_is "$dev/product" "vusbkey authentication key"
	# The speed, bcdUSB and bMaxPacketSize0 of each speed (USB 2.0 §9.6.1, USB 3.2
	# §9.6.1), and the root hubs: one USB 2.0 hub, or a USB 2.0 and a SuperSpeed one with
	# the device on the SuperSpeed one.
	if [ "$SPEED" = super ]; then
		check kmod-enum-speed attr_is "$dev/speed" 5000
		check kmod-enum-bcdusb attr_is "$dev/version" " 3.20"
		check kmod-enum-maxpacket0 attr_is "$dev/bMaxPacketSize0" 9
		check kmod-root-hubs root_hubs_are "480 5000" 5000 "$dev"
	else
		check kmod-enum-speed attr_is "$dev/speed" 480
		check kmod-enum-bcdusb attr_is "$dev/version" " 2.00"
		check kmod-enum-maxpacket0 attr_is "$dev/bMaxPacketSize0" 64
		check kmod-root-hubs root_hubs_are 480 480 "$dev"
	fi
	check kmod-enum-class attr_is "$dev/${dev##*/}:1.0/bInterfaceClass" 08
	check kmod-enum-subclass attr_is "$dev/${dev##*/}:1.0/bInterfaceSubClass" 06
	check kmod-enum-protocol attr_is "$dev/${dev##*/}:1.0/bInterfaceProtocol" 50
	check kmod-usb-storage-bound sh -c "readlink $dev/${dev##*/}:1.0/driver | grep -q usb-storage"
else
	fail kmod-enum-ids "no USB device 1209:0001"
fi

# ---- the disk ----

sd=$(disk_of vusbkey)
if [ -n "$sd" ]; then
	check kmod-disk-size attr_is "/sys/block/$sd/size" $((IMG_SIZE / 512))
	check kmod-disk-ro attr_is "/sys/block/$sd/ro" 1
	# usb-storage's command size: 2048 sectors at SuperSpeed, 240 at high speed
	# (scsiglue.c, the host template's max_sectors).
	if [ "$SPEED" = super ]; then
		check kmod-disk-max-sectors attr_is "/sys/block/$sd/queue/max_hw_sectors_kb" 1024
	else
		check kmod-disk-max-sectors attr_is "/sys/block/$sd/queue/max_hw_sectors_kb" 120
	fi
	check kmod-disk-sha256 sh -c "sha256sum /dev/$sd | grep -q ^$IMG_SHA"
	check kmod-disk-sha256-direct sh -c "dd if=/dev/$sd bs=64k iflag=direct 2>/dev/null | sha256sum | grep -q ^$IMG_SHA"

	mkdir -p /mnt/key /mnt/rw
	if mount -t vfat -o ro "/dev/$sd" /mnt/key; then
		pass kmod-mount-ro
		token=$(find /mnt/key -type f | grep -i -E 'token|\.pst$' | head -n 1)
		if [ -z "$token" ]; then
			fail kmod-token "no token file in $(ls /mnt/key | tr '\n' ' ')"
		elif [ -f /vusbkey/token.pst ]; then
			check kmod-token cmp "$token" /vusbkey/token.pst
		else
			check kmod-token sh -c "[ -s '$token' ] && cat '$token' > /dev/null"
		fi
		umount /mnt/key
	else
		fail kmod-mount-ro "mount failed"
	fi
	# A read-write mount is refused, or falls back to read-only.
	if full; then
		if mount -t vfat "/dev/$sd" /mnt/rw 2> /dev/null; then
			check kmod-mount-rw-refused sh -c "grep ' /mnt/rw ' /proc/mounts | grep -q '[ ,]ro[ ,]'"
			umount /mnt/rw
		else
			pass kmod-mount-rw-refused "mount refused"
		fi
	fi
	# Writes: refused by the block layer (disk is read-only), and by the device itself once
	# the block layer is told the disk is writable: WRITE gets an I/O error (DATA PROTECT).
	check kmod-write-refused sh -c "! dd if=/dev/zero of=/dev/$sd bs=512 count=1 oflag=direct 2>/dev/null"
	blockdev --setrw "/dev/$sd"
	check kmod-write-eio sh -c "! dd if=/dev/zero of=/dev/$sd bs=4096 count=4 seek=1 oflag=direct 2>/dev/null"
	blockdev --setro "/dev/$sd"
	echo 3 > /proc/sys/vm/drop_caches
	check kmod-unchanged-after-write sh -c "dd if=/dev/$sd bs=64k iflag=direct 2>/dev/null | sha256sum | grep -q ^$IMG_SHA"
fi

# ---- unplug and replug ----

echo 0 > $PDEV/connected
check kmod-unplug-gone wait_for 10 no_disk vusbkey
check kmod-unplug-attr attr_is $PDEV/connected 0
check kmod-unplug-no-usb-dev wait_for 10 no_usb_dev 1209 0001
echo 1 > $PDEV/connected
check kmod-replug-back wait_for 10 disk_of vusbkey
sd=$(disk_of vusbkey)
check kmod-replug-sha256 sh -c "sha256sum /dev/$sd | grep -q ^$IMG_SHA"
check kmod-connected-bad-value sh -c "! echo maybe > $PDEV/connected"

# Unplug/replug storm while a reader runs: the disk must come back intact, nothing may hang.
if full; then
	(while :; do
		d=$(disk_of vusbkey) && dd if=/dev/$d of=/dev/null bs=64k iflag=direct 2> /dev/null
		sleep 0.05
	done) &
	storm_reader=$!
	i=0
	while [ $i -lt 10 ]; do
		echo 0 > $PDEV/connected
		sleep 0.$((i % 4))
		echo 1 > $PDEV/connected
		sleep 0.$(((i + 2) % 5))
		i=$((i + 1))
	done
	kill $storm_reader
	wait $storm_reader 2> /dev/null
	check kmod-storm-back wait_for 15 disk_of vusbkey
	sd=$(disk_of vusbkey)
	check kmod-storm-sha256 sh -c "sha256sum /dev/$sd | grep -q ^$IMG_SHA"
fi

# ---- power management (CONFIG_PM): autosuspend of the root hub and of the device, system
# sleep with /sys/power/pm_test=devices (every device suspended and resumed by the PM core,
# no wake-up source needed) ----

# disk_is_image: the whole key disk, read with O_DIRECT, hashes to the image.
disk_is_image() {
	d=$(disk_of vusbkey) || return 1
	dd if=/dev/$d bs=64k iflag=direct 2> /dev/null | sha256sum | grep -q "^$IMG_SHA"
}

# all_root_hubs_suspended: every root hub of the module is runtime-suspended.
all_root_hubs_suspended() {
	for hub in $PDEV/usb*; do
		attr_is "$hub/power/runtime_status" suspended || return 1
	done
}

# pm_log_clean: no PM core, vusbkey or USB device line since the mark reports a failure.
pm_log_clean() {
	bad=$(log_since_mark | grep -E 'PM:|vusbkey|usb [0-9]' | grep -iE 'fail|error|timeout')
	[ -z "$bad" ] || {
		echo "$bad" | head -n 1
		return 1
	}
}

if full; then
	if [ -f /sys/power/pm_test ]; then
		progress "kmod: autosuspend and system sleep"
		mark_log
		# The root hub the device is on; at SuperSpeed the other, empty one suspends too.
		rh=$(readlink -f "$PDEV/usb$(key_bus)")
		echo 0 > $PDEV/connected
		check kmod-rh-autosuspend wait_for 10 attr_is "$rh/power/runtime_status" suspended
		check kmod-rh-autosuspend-all wait_for 10 all_root_hubs_suspended
		echo 1 > $PDEV/connected
		check kmod-rh-resume-on-connect wait_for 10 disk_of vusbkey
		# The device suspends when no driver holds it (as when it waits for a VM): take the
		# interface from usb-storage, allow autosuspend; the idle root hub follows.
		dev=$(usb_dev 1209 0001)
		intf=${dev##*/}:1.0
		echo "$intf" > /sys/bus/usb/drivers/usb-storage/unbind
		echo 0 > "$dev/power/autosuspend_delay_ms"
		echo auto > "$dev/power/control"
		check kmod-dev-autosuspend wait_for 10 attr_is "$dev/power/runtime_status" suspended
		check kmod-dev-autosuspend-rh wait_for 10 attr_is "$rh/power/runtime_status" suspended
		check kmod-sleep-while-suspended sleep_cycle
		check kmod-sleep-while-suspended-still wait_for 10 attr_is "$dev/power/runtime_status" suspended
		echo "$intf" > /sys/bus/usb/drivers/usb-storage/bind
		check kmod-dev-resume-on-bind wait_for 10 disk_of vusbkey
		check kmod-dev-resume-read wait_for 10 disk_is_image
		echo on > "$dev/power/control"
		check kmod-dev-active attr_is "$dev/power/runtime_status" active
		# System sleep with the disk in use: a reader before and after, the data intact.
		check kmod-sleep-in-use sleep_cycle
		check kmod-sleep-in-use-read wait_for 10 disk_is_image
		check kmod-pm-log-clean pm_log_clean
	else
		fail kmod-pm "the debug kernel has no /sys/power/pm_test (CONFIG_PM, CONFIG_SUSPEND, CONFIG_PM_DEBUG)"
	fi
fi
check kmod-rmmod rmmod vusbkey

# ---- parameters ----

if full; then
	progress "kmod: parameters"

	if load vendor_id=0x1234 product_id=0xabcd serial=0123456789ABCDEF manufacturer=Acme 'product="Key X"' > /dev/null; then
		dev=$(usb_dev 1234 abcd)
		check kmod-param-ids test -n "$dev"
		check kmod-param-serial attr_is "$dev/serial" 0123456789ABCDEF
		check kmod-param-manufacturer attr_is "$dev/manufacturer" Acme
		check kmod-param-product attr_is "$dev/product" "Key X"
	else
		fail kmod-param-ids "load with parameters failed"
	fi
	unload
	# Each must fail insmod with a kernel log line naming the problem.
	# Two serials for a module with one port (one image).
	for bad in serial=12345 serial=0123456789ABCDEG serial= serial=0123456789ABCDEF,0123456789ABCDEF vendor_id=0x10000 product_id=-1; do
		mark_log
		if insmod "$KO" $KMOD_PARAMS "$bad" 2> /dev/null; then
			fail "kmod-param-invalid-$bad" "insmod succeeded"
			unload
		else
			check "kmod-param-invalid-$bad" new_log_has vusbkey
		fi
	done
fi

# ---- rmmod at awkward moments ----

progress "kmod: $CYCLES insmod/rmmod cycles, rmmod while busy"

# Load/unload cycles: mostly straight away (mid-enumeration), every 10th with the disk up.
ok=0
t0=$(now)
i=0
while [ $i -lt $CYCLES ]; do
	insmod "$KO" $KMOD_PARAMS || break
	[ $((i % 10)) = 9 ] && { wait_for 10 disk_of vusbkey || break; }
	rmmod vusbkey || break
	i=$((i + 1))
	ok=$i
done
if [ $ok = $CYCLES ]; then
	pass kmod-cycles "$CYCLES insmod/rmmod in $(seconds_between "$t0" "$(now)")s"
else
	fail kmod-cycles "stopped at cycle $ok"
	unload
fi

if full; then
	# rmmod with the file system mounted.
	if load > /dev/null && mount -t vfat -o ro "/dev/$(disk_of vusbkey)" /mnt/key; then
		check kmod-rmmod-mounted timeout 60 rmmod vusbkey
		ls -R /mnt/key > /dev/null 2>&1
		check kmod-umount-after-rmmod umount /mnt/key
	else
		fail kmod-rmmod-mounted "could not load and mount"
	fi
	unload
fi

# rmmod while readers run (direct and buffered I/O).
if load > /dev/null; then
	sd=$(disk_of vusbkey)
	(while dd if=/dev/$sd of=/dev/null bs=128k iflag=direct 2> /dev/null; do :; done) &
	r1=$!
	(while dd if=/dev/$sd of=/dev/null bs=4k 2> /dev/null; do echo 3 > /proc/sys/vm/drop_caches; done) &
	r2=$!
	sleep 1
	check kmod-rmmod-reading timeout 60 rmmod vusbkey
	# The readers must end by themselves once the disk is gone; a watchdog kills them
	# after 60 s (a reader stuck in the kernel would hang the suite: the VM limit catches it).
	(sleep 60; kill $r1 $r2 2> /dev/null) &
	dog=$!
	wait $r1
	s1=$?
	wait $r2
	s2=$?
	kill $dog 2> /dev/null
	if [ $s1 -lt 128 ] && [ $s2 -lt 128 ]; then
		pass kmod-readers-end
	else
		fail kmod-readers-end "readers still running 60 s after rmmod (status $s1/$s2)"
	fi
	kill $r1 $r2 2> /dev/null
else
	fail kmod-rmmod-reading "could not load"
fi
unload

if full; then
	# rmmod with the device open through usbdevfs.
	if load > /dev/null; then
		dev=$(usb_dev 1209 0001)
		node=$(printf '/dev/bus/usb/%03d/%03d' "$(cat "$dev/busnum")" "$(cat "$dev/devnum")")
		(exec 3< "$node"; sleep 5) &
		holder=$!
		sleep 0.5
		check kmod-rmmod-usbfs-open timeout 60 rmmod vusbkey
		kill $holder 2> /dev/null
		wait $holder 2> /dev/null
	else
		fail kmod-rmmod-usbfs-open "could not load"
	fi
	unload
fi

# ---- differential against dummy_hcd + g_mass_storage (ro=1), and timings ----

if full; then
	progress "kmod: differential against dummy_hcd + g_mass_storage"

	ref_loaded=1
	for m in configfs udc-core libcomposite usb_f_mass_storage dummy_hcd; do
		args=
		[ $m = dummy_hcd ] && [ "$SPEED" = super ] && args=is_super_speed=1
		insmod "$REF/$m.ko" $args 2> /dev/null || grep -q "^$(echo $m | tr - _) " /proc/modules || ref_loaded=0
	done
	t0=$(now)
	insmod "$REF/g_mass_storage.ko" file=$IMG ro=1 removable=0 || ref_loaded=0
	if [ $ref_loaded = 1 ] && wait_for 20 disk_of dummy_hcd; then
		ref_secs=$(seconds_between "$t0" "$(now)")
		our_secs=$(load)
		pass kmod-insmod-to-disk "vusbkey ${our_secs}s, dummy_hcd+g_mass_storage ${ref_secs}s"
		ours=$(disk_of vusbkey)
		ref=$(disk_of dummy_hcd)
		scsi_differential kmod "$ours" "$ref" "$DEF_SERIAL"
		# Read rate, same VM, same image: direct I/O, 1 MiB requests.
		for who in ours ref; do
			eval d=\$$who
			t0=$(now)
			dd if=/dev/$d of=/dev/null bs=1M iflag=direct 2> /dev/null
			eval ${who}_rate=$(awk -v s="$IMG_SIZE" -v t="$(seconds_between "$t0" "$(now)")" \
				'BEGIN { if (t <= 0) t = 0.01; printf "%.1f", s / 1048576 / t }')
		done
		pass kmod-read-rate "vusbkey ${ours_rate} MiB/s, dummy_hcd+g_mass_storage ${ref_rate} MiB/s ($((IMG_SIZE / 1024)) KiB image)"
		unload
		rmmod g_mass_storage
	else
		fail kmod-diff-reference "reference gadget did not come up"
	fi
fi
kernel_log_clean kmod-log-final

# ---- allocation failures during insmod ----

if full; then
	progress "kmod: allocation failures during insmod"

	# failslab with a budget: the loading task's slab allocations succeed until they have used
	# SPACE bytes, then all fail. The budgets below end inside module init, probe, HCD or root
	# hub setup (for a module of this size; smaller ones fail in load_module). Each load must
	# fail cleanly or work normally (and unload). Failed allocations make the kernel print stack
	# traces (warn_alloc), so this part comes last and checks the log itself, without
	# "Call Trace", and kmemleak.
	FS=/sys/kernel/debug/failslab
	if [ -d $FS ]; then
		echo 0 > $FS/verbose
		echo N > $FS/ignore-gfp-wait
		echo Y > $FS/task-filter
		echo 1 > $FS/interval
		echo -1 > $FS/times
		mark_log
		broken=""
		refused=0
		loaded=0
		for space in $(seq 98304 8192 163840); do
			echo "$space" > $FS/space
			echo 100 > $FS/probability
			sh -c "echo 1 > /proc/self/make-it-fail && exec insmod $KO $KMOD_PARAMS" 2> /dev/null
			rc=$?
			echo 0 > $FS/probability
			if [ $rc = 0 ]; then
				loaded=$((loaded + 1))
				rmmod vusbkey || broken="$broken rmmod@$space"
			else
				refused=$((refused + 1))
				grep -q '^vusbkey ' /proc/modules && broken="$broken left-loaded@$space"
			fi
		done
		inits=$(log_since_mark | grep -c 'vusbkey .* loaded: ')
		reports=$(log_since_mark |
			grep -E 'BUG:|WARNING:|Oops|KASAN|lockdep|inconsistent lock|general protection|refcount' | head -n 1)
		leaks=0
		if [ -w /sys/kernel/debug/kmemleak ]; then
			echo scan > /sys/kernel/debug/kmemleak
			echo scan > /sys/kernel/debug/kmemleak
			leaks=$(grep -c 'unreferenced object' /sys/kernel/debug/kmemleak)
		fi
		if [ -n "$broken$reports" ] || [ "$leaks" != 0 ]; then
			[ "$leaks" != 0 ] && cat /sys/kernel/debug/kmemleak
			fail kmod-failslab "${broken}${reports} leaks=$leaks"
		else
			pass kmod-failslab "$refused loads failed cleanly ($inits inside init), $loaded loaded"
		fi
		unload
	else
		fail kmod-failslab "no failslab in debugfs (the debug kernel must have CONFIG_FAILSLAB)"
	fi
fi
