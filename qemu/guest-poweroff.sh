#!/bin/sh
# The guest's poweroff command in the tests: says so, then stops the VM (QEMU runs with
# -no-reboot, so `reboot -f` ends it, ACPI or not).
echo "VUSBKEY-GUEST poweroff"
reboot -f
