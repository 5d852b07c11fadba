# e2e: this VM plays the hypervisor host and runs guest VMs with the key disk attached
# (qemu/host.sh); each agent run in a guest is checked for its verdict and exit code, and
# the host's vusbkey-monitor for the events, alarms and enforcement that follow: the
# identity of each report, a guest flooding its channel (no more than 1 s of delay for the
# others' reports over the delay without a flood), a guest without agent (deadline alarm),
# two VMs at once on the module with a port per VM, each pinned to its port (both
# accepted), then with the ports swapped (both refused `wrong-vm` and paused through QMP).
# At most two guests run at once, one per vCPU of the host VM (its kernel finds both in
# QEMU's ACPI tables).
# vusbkey-timeout: 3000
# vusbkey-flavour: release
# vusbkey-module: ports
. /vusbkey/host.sh

FLOOD_UUID=5655534b-0000-4000-8000-0000000000f1
SILENT_UUID=5655534b-0000-4000-8000-0000000000c3
NIL_UUID=00000000-0000-0000-0000-000000000000
# Longer than a guest takes from its start to its first verdict under nested emulation
# with a second guest running.
DEADLINE=300

if ! load_key /vusbkey/vusbkey.ko; then
	fail load-key "vusbkey.ko did not give a USB device"
	return
fi
if ! start_monitor "$DEADLINE"; then
	fail monitor-start "vusbkey-monitor did not start: $(tail -n 3 "$MONITOR_LOG")"
	return
fi

# report_delay SCENARIO CONSOLE-PATTERN MONITOR-PATTERN: "CONSOLE-AT STORED-AT SECONDS":
# when the first line matching CONSOLE-PATTERN reached the guest's console, when the
# monitor logged the first event matching MONITOR-PATTERN, and the time between; nothing if
# either is missing.
report_delay() {
	local console_at stored_at
	console_at=$(grep -m 1 "$2" "/tmp/guest-$1.log" | cut -d ' ' -f 1)
	stored_at=$(grep -m 1 "$3" "$MONITOR_LOG" | cut -d ' ' -f 1)
	[ -n "$console_at" ] && [ -n "$stored_at" ] &&
		echo "$console_at $stored_at $(seconds_between "$console_at" "$stored_at")"
}

# events_where VM AWK-CONDITION: how many of VM's events (columns: id time vm kind reason
# detail) the condition selects.
events_where() {
	monitor events --vm "$1" --limit 1000 | awk "NR > 1 && ($2)" | wc -l
}

# dropped_lines VM: the monitor's count of VM's dropped lines, all reasons.
dropped_lines() {
	wget -q -O - http://127.0.0.1:8477/metrics |
		awk -v vm="$1" 'index($0, "vusbkey_lines_dropped_total{vm=\"" vm "\"") == 1 { n += $2 } END { print n + 0 }'
}

# A guest flooding its channel (no key disk: usb-host gives the device to one guest at a
# time), running while the genuine guest boots and reports.
run_guest_bg flood "$FLOOD_UUID" no-key
if monitor_wait "vm=$FLOOD_UUID kind=dropped" "$GUEST_TIMEOUT"; then
	pass flood-started "the flooding guest's garbage reaches the monitor and is dropped"
else
	fail flood-started "no dropped lines from the flooding guest"
fi
flood_before=$(dropped_lines "$FLOOD_UUID")

genuine

# The flood went on during the genuine guest's run; how long its report took, from the
# agent's verdict on the guest's console to the event stored by the monitor (both timed by
# this VM's clock), is judged after the tampered guest's run below gives the same delay
# without a flood.
flood_after=$(dropped_lines "$FLOOD_UUID")
flood_delay=$(report_delay genuine "vusbkey-agent: accepted vm=$VM_UUID" "vm=$VM_UUID kind=accepted")
monitor qmp "$FLOOD_UUID" quit > /dev/null

# One host, two VMs, one module with a port per VM (/vusbkey/ports/vusbkey.ko: port 1
# carries VM_UUID's token, port 2 OTHER_UUID's), each guest given its port's device by
# `usb-host,hostbus=B,hostport=N`; both guests run at once.

