# e2e: this VM plays the hypervisor host and runs guest VMs with the key disk attached
# (qemu/host.sh); each agent run in a guest is checked for its verdict and exit code, and
# the host's vusbkey-monitor for the events, alarms and enforcement that follow: the
# identity of each report, a guest flooding its channel (no more than 1 s of delay for the
# others' reports over the delay without a flood), a guest without agent (deadline alarm),
# QMP stop of the refused copy. At most two guests run at once: the host VM is given two
# vCPUs, but its kernel brings up one (no ACPI in the fragments, and SeaBIOS's MP table
# lists the boot CPU only), and nested guests share it.
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
	pass monitor-silent "$(grep -m 1 "vm=$SILENT_UUID kind=silent" "$MONITOR_LOG" | cut -d ' ' -f 2-)"
else
	fail monitor-silent "no deadline alarm for the guest without agent"
fi
monitor qmp "$SILENT_UUID" quit > /dev/null

progress "host: the monitor's event log"
monitor events --limit 1000

kernel_log_clean e2e-kernel-log
