#!/usr/bin/env python3
"""mnistnet serve end to end: a real server on loopback (an ephemeral port), real clients
(Python's urllib and curl). Every endpoint, every fault, batched answers equal to unbatched
ones, reload under requests, SIGTERM with requests in flight. Exits 1 at the first failure.

  serve_e2e.py --binary build/mnistnet --model A.mnn --other B.mnn --broken BROKEN.mnn \
               --image digit.png --workdir DIR
"""
import argparse
import base64
import concurrent.futures
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request


def fail(message):
    print("FAIL: " + message, flush=True)
    raise SystemExit(1)


def check(condition, message):
    if not condition:
        fail(message)


class Server:
    def __init__(self, binary, model, workdir, *extra):
        self.log_path = os.path.join(workdir, "server.log")
        self.log = open(self.log_path, "w")
        args = [binary, "serve", "--model", model, "--port", "0", "--name", "digits",
                "--client-timeout-ms", "1000", "--watch-ms", "200",
                "--max-body-bytes", "3000000", *extra]
        self.proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=self.log, text=True)
        line = self.proc.stdout.readline()
        check("http://" in line, "no listening line from the server: %r (log: %s)"
              % (line, self.read_log()))
        self.base = line.split(" on ")[1].split("/v1/")[0].strip()
        self.port = int(self.base.rsplit(":", 1)[1])
        self.url = self.base + "/v1/models/digits"

    def read_log(self):
        self.log.flush()
        with open(self.log_path) as f:
            return f.read()

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        return self.proc.wait(timeout=30)


def request(url, body=None, method=None, raw=None):
    """(status, parsed JSON or text) for one request with urllib."""
    data = raw if raw is not None else (None if body is None else json.dumps(body).encode())
    req = urllib.request.Request(url, data=data, method=method)
    if data is not None:
        req.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            status, text, ctype = r.status, r.read().decode(), r.headers.get("Content-Type", "")
    except urllib.error.HTTPError as e:
        status, text, ctype = e.code, e.read().decode(), e.headers.get("Content-Type", "")
    if "json" in ctype:
        return status, json.loads(text)
    return status, text


def digit_pixels(k):
    """A deterministic 28x28 picture, pixels 0..255."""
    return [[(r * 7 + c * 13 + k * 29) % 256 if 4 <= r < 24 and 6 <= c < 22 else 0
             for c in range(28)] for r in range(28)]


def expect_error(status_body, status, contains):
    status_got, body = status_body
    check(status_got == status, "expected %d, got %d: %r" % (status, status_got, body))
    check(isinstance(body, dict) and isinstance(body.get("error"), str),
          "no {\"error\": ...} body: %r" % (body,))
    check(contains in body["error"], "error %r does not mention %r" % (body["error"], contains))


