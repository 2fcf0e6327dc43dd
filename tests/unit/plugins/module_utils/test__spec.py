"""The retry request body: every rule of ``_spec.validate`` as a row of data, and what ``build`` sends."""

from __future__ import annotations

import pytest

from ansible_collections.vcf.sddc_manager.plugins.module_utils import _spec


def cred(username="root", password=None, credential_type="SSH", account_type="USER"):
    return {"username": username, "password": password, "credential_type": credential_type,
            "account_type": account_type}


def element(*credentials, name="esxi-01.example.com", resource_id=None, resource_type="ESXI"):
    return {"resource_name": name, "resource_id": resource_id, "resource_type": resource_type,
            "credentials": list(credentials)}


def opts(operation_type=None, elements=None, auto_rotate_policy=None):
    return {"operation_type": operation_type, "elements": elements, "auto_rotate_policy": auto_rotate_policy}


def policy(enable=True, frequency=30):
    return {"enable_auto_rotate_policy": enable, "frequency_in_days": frequency}


# (id, options, expected problem substring or None when the options are valid)
CASES = [
    # valid
    ("nothing: rebuilt from the task", opts(), None),
    ("rotate without elements", opts("ROTATE"), None),
    ("rotate with elements, no password", opts("ROTATE", [element(cred())]), None),
    ("update with passwords", opts("UPDATE", [element(cred(password="N3w!"))]), None),
    ("remediate with passwords", opts("REMEDIATE", [element(cred(password="N3w!"), cred("admin", "N3w2!"))]), None),
    ("element by id only", opts("UPDATE", [element(cred(password="x"), name=None, resource_id="r-1")]), None),
    ("policy enabled with frequency", opts("UPDATE_AUTO_ROTATE_POLICY", auto_rotate_policy=policy()), None),
    ("policy disabled without frequency",
     opts("UPDATE_AUTO_ROTATE_POLICY", auto_rotate_policy=policy(enable=False, frequency=None)), None),
    ("frequency lower bound", opts("UPDATE_AUTO_ROTATE_POLICY", auto_rotate_policy=policy(frequency=1)), None),
    ("frequency upper bound", opts("UPDATE_AUTO_ROTATE_POLICY", auto_rotate_policy=policy(frequency=90)), None),
    ("policy without operation: the task's type decides", opts(auto_rotate_policy=policy()), None),
    # elements requires operation_type
    ("elements without operation", opts(None, [element(cred())]), "elements requires operation_type"),
    # elements empty
    ("elements empty", opts("ROTATE", []), "elements is empty"),
    # UPDATE / REMEDIATE need elements
    ("update without elements", opts("UPDATE"), "operation_type UPDATE needs elements with the new password"),
    ("remediate without elements", opts("REMEDIATE"), "operation_type REMEDIATE needs elements"),
    # credentials empty
    ("credentials empty", opts("ROTATE", [element()]), "elements[0].credentials is empty"),
    ("credentials empty on the second element", opts("ROTATE", [element(cred()), element(name="esxi-02")]),
     "elements[1].credentials is empty: name at least one account of esxi-02"),
    # password required
    ("update without a password", opts("UPDATE", [element(cred())]),
     "elements[0].credentials[0].password is required for operation_type UPDATE (account root on esxi-01"),
    ("update with an empty password", opts("UPDATE", [element(cred(password=""))]),
     "elements[0].credentials[0].password is required"),
    ("remediate, second credential without password",
     opts("REMEDIATE", [element(cred(password="x"), cred("admin"))]),
     "elements[0].credentials[1].password is required for operation_type REMEDIATE (account admin"),
    # password refused
    ("rotate with a password", opts("ROTATE", [element(cred(password="x"))]),
     "elements[0].credentials[0].password must not be set for operation_type ROTATE"),
    ("policy update with a password",
     opts("UPDATE_AUTO_ROTATE_POLICY", [element(cred(password="x"))], policy()),
     "must not be set for operation_type UPDATE_AUTO_ROTATE_POLICY"),
    # policy needed
    ("policy update without policy", opts("UPDATE_AUTO_ROTATE_POLICY"),
     "operation_type UPDATE_AUTO_ROTATE_POLICY needs auto_rotate_policy"),
    # policy refused for other operations
    ("policy with rotate", opts("ROTATE", auto_rotate_policy=policy()),
     "auto_rotate_policy only applies to operation_type UPDATE_AUTO_ROTATE_POLICY, not ROTATE"),
    # frequency range
    ("frequency 0", opts("UPDATE_AUTO_ROTATE_POLICY", auto_rotate_policy=policy(frequency=0)),
     "frequency_in_days must be between 1 and 90 days, got 0"),
    ("frequency 91", opts("UPDATE_AUTO_ROTATE_POLICY", auto_rotate_policy=policy(frequency=91)),
     "frequency_in_days must be between 1 and 90 days, got 91"),
    ("frequency negative", opts("UPDATE_AUTO_ROTATE_POLICY", auto_rotate_policy=policy(enable=False, frequency=-3)),
     "got -3"),
    # frequency needed when enabling
    ("enable without frequency", opts("UPDATE_AUTO_ROTATE_POLICY", auto_rotate_policy=policy(frequency=None)),
     "frequency_in_days is required when enable_auto_rotate_policy is true"),
]


