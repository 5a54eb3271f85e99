# Copyright: groundwork.erp_baseline contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Real TLS endpoints on loopback for the tls_probe tests, started once for the session.

- modern: TLS 1.2 and 1.3, ECDHE with AEAD only, an ECDSA P-256 certificate for localhost
  valid 60 days from the test CA, HSTS of two years with includeSubDomains;
- weak: openssl s_server with TLS 1.0 and 1.1 at security level 0, RSA key exchange, CBC
  and an anonymous suite, an RSA certificate for another name that expires in 5 days,
  and no HSTS;
- stale: like modern, but its certificate expired yesterday and its HSTS lasts 5 minutes;
- silent: a port that takes TCP connections and never answers;
- closed: a port where nothing listens.
"""

from __future__ import annotations

import shutil
import tempfile

import pytest
from tls_servers import (TWO_YEARS_HSTS, Authority, OpenSSLServer, PythonHTTPSServer,
                         SilentServer, free_port, rsa_key)

WEAK_SUITES = ("AES128-SHA:ECDHE-RSA-AES256-SHA:ADH-AES128-GCM-SHA256:"
               "ECDHE-RSA-AES128-GCM-SHA256:@SECLEVEL=0")


class PKI(object):
    def __init__(self, folder):
        self.folder = folder
        self.authority = Authority(folder, "gw test CA")
        self.other_authority = Authority(folder, "gw other CA")
        self.modern = self.authority.issue("modern", "localhost", -1, 60)
        self.weak = self.authority.issue("weak", "other.example", -1, 5, key=rsa_key())
        self.stale = self.authority.issue("stale", "localhost", -90, -1)


@pytest.fixture(scope="session")
def pki():
    folder = tempfile.mkdtemp(prefix="erp-baseline-tls-")
    try:
        yield PKI(folder)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(scope="session")
def modern_server(pki):
    server = PythonHTTPSServer(*pki.modern, hsts=TWO_YEARS_HSTS).start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def stale_server(pki):
    server = PythonHTTPSServer(*pki.stale, hsts="max-age=300").start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def weak_server(pki):
    server = OpenSSLServer(pki.folder, *pki.weak, options=[
        "-cipher", WEAK_SUITES, "-min_protocol", "TLSv1"]).start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def silent_server():
    server = SilentServer()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def closed_port():
    """A port that was free a moment ago; nothing listens on it."""
    return free_port()
