#!/bin/bash
# Startup script of a Fleet standby VM (pair {{PAIR_ID}}). Rendered by stacks/standby.ts.
# Mounts the pair's data disk (its own resource: it outlives this VM) at /data, installs the SSH
# host key the GPU host pins, and lets the pair's key in for the sync user.
set -euo pipefail
disk=/dev/disk/by-id/google-data
mkdir -p /data
blkid "$disk" >/dev/null 2>&1 || mkfs.ext4 -q -L fleet-data "$disk"
mountpoint -q /data || mount "$disk" /data
install -m 600 /dev/stdin /etc/ssh/ssh_host_ed25519_key <<'KEY'
{{HOST_PRIVATE_KEY}}
KEY
echo '{{HOST_PUBLIC_KEY}}' > /etc/ssh/ssh_host_ed25519_key.pub
id fleet >/dev/null 2>&1 || useradd -m -d /data/home fleet
install -d -m 700 -o fleet /data/home/.ssh
echo '{{SYNC_PUBLIC_KEY}}' > /data/home/.ssh/authorized_keys
chown -R fleet /data/home/.ssh && chmod 600 /data/home/.ssh/authorized_keys
chown fleet /data
command -v rsync >/dev/null || { apt-get update -qq && apt-get install -y -qq rsync; }
systemctl restart ssh || systemctl restart sshd
