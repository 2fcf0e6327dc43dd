# -*- coding: utf-8 -*-
# Copyright: contributors to the vcf.sddc_manager collection
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
#
# Internal use only: not part of the collection's public interface.
"""AnsibleModule with the connection options, the client, and error reporting built in."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.module_utils.basic import AnsibleModule, env_fallback, missing_required_lib

from ansible_collections.vcf.sddc_manager.plugins.module_utils import _client, _spec, _tasks, _transport, _verdict
from ansible_collections.vcf.sddc_manager.plugins.module_utils._redact import redact


def connection_argument_spec():
    """The connection options every module takes (documented in the ``connection`` fragment)."""
    return dict(
        hostname=dict(type="str", required=True, fallback=(env_fallback, ["SDDC_MANAGER_HOST"])),
        port=dict(type="int", default=443, fallback=(env_fallback, ["SDDC_MANAGER_PORT"])),
        username=dict(type="str", fallback=(env_fallback, ["SDDC_MANAGER_USERNAME"])),
        password=dict(type="str", no_log=True, fallback=(env_fallback, ["SDDC_MANAGER_PASSWORD"])),
        access_token=dict(type="str", no_log=True, fallback=(env_fallback, ["SDDC_MANAGER_ACCESS_TOKEN"])),
        refresh_token=dict(type="str", no_log=True, fallback=(env_fallback, ["SDDC_MANAGER_REFRESH_TOKEN"])),
        validate_certs=dict(type="bool", default=True, fallback=(env_fallback, ["SDDC_MANAGER_VALIDATE_CERTS"])),
        ca_path=dict(type="path", fallback=(env_fallback, ["SDDC_MANAGER_CA_PATH"])),
        request_timeout=dict(type="float", default=60.0),
        proxy_url=dict(type="str"),
    )


# What the result shows instead of the value of an option the module does not have: a misspelled
# ``password`` (``passwd``, ``pasword``) must not print the password it was given.
UNSUPPORTED_VALUE = "VALUE_OF_UNSUPPORTED_OPTION_HIDDEN"


def hide_unsupported(params, spec):
    """A copy of ``params`` with the value of every option ``spec`` does not know (at any depth) hidden."""
    if not isinstance(params, dict) or not isinstance(spec, dict):
        return params
    out = {}
    for key, value in params.items():
        option = spec.get(key)
        if option is None:
            out[key] = UNSUPPORTED_VALUE
        elif option.get("options") and isinstance(value, list):
            out[key] = [hide_unsupported(item, option["options"]) for item in value]
        elif option.get("options"):
            out[key] = hide_unsupported(value, option["options"])
        else:
            out[key] = value
    return out


def no_log_values_of(params, spec):
    """The values of every ``no_log`` option in ``params`` (at any depth), however malformed the rest is.

    ansible-core collects these itself, but gives up on all of them when one list of dicts holds something else,
    and then returns the arguments with the password in clear.
    """
    found = set()
    if not isinstance(params, dict) or not isinstance(spec, dict):
        return found
    for key, option in spec.items():
        if not isinstance(option, dict) or params.get(key) in (None, ""):
            continue
        value = params[key]
        if option.get("no_log") and not isinstance(value, (dict, list)):
            found.add(str(value))
        if option.get("options"):
            for item in value if isinstance(value, list) else [value]:
                found |= no_log_values_of(item, option["options"])
    return found


def wait_argument_spec(timeout=1800, sleep=10):
    return dict(
        wait_timeout=dict(type="int", default=timeout),
        wait_sleep=dict(type="int", default=sleep),
    )


class SddcManagerModule(AnsibleModule):
    """Adds the connection options and a lazily-built, validated client.

    ``auth`` says which credentials the module needs: ``any`` (username and
    password, or an access token), or ``none`` (the module checks for itself).
    """

    def __init__(self, argument_spec, auth="any", mask_own_tokens=True, **kwargs):
        spec = connection_argument_spec()
        spec.update(argument_spec)
        required_together = list(kwargs.pop("required_together", [])) + [("username", "password")]
        required_one_of = list(kwargs.pop("required_one_of", []))
        if auth == "any":
            required_one_of.append(("username", "access_token"))
        self._validating = True
        super(SddcManagerModule, self).__init__(
            argument_spec=spec, required_together=required_together, required_one_of=required_one_of, **kwargs)
        self._validating = False
        if not _client.HAS_REQUESTS:
            self.fail_json(msg=missing_required_lib("requests"), exception=_client.REQUESTS_IMPORT_ERROR)
        self._mask_own_tokens = mask_own_tokens
        self._client = None
        self._check_connection_options()

    def fail_json(self, msg, **kwargs):
        if getattr(self, "_validating", False):
            # Ansible refused the arguments and returns them: mask every no_log value even if Ansible could not
            # list them, hide the values of options that do not exist (a misspelled password would be printed as
            # given), and prefer an error that names the option.
            params = getattr(self, "params", None) or {}
            self.no_log_values.update(no_log_values_of(params, self.argument_spec))
            kwargs.setdefault("invocation", {"module_args": hide_unsupported(params, self.argument_spec)})
            msg = self._named_validation_error(msg)
        super(SddcManagerModule, self).fail_json(msg=msg, **kwargs)

    def _named_validation_error(self, msg):
        """ansible-core reports a list of dicts holding a string as "dictionary requested, could not parse JSON or
        key=value" (an error raised while it looks for no_log values) before its own error that names the option."""
        errors = getattr(getattr(self, "validation_result", None), "errors", None)
        if not errors or msg != errors.msg:
            return msg
        for error in errors:
            if type(error).__name__ != "NoLogError":
                return error.args[0] if error.args else msg
        return msg

    def _check_connection_options(self):
        p = self.params
        problems = []
        reason = _transport.validate_hostname(p["hostname"])
        if reason:
            problems.append(reason)
        if not 1 <= p["port"] <= 65535:
            problems.append("port must be between 1 and 65535, got %d" % p["port"])
        if p["request_timeout"] <= 0:
            problems.append("request_timeout must be a positive number of seconds, got %s" % p["request_timeout"])
        reason = _transport.check_ca_path(p["ca_path"]) if p["validate_certs"] else None
        if reason:
            problems.append(reason + "; give the PEM file of the CA that signed the SDDC Manager certificate")
        if p["proxy_url"] and "://" not in p["proxy_url"]:
            problems.append("proxy_url must be a URL such as http://proxy.example.com:3128, got %r" % p["proxy_url"])
        if problems:
            self.fail_json(msg="Invalid connection options: %s." % "; ".join(problems))
        if not p["validate_certs"]:
            self.warn("validate_certs is false: the SDDC Manager certificate is not verified, so the passwords "
                      "and tokens sent to it could be read by anyone able to intercept the connection.")

    @property
    def client(self):
        if self._client is None:
            p = self.params
            self._client = _client.SddcManagerClient(
                hostname=p["hostname"], port=p["port"], username=p["username"], password=p["password"],
                access_token=p["access_token"], refresh_token=p["refresh_token"],
                validate_certs=p["validate_certs"], ca_path=p["ca_path"], request_timeout=p["request_timeout"],
                proxy_url=p["proxy_url"], on_secret=self.no_log_values.add, mask_own_tokens=self._mask_own_tokens)
        return self._client

    def fail_problems(self, problems, heading="Invalid options"):
        self.fail_json(msg="%s: %s" % (heading, " ".join(problems)))

    def fail_from(self, exc, **extra):
        """Report an SddcManagerError as one sentence plus structured details."""
        details = exc.details()
        details.update(extra)
        self.fail_json(msg=exc.message, **details)

    def redact(self, data):
        """A returnable (snake_case, secret-free) copy; secrets met are masked everywhere too."""
        found = set()
        clean = redact(data, found)
        self.no_log_values.update(found)
        return clean

    def warn_unknown_statuses(self, tasks):
        """Name the tasks whose status this collection does not know: never counted as a success."""
        for task in tasks:
            found = _verdict.verdict(task)
            if found.state == _verdict.UNKNOWN:
                self.warn(found.message)

    def warn_resource_types(self, options):
        for resource_type in _spec.unknown_resource_types(options):
            self.warn("resource_type %s is not one this collection knows (from VCF 4.x to 9.1); it is sent as given "
                      "and SDDC Manager will refuse it if your release does not have it." % resource_type)

    def describe_task(self, task):
        """The returned form of a task: redacted, plus what every caller would compute anyway."""
        found = _verdict.verdict(task)
        out = self.redact(task)
        out["normalized_status"] = found.status
        out["verdict"] = found.state
        out["verdict_reason"] = found.reason
        out["resources"] = _tasks.resources_of(task)
        out["failed_subtasks"] = self.redact(found.report)
        return out
