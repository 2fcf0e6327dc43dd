"""Benchmark: the retry_credentials_tasks role against the hand-written ansible.builtin.uri playbook.

Every figure of issue 22, each in its own table, then a table of the issue's targets, met or not:

    python tests/benchmarks/bench.py             # everything (make bench): N = 1 at 17/20/23 s, N = 10 and 50,
                                                 # history 0 vs 20,000 (role and event source), fleet
    python tests/benchmarks/bench.py --quick     # smoke (make bench-quick): every flow briefly, about 30 s
    python tests/benchmarks/bench.py --scale     # the fleet run only: 1,000 tasks over 10 simulators, forks 10
    python tests/benchmarks/bench.py --only lengths,eda --lengths 17,20,23 --eda-polls 20

Each play runs against a freshly loaded simulator in its own process, so its CPU time is not counted as the
controller's; the simulator runs under ``sim_tap.py``, which records how many tasks each answer carried. The
event source runs in a process of its own (``eda_driver.py``). ``--collection-root`` measures the collection
code of another checkout (a git worktree of an older commit) with this harness.

Results: tables on stdout, and results.json / results.md in --out (default tests/output/benchmarks).
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

# Issue 22's targets. Ratios are ours / the playbook's, or history 20,000 / no history, in the same run.
TARGETS = {
    "history_wall_ratio": 1.10, "history_cpu_ratio": 1.30,
    "eda_elements_per_poll": 1000, "eda_cpu_ratio": 1.30,
    "n1_mean_overhead_s": 3.0,
    "n50_wall_ratio": 0.35, "n50_requests_ratio": 0.60,
    "fleet_overhead_s": 10.0, "fleet_cpu_s": 20.0,
}
# Where the collection's code comes from (a pyroot: ansible_collections/vcf/sddc_manager inside); see --collection-root.
PYROOT = None


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
        self.tap = self.dir / "tap.jsonl"
        self.tap.touch()
        self.proc = subprocess.Popen(
            [sys.executable, str(HERE / "sim_tap.py"), "--scenario", str(scenario), "--certs-dir",
             str(Path(workdir) / "certs"), "--ready-file", str(ready)], cwd=str(REPO / "tests" / "simulator"),
            env=dict(os.environ, BENCH_TAP_FILE=str(self.tap)),
            stdout=subprocess.DEVNULL, stderr=open(self.dir / "stderr.txt", "w"))
        deadline = time.time() + 30
        while not ready.exists():
            if self.proc.poll() is not None or time.time() > deadline:
                raise RuntimeError("simulator did not start: %s" % (self.dir / "stderr.txt").read_text())
            time.sleep(0.05)
        info = json.loads(ready.read_text())
        self.port, self.ca_path, self.url = info["port"], info["ca_path"], info["url"]
        self.ctl = SimControl(info["url"], info["ca_path"])
        self.tap_offset = 0

    def mark(self):
        """From now on, ``taps()`` returns only the answers written after this call."""
        self.tap_offset = self.tap.stat().st_size

    def taps(self):
        """The tap's entries (sim_tap.py) since ``mark()``: one per API answer, with the tasks it carried."""
        with open(self.tap, encoding="utf-8") as handle:
            handle.seek(self.tap_offset)
            return [json.loads(line) for line in handle if line.strip()]

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
        # Python processes running an AnsiballZ payload: one per module run (the /bin/sh around it not counted).
        self.module_pids = set()
        self.done = threading.Event()

    def _part(self, proc):
        if proc.pid not in self.part_by_pid:
            try:
                parent = proc.ppid()
            except psutil.Error:
                parent = None
            self.part_by_pid[proc.pid] = "fork" if parent == self.root.pid else "module"
        if self.part_by_pid[proc.pid] == "module" and proc.pid not in self.module_pids:
            # Looked at again at every sample: a process first seen between its fork and its exec still shows the
            # command line of its parent.
            try:
                argv = proc.cmdline()
            except psutil.Error:
                argv = []
            if argv and "python" in os.path.basename(argv[0]) and any("AnsiballZ_" in a for a in argv[1:]):
                self.module_pids.add(proc.pid)
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
    out.update({"ANSIBLE_COLLECTIONS_PATH": str(PYROOT), "ANSIBLE_LOCALHOST_WARNING": "False",
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


def elements_read(taps):
    """Tasks carried by the answers to credentials-task reads, and how many list and by-id reads there were."""
    lists = [t for t in taps if t["method"] == "GET" and t["path"] == "/v1/credentials/tasks"]
    by_id = [t for t in taps if t["method"] == "GET" and t["path"].startswith("/v1/credentials/tasks/")
             and t["path"].count("/") == 4]
    return sum(t["elements"] for t in lists + by_id), len(lists), len(by_id)


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
        sim.mark()
    rc, wall, cpu, sampler = run_play(argv, workdir)
    taps = [t for sim in sims for t in sim.taps()]
    elements, list_reads, id_reads = elements_read(taps)
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
        "run_seconds": run_seconds, "load": os.getloadavg(),
        "tasks": count_per_sim * len(sims), "managers": len(sims), "rc": rc,
        "all_successful": rc == 0 and all(s == "SUCCESSFUL" for s in statuses),
        "wall_s": round(wall, 1), "overhead_s": round(wall - run_seconds, 1),
        "detection_max_s": round(max(delays), 2) if delays else None,
        "detection_mean_s": round(sum(delays) / len(delays), 2) if delays else None,
        "requests": sum(c["total"] for c in counters), "requests_by_route": by_route,
        "logins": sum(c["logins"] for c in counters), "logins_per_manager": [c["logins"] for c in counters],
        "elements_read": elements, "list_reads": list_reads, "id_reads": id_reads,
        "module_processes": len(sampler.module_pids),
        "processes_under_forks": len([pid for pid, part in sampler.part_by_pid.items() if part == "module"]),
        "cpu_s": round(cpu, 1), "peak_rss_total_mb": round(sampler.peak_total / 2 ** 20, 1),
        "peak_rss_mb_by_part": dict((part, {"count": len(v), "max": v[0], "mean": round(sum(v) / len(v), 1)})
                                    for part, v in peaks.items()),
        "log": str(workdir / "play.log"),
    }


def ratio(num, den, key=None):
    num, den = (num[key], den[key]) if key else (num, den)
    return round(num / den, 3) if den else None


def load_text(load=None):
    return "load %.2f %.2f %.2f" % tuple(load or os.getloadavg())


def md_table(head, rows):
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return "\n".join(lines)


def fmt(value, spec="%.1f"):
    return "n/a" if value is None else spec % value


def play_table(rows):
    """Every figure of the plays, one row each."""
    head = ["N", "task s", "flow", "ok", "wall s", "overhead s", "detect max/mean s", "requests", "logins",
            "tasks read", "CPU s", "peak RSS MB", "module procs", "load 1 min"]
    return md_table(head, [[
        r["tasks"], fmt(r["run_seconds"], "%g"), r["flow"], "yes" if r["all_successful"] else "NO", fmt(r["wall_s"]),
        fmt(r["overhead_s"]), "%s/%s" % (r["detection_max_s"], r["detection_mean_s"]), r["requests"], r["logins"],
        r["elements_read"], fmt(r["cpu_s"]), fmt(r["peak_rss_total_mb"]), r["module_processes"],
        "%.2f" % r["load"][0]] for r in rows])


# -- sections: each returns (title, markdown table, data, ok) ---------------------------------------------------------

def section_lengths(sims, workdir, lengths, quick):
    """N = 1 at each task length: the playbook and ours, overhead = wall - the task's server time."""
    pairs = []
    for length in lengths:
        base = measure("baseline", sims, 1, length, workdir, quick)
        ours = measure("ours", sims, 1, length, workdir, quick)
        pairs.append((length, base, ours))
        print(play_table([base, ours]), flush=True)
    rows = [[fmt(length, "%g"), fmt(b["wall_s"]), fmt(b["overhead_s"]), b["requests"], fmt(o["wall_s"]),
             fmt(o["overhead_s"]), o["requests"], "%.2f" % o["load"][0]] for length, b, o in pairs]
    mean_base = round(sum(b["overhead_s"] for _length, b, _ours in pairs) / len(pairs), 2)
    mean_ours = round(sum(o["overhead_s"] for _length, _base, o in pairs) / len(pairs), 2)
    rows.append(["mean", "", fmt(mean_base, "%.2f"), "", "", fmt(mean_ours, "%.2f"), "", ""])
    head = ["task s", "playbook wall s", "playbook overhead s", "playbook requests", "ours wall s", "ours overhead s",
            "ours requests", "load 1 min"]
    data = {"rows": [r for _key, b, o in pairs for r in (b, o)], "mean_overhead_playbook_s": mean_base,
            "mean_overhead_ours_s": mean_ours}
    ok = all(b["all_successful"] and o["all_successful"] for _key, b, o in pairs)
    return "N = 1 at task lengths %s s" % ", ".join("%g" % x for x in lengths), md_table(head, rows), data, ok


def section_sizes(sims, workdir, sizes, run_seconds, quick):
    """N tasks of ``run_seconds`` each: the playbook and ours side by side, with the ratios."""
    pairs = []
    for n in sizes:
        base = measure("baseline", sims, n, run_seconds, workdir, quick)
        ours = measure("ours", sims, n, run_seconds, workdir, quick)
        pairs.append((n, base, ours))
        print(play_table([base, ours]), flush=True)
    rows = [[n, fmt(b["wall_s"]), fmt(o["wall_s"]), fmt(ratio(o, b, "wall_s"), "%.3f"), b["requests"], o["requests"],
             fmt(ratio(o, b, "requests"), "%.3f"), fmt(b["cpu_s"]), fmt(o["cpu_s"]), fmt(ratio(o, b, "cpu_s"), "%.3f"),
             "%.2f" % o["load"][0]] for n, b, o in pairs]
    head = ["N", "playbook wall s", "ours wall s", "wall ratio", "playbook requests", "ours requests", "requests ratio",
            "playbook CPU s", "ours CPU s", "CPU ratio", "load 1 min"]
    data = {"rows": [r for _key, b, o in pairs for r in (b, o)],
            "ratios": dict((str(n), {"wall": ratio(o, b, "wall_s"), "requests": ratio(o, b, "requests"),
                                     "cpu": ratio(o, b, "cpu_s")}) for n, b, o in pairs)}
    ok = all(b["all_successful"] and o["all_successful"] for _key, b, o in pairs)
    return "N = %s, %g s tasks: ours / playbook" % (", ".join(map(str, sizes)), run_seconds), md_table(head, rows), \
        data, ok


def section_history(sims, workdir, n, history, run_seconds, quick):
    """The role on N failed tasks, without and amid ``history`` finished ones."""
    plain = measure("ours", sims, n, run_seconds, workdir, quick)
    long = measure("ours", sims, n, run_seconds, workdir, quick, history=history)
    print(play_table([plain, long]), flush=True)
    keys = (("wall_s", "%.1f"), ("cpu_s", "%.1f"), ("peak_rss_total_mb", "%.1f"), ("requests", "%d"),
            ("elements_read", "%d"))
    rows = [[label] + [fmt(r[k], f) for k, f in keys] + ["%.2f" % r["load"][0]]
            for label, r in (("0", plain), ("%d" % history, long))]
    rows.append(["ratio"] + [fmt(ratio(long, plain, k), "%.3f") for k, _form in keys] + [""])
    head = ["history", "wall s", "CPU s", "peak RSS MB", "requests", "tasks read", "load 1 min"]
    data = {"rows": [plain, long], "wall_ratio": ratio(long, plain, "wall_s"), "cpu_ratio": ratio(long, plain, "cpu_s"),
            "peak_rss_ratio": ratio(long, plain, "peak_rss_total_mb"), "requests_ratio": ratio(long, plain, "requests")}
    ok = plain["all_successful"] and long["all_successful"]
    return "History: the role on %d failed tasks, %d vs 0 finished tasks around them" % (n, history), \
        md_table(head, rows), data, ok


def run_eda(sim, workdir, history, polls, interval, failed):
    """The event source against ``failed`` FAILED tasks amid ``history`` finished ones, for ``polls`` polls."""
    sim.load(failed, 1.0, history)
    sim.ctl.reset()
    sim.mark()
    environment = dict(os.environ, SDDC_MANAGER_HOST="127.0.0.1", SDDC_MANAGER_PORT=str(sim.port),
                       SDDC_MANAGER_USERNAME=USER["username"], SDDC_MANAGER_PASSWORD=USER["password"],
                       SDDC_MANAGER_CA_PATH=sim.ca_path)
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.time()
    proc = subprocess.run(
        [sys.executable, str(HERE / "eda_driver.py"), "--pyroot", str(PYROOT), "--control-url", sim.url,
         "--polls", str(polls), "--interval", str(interval), "--add-after", "1", "--timeout", str(120 + polls * 60)],
        env=environment, capture_output=True, text=True, check=False)
    wall = time.time() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    (Path(workdir) / ("eda-%d.stderr.txt" % history)).write_text(proc.stderr)
    try:
        out = json.loads(proc.stdout.strip().splitlines()[-1])
    except (ValueError, IndexError):
        raise RuntimeError("the event source driver failed (rc %d): %s" % (proc.returncode, proc.stderr[-3000:]))
    taps = sim.taps()
    per_poll = []
    for window in out["polls"]:
        inside = [t for t in taps if window["start"] <= t["ts"] <= window["end"]]
        elements, lists, by_id = elements_read(inside)
        per_poll.append({"elements": elements, "requests": len(inside), "list_reads": lists, "id_reads": by_id,
                         "limits": sorted(set(str(t["limit"]) for t in inside if t["path"] == "/v1/credentials/tasks")),
                         "bytes": sum(t["bytes"] for t in inside), "seconds": round(window["end"] - window["start"], 3)})
    n = len(per_poll)
    steady = per_poll[1:] or per_poll
    cpu = out["cpu_s"]
    errors = [t for t in taps if t["status"] is None or t["status"] >= 400]
    problems = []
    if out["error"]:
        problems.append(out["error"])
    if n != polls:
        problems.append("%d polls instead of %d" % (n, polls))
    if out["added"] not in out["events"]:
        problems.append("no event for the task that failed while the source watched (%s; events: %s)" % (
            out["added"], out["events"]))
    if not any(p["elements"] for p in per_poll):
        problems.append("no task read in any poll: the tap or the poll windows are broken")
    if errors:
        problems.append("%d API answer(s) with an error status" % len(errors))
    return {
        "history": history, "failed_tasks": failed, "polls": n, "interval_s": interval, "plugin": out["plugin"],
        "elements_first_poll": per_poll[0]["elements"] if per_poll else None,
        "elements_per_poll_steady": round(sum(p["elements"] for p in steady) / len(steady), 1) if steady else None,
        "elements_per_poll_all": round(sum(p["elements"] for p in per_poll) / n, 1) if n else None,
        "requests_first_poll": per_poll[0]["requests"] if per_poll else None,
        "requests_per_poll_steady": round(sum(p["requests"] for p in steady) / len(steady), 2) if steady else None,
        "cpu_s": round(cpu[-1], 3) if cpu else None,
        "cpu_ms_per_poll": round(1000 * cpu[-1] / n, 1) if n else None,
        "cpu_ms_first_poll": round(1000 * cpu[0], 1) if cpu else None,
        "cpu_ms_per_poll_steady": round(1000 * (cpu[-1] - cpu[0]) / (n - 1), 1) if n > 1 else None,
        "import_cpu_s": out["import_cpu_s"], "process_cpu_s": round(
            (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime), 2),
        "peak_rss_mb": out["peak_rss_mb"], "wall_s": round(wall, 1), "events": len(out["events"]),
        "event_for_new_failure": out["added"] in out["events"], "per_poll": per_poll, "problems": problems,
        "load": os.getloadavg(),
    }


def section_eda(sims, workdir, histories, polls, interval, failed):
    runs = [run_eda(sims[0], workdir, h, polls, interval, failed) for h in histories]
    rows = [[r["history"], r["polls"], r["elements_first_poll"], fmt(r["elements_per_poll_steady"]),
             fmt(r["elements_per_poll_all"]), r["requests_first_poll"], fmt(r["requests_per_poll_steady"], "%.2f"),
             fmt(r["cpu_ms_per_poll"]), fmt(r["cpu_ms_first_poll"]), fmt(r["cpu_ms_per_poll_steady"]),
             fmt(r["peak_rss_mb"]), "yes" if r["event_for_new_failure"] else "NO", "%.2f" % r["load"][0]]
            for r in runs]
    if len(runs) == 2:
        a, b = runs
        rows.append(["ratio", "", fmt(ratio(b, a, "elements_first_poll"), "%.1f"),
                     fmt(ratio(b, a, "elements_per_poll_steady"), "%.1f"), fmt(ratio(b, a, "elements_per_poll_all"), "%.1f"),
                     "", "", fmt(ratio(b, a, "cpu_ms_per_poll"), "%.2f"), fmt(ratio(b, a, "cpu_ms_first_poll"), "%.2f"),
                     fmt(ratio(b, a, "cpu_ms_per_poll_steady"), "%.2f"), fmt(ratio(b, a, "peak_rss_mb"), "%.2f"), "", ""])
    head = ["history", "polls", "tasks read, 1st poll", "tasks read/poll, steady", "tasks read/poll, all",
            "requests, 1st poll", "requests/poll, steady", "CPU ms/poll", "CPU ms, 1st poll", "CPU ms/poll, steady",
            "peak RSS MB", "event for a new failure", "load 1 min"]
    for r in runs:
        for problem in r["problems"]:
            print("event source, history %d: %s" % (r["history"], problem), flush=True)
    data = {"runs": runs}
    if len(runs) == 2:
        data["cpu_per_poll_ratio"] = ratio(runs[1], runs[0], "cpu_ms_per_poll")
        data["cpu_per_poll_steady_ratio"] = ratio(runs[1], runs[0], "cpu_ms_per_poll_steady")
    ok = not any(r["problems"] for r in runs)
    title = "Event source: %d FAILED tasks amid %s finished ones, %d polls every %g s (plugin %s)" % (
        failed, " / ".join(str(h) for h in histories), polls, interval, runs[0]["plugin"])
    return title, md_table(head, rows), data, ok


def section_fleet(sims, workdir, per_sim, run_seconds, quick, forks):
    row = measure("ours", sims, per_sim, run_seconds, workdir, quick, forks=forks)
    print(play_table([row]), flush=True)
    head = ["tasks", "SDDC Managers", "forks", "wall s", "overhead s", "CPU s", "module processes",
            "processes under the forks", "requests", "logins per manager", "peak RSS MB", "load 1 min"]
    logins = sorted(set(row["logins_per_manager"]))
    rows = [[row["tasks"], row["managers"], forks, fmt(row["wall_s"]), fmt(row["overhead_s"]), fmt(row["cpu_s"]),
             row["module_processes"], row["processes_under_forks"], row["requests"], "/".join(map(str, logins)),
             fmt(row["peak_rss_total_mb"]),
             "%.2f" % row["load"][0]]]
    for part, figures in sorted(row["peak_rss_mb_by_part"].items()):
        print("peak RSS of %s processes: %d of them, max %.1f MB, mean %.1f MB" % (
            part, figures["count"], figures["max"], figures["mean"]))
    ok = row["all_successful"] and all(n == 1 for n in row["logins_per_manager"])
    return "Fleet: %d tasks over %d SDDC Managers, forks %d, %g s tasks" % (
        row["tasks"], row["managers"], forks, run_seconds), md_table(head, rows), {"row": row}, ok


def targets(sections):
    """Issue 22's targets: (target, measured, met) for each figure measured in this run."""
    out = []

    def add(name, value, limit, text=None):
        met = None if value is None else value <= limit
        out.append({"target": name, "value": value, "text": text or fmt(value, "%.3f"), "limit": limit, "met": met})

    if "history" in sections:
        d = sections["history"]["data"]
        add("history: role wall ratio <= %.2f" % TARGETS["history_wall_ratio"], d["wall_ratio"],
            TARGETS["history_wall_ratio"])
        add("history: role CPU ratio <= %.2f" % TARGETS["history_cpu_ratio"], d["cpu_ratio"], TARGETS["history_cpu_ratio"])
    if "eda" in sections and len(sections["eda"]["data"]["runs"]) == 2:
        d = sections["eda"]["data"]
        last = d["runs"][-1]
        # On average over the whole run, the first poll's read of the whole history included.
        add("event source: tasks read/poll, all %d polls (history %d) <= %d" % (
            last["polls"], last["history"], TARGETS["eda_elements_per_poll"]),
            last["elements_per_poll_all"], TARGETS["eda_elements_per_poll"], fmt(last["elements_per_poll_all"]))
        # Per poll once the source runs: the first poll reads the whole list once, whatever it costs (only `limit`
        # exists, and the open tasks may sit anywhere in it); its CPU is in the table beside this.
        add("event source: CPU/poll after the first, ratio history %d / 0 <= %.2f" % (
            last["history"], TARGETS["eda_cpu_ratio"]),
            d["cpu_per_poll_steady_ratio"], TARGETS["eda_cpu_ratio"],
            "%s (%s vs %s ms; first poll %s vs %s ms)" % (
                fmt(d["cpu_per_poll_steady_ratio"], "%.2f"), fmt(last["cpu_ms_per_poll_steady"]),
                fmt(d["runs"][0]["cpu_ms_per_poll_steady"]), fmt(last["cpu_ms_first_poll"]),
                fmt(d["runs"][0]["cpu_ms_first_poll"])))
    if "lengths" in sections:
        d = sections["lengths"]["data"]
        add("N=1: mean overhead <= %.0f s (playbook %.2f s)" % (TARGETS["n1_mean_overhead_s"], d["mean_overhead_playbook_s"]),
            d["mean_overhead_ours_s"], TARGETS["n1_mean_overhead_s"], "%.2f s" % d["mean_overhead_ours_s"])
    if "sizes" in sections and "50" in sections["sizes"]["data"]["ratios"]:
        r = sections["sizes"]["data"]["ratios"]["50"]
        add("N=50: wall ratio ours/playbook <= %.2f" % TARGETS["n50_wall_ratio"], r["wall"], TARGETS["n50_wall_ratio"])
        add("N=50: requests ratio ours/playbook <= %.2f" % TARGETS["n50_requests_ratio"], r["requests"],
            TARGETS["n50_requests_ratio"])
    if "fleet" in sections:
        row = sections["fleet"]["data"]["row"]
        add("fleet: overhead <= %.0f s" % TARGETS["fleet_overhead_s"], row["overhead_s"], TARGETS["fleet_overhead_s"],
            "%.1f s" % row["overhead_s"])
        add("fleet: controller CPU <= %.0f s" % TARGETS["fleet_cpu_s"], row["cpu_s"], TARGETS["fleet_cpu_s"],
            "%.1f s" % row["cpu_s"])
    return out


def targets_table(found):
    return md_table(["target (issue 22)", "measured", "met"], [
        [t["target"], t["text"], "n/a" if t["met"] is None else "met" if t["met"] else "not met"] for t in found])


def collection_pyroot(root, workdir):
    """A pyroot whose ansible_collections/vcf/sddc_manager is ``root`` (another checkout)."""
    link = Path(workdir) / "pyroot" / "ansible_collections" / "vcf" / "sddc_manager"
    link.parent.mkdir(parents=True)
    link.symlink_to(Path(root).resolve(), target_is_directory=True)
    return link.parents[2]


SECTIONS = ("lengths", "sizes", "history", "eda", "fleet")


def numbers(text, kind=float):
    return [kind(x) for x in text.split(",") if x.strip()] if text else []


def main():
    global PYROOT  # pylint: disable=global-statement
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true",
                        help="smoke run of every flow but the fleet: N = 1 at 2 s, N = 3, 2 s tasks, 1 s poll; "
                             "the event source for 2 polls on history 0 and 200")
    parser.add_argument("--scale", action="store_true", help="only the fleet run (same as --only fleet)")
    parser.add_argument("--only", default=None, help="comma-separated sections out of %s (default: all; "
                        "--quick: all but fleet)" % ",".join(SECTIONS))
    parser.add_argument("--lengths", default=None, help="N = 1 task lengths in seconds (default 17,20,23; --quick: 2)")
    parser.add_argument("--sizes", default=None, help="comma-separated N values beside N = 1 (default 10,50; --quick: 3)")
    parser.add_argument("--run-seconds", type=float, default=None,
                        help="server time of each task for --sizes, --history and the fleet (default 20; --quick: 2)")
    parser.add_argument("--history", type=int, default=None,
                        help="finished tasks around the failed ones in the history and event source runs "
                             "(default 20000; --quick: 200)")
    parser.add_argument("--history-tasks", type=int, default=None, help="failed tasks of the history run (default 20; "
                        "--quick: 3)")
    parser.add_argument("--eda-polls", type=int, default=None, help="polls per event source run (default 60, an hour at the default interval; --quick: 2)")
    parser.add_argument("--eda-interval", type=float, default=1.0, help="event source interval, seconds (default 1)")
    parser.add_argument("--fleet-tasks", type=int, default=100, help="tasks per simulator in the fleet run (default 100)")
    parser.add_argument("--fleet-managers", type=int, default=10, help="simulators in the fleet run (default 10)")
    parser.add_argument("--forks", type=int, default=10, help="--forks of the fleet run (default 10)")
    parser.add_argument("--collection-root", default=None,
                        help="measure the collection code of this checkout (default: the one holding this script)")
    parser.add_argument("--out", default=str(REPO / "tests" / "output" / "benchmarks"))
    args = parser.parse_args()
    quick = args.quick
    if args.scale:
        wanted = ["fleet"]
    elif args.only:
        wanted = [s.strip() for s in args.only.split(",") if s.strip()]
        unknown = [s for s in wanted if s not in SECTIONS]
        if unknown:
            parser.error("unknown section(s) %s; the sections are %s" % (", ".join(unknown), ", ".join(SECTIONS)))
    elif args.history is not None and args.sizes and not quick:
        # The form from before the sections (--sizes 20 --history 20000): the history comparison alone, on N tasks.
        wanted = ["history"]
        args.history_tasks = args.history_tasks or numbers(args.sizes, int)[0]
    elif quick:
        wanted = ["lengths", "sizes", "eda"]
    else:
        wanted = list(SECTIONS)
    lengths = numbers(args.lengths) or ([2.0] if quick else [17.0, 20.0, 23.0])
    sizes = numbers(args.sizes, int) or ([3] if quick else [10, 50])
    run_seconds = args.run_seconds or (2.0 if quick else 20.0)
    history = args.history if args.history is not None else (200 if quick else 20000)
    history_tasks = args.history_tasks or (3 if quick else 20)
    polls = args.eda_polls or (2 if quick else 60)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    workdir = Path(tempfile.mkdtemp(prefix="bench-"))
    PYROOT = collection_pyroot(args.collection_root, workdir) if args.collection_root else ensure_pyroot()
    results = {"collection": str((PYROOT / "ansible_collections" / "vcf" / "sddc_manager").resolve()),
               "latency": LATENCY, "cpu_count": os.cpu_count(), "load_at_start": os.getloadavg(),
               "started": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
               "sections": {}, "targets": []}
    print("collection: %s; %d cores, %s" % (results["collection"], os.cpu_count(), load_text()), flush=True)
    started = time.time()
    sims = [SimProcess(workdir, 0)]
    failed = []
    try:
        for name in wanted:
            begin, load_before = time.time(), os.getloadavg()
            if name == "lengths":
                title, md, data, ok = section_lengths(sims, workdir, lengths, quick)
            elif name == "sizes":
                title, md, data, ok = section_sizes(sims, workdir, sizes, run_seconds, quick)
            elif name == "history":
                title, md, data, ok = section_history(sims, workdir, history_tasks, history, run_seconds, quick)
            elif name == "eda":
                title, md, data, ok = section_eda(sims, workdir, [0, history], polls, args.eda_interval, history_tasks)
            else:
                sims += [SimProcess(workdir, i) for i in range(len(sims), args.fleet_managers)]
                title, md, data, ok = section_fleet(sims[:args.fleet_managers], workdir, args.fleet_tasks, run_seconds,
                                                    quick, args.forks)
            seconds = round(time.time() - begin, 1)
            title += " [%s before, %s after; %.0f s]" % (load_text(load_before), load_text(), seconds)
            results["sections"][name] = {"title": title, "table": md, "data": data, "ok": ok, "seconds": seconds}
            print("\n## %s\n\n%s\n" % (title, md), flush=True)
            if not ok:
                failed.append(name)
                print("FLOW BROKEN in section %s: see the rows above (ok = NO) and %s" % (name, workdir), flush=True)
    finally:
        for sim in sims:
            sim.stop()
    results["targets"] = targets(results["sections"])
    results["seconds"] = round(time.time() - started, 1)
    results["load_at_end"] = os.getloadavg()
    parts = ["# Benchmark results\n\ncollection: %s; %d cores; %s at start, %s at end; %.0f s\n" % (
        results["collection"], os.cpu_count(), load_text(results["load_at_start"]), load_text(), results["seconds"])]
    parts += ["## %s\n\n%s\n" % (s["title"], s["table"]) for s in results["sections"].values()]
    every_row = [r for s in results["sections"].values() for r in s["data"].get("rows", [])] + [
        s["data"]["row"] for s in results["sections"].values() if "row" in s["data"]]
    if every_row:
        parts.append("## Every play\n\n%s\n" % play_table(every_row))
    if results["targets"]:
        table_md = targets_table(results["targets"])
        parts.append("## Targets\n\n%s\n" % table_md)
        print("## Targets (issue 22)\n\n%s\n" % table_md)
    (out / "results.json").write_text(json.dumps(results, indent=2))
    (out / "results.md").write_text("\n".join(parts))
    print("results: %s, %s (%.0f s)" % (out / "results.json", out / "results.md", results["seconds"]))
    if failed:
        print("BENCHMARK FAILED: broken flow(s) in %s" % ", ".join(failed))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
