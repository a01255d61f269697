# shellcheck shell=bash
# start_service WINE NAME: start the service NAME with `net start` under Wine's Service Control
# Manager, and succeed once the SCM says it is RUNNING.
#
# `net start` failed now and then in a fresh-clone CI run (twice in four tries in one clone, never
# in 25 runs here, 15 of them under load) without saying why. Wine's services.exe answers a start
# request with an error when the service is running already (an auto-start service that a wineboot
# of the prefix started first) or when the service's process is slow to connect to it. So a failed
# `net start` is not the verdict: what it said and the service's state go to stderr, a service the
# SCM reports RUNNING (or is still starting) counts, and a stopped one is started once more. A
# service that never runs still fails.
start_service() {
  local wine=$1 name=$2 out state attempt _
  for attempt in 1 2; do
    out=$("$wine" net start "$name" 2>&1 | tr -d '\r') || true
    grep -q "started successfully" <<<"$out" && return 0
    echo "net start $name (attempt $attempt) did not report the start: $out" >&2
    for _ in $(seq 1 300); do  # up to 30 s while the SCM says it is starting
      state=$("$wine" sc query "$name" 2>&1 | tr -d '\r' | grep -o 'STATE *: *[0-9]* *[A-Z_]*' || true)
      case $state in
        *RUNNING*) echo "the SCM says $name is running: $state" >&2; return 0 ;;
        *START_PENDING*) sleep 0.1 ;;
        *) break ;;
      esac
    done
    echo "the SCM says of $name: ${state:-nothing}" >&2
  done
  return 1
}
