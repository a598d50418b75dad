#!/usr/bin/env bash
# Two `t5 serve` replicas behind nginx on loopback, the load test through nginx, one replica killed (SIGKILL, a
# crash) in the middle: shows that nginx retries the unstreamed requests the dead replica never answered on the
# other one, so none is lost.
#
#   bash Deploy/run-failover.sh --model DIR [--t5 PATH] [--python PY] [--clients 8] [--duration 40]
#                               [--kill-after 15] [--restart-after 0] [--threads 1] [--port-base 18080] [--out DIR]
#
# --model        the model folder both replicas serve (e.g. fixtures-large/flan-t5-small, or Models/demo-t5)
# --t5           the t5 binary (default .build/release/t5; build it with `swift build -c release`)
# --python       a Python with Scripts/requirements-server.txt installed (default .venv-server/bin/python)
# --clients      concurrent clients of Scripts/load_test.py (default 8), all unstreamed (--stream-fraction 0)
# --duration     seconds the load runs (default 40)
# --kill-after   seconds into the load when replica 1 is killed with SIGKILL (default 15)
# --restart-after  seconds after the kill to start replica 1 again (default 0: it stays down)
# --threads      --threads of each replica (default 1: two replicas share the 2 cores of this machine)
# --port-base    nginx listens on it, the replicas on +1 and +2 (default 18080), all on 127.0.0.1
# --out          where the load test's table / JSON / PNG and the nginx access log are kept (default: a temp dir)
#
# nginx runs from Deploy/nginx/t5-serve.conf itself, with only the ports and the log path rewritten, under a
# minimal top-level nginx.conf in a temporary prefix (no system nginx configuration is read or touched).
# Exit status 0 only when no request failed, at least one request was retried on the other replica, and the
# killed replica had answered requests before the kill. Needs Debian's nginx (`apt-get install -y nginx`) and curl.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)

model="" t5="$root/.build/release/t5" python="$root/.venv-server/bin/python"
clients=8 duration=40 kill_after=15 restart_after=0 threads=1 port_base=18080 out=""
while [ $# -gt 0 ]; do
    case "$1" in
        --model) model=$2; shift 2 ;;
        --t5) t5=$2; shift 2 ;;
        --python) python=$2; shift 2 ;;
        --clients) clients=$2; shift 2 ;;
        --duration) duration=$2; shift 2 ;;
        --kill-after) kill_after=$2; shift 2 ;;
        --restart-after) restart_after=$2; shift 2 ;;
        --threads) threads=$2; shift 2 ;;
        --port-base) port_base=$2; shift 2 ;;
        --out) out=$2; shift 2 ;;
        -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
        *) echo "run-failover.sh: unknown argument '$1' (see --help)" >&2; exit 2 ;;
    esac
done
die() { echo "run-failover.sh: $*" >&2; exit 2; }
[ -n "$model" ] || die "--model DIR is required"
[ -d "$model" ] || die "no model folder at $model"
[ -x "$t5" ] || die "no t5 binary at $t5 (swift build -c release, or --t5 PATH)"
[ -x "$python" ] || die "no Python at $python (python3 -m venv .venv-server && .venv-server/bin/pip install -r Scripts/requirements-server.txt, or --python PY)"
command -v nginx >/dev/null || die "nginx is not installed (apt-get install -y nginx)"
command -v curl >/dev/null || die "curl is not installed"

nginx_port=$port_base replica1=$((port_base + 1)) replica2=$((port_base + 2))
work=$(mktemp -d /tmp/t5-failover.XXXXXX)
out=${out:-$work}
mkdir -p "$out"
pids=()
cleanup() {
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
    for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
}
trap cleanup EXIT

# nginx: the shipped server configuration with this run's ports, inside a minimal nginx.conf of our own.
sed -e "s/server 127.0.0.1:8081 /server 127.0.0.1:$replica1 /" \
    -e "s/server 127.0.0.1:8082 /server 127.0.0.1:$replica2 /" \
    -e "s/listen 127.0.0.1:8080;/listen 127.0.0.1:$nginx_port;/" \
    -e "s#/var/log/nginx/t5-serve.access.log#$out/nginx-access.log#" \
    "$root/Deploy/nginx/t5-serve.conf" > "$work/t5-serve.conf"
grep -q "127.0.0.1:$replica1 " "$work/t5-serve.conf" && grep -q "127.0.0.1:$replica2 " "$work/t5-serve.conf" \
    || die "Deploy/nginx/t5-serve.conf no longer has the upstream lines this script rewrites"
user_line=""
if [ "$(id -u)" = 0 ]; then
    # nginx's workers drop root; they need to write the temporary folders and the log.
    user_line="user www-data;"
    chmod 755 "$work"
fi
cat > "$work/nginx.conf" <<EOF
$user_line
worker_processes 1;
pid $work/nginx.pid;
error_log $work/nginx-error.log warn;
events { worker_connections 1024; }
http {
    client_body_temp_path $work/client_body;
    proxy_temp_path $work/proxy;
    fastcgi_temp_path $work/fastcgi;
    uwsgi_temp_path $work/uwsgi;
    scgi_temp_path $work/scgi;
    include $work/t5-serve.conf;
}
EOF
if [ -n "$user_line" ]; then mkdir -p "$work"/{client_body,proxy,fastcgi,uwsgi,scgi}; chown www-data "$work"/{client_body,proxy,fastcgi,uwsgi,scgi}; fi
nginx -t -q -p "$work" -c "$work/nginx.conf"

