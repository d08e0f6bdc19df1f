#!/usr/bin/env python3
"""Rebound under hostile input: what the hardening work promises, measured.

Starts `rebound sim` (the webhook benchmark's cluster) and `rebound serve` (release build, the
development certificates), then, one scenario after another:

  digits     AdmissionReviews made of 3 MiB of digits (a JSON number, and a quantity string),
             each answered: median and worst time.
  slowloris  1,000 idle TLS connections and 100 clients dribbling one byte a second, open while
             h2load sends normal reviews: their latency against a quiet baseline, the resident
             memory, and when the dribblers are cut off.
  flood      HTTP/2 flood: 4 connections x 100 streams of 2.9 MB reviews (h2load -c 4 -m 100):
             peak resident memory, and memory once it is over.
  loops      the API client's latency (rebound_kube_request_seconds, which lease renewals and
             failover writes wait on) while the flood runs; `--shared-loops` puts the listeners
             on the API client's event loops instead, for the comparison.

Run it through run.sh. Prints a Markdown table; `--markdown FILE` writes it too.
"""
import argparse, json, os, re, resource, shutil, socket, ssl, statistics, subprocess, sys, tempfile, threading, time, urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
CERTS = os.path.join(ROOT, "certs")
CA = os.path.join(CERTS, "ca.crt")


def need(tool, package):
    path = shutil.which(tool)
    if not path:
        sys.exit(f"{tool} is not installed; apt-get install {package}")
    return path


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(predicate, what, timeout=90):
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            if predicate():
                return
        except Exception:
            pass
        time.sleep(0.2)
    sys.exit(f"timed out waiting for {what}")


def rss_mib(pid):
    for line in open(f"/proc/{pid}/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


class RSSSampler(threading.Thread):
    """Samples a process's resident memory every 50 ms; keeps the peak."""

    def __init__(self, pid):
        super().__init__(daemon=True)
        self.pid, self.peak, self.running = pid, 0.0, True

    def run(self):
        while self.running:
            try:
                self.peak = max(self.peak, rss_mib(self.pid))
            except OSError:
                return
            time.sleep(0.05)

    def stop(self):
        self.running = False
        self.join()
        return self.peak


def review(uid, volumes):
    return ('{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":"%s",'
            '"kind":{"group":"","version":"v1","kind":"Pod"},"resource":{"group":"","version":"v1","resource":"pods"},'
            '"namespace":"mysql","operation":"CREATE","object":{"apiVersion":"v1","kind":"Pod",'
            '"metadata":{"generateName":"hostile-","namespace":"mysql"},'
            '"spec":{"containers":[{"name":"c","image":"busybox"}],"volumes":[%s]}}}}') % (uid, volumes)


def ephemeral(storage):
    return ('{"name":"a","ephemeral":{"volumeClaimTemplate":{"spec":{"storageClassName":"csi-carina-sc",'
            '"accessModes":["ReadWriteOnce"],"resources":{"requests":{"storage":%s}}}}}}') % storage


def curl_time(curl, url, path, http2):
    out = subprocess.run([curl, "-sS", "--http2" if http2 else "--http1.1", "--cacert", CA, "-H", "content-type: application/json",
                          "--data-binary", "@" + path, "-o", "/dev/null", "-w", "%{http_code} %{time_total} %{time_starttransfer} %{time_pretransfer}",
                          "--max-time", "120", url], capture_output=True, text=True)
    code, total, first, pretransfer = out.stdout.split()
    # From the request's last byte sent to the first byte of the answer, roughly: the server's time.
    return code, float(total), float(first) - float(pretransfer)


def h2load_latencies(h2load, url, body, requests, clients, log):
    """Runs h2load with a per-request log; returns sorted latencies in ms and failures."""
    out = subprocess.run([h2load, "-n", str(requests), "-c", str(clients), "-m", "1", "-d", body, "-H", "content-type: application/json",
                          "--log-file", log, url], capture_output=True, text=True)
    latencies = []
    for line in open(log):
        fields = line.split()
        if len(fields) >= 3 and fields[1] == "200":
            latencies.append(int(fields[2]) / 1000)  # microseconds -> ms
    failed = re.search(r"(\d+) failed", out.stdout)
    return sorted(latencies), int(failed.group(1)) if failed else -1, out.stdout


def pct(values, p):
    if not values:
        return float("nan")
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))]


