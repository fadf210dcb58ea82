#!/bin/bash
# Installs the standby sync on a GPU host (pair {{PAIR_ID}}): the key to reach the standby, the
# standby's pinned host key, the settings, and a loop under systemd when it exists, else nohup.
set -euo pipefail
install -d -m 700 /root/.ssh /etc/fleet
install -m 600 /dev/stdin /root/.ssh/fleet-standby <<'KEY'
{{SYNC_PRIVATE_KEY}}
KEY
echo '{{KNOWN_HOST}} {{HOST_PUBLIC_KEY}}' > /etc/fleet/known_hosts
command -v rsync >/dev/null || { apt-get update -qq && apt-get install -y -qq rsync; }
cat > /etc/fleet-sync.env <<'ENV'
FLEET_SYNC_TARGET="{{STANDBY_USER}}@{{STANDBY_HOST}}:/data"
FLEET_SYNC_PATHS="{{SYNC_PATHS}}"
FLEET_SYNC_INTERVAL={{INTERVAL}}
FLEET_SYNC_SSH="ssh -p {{STANDBY_PORT}} -i /root/.ssh/fleet-standby -o UserKnownHostsFile=/etc/fleet/known_hosts -o StrictHostKeyChecking=yes -o HostKeyAlgorithms=ssh-ed25519"
ENV
chmod 600 /etc/fleet-sync.env
cat > /usr/local/bin/fleet-sync <<'SCRIPT'
{{SYNC_SCRIPT}}
SCRIPT
chmod 755 /usr/local/bin/fleet-sync
# Restore first (set -e: a failed pull fails the install, so the pair is not marked running and the
# copy loop never starts on an empty host).
FLEET_SYNC_RESTORE=1 /usr/local/bin/fleet-sync
if command -v systemctl >/dev/null && [ -d /run/systemd/system ]; then
  printf '[Unit]\nDescription=Fleet standby sync\n[Service]\nExecStart=/usr/local/bin/fleet-sync\nRestart=always\n[Install]\nWantedBy=multi-user.target\n' > /etc/systemd/system/fleet-sync.service
  systemctl daemon-reload && systemctl enable --now fleet-sync.service
else
  # The old loop by its whole command line: a pattern found anywhere in a command line also matched
  # this script's own shell, which holds the path (found on the engine: the install killed itself on
  # every host without systemd).
  pkill -xf '(/usr)?/bin/bash /usr/local/bin/fleet-sync' || true
  nohup /usr/local/bin/fleet-sync >/var/log/fleet-sync.log 2>&1 &
fi
