#!/bin/sh
# The guest's poweroff command in the tests (no ACPI here): says so, then stops the VM.
echo "VUSBKEY-GUEST poweroff"
reboot -f