def metric_histogram(health_port, name, label):
    """Sum and count of a Prometheus histogram series."""
    text = urllib.request.urlopen(f"http://127.0.0.1:{health_port}/metrics", timeout=5).read().decode()
    total = count = 0.0
    for line in text.splitlines():
        if line.startswith(name + "_sum") and label in line:
            total = float(line.split()[-1])
        if line.startswith(name + "_count") and label in line:
            count = float(line.split()[-1])
    return total, count


def metric_counter(health_port, name, label):
    text = urllib.request.urlopen(f"http://127.0.0.1:{health_port}/metrics", timeout=5).read().decode()
    for line in text.splitlines():
        if line.startswith(name) and label in line:
            return float(line.split()[-1])
    return 0.0


class Cluster:
    """rebound sim and rebound serve, started for one set of scenarios."""

    def __init__(self, rebound, workdir, shared_loops, glibc_defaults=False):
        self.rebound, self.workdir, self.processes = rebound, workdir, []
        kubeconfig = os.path.join(workdir, "kubeconfig")
        self.sim = subprocess.Popen([rebound, "sim", "--port", "0", "--scenario", os.path.join(ROOT, "Benchmarks/webhook/scenario.yaml"),
                                     "--kubeconfig-out", kubeconfig, "--log-level", "warning"],
                                    stdout=open(os.path.join(workdir, "sim.log"), "w"), stderr=subprocess.STDOUT)
        self.processes.append(self.sim)
        wait_for(lambda: os.path.exists(kubeconfig), "rebound sim")
        self.webhook_port, self.health_port = free_port(), free_port()
        env = dict(os.environ)
        if shared_loops:
            env["BENCHMARK_SHARED_EVENT_LOOPS"] = "1"
        if glibc_defaults:
            env["BENCHMARK_GLIBC_MALLOC_DEFAULTS"] = "1"
        self.serve = subprocess.Popen([rebound, "serve", "--kubeconfig", kubeconfig,
                                       "--set", f"webhook.port={self.webhook_port}", "--set", "webhook.address=127.0.0.1",
                                       "--set", f"webhook.tls.certFile={CERTS}/tls.crt", "--set", f"webhook.tls.keyFile={CERTS}/tls.key",
                                       "--set", f"health.port={self.health_port}", "--set", "health.address=127.0.0.1",
                                       "--set", "extender.enabled=false", "--set", "log.level=error",
                                       # The failover leader renews its lease every second: API traffic
                                       # whose latency the flood must not stretch.
                                       "--set", "leaderElection.namespace=mysql", "--set", "leaderElection.retryPeriodSeconds=1"],
                                      stdout=open(os.path.join(workdir, "serve.log"), "w"), stderr=subprocess.STDOUT, env=env)
        self.processes.append(self.serve)
        wait_for(lambda: urllib.request.urlopen(f"http://127.0.0.1:{self.health_port}/readyz", timeout=2).status == 200, "rebound serve to sync")
        self.url = f"https://127.0.0.1:{self.webhook_port}/mutate-pod"

    def stop(self):
        for process in reversed(self.processes):
            process.terminate()
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()


