#!/usr/bin/env python3
"""Throughput and latency of Rebound's admission webhook over TLS, beside nginx.

Starts `rebound sim` (the API server the webhook's caches follow) and `rebound serve` with the
development certificates, then nginx (Debian's nginx-light) on the same machine serving the
webhook's own answer as a fixed response over TLS. Drives both with wrk (HTTP/1.1, keep-alive,
POST of a realistic AdmissionReview) and h2load (HTTP/2), at several concurrencies, several
runs each, and reports medians. Run it through run.sh.
"""
import argparse, json, os, re, shutil, signal, socket, statistics, subprocess, sys, tempfile, time, urllib.request, ssl

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def cpu_ticks(pids):
    """User + system CPU ticks of the processes (children included: nginx's master reports only itself)."""
    total = 0
    for pid in pids:
        try:
            fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])
        except (OSError, IndexError, ValueError):
            pass
    return total


def nginx_pids(master):
    pids = [master]
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = open(f"/proc/{entry}/stat").read().rsplit(")", 1)[1].split()
                if int(stat[1]) == master:
                    pids.append(int(entry))
            except (OSError, IndexError, ValueError):
                pass
    return pids


def need(tool, package):
    path = shutil.which(tool)
    if not path:
        sys.exit(f"{tool} is not installed; apt-get install {package}")
    return path


def wait_for(predicate, what, timeout=60):
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            if predicate():
                return
        except Exception:
            pass
        time.sleep(0.2)
    sys.exit(f"timed out waiting for {what}")


def post(url, body, ca):
    context = ssl.create_default_context(cafile=ca)
    request = urllib.request.Request(url, data=body, headers={"Content-Type": "application/json"}, method="POST")
    with urllib.request.urlopen(request, context=context, timeout=5) as response:
        return response.read()


WRK_SCRIPT = """
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
local f = io.open("%s", "rb")
wrk.body = f:read("*a")
f:close()
done = function(summary, latency, requests)
  io.write(string.format("RESULT %%d %%d %%d %%d %%d %%d\\n", summary.requests, summary.duration,
    latency:percentile(50), latency:percentile(99), summary.errors.status + summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout, latency.max))
end
"""


def run_wrk(url, concurrency, seconds, script):
    threads = min(concurrency, 2)
    out = subprocess.run(["wrk", "-t", str(threads), "-c", str(concurrency), "-d", f"{seconds}s", "-s", script, url],
                         capture_output=True, text=True, timeout=seconds + 60).stdout
    m = re.search(r"RESULT (\d+) (\d+) (\d+) (\d+) (\d+) (\d+)", out)
    if not m:
        sys.exit("wrk failed:\n" + out)
    requests, duration_us, p50, p99, errors, _ = map(int, m.groups())
    return {"rps": requests / (duration_us / 1e6), "p50": p50 / 1000, "p99": p99 / 1000, "errors": errors, "requests": requests}


def run_h2load(url, concurrency, seconds, body, workdir):
    threads = min(concurrency, 2)
    log = os.path.join(workdir, "h2load.log")
    # Warm-up is excluded by h2load itself (--warm-up-time); latencies come from the per-request log.
    out = subprocess.run(["h2load", "-c", str(concurrency), "-t", str(threads), "-m", "1", "-D", str(seconds), "--warm-up-time", "1",
                          "-d", body, "-H", "content-type: application/json", "--log-file", log, url],
                         capture_output=True, text=True, timeout=seconds + 60).stdout
    m = re.search(r"finished in ([\d.]+)(m?s), ([\d.]+) req/s", out)
    done = re.search(r"requests: \d+ total, \d+ started, (\d+) done", out)
    failed = re.search(r"(\d+) failed, (\d+) errored, (\d+) timeout", out)
    if not m or "Application protocol: h2" not in out:
        sys.exit("h2load failed:\n" + out)
    latencies = []
    with open(log) as f:
        for line in f:
            parts = line.split()
            if len(parts) >= 3 and parts[1] == "200":
                latencies.append(int(parts[2]))
    latencies.sort()
    def pct(p):
        return latencies[min(len(latencies) - 1, int(len(latencies) * p / 100))] / 1000 if latencies else float("nan")
    errors = sum(int(x) for x in failed.groups()) if failed else 0
    return {"rps": float(m.group(3)), "p50": pct(50), "p99": pct(99), "errors": errors, "requests": int(done.group(1)) if done else len(latencies)}