def test_endpoints(s, image_b64):
    status, body = request(s.url)
    check(status == 200, "status: %d %r" % (status, body))
    v = body["model_version_status"][0]
    check(v["version"] == "1" and v["state"] == "AVAILABLE" and v["status"]["error_code"] == "OK",
          "status body %r" % body)
    check(request(s.url + "/versions/1")[0] == 200, "status of version 1")

    status, meta = request(s.url + "/metadata")
    check(status == 200, "metadata: %d" % status)
    check(meta["model_spec"]["name"] == "digits" and meta["model_spec"]["version"] == "1", meta)
    sig = meta["metadata"]["signature_def"]["signature_def"]["serving_default"]
    dims = [d["size"] for d in sig["inputs"]["images"]["tensor_shape"]["dim"]]
    check(dims == ["-1", "28", "28", "1"], "input dims %r" % dims)
    check(sig["inputs"]["images"]["dtype"] == "DT_FLOAT", sig)
    check([d["size"] for d in sig["outputs"]["probabilities"]["tensor_shape"]["dim"]] ==
          ["-1", "10"], sig)
    check(meta["metadata"]["class_names"] == [str(i) for i in range(10)], meta)

    img = digit_pixels(1)
    status, p = request(s.url + ":predict", {"instances": [img]})
    check(status == 200, "predict: %d %r" % (status, p))
    probs = p["predictions"][0]
    check(len(probs) == 10 and abs(sum(probs) - 1) < 1e-5, "probabilities %r" % probs)
    # The same example in every accepted form gives the same answer.
    same = [
        {"instances": [[[[v] for v in row] for row in img]]},
        {"instances": [[v for row in img for v in row]]},
        {"instances": [{"images": img}]},
        {"signature_name": "serving_default", "instances": [img]},
    ]
    for b in same:
        status, q = request(s.url + ":predict", b)
        check(status == 200 and q["predictions"] == p["predictions"], "form %s: %r" % (
            json.dumps(b)[:60], q))
    status, q = request(s.url + ":predict", {"inputs": [img]})
    check(status == 200 and q["outputs"] == p["predictions"], "columnar: %r" % q)
    status, q = request(s.url + ":predict", {"inputs": {"images": [img, img]}})
    check(status == 200 and q["outputs"] == p["predictions"] * 2, "columnar named: %r" % q)
    status, q = request(s.url + "/versions/1:predict", {"instances": [img]})
    check(status == 200 and q == p, "versioned predict")

    status, q = request(s.url + ":predict", {"instances": [{"b64": image_b64}]})
    check(status == 200 and len(q["predictions"][0]) == 10, "b64 predict: %r" % (q,))

    status, c = request(s.url + ":classify", {"examples": [{"images": img}, {"x": img}]})
    check(status == 200, "classify: %d %r" % (status, c))
    pairs = c["result"][0]
    check(len(pairs) == 10 and c["result"][1] == pairs, "classify result %r" % c)
    scores = [sc for _, sc in pairs]
    check(scores == sorted(scores, reverse=True), "classify not best first: %r" % pairs)
    check(sorted(lbl for lbl, _ in pairs) == [str(i) for i in range(10)], pairs)
    best = max(range(10), key=lambda i: probs[i])
    check(pairs[0] == [str(best), probs[best]], "classify best %r vs predict %r" % (pairs[0], best))

    # curl, as a TensorFlow Serving user would call it.
    curl = shutil.which("curl")
    if curl:
        out = subprocess.run([curl, "-s", "-X", "POST", "-d", json.dumps({"instances": [img]}),
                              s.url + ":predict"], capture_output=True, text=True, timeout=30)
        check(out.returncode == 0 and json.loads(out.stdout) == p, "curl predict: %r" % out.stdout)
        out = subprocess.run([curl, "-s", "-o", "/dev/null", "-w", "%{http_code}",
                              s.url.replace("digits", "nope")], capture_output=True, text=True)
        check(out.stdout == "404", "curl unknown model: %r" % out.stdout)
    else:
        print("note: no curl; its checks skipped", flush=True)

    status, m = request(s.base + "/metrics")
    check(status == 200, "metrics %d" % status)
    for needle in ['mnistnet_requests_total{endpoint="predict",code="200"}',
                   "mnistnet_request_duration_seconds_bucket{le=\"+Inf\"}",
                   "mnistnet_batch_size_bucket", "mnistnet_model_version 1"]:
        check(needle in m, "metrics lack %s:\n%s" % (needle, m))


def raw_exchange(port, data, read=True, timeout=10):
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        sock.sendall(data)
        if not read:
            return b""
        chunks = []
        try:
            while True:
                chunk = sock.recv(65536)
                if not chunk:
                    break
                chunks.append(chunk)
        except socket.timeout:
            pass
        return b"".join(chunks)


