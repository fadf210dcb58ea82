#!/bin/bash
# Startup script of a Fleet standby VM (pair {{PAIR_ID}}). Rendered by stacks/standby.ts.
# Mounts the pair's data disk (its own resource: it outlives this VM) at /data, publishes this VM's
# own SSH host key (made here, never in metadata) as the guest attribute fleet/host-ed25519, which
# Fleet reads through Compute Engine's API for the GPU to pin, and lets the pair's key in for the
# sync user, for the sync alone
# (fleet-sync-serve: an rsync server into or out of /data). The user's home and its authorized_keys
# are root's, off /data: nothing the GPU copies in can change who may log in.
set -euo pipefail
disk=/dev/disk/by-id/google-data
mkdir -p /data
blkid "$disk" >/dev/null 2>&1 || mkfs.ext4 -q -L fleet-data "$disk"
mountpoint -q /data || mount "$disk" /data
[ -s /etc/ssh/ssh_host_ed25519_key ] || ssh-keygen -q -t ed25519 -N '' -f /etc/ssh/ssh_host_ed25519_key
md=http://metadata.google.internal/computeMetadata/v1/instance/guest-attributes/fleet/host-ed25519
until curl -fsS -X PUT -H "Metadata-Flavor: Google" --data-binary @/etc/ssh/ssh_host_ed25519_key.pub "$md"; do sleep 5; done
install -m 755 /dev/stdin /usr/local/bin/fleet-sync-serve <<'SCRIPT'
{{SERVE_SCRIPT}}
SCRIPT
id fleet >/dev/null 2>&1 || useradd -M -d /var/lib/fleet-sync -s /bin/bash fleet
install -d -m 755 -o root -g root /var/lib/fleet-sync /var/lib/fleet-sync/.ssh
echo 'restrict,command="/usr/local/bin/fleet-sync-serve" {{SYNC_PUBLIC_KEY}}' > /var/lib/fleet-sync/.ssh/authorized_keys
chmod 644 /var/lib/fleet-sync/.ssh/authorized_keys
chown fleet /data
command -v rsync >/dev/null || { apt-get update -qq && apt-get install -y -qq rsync; }
systemctl restart ssh || systemctl restart sshd
