#!/usr/bin/env bash
# A rough first figure for accepted notifications per second: wrk with keep-alive drives
# POST /v2/notifications/email on a release build, with one JWT made just before the run (a
# token stays valid for 30 s, so runs are kept short). The throughput issue replaces this with
# the full benchmark (ceiling, latency percentiles, CPU, RSS).
# Usage: bench/quick_accept.sh path/to/herald [seconds] [connections]
set -euo pipefail
HERALD=${1:?path to herald}
SECONDS_RUN=${2:-10}
CONNECTIONS=${3:-32}
work=$(mktemp -d)
trap 'kill $server $sink 2>/dev/null || true; rm -rf "$work"' EXIT
here=$(cd "$(dirname "$0")" && pwd)

/usr/bin/python3 "$here/../tests/tools/smtp_sink.py" --maildir "$work/mail" --port-file "$work/smtp-port" --quiet &
sink=$!
while [ ! -s "$work/smtp-port" ]; do sleep 0.05; done
"$HERALD" init --data-dir "$work/data" --port 0 --smtp-port "$(cat "$work/smtp-port")" > /dev/null
sed -i 's/^level = "info"/level = "warn"/' "$work/data/herald.toml"
config="$work/data/herald.toml"
service=$("$HERALD" --config "$config" service create --name bench)
key=$("$HERALD" --config "$config" key create --service "$service" --type live --name bench)
printf 'Dear ((name)),\n\nYour appointment is on ((date)).\n' > "$work/body.txt"
template=$("$HERALD" --config "$config" template create --service "$service" --type email --name t --subject 'Hi ((name))' --body-file "$work/body.txt")
# --role api: this measures accepting (durable, encrypted); delivery has its own benchmark.
"$HERALD" --config "$config" serve --role api --ready-file "$work/ready" 2> "$work/server.log" &
server=$!
while [ ! -s "$work/ready" ]; do sleep 0.05; done
port=$(cat "$work/ready")

token=$(/usr/bin/python3 - "$key" <<'PY'
import base64, hashlib, hmac, json, sys, time
key = sys.argv[1]
enc = lambda b: base64.urlsafe_b64encode(b).rstrip(b"=")
signing = enc(b'{"typ":"JWT","alg":"HS256"}') + b"." + enc(json.dumps({"iss": key[-73:-37], "iat": int(time.time())}).encode())
print((signing + b"." + enc(hmac.new(key[-36:].encode(), signing, hashlib.sha256).digest())).decode())
PY
)
cat > "$work/post.lua" <<LUA
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer $token"
wrk.body = '{"email_address":"someone@example.com","template_id":"$template","personalisation":{"name":"Ada","date":"1 May"}}'
done = function(summary, latency, requests)
  io.write(string.format("accepted/s %.0f  errors %d  p50 %.2f ms  p99 %.2f ms\n",
    summary.requests / (summary.duration / 1e6), summary.errors.status + summary.errors.connect,
    latency:percentile(50) / 1000, latency:percentile(99) / 1000))
end
LUA
wrk -t 2 -c "$CONNECTIONS" -d "${SECONDS_RUN}s" -s "$work/post.lua" "https://127.0.0.1:$port/v2/notifications/email" | tail -1
