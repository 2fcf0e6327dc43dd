"""Benchmark: the retry_credentials_tasks role against the hand-written ansible.builtin.uri playbook.

Both run against the same simulator scenario (N FAILED ROTATE tasks that each run RUN_SECONDS on the
server, with realistic latency), one after the other, each on a freshly loaded simulator. The simulator
runs in its own process so its CPU time is not counted as the controller's.

    python tests/benchmarks/bench.py                 # N = 1, 10, 50; 20 s tasks (a few minutes)
    python tests/benchmarks/bench.py --quick         # smoke: N = 1, 3; 2 s tasks (seconds)
    python tests/benchmarks/bench.py --scale         # 1,000 tasks over 10 simulators, forks 10

Results: a table on stdout, and results.json / results.md in --out (default tests/output/benchmarks).
"""

import argparse
import datetime
import json
import os
import resource
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import psutil

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
sys.path.insert(0, str(REPO / "tests" / "simulator"))
sys.path.insert(0, str(REPO / "tests" / "utils"))

from pyroot import ensure_pyroot  # noqa: E402
from sddc_sim.control import SimControl  # noqa: E402

BIN = Path(sys.executable).parent
USER = {"username": "administrator@vsphere.local", "password": "Bench-Passw0rd!", "role": "ADMIN"}
LATENCY = {"login": 0.3, "refresh": 0.15, "revoke": 0.15, "get": 0.03, "patch": 0.15, "delete": 0.15}
TERMINAL = ("SUCCESSFUL", "FAILED", "USER_CANCELLED", "INCONSISTENT")

# Targets of issue 5, as ratios of ours to the baseline in the same run, and absolute seconds.
TARGETS = {"wall_ratio": 0.35, "requests_ratio": 0.75, "cpu_ratio": 0.30, "overhead_n1": 5.0, "overhead_n50": 10.0}


def parse_ts(text):
    return datetime.datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ").replace(
        tzinfo=datetime.timezone.utc).timestamp()


class SimProcess:
    """One simulator in its own process (CLI), stopped with SIGTERM."""

    def __init__(self, workdir, index):
        self.dir = Path(workdir) / ("sim-%d" % index)
        self.dir.mkdir(parents=True, exist_ok=True)
        scenario = self.dir / "empty.json"
        scenario.write_text(json.dumps({"users": [USER], "tasks": []}))
        ready = self.dir / "ready.json"
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "sddc_sim", "--scenario", str(scenario), "--certs-dir", str(Path(workdir) / "certs"),
             "--ready-file", str(ready)], cwd=str(REPO / "tests" / "simulator"),
            stdout=subprocess.DEVNULL, stderr=open(self.dir / "stderr.txt", "w"))
        deadline = time.time() + 30
        while not ready.exists():
            if self.proc.poll() is not None or time.time() > deadline:
                raise RuntimeError("simulator did not start: %s" % (self.dir / "stderr.txt").read_text())
            time.sleep(0.05)
        info = json.loads(ready.read_text())
        self.port, self.ca_path = info["port"], info["ca_path"]
        self.ctl = SimControl(info["url"], info["ca_path"])

    def load(self, count, run_seconds, history=0):
        """``count`` FAILED ROTATE tasks; with ``history``, that many finished tasks around them, half older and
        half newer (SDDC Manager keeps every task it ever ran)."""
        failed = {"generate": {"count": count, "type": "ROTATE", "status": "FAILED", "run_seconds": run_seconds,
                               "outcomes": ["SUCCESSFUL"]}}
        tasks = [failed]
        if history:
            old = {"generate": {"count": history // 2, "type": "ROTATE", "status": "SUCCESSFUL",
                                "resource_type": "VCENTER"}}
            new = {"generate": {"count": history - history // 2, "type": "ROTATE", "status": "SUCCESSFUL",
                                "resource_type": "NSXT_MANAGER"}}
            tasks = [old, failed, new]
        self.ctl.load({"seed": 5, "users": [USER], "latency": LATENCY, "tasks": tasks})
        return [t["id"] for t in self.ctl.tasks() if t.get("status") == "FAILED"]

    def stop(self):
        self.proc.terminate()
        self.proc.wait(timeout=10)


