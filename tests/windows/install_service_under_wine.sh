#!/usr/bin/env bash
# hvtermd.exe --install-service under Wine's Service Control Manager: the service it creates runs
# this hvtermd with --service and the options given, starts, serves an exec, and
# --uninstall-service stops and deletes it. Usage: install_service_under_wine.sh WINE HVTERMD HVTERM
set -euo pipefail
wine=$1 hvtermd=$2 hvterm=$3
name=hvtermd-installed-$$
pipe="\\\\.\\pipe\\hvterm-installed-$$"
fail() { echo "$*" >&2; exit 1; }
# shellcheck source=tests/windows/wine_service_lib.sh
. "$(dirname "$0")/wine_service_lib.sh"
trap '"$wine" "$hvtermd" --uninstall-service --service-name "$name" >/dev/null 2>&1 || true' EXIT

out=$("$wine" "$hvtermd" --install-service --service-name "$name" --listen "unix:$pipe" --log-level debug | tr -d '\r')
[[ $out == "installed the service $name "* ]] || fail "unexpected --install-service output: $out"
key=$("$wine" reg query "HKLM\\System\\CurrentControlSet\\Services\\$name" | tr -d '\r')
grep -q "Start    REG_DWORD    0x2" <<<"$key" || fail "the service does not start automatically: $key"
grep -Fq "hvtermd.exe --service --service-name $name --listen unix:$pipe --log-level debug" <<<"$key" ||
  fail "the service does not run this hvtermd with the options given: $key"

start_service "$wine" "$name" || fail "net start $name failed"
"$wine" "$hvterm" ping --wait 20s "unix:$pipe" >/dev/null  # it listens shortly after it starts
got=$("$wine" "$hvterm" exec "unix:$pipe" -- cmd /c echo served-by-the-installed-service | tr -d '\r')
[ "$got" = "served-by-the-installed-service" ] || fail "unexpected output from the service's session: '$got'"

out=$("$wine" "$hvtermd" --uninstall-service --service-name "$name" | tr -d '\r')
[ "$out" = "removed the service $name" ] || fail "unexpected --uninstall-service output: $out"
if "$wine" sc query "$name" >/dev/null 2>&1; then fail "the service $name is still there"; fi
if "$wine" "$hvterm" exec --connect-timeout 5s "unix:$pipe" -- cmd /c echo x >/dev/null 2>&1; then
  fail "the agent still serves after --uninstall-service"
fi
err=$("$wine" "$hvtermd" --uninstall-service --service-name "$name" 2>&1 >/dev/null | tr -d '\r') && fail "a second uninstall succeeded"
[ "$err" = "hvtermd: there is no service named $name" ] || fail "unexpected error for a missing service: $err"

# --install-service=true is --install-service too, and stays out of the service's command line.
out=$("$wine" "$hvtermd" --install-service=true --service-name "$name" --listen "unix:$pipe" | tr -d '\r')
trap '"$wine" "$hvtermd" --uninstall-service --service-name "$name" >/dev/null 2>&1 || true' EXIT
[[ $out == "installed the service $name "*"hvtermd.exe --service --service-name $name --listen unix:$pipe" ]] ||
  fail "unexpected --install-service=true output: $out"
"$wine" "$hvtermd" --uninstall-service --service-name "$name" >/dev/null
trap - EXIT
echo "installed, started, served a session, stopped and removed"