NGINX_CONF = """
worker_processes %(workers)d;
pid %(dir)s/nginx.pid;
error_log %(dir)s/nginx-error.log warn;
daemon off;
events { worker_connections 1024; }
http {
  access_log off;
  client_body_temp_path %(dir)s/body;
  proxy_temp_path %(dir)s/proxy;
  fastcgi_temp_path %(dir)s/fastcgi;
  uwsgi_temp_path %(dir)s/uwsgi;
  scgi_temp_path %(dir)s/scgi;
  keepalive_requests 100000000;
  keepalive_timeout 120s;
  client_body_buffer_size 64k;
  server {
    listen 127.0.0.1:%(port)d ssl http2;
    ssl_certificate %(cert)s;
    ssl_certificate_key %(key)s;
    ssl_protocols TLSv1.2 TLSv1.3;
    location / {
      default_type application/json;
      return 200 '%(answer)s';
    }
  }
}
"""


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--rebound", default=os.path.join(ROOT, ".build", "release", "rebound"))
    parser.add_argument("--seconds", type=int, default=5)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--concurrency", default="1,16,64")
    parser.add_argument("--markdown", help="write the results table to this file")
    parser.add_argument("--update-benchmarks", action="store_true",
                        help="replace the table between the webhook-results markers in BENCHMARKS.md")
    args = parser.parse_args()
    for tool, package in [("wrk", "wrk"), ("h2load", "nghttp2-client"), ("nginx", "nginx-light"), ("curl", "curl")]:
        need(tool, package)
    certs = os.path.join(ROOT, "certs")
    ca = os.path.join(certs, "ca.crt")
    body_file = os.path.join(HERE, "review.json")
    body = open(body_file, "rb").read()
    levels = [int(x) for x in args.concurrency.split(",")]
    workdir = tempfile.mkdtemp(prefix="rebound-bench-")
    processes = []
    try:
        sim_port, webhook_port, health_port, nginx_port = free_port(), free_port(), free_port(), free_port()
        kubeconfig = os.path.join(workdir, "kubeconfig")
        sim_log = open(os.path.join(workdir, "sim.log"), "w")
        processes.append(subprocess.Popen([args.rebound, "sim", "--port", str(sim_port), "--scenario", os.path.join(HERE, "scenario.yaml"),
                                           "--kubeconfig-out", kubeconfig, "--log-level", "warning"], stdout=sim_log, stderr=subprocess.STDOUT))
        wait_for(lambda: os.path.exists(kubeconfig), "rebound sim")
        serve_log = open(os.path.join(workdir, "serve.log"), "w")
        processes.append(subprocess.Popen([args.rebound, "serve", "--kubeconfig", kubeconfig,
                                           "--set", f"webhook.port={webhook_port}", "--set", "webhook.address=127.0.0.1",
                                           "--set", f"webhook.tls.certFile={certs}/tls.crt", "--set", f"webhook.tls.keyFile={certs}/tls.key",
                                           "--set", f"health.port={health_port}", "--set", "health.address=127.0.0.1",
                                           "--set", "extender.enabled=false", "--set", "failover.enabled=false", "--set", "log.level=warning"],
                                          stdout=serve_log, stderr=subprocess.STDOUT))
        url = f"https://127.0.0.1:{webhook_port}/mutate-pod"
        wait_for(lambda: urllib.request.urlopen(f"http://127.0.0.1:{health_port}/readyz", timeout=2).status == 200, "rebound serve to sync")
        answer = post(url, body, ca)
        review = json.loads(answer)
        if not review["response"].get("patch"):
            sys.exit(f"the webhook did not patch the benchmark pod: {answer!r}")

        conf = os.path.join(workdir, "nginx.conf")
        for sub in ["body", "proxy", "fastcgi", "uwsgi", "scgi"]:
            os.makedirs(os.path.join(workdir, sub), exist_ok=True)
        with open(conf, "w") as f:
            f.write(NGINX_CONF % {"workers": os.cpu_count() or 1, "dir": workdir, "port": nginx_port, "cert": f"{certs}/tls.crt",
                                  "key": f"{certs}/tls.key", "answer": answer.decode().replace("'", "\\'")})
        processes.append(subprocess.Popen(["nginx", "-c", conf, "-p", workdir], stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT))
        nginx_url = f"https://127.0.0.1:{nginx_port}/mutate-pod"
        wait_for(lambda: post(nginx_url, body, ca) == answer, "nginx")

        script = os.path.join(workdir, "post.lua")
        with open(script, "w") as f:
            f.write(WRK_SCRIPT % body_file)

        tick = os.sysconf("SC_CLK_TCK")
        server_pids = {"rebound": [processes[1].pid], "nginx": nginx_pids(processes[2].pid)}
        results = {}
        for protocol in ["HTTP/1.1", "HTTP/2"]:
            for c in levels:
                runs = {"rebound": [], "nginx": []}
                # Alternate the servers run by run, so both see the same background load.
                for _ in range(args.runs):
                    for name, target in [("rebound", url), ("nginx", nginx_url)]:
                        before = cpu_ticks(server_pids[name])
                        if protocol == "HTTP/1.1":
                            r = run_wrk(target, c, args.seconds, script)
                        else:
                            r = run_h2load(target, c, args.seconds, body_file, workdir)
                        r["cpu_us"] = (cpu_ticks(server_pids[name]) - before) / tick * 1e6 / max(r["requests"], 1)
                        runs[name].append(r)
                for name in ["rebound", "nginx"]:
                    results[(protocol, c, name)] = {
                        key: statistics.median(r[key] for r in runs[name]) for key in ["rps", "p50", "p99", "cpu_us"]
                    } | {"errors": sum(r["errors"] for r in runs[name])}
                    r = results[(protocol, c, name)]
                    print(f"{protocol:8} c={c:<3} {name:8} {r['rps']:9.0f} req/s  p50 {r['p50']:6.2f} ms  p99 {r['p99']:6.2f} ms  "
                          f"server CPU {r['cpu_us']:5.1f} us/req  errors {r['errors']}", flush=True)

        lines = ["| protocol | concurrency | rebound req/s | nginx req/s | ratio | rebound p50 / p99 (ms) | nginx p50 / p99 (ms) | server CPU per request, rebound / nginx (µs) |",
                 "|---|---:|---:|---:|---:|---:|---:|---:|"]
        for protocol in ["HTTP/1.1", "HTTP/2"]:
            for c in levels:
                r, n = results[(protocol, c, "rebound")], results[(protocol, c, "nginx")]
                lines.append(f"| {protocol} | {c} | {r['rps']:,.0f} | {n['rps']:,.0f} | {r['rps'] / n['rps']:.0%} | "
                             f"{r['p50']:.2f} / {r['p99']:.2f} | {n['p50']:.2f} / {n['p99']:.2f} | {r['cpu_us']:.0f} / {n['cpu_us']:.0f} |")
        errors = sum(v["errors"] for v in results.values())
        table = "\n".join(lines)
        print()
        print(table)
        print(f"\nerrors over all runs: {errors}")
        if args.markdown:
            with open(args.markdown, "w") as f:
                f.write(table + "\n")
        if args.update_benchmarks:
            path = os.path.join(ROOT, "BENCHMARKS.md")
            text = open(path).read()
            start, end = "<!-- webhook-results:start -->", "<!-- webhook-results:end -->"
            if start not in text or end not in text:
                sys.exit(f"{path} has no {start} ... {end} markers")
            stamp = time.strftime("%Y-%m-%d", time.gmtime())
            body = f"{start}\n{table}\n\n({stamp}: {args.runs} runs of {args.seconds} s each, medians; errors over all runs: {errors})\n{end}"
            text = text[:text.index(start)] + body + text[text.index(end) + len(end):]
            open(path, "w").write(text)
    finally:
        for process in reversed(processes):
            if process.poll() is None:
                process.send_signal(signal.SIGTERM if process.args[0] != "nginx" else signal.SIGQUIT)
                try:
                    process.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    process.kill()
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
