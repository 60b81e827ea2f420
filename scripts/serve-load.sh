#!/usr/bin/env bash
# Load on the prediction server, side by side with the same model's ONNX export in onnxruntime
# behind uvicorn. Never part of CI: it measures, and this machine is shared.
#
# The MNIST preset model is trained and exported. Each server is pinned to core 0 and Debian's
# `wrk` to core 1 (taskset). wrk sends 1-row and 100-row requests (t10k images) at concurrency
# 1, 16 and 64, for DURATION seconds each, and the script prints throughput and p50/p99
# latency as a markdown table.
#   - backprop: `backprop serve --model mnist.safetensors`.
#   - onnxruntime: a plain ASGI handler under uvicorn with 2 workers, intra_op_num_threads=1.
#
# Usage: scripts/serve-load.sh BINARY DATA_DIR [DURATION]
#   needs: wrk (apt), python3 with onnxruntime, numpy and uvicorn (pip), a second core
set -euo pipefail
binary=$(realpath "${1:?usage: scripts/serve-load.sh BINARY DATA_DIR [DURATION]}")
data=$(realpath "${2:?usage: scripts/serve-load.sh BINARY DATA_DIR [DURATION]}")
duration=${3:-5}
work=$(mktemp -d)
server=""
cleanup() {
    if [ -n "$server" ]; then kill "$server" 2> /dev/null || true; wait "$server" 2> /dev/null || true; fi
    rm -rf "$work"
}
trap cleanup EXIT
cd "$work"

"$binary" train -q --data "mnist:$data/mnist" --out mnist.safetensors
"$binary" export mnist.safetensors --format onnx --out mnist.onnx > /dev/null 2>&1

python3 - "$data/mnist/t10k-images-idx3-ubyte.gz" <<'PY'
import gzip, json, sys
raw = gzip.open(sys.argv[1]).read()
pixels = [round(b / 255.0, 4) for b in raw[16:16 + 100 * 784]]
rows = [pixels[i * 784:(i + 1) * 784] for i in range(100)]
for count in (1, 100):
    with open(f"body{count}.json", "w") as handle:
        json.dump({"rows": rows[:count]}, handle)
    with open(f"post{count}.lua", "w") as handle:
        handle.write('wrk.method = "POST"\nwrk.headers["Content-Type"] = "application/json"\n')
        handle.write(f'local f = io.open("body{count}.json"); wrk.body = f:read("*a"); f:close()\n')
PY

cat > onnx_app.py <<'PY'
import json
import numpy as np
import onnxruntime as ort

options = ort.SessionOptions()
options.intra_op_num_threads = 1
options.inter_op_num_threads = 1
session = ort.InferenceSession("mnist.onnx", options, providers=["CPUExecutionProvider"])


async def app(scope, receive, send):
    if scope["type"] != "http":
        return
    body = b""
    while True:
        message = await receive()
        body += message.get("body", b"")
        if not message.get("more_body"):
            break
    if scope["method"] != "POST":
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})
        return
    rows = np.asarray(json.loads(body)["rows"], dtype=np.float32)
    label, probabilities = session.run(None, {"input": rows})
    answer = json.dumps({"predictions": [str(v) for v in label.tolist()],
                         "probabilities": probabilities.tolist()}).encode()
    await send({"type": "http.response.start", "status": 200,
                "headers": [(b"content-type", b"application/json")]})
    await send({"type": "http.response.body", "body": answer})
PY

wait_for() {
    for _ in $(seq 1 100); do
        if curl -s -o /dev/null "http://127.0.0.1:$1/"; then return 0; fi
        sleep 0.1
    done
    echo "the server on port $1 did not start" >&2
    exit 1
}

measure() { # NAME PORT PATH
    for rows in 1 100; do
        for connections in 1 16 64; do
            out=$(taskset -c 1 wrk -t1 -c"$connections" -d"${duration}s" --latency \
                -s "post$rows.lua" "http://127.0.0.1:$2$3")
            python3 - "$1" "$rows" "$connections" "$out" <<'PY'
import re, sys
name, rows, connections, out = sys.argv[1:]
rate = float(re.search(r"Requests/sec:\s+([0-9.]+)", out).group(1))
def latency(p):
    value, unit = re.search(rf"\s{p}%\s+([0-9.]+)(us|ms|s)", out).groups()
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]
errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
note = f" ({errors.group(1)} non-2xx)" if errors else ""
print(f"| {name} | {rows} | {connections} | {rate:,.0f} | {rate * int(rows):,.0f} | "
      f"{latency(50):.2f} | {latency(99):.2f} |{note}")
PY
        done
    done
}

echo "| server | rows/request | concurrency | requests/s | rows/s | p50 ms | p99 ms |"
echo "| --- | --- | --- | --- | --- | --- | --- |"
taskset -c 0 "$binary" serve --model mnist.safetensors --port 18081 2> /dev/null &
server=$!
wait_for 18081
measure "backprop serve" 18081 /v1/predict
kill "$server"; wait "$server" 2> /dev/null || true; server=""

taskset -c 0 python3 -m uvicorn onnx_app:app --port 18082 --workers 2 --log-level warning &
server=$!
wait_for 18082
measure "onnxruntime + uvicorn (2 workers)" 18082 /
kill "$server"; wait "$server" 2> /dev/null || true; server=""
