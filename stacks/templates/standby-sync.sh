#!/bin/bash
# Fleet standby sync: copies the GPU host's work to its standby every FLEET_SYNC_INTERVAL seconds.
# Installed on the GPU host by the StandbyPair component (systemd timer or a loop under the image's
# supervisor); configured by /etc/fleet-sync.env or the environment:
#   FLEET_SYNC_TARGET    user@standby:/data (or a local directory)
#   FLEET_SYNC_PATHS     space-separated absolute paths to copy
#   FLEET_SYNC_INTERVAL  seconds between copies (default 30)
#   FLEET_SYNC_SSH       ssh command with the standby's host key pinned, e.g.
#                        "ssh -i /root/.ssh/fleet -o UserKnownHostsFile=/etc/fleet-known-hosts -o StrictHostKeyChecking=yes"
#   FLEET_SYNC_STAMP     file that records the last successful copy (default /var/run/fleet-sync.last)
#   FLEET_SYNC_ONCE=1    copy once and exit with rsync's status
#   FLEET_SYNC_RESTORE=1 the other way, once: pull the standby's copy of each path onto this host
#                        (merging, nothing deleted here; a path the standby lacks is skipped), then exit.
#                        A new GPU runs this before its first copy, so an empty work directory never
#                        replaces the standby's copy (the copy uses --delete).
# --delay-updates puts every changed file in place only at the end of a transfer, and files are
# written under temporary names first: an interrupted copy never leaves a half-written file behind.
# --modify-window=-1 compares modification times to the nanosecond, so a same-size rewrite within
# one second is not skipped.
set -uo pipefail
[ -f /etc/fleet-sync.env ] && . /etc/fleet-sync.env
: "${FLEET_SYNC_TARGET:?FLEET_SYNC_TARGET is not set}" "${FLEET_SYNC_PATHS:?FLEET_SYNC_PATHS is not set}"
interval="${FLEET_SYNC_INTERVAL:-30}"
ssh_cmd="${FLEET_SYNC_SSH:-ssh -o StrictHostKeyChecking=yes}"
stamp="${FLEET_SYNC_STAMP:-/var/run/fleet-sync.last}"

sync_once() {
  local status=0
  for path in $FLEET_SYNC_PATHS; do
    # shellcheck disable=SC2086 # FLEET_SYNC_RSYNC_OPTS is a list of options
    rsync -a --delete --delay-updates --partial-dir=.fleet-partial --modify-window=-1 ${FLEET_SYNC_RSYNC_OPTS:-} -e "$ssh_cmd" "$path" "$FLEET_SYNC_TARGET/" || status=$?
  done
  if [ "$status" -eq 0 ]; then date -u +%Y-%m-%dT%H:%M:%SZ > "$stamp"; fi
  return "$status"
}

restore_once() {
  local path
  for path in $FLEET_SYNC_PATHS; do
    mkdir -p "$(dirname "$path")"
    # No trailing slash: the standby's <target>/<basename> lands as <path>; missing there is not an error.
    # shellcheck disable=SC2086
    rsync -a --ignore-missing-args --modify-window=-1 ${FLEET_SYNC_RSYNC_OPTS:-} -e "$ssh_cmd" "$FLEET_SYNC_TARGET/$(basename "$path")" "$(dirname "$path")/" || return $?
  done
  date -u +%Y-%m-%dT%H:%M:%SZ > "$stamp.restored"
}

if [ "${FLEET_SYNC_RESTORE:-0}" = 1 ]; then
  restore_once
  exit $?
fi
if [ "${FLEET_SYNC_ONCE:-0}" = 1 ]; then
  sync_once
  exit $?
fi
while true; do
  sync_once || logger -t fleet-sync "copy to $FLEET_SYNC_TARGET failed (status $?); retrying in ${interval}s"
  sleep "$interval"
done
