#!/usr/bin/env bash
# Load figures for `mnistnet serve` with wrk (Debian's package, installed when missing).
#
#   scripts/serve_bench.sh --model M.mnn [--duration 30] [--connections 32] [--images 1]
#                          [--threads 2] [--wrk-threads 2] [--bad N] [--reload N]
#                          [--ort MODEL.onnx] [--serve-args "..."]
#
# Starts `build/mnistnet serve` on a free loopback port, drives POST :predict with wrk (a Lua
# script sends {"instances": [...]} of --images 28x28 images per request), and prints one JSON
# line: requests/s, images/s, p50/p90/p99 latency (ms), errors, and the server's RSS before and
# after. --bad N mixes N bad requests (malformed JSON, wrong shape, NaN, string pixel, unknown
# model, undecodable image, over the body limit) into the load and counts their answers apart:
# every bad one must be a 4xx, every good one a 200. --reload N replaces the model file N times
# during the run (the server reloads it; no request may fail). --ort MODEL.onnx runs the same load
# against ONNX Runtime behind Node (../shared/bench/ort_server.js; onnxruntime-node from
# ~/.cache/mnistnet-ort, see ../shared/bench/README.md) instead.
#
# wrk and the server share the machine: the figures are for comparing, on one machine, in one
# session.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
script_name=serve_bench
# shellcheck source=scripts/lib/common.sh
source "$root/scripts/lib/common.sh"

model="" duration=30 connections=32 images=1 threads=2 wrk_threads=2 bad=0 reloads=0 ort=""
serve_args=""
while (($#)); do
  case $1 in
    --model) model=$2; shift 2 ;;
    --duration) duration=$2; shift 2 ;;
    --connections) connections=$2; shift 2 ;;
    --images) images=$2; shift 2 ;;
    --threads) threads=$2; shift 2 ;;
    --wrk-threads) wrk_threads=$2; shift 2 ;;
    --bad) bad=$2; shift 2 ;;
    --reload) reloads=$2; shift 2 ;;
    --ort) ort=$2; shift 2 ;;
    --serve-args) serve_args=$2; shift 2 ;;
    -h | --help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) die "unknown option $1 (see --help)" ;;
  esac
done
[[ -n $model || -n $ort ]] || die "--model M.mnn (or --ort MODEL.onnx) is needed"
if ! command -v wrk >/dev/null 2>&1; then
  log "installing wrk"
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >&2 || die "no wrk"
fi

