# ports: one vusbkey.ko carrying three images, one root-hub port each (issue 16). Sourced by
# /init after /vusbkey/lib.sh. Needs /vusbkey/ports/: vusbkey.ko (built with three
# `--image`s), image1.img .. image3.img (port order; 2 and 3 large enough to time reads),
# and the manifest `cargo xtask kmod` wrote beside the module (vusbkey.ports); the `hostile`
# and `diskread` programs; `image-builder`.
# Each port's device has its image's serial and its disk hashes to its image; `ports/N/`
# in sysfs says so; per-port `serial=`; unplugging port 2 leaves ports 1 and 3 reading;
# hostile traffic on port 1 while ports 2 and 3 are read: their reads finish, hash right,
# and keep at least half their throughput with port 1 idle; rmmod under reads on every
# port; the kernel log.
# vusbkey-module: ports
# vusbkey-timeout: 1200

DIR=/vusbkey/ports
KO=$DIR/vusbkey.ko
PDEV=/sys/devices/platform/vusbkey
PORTS="1 2 3"
# Seconds of each timed read.
READ_SECS=10

sha_of() { sha256sum "$DIR/image$1.img" | cut -d' ' -f1; }
serial_of() { sha_of "$1" | cut -c1-16 | tr a-f A-F; }

echo 0 > /sys/module/usb_storage/parameters/delay_use

# port_dev N: the sysfs directory of the device on root-hub port N.
port_dev() { [ -d "/sys/bus/usb/devices/$(key_bus)-$1" ] && echo "/sys/bus/usb/devices/$(key_bus)-$1"; }
# port_disk N: the sdX of the device on port N.
port_disk() { disk_of "/usb$(key_bus)/$(key_bus)-$1/"; }
no_port_disk() { ! port_disk "$1"; }
no_port_dev() { ! port_dev "$1"; }
# all_disks: every port has its disk.
all_disks() { for n in $PORTS; do port_disk $n > /dev/null || return 1; done; }
# port_hash_ok N: port N's whole disk, read with O_DIRECT, hashes to its image.
port_hash_ok() {
	local sd
	sd=$(port_disk "$1") || return 1
	[ "$(disk_hash "$sd" iflag=direct)" = "$(sha_of "$1")" ]
}
disk_hash() { dd if="/dev/$1" bs=64k "$2" 2> /dev/null | sha256sum | cut -d' ' -f1; }
# usbfs_node N: /dev/bus/usb/BBB/DDD of port N's device.
usbfs_node() {
	local d
	d=$(port_dev "$1") || return 1
	printf '/dev/bus/usb/%03d/%03d\n' "$(cat "$d/busnum")" "$(cat "$d/devnum")"
}
# read_rate N OUT: random 128 KiB O_DIRECT reads of port N's disk for READ_SECS seconds, in
# the background ($! is its pid); the MiB/s goes to OUT.
read_rate() {
	(diskread --pattern random --block 131072 --seconds $READ_SECS --seed "$1" "/dev/$(port_disk "$1")" |
		sed -n 's/.*mib_per_s=\([0-9.]*\).*/\1/p' > "$2") &
}

progress "ports: three images, three ports"

if insmod $KO && wait_for 20 all_disks; then
	pass ports-insmod "three disks on bus $(key_bus)"
else
	fail ports-insmod "$(dmesg | grep vusbkey | tail -n 3 | tr '\n' ' ')"
fi
check ports-load-logged sh -c "dmesg | grep -q 'vusbkey.*loaded: 3 port(s)'"
for n in $PORTS; do
	check ports-$n-sysfs-sha256 attr_is $PDEV/ports/$n/image_sha256 "$(sha_of $n)"
	check ports-$n-sysfs-size attr_is $PDEV/ports/$n/image_size "$(stat -c %s $DIR/image$n.img)"
	check ports-$n-sysfs-connected attr_is $PDEV/ports/$n/connected 1
	check ports-$n-serial attr_is "$(port_dev $n)/serial" "$(serial_of $n)"
	check ports-$n-hash port_hash_ok $n
