"""The chaos run: at least 200 seeded runs mixing every fault, end and release, counted; 0 double retries, 0 wrong
final outcomes. Then a sixth as many password operation runs (ROTATE, UPDATE, REMEDIATE through ``_operations``, as
the credentials module starts them) with faults on the write: 0 accounts accepted twice, 0 false outcomes.

The runs drive the collection's code in this process (see tests/chaos/chaos_run.py), so 240 of them fit in
about a minute; the fault cases through the real ansible-playbook are in test_faults.py. The figures are
printed at the end of the pytest output ("reliability figures") and written to tests/output/chaos.json.
``SDDC_CHAOS_RUNS`` and ``SDDC_CHAOS_SEED`` change the number of runs and the first seed.
"""

import json
import os
import sys

import pytest

from conftest import REAL, REPO, report_figures

sys.path.insert(0, str(REPO / "tests" / "chaos"))

import chaos_run  # noqa: E402  (tests/chaos/chaos_run.py)
from sddc_sim import Simulator  # noqa: E402

RUNS = int(os.environ.get("SDDC_CHAOS_RUNS", "240"))
FIRST_SEED = int(os.environ.get("SDDC_CHAOS_SEED", "0"))

# Every fault the issue lists must really have been injected, not only drawn.
REQUIRED_FAULTS = [
    "http_502 on read", "http_503 on read", "http_504 on read", "reset on read", "lost_reply on read",
    "http_503 on login", "reset on login", "http_503 on refresh", "reset on refresh",
    "lost_reply on patch", "reset on patch", "http_500 on patch", "http_503 on patch", "proxy_504_after_accept",
    "slow on patch", "token_expired_mid_wait", "refresh_token_expired", "concurrent_retry", "stale_reads after retry",
    "outage (refuse) after the retry", "outage (reset) after the retry", "outage (proxy) after the retry", "restart",
    "outage on read",
]
# The same for the password operation runs: every fault on the PATCH /v1/credentials write, and a second controller.
REQUIRED_OPERATION_FAULTS = [
    "operation: lost_reply_fin", "operation: lost_reply_then_outage", "operation: reset_before",
    "operation: http_500", "operation: proxy_503", "proxy_504_after_accept on operation", "operation: empty_answer",
    "operation: slow_past_timeout", "operation: a second controller starts it too",
]


@pytest.mark.skipif(REAL, reason="the chaos run injects faults into the simulator")
def test_chaos_run_has_no_double_retry_and_no_wrong_outcome(tmp_path_factory, request):
    with Simulator(None, certs_dir=str(tmp_path_factory.mktemp("chaos-certs")), control_port=0) as sim:
        figures = chaos_run.run_chaos(sim, RUNS, FIRST_SEED)
    output = REPO / "tests" / "output"
    output.mkdir(parents=True, exist_ok=True)
    (output / "chaos.json").write_text(json.dumps(figures, indent=2, default=str))
    report_figures(request.config, chaos_run.summary_lines(figures))

    assert figures["runs"] >= 200
    assert figures["double_retries"] == 0, json.dumps(figures["failures"], indent=1, default=str)
    assert figures["wrong_outcomes"] == 0, json.dumps(figures["failures"], indent=1, default=str)
    missing = [kind for kind in REQUIRED_FAULTS if not figures["faults_injected"].get(kind)]
    assert not missing, "faults never injected: %s" % missing
    # every end a retried run can have, and every release profile, was met and judged
    assert sorted(figures["ends"]) == sorted(chaos_run.ENDS), figures["ends"]
    assert sorted(figures["releases"]) == sorted(chaos_run.RELEASES), figures["releases"]
    # every PATCH accepted is one retry of one run; none accepted twice
    assert figures["patches_accepted"] <= figures["patches_sent"]

    operations = figures["operations"]
    assert operations["runs"] >= RUNS // 6 >= 30 or RUNS < 180
    assert operations["accepted_twice"] == 0, json.dumps(figures["failures"], indent=1, default=str)
    assert operations["false_outcomes"] == 0, json.dumps(figures["failures"], indent=1, default=str)
    assert sorted(operations["types"]) == ["REMEDIATE", "ROTATE", "UPDATE"], operations["types"]
    missing = [kind for kind in REQUIRED_OPERATION_FAULTS if not figures["faults_injected"].get(kind)]
    assert not missing, "operation faults never injected: %s" % missing
    # some were started, and none more often than requests were sent
    assert 0 < operations["accepted"] <= operations["sent"]
