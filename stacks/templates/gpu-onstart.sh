#!/bin/bash
# Onstart of a Fleet GPU on Vast.ai (pair {{PAIR_ID}}). Rendered by stacks/standby.ts.
# Installs the SSH host key Fleet made for this GPU, which Vast's API delivered in the instance's
# environment (FLEET_HOST_KEY, base64): Fleet pins its public half, so the sync's private key only
# ever travels over a connection whose host key was verified. Lets Fleet's key in for the install.
set -euo pipefail
: "${FLEET_HOST_KEY:?FLEET_HOST_KEY is not set: the instance was created without the environment Fleet gave it}"
install -d -m 700 /root/.ssh
printf '%s' "$FLEET_HOST_KEY" | base64 -d | install -m 600 /dev/stdin /etc/ssh/ssh_host_ed25519_key
echo '{{HOST_PUBLIC_KEY}}' > /etc/ssh/ssh_host_ed25519_key.pub
grep -qxF '{{LOGIN_PUBLIC_KEY}}' /root/.ssh/authorized_keys 2>/dev/null || echo '{{LOGIN_PUBLIC_KEY}}' >> /root/.ssh/authorized_keys
chmod 600 /root/.ssh/authorized_keys
pkill -HUP -x sshd || true