class Sampler(threading.Thread):
    """Samples the memory of a process tree: peak total, and peak per process with its part.

    Parts: the controller (ansible-playbook itself), its forks (direct children, one per host being
    worked on), and the module processes the forks start.
    """

    def __init__(self, pid, interval=0.05):
        super().__init__(daemon=True)
        self.root = psutil.Process(pid)
        self.interval = interval
        self.peak_total = 0
        self.peak_by_pid = {}
        self.part_by_pid = {pid: "controller"}
        self.done = threading.Event()

    def _part(self, proc):
        if proc.pid not in self.part_by_pid:
            try:
                parent = proc.ppid()
            except psutil.Error:
                parent = None
            self.part_by_pid[proc.pid] = "fork" if parent == self.root.pid else "module"
        return self.part_by_pid[proc.pid]

    def peaks(self):
        """``{part: [peak RSS in MB, largest first]}``."""
        out = {}
        for pid, rss in self.peak_by_pid.items():
            out.setdefault(self.part_by_pid.get(pid, "module"), []).append(round(rss / 2 ** 20, 1))
        return dict((part, sorted(values, reverse=True)) for part, values in out.items())

    def run(self):
        while not self.done.is_set():
            try:
                procs = [self.root] + self.root.children(recursive=True)
            except psutil.NoSuchProcess:
                return
            total = 0
            for proc in procs:
                try:
                    rss = proc.memory_info().rss
                except psutil.Error:
                    continue
                total += rss
                self._part(proc)
                self.peak_by_pid[proc.pid] = max(rss, self.peak_by_pid.get(proc.pid, 0))
            self.peak_total = max(self.peak_total, total)
            self.done.wait(self.interval)


def env():
    out = {k: v for k, v in os.environ.items() if not k.startswith(("ANSIBLE_", "SDDC_MANAGER_"))}
    out.update({"ANSIBLE_COLLECTIONS_PATH": str(ensure_pyroot()), "ANSIBLE_LOCALHOST_WARNING": "False",
                "ANSIBLE_INVENTORY_UNPARSED_WARNING": "False", "ANSIBLE_NOCOLOR": "1",
                "PATH": "%s:%s" % (BIN, os.environ.get("PATH", ""))})
    return out


def run_play(argv, workdir):
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.time()
    with open(Path(workdir) / "play.log", "w") as log:
        proc = subprocess.Popen(argv, env=env(), cwd=str(workdir), stdout=log, stderr=subprocess.STDOUT)
        sampler = Sampler(proc.pid)
        sampler.start()
        rc = proc.wait()
        sampler.done.set()
        sampler.join()
    wall = time.time() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return rc, wall, cpu, sampler


def detection(sim, ids):
    """Seconds from each task's completion on the server to the first read that covered it after that."""
    tasks = dict((t["id"], t) for t in sim.ctl.tasks())
    reads = [(parse_ts(e["ts"]), e["path"]) for e in sim.ctl.log()
             if e["method"] == "GET" and e["path"].startswith("/v1/credentials/tasks") and e["status"] == 200]
    delays = []
    for task_id in ids:
        done = tasks[task_id].get("completed")
        if not done:
            continue
        done = parse_ts(done)
        covering = [ts for ts, path in reads if ts >= done and path in (
            "/v1/credentials/tasks", "/v1/credentials/tasks/%s" % task_id)]
        if covering:
            delays.append(min(covering) - done)
    return delays, [tasks[i]["status"] for i in ids]


