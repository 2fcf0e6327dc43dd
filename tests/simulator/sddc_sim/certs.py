"""Test certificates made with trustme: a CA and a server certificate it signs.

``ensure_certs(dir)`` reuses ``ca.pem``/``ca.key``/``server.pem`` found in
``dir`` and creates what is missing, under a file lock so several simulators
(or pytest-xdist workers) sharing a directory agree on one CA.
``make_untrusted_ca(dir)`` does the same in ``dir/untrusted``: a different CA,
for tests that need a server certificate the client must refuse.
"""

from __future__ import annotations

import contextlib
import dataclasses
import fcntl
import os

import trustme

CA_CERT = "ca.pem"
CA_KEY = "ca.key"
SERVER_PEM = "server.pem"  # server key + certificate chain
IDENTITIES = ("127.0.0.1", "localhost", "::1")


@dataclasses.dataclass(frozen=True)
class CertPaths:
    ca_path: str      # the CA certificate clients should trust
    server_pem: str   # the server's private key and certificate chain


def ensure_certs(certs_dir):
    certs_dir = os.path.abspath(certs_dir)
    os.makedirs(certs_dir, exist_ok=True)
    ca_cert, ca_key, server = (os.path.join(certs_dir, name) for name in (CA_CERT, CA_KEY, SERVER_PEM))
    with _locked(os.path.join(certs_dir, ".lock")):
        if os.path.exists(ca_cert) and os.path.exists(ca_key):
            with open(ca_cert, "rb") as cert_file, open(ca_key, "rb") as key_file:
                ca = trustme.CA.from_pem(cert_file.read(), key_file.read())
            fresh_ca = False
        else:
            ca = trustme.CA(organization_name="SDDC Manager simulator")
            # Key first: ca.pem existing implies its key does.
            _write(ca_key, ca.private_key_pem.bytes(), 0o600)
            _write(ca_cert, ca.cert_pem.bytes(), 0o644)
            fresh_ca = True
        if fresh_ca or not os.path.exists(server):
            leaf = ca.issue_cert(*IDENTITIES, common_name="sddc-manager.simulator")
            _write(server, leaf.private_key_and_cert_chain_pem.bytes(), 0o600)
    return CertPaths(ca_path=ca_cert, server_pem=server)


def make_untrusted_ca(directory):
    """A CA (and server certificate) unrelated to the one ``ensure_certs`` made."""
    return ensure_certs(os.path.join(directory, "untrusted"))


def _write(path, data, mode):
    temporary = "%s.%d.tmp" % (path, os.getpid())
    with open(os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode), "wb") as handle:
        handle.write(data)
    os.replace(temporary, path)


@contextlib.contextmanager
def _locked(path):
    with open(path, "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
