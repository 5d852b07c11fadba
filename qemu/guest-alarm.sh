#!/bin/sh
# The guest's alarm command in the tests: says that it ran, and with which reason.
echo "VUSBKEY-GUEST alarm reason=$1"
