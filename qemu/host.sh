# vusbkey host VM role, sourced by the e2e suite, the usbip suite and the demo: this VM
# plays the hypervisor host. It loads vusbkey.ko, runs vusbkey-monitor, and starts guest
# VMs (kernel and initramfs from /vusbkey/guest/, init qemu/guest-init.sh) with the key
# disk attached through QEMU `usb-host` and the agent's virtio-serial channel and QMP
# socket in the monitor's socket directory. A guest's console is shown here, prefixed
# `guest[SCENARIO]|`, and kept in /tmp/guest-SCENARIO.log, each line stamped with this
# VM's uptime (as are the monitor's lines in /tmp/monitor.log), so that the two can be
# compared.
. /vusbkey/e2e.env # VM_UUID (the token's VM), OTHER_UUID, THIRD_UUID

GUEST_TIMEOUT=600
RUN=/run/vusbkey
MONITOR_LOG=/tmp/monitor.log

# key_dirs: the sysfs directories of the USB devices of vendor 1209 (the keys), a line each.
key_dirs() {
	grep -lx 1209 /sys/bus/usb/devices/*/idVendor 2> /dev/null | sed 's,/idVendor$,,'
}

# load_key MODULE [COUNT]: loads a vusbkey.ko and waits for its COUNT disks (default 1)
# to enumerate.
load_key() {
	insmod "$1" || return 1
	i=0
	while [ "$(key_dirs | wc -l)" -lt "${2:-1}" ]; do
		i=$((i + 1))
		[ $i -gt 100 ] && return 1
		sleep 0.1
	done
	PRODUCT_ID=$(cat "$(key_dirs | head -n 1)/idProduct")
}

# stamp: prefixes each line of its input with this VM's uptime (10 ms resolution; the
# `read` from /proc is a shell builtin, no process per line).
stamp() {
	while IFS= read -r line; do
		read -r up _ < /proc/uptime
		echo "$up $line"
	done
}

# start_monitor DEADLINE: runs vusbkey-monitor in the background on $RUN: a VM with no
# verdict DEADLINE seconds after its channel connected raises the alarm, a `wrong-vm`
# refusal pauses the VM (QMP stop), and every alarm runs /tmp/monitor-alarm.sh.
start_monitor() {
	# The dashboard listens on 127.0.0.1: the loopback interface must be up.
	ip link set lo up 2> /dev/null || ifconfig lo 127.0.0.1 up
	mkdir -p "$RUN"
	printf '#!/bin/sh\necho "monitor-alarm kind=$1 vm=$2 reason=$VUSBKEY_REASON"\n' > /tmp/monitor-alarm.sh
	chmod 755 /tmp/monitor-alarm.sh
	cat > /tmp/monitor.toml <<-EOF
		socket_dir = "$RUN"
		database = "/tmp/monitor.db"
		scan_interval_ms = 100
		[policy]
		verdict_deadline_secs = $1
		alarm_command = ["/tmp/monitor-alarm.sh"]
		on_refused = "stop"
		refused_reasons = ["wrong-vm"]
	EOF
	vusbkey-monitor --config /tmp/monitor.toml run 2>&1 | stamp > "$MONITOR_LOG" &
	monitor_wait "listening on http://" 30
}

# monitor ARGS...: the monitor's command line on this host's configuration.
monitor() {
	vusbkey-monitor --config /tmp/monitor.toml "$@"
}

# monitor_mark: from now on, monitor_wait looks only at the lines the monitor logs after
# this point.
MONITOR_FROM=0
monitor_mark() {
	MONITOR_FROM=$(wc -l < "$MONITOR_LOG")
}

# since FILE FROM: FILE's lines after its first FROM.
since() {
	tail -n "+$(($2 + 1))" "$1" 2> /dev/null
}

# log_wait FILE FROM PATTERN SECS: waits until FILE has a line with PATTERN (grep -e) after
# its first FROM lines, at most SECS seconds of this VM's clock (not a count of polls: a
# loaded VM polls slowly).
log_wait() {
	read -r up _ < /proc/uptime
	until=$((${up%.*} + $4))
	while ! since "$1" "$2" | grep -q -e "$3"; do
		read -r up _ < /proc/uptime
		[ "${up%.*}" -ge "$until" ] && return 1
		sleep 0.2
	done
}

# monitor_wait PATTERN SECS: log_wait on the monitor's log, since the last monitor_mark.
monitor_wait() {
	log_wait "$MONITOR_LOG" "$MONITOR_FROM" "$1" "$2"
}

# monitor_line PATTERN: the first line the monitor logged with PATTERN since the last
# monitor_mark, without its stamp.
monitor_line() {
	since "$MONITOR_LOG" "$MONITOR_FROM" | grep -m 1 -e "$1" | cut -d ' ' -f 2-
}

# guest_qemu SCENARIO UUID MEM KEY [PREFIX...]: a guest VM (QEMU started through PREFIX,
# if any) with MEM MiB, the key disk (1209:$PRODUCT_ID) if KEY is `key` (usb-host claims
# the device: one guest at a time can have it), or if KEY is `port:N` the device on port N
# of vusbkey's root hub (`usb-host,hostbus=B,hostport=N`, the recipe for a module with a
# port per VM), its agent
# channel $RUN/UUID.sock and QMP socket $RUN/UUID.qmp; its console, stamped, goes to
# /tmp/guest-SCENARIO.log and stdout. qboot: a -kernel boot without SeaBIOS's device
# setup, which under nested emulation took minutes; it passes on QEMU's SMBIOS tables
# (the guest's UUID).
guest_qemu() {
	name=$1 uuid=$2 memory=$3 key=
	case "$4" in
	key) key="usb-host,vendorid=0x1209,productid=0x${PRODUCT_ID:-0001}" ;;
	port:*) key="usb-host,hostbus=$(key_bus),hostport=${4#port:}" ;;
	esac
	shift 4
	timeout "$GUEST_TIMEOUT" "$@" qemu-system-x86_64 -M pc -m "$memory" -nographic -no-reboot -nic none \
		-bios qboot.rom -vga none -device qemu-xhci ${key:+-device "$key"} \
		-chardev "socket,id=agent,path=$RUN/$uuid.sock,server=on,wait=off" \
		-device virtio-serial-pci -device virtserialport,chardev=agent,name=org.vusbkey.agent.0 \
		-qmp "unix:$RUN/$uuid.qmp,server=on,wait=off" \
		-uuid "$uuid" -kernel /vusbkey/guest/bzImage -initrd /vusbkey/guest/initramfs.cpio.gz \
		-append "console=ttyS0 quiet panic=-1 vusbkey.scenario=$name" \
		< /dev/null 2>&1 | tr -d '\r' | stamp | tee "/tmp/guest-$name.log"
}

# run_guest SCENARIO UUID: boots a guest VM and waits for it to stop.
run_guest() {
	scenario=$1
	progress "host: starting guest VM '$scenario' with uuid $2 (a minute or two under nested emulation)"
	start=$(date +%s)
	guest_qemu "$1" "$2" 256 key | sed "s/^[0-9.]* /guest[$scenario]| /"
	GUEST_SECS=$(($(date +%s) - start))
}

# run_guest_bg SCENARIO UUID KEY: boots a guest VM in the background (console only in its
# log), with the key disk if KEY is `key`, at a low CPU priority (nice 10), as an operator
# would confine a VM that misbehaves: this host VM's CPU (one: see tests/vm/e2e.sh) is
# shared with the guest in the foreground. Not nice 19: a guest that busy gets about 1/70 of
# the CPU beside it, too little for the flooding guest to go on flooding while the genuine
# guest boots.
run_guest_bg() {
	progress "host: starting guest VM '$1' with uuid $2 in the background"
	# busybox has renice, not nice.
	guest_qemu "$1" "$2" 160 "$3" sh -c 'renice -n 10 -p $$ > /dev/null; exec "$@"' low \
		> /dev/null &
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

# genuine: the VM the token is for: accepted, then refused for an untrusted key and for
# an expired token.
genuine() {
	run_guest genuine "$VM_UUID"
	expect genuine accepted 0 "vusbkey-agent: accepted vm=$VM_UUID"
	expect genuine untrusted 14 "reason=untrusted-key"
	expect genuine expired 18 "reason=expired"
}

# genuine_and_copy: the VM the token is for, then a copy of it under another UUID.
genuine_and_copy() {
	genuine
	copy_refused_and_stopped
}

# copy_refused_and_stopped: a copy of the VM under another UUID, which the monitor pauses
# through QMP once its agent reports the refusal.
copy_refused_and_stopped() {
	run_guest_bg copy "$OTHER_UUID" key
	if monitor_wait "vm=$OTHER_UUID kind=enforced detail=\"qmp stop\"" "$GUEST_TIMEOUT"; then
		status=$(monitor qmp "$OTHER_UUID" query-status)
		case "$status" in
		*'"paused"'*) pass monitor-qmp-stop "the monitor paused the copy: $status" ;;
		*) fail monitor-qmp-stop "after the monitor's stop, QEMU says $status" ;;
		esac
	else
		fail monitor-qmp-stop "no QMP stop of the copy by the monitor"
	fi
	monitor qmp "$OTHER_UUID" quit > /dev/null
	# The pause can cut the copy's console in the middle of a line: end it here.
	sed "s/^[0-9.]* /guest[copy]| /" /tmp/guest-copy.log
	echo
	# The copy's verdict, from its report as the monitor stored it (the console lines the
	# agent printed before it reported may still have been in the UART when QMP paused it).
	if monitor events --vm "$OTHER_UUID" --limit 100 | awk '$4 == "refused" && $5 == "wrong-vm"' | grep -q .; then
		pass wrong-vm "the copy's agent refused with wrong-vm (its report, stored by the monitor)"
	else
		fail wrong-vm "no wrong-vm refusal from the copy: $(monitor events --vm "$OTHER_UUID" --limit 5 | tr '\n' ' ')"
	fi
}
