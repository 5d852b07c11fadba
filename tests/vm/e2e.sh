# e2e: this VM plays the hypervisor host and runs guest VMs with the key disk attached
# (qemu/host.sh); each agent run in a guest is checked for its verdict and exit code, and
# the host's vusbkey-monitor for the events, alarms and enforcement that follow: the
# identity of each report, a guest flooding its channel (no delay for the others), a
# guest without agent (deadline alarm), QMP stop of the refused copy. At most two guests
# run at once (the host VM has two vCPUs).
# vusbkey-timeout: 3000
# vusbkey-flavour: release
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

# The flood went on during the genuine guest's run, and did not delay its report: from
# the agent's verdict on the guest's console to the event stored by the monitor, both
# timed by this VM's clock.
flood_after=$(dropped_lines "$FLOOD_UUID")
guest_at=$(grep -m 1 "vusbkey-agent: accepted vm=$VM_UUID" /tmp/guest-genuine.log | cut -d ' ' -f 1)
stored_at=$(grep -m 1 "vm=$VM_UUID kind=accepted" "$MONITOR_LOG" | cut -d ' ' -f 1)
if [ -z "$guest_at" ] || [ -z "$stored_at" ]; then
	fail flood-no-delay "no accepted verdict on the console (${guest_at:-none}) or in the monitor (${stored_at:-none})"
else
	delay=$(awk "BEGIN { printf \"%.2f\", $stored_at - $guest_at }")
	detail="verdict on the console at ${guest_at}s, stored at ${stored_at}s (${delay}s); the flood's dropped lines went from $flood_before to $flood_after"
	if [ "$flood_after" -le "$flood_before" ]; then
		fail flood-no-delay "the flood had stopped: $detail"
	elif awk "BEGIN { exit !($delay <= 1.0) }"; then
		pass flood-no-delay "$detail"
	else
		fail flood-no-delay "more than 1 s: $detail"
	fi
fi
monitor qmp "$FLOOD_UUID" quit > /dev/null

copy_refused_and_stopped

# Each report is stored under the VM whose socket it came on, whatever it says.
genuine_ok=$(events_where "$VM_UUID" '$4 == "accepted"')
untrusted=$(events_where "$VM_UUID" '$4 == "refused" && $5 == "untrusted-key"')
expired=$(events_where "$VM_UUID" '$4 == "refused" && $5 == "expired"')
copy_refused=$(events_where "$OTHER_UUID" '$4 == "refused" && $5 == "wrong-vm"')
copy_accepted=$(events_where "$OTHER_UUID" '$4 == "accepted"')
forged=$(events_where "$NIL_UUID" '1')
detail="genuine: $genuine_ok accepted, $untrusted untrusted-key, $expired expired; copy: $copy_refused wrong-vm, $copy_accepted accepted; forged VM: $forged"
if [ "$genuine_ok" = 1 ] && [ "$untrusted" = 1 ] && [ "$expired" = 1 ] &&
	[ "$copy_refused" = 1 ] && [ "$copy_accepted" = 0 ] && [ "$forged" = 0 ]; then
	pass monitor-identity "$detail"
else
	fail monitor-identity "$detail"
fi

# A guest without agent, alongside the next guests: the deadline alarm, counted from its
# channel's connection.
run_guest_bg silent "$SILENT_UUID" no-key

rmmod vusbkey
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

run_guest no-device "$VM_UUID"
expect no-device no-device 10 "reason=no-device"

if monitor_wait "vm=$SILENT_UUID kind=silent" "$((DEADLINE + 120))" &&
	monitor_wait "monitor-alarm kind=silent vm=$SILENT_UUID" 30; then
	pass monitor-silent "$(grep -m 1 "vm=$SILENT_UUID kind=silent" "$MONITOR_LOG" | cut -d ' ' -f 2-)"
else
	fail monitor-silent "no deadline alarm for the guest without agent"
fi
monitor qmp "$SILENT_UUID" quit > /dev/null

progress "host: the monitor's event log"
monitor events --limit 1000

kernel_log_clean e2e-kernel-log
