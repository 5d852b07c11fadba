# usbip: Debian 12's stock kernel, where vusbkey-usbip serves the key disk to vhci-hcd over
# USB/IP (issue 13). Sourced by /init after /vusbkey/lib.sh. Needs: the stock kernel's
# modules under /lib/modules/$(uname -r) (load_module), /vusbkey/image.img and its token
# /vusbkey/token.pst, vusbkey-usbip (the demo image compiled in), /vusbkey/ports/image1.img
# .. image3.img (keys for VM_UUID, OTHER_UUID and THIRD_UUID of /vusbkey/e2e.env), the
# usbip tools and sg3-utils on PATH, and the host role of qemu/host.sh (QEMU, the monitor,
# a guest VM).
# vusbkey-flavour: stock
# vusbkey-timeout: 2400

IMG=/vusbkey/image.img
IMG_SHA=$(sha256sum "$IMG" | cut -d' ' -f1)
VHCI=/sys/devices/platform/vhci_hcd.0
. /vusbkey/e2e.env # VM_UUID (the demo token's VM), OTHER_UUID, THIRD_UUID
# Where `vusbkey-usbip attach` keeps its manifest by default.
MANIFEST=/run/vusbkey-usbip/ports

# ---- helpers ----

# vhci_ports_free: every port of vhci_hcd is free (status 004, VDEV_ST_NULL); prints the count.
vhci_ports_free() {
	ports=$(awk 'NR > 1' "$VHCI/status")
	busy=$(echo "$ports" | awk '$3 != "004"')
	[ -n "$ports" ] && [ -z "$busy" ] || {
		echo "busy: $busy"
		return 1
	}
	echo "$(echo "$ports" | grep -c '^hs') high-speed and $(echo "$ports" | grep -c '^ss') SuperSpeed ports"
}

# usbip_loopback BUSID: Linux's own USB/IP path on loopback: usbip-host exports the device
# BUSID, usbipd serves it, `usbip attach` imports it into vhci-hcd, where its disk must read
# as the image; then detach and unbind, and the device is back on its own driver.
usbip_loopback() {
	busid=$1
	ip link set lo up
	mkdir -p /var/run # usbip attach records the connection in /var/run/vhci_hcd
	check usbip-loopback-host-load load_module usbip-host
	usbipd -4 -D
	check usbip-loopback-bind usbip bind -b "$busid"
	check usbip-loopback-list-remote sh -c "usbip list -r 127.0.0.1 | grep -q '$busid: .*0525:a4a5'"
	check usbip-loopback-attach usbip attach -r 127.0.0.1 -b "$busid"
	check usbip-loopback-attached-disk wait_for 20 disk_of vhci_hcd
	sd=$(disk_of vhci_hcd)
	check usbip-loopback-attached-sha256 sh -c "sha256sum /dev/$sd | grep -q ^$IMG_SHA"
	port=$(usbip port | sed -n 's/^Port \([0-9]*\): <Port in Use>.*/\1/p' | head -n 1)
	check usbip-loopback-port-in-use test -n "$port"
	check usbip-loopback-detach usbip detach -p "${port:-0}"
	check usbip-loopback-detached-disk-gone wait_for 10 no_disk vhci_hcd
	check usbip-loopback-ports-free-again vhci_ports_free
	check usbip-loopback-unbind usbip unbind -b "$busid"
	check usbip-loopback-rebound-disk wait_for 20 disk_of dummy_hcd
	killall usbipd
}

# ---- vusbkey-usbip ----

SERIAL=$(echo "$IMG_SHA" | cut -c1-16 | tr a-f A-F)
ID=1209:0001
USBIP_LOG=/tmp/vusbkey-usbip.log
hostile_traffic_settings 600

# usbip_start [OPTION...]: `vusbkey-usbip attach` in the background (the compiled-in demo
# image), and waits for its disk.
usbip_start() {
	vusbkey-usbip attach "$@" >> "$USBIP_LOG" 2>&1 &
	USBIP_PID=$!
	wait_for 30 disk_of vhci_hcd
}

# exited PID: the process has ended (gone, or a zombie not yet waited for).
exited() { [ ! -e "/proc/$1" ] || grep -q '^[0-9]* ([^)]*) Z' "/proc/$1/stat"; }

# usbip_stopped: the server has exited and its port and disk are gone.
usbip_stopped() {
	exited "$USBIP_PID" && no_disk vhci_hcd && vhci_ports_free > /dev/null
}