def scenario_digits(cluster, curl, workdir, runs):
    limit = 3 * 1024 * 1024
    shapes = {
        "JSON number": review("n", ephemeral("1" + "0" * (limit - 2000))),
        "quantity string": review("s", ephemeral('"' + "9" * (limit - 2000) + '"')),
        "annotation value": review("a", ephemeral('"1Gi"')).replace('"generateName":"hostile-"',
                                                                     '"generateName":"hostile-","annotations":{"x":"' + "7" * (limit - 2000) + '"}'),
    }
    rows = []
    for name, body in shapes.items():
        assert len(body) <= limit, len(body)
        path = os.path.join(workdir, "digits.json")
        open(path, "w").write(body)
        times = []
        for _ in range(runs):
            for http2 in (False, True):
                code, total, server = curl_time(curl, cluster.url, path, http2)
                if code != "200":
                    sys.exit(f"{name}: HTTP {code}")
                times.append(total * 1000)
        rows.append((name, len(body), statistics.median(times), max(times)))
    return rows


def tls_connection(port):
    context = ssl.create_default_context(cafile=CA)
    context.set_alpn_protocols(["http/1.1"])
    return context.wrap_socket(socket.create_connection(("127.0.0.1", port)), server_hostname="localhost")


def scenario_slowloris(cluster, h2load, workdir, idle_count, dribblers, requests):
    normal = os.path.join(ROOT, "Benchmarks/webhook/review.json")
    baseline, _, _ = h2load_latencies(h2load, cluster.url, normal, requests, 4, os.path.join(workdir, "base.log"))
    idle_rss_before = rss_mib(cluster.serve.pid)
    idle = [tls_connection(cluster.webhook_port) for _ in range(idle_count)]
    slow = [tls_connection(cluster.webhook_port) for _ in range(dribblers)]
    request = b"POST /mutate-pod HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: 100\r\n\r\n"
    cut = {}
    started = time.time()
    stop = threading.Event()

    for connection in slow:
        connection.setblocking(False)

    def dribble():
        # One byte a second on each connection; a connection is cut off when the server's answer
        # (408, the header deadline) arrives, or when sending fails.
        position = 0
        while not stop.is_set() and len(cut) < len(slow):
            for index, connection in enumerate(slow):
                if index in cut:
                    continue
                try:
                    if connection.recv(4096):
                        cut[index] = time.time() - started
                        continue
                except ssl.SSLWantReadError:
                    pass
                except OSError:
                    cut[index] = time.time() - started
                    continue
                try:
                    connection.send(request[position % len(request):position % len(request) + 1])
                except (ssl.SSLWantWriteError, ssl.SSLWantReadError):
                    pass
                except OSError:
                    cut[index] = time.time() - started
            position += 1
            stop.wait(1.0)

    sampler = RSSSampler(cluster.serve.pid)
    sampler.start()
    thread = threading.Thread(target=dribble, daemon=True)
    thread.start()
    time.sleep(1.5)
    loaded, failed, _ = h2load_latencies(h2load, cluster.url, normal, requests, 4, os.path.join(workdir, "loaded.log"))
    thread.join(timeout=60)
    stop.set()
    peak = sampler.stop()
    open_connections = metric_counter(cluster.health_port, "rebound_listener_connections", 'listener="webhook"')
    for connection in idle + slow:
        try:
            connection.close()
        except OSError:
            pass
    return {
        "baseline_p50": pct(baseline, 50), "baseline_p99": pct(baseline, 99),
        "loaded_p50": pct(loaded, 50), "loaded_p99": pct(loaded, 99), "failed": failed,
        "rss_before": idle_rss_before, "rss_peak": peak, "open": open_connections,
        "cut": len(cut), "cut_median_s": statistics.median(cut.values()) if cut else float("nan"),
        "dribblers": dribblers, "idle": idle_count,
    }


