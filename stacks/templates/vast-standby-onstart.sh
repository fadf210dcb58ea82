#!/bin/bash
# Onstart of a Fleet standby on Vast.ai (pair {{PAIR_ID}}). Rendered by stacks/standby.ts.
# The copy lives in /data on this instance's disk. Installs the SSH host key the GPU host pins and
# lets the pair's key in; sshd re-reads its host keys on SIGHUP (if it is not up yet, it reads them
# when it starts).
set -euo pipefail
mkdir -p /data
install -d -m 700 /root/.ssh
install -m 600 /dev/stdin /etc/ssh/ssh_host_ed25519_key <<'KEY'
{{HOST_PRIVATE_KEY}}
KEY
echo '{{HOST_PUBLIC_KEY}}' > /etc/ssh/ssh_host_ed25519_key.pub
grep -qxF '{{SYNC_PUBLIC_KEY}}' /root/.ssh/authorized_keys 2>/dev/null || echo '{{SYNC_PUBLIC_KEY}}' >> /root/.ssh/authorized_keys
chmod 600 /root/.ssh/authorized_keys
command -v rsync >/dev/null || { apt-get update -qq && apt-get install -y -qq rsync; }
pkill -HUP -x sshd || true
