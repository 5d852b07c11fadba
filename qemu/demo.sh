# demo: the main job end to end. This VM plays the hypervisor host (qemu/host.sh): it
# loads vusbkey.ko, runs vusbkey-monitor, and starts the VM the token was made for, then
# a copy of that VM under another UUID, which the monitor pauses through QMP when its
# agent reports the refusal. It runs on the release kernel (nested emulation on a debug
# kernel is several times slower).
# vusbkey-timeout: 1800
# vusbkey-flavour: release
. /vusbkey/host.sh

if ! load_key /vusbkey/vusbkey.ko; then
	fail load-key "vusbkey.ko did not give a USB device"
	return
fi
progress "host: vusbkey.ko loaded; the key disk is USB 1209:$PRODUCT_ID"
if ! start_monitor 600; then
	fail monitor-start "vusbkey-monitor did not start"
	return
fi
progress "host: vusbkey-monitor watches $RUN (dashboard on 127.0.0.1:8477 in this VM)"

genuine_and_copy
rmmod vusbkey

progress "host: the monitor's event table (vusbkey-monitor events)"
monitor events --limit 1000 | while IFS= read -r line; do progress "  $line"; done
