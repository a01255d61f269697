#!/usr/bin/env bash
# hvtermd.exe --service under Wine's Service Control Manager: created with sc.exe, started with
# net start, serves an exec, and stops on net stop. Usage: service_under_wine.sh WINE HVTERMD HVTERM
set -euo pipefail
wine=$1 hvtermd=$2 hvterm=$3
to_windows() { local p=$1; echo "Z:${p//\//\\}"; }
name=hvtermd-test-$$
pipe="\\\\.\\pipe\\hvterm-service-test-$$"
"$wine" sc create "$name" binPath= "$(to_windows "$hvtermd") --service --listen unix:$pipe" >/dev/null
trap '"$wine" net stop "$name" >/dev/null 2>&1 || true; "$wine" sc delete "$name" >/dev/null 2>&1 || true' EXIT
# shellcheck source=tests/windows/wine_service_lib.sh
. "$(dirname "$0")/wine_service_lib.sh"
start_service "$wine" "$name"
"$wine" "$hvterm" ping --wait 20s "unix:$pipe" >/dev/null  # the service listens shortly after it starts
out=$("$wine" "$hvterm" exec "unix:$pipe" -- cmd /c echo served-by-the-service | tr -d '\r')
if [ "$out" != "served-by-the-service" ]; then
  echo "unexpected output from the service's session: '$out'" >&2
  exit 1
fi
"$wine" net stop "$name" | tr -d '\r' | grep -q "stopped successfully"
# The SCM keeps no output: the service logs to %ProgramData%\hvterm\hvtermd.log. This run's records
# start at its own pipe's "listening on"; the log may hold earlier runs' before them.
log=$("$wine" cmd /c type 'C:\ProgramData\hvterm\hvtermd.log' | tr -d '\r')
ours=$(printf '%s\n' "$log" | awk -v pipe="hvterm-service-test-$$" 'index($0, pipe) && /listening on/ { on = 1 } on')
for want in "info: listening on unix:" "info: session .* started: cmd /c echo served-by-the-service" \
            "info: stop requested by the service manager, shutting down"; do
  if ! grep -q -- "$want" <<<"$ours"; then
    echo "the service's log has no '$want' for this run; its end:" >&2
    printf '%s\n' "$log" | tail -n 20 >&2
    exit 1
  fi
done
echo "service started, served a session, logged it and stopped"
