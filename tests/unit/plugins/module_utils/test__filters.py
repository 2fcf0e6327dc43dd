"""Filter values: a typo is refused with the closest known value; every spelling SDDC Manager uses is fine."""

import pytest

from ansible_collections.vcf.sddc_manager.plugins.module_utils import _filters


@pytest.mark.parametrize("value", ["FAILED", "failed", "In Progress", "Cancelled", "COMPLETED_WITH_WARNING", "Queued",
                                   "TIMED_OUT", "user_canceled"])
def test_every_status_spelling_is_accepted(value):
    assert _filters.status_problems("status", [value]) == []


@pytest.mark.parametrize("value, hint", [("FAIL", "did you mean FAILED?"), ("SUCCESS", "did you mean SUCCESSFUL?"),
                                         ("xyz", "")])
def test_an_unknown_status_is_refused_with_the_closest_one(value, hint):
    [problem] = _filters.status_problems("status", [value])
    assert problem.startswith("status: %r is not a status of a credentials task; %s" % (value, hint))
    assert "FAILED" in problem  # the values are listed


def test_resource_types_of_every_release_in_any_case_and_typos():
    assert _filters.resource_type_problems("resource_types", ["esxi", "VSP", "NSX_MANAGER", "hcx_manager"]) == []
    [problem] = _filters.resource_type_problems("resource_types", ["ESX"])
    assert "resource_types: 'ESX' is not a resource type of any release from VCF 4.x to 9.1; did you mean ESXI?" \
        in problem
    assert _filters.problems(statuses=("status", ["FAIL"]), resource_types=("resource_type", ["VCENTR"]))[1] \
        .startswith("resource_type: 'VCENTR'")