def test_faults(s):
    img = digit_pixels(2)
    u = s.url + ":predict"
    expect_error(request(u, raw=b'{"instances": [1, 2'), 400, "JSON Parse error")
    expect_error(request(u, raw=b"not json at all"), 400, "JSON Parse error")
    expect_error(request(u, {"instances": [img[:27]]}), 400, "an example of shape [27, 28]")
    expect_error(request(u, {"instances": [[1, 2, 3]]}), 400, "/instances/0: an example of shape")
    bad = [row[:] for row in img]
    bad[3][4] = "7"
    expect_error(request(u, {"instances": [bad]}), 400, "/instances/0/3/4: expected a pixel")
    bad[3][4] = 300
    expect_error(request(u, {"instances": [bad]}), 400, "/instances/0/3/4: pixel value 300")
    nan_body = json.dumps({"instances": [img]}).replace("0,", "NaN,", 1).encode()
    expect_error(request(u, raw=nan_body), 400, "NaN and Infinity are not pixel values")
    expect_error(request(u, {"instances": [img], "inputs": [img]}), 400, "both")
    expect_error(request(u, {"instances": [{"b64": base64.b64encode(b"GIF89a junk").decode()}]}),
                 400, "/instances/0/b64")
    expect_error(request(u, {"instances": [{"b64": "%%%"}]}), 400, "invalid base64")
    expect_error(request(s.url.replace("digits", "nope") + ":predict", {"instances": [img]}),
                 404, "Servable not found for request: Latest(nope)")
    expect_error(request(s.url + "/versions/7:predict", {"instances": [img]}), 404, "Specific")
    expect_error(request(s.url.replace("digits", "nope")), 404, "Servable not found")
    expect_error(request(s.base + "/v2/whatever"), 404, "no such endpoint")
    expect_error(request(u, raw=b"x" * 3500000), 413, "larger than the server's limit")
    expect_error(request(s.url + ":regress", {"examples": [{"x": img}]}), 400, "classifier")
    expect_error(request(s.url + ":classify", {"examples": [{"a": img, "b": img}]}), 400,
                 "one feature")

    # A slow client (headers never finished) is dropped after the read timeout; a vanished one
    # (gone before its answer) costs nothing; the server answers the others all along.
    slow = socket.create_connection(("127.0.0.1", s.port))
    slow.sendall(b"POST /v1/models/digits:predict HTTP/1.1\r\nHost: x\r\n")
    body = json.dumps({"instances": [img] * 8}).encode()
    head = ("POST /v1/models/digits:predict HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n"
            "Content-Type: application/json\r\n\r\n" % len(body)).encode()
    for _ in range(5):
        raw_exchange(s.port, head + body, read=False)  # gone before the answer
        raw_exchange(s.port, head + body[:100], read=False)  # gone half-way through the body
    half = raw_exchange(s.port, head + body[: len(body) // 2], timeout=5)
    check(half == b"" or b" 4" in half.split(b"\r\n")[0], "half a body: %r" % half[:80])
    check(request(u, {"instances": [img]})[0] == 200, "server answers during a slow client")
    slow.settimeout(5)
    t0 = time.time()
    try:
        leftover = slow.recv(1000)
    except (socket.timeout, ConnectionResetError):
        leftover = b"?"
    check(time.time() - t0 < 4.5, "the slow client was not dropped")
    check(leftover == b"" or b" 4" in leftover.split(b"\r\n")[0], "slow client got %r" % leftover)
    slow.close()
    status, m = request(s.base + "/metrics")
    check('code="500"' not in m, "a 500 among the faults:\n" + m)
    check(s.proc.poll() is None, "the server died")


def test_batching(s):
    imgs = [digit_pixels(k) for k in range(48)]
    u = s.url + ":predict"
    alone = [request(u, {"instances": [im]})[1]["predictions"][0] for im in imgs]  # one by one
    with concurrent.futures.ThreadPoolExecutor(24) as pool:
        together = list(pool.map(lambda im: request(u, {"instances": [im]}), imgs))
    check(all(st == 200 for st, _ in together), "concurrent requests failed")
    # Bit for bit where OpenBLAS computes a row the same in a batch as alone; its Haswell
    # kernels (OPENBLAS_CORETYPE=Haswell) do not, so answers are held to 1e-6 here (the unit
    # test of the batcher checks the bits whenever the kernels allow it).
    def same(xs, ys):
        return len(xs) == len(ys) and all(
            len(x) == len(y) and all(abs(a - b) <= 1e-6 for a, b in zip(x, y)) for x, y in zip(xs, ys))
    check(same([b["predictions"][0] for _, b in together], alone),
          "concurrent (batched) answers differ from one-by-one answers")
    status, one = request(u, {"instances": imgs})
    check(status == 200 and same(one["predictions"], alone), "one 48-example request differs")
    status, m = request(s.base + "/metrics")
    count = [ln for ln in m.splitlines() if ln.startswith("mnistnet_batch_size_count")]
    le1 = [ln for ln in m.splitlines() if ln.startswith('mnistnet_batch_size_bucket{le="1"}')]
    check(count and le1 and int(le1[0].split()[-1]) < int(count[0].split()[-1]),
          "no forward pass ran more than one example:\n" + m)
    return alone


def replace_file(src, dst):
    tmp = dst + ".tmp"
    shutil.copyfile(src, tmp)
    os.replace(tmp, dst)


def wait_version(s, version, seconds=15):
    # At least `version`: the file watcher and a SIGHUP may both reload one change, so the
    # version can pass `version` before the first poll sees it. Returns the version reached.
    deadline = time.time() + seconds
    while time.time() < deadline:
        status, body = request(s.url)
        if status == 200 and int(body["model_version_status"][0]["version"]) >= version:
            return int(body["model_version_status"][0]["version"])
        time.sleep(0.05)
    fail("version %s never came (log:\n%s)" % (version, s.read_log()))


def test_reload(s, served, other, broken, first_answers):
    img = digit_pixels(5)
    u = s.url + ":predict"
    failures, answers, stop = [], [0], threading.Event()

    def hammer():
        while not stop.is_set():
            try:
                status, body = request(u, {"instances": [img, digit_pixels(6)]})
            except OSError as e:  # a refused or dropped connection is a failure too
                status, body = None, repr(e)
            if status != 200:
                failures.append((status, body))
            answers[0] += 1

    # Daemons: a failed check must end the script, not wait on the hammering threads.
    threads = [threading.Thread(target=hammer, daemon=True) for _ in range(6)]
    for t in threads:
        t.start()
    time.sleep(0.3)
    replace_file(other, served)  # the file replaced: picked up by the watcher
    wait_version(s, 2)
    status, p = request(s.base + "/v1/models/digits:predict", {"instances": [digit_pixels(0)]})
    check(status == 200 and p["predictions"][0] != first_answers[0], "still the old weights")
    replace_file(broken, served)  # a broken file: version 2 goes on
    time.sleep(1.0)
    s.proc.send_signal(signal.SIGHUP)  # and again by SIGHUP
    time.sleep(0.5)
    check(request(s.url)[1]["model_version_status"][0]["version"] == "2", "broken file served")
    log = s.read_log()
    check("failed, version 2 keeps serving: " in log, "no reason in the log:\n" + log)
    replace_file(other, served + ".new")
    os.replace(served + ".new", served)
    s.proc.send_signal(signal.SIGHUP)
    reached = wait_version(s, 3)
    time.sleep(0.3)
    stop.set()
    for t in threads:
        t.join()
    check(not failures, "requests failed during reloads: %r" % failures[:3])
    check(answers[0] > 20, "too few requests during the reloads: %d" % answers[0])
    status, m = request(s.base + "/metrics")
    versions = [int(float(ln.split()[-1])) for ln in m.splitlines()
                if ln.startswith("mnistnet_model_version ")]
    check(versions and versions[0] >= reached and 'result="failed"} ' in m, m)
    check(not any(ln.startswith('mnistnet_model_reloads_total{result="failed"} 0')
                  for ln in m.splitlines()), "the broken file's reload was not counted:\n" + m)


def request_or_refused(url, body):
    """request(), or (None, reason) when the stopping server refused or dropped the connection."""
    try:
        return request(url, body)
    except (urllib.error.URLError, ConnectionError) as e:
        return None, str(e)


def test_sigterm(s):
    body = {"instances": [digit_pixels(k) for k in range(64)]}
    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        futures = [pool.submit(request_or_refused, s.url + ":predict", body) for _ in range(8)]
        time.sleep(0.05)
        s.proc.send_signal(signal.SIGTERM)
        results = [f.result() for f in futures]
    # Requests already accepted finish; ones that arrive after the stop are refused by the OS.
    code = s.proc.wait(timeout=30)
    check(code == 0, "exit code %d after SIGTERM" % code)
    ok = sum(1 for st, _ in results if st == 200)
    check(ok >= 1, "no in-flight request finished: %r" % [st for st, _ in results])


def main():
    ap = argparse.ArgumentParser()
    for a in ("--binary", "--model", "--other", "--broken", "--image", "--workdir"):
        ap.add_argument(a, required=True)
    args = ap.parse_args()
    served = os.path.join(args.workdir, "served.mnn")
    shutil.copyfile(args.model, served)
    with open(args.image, "rb") as f:
        image_b64 = base64.b64encode(f.read()).decode()

    s = Server(args.binary, served, args.workdir, "--max-batch", "32", "--batch-timeout-us",
               "2000")
    try:
        test_endpoints(s, image_b64)
        print("ok: endpoints", flush=True)
        test_faults(s)
        print("ok: faults", flush=True)
        first = test_batching(s)
        print("ok: batched == unbatched", flush=True)
        test_reload(s, served, args.other, args.broken, first)
        print("ok: reload under requests", flush=True)
        test_sigterm(s)
        print("ok: SIGTERM", flush=True)
    except BaseException:
        print("server log:\n" + s.read_log(), flush=True)
        s.proc.kill()
        raise
    return 0


if __name__ == "__main__":
    sys.exit(main())
