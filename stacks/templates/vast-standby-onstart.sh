#!/bin/bash
# Onstart of a Fleet standby on Vast.ai (pair {{PAIR_ID}}). Rendered by stacks/standby.ts.
# The copy lives in /data on this instance's disk. Installs the SSH host key the GPU host pins (Vast's
# API delivered it in the instance's environment, FLEET_HOST_KEY, base64: not in this script) and
# lets the pair's key in for the sync alone (fleet-sync-serve: an rsync server into or out of /data);
# sshd re-reads its host keys on SIGHUP (if it is not up yet, it reads them when it starts).
set -euo pipefail
: "${FLEET_HOST_KEY:?FLEET_HOST_KEY is not set: the instance was created without the environment Fleet gave it}"
mkdir -p /data
install -d -m 700 /root/.ssh
printf '%s' "$FLEET_HOST_KEY" | base64 -d | install -m 600 /dev/stdin /etc/ssh/ssh_host_ed25519_key
echo '{{HOST_PUBLIC_KEY}}' > /etc/ssh/ssh_host_ed25519_key.pub
install -m 755 /dev/stdin /usr/local/bin/fleet-sync-serve <<'SCRIPT'
{{SERVE_SCRIPT}}
SCRIPT
# The key's line, restricted; an older unrestricted line of the same key is dropped.
line='restrict,command="/usr/local/bin/fleet-sync-serve" {{SYNC_PUBLIC_KEY}}'
touch /root/.ssh/authorized_keys
{ grep -vxF -e '{{SYNC_PUBLIC_KEY}}' -e "$line" /root/.ssh/authorized_keys || true; echo "$line"; } > /root/.ssh/authorized_keys.fleet
mv /root/.ssh/authorized_keys.fleet /root/.ssh/authorized_keys
chmod 600 /root/.ssh/authorized_keys
command -v rsync >/dev/null || { apt-get update -qq && apt-get install -y -qq rsync; }
pkill -HUP -x sshd || true