def measure(flow, sims, count_per_sim, run_seconds, workdir, quick, forks=None, history=0):
    ids_by_sim = [sim.load(count_per_sim, run_seconds, history) for sim in sims]
    workdir = Path(tempfile.mkdtemp(prefix="%s-" % flow, dir=workdir))
    inventory = workdir / "inventory.ini"
    if flow == "baseline":
        sim = sims[0]
        extra = {"sddc_host": "127.0.0.1", "sddc_port": sim.port, "sddc_ca": sim.ca_path,
                 "sddc_user": USER["username"], "sddc_password": USER["password"], "task_ids": ids_by_sim[0]}
        if quick:
            extra["poll_delay"] = 1
        inventory.write_text("localhost ansible_connection=local ansible_python_interpreter=%s\n" % sys.executable)
        playbook = HERE / "baseline_uri.yml"
    else:
        lines = ["[sddc]"]
        for index, (sim, ids) in enumerate(zip(sims, ids_by_sim)):
            host_vars = {"retry_credentials_tasks_port": sim.port, "retry_credentials_tasks_ca_path": sim.ca_path,
                         "retry_credentials_tasks_ids": ids}
            (workdir / "host_vars").mkdir(exist_ok=True)
            (workdir / "host_vars" / ("sddc-%02d.json" % index)).write_text(json.dumps(host_vars))
            lines.append("sddc-%02d" % index)
        lines += ["[sddc:vars]", "ansible_connection=local", "ansible_python_interpreter=%s" % sys.executable]
        inventory.write_text("\n".join(lines) + "\n")
        extra = {"retry_credentials_tasks_hostname": "127.0.0.1", "retry_credentials_tasks_username": USER["username"],
                 "retry_credentials_tasks_password": USER["password"]}
        if quick:
            extra["retry_credentials_tasks_wait_sleep"] = 1
        playbook = HERE / "ours.yml"
    (workdir / "extra.json").write_text(json.dumps(extra))
    argv = [str(BIN / "ansible-playbook"), "-i", str(inventory), str(playbook), "-e", "@extra.json"]
    if forks:
        argv += ["--forks", str(forks)]
    for sim in sims:
        sim.ctl.reset()
    rc, wall, cpu, sampler = run_play(argv, workdir)
    counters = [sim.ctl.counters() for sim in sims]
    delays, statuses = [], []
    for sim, ids in zip(sims, ids_by_sim):
        d, s = detection(sim, ids)
        delays += d
        statuses += s
    by_route = {}
    for c in counters:
        for route, n in c["by_route"].items():
            by_route[route] = by_route.get(route, 0) + n
    peaks = sampler.peaks()
    return {
        "flow": flow if not history else "%s, history %d" % (flow, history), "history": history,
        "tasks": count_per_sim * len(sims), "managers": len(sims), "rc": rc,
        "all_successful": rc == 0 and all(s == "SUCCESSFUL" for s in statuses),
        "wall_s": round(wall, 1), "overhead_s": round(wall - run_seconds, 1),
        "detection_max_s": round(max(delays), 2) if delays else None,
        "detection_mean_s": round(sum(delays) / len(delays), 2) if delays else None,
        "requests": sum(c["total"] for c in counters), "requests_by_route": by_route,
        "logins": sum(c["logins"] for c in counters), "logins_per_manager": [c["logins"] for c in counters],
        "cpu_s": round(cpu, 1), "peak_rss_total_mb": round(sampler.peak_total / 2 ** 20, 1),
        "peak_rss_mb_by_part": dict((part, {"count": len(v), "max": v[0], "mean": round(sum(v) / len(v), 1)})
                                    for part, v in peaks.items()),
        "log": str(workdir / "play.log"),
    }


def ratio(ours, base, key):
    return round(ours[key] / base[key], 3) if base[key] else None


def verdicts(pairs, sizes):
    out = []
    for n in sizes:
        base, ours = pairs[n]
        out.append(("N=%d one login per play" % n, ours["logins"] == 1, "%d login(s)" % ours["logins"]))
        limit = TARGETS["overhead_n1"] if n == 1 else TARGETS["overhead_n50"] if n >= 50 else None
        if limit is not None:
            out.append(("N=%d overhead <= %.0f s" % (n, limit), ours["overhead_s"] <= limit, "%.1f s" % ours["overhead_s"]))
        if n >= 50:
            for key, target in (("wall_s", "wall_ratio"), ("requests", "requests_ratio"), ("cpu_s", "cpu_ratio")):
                value = ratio(ours, base, key)
                out.append(("N=%d %s ratio <= %.2f" % (n, key, TARGETS[target]), value is not None and value <= TARGETS[target],
                            "%.3f" % value if value is not None else "n/a"))
    return out