start_replica() {  # $1 = 1 or 2
    local port=$((port_base + $1))
    "$t5" serve --model "$model" --host 127.0.0.1 --port "$port" --threads "$threads" >> "$work/replica$1.log" 2>&1 &
    pids+=($!)
    eval "replica${1}_pid=$!"
}
wait_ready() {  # $1 = port
    for _ in $(seq 1 600); do
        curl -sf "http://127.0.0.1:$1/ready" >/dev/null 2>&1 && return 0
        sleep 0.2
    done
    die "nothing ready on port $1 after 120 s (logs in $work)"
}

echo "== two replicas of $t5 serve --model $model --threads $threads on 127.0.0.1:$replica1 and :$replica2"
start_replica 1
start_replica 2
wait_ready "$replica1"
wait_ready "$replica2"
echo "== nginx $(nginx -v 2>&1 | sed 's/.*nginx\///') on 127.0.0.1:$nginx_port (Deploy/nginx/t5-serve.conf)"
nginx -p "$work" -c "$work/nginx.conf" -g 'daemon off;' &
pids+=($!)
wait_ready "$nginx_port"

echo "== load test through nginx: $clients clients, unstreamed, $duration s; replica 1 (pid $replica1_pid) is killed after $kill_after s"
"$python" "$root/Scripts/load_test.py" --base-url "http://127.0.0.1:$nginx_port" --clients "$clients" \
    --duration "$duration" --min-requests 1 --stream-fraction 0 --prompts 8 --out "$out/failover" \
    --title "through nginx, 2 replicas, replica 1 killed after ${kill_after} s" > "$work/load.log" 2>&1 &
load_pid=$!
pids+=($load_pid)
# The clock starts when the measured run starts (after the prompts are built and the warm-up request).
for _ in $(seq 1 1200); do
    grep -q "^warm-up:" "$work/load.log" && break
    kill -0 "$load_pid" 2>/dev/null || { cat "$work/load.log"; die "the load test ended early"; }
    sleep 0.1
done
grep -q "^warm-up:" "$work/load.log" || die "the load test did not start within 120 s"
sleep "$kill_after"
kill_ms=$(date +%s%3N)
kill -KILL "$replica1_pid"
echo "== $(date -u +%H:%M:%S) killed replica 1 (SIGKILL)"
if [ "$restart_after" != 0 ]; then
    sleep "$restart_after"
    start_replica 1
    echo "== $(date -u +%H:%M:%S) started replica 1 again (pid $replica1_pid)"
fi
load_status=0
wait "$load_pid" || load_status=$?
cat "$work/load.log"

echo "== nginx access log ($out/nginx-access.log)"
check_status=0
"$python" - "$out/nginx-access.log" "$kill_ms" "127.0.0.1:$replica1" "127.0.0.1:$replica2" "$out/failover.json" <<'EOF' || check_status=$?
import json, re, sys
log, kill_ms, r1, r2, result = sys.argv[1], int(sys.argv[2]) / 1000, sys.argv[3], sys.argv[4], sys.argv[5]
line_re = re.compile(r'\] (?P<msec>[\d.]+) "(?P<request>[^"]*)" (?P<status>\d+) \S+ (?P<rtime>\S+) '
                     r'upstream=(?P<up>.*?) ustatus=(?P<ustatus>.*?) utime=')
rows = []
for line in open(log):
    m = line_re.search(line)
    if m and m["request"].startswith("POST /v1/completions"):
        rows.append((float(m["msec"]), int(m["status"]), [u.strip() for u in m["up"].split(",")],
                     m["ustatus"], line.rstrip()))
retried = [r for r in rows if len(r[2]) > 1]
failed = [r for r in rows if r[1] != 200]
before = [r for r in rows if r[0] < kill_ms]
by_r1_before = sum(1 for r in before if r[2][-1] == r1)
by_r2_before = sum(1 for r in before if r[2][-1] == r2)
after = [r for r in rows if r[0] >= kill_ms]
print(f"POST /v1/completions through nginx: {len(rows)}; answered before the kill: replica 1 {by_r1_before}, "
      f"replica 2 {by_r2_before}; after: replica 1 {sum(1 for r in after if r[2][-1] == r1)}, "
      f"replica 2 {sum(1 for r in after if r[2][-1] == r2)}")
print(f"retried on the other replica: {len(retried)}; answered with a status other than 200: {len(failed)}")
for r in retried[:6]:
    print("  " + r[4])
if len(retried) > 6:
    print(f"  ... {len(retried) - 6} more")
for r in failed[:6]:
    print("  FAILED " + r[4])
levels = json.load(open(result))["levels"]
lost = sum(level["failed"] for level in levels)
sent = sum(level["requests"] for level in levels)
print(f"load test: {sent} requests, {lost} failed")
ok = lost == 0 and not failed and retried and by_r1_before > 0
print("failover: " + ("PASS: no request lost; " + f"{len(retried)} retried by nginx on the other replica"
                      if ok else "FAIL" + ("" if retried else " (no request was retried: the kill hit nothing in flight)")))
sys.exit(0 if ok else 1)
EOF
[ "$load_status" = 0 ] || { echo "the load test exited with $load_status"; exit 1; }
exit "$check_status"
