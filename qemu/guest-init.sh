#!/bin/sh
# vusbkey guest VM init: the VM that receives the key disk through QEMU `usb-host`, run
# inside the host VM. It runs the agent the way a real guest's boot would, once or
# several times as the scenario named by `vusbkey.scenario=` on the kernel command line
# says, and reports each run as `VUSBKEY-GUEST agent NAME exit=N` for the host VM to check.
# The agent also reports to the host's monitor over the virtio-serial port
# org.vusbkey.agent.0, which it finds through sysfs (there is no udev here).
/bin/busybox --install -s /bin
export PATH=/bin:/usr/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mount -t tmpfs tmpfs /tmp
scenario=$(sed -n 's/.*vusbkey\.scenario=\([^ ]*\).*/\1/p' /proc/cmdline)

# agent NAME [FLAGS...]: one run of the agent with the test policy, then its exit code.
# It waits up to $WAIT seconds for the key disk.
WAIT=60
agent() {
	name=$1
	shift
	vusbkey-agent --timeout "$WAIT" --alarm-command /usr/bin/vusbkey-alarm \
		--poweroff-command /usr/bin/vusbkey-poweroff "$@"
	echo "VUSBKEY-GUEST agent $name exit=$?"
}

echo "VUSBKEY-GUEST start scenario=$scenario uuid=$(cat /sys/class/dmi/id/product_uuid)"
case "$scenario" in
genuine) # the VM the token is for
	agent accepted
	agent untrusted --trusted-dir /etc/vusbkey/trusted-other
	date -s "2099-01-01 00:00:00" > /dev/null
	agent expired
	;;
copy) # the same VM image started under another UUID: the host's monitor pauses it
	agent wrong-vm --policy log,alarm,deny
	sleep 3600
	;;
port-*) # one of several VMs of a host, each given its own port of the key module: the
	# host's monitor pauses it if it was given another VM's port
	agent port --policy log,alarm,deny
	sleep 3600
	;;
tampered)
	agent tampered
	agent poweroff --policy log,poweroff
	;;
silent) # an agent removed: the monitor hears nothing and raises its deadline alarm
	rm /usr/bin/vusbkey-agent
	echo "VUSBKEY-GUEST agent removed"
	sleep 3600
	;;
flood) # a hostile guest, its agent removed, writing garbage to its channel as fast as
	# the host takes it (among it forged reports, which count as this guest's own word)
	rm /usr/bin/vusbkey-agent
	echo "VUSBKEY-GUEST agent removed"
	for port in /sys/class/virtio-ports/*; do
		[ "$(cat "$port/name")" = org.vusbkey.agent.0 ] && flood "/dev/${port##*/}"
	done
	sleep 3600
	;;
no-device)
	WAIT=10
	agent no-device
	;;
*) echo "VUSBKEY-GUEST unknown scenario '$scenario'" ;;
esac
reboot -f