done
check ports-no-port-4 test ! -e $PDEV/ports/4
check ports-port-1-on-device attr_is $PDEV/image_sha256 "$(sha_of 1)"
check ports-hub-ports attr_is "$PDEV/usb$(key_bus)/maxchild" 3
check ports-sysfs-ro sh -c "! echo x > $PDEV/ports/2/image_sha256"

# The manifest `cargo xtask kmod` wrote: a line per port with its image's hash.
for n in $PORTS; do
	check ports-$n-manifest sh -c "awk -F '\t' '\$1 == $n { print \$5 }' $DIR/vusbkey.ports | grep -qx $(sha_of $n)"
done
# `image-builder ports` reads the same from this host's sysfs and disks, with each port's
# USB bus id (QEMU's hostbus and hostport).
if image-builder ports > /tmp/ports.out 2>&1; then
	pass ports-inspect "$(tr '\t' ' ' < /tmp/ports.out | tr '\n' ';')"
	for n in $PORTS; do
		check ports-$n-inspect sh -c "awk -F '\t' '\$1 == $n { print \$2, \$5 }' /tmp/ports.out | grep -qx '$(key_bus)-$n $(sha_of $n)'"
	done
else
	fail ports-inspect "$(cat /tmp/ports.out)"
fi

# ---- unplug port 2: ports 1 and 3 go on ----

progress "ports: unplug port 2"
echo 0 > $PDEV/ports/2/connected
check ports-2-unplug-gone wait_for 10 no_port_disk 2
check ports-2-unplug-attr attr_is $PDEV/ports/2/connected 0
check ports-2-unplug-no-device no_port_dev 2
check ports-2-unplug-1-reads port_hash_ok 1
check ports-2-unplug-3-reads port_hash_ok 3
check ports-2-unplug-1-attr attr_is $PDEV/ports/1/connected 1
echo 1 > $PDEV/ports/2/connected
check ports-2-replug wait_for 10 port_disk 2
check ports-2-replug-hash port_hash_ok 2
check ports-connected-bad-value sh -c "! echo maybe > $PDEV/ports/3/connected"
# Port 1's attribute on the device is port 1's.
echo 0 > $PDEV/connected
check ports-1-unplug-device-attr wait_for 10 no_port_disk 1
check ports-1-unplug-2-reads port_hash_ok 2
echo 1 > $PDEV/connected
check ports-1-replug wait_for 10 port_disk 1

# ---- hostile traffic on port 1 while ports 2 and 3 are read ----

