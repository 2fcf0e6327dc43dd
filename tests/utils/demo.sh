#!/usr/bin/env bash
# Entry point of `make demo`.
# TODO(demo): run the demo playbook against the SDDC Manager simulator once it is written.
echo "demo not built yet" >&2
exit 1
