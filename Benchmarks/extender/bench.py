#!/usr/bin/env python3
"""Scheduler extender benchmark: filter and prioritize with 5,000 full Node objects and with 5,000
NodeNames, against the real `rebound serve` on `rebound sim`, side by side with orjson.

    python3 Benchmarks/extender/bench.py --rebound .build/release/rebound

(a) orjson.loads(body) on the full-list request body: median of N runs, with Python's garbage
    collector off (the parse alone) and on (as a Python service would run it);
(b) full-list filter and prioritize: request latency, median of N runs, measured by a raw-socket
    client from the first byte sent to the last byte of the answer received;
(c) NodeNames filter and prioritize: p50 and p99 over M requests each.

With --storage-classes N, the cluster is OpenEBS LVM LocalPV's instead of Carina's: the nodes carry
no capacity, N StorageClasses each have a CSIStorageCapacity object per node (N x 5,000 objects),
and Rebound runs with compat.preset=openebs-lvm (capacity.source csistoragecapacity).
"""
import argparse
import gc
import http.client
import json
import os
import platform
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time

import orjson

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import nodes as fixtures  # noqa: E402


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class RawClient:
    """One keep-alive HTTP/1.1 connection; the request is prebuilt so timing covers only I/O and the server."""

    def __init__(self, port: int):
        self.sock = socket.create_connection(("127.0.0.1", port))
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buffer = bytearray(256 << 20)

    @staticmethod
    def request(path: str, body: bytes) -> bytes:
        head = f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
        return head.encode() + body

    def roundtrip(self, request: bytes):
        start = time.perf_counter()
        self.sock.sendall(request)
        view = memoryview(self.buffer)
        received = 0
        header_end = -1
        while header_end < 0:
            received += self.sock.recv_into(view[received:])
            header_end = self.buffer.find(b"\r\n\r\n", 0, received)
        head = bytes(self.buffer[:header_end]).decode()
        status = int(head.split(" ", 2)[1])
        length = next(int(line.split(":", 1)[1]) for line in head.split("\r\n") if line.lower().startswith("content-length:"))
        total = header_end + 4 + length
        while received < total:
            received += self.sock.recv_into(view[received:total])
        elapsed = time.perf_counter() - start
        return elapsed, status, bytes(self.buffer[header_end + 4:total])