def table(rows):
    head = ["N", "flow", "ok", "wall s", "overhead s", "detect max/mean s", "requests", "logins", "CPU s", "peak RSS MB"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for r in rows:
        lines.append("| %d | %s | %s | %.1f | %.1f | %s/%s | %d | %d | %.1f | %.1f |" % (
            r["tasks"], r["flow"], "yes" if r["all_successful"] else "NO", r["wall_s"], r["overhead_s"],
            r["detection_max_s"], r["detection_mean_s"], r["requests"], r["logins"], r["cpu_s"],
            r["peak_rss_total_mb"]))
    return "\n".join(lines)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="smoke run: N = 1, 3 with 2 s tasks")
    parser.add_argument("--scale", action="store_true", help="1,000 tasks over 10 simulators with forks 10")
    parser.add_argument("--sizes", default=None, help="comma-separated N values (default 1,10,50)")
    parser.add_argument("--run-seconds", type=float, default=None, help="server time of each task (default 20)")
    parser.add_argument("--history", type=int, default=0,
                        help="also run the role with this many finished tasks around the failed ones (e.g. 20000) "
                             "and compare it with the run without history")
    parser.add_argument("--out", default=str(REPO / "tests" / "output" / "benchmarks"))
    args = parser.parse_args()
    sizes = [int(n) for n in (args.sizes or ("1,3" if args.quick else "1,10,50")).split(",")]
    run_seconds = args.run_seconds or (2.0 if args.quick else 20.0)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    workdir = Path(tempfile.mkdtemp(prefix="bench-"))
    results = {"run_seconds": run_seconds, "latency": LATENCY, "cpu_count": os.cpu_count(), "rows": [], "checks": []}
    sims = [SimProcess(workdir, 0)]
    failed = False
    try:
        if args.history:
            for n in sizes:
                plain = measure("ours", sims, n, run_seconds, workdir, args.quick)
                long = measure("ours", sims, n, run_seconds, workdir, args.quick, history=args.history)
                results["rows"] += [plain, long]
                print(table([plain, long]), flush=True)
                print("N=%d history %d vs 0: wall %s, CPU %s, peak RSS %s, requests %s (targets: wall <= 1.10, "
                      "CPU <= 1.30)" % (n, args.history, ratio(long, plain, "wall_s"), ratio(long, plain, "cpu_s"),
                                        ratio(long, plain, "peak_rss_total_mb"), ratio(long, plain, "requests")))
                failed = failed or not (plain["all_successful"] and long["all_successful"])
        elif args.scale:
            sims += [SimProcess(workdir, i) for i in range(1, 10)]
            row = measure("ours", sims, 100, run_seconds, workdir, args.quick, forks=10)
            results["rows"].append(row)
            print(table([row]))
            for part, figures in sorted(row["peak_rss_mb_by_part"].items()):
                print("peak RSS of %s processes: %d of them, max %.1f MB, mean %.1f MB" % (
                    part, figures["count"], figures["max"], figures["mean"]))
            print("logins per SDDC Manager: %s" % row["logins_per_manager"])
            failed = not row["all_successful"] or any(n != 1 for n in row["logins_per_manager"])
        else:
            pairs = {}
            for n in sizes:
                base = measure("baseline", sims, n, run_seconds, workdir, args.quick)
                ours = measure("ours", sims, n, run_seconds, workdir, args.quick)
                pairs[n] = (base, ours)
                results["rows"] += [base, ours]
                print(table([base, ours]), flush=True)
            print()
            print(table(results["rows"]))
            print()
            for n in sizes:
                base, ours = pairs[n]
                print("N=%d ratios ours/baseline: wall %s, requests %s, CPU %s" % (
                    n, ratio(ours, base, "wall_s"), ratio(ours, base, "requests"), ratio(ours, base, "cpu_s")))
            checks = [] if args.quick else verdicts(pairs, sizes)
            results["checks"] = [{"check": c, "ok": ok, "value": v} for c, ok, v in checks]
            for check, ok, value in checks:
                print("%-32s %-5s %s" % (check, "PASS" if ok else "MISS", value))
            failed = any(not (b["all_successful"] and o["all_successful"]) for b, o in pairs.values())
    finally:
        for sim in sims:
            sim.stop()
    (out / "results.json").write_text(json.dumps(results, indent=2))
    (out / "results.md").write_text(table(results["rows"]) + "\n")
    print("results: %s, %s" % (out / "results.json", out / "results.md"))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
