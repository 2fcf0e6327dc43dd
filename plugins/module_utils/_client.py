# -*- coding: utf-8 -*-
# Copyright: contributors to the vcf.sddc_manager collection
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
#
# Internal use only: not part of the collection's public interface.
"""The one SDDC Manager API client: the API calls this collection makes, over one session.

Modules never import ``requests``; they construct :class:`SddcManagerClient`
(usually through ``_module.SddcManagerModule``) and call its task methods.  How it
talks HTTPS and retries is in ``_transport``, how it keeps its token valid in
``_auth``, and what each failure says in ``_errors``.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from urllib.parse import quote

from ansible_collections.vcf.sddc_manager.plugins.module_utils._auth import TokenAuth
from ansible_collections.vcf.sddc_manager.plugins.module_utils._errors import (
    AmbiguousWriteError,
    SddcManagerError,
    _Unauthorized,
)
from ansible_collections.vcf.sddc_manager.plugins.module_utils._transport import (
    HAS_REQUESTS,
    REQUESTS_IMPORT_ERROR,
    RetryPolicy,
    Transport,
)

# The client's public face: what a caller of the client needs, importable from here wherever it is defined.
__all__ = [
    "AmbiguousWriteError",
    "HAS_REQUESTS",
    "REQUESTS_IMPORT_ERROR",
    "RetryPolicy",
    "SddcManagerClient",
    "SddcManagerError",
]


class SddcManagerClient(TokenAuth, Transport):
    """Talks to one SDDC Manager; owns a session, the tokens and the retry policy."""

    def __init__(self, hostname, port=443, username=None, password=None, access_token=None,
                 refresh_token=None, validate_certs=True, ca_path=None, request_timeout=60,
                 proxy_url=None, on_secret=None, mask_own_tokens=True, retry_policy=None,
                 session=None, sleep=None, clock=None):
        if not HAS_REQUESTS:
            raise SddcManagerError("The Python library 'requests' is required.", kind="config")
        Transport.__init__(self, hostname, port=port, validate_certs=validate_certs, ca_path=ca_path,
                           request_timeout=request_timeout, proxy_url=proxy_url, on_secret=on_secret,
                           retry_policy=retry_policy, session=session, sleep=sleep, clock=clock)
        TokenAuth.__init__(self, username=username, password=password, access_token=access_token,
                           refresh_token=refresh_token, mask_own_tokens=mask_own_tokens)
        for secret in (password, access_token, refresh_token):
            self._secret(secret)

    def request(self, method, path, payload=None, params=None):
        """An authenticated call; reads are retried, writes are sent once.

        Every attempt carries the session's current token, so a read retried after a backoff, or one that
        waited while another thread renewed the token, never sends a token that was replaced meanwhile.  A 401
        renews the token that attempt sent, once per call: a second 401 is a real refusal (wrong role, revoked
        user).  A 401 means the write was not applied, so a write is sent again after a renewal too.
        """
        read = method.upper() == "GET"
        renewed = False
        while True:
            try:
                return self._send(method, path, payload=payload, params=params, bearer=self._current_token,
                                  read=read)
            except _Unauthorized as exc:
                if renewed:
                    raise exc.error
                self._renew_rejected(exc.token)
                renewed = True

    # -- API ---------------------------------------------------------------------

    def get_credentials_task(self, task_id):
        return self.request("GET", "/v1/credentials/tasks/%s" % _segment(task_id))

    def list_credentials_tasks(self, limit=None):
        params = {"limit": limit} if limit else None
        page = self.request("GET", "/v1/credentials/tasks", params=params)
        if isinstance(page, dict):
            return page.get("elements") or []
        return page or []

    def list_credentials_tasks_page(self, limit=None):
        """One list read as ``(elements, total)``: the tasks answered (newest first, SDDC Manager says: the caller
        checks) and ``pageMetadata.totalElements``, the number of tasks SDDC Manager holds (None when the answer does
        not say). Elements that are not a list are an error, not an empty list: nothing may be concluded from them."""
        params = {"limit": limit} if limit else None
        page = self.request("GET", "/v1/credentials/tasks", params=params)
        total = None
        if isinstance(page, dict):
            elements = page.get("elements") or []
            metadata = page.get("pageMetadata")
            total = metadata.get("totalElements") if isinstance(metadata, dict) else None
        else:
            elements = page or []
        if not isinstance(elements, list):
            raise SddcManagerError("SDDC Manager answered the credentials task list with elements of another shape "
                                   "(%s, not a list)." % type(elements).__name__, kind="api")
        if isinstance(total, bool) or not isinstance(total, int) or total < 0:
            total = None
        return elements, total

    def get_resource_credentials(self, task_id):
        return self.request("GET", "/v1/credentials/tasks/%s/resource-credentials" % _segment(task_id)) or []

    def retry_credentials_task(self, task_id, spec):
        return self.request("PATCH", "/v1/credentials/tasks/%s" % _segment(task_id), payload=spec)

    def cancel_credentials_task(self, task_id):
        return self.request("DELETE", "/v1/credentials/tasks/%s" % _segment(task_id))

    def get_task(self, task_id):
        return self.request("GET", "/v1/tasks/%s" % _segment(task_id))

    def list_credentials(self, resource_name=None, resource_type=None):
        """The accounts SDDC Manager holds (``GET /v1/credentials``), passwords included for an ADMIN: secret data,
        never to be returned or logged."""
        params = dict((key, value) for key, value in (("resourceName", resource_name),
                                                      ("resourceType", resource_type)) if value)
        page = self.request("GET", "/v1/credentials", params=params or None)
        if isinstance(page, dict):
            return page.get("elements") or []
        return page or []

    def start_credentials_operation(self, spec):
        """``PATCH /v1/credentials``: starts a password operation; SDDC Manager answers with its Task."""
        return self.request("PATCH", "/v1/credentials", payload=spec)


def _segment(value):
    """A task id as one URL path segment: nothing in it can reach another endpoint."""
    return quote(str(value), safe="")
