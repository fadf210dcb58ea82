#!/bin/bash
# Startup script of a Fleet burst VM ({{NAME}}, owner {{OWNER}}). Rendered by stacks/burst.ts.
# - reports activity: every minute, when the 1-minute load average is at or above {{BUSY_LOAD}},
#   writes the time to the guest attribute fleet/last-busy-at (read by the reconciler's idle rule);
# - a second guard on money: powers off at {{EXPIRES_AT}} even if the reconciler is not running
#   (GCE's max run duration deletes the VM at that time too).
set -euo pipefail
expires_epoch=$(date -d "{{EXPIRES_AT}}" +%s)
md=http://metadata.google.internal/computeMetadata/v1
while true; do
  now=$(date +%s)
  if [ "$now" -ge "$expires_epoch" ]; then
    logger -t fleet "max lifetime reached ({{EXPIRES_AT}}): powering off"
    shutdown -h now
    exit 0
  fi
  load=$(cut -d' ' -f1 /proc/loadavg)
  if awk -v l="$load" -v t="{{BUSY_LOAD}}" 'BEGIN { exit !(l >= t) }'; then
    curl -fsS -X PUT --data "$(date -u +%Y-%m-%dT%H:%M:%SZ)" -H "Metadata-Flavor: Google" \
      "$md/instance/guest-attributes/fleet/last-busy-at" >/dev/null || true
  fi
  sleep 60
done &
