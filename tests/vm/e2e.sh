# e2e: this VM plays the hypervisor host and runs guest VMs with the key disk attached
# (qemu/host.sh); each agent run in a guest is checked for its verdict and exit code.
# vusbkey-timeout: 2400
# vusbkey-flavour: release
. /vusbkey/host.sh

if ! load_key /vusbkey/vusbkey.ko; then
	fail load-key "vusbkey.ko did not give a USB device"
	return
fi

genuine_and_copy

rmmod vusbkey
if load_key /vusbkey/tampered/vusbkey.ko; then
	run_guest tampered "$VM_UUID"
	expect tampered tampered 15 "reason=bad-signature"
	rmmod vusbkey
else
	fail tampered "the module with the altered image did not give a USB device"
fi

run_guest no-device "$VM_UUID"
expect no-device no-device 10 "reason=no-device"

kernel_log_clean e2e-kernel-log