progress "ports: isolation (reads of ports 2 and 3, port 1 idle, then under hostile traffic)"
read_rate 2 /tmp/idle2
r2=$!
read_rate 3 /tmp/idle3
r3=$!
wait $r2 $r3
hostile_traffic_settings 100000
node=$(usbfs_node 1)
hostile --device "$node" run --image $DIR/image1.img --seed "$seed" --seconds 600 --round-ops 20 --trace > /tmp/hostile.log 2>&1 &
hostile_pid=$!
# The attacker's own work (generating and checking its ops) is its VM's CPU on a real host,
# not the host's: here it shares this VM's CPU with the readers, so it runs niced. The
# kernel's work for its traffic (usbfs, port 1's worker) is not.
renice -n 10 -p $hostile_pid > /dev/null
# hostile_ops: the ops the hostile run has started so far (`--trace` prints each).
hostile_ops() { grep -c '^hostile: [0-9]*\.[0-9]*\.[0-9]* ' /tmp/hostile.log; }
# Reads start once the first round has finished: its traffic is under way.
wait_for 60 grep -q '^hostile: round 1 ok' /tmp/hostile.log
ops_before=$(hostile_ops)
read_rate 2 /tmp/busy2
r2=$!
read_rate 3 /tmp/busy3
r3=$!
wait $r2 $r3
ops_during=$(($(hostile_ops) - ${ops_before:-0}))
hostile_alive=0
kill -0 $hostile_pid 2> /dev/null && hostile_alive=1
# SIGTERM asks it to stop after the op in flight, check the device and give the interface
# back (a default SIGTERM during a probe of usb-storage it caused would trip a SCSI
# core leak: tests/vmtools/src/stop.rs).
kill -TERM $hostile_pid 2> /dev/null
wait $hostile_pid
hostile_rc=$?
for n in 2 3; do
	idle=$(cat /tmp/idle$n)
	busy=$(cat /tmp/busy$n)
	detail="port $n: ${idle:-?} MiB/s with port 1 idle, ${busy:-?} MiB/s under hostile traffic on port 1 ($ops_during ops, seed $seed)"
	progress "  $detail"
	if [ -z "$idle" ] || [ -z "$busy" ]; then
		fail ports-$n-isolation "a read failed: $detail"
	elif awk -v i="$idle" -v b="$busy" 'BEGIN { exit !(b >= 0.5 * i) }'; then
		pass ports-$n-isolation "$detail"
	else
		fail ports-$n-isolation "below half: $detail"
	fi
	check ports-$n-hash-after-hostile port_hash_ok $n
done
if [ $hostile_alive = 1 ] && [ -n "$ops_before" ] && [ $ops_during -gt 0 ]; then
	pass ports-hostile-ran "hostile traffic on port 1 ran throughout: $ops_during ops started during the reads"
else
	fail ports-hostile-ran "the hostile run ended early: $(tail -n 3 /tmp/hostile.log | tr '\n' ' ')"
fi
if [ $hostile_rc = 0 ] && grep -q '^hostile: PASS (stopped by a signal)' /tmp/hostile.log; then
	pass ports-hostile-stopped "$(grep -m 1 -e 'stopped before op' -e '^hostile: PASS' /tmp/hostile.log)"
else
	fail ports-hostile-stopped "exit $hostile_rc: $(tail -n 3 /tmp/hostile.log | tr '\n' ' ')"
fi
# It gave the interface back: usb-storage has port 1 again without an unplug.
check ports-1-back wait_for 30 port_hash_ok 1

# ---- per-port serial=, and their refusals ----

rmmod vusbkey
if insmod $KO serial=0123456789ABCDEF,FEDCBA9876543210 && wait_for 20 all_disks; then
	check ports-serial-1 attr_is "$(port_dev 1)/serial" 0123456789ABCDEF
	check ports-serial-2 attr_is "$(port_dev 2)/serial" FEDCBA9876543210
	check ports-serial-3-default attr_is "$(port_dev 3)/serial" "$(serial_of 3)"
else
	fail ports-serial-1 "insmod with two serials failed"
fi
rmmod vusbkey
if insmod $KO serial=0123456789ABCDEF,0123456789ABCDEF,0123456789ABCDEF,0123456789ABCDEF 2> /dev/null; then
	fail ports-serial-too-many "insmod took 4 serials for 3 ports"
	rmmod vusbkey
else
	check ports-serial-too-many sh -c "dmesg | grep -q 'serial= gives 4 serial numbers, but the module has 3 port(s)'"
fi

# ---- rmmod while every port is read ----

insmod $KO && wait_for 20 all_disks
readers=
for n in $PORTS; do
	sd=$(port_disk $n)
	(while :; do dd if=/dev/$sd of=/dev/null bs=64k iflag=direct 2> /dev/null; done) &
	readers="$readers $!"
done
sleep 2
check ports-rmmod-under-reads timeout 60 rmmod vusbkey
kill $readers 2> /dev/null
wait $readers 2> /dev/null
check ports-rmmod-gone sh -c "! test -e $PDEV"

kernel_log_clean ports-kernel-log
