"""Runs the event source plugin ``credentials_tasks`` for a fixed number of polls, in a process of its own.

Imports ``extensions/eda/plugins/event_source/credentials_tasks.py`` of the collection under ``--pyroot`` (whatever
code is in that tree) and drives its ``main(queue, args)`` with asyncio, as ansible-rulebook does. A poll ends where
the source pauses before the next one (its ``asyncio.sleep``, seen through a stand-in for the plugin's ``asyncio``
module); after ``--polls`` pauses the source is cancelled (its ``finally`` revokes its session).

After poll ``--add-after`` the driver adds one FAILED ROTATE task to the simulator (a failure that happens while the
source watches: it must be an event); the CPU of that control call is not counted.

Prints one JSON object: poll windows (``start``/``end``, ``time.time()``), process CPU seconds (``time.process_time``)
from the call of ``main`` to the end of each poll, the ids of the events, the id of the task added, peak RSS.
Connection: SDDC_MANAGER_HOST/PORT/USERNAME/PASSWORD/CA_PATH in the environment.
"""

import argparse
import asyncio
import importlib.util
import json
import os
import resource
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[1] / "tests" / "simulator"))

from sddc_sim.control import SimControl  # noqa: E402

PLUGIN = ("ansible_collections", "vcf", "sddc_manager", "extensions", "eda", "plugins", "event_source",
          "credentials_tasks.py")
NEW_TASK = {"type": "ROTATE", "status": "FAILED", "resources": [
    {"name": "bench-new-failure.sim.vcf.local", "type": "ESXI",
     "credentials": [{"credential_type": "SSH", "account_type": "USER", "username": "root"}]}]}


class Recorder:
    def __init__(self, polls, add_after, control):
        self.polls = polls
        self.add_after = add_after
        self.control = control
        self.windows = []
        self.cpu = []
        self.pauses = []
        self.start = None
        self.cpu_start = None
        self.excluded_cpu = 0.0
        self.added = None
        self.done = asyncio.Event()

    def begin(self):
        self.cpu_start = time.process_time()
        self.start = time.time()

    def poll_ended(self, delay):
        now, cpu = time.time(), time.process_time()
        self.windows.append({"start": self.start, "end": now})
        self.cpu.append(cpu - self.cpu_start - self.excluded_cpu)
        self.pauses.append(delay)
        if len(self.windows) == self.add_after and self.added is None:
            before = time.process_time()
            self.added = self.control.add_tasks([NEW_TASK])[0]
            self.excluded_cpu += time.process_time() - before
        if len(self.windows) >= self.polls:
            self.done.set()


class AsyncioStandIn:
    """The ``asyncio`` module, but ``sleep`` marks the end of a poll first."""

    def __init__(self, recorder):
        self._recorder = recorder

    def __getattr__(self, name):
        return getattr(asyncio, name)

    async def sleep(self, delay, *args, **kwargs):
        if delay and delay > 0.05:
            self._recorder.poll_ended(delay)
            result = await asyncio.sleep(delay, *args, **kwargs)
            self._recorder.start = time.time()
            return result
        return await asyncio.sleep(delay, *args, **kwargs)


async def drive(plugin, recorder, options, timeout):
    queue = asyncio.Queue()
    recorder.begin()
    task = asyncio.ensure_future(plugin.main(queue, options))
    waiter = asyncio.ensure_future(recorder.done.wait())
    await asyncio.wait([task, waiter], timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
    error = None
    if task.done():
        error = "the source stopped: %r" % (task.exception(),)
    elif not recorder.done.is_set():
        error = "only %d of %d polls in %s s" % (len(recorder.windows), recorder.polls, timeout)
    task.cancel()
    waiter.cancel()
    try:
        await task
    except (asyncio.CancelledError, Exception):  # noqa: BLE001 - reported through ``error``
        pass
    events = []
    while not queue.empty():
        events.append(queue.get_nowait())
    return events, error


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pyroot", required=True, help="directory holding ansible_collections/vcf/sddc_manager")
    parser.add_argument("--control-url", required=True)
    parser.add_argument("--polls", type=int, default=20)
    parser.add_argument("--interval", type=float, default=1.0)
    parser.add_argument("--add-after", type=int, default=1)
    parser.add_argument("--timeout", type=float, default=900)
    args = parser.parse_args()
    import_cpu = time.process_time()
    path = Path(args.pyroot).joinpath(*PLUGIN)
    spec = importlib.util.spec_from_file_location("bench_credentials_tasks", str(path))
    plugin = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(plugin)
    import_cpu = time.process_time() - import_cpu
    recorder = Recorder(args.polls, args.add_after, SimControl(args.control_url, os.environ["SDDC_MANAGER_CA_PATH"]))
    plugin.asyncio = AsyncioStandIn(recorder)
    options = {"interval": args.interval}
    events, error = asyncio.run(drive(plugin, recorder, options, args.timeout))
    ids = [e.get("credentials_task", {}).get("id") for e in events]
    print(json.dumps({
        "plugin": str(path.resolve()), "polls": recorder.windows, "cpu_s": recorder.cpu, "pauses": recorder.pauses,
        "import_cpu_s": round(import_cpu, 3), "events": ids, "added": recorder.added, "error": error,
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0, 1),
    }))
    return 1 if error else 0


if __name__ == "__main__":
    sys.exit(main())
