# demo: the main job end to end. This VM plays the hypervisor host (qemu/host.sh): it
# loads vusbkey.ko and starts the VM the token was made for, then a copy of that VM
# under another UUID. It runs on the release kernel (nested emulation on a debug kernel
# is several times slower).
# vusbkey-timeout: 1800
# vusbkey-flavour: release
. /vusbkey/host.sh

if ! load_key /vusbkey/vusbkey.ko; then
	fail load-key "vusbkey.ko did not give a USB device"
	return
fi
progress "host: vusbkey.ko loaded; the key disk is USB 1209:$PRODUCT_ID"

genuine_and_copy
rmmod vusbkey