work=$(mktemp -d)
server_pid=""
cleanup() {
  [[ -n $server_pid ]] && kill "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
python3 - "$work" "$images" <<'PY'
import json, sys, base64
work, n = sys.argv[1], int(sys.argv[2])
img = lambda k: [[(r * 7 + c * 13 + k * 29) % 256 if 4 <= r < 24 and 6 <= c < 22 else 0
                  for c in range(28)] for r in range(28)]
open(work + "/good.json", "w").write(json.dumps({"instances": [img(k) for k in range(n)]}))
one = json.dumps({"instances": [img(0)]})
bad = {
    "malformed": one[:-7],
    "shape": json.dumps({"instances": [img(0)[:27]]}),
    "nan": one.replace("0,", "NaN,", 1),
    "string": one.replace("0,", "\"0\",", 1),
    "image": json.dumps({"instances": [{"b64": base64.b64encode(b"\x89PNG\r\n\x1a\n junk").decode()}]}),
    "huge": json.dumps({"instances": [img(0)] * 400}),  # over the 1 MB limit set below
}
for k, v in bad.items():
    open(work + "/bad_" + k + ".json", "w").write(v)
PY

cat >"$work/load.lua" <<EOF
local dir = "$work/"
local function slurp(name) local f = assert(io.open(dir .. name, "rb")); local s = f:read("*a"); f:close(); return s end
local bad_total = $bad
local good_path = "/v1/models/bench:predict"
local headers = {["Content-Type"] = "application/json"}
local good, bad = nil, {}
local kinds = {"malformed", "shape", "nan", "string", "image", "huge", "unknown_model"}
local threads = {}
function setup(thread) table.insert(threads, thread) end
function init(args)
  good = wrk.format("POST", good_path, headers, slurp("good.json"))
  for _, k in ipairs(kinds) do
    local body = k == "unknown_model" and slurp("good.json") or slurp("bad_" .. k .. ".json")
    local path = k == "unknown_model" and "/v1/models/nobody:predict" or good_path
    bad[k] = wrk.format("POST", path, headers, body)
  end
  sent, bad_sent, bad_4xx, bad_other, good_ok, good_failed = 0, 0, 0, 0, 0, 0
  bad_quota = math.floor(bad_total / $wrk_threads)
end
function request()
  sent = sent + 1
  if bad_sent < bad_quota and sent % 8 == 0 then
    bad_sent = bad_sent + 1
    return bad[kinds[(bad_sent % #kinds) + 1]]
  end
  return good
end
function response(status, headers, body)
  if string.sub(body, 1, 9) == '{"error":' then
    if status >= 400 and status < 500 then bad_4xx = bad_4xx + 1 else bad_other = bad_other + 1 end
  elseif status == 200 then good_ok = good_ok + 1
  else good_failed = good_failed + 1 end
end
function done(summary, latency, requests)
  local t = {bad_sent = 0, bad_4xx = 0, bad_other = 0, good_ok = 0, good_failed = 0}
  for _, th in ipairs(threads) do for k, _ in pairs(t) do t[k] = t[k] + th:get(k) end end
  local e = summary.errors
  io.write(string.format('{"requests": %d, "seconds": %.3f, "requests_per_sec": %.1f, ' ..
    '"p50_ms": %.3f, "p90_ms": %.3f, "p99_ms": %.3f, "max_ms": %.3f, ' ..
    '"socket_errors": %d, "connect_errors": %d, "read_errors": %d, "write_errors": %d, ' ..
    '"timeouts": %d, "non_2xx": %d, "bad_sent": %d, "bad_4xx": %d, "bad_other": %d, ' ..
    '"good_ok": %d, "good_failed": %d}\n',
    summary.requests, summary.duration / 1e6, summary.requests / (summary.duration / 1e6),
    latency:percentile(50) / 1e3, latency:percentile(90) / 1e3, latency:percentile(99) / 1e3,
    latency.max / 1e3, e.connect + e.read + e.write + e.timeout, e.connect, e.read, e.write,
    e.timeout, e.status,
    t.bad_sent, t.bad_4xx, t.bad_other, t.good_ok, t.good_failed))
end
EOF

rss_kb() { awk '/^VmRSS/ {print $2}' "/proc/$1/status"; }
wait_port() {
  for _ in $(seq 1 300); do
    python3 -c "import socket; socket.create_connection(('127.0.0.1', $port), 1)" 2>/dev/null && return 0
    sleep 0.1
  done
  die "the server did not start: $(cat "$work/server.log")"
}

if [[ -n $ort ]]; then
  ort_dir=${MNISTNET_ORT_DIR:-$HOME/.cache/mnistnet-ort}
  NODE_PATH=$ort_dir/node_modules node "$root/../shared/bench/ort_server.js" "$ort" --shape 1,28,28 \
    --port "$port" --threads "$threads" >"$work/server.log" 2>&1 &
  server_pid=$!
else
  served=$work/served.mnn
  cp "$model" "$served"
  # shellcheck disable=SC2086
  "$root/build/mnistnet" serve --model "$served" --name bench --port "$port" --threads "$threads" \
    --max-body-bytes 1000000 $serve_args >"$work/server.log" 2>&1 &
  server_pid=$!
fi
wait_port
# A warm-up of good requests, then the RSS the steady state starts from.
sed "s/^local bad_total = .*/local bad_total = 0/" "$work/load.lua" >"$work/warm.lua"
wrk -t1 -c"$connections" -d3s -s "$work/warm.lua" "http://127.0.0.1:$port" >/dev/null 2>&1 || true
rss_before=$(rss_kb "$server_pid")

reloader_pid=""
if ((reloads > 0)) && [[ -z $ort ]]; then
  (
    gap=$(python3 -c "print($duration / ($reloads + 1))")
    for _ in $(seq 1 "$reloads"); do
      sleep "$gap"
      cp "$model" "$served.tmp" && mv "$served.tmp" "$served" # a new file: the watcher reloads
      kill -HUP "$server_pid"                                 # and SIGHUP, the other way in
    done
  ) &
  reloader_pid=$!
fi
result=$(wrk -t"$wrk_threads" -c"$connections" -d"${duration}s" --timeout 10s -s "$work/load.lua" \
  "http://127.0.0.1:$port" | grep '^{"requests"')
[[ -z $reloader_pid ]] || wait "$reloader_pid"
rss_after=$(rss_kb "$server_pid")
version=0
if [[ -z $ort ]]; then
  version=$(python3 -c "import urllib.request, json; print(json.load(urllib.request.urlopen('http://127.0.0.1:$port/v1/models/bench'))['model_version_status'][0]['version'])")
fi
server=mnistnet
[[ -z $ort ]] || server=ort_node
python3 - "$result" "$images" "$rss_before" "$rss_after" "$version" "$server" <<'PY'
import json, sys
r = json.loads(sys.argv[1])
r["server"] = sys.argv[6]
r["images_per_request"] = int(sys.argv[2])
r["images_per_sec"] = round(r["good_ok"] * int(sys.argv[2]) / r["seconds"], 1)
r["rss_before_mb"] = round(int(sys.argv[3]) / 1024, 1)
r["rss_after_mb"] = round(int(sys.argv[4]) / 1024, 1)
if r["server"] == "mnistnet":
    r["model_version_after"] = int(sys.argv[5])
print(json.dumps(r))
PY