# port_guests PHASE UUID-A PORT-A UUID-B PORT-B: starts guest A with the device on port
# PORT-A and guest B with the one on PORT-B, both at once, in the background (consoles in
# /tmp/guest-port-PHASE-{a,b}.log); their QEMUs' pids in PORT_PIDS.
port_guests() {
	monitor_mark
	progress "host: guests $2 on port $3 and $4 on port $5 at once (a few minutes under nested emulation)"
	guest_qemu "port-$1-a" "$2" 256 "port:$3" > /dev/null &
	PORT_PIDS=$!
	guest_qemu "port-$1-b" "$4" 256 "port:$5" > /dev/null &
	PORT_PIDS="$PORT_PIDS $!"
}

# port_guests_quit UUID...: ends those guests through QMP and waits for their QEMUs.
port_guests_quit() {
	for uuid in "$@"; do
		monitor qmp "$uuid" quit > /dev/null
	done
	for pid in $PORT_PIDS; do
		wait "$pid"
	done
}

# port_accepted PHASE SIDE UUID PORT: the guest of SIDE (a or b) given port PORT is accepted:
# the monitor stored its verdict under its socket's VM, and its agent exited 0.
port_accepted() {
	log=/tmp/guest-port-$1-$2.log
	if ! monitor_wait "vm=$3 kind=accepted" "$GUEST_TIMEOUT"; then
		fail "port-$4-accepted" "no acceptance from VM $3 on port $4: $(grep 'vusbkey-agent' "$log" | tail -n 2 | tr '\n' ' ')"
	elif ! log_wait "$log" 0 "VUSBKEY-GUEST agent port exit=0" 30; then
		fail "port-$4-accepted" "the monitor has VM $3's acceptance, but its agent did not exit 0"
	else
		pass "port-$4-accepted" "VM $3 on port $4 (usb-host hostbus=$(key_bus),hostport=$4): $(monitor_line "vm=$3 kind=accepted")"
	fi
}

# port_refused_and_stopped UUID PORT: the guest given port PORT, another VM's key, was
# refused with wrong-vm and paused by the monitor through QMP.
port_refused_and_stopped() {
	if ! monitor_wait "vm=$1 kind=enforced detail=\"qmp stop\"" "$GUEST_TIMEOUT"; then
		fail "port-$2-swapped" "no QMP stop of VM $1 on port $2 by the monitor"
		return
	fi
	status=$(monitor qmp "$1" query-status)
	refused=$(events_where "$1" '$4 == "refused" && $5 == "wrong-vm"')
	case "$status" in
	*'"paused"'*) if [ "$refused" = 1 ]; then
		pass "port-$2-swapped" "VM $1 on port $2: refused wrong-vm, paused by the monitor"
	else
		fail "port-$2-swapped" "VM $1 on port $2 paused, with $refused wrong-vm refusals stored (wanted 1)"
	fi ;;
	*) fail "port-$2-swapped" "after the monitor's stop of VM $1, QEMU says $status" ;;
	esac
}

rmmod vusbkey
if load_key /vusbkey/ports/vusbkey.ko 3; then
	port_guests paired "$VM_UUID" 1 "$OTHER_UUID" 2
	port_accepted paired a "$VM_UUID" 1
	port_accepted paired b "$OTHER_UUID" 2
	port_guests_quit "$VM_UUID" "$OTHER_UUID"

	# The same two VMs with each other's ports: a VM given another's key, as a mistake in
	# the host's configuration or a copy of the VM started elsewhere would be.
	port_guests swapped "$VM_UUID" 2 "$OTHER_UUID" 1
	port_refused_and_stopped "$VM_UUID" 2
	port_refused_and_stopped "$OTHER_UUID" 1
	port_guests_quit "$VM_UUID" "$OTHER_UUID"
	rmmod vusbkey
else
	fail port-load-key "the module with a port per VM did not give three USB devices"
	# Unloaded all the same, so that the next load_key's failure is its own.
	rmmod vusbkey 2> /dev/null
fi

