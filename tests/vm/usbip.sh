# usbip: Debian 12's stock kernel, where vusbkey-usbip serves the key disk to vhci-hcd over
# USB/IP (issue 13). Sourced by /init after /vusbkey/lib.sh. Needs: the stock kernel's
# modules under /lib/modules/$(uname -r) (load_module), /vusbkey/image.img and its token
# /vusbkey/token.pst, the usbip tools and sg3-utils on PATH.
# vusbkey-flavour: stock
# vusbkey-timeout: 600

IMG=/vusbkey/image.img
IMG_SHA=$(sha256sum "$IMG" | cut -d' ' -f1)
VHCI=/sys/devices/platform/vhci_hcd.0

# ---- helpers ----

# wait_for SECONDS CMD...: polls CMD every 0.1 s until it succeeds.
wait_for() {
	n=$(($1 * 10))
	shift
	until "$@" > /dev/null 2>&1; do
		n=$((n - 1))
		[ $n -le 0 ] && return 1
		sleep 0.1
	done
}

# usb_dev VID PID: the sysfs directory of the USB device with these ids.
usb_dev() {
	for d in /sys/bus/usb/devices/*; do
		[ -f "$d/idVendor" ] || continue
		if [ "$(cat "$d/idVendor")" = "$1" ] && [ "$(cat "$d/idProduct")" = "$2" ]; then
			echo "$d"
			return 0
		fi
	done
	return 1
}

# disk_of WORD: the sdX whose sysfs path contains WORD (dummy_hcd, vhci_hcd), with its node.
disk_of() {
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

no_disk() { ! disk_of "$1"; }

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
	check usbip-host-load load_module usbip-host
	usbipd -4 -D
	check usbip-bind usbip bind -b "$busid"
	check usbip-list-remote sh -c "usbip list -r 127.0.0.1 | grep -q '$busid: .*0525:a4a5'"
	check usbip-attach usbip attach -r 127.0.0.1 -b "$busid"
	check usbip-attached-disk wait_for 20 disk_of vhci_hcd
	sd=$(disk_of vhci_hcd)
	check usbip-attached-sha256 sh -c "sha256sum /dev/$sd | grep -q ^$IMG_SHA"
	port=$(usbip port | sed -n 's/^Port \([0-9]*\): <Port in Use>.*/\1/p' | head -n 1)
	check usbip-port-in-use test -n "$port"
	check usbip-detach usbip detach -p "${port:-0}"
	check usbip-detached-disk-gone wait_for 10 no_disk vhci_hcd
	check usbip-ports-free-again vhci_ports_free
	check usbip-unbind usbip unbind -b "$busid"
	check usbip-rebound-disk wait_for 20 disk_of dummy_hcd
	killall usbipd
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

kernel_log_clean usbip-log-clean