def scenario_flood(cluster, h2load, workdir, health_port):
    big = os.path.join(workdir, "big.json")
    # The realistic review, padded with an annotation to 2.9 MB.
    document = json.load(open(os.path.join(ROOT, "Benchmarks/webhook/review.json")))
    document["request"]["object"]["metadata"]["annotations"] = {"pad": "p" * 2_890_000}
    padded = json.dumps(document, separators=(",", ":"))
    assert 2_880_000 < len(padded) < 3 * 1024 * 1024, len(padded)
    open(big, "w").write(padded)
    before = {verb: metric_histogram(health_port, "rebound_kube_request_seconds", f'verb="{verb}"') for verb in ("GET", "PUT")}
    idle = rss_mib(cluster.serve.pid)
    sampler = RSSSampler(cluster.serve.pid)
    sampler.start()
    stop = threading.Event()
    probes = []

    def probe():
        # The health port's answer time, every 100 ms (the lease renewals are read from the
        # API client's own histogram, before and after).
        while not stop.is_set():
            t0 = time.time()
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{health_port}/healthz", timeout=10).read()
                probes.append((time.time() - t0) * 1000)
            except Exception:
                probes.append(10_000)
            stop.wait(0.1)

    prober = threading.Thread(target=probe, daemon=True)
    prober.start()
    t0 = time.time()
    out = subprocess.run([h2load, "-c", "4", "-m", "100", "-n", "400", "-d", big, "-H", "content-type: application/json", cluster.url],
                         capture_output=True, text=True)
    took = time.time() - t0
    stop.set()
    prober.join()
    peak = sampler.stop()
    time.sleep(5)
    rss_after = rss_mib(cluster.serve.pid)
    after = {verb: metric_histogram(health_port, "rebound_kube_request_seconds", f'verb="{verb}"') for verb in ("GET", "PUT")}
    lease = {}
    for verb in ("GET", "PUT"):
        (s0, c0), (s1, c1) = before[verb], after[verb]
        lease[verb] = ((s1 - s0) / (c1 - c0) * 1000, int(c1 - c0)) if c1 > c0 else (float("nan"), 0)
    status = re.search(r"status codes: (\d+) 2xx, (\d+) 3xx, (\d+) 4xx, (\d+) 5xx", out.stdout)
    summary = re.search(r"requests: (\d+) total, (\d+) started, (\d+) done, (\d+) succeeded, (\d+) failed, (\d+) errored", out.stdout)
    codes = re.search(r"status codes: (\d+) 2xx", out.stdout)
    refused = metric_counter(health_port, "rebound_listener_refused_total", 'listener="webhook",reason="over_budget"')
    return {
        "idle": idle, "peak": peak, "after": rss_after, "took": took, "lease": lease,
        "succeeded": int(codes.group(1)) if codes else -1, "failed": int(summary.group(5)) if summary else -1,
        "refused_streams": refused, "health_p99": pct(sorted(probes), 99),
        "h2load": out.stdout[-600:],
    }