# Each report is stored under the VM whose socket it came on, whatever it says.
genuine_ok=$(events_where "$VM_UUID" '$4 == "accepted"')
untrusted=$(events_where "$VM_UUID" '$4 == "refused" && $5 == "untrusted-key"')
expired=$(events_where "$VM_UUID" '$4 == "refused" && $5 == "expired"')
genuine_swapped=$(events_where "$VM_UUID" '$4 == "refused" && $5 == "wrong-vm"')
other_refused=$(events_where "$OTHER_UUID" '$4 == "refused" && $5 == "wrong-vm"')
other_accepted=$(events_where "$OTHER_UUID" '$4 == "accepted"')
forged=$(events_where "$NIL_UUID" '1')
detail="$VM_UUID: $genuine_ok accepted, $untrusted untrusted-key, $expired expired, $genuine_swapped wrong-vm; $OTHER_UUID: $other_accepted accepted, $other_refused wrong-vm; forged VM: $forged"
if [ "$genuine_ok" = 2 ] && [ "$untrusted" = 1 ] && [ "$expired" = 1 ] && [ "$genuine_swapped" = 1 ] &&
	[ "$other_refused" = 1 ] && [ "$other_accepted" = 1 ] && [ "$forged" = 0 ]; then
	pass monitor-identity "$detail"
else
	fail monitor-identity "$detail"
fi

# A guest without agent, alongside the next guests: the deadline alarm, counted from its
# channel's connection.
run_guest_bg silent "$SILENT_UUID" no-key

if load_key /vusbkey/tampered/vusbkey.ko; then
	run_guest tampered "$VM_UUID"
	expect tampered tampered 15 "reason=bad-signature"
	if grep -q "VUSBKEY-GUEST poweroff" /tmp/guest-tampered.log && ! grep -q "agent poweroff exit=" /tmp/guest-tampered.log; then
		pass poweroff "the poweroff command ran and the guest stopped"
	else
		fail poweroff "the poweroff command did not run, or the agent went on after it"
	fi
	rmmod vusbkey
else
	fail tampered "the module with the altered image did not give a USB device"
fi

# The flood did not delay the genuine guest's report: at most 1 s more than the tampered
# guest's report took (its refusal, with the silent guest running beside it but no flood).
# A ratio to the same VM's own figure, not a bare limit: how long the stamping and the
# monitor take depends on how busy the machine running this VM is.
base_delay=$(report_delay tampered "vusbkey-agent: refused reason=bad-signature" "vm=$VM_UUID kind=refused reason=bad-signature")
if [ -z "$flood_delay" ] || [ -z "$base_delay" ]; then
	fail flood-no-delay "a verdict is missing on a console or in the monitor (with the flood: '${flood_delay}', without: '${base_delay}')"
else
	with=$(echo "$flood_delay" | cut -d ' ' -f 3)
	without=$(echo "$base_delay" | cut -d ' ' -f 3)
	detail="with the flood: on the console at $(echo "$flood_delay" | cut -d ' ' -f 1)s, stored at $(echo "$flood_delay" | cut -d ' ' -f 2)s (${with}s); without: ${without}s; the flood's dropped lines went from $flood_before to $flood_after"
	if [ "$flood_after" -le "$flood_before" ]; then
		fail flood-no-delay "the flood had stopped: $detail"
	elif awk -v with="$with" -v without="$without" 'BEGIN { exit !(with <= without + 1.0) }'; then
		pass flood-no-delay "$detail"
	else
		fail flood-no-delay "more than 1 s over the delay without it: $detail"
	fi
fi

run_guest no-device "$VM_UUID"
expect no-device no-device 10 "reason=no-device"

if monitor_wait "vm=$SILENT_UUID kind=silent" "$((DEADLINE + 120))" &&
	monitor_wait "monitor-alarm kind=silent vm=$SILENT_UUID" 30; then
	pass monitor-silent "$(monitor_line "vm=$SILENT_UUID kind=silent")"
else
	fail monitor-silent "no deadline alarm for the guest without agent"
fi
monitor qmp "$SILENT_UUID" quit > /dev/null

progress "host: the monitor's event log"
monitor events --limit 1000

kernel_log_clean e2e-kernel-log
