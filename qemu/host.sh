# vusbkey host VM role, sourced by the e2e suite and the demo: this VM plays the
# hypervisor host. It loads vusbkey.ko and starts guest VMs (kernel and initramfs from
# /vusbkey/guest/, init qemu/guest-init.sh) with the key disk attached through QEMU
# `usb-host`. A guest's console is shown here, prefixed `guest[SCENARIO]|`, and kept in
# /tmp/guest-SCENARIO.log.
. /vusbkey/e2e.env # VM_UUID (the token's VM), OTHER_UUID

GUEST_TIMEOUT=600

# The key disk's USB idProduct (vendor 1209), read from sysfs.
key_product_id() {
	for dev in /sys/bus/usb/devices/*; do
		if [ "$(cat "$dev/idVendor" 2>/dev/null)" = 1209 ]; then
			cat "$dev/idProduct"
			return 0
		fi
	done
	return 1
}

# load_key MODULE: loads a vusbkey.ko and waits for its disk to enumerate.
load_key() {
	insmod "$1" || return 1
	i=0
	while ! key_product_id > /dev/null; do
		i=$((i + 1))
		[ $i -gt 100 ] && return 1
		sleep 0.1
	done
	PRODUCT_ID=$(key_product_id)
}

# run_guest SCENARIO UUID: boots a guest VM with the key disk (1209:$PRODUCT_ID) attached.
run_guest() {
	scenario=$1
	progress "host: starting guest VM '$scenario' with uuid $2 (a minute or two under nested emulation)"
	start=$(date +%s)
	# qboot: a -kernel boot without SeaBIOS's device setup, which under nested emulation
	# took minutes; it passes on QEMU's SMBIOS tables (the guest's UUID).
	timeout "$GUEST_TIMEOUT" qemu-system-x86_64 -M pc -m 256 -nographic -no-reboot -nic none \
		-bios qboot.rom -vga none \
		-device qemu-xhci -device "usb-host,vendorid=0x1209,productid=0x${PRODUCT_ID:-0001}" \
		-uuid "$2" -kernel /vusbkey/guest/bzImage -initrd /vusbkey/guest/initramfs.cpio.gz \
		-append "console=ttyS0 quiet panic=-1 vusbkey.scenario=$scenario" \
		< /dev/null 2>&1 | tr -d '\r' | tee "/tmp/guest-$scenario.log" | sed "s/^/guest[$scenario]| /"
	GUEST_SECS=$(($(date +%s) - start))
}

# expect SCENARIO RUN EXIT PATTERN: in the guest of SCENARIO, the agent run RUN exited
# with EXIT, and the guest printed PATTERN.
expect() {
	log=/tmp/guest-$1.log
	got=$(sed -n "s/.*VUSBKEY-GUEST agent $2 exit=\([0-9]*\).*/\1/p" "$log")
	if [ "$got" != "$3" ]; then
		fail "$2" "agent exit '${got:-none}', wanted $3 (guest '$1' ran ${GUEST_SECS}s)"
	elif ! grep -q "$4" "$log"; then
		fail "$2" "the guest did not print '$4'"
	else
		pass "$2" "agent exit $3 (guest '$1' ran ${GUEST_SECS}s)"
	fi
}

# genuine_and_copy: the VM the token is for, then a copy of it under another UUID.
genuine_and_copy() {
	run_guest genuine "$VM_UUID"
	expect genuine accepted 0 "vusbkey-agent: accepted vm=$VM_UUID"
	expect genuine untrusted 14 "reason=untrusted-key"
	expect genuine expired 18 "reason=expired"

	run_guest copy "$OTHER_UUID"
	expect copy wrong-vm 16 "VUSBKEY-GUEST alarm reason=wrong-vm"
	if grep -q "VUSBKEY-GUEST poweroff" /tmp/guest-copy.log && ! grep -q "agent poweroff exit=" /tmp/guest-copy.log; then
		pass poweroff "the poweroff command ran and the guest stopped"
	else
		fail poweroff "the poweroff command did not run, or the agent went on after it"
	fi
}