def percentile(values, p):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def wait_ready(port: int, timeout: float = 120):
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            connection.request("GET", "/readyz")
            if connection.getresponse().status == 200:
                return
        except OSError:
            pass
        time.sleep(0.2)
    raise SystemExit(f"nothing ready on port {port} after {timeout} s")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--rebound", default=".build/release/rebound")
    parser.add_argument("--nodes", type=int, default=5000)
    parser.add_argument("--runs", type=int, default=15, help="full-list requests and orjson parses")
    parser.add_argument("--requests", type=int, default=500, help="NodeNames requests per verb")
    parser.add_argument("--binds", type=int, default=200, help="bind requests per replica setting (shared ledger on, off)")
    parser.add_argument("--storage-classes", type=int, default=0, help="OpenEBS StorageClasses with a CSIStorageCapacity object per node (0: Carina's node capacity)")
    parser.add_argument("--json", help="write the results here too")
    options = parser.parse_args()
    objects = options.storage_classes > 0

    print(f"generating {options.nodes} nodes ...", flush=True)
    nodes = [fixtures.node(i) for i in range(options.nodes)]
    if objects:
        nodes = [fixtures.as_openebs_node(n) for n in nodes]
    names = [n["metadata"]["name"] for n in nodes]
    group = "openebs-lvm-0" if objects else "carina-vg-hdd"
    storage_class = "openebs-lvm-0" if objects else "csi-carina-sc"
    pod = json.loads(json.dumps(fixtures.POD))
    pod["metadata"]["annotations"]["rebound.io/volume-requests"] = json.dumps({group: 1}, separators=(",", ":"))
    full_body = fixtures.args_with_nodes(nodes, pod)
    names_body = fixtures.args_with_names(names, pod)
    print(f"full-list body {len(full_body) / 1e6:.1f} MB ({len(full_body) // options.nodes} bytes a node), NodeNames body {len(names_body) / 1e3:.0f} kB", flush=True)

    workdir = tempfile.mkdtemp(prefix="rebound-bench-")
    processes = []
    try:
        sim_port, extender_port, health_port = free_port(), free_port(), free_port()
        kubeconfig = os.path.join(workdir, "sim.kubeconfig")
        processes.append(subprocess.Popen(
            [options.rebound, "sim", "--port", str(sim_port), "--kubeconfig-out", kubeconfig, "--log-level", "warning"],
            stdout=subprocess.DEVNULL))
        wait_for_port(sim_port)
        print("loading nodes into rebound sim ...", flush=True)
        api = http.client.HTTPConnection("127.0.0.1", sim_port)
        # Rebound's own namespace, where the extender keeps its shared reservation ledger.
        api.request("POST", "/api/v1/namespaces", body=b'{"metadata":{"name":"rebound-system"}}', headers={"Content-Type": "application/json"})
        api.getresponse().read()
        for n in nodes:
            api.request("POST", "/api/v1/nodes", body=fixtures.compact(n), headers={"Content-Type": "application/json"})
            response = api.getresponse()
            response.read()
            if response.status != 201:
                raise SystemExit(f"creating a node failed: HTTP {response.status}")
        # Pods to bind in (d): each with a pending 1 GiB claim of Carina's HDD class, as the webhook routes them.
        post = lambda path, body: (api.request("POST", path, body=body, headers={"Content-Type": "application/json"}), api.getresponse().read())  # noqa: E731
        post("/apis/storage.k8s.io/v1/storageclasses", orjson.dumps({
            "metadata": {"name": "csi-carina-sc"}, "provisioner": "carina.storage.io", "volumeBindingMode": "WaitForFirstConsumer",
            "parameters": {"carina.storage.io/disk-type": "carina-vg-hdd"}}))
        if objects:
            post("/api/v1/namespaces", b'{"metadata":{"name":"openebs"}}')
            print(f"loading {options.storage_classes} StorageClasses x {options.nodes} CSIStorageCapacity objects ...", flush=True)
            for class_index in range(options.storage_classes):
                post("/apis/storage.k8s.io/v1/storageclasses", orjson.dumps(fixtures.storage_class(class_index)))
                for index in range(options.nodes):
                    post("/apis/storage.k8s.io/v1/namespaces/openebs/csistoragecapacities", orjson.dumps(fixtures.storage_capacity(index, class_index)))
        for index in range(2 * options.binds):
            post("/api/v1/namespaces/default/persistentvolumeclaims", orjson.dumps({
                "metadata": {"name": f"data-bench-{index}"},
                "spec": {"accessModes": ["ReadWriteOnce"], "storageClassName": storage_class, "resources": {"requests": {"storage": "1Gi"}}}}))
            post("/api/v1/namespaces/default/pods", orjson.dumps({
                "metadata": {"name": f"bench-{index}", "annotations": {"rebound.io/volume-requests": json.dumps({group: 1}, separators=(",", ":"))}},
                "spec": {"containers": [{"name": "db", "image": "mysql", "resources": {"requests": {"rebound.io/local-capacity": "1"}, "limits": {"rebound.io/local-capacity": "1"}}}],
                         "volumes": [{"name": "data", "persistentVolumeClaim": {"claimName": f"data-bench-{index}"}}]}}))
        local_port, local_health = free_port(), free_port()
        preset = ["--set", "compat.preset=openebs-lvm"] if objects else []
        started = time.perf_counter()
        for port, health, shared in ((extender_port, health_port, "true"), (local_port, local_health, "false")):
            processes.append(subprocess.Popen(
                [options.rebound, "serve", "--kubeconfig", kubeconfig,
                 "--set", f"extender.port={port}", "--set", "extender.address=127.0.0.1",
                 "--set", f"health.port={health}", "--set", "health.address=127.0.0.1", "--set", f"extender.sharedLedger.enabled={shared}",
                 # The client's rate limit off: (d) measures the ledger, not kube.qps (50/s by default).
                 "--set", "kube.qps=0",
                 "--set", "webhook.enabled=false", "--set", "failover.enabled=false", "--set", "log.level=warning"] + preset))
        wait_ready(extender_port)
        ready_seconds = time.perf_counter() - started
        wait_ready(local_port)
        print("extender ready; measuring ...", flush=True)
        load_before = os.getloadavg()[0]

        # (a) orjson, the parse alone (collector off) and as a Python service runs it (collector on).
        parse_off, parse_on = [], []
        for collector, samples in ((False, parse_off), (True, parse_on)):
            gc.enable() if collector else gc.disable()
            for _ in range(options.runs):
                start = time.perf_counter()
                parsed = orjson.loads(full_body)
                samples.append(time.perf_counter() - start)
                del parsed
        gc.enable()

        client = RawClient(extender_port)
        # (b) full NodeList.
        filter_request = RawClient.request("/filter", full_body)
        prioritize_request = RawClient.request("/prioritize", full_body)
        full_filter, full_prioritize = [], []
        for _ in range(options.runs):
            elapsed, status, answer = client.roundtrip(filter_request)
            assert status == 200, answer[:200]
            full_filter.append(elapsed)
            elapsed, status, answer = client.roundtrip(prioritize_request)
            assert status == 200, answer[:200]
            full_prioritize.append(elapsed)
        result = orjson.loads(client.roundtrip(filter_request)[2])
        passed = len(result["Nodes"]["items"])
        failed = len(result["FailedAndUnresolvableNodes"]) + len(result["FailedNodes"])

        # (c) NodeNames.
        names_filter_request = RawClient.request("/filter", names_body)
        names_prioritize_request = RawClient.request("/prioritize", names_body)
        names_filter, names_prioritize = [], []
        for _ in range(20):  # warm-up
            client.roundtrip(names_filter_request)
            client.roundtrip(names_prioritize_request)
        for _ in range(options.requests):
            elapsed, status, _ = client.roundtrip(names_filter_request)
            assert status == 200
            names_filter.append(elapsed)
            elapsed, status, _ = client.roundtrip(names_prioritize_request)
            assert status == 200
            names_prioritize.append(elapsed)
        names_result = orjson.loads(client.roundtrip(names_filter_request)[2])
        assert len(names_result["NodeNames"]) == passed, "both modes agree"

        # (d) bind: one pod at a time onto nodes that pass, with the shared ledger (a ConfigMap
        # write per bind, then the Binding) and without it (the Binding only).
        binds = {"shared": [], "local": []}
        passing_names = names_result["NodeNames"]
        for setting, port, offset in (("shared", extender_port, 0), ("local", local_port, options.binds)):
            bind_client = RawClient(port)
            for index in range(offset, offset + options.binds):
                api.request("GET", f"/api/v1/namespaces/default/pods/bench-{index}")
                uid = orjson.loads(api.getresponse().read())["metadata"]["uid"]
                body = orjson.dumps({"PodName": f"bench-{index}", "PodNamespace": "default", "PodUID": uid, "Node": passing_names[index % len(passing_names)]})
                elapsed, status, answer = bind_client.roundtrip(RawClient.request("/bind", body))
                assert status == 200 and orjson.loads(answer)["Error"] == "", answer[:300]
                binds[setting].append(elapsed)

        # (e) with CSIStorageCapacity objects: a driver publishing a new class on every node at
        # once (5,000 objects in a burst), while filter requests keep coming: their latency during
        # the burst, and how long until the extender has taken every object in.
        burst = None
        if objects:
            burst_class = options.storage_classes
            post("/apis/storage.k8s.io/v1/storageclasses", orjson.dumps(fixtures.storage_class(burst_class)))
            burst_pod = json.loads(json.dumps(pod))
            burst_pod["metadata"]["annotations"]["rebound.io/volume-requests"] = json.dumps({f"openebs-lvm-{burst_class}": 1}, separators=(",", ":"))
            burst_request = RawClient.request("/filter", fixtures.args_with_names(names, burst_pod))
            during = []
            started = time.perf_counter()
            for index in range(options.nodes):
                post("/apis/storage.k8s.io/v1/namespaces/openebs/csistoragecapacities", orjson.dumps(fixtures.storage_capacity(index, burst_class)))
                if index % 25 == 0:
                    elapsed, status, _ = client.roundtrip(names_filter_request)
                    assert status == 200
                    during.append(elapsed)
            posted = time.perf_counter() - started
            while True:
                answer = orjson.loads(client.roundtrip(burst_request)[2])
                if len(answer["NodeNames"] or []) == passed or time.perf_counter() - started > 120:
                    break
                time.sleep(0.01)
            absorbed = time.perf_counter() - started
            burst = {"objects": options.nodes, "posted_s": posted, "absorbed_s": absorbed,
                     "filter_during_ms_p50": percentile(during, 50) * 1000, "filter_during_ms_p99": percentile(during, 99) * 1000,
                     "passed_after": len(answer["NodeNames"] or [])}

        load_after = os.getloadavg()[0]
        ms = lambda seconds: seconds * 1000  # noqa: E731
        orjson_off = statistics.median(parse_off)
        orjson_on = statistics.median(parse_on)
        filter_median = statistics.median(full_filter)
        results = {
            "nodes": options.nodes, "storage_classes": options.storage_classes, "ready_seconds": ready_seconds, "body_bytes": len(full_body), "passed": passed, "dropped": failed,
            "orjson_loads_ms_median_gc_off": ms(orjson_off), "orjson_loads_ms_median_gc_on": ms(orjson_on),
            "full_filter_ms_median": ms(filter_median), "full_prioritize_ms_median": ms(statistics.median(full_prioritize)),
            "ratio_filter_to_orjson_gc_off": filter_median / orjson_off, "ratio_filter_to_orjson_gc_on": filter_median / orjson_on,
            "names_filter_ms_p50": ms(percentile(names_filter, 50)), "names_filter_ms_p99": ms(percentile(names_filter, 99)),
            "names_prioritize_ms_p50": ms(percentile(names_prioritize, 50)), "names_prioritize_ms_p99": ms(percentile(names_prioritize, 99)),
            "bind_shared_ms_p50": ms(percentile(binds["shared"], 50)), "bind_shared_ms_p99": ms(percentile(binds["shared"], 99)),
            "bind_local_ms_p50": ms(percentile(binds["local"], 50)), "bind_local_ms_p99": ms(percentile(binds["local"], 99)),
            "machine": f"{platform.machine()}, {os.cpu_count()} CPUs, {cpu_model()}, Python {platform.python_version()}, orjson {orjson.__version__}",
            "load_average": [round(load_before, 2), round(load_after, 2)],
        }
        print()
        source = f"{options.storage_classes} StorageClasses x {options.nodes} CSIStorageCapacity objects" if objects else "Carina's node capacity"
        print(f"capacity from {source}; two replicas ready (caches synced, ledger read) {ready_seconds:.2f} s after start")
        print(f"| measurement ({options.nodes} nodes, {len(full_body) / 1e6:.1f} MB full-list body) | median | p99 |")
        print("|---|---|---|")
        print(f"| orjson.loads(body), collector off | {ms(orjson_off):.1f} ms | |")
        print(f"| orjson.loads(body), collector on | {ms(orjson_on):.1f} ms | |")
        print(f"| full-list filter request ({passed} pass, {failed} dropped) | {ms(filter_median):.1f} ms | |")
        print(f"| full-list prioritize request | {ms(statistics.median(full_prioritize)):.1f} ms | |")
        print(f"| NodeNames filter request | {ms(percentile(names_filter, 50)):.2f} ms | {ms(percentile(names_filter, 99)):.2f} ms |")
        print(f"| NodeNames prioritize request | {ms(percentile(names_prioritize, 50)):.2f} ms | {ms(percentile(names_prioritize, 99)):.2f} ms |")
        print(f"| bind, shared ledger ({options.binds} pods) | {ms(percentile(binds['shared'], 50)):.2f} ms | {ms(percentile(binds['shared'], 99)):.2f} ms |")
        print(f"| bind, ledger in the process only ({options.binds} pods) | {ms(percentile(binds['local'], 50)):.2f} ms | {ms(percentile(binds['local'], 99)):.2f} ms |")
        if burst:
            print(f"| NodeNames filter during a burst of {burst['objects']} new CSIStorageCapacity objects | {burst['filter_during_ms_p50']:.2f} ms | {burst['filter_during_ms_p99']:.2f} ms |")
            print()
            print(f"burst: {burst['objects']} objects posted in {burst['posted_s']:.2f} s; every one taken in (the new class passes {burst['passed_after']} nodes) {burst['absorbed_s']:.2f} s after the first")
            results["burst"] = burst
        print()
        print(f"full-list filter / orjson.loads: {filter_median / orjson_off:.2f}x (collector off), {filter_median / orjson_on:.2f}x (collector on); target <= 3x")
        print(f"machine: {results['machine']}; 1-minute load average {load_before:.1f} before, {load_after:.1f} after")
        print(f"NodeNames p99: filter {ms(percentile(names_filter, 99)):.2f} ms, prioritize {ms(percentile(names_prioritize, 99)):.2f} ms; target < 5 ms")
        if options.json:
            with open(options.json, "w") as out:
                json.dump(results, out, indent=2)
    finally:
        for process in reversed(processes):
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
        shutil.rmtree(workdir, ignore_errors=True)


def cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as info:
            for line in info:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.platform()


def wait_for_port(port: int, timeout: float = 60):
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.1)
    raise SystemExit(f"nothing listening on port {port}")


if __name__ == "__main__":
    main()