def scenario_sustained(cluster, h2load, seconds):
    """Normal reviews as fast as h2load can send them for `seconds`, while the failover leader
    renews its lease every second: the renewals' latency (GET + PUT through Rebound's API client)."""
    normal = os.path.join(ROOT, "Benchmarks/webhook/review.json")
    before = {verb: metric_histogram(cluster.health_port, "rebound_kube_request_seconds", f'verb="{verb}"') for verb in ("GET", "PUT")}
    out = subprocess.run([h2load, "-c", "16", "-m", "8", "-D", str(seconds), "-d", normal, "-H", "content-type: application/json", cluster.url],
                         capture_output=True, text=True)
    after = {verb: metric_histogram(cluster.health_port, "rebound_kube_request_seconds", f'verb="{verb}"') for verb in ("GET", "PUT")}
    rate = re.search(r"finished in [0-9.]+s, ([0-9.]+) req/s", out.stdout)
    lease = {}
    for verb in ("GET", "PUT"):
        (s0, c0), (s1, c1) = before[verb], after[verb]
        lease[verb] = ((s1 - s0) / (c1 - c0) * 1000, int(c1 - c0)) if c1 > c0 else (float("nan"), 0)
    return {"rate": float(rate.group(1)) if rate else float("nan"), "lease": lease}


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rebound", default=os.path.join(ROOT, ".build/release/rebound"))
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--idle", type=int, default=1000)
    parser.add_argument("--dribblers", type=int, default=100)
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--shared-loops", action="store_true", help="listeners on the API client's event loops (for comparison)")
    parser.add_argument("--glibc-defaults", action="store_true", help="leave glibc's allocator defaults (for comparison)")
    parser.add_argument("--sustained-seconds", type=int, default=15)
    parser.add_argument("--markdown")
    args = parser.parse_args()
    curl, h2load = need("curl", "curl"), need("h2load", "nghttp2-client")
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, 65536), hard))

    lines = []
    with tempfile.TemporaryDirectory(prefix="rebound-hostile-") as workdir:
        cluster = Cluster(args.rebound, workdir, args.shared_loops, args.glibc_defaults)
        try:
            digits = scenario_digits(cluster, curl, workdir, args.runs)
            lines += ["| 3 MiB review made of digits | bytes | median ms | worst ms |", "|---|---|---|---|"]
            lines += [f"| {name} | {size:,} | {median:.1f} | {worst:.1f} |" for name, size, median, worst in digits]
            slow = scenario_slowloris(cluster, h2load, workdir, args.idle, args.dribblers, args.requests)
            lines += ["", f"| {slow['idle']} idle TLS connections + {slow['dribblers']} dribblers (1 byte/s) | value |", "|---|---|",
                      f"| normal review p50 / p99, quiet (ms) | {slow['baseline_p50']:.2f} / {slow['baseline_p99']:.2f} |",
                      f"| normal review p50 / p99, under the slow clients (ms) | {slow['loaded_p50']:.2f} / {slow['loaded_p99']:.2f} |",
                      f"| failed normal reviews | {slow['failed']} |",
                      f"| resident memory before / peak (MiB) | {slow['rss_before']:.0f} / {slow['rss_peak']:.0f} |",
                      f"| dribblers cut off / median time to cut (s) | {slow['cut']} / {slow['cut_median_s']:.1f} |"]
            flood = scenario_flood(cluster, h2load, workdir, cluster.health_port)
            lines += ["", "| HTTP/2 flood: 4 connections x 100 streams x 2.9 MB | value |", "|---|---|",
                      f"| resident memory idle / peak / 5 s after (MiB) | {flood['idle']:.0f} / {flood['peak']:.0f} / {flood['after']:.0f} |",
                      f"| streams answered 200 / refused (REFUSED_STREAM) / failed in h2load | {flood['succeeded']} / {flood['refused_streams']:.0f} / {flood['failed']} |",
                      f"| flood duration (s) | {flood['took']:.1f} |",
                      f"| /healthz p99 during the flood (ms) | {flood['health_p99']:.1f} |",
                      f"| lease GET / PUT mean during the flood (ms, count) | {flood['lease']['GET'][0]:.2f} ({flood['lease']['GET'][1]}) / {flood['lease']['PUT'][0]:.2f} ({flood['lease']['PUT'][1]}) |"]
            sustained = scenario_sustained(cluster, h2load, args.sustained_seconds)
            lines += ["", f"| {args.sustained_seconds} s of normal reviews at full speed (h2load -c 16 -m 8) | value |", "|---|---|",
                      f"| reviews a second | {sustained['rate']:,.0f} |",
                      f"| lease renewal GET / PUT mean meanwhile (ms, count) | {sustained['lease']['GET'][0]:.2f} ({sustained['lease']['GET'][1]}) / {sustained['lease']['PUT'][0]:.2f} ({sustained['lease']['PUT'][1]}) |"]
        finally:
            cluster.stop()
    table = "\n".join(lines)
    print(table)
    if args.markdown:
        open(args.markdown, "w").write(table + "\n")


if __name__ == "__main__":
    main()
