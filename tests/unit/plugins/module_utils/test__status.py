"""Status vocabulary: one folded form for the credentials view (IN_PROGRESS) and the generic view (In Progress)."""

from __future__ import annotations

import pytest

from ansible_collections.vcf.sddc_manager.plugins.module_utils import _status

NORMALIZE = [
    # (as SDDC Manager may spell it, folded form)
    ("IN_PROGRESS", "IN_PROGRESS"),
    ("In Progress", "IN_PROGRESS"),
    ("in progress", "IN_PROGRESS"),
    ("in-progress", "IN_PROGRESS"),
    ("  In   Progress  ", "IN_PROGRESS"),
    ("PENDING", "PENDING"),
    ("Pending", "PENDING"),
    ("SUCCESSFUL", "SUCCESSFUL"),
    ("Successful", "SUCCESSFUL"),
    ("FAILED", "FAILED"),
    ("Failed", "FAILED"),
    ("CANCELLED", "CANCELLED"),
    ("Cancelled", "CANCELLED"),
    ("Canceled", "CANCELLED"),
    ("canceled", "CANCELLED"),
    ("USER_CANCELLED", "USER_CANCELLED"),
    ("User Cancelled", "USER_CANCELLED"),
    ("USER_CANCELED", "USER_CANCELLED"),
    ("COMPLETED_WITH_WARNING", "COMPLETED_WITH_WARNING"),
    ("Completed With Warning", "COMPLETED_WITH_WARNING"),
    ("SKIPPED", "SKIPPED"),
    ("INCONSISTENT", "INCONSISTENT"),
    (None, "UNKNOWN"),
    ("", "UNKNOWN"),
    ("   ", "UNKNOWN"),
    ("NOT_APPLICABLE", "NOT_APPLICABLE"),
]


@pytest.mark.parametrize("raw, folded", NORMALIZE)
def test_normalize(raw, folded):
    assert _status.normalize(raw) == folded


@pytest.mark.parametrize("a, b", [
    ("In Progress", "IN_PROGRESS"),
    ("Cancelled", "Canceled"),
    ("Successful", "SUCCESSFUL"),
    ("Failed", "FAILED"),
])
def test_both_views_fold_to_the_same_status(a, b):
    assert _status.normalize(a) == _status.normalize(b)


@pytest.mark.parametrize("status", [
    "SUCCESSFUL", "Successful", "FAILED", "Failed", "USER_CANCELLED", "CANCELLED", "Cancelled", "Canceled",
    "COMPLETED_WITH_WARNING", "SKIPPED", "INCONSISTENT", "TIMED_OUT", "Timed Out",
])
def test_terminal(status):
    assert _status.is_terminal(status)
    assert _status.is_known(status)
    assert not _status.is_running(status)


@pytest.mark.parametrize("status", ["PENDING", "Pending", "IN_PROGRESS", "In Progress", "QUEUED", "Queued"])
def test_running_is_not_terminal(status):
    assert not _status.is_terminal(status)
    assert _status.is_known(status)
    assert _status.is_running(status)


@pytest.mark.parametrize("status", [None, "", "NOT_APPLICABLE", "Paused", "WHATEVER"])
def test_unknown_status_is_neither_terminal_nor_known(status):
    assert not _status.is_terminal(status)
    assert not _status.is_known(status)
    assert not _status.is_running(status)


def test_the_sets_cover_every_release_and_do_not_overlap():
    assert _status.TERMINAL == {
        "SUCCESSFUL", "FAILED", "USER_CANCELLED", "CANCELLED", "COMPLETED_WITH_WARNING", "SKIPPED", "INCONSISTENT",
        "TIMED_OUT",
    }
    assert _status.RUNNING == {"PENDING", "QUEUED", "IN_PROGRESS"}
    assert not _status.TERMINAL & _status.RUNNING
    assert _status.SUCCEEDED | _status.UNSUCCESSFUL == _status.TERMINAL
    assert not _status.SUCCEEDED & _status.UNSUCCESSFUL