# disk_hash SD [dd options]: the whole disk's sha256.
disk_hash() {
	sd=$1
	shift
	dd if="/dev/$sd" bs=1M "$@" 2> /dev/null | sha256sum | cut -d' ' -f1
}

# usb_disk BUSID: the sdX of the USB device BUSID (`B-P`).
usb_disk() {
	local found
	found=$(ls /sys/bus/usb/devices/$1/$1:1.0/host*/target*/*/block 2> /dev/null | head -n 1)
	[ -n "$found" ] && echo "$found"
}

# manifest_field FILE SHA256 N: field N of the manifest line of the image SHA256.
manifest_field() {
	awk -F '\t' -v sha="$2" -v n="$3" 'NR > 1 && $5 == sha { print $n }' "$1"
}

# reads_until_error SD: reads the disk over and over until a read fails; exits 1 then.
reads_until_error() {
	while dd if="/dev/$1" of=/dev/null bs=4k iflag=direct 2> /dev/null; do :; done
	return 1
}

# usbip_attach_checks REF: vusbkey-usbip attached to vhci-hcd, the same device as the module,
# against the reference disk REF (sdX of f_mass_storage on dummy_hcd).
usbip_attach_checks() {
	ref=$1
	progress "usbip: vusbkey-usbip attach: enumeration, reads, writes, differential"
	if ! usbip_start; then
		fail usbip-attach "no disk within 30 s: $(tail -n 2 $USBIP_LOG | tr '\n' ' ')"
		return
	fi
	pass usbip-attach "$(grep attached $USBIP_LOG | tail -n 1)"
	# As root it may force its socket's send buffer past net.core.wmem_max.
	check usbip-send-buffer-full sh -c "! grep -q 'send buffer capped' $USBIP_LOG"
	sd=$(disk_of vhci_hcd)
	dev=$(usb_dev 1209 0001)
	check usbip-enum-ids test -n "$dev"
	check usbip-enum-serial attr_is "$dev/serial" "$SERIAL"
	check usbip-enum-manufacturer attr_is "$dev/manufacturer" vusbkey
	check usbip-enum-product attr_is "$dev/product" "vusbkey authentication key"
	# SuperSpeed by default: usb-storage then sends up to 2048 sectors per command.
	check usbip-enum-speed attr_is "$dev/speed" 5000
	check usbip-enum-ss-hub sh -c "grep -q '^ss .* ${dev##*/} *\$' $VHCI/status"
	check usbip-max-transfer attr_is "/sys/block/$sd/queue/max_hw_sectors_kb" 1024
	intf=$dev/${dev##*/}:1.0
	check usbip-enum-interface sh -c "[ \"\$(cat $intf/bInterfaceClass $intf/bInterfaceSubClass $intf/bInterfaceProtocol | tr '\n' ' ')\" = '08 06 50 ' ]"
	check usbip-log-names-the-device grep -q "usb ${dev##*/}\$" "$USBIP_LOG"
	# The manifest: the key's line, its device's bus id, the token's VM.
	check usbip-manifest-lines sh -c "[ \$(wc -l < $MANIFEST) = 2 ]"
	check usbip-manifest-usb sh -c "[ '$(manifest_field $MANIFEST "$IMG_SHA" 2)' = ${dev##*/} ]"
	check usbip-manifest-vm sh -c "[ '$(manifest_field $MANIFEST "$IMG_SHA" 3)' = $VM_UUID ]"
	check usbip-sha256 sh -c "[ $(disk_hash "$sd") = $IMG_SHA ]"
	check usbip-sha256-direct sh -c "[ $(disk_hash "$sd" iflag=direct) = $IMG_SHA ]"
	check usbip-disk-ro attr_is "/sys/block/$sd/ro" 1
	mkdir -p /mnt/key
	if mount -t vfat -o ro "/dev/$sd" /mnt/key; then
		token=$(find /mnt/key -type f | grep -i -E 'token|\.pst$' | head -n 1)
		check usbip-mount-token cmp "$token" /vusbkey/token.pst
		umount /mnt/key
	else
		fail usbip-mount-token "mounting the key disk failed"
	fi
	check usbip-write-refused sh -c "! dd if=/dev/zero of=/dev/$sd bs=512 count=1 oflag=direct 2> /dev/null"
	sg=/dev/$(ls "/sys/block/$sd/device/scsi_generic/")
	check usbip-write-data-protect sh -c "sg_raw -s 512 -i /dev/zero $sg 2a 00 00 00 00 00 00 00 01 00 2>&1 | grep -qi 'data protect'"
	check usbip-unchanged-after-writes sh -c "[ $(disk_hash "$sd" iflag=direct) = $IMG_SHA ]"
	scsi_differential usbip "$sd" "$ref" "$SERIAL"
	kernel_log_clean usbip-attach-log-clean
}

# usbip_high_speed_checks: `--speed high` puts the device on vhci-hcd's USB 2.0 hub, for VMs
# without USB 3 ports; it reads the same.
usbip_high_speed_checks() {
	progress "usbip: vusbkey-usbip attach --speed high"
	if ! usbip_start --speed high; then
		fail usbip-high-speed "no disk within 30 s: $(tail -n 2 $USBIP_LOG | tr '\n' ' ')"
		return
	fi
	sd=$(disk_of vhci_hcd)
	dev=$(usb_dev 1209 0001)
	check usbip-high-speed attr_is "$dev/speed" 480
	check usbip-high-speed-hs-hub sh -c "grep -q '^hs .* ${dev##*/} *\$' $VHCI/status"
	check usbip-high-speed-max-transfer attr_is "/sys/block/$sd/queue/max_hw_sectors_kb" 120
	check usbip-high-speed-sha256 sh -c "[ $(disk_hash "$sd" iflag=direct) = $IMG_SHA ]"
	kill "$USBIP_PID"
	check usbip-high-speed-stopped wait_for 20 usbip_stopped
	wait "$USBIP_PID"
	kernel_log_clean usbip-high-speed-log-clean
}

# usbip_hostile_checks: seeded malformed traffic through usbdevfs against the vhci-attached
# device, as the hostile suite attacks the module.
usbip_hostile_checks() {
	progress "usbip: hostile traffic against the vhci-attached device, seed $seed, $budget"
	check usbip-hostile-baseline hostile --device $ID check --image $IMG
	check usbip-hostile-nak hostile --device $ID nak --image $IMG
	{
		hostile --device $ID run --image $IMG --seed "$seed" $budget 2>&1
		echo $? > /tmp/usbip-hostile.rc
	} | tee /tmp/usbip-hostile.log
	if [ "$(cat /tmp/usbip-hostile.rc)" = 0 ]; then
		pass usbip-hostile-traffic "$(grep -E 'PASS|ops=' /tmp/usbip-hostile.log | tail -n 1)"
	else
		fail usbip-hostile-traffic "exit $(cat /tmp/usbip-hostile.rc): $(tail -n 1 /tmp/usbip-hostile.log)"
	fi
	check usbip-hostile-server-alive kill -0 "$USBIP_PID"
	check usbip-hostile-disk-back wait_for 30 disk_of vhci_hcd
	check usbip-hostile-image-intact sh -c "[ $(disk_hash "$(disk_of vhci_hcd)" iflag=direct) = $IMG_SHA ]"
	kernel_log_clean usbip-hostile-log-clean
}

# usbip_kill_checks: kill -9 in the middle of reads (an unplug: readers get I/O errors, no
# kernel report), a restart that reads whole, and SIGTERM (a clean detach).
usbip_kill_checks() {
	progress "usbip: kill -9 in the middle of reads, restart, SIGTERM"
	sd=$(disk_of vhci_hcd)
	reads_until_error "$sd" &
	reader=$!
	sleep 1
	kill -9 "$USBIP_PID"
	check usbip-kill9-unplugged wait_for 20 usbip_stopped
	if wait_for 20 exited "$reader"; then
		wait "$reader"
		rc=$?
		[ $rc != 0 ] && pass usbip-kill9-reader-error "the reader stopped with exit $rc" ||
			fail usbip-kill9-reader-error "the reader exited 0"
	else
		kill "$reader"
		fail usbip-kill9-reader-error "the reader still runs 20 s after the kill"
	fi
	kernel_log_clean usbip-kill9-log-clean
	if usbip_start; then
		check usbip-restart-sha256 sh -c "[ $(disk_hash "$(disk_of vhci_hcd)" iflag=direct) = $IMG_SHA ]"
	else
		fail usbip-restart-sha256 "no disk after the restart: $(tail -n 2 $USBIP_LOG | tr '\n' ' ')"
	fi
	kill -TERM "$USBIP_PID"
	check usbip-sigterm-detached wait_for 20 usbip_stopped
	wait "$USBIP_PID"
	rc=$?
	[ $rc = 0 ] && pass usbip-sigterm-exit-0 || fail usbip-sigterm-exit-0 "exit $rc"
	check usbip-sigterm-logged grep -q "detached" "$USBIP_LOG"
	check usbip-sigterm-manifest-removed test ! -e $MANIFEST
	kernel_log_clean usbip-sigterm-log-clean
}

# usbip_ports_checks: three keys in one `vusbkey-usbip attach`, one vhci-hcd port each: the
# manifest names each key's device, which reads as that key's image; SIGTERM detaches all.
usbip_ports_checks() {
	progress "usbip: three keys at once, one port each, and their manifest"
	manifest=/tmp/ports.manifest
	vusbkey-usbip attach --manifest $manifest --image /vusbkey/ports/image1.img \
		--image /vusbkey/ports/image2.img --image /vusbkey/ports/image3.img >> "$USBIP_LOG" 2>&1 &
	USBIP_PID=$!
	# Each line gets its bus id once its device is enumerated.
	if ! wait_for 60 sh -c "[ \$(awk -F '\t' 'NR > 1 && \$2 != \"-\"' $manifest 2> /dev/null | wc -l) = 3 ]"; then
		fail usbip-ports-manifest "$(cat $manifest 2>&1 | tr '\t\n' ' ;') $(tail -n 2 $USBIP_LOG | tr '\n' ' ')"
	else
		pass usbip-ports-manifest "$(tr '\t\n' ' ;' < $manifest)"
	fi
	n=1
	for vm in "$VM_UUID" "$OTHER_UUID" "$THIRD_UUID"; do
		sha=$(sha256sum /vusbkey/ports/image$n.img | cut -d' ' -f1)
		usb=$(manifest_field $manifest "$sha" 2)
		check usbip-ports-$n-vm sh -c "[ '$(manifest_field $manifest "$sha" 3)' = $vm ]"
		check usbip-ports-$n-disk wait_for 30 usb_disk "$usb"
		sd=$(usb_disk "$usb")
		check usbip-ports-$n-hash sh -c "[ -n '$sd' ] && [ $(disk_hash "$sd" iflag=direct) = $sha ]"
		n=$((n + 1))
	done
	kill -TERM "$USBIP_PID"
	check usbip-ports-stopped wait_for 30 usbip_stopped
	wait "$USBIP_PID"
	check usbip-ports-manifest-removed test ! -e $manifest
	kernel_log_clean usbip-ports-log-clean
}

# usbip_serve_checks: `vusbkey-usbip serve` on loopback for Linux's own usbip tools, and
# malformed clients that lose their connection while the server goes on.
usbip_serve_checks() {
	progress "usbip: vusbkey-usbip serve, usbip list/attach, malformed clients"
	ip link set lo up
	mkdir -p /var/run
	vusbkey-usbip serve > /tmp/serve.log 2>&1 &
	server=$!
	check usbip-serve-listening wait_for 10 grep -q 'listening on 127.0.0.1:3240' /tmp/serve.log
	check usbip-serve-list sh -c "usbip list -r 127.0.0.1 | grep -q '1-1: .*1209:0001'"
	# Garbage, a truncated header, a submit before any import, an unknown bus id.
	printf 'GET / HTTP/1.0\r\n\r\n' | nc -w 2 127.0.0.1 3240 > /tmp/garbage.out
	check usbip-serve-garbage-closed test ! -s /tmp/garbage.out
	printf '\001\021\200' | nc -w 2 127.0.0.1 3240 > /tmp/truncated.out
	check usbip-serve-truncated-closed test ! -s /tmp/truncated.out
	printf '\000\000\000\001\000\000\000\001' | nc -w 2 127.0.0.1 3240 > /tmp/submit.out
	check usbip-serve-submit-first-closed test ! -s /tmp/submit.out
	check usbip-serve-unknown-busid sh -c "! usbip attach -r 127.0.0.1 -b 9-9"
	check usbip-serve-malformed-logged sh -c "[ \$(grep -c 'connection closed' /tmp/serve.log) -ge 3 ]"
	check usbip-serve-still-serving kill -0 "$server"
	check usbip-serve-attach usbip attach -r 127.0.0.1 -b 1-1
	if wait_for 20 disk_of vhci_hcd; then
		sd=$(disk_of vhci_hcd)
		check usbip-serve-sha256 sh -c "[ $(disk_hash "$sd" iflag=direct) = $IMG_SHA ]"
		check usbip-serve-serial attr_is "$(usb_dev 1209 0001)/serial" "$SERIAL"
		check usbip-serve-busy sh -c "! usbip attach -r 127.0.0.1 -b 1-1"
		port=$(usbip port | sed -n 's/^Port \([0-9]*\): <Port in Use>.*/\1/p' | head -n 1)
		check usbip-serve-detach usbip detach -p "${port:-0}"
		check usbip-serve-detached wait_for 20 no_disk vhci_hcd
	else
		fail usbip-serve-sha256 "no disk after usbip attach"
	fi
	check usbip-serve-list-again sh -c "usbip list -r 127.0.0.1 | grep -q '1-1: '"
	kill "$server"
	kernel_log_clean usbip-serve-log-clean
}

# usbip_end_to_end: this VM as the hypervisor host (qemu/host.sh) with the key served by
# vusbkey-usbip: the guest VM the token is for gets the disk through QEMU `usb-host` and its
# agent accepts; a copy under another UUID is refused, and the monitor pauses it.
usbip_end_to_end() {
	progress "usbip: end to end, guest VMs with the key through usb-host (nested emulation)"
	. /vusbkey/host.sh
	if ! usbip_start; then
		fail usbip-e2e-attach "no disk within 30 s: $(tail -n 2 $USBIP_LOG | tr '\n' ' ')"
		return
	fi
	PRODUCT_ID=0001
	if ! start_monitor 600; then
		fail usbip-e2e-monitor "vusbkey-monitor did not start: $(tail -n 3 "$MONITOR_LOG")"
		return
	fi
	genuine_and_copy
	kill -TERM "$USBIP_PID"
	check usbip-e2e-detached wait_for 20 usbip_stopped
}

# ---- the kernel ----

progress "usbip: Debian's stock kernel, vhci-hcd, the configfs reference device"

# Debian's build, and the modules in /lib/modules are the running kernel's.
if uname -v | grep -q Debian && [ -f "/lib/modules/$(uname -r)/modules.dep" ]; then
	pass usbip-stock-kernel "$(uname -r) $(uname -v)"
else
	fail usbip-stock-kernel "$(uname -r) $(uname -v); /lib/modules has $(ls /lib/modules)"
fi

# The disk's stack is modules on Debian; a new disk appears at once (no 1 s settle delay).
storage_modules() { load_module usb-storage delay_use=0 && load_module sd_mod && load_module sg; }
check usbip-storage-modules storage_modules

# ---- vhci-hcd ----

if load_module vhci-hcd; then
	pass usbip-vhci-load
	check usbip-vhci-attach-file test -e "$VHCI/attach"
	check usbip-vhci-detach-file test -e "$VHCI/detach"
	if out=$(vhci_ports_free); then
		pass usbip-vhci-status "$out"
	else
		fail usbip-vhci-status "$out"
	fi
else
	fail usbip-vhci-load "modprobe vhci-hcd failed"
fi

# ---- Linux's reference device through the gadget configfs ----

if ref_gadget_up "$IMG"; then
	pass usbip-ref-up
	check usbip-ref-enumerated wait_for 20 disk_of dummy_hcd
	dev=$(usb_dev 0525 a4a5)
	check usbip-ref-ids test -n "$dev"
	sd=$(disk_of dummy_hcd)
	check usbip-ref-disk-ro sh -c "[ \"\$(cat /sys/block/$sd/ro)\" = 1 ]"
	check usbip-ref-sha256 sh -c "sha256sum /dev/$sd | grep -q ^$IMG_SHA"
	check usbip-ref-sg-inquiry sh -c "sg_inq /dev/$sd | grep -q 'PDT=0'"
	mkdir -p /mnt/key
	if load_module vfat && load_module nls_cp437 && load_module nls_ascii &&
		mount -t vfat -o ro "/dev/$sd" /mnt/key; then
		token=$(find /mnt/key -type f | grep -i -E 'token|\.pst$' | head -n 1)
		check usbip-ref-mount-token cmp "$token" /vusbkey/token.pst
		umount /mnt/key
	else
		fail usbip-ref-mount-token "mounting the FAT image failed"
	fi
	usbip_loopback "${dev##*/}"
	usbip_attach_checks "$(disk_of dummy_hcd)"
	usbip_hostile_checks
	usbip_kill_checks
	usbip_high_speed_checks
	usbip_ports_checks
	usbip_serve_checks
else
	fail usbip-ref-up "configfs gadget setup failed"
fi
if ref_gadget_down; then
	pass usbip-ref-down
else
	fail usbip-ref-down "configfs gadget teardown failed"
fi
check usbip-ref-disk-gone wait_for 10 no_disk dummy_hcd
check usbip-ref-configfs-gone test ! -e "$REF_GADGET"

usbip_end_to_end

kernel_log_clean usbip-log-clean
