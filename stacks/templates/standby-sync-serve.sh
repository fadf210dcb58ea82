#!/bin/bash
# The one command the GPU's sync key may run on its standby: the standby's authorized_keys gives
# that key `restrict,command="/usr/local/bin/fleet-sync-serve"` (no shell, no forwarding, no pty),
# and sshd runs this with the command the client asked for in SSH_ORIGINAL_COMMAND. It lets through
# an rsync server copying into /data (the sync) or out of it (the restore), and nothing else.
# rrsync (rsync's own restricted wrapper) does this too, but it is Perl in rsync 3.2.3 (Ubuntu
# 22.04), Python from 3.2.4 and not on PATH everywhere; this needs only bash and rsync.
set -euo pipefail
refuse() {
  echo "fleet-sync-serve: refused: $1" >&2
  exit 1
}
cmd=${SSH_ORIGINAL_COMMAND:-}
case "$cmd" in *[![:print:]]*) refuse "control characters in the command" ;; esac
# Split on spaces only: no globbing, no expansion, no quotes.
read -r -a argv <<<"$cmd"
[ "${#argv[@]}" -ge 4 ] && [ "${argv[0]}" = rsync ] && [ "${argv[1]}" = --server ] || refuse "not an rsync server"
args=(--server --munge-links)
dot=0
paths=0
i=2
while [ "$i" -lt "${#argv[@]}" ]; do
  a=${argv[$i]}
  case "$a" in
    --sender | --delete | --delay-updates | --ignore-missing-args | --partial-dir=.fleet-partial) ;;
    --modify-window=-1 | -@-1 | --bwlimit=[0-9]* | --timeout=[0-9]*) ;;
    --partial-dir)
      # rsync >= 3.2.4 passes the option and its value as two words.
      i=$((i + 1))
      [ "${argv[$i]:-}" = .fleet-partial ] || refuse "partial dir '${argv[$i]:-}'"
      args+=("$a")
      a=${argv[$i]}
      ;;
    -*)
      # Short options and, after the dot, protocol capabilities (-logDtpre.iLsfxCIvu). Before the
      # dot: no s (--protect-args would send file names where this cannot check them), no M
      # (options for this side), T (a temp dir elsewhere), L, k or K (following symlinks out of /data).
      flags=${a#-}
      flags=${flags%%.*}
      [[ "$a" =~ ^-[A-Za-z]+(\.[A-Za-z]*)?$ ]] || refuse "option '$a'"
      case "$flags" in *[sMTLkK]*) refuse "option '$a'" ;; esac
      ;;
    .)
      dot=$((dot + 1))
      ;;
    *)
      [ "$dot" -eq 1 ] || refuse "a path before '.'"
      [[ "$a" =~ ^/data(/[A-Za-z0-9._@+=,-]+)*/?$ ]] || refuse "path '$a' (only under /data)"
      case "/$a/" in */../* | */./*) refuse "path '$a'" ;; esac
      # A symlink the GPU copied in earlier must not lead the path out of /data.
      real=$(realpath -m -- "$a")
      case "$real" in /data | /data/*) ;; *) refuse "path '$a' leads to '$real'" ;; esac
      paths=$((paths + 1))
      ;;
  esac
  args+=("$a")
  i=$((i + 1))
done
[ "$dot" -eq 1 ] && [ "$paths" -ge 1 ] || refuse "no path under /data"
# Symlinks are stored munged (rsync's --munge-links, as rrsync does): a link the GPU sends cannot
# point anywhere on this host; sending them back (the restore) unmunges them.
exec rsync "${args[@]}"