@pytest.mark.parametrize("options, expected", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_validate(options, expected):
    problems = _spec.validate(options)
    if expected is None:
        assert problems == []
    else:
        assert any(expected in p for p in problems), problems


def test_validate_reports_every_problem_at_once():
    problems = _spec.validate(opts("UPDATE", [element(cred(), cred("admin"))], policy(frequency=500)))
    assert len(problems) == 4, problems  # two passwords, a policy on UPDATE, its frequency


def test_validate_accepts_missing_keys():
    assert _spec.validate({}) == []


@pytest.mark.parametrize("operation", _spec.OPERATION_TYPES)
def test_can_rebuild(operation):
    assert _spec.can_rebuild(operation) is (operation in ("ROTATE", "UPDATE_AUTO_ROTATE_POLICY"))


ELEMENTS = [
    element(cred(password="N3w-root!"), cred("admin", password="N3w-admin!", credential_type=None, account_type=None)),
    {"resource_name": None, "resource_id": "r-vc-01", "resource_type": "VCENTER",
     "credentials": [cred("administrator@vsphere.local", password="N3w-sso!", credential_type="SSO",
                          account_type="SYSTEM")]},
]


@pytest.mark.parametrize("operation", ["UPDATE", "REMEDIATE"])
def test_build_keeps_passwords_for_update_and_remediate(operation):
    spec = _spec.build(operation, ELEMENTS)
    assert spec == {
        "operationType": operation,
        "elements": [
            {"resourceType": "ESXI", "resourceName": "esxi-01.example.com", "credentials": [
                {"username": "root", "credentialType": "SSH", "accountType": "USER", "password": "N3w-root!"},
                {"username": "admin", "password": "N3w-admin!"},
            ]},
            {"resourceType": "VCENTER", "resourceId": "r-vc-01", "credentials": [
                {"username": "administrator@vsphere.local", "credentialType": "SSO", "accountType": "SYSTEM",
                 "password": "N3w-sso!"},
            ]},
        ],
    }


@pytest.mark.parametrize("operation", ["ROTATE", "UPDATE_AUTO_ROTATE_POLICY"])
def test_build_drops_passwords_for_other_operations(operation):
    spec = _spec.build(operation, ELEMENTS)
    assert spec["operationType"] == operation
    assert "N3w" not in repr(spec)
    assert [c["username"] for c in spec["elements"][0]["credentials"]] == ["root", "admin"]
    assert "autoRotatePolicy" not in spec


def test_build_policy():
    spec = _spec.build("UPDATE_AUTO_ROTATE_POLICY", ELEMENTS, policy(frequency=45))
    assert spec["autoRotatePolicy"] == {"enableAutoRotatePolicy": True, "frequencyInDays": 45}
    spec = _spec.build("UPDATE_AUTO_ROTATE_POLICY", ELEMENTS, policy(enable=False, frequency=None))
    assert spec["autoRotatePolicy"] == {"enableAutoRotatePolicy": False}


def test_build_ignores_a_policy_for_other_operations():
    assert "autoRotatePolicy" not in _spec.build("ROTATE", ELEMENTS, policy())


def test_elements_from_resource_credentials_drops_passwords(load_fixture):
    elements = _spec.elements_from_resource_credentials(load_fixture("resource_credentials"))
    assert elements == [
        {"resource_name": "esxi-01.example.com", "resource_id": "r-esxi-01", "resource_type": "ESXI",
         "credentials": [{"username": "root", "credential_type": "SSH", "account_type": "USER"}]},
        {"resource_name": "vcenter-01.example.com", "resource_id": "r-vc-01", "resource_type": "VCENTER",
         "credentials": [{"username": "administrator@vsphere.local", "credential_type": "SSO",
                          "account_type": "SYSTEM"}]},
    ]
    assert "PLANTED" not in repr(elements)
    # and what is rebuilt from them is a valid ROTATE request
    assert _spec.validate(opts("ROTATE", elements)) == []
    spec = _spec.build("ROTATE", elements)
    assert spec["elements"][1] == {"resourceType": "VCENTER", "resourceName": "vcenter-01.example.com",
                                   "resourceId": "r-vc-01", "credentials": [
                                       {"username": "administrator@vsphere.local", "credentialType": "SSO",
                                        "accountType": "SYSTEM"}]}


def test_elements_from_nothing():
    assert _spec.elements_from_resource_credentials(None) == []
    assert _spec.elements_from_resource_credentials([]) == []
    assert _spec.elements_from_resource_credentials([{"resourceType": "ESXI"}])[0]["credentials"] == []


def test_spec_options_match_the_api_vocabulary():
    options = _spec.spec_options()
    assert options["operation_type"]["choices"] == ["UPDATE", "ROTATE", "REMEDIATE", "UPDATE_AUTO_ROTATE_POLICY"]
    credential = options["elements"]["options"]["credentials"]["options"]
    assert credential["password"]["no_log"] is True
    # No choices: a release newer than this collection must not be refused (it validates the type itself).
    assert "choices" not in options["elements"]["options"]["resource_type"]


def test_resource_types_of_every_release_are_known():
    # 9.0.2's spec, what 9.1 added, and the 4.x/5.x pages' appliances (FIELD-NOTES.md).
    assert _spec.RESOURCE_TYPES[:7] == ["ESXI", "VCENTER", "PSC", "NSXT_MANAGER", "NSXT_EDGE", "NSX_ALB", "BACKUP"]
    assert {"HCX_MANAGER", "VSP", "NSX_MANAGER", "NSX_CONTROLLER", "NSX_EDGE", "VRLI", "VROPS", "VRA", "WSA", "VRSLCM",
            "VXRAIL_MANAGER"} <= set(_spec.RESOURCE_TYPES)


def rotate_element(resource_type):
    return {"operation_type": "UPDATE", "elements": [{"resource_name": "h", "resource_type": resource_type,
                                                     "credentials": [{"username": "root", "password": "x"}]}]}


@pytest.mark.parametrize("resource_type, unknown, sent", [
    ("VSP", [], "VSP"), ("HCX_MANAGER", [], "HCX_MANAGER"), ("esxi", [], "ESXI"), ("Vcenter", [], "VCENTER"),
    ("NEW_APPLIANCE", ["NEW_APPLIANCE"], "NEW_APPLIANCE"),
])
def test_known_types_are_upper_cased_and_unknown_upper_case_ones_are_sent_with_a_warning(resource_type, unknown, sent):
    options = rotate_element(resource_type)
    assert _spec.validate(options) == []
    assert _spec.unknown_resource_types(options) == unknown
    assert _spec.build("UPDATE", options["elements"])["elements"][0]["resourceType"] == sent


@pytest.mark.parametrize("resource_type", ["new appliance", "esx-i", "vsp2!", "1ESXI"])
def test_a_resource_type_that_is_no_api_word_is_refused_naming_the_option(resource_type):
    problems = _spec.validate(rotate_element(resource_type))
    assert len(problems) == 1 and problems[0].startswith("elements[0].resource_type")
