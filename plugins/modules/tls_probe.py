#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: groundwork.erp_baseline contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

# Controls this module reports (titles in controls/catalog.yml):
#   GW-TLS-001  TLS 1.0 and 1.1 are refused
#   GW-TLS-002  TLS 1.2 or 1.3 is accepted
#   GW-TLS-003  every TLS 1.2 suite accepted is forward secret, authenticated and encrypted
#   GW-TLS-004  every TLS 1.2 suite accepted is AEAD
#   GW-TLS-005  the certificate is valid for at least expiry_warning_days more days
#   GW-TLS-006  the certificate names server_name
#   GW-TLS-007  the chain verifies against ca_cert
#   GW-TLS-008  HSTS is sent with a long enough max-age

from __future__ import annotations

DOCUMENTATION = r"""
---
module: tls_probe
short_description: Reports what a TLS endpoint accepts and presents, as findings
version_added: 0.1.0
description:
  - Connects to a TLS endpoint from the host the module runs on and reports the protocol
    versions it accepts, its TLS 1.2 cipher suites, the suite it negotiates for TLS 1.3,
    its certificate and its HSTS header, with one finding per control. It changes nothing.
  - Each protocol version is tried in a connection of its own, with the security level of
    the local OpenSSL lowered to 0 so that TLS 1.0 and 1.1 can really be offered. A
    version is C(accepted), C(refused) (the server answered but did not complete the
    handshake) or C(unknown) with the reason (no connection, no answer in time, or the
    local OpenSSL cannot offer it).
  - TLS 1.2 suites are found by elimination with TLS 1.2 pinned. The probe offers every
    suite the local OpenSSL has at security level 0, drops the suite the server chose and
    connects again until the server refuses; this finds the same suites as one connection
    per suite, in one connection per accepted suite plus one.
  - A port that refuses TCP connections, or a host that cannot be reached, makes every
    finding C(unknown) (or C(skipped) where an option turned the control off) after one
    connection attempt, so an audit run does not stop a play and does not wait for each
    probe in turn.
options:
  host:
    description: Address or name to connect to.
    type: str
    required: true
  port:
    description: TCP port.
    type: int
    default: 443
  server_name:
    description:
      - Name sent as SNI, checked against the certificate (GW-TLS-006) and sent as the
        C(Host) header of the HSTS request. Defaults to O(host).
      - An IP address is not sent as SNI and is matched against the certificate's IP
        address entries.
    type: str
  timeout:
    description: Seconds to wait for each connection, handshake and read.
    type: float
    default: 5
  ca_cert:
    description:
      - PEM file of the CA certificates the chain must verify against (GW-TLS-007).
        Without it the chain is not verified and the control is skipped.
    type: path
  expiry_warning_days:
    description: The certificate fails GW-TLS-005 when it expires in fewer days than this.
    type: int
    default: 30
  check_hsts:
    description:
      - Send one C(GET) over TLS and read C(Strict-Transport-Security) (GW-TLS-008).
        Without it the control is skipped and no HTTP request is sent.
    type: bool
    default: true
  hsts_min_age:
    description: Shortest C(max-age) of the HSTS header that passes, in seconds.
    type: int
    default: 31536000
  path:
    description: Path of the HSTS request.
    type: str
    default: /
  fail_on:
    description:
      - Fail the task when a finding of this severity or higher fails; the failure lists
        those findings. Severities are those of controls/catalog.yml. C(none) never fails
        the task for a finding.
      - Only C(fail) counts, not C(unknown); read RV(versions) to tell an endpoint that is
        down.
    type: str
    choices: [none, low, medium, high, critical]
    default: none
attributes:
  check_mode:
    support: full
  diff_mode:
    support: none
notes:
  - Only the suites the local OpenSSL can offer are tried (89 on Debian 12). Its OpenSSL 3
    has no 3DES, RC4, DES, IDEA or export suites at any security level, and SEED only with
    the legacy provider, which the probe does not load; a server that accepts only those is
    not seen doing so. Such a server nearly always accepts CBC suites as well, which
    GW-TLS-004 reports. PSK and SRP suites are not tried, since they need a shared secret.
  - TLS 1.3 suites cannot be chosen from Python's ssl module, so only the suite the server
    negotiates is reported (RV(tls13_suite)). Every TLS 1.3 suite is AEAD and forward
    secret.
  - Only the server's own certificate is decoded; Python 3.11 does not hand over the rest
    of the chain. The chain is verified by OpenSSL against O(ca_cert) in a separate
    connection at security level 2 and TLS 1.2 or later, as current clients do; SHA-1
    signatures and RSA keys under 2048 bits fail there.
  - The certificate's name is matched as browsers do (RFC 6125); the subject's common
    name is not used, and a wildcard stands for exactly one leftmost label.
  - The certificate details need the Python cryptography library on the host the module
    runs on; without it GW-TLS-005 and GW-TLS-006 are C(unknown).
  - The HSTS header is read even when the certificate does not verify, where a browser
    would ignore it; GW-TLS-007 reports the chain on its own.
  - A server that requires a client certificate refuses every version, so it is reported
    as offering no TLS.
  - A modern endpoint costs ten connections (four versions, one per accepted TLS 1.2 suite
    plus one, the chain and the HSTS request), about 0.03 s on loopback. An endpoint that
    takes TCP connections but never answers costs one O(timeout) per connection.
requirements:
  - Python cryptography 3.1 or later for the certificate details (Debian -
    python3-cryptography)
author:
  - groundwork platform team
"""

EXAMPLES = r"""
- name: Probe the edge proxy of tenant_a
  groundwork.erp_baseline.tls_probe:
    host: 127.0.0.1
    server_name: erp.tenant-a.example.com
    ca_cert: /etc/ssl/certs/ca-certificates.crt
  register: edge_tls

- name: Stop the play when the edge has a high-severity weakness
  groundwork.erp_baseline.tls_probe:
    host: 127.0.0.1
    port: 8443
    server_name: erp.tenant-a.example.com
    check_hsts: false
    fail_on: high
"""

RETURN = r"""
findings:
  description:
    - One finding per control, with status pass, fail, skipped, not_applicable or
      unknown. GW-TLS-003 and GW-TLS-004 are not_applicable when TLS 1.2 is refused.
  returned: always
  type: list
  elements: dict
versions:
  description:
    - For each of TLSv1, TLSv1.1, TLSv1.2 and TLSv1.3, its C(status) (accepted, refused or
      unknown), the C(suite) negotiated when accepted, and the C(reason) otherwise.
  returned: always
  type: dict
  sample:
    TLSv1: {status: refused, reason: tlsv1 alert protocol version}
    TLSv1.3: {status: accepted, suite: TLS_AES_256_GCM_SHA384}
tls12_suites:
  description: The TLS 1.2 cipher suites the server accepts, in the order it chose them.
  returned: always
  type: list
  elements: str
  sample: [ECDHE-ECDSA-AES256-GCM-SHA384, ECDHE-ECDSA-CHACHA20-POLY1305]
tls12_suites_offered:
  description: How many TLS 1.2 suites the local OpenSSL could offer, and so were tried.
  returned: always
  type: int
  sample: 89
tls13_suite:
  description: The suite negotiated with TLS 1.3 pinned; null when TLS 1.3 is not accepted.
  returned: always
  type: str
  sample: TLS_AES_256_GCM_SHA384
certificate:
  description:
    - The server's certificate - C(subject), C(issuer), C(subject_alt_names), C(key),
      C(not_before), C(not_after) (UTC), C(days_to_expiry), C(expired), C(not_yet_valid),
      C(name_matches) - and the chain
      check - C(verified) (null without O(ca_cert)) and C(verify_error).
    - Null when no handshake gave a certificate; without the cryptography library only
      C(verified) and C(verify_error) are filled.
  returned: always
  type: dict
hsts:
  description:
    - The HSTS request's C(status_code), the C(header) value (null when absent) and its
      C(max_age), C(include_subdomains) and C(preload).
    - Null when O(check_hsts) is false or no answer was read.
  returned: always
  type: dict
probe_seconds:
  description: How long the whole probe took.
  returned: always
  type: float
"""

import contextlib
import datetime
import http.client
import ipaddress
import socket
import ssl
import time
import warnings

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.groundwork.erp_baseline.plugins.module_utils.findings import (
    FAIL, NOT_APPLICABLE, PASS, SKIPPED, UNKNOWN, finding)

try:
    from cryptography import x509
    from cryptography.hazmat.primitives.asymmetric import ec, rsa
except ImportError:
    x509 = None

# Kept equal to controls/catalog.yml, which the module cannot read on the target.
SEVERITIES = {
    "GW-TLS-001": "high",
    "GW-TLS-002": "high",
    "GW-TLS-003": "high",
    "GW-TLS-004": "medium",
    "GW-TLS-005": "high",
    "GW-TLS-006": "high",
    "GW-TLS-007": "high",
    "GW-TLS-008": "medium",
}
SEVERITY_ORDER = ("low", "medium", "high", "critical")

VERSIONS = ("TLSv1", "TLSv1.1", "TLSv1.2", "TLSv1.3")
OLD_VERSIONS = ("TLSv1", "TLSv1.1")
CURRENT_VERSIONS = ("TLSv1.2", "TLSv1.3")
ACCEPTED = "accepted"
REFUSED = "refused"
NOT_KNOWN = "unknown"

# Security level 0 lets OpenSSL 3 offer TLS 1.0/1.1, SHA-1 signatures and small keys.
EVERY_SUITE = "ALL:COMPLEMENTOFALL:@SECLEVEL=0"
VERIFYING_SUITES = "ALL:!aNULL:!eNULL:@SECLEVEL=2"
# Handshake errors raised before anything reaches the server.
LOCAL_LIMITS = ("NO_PROTOCOLS_AVAILABLE", "NO_CIPHERS_AVAILABLE")
# Flags a host's OpenSSL configuration may set; the probe must offer what it pins.
PROTOCOL_EXCLUSIONS = ("OP_NO_TLSv1", "OP_NO_TLSv1_1", "OP_NO_TLSv1_2", "OP_NO_TLSv1_3")
HTTP_HEADER = "Strict-Transport-Security"


class Refused(Exception):
    """The server answered but did not complete the handshake."""


class Unanswered(Exception):
    """Nothing was learnt: no connection, no answer in time, or a local limit."""


# Connections


def tls_version(name):
    return getattr(ssl.TLSVersion, name.replace(".", "_"))


def client_context(minimum, maximum, suites=EVERY_SUITE):
    """A context that verifies nothing and offers whatever it is told to, old or weak."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    context.set_ciphers(suites)
    with warnings.catch_warnings():
        # TLSv1 and TLSv1.1 are deprecated names; probing them is the point.
        warnings.simplefilter("ignore", DeprecationWarning)
        context.minimum_version = minimum
        context.maximum_version = maximum
        for flag in PROTOCOL_EXCLUSIONS:
            context.options &= ~getattr(ssl, flag, 0)
    return context


def verifying_context(ca_cert):
    """A context that verifies the chain against ca_cert only, as a current client does."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    # The name is judged on its own (GW-TLS-006), so a wrong name does not hide the chain.
    context.check_hostname = False
    context.set_ciphers(VERIFYING_SUITES)
    context.load_verify_locations(cafile=ca_cert)
    return context


def error_text(error):
    if isinstance(error, ssl.SSLError) and error.reason:
        return error.reason.lower().replace("_", " ")
    return getattr(error, "strerror", None) or str(error) or type(error).__name__


class Endpoint(object):
    """Where the probe connects; it stops trying once a TCP connection has failed."""

    def __init__(self, params):
        self.host = params["host"]
        self.port = params["port"]
        self.server_name = params["server_name"] or params["host"]
        self.timeout = params["timeout"]
        self.unreachable = None

    @contextlib.contextmanager
    def handshake(self, context):
        """Yield a TLS socket after a completed handshake; raise Refused or Unanswered."""
        if self.unreachable:
            raise Unanswered(self.unreachable)
        try:
            raw = socket.create_connection((self.host, self.port), timeout=self.timeout)
        except OSError as error:
            self.unreachable = "could not connect to %s port %d: %s" % (
                self.host, self.port, error_text(error))
            raise Unanswered(self.unreachable) from None
        with raw:
            try:
                tls = context.wrap_socket(raw, server_hostname=self.server_name)
            except ssl.SSLCertVerificationError:
                raise  # only a verifying context raises it, and verify_chain reads it
            except ssl.SSLError as error:
                if error.reason in LOCAL_LIMITS:
                    raise Unanswered("the local OpenSSL cannot offer it: %s"
                                     % error_text(error)) from None
                raise Refused(error_text(error)) from None
            except socket.timeout:
                raise Unanswered("no answer within %g s" % self.timeout) from None
            except OSError as error:
                raise Refused("the connection ended: %s" % error_text(error)) from None
            with tls:
                yield tls


# What the endpoint accepts


def probe_version(endpoint, name):
    """(outcome, DER certificate or None) for one protocol version, pinned."""
    if not getattr(ssl, "HAS_" + name.replace(".", "_"), False):
        return {"status": NOT_KNOWN, "reason": "this Python's OpenSSL was built without %s"
                % name}, None
    version = tls_version(name)
    try:
        with endpoint.handshake(client_context(version, version)) as tls:
            return {"status": ACCEPTED, "suite": tls.cipher()[0]}, tls.getpeercert(True)
    except Refused as error:
        return {"status": REFUSED, "reason": str(error)}, None
    except Unanswered as error:
        return {"status": NOT_KNOWN, "reason": str(error)}, None


def offerable_tls12_suites():
    """{name: OpenSSL's description} of every TLS 1.2 suite this host can offer."""
    context = client_context(ssl.TLSVersion.TLSv1_2, ssl.TLSVersion.TLSv1_2)
    return {suite["name"]: suite for suite in context.get_ciphers()
            if suite["protocol"] != "TLSv1.3"
            and "psk" not in suite["kea"] and "srp" not in suite["kea"]}


def accepted_tls12_suites(endpoint, names):
    """(suites the server accepts with TLS 1.2, reason when the search broke off)."""
    remaining, accepted = list(names), []
    version = ssl.TLSVersion.TLSv1_2
    while remaining:
        context = client_context(version, version, ":".join(remaining) + ":@SECLEVEL=0")
        try:
            with endpoint.handshake(context) as tls:
                chosen = tls.cipher()[0]
        except Refused:
            return accepted, None
        except Unanswered as error:
            return accepted, str(error)
        if chosen not in remaining:
            return accepted, "the server chose %s, which was not offered" % chosen
        accepted.append(chosen)
        remaining.remove(chosen)
    return accepted, None


def verify_chain(endpoint, ca_cert):
    """(True, None), (False, OpenSSL's verify message) or (None, why it is not known)."""
    try:
        with endpoint.handshake(verifying_context(ca_cert)):
            return True, None
    except ssl.SSLCertVerificationError as error:
        return False, error.verify_message or error_text(error)
    except (Refused, Unanswered) as error:
        return None, ("the verifying handshake (TLS 1.2 or later, security level 2) "
                      "failed: %s" % error)


def host_header(endpoint):
    name = endpoint.server_name
    if ":" in name:
        name = "[%s]" % name
    return name if endpoint.port == 443 else "%s:%d" % (name, endpoint.port)


def read_hsts(endpoint, path):
    """The HSTS header of one GET; raise Refused or Unanswered when no answer was read."""
    request = ("GET %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: groundwork-tls-probe\r\n"
               "Accept: */*\r\nConnection: close\r\n\r\n" % (path, host_header(endpoint)))
    context = client_context(ssl.TLSVersion.MINIMUM_SUPPORTED, ssl.TLSVersion.MAXIMUM_SUPPORTED)
    with endpoint.handshake(context) as tls:
        try:
            tls.sendall(request.encode("ascii"))
            response = http.client.HTTPResponse(tls, method="GET")
            response.begin()
        except socket.timeout:
            raise Unanswered("no HTTP answer within %g s" % endpoint.timeout) from None
        except (http.client.HTTPException, OSError) as error:
            raise Refused("no HTTP answer: %s" % error_text(error)) from None
        # A host must obey only the first header (RFC 6797, section 8.1).
        values = response.msg.get_all(HTTP_HEADER) or []
        response.close()
    hsts = parse_hsts(values[0] if values else None)
    hsts["status_code"] = response.status
    return hsts


def parse_hsts(value):
    """The directives of an HSTS header that matter here; value None when it is absent."""
    directives = {}
    for part in (value or "").split(";"):
        name, _, argument = part.partition("=")
        if name.strip():
            directives.setdefault(name.strip().lower(), argument.strip().strip('"'))
    max_age = directives.get("max-age", "")
    return {"header": value, "max_age": int(max_age) if max_age.isdigit() else None,
            "include_subdomains": "includesubdomains" in directives,
            "preload": "preload" in directives}


# The certificate


def utc_validity(certificate):
    """(not_before, not_after) as aware UTC datetimes, for cryptography old and new."""
    if hasattr(certificate, "not_valid_after_utc"):
        return certificate.not_valid_before_utc, certificate.not_valid_after_utc
    return (certificate.not_valid_before.replace(tzinfo=datetime.timezone.utc),
            certificate.not_valid_after.replace(tzinfo=datetime.timezone.utc))


def alt_names(certificate):
    """(DNS names, IP addresses) of the subject alternative name extension."""
    try:
        extension = certificate.extensions.get_extension_for_class(x509.SubjectAlternativeName)
    except x509.ExtensionNotFound:
        return [], []
    return (extension.value.get_values_for_type(x509.DNSName),
            extension.value.get_values_for_type(x509.IPAddress))


def key_text(key):
    if isinstance(key, rsa.RSAPublicKey):
        return "RSA %d bits" % key.key_size
    if isinstance(key, ec.EllipticCurvePublicKey):
        return "EC %s" % key.curve.name
    return type(key).__name__.lstrip("_")


def ascii_name(name):
    try:
        return name.rstrip(".").encode("idna").decode("ascii").lower()
    except UnicodeError:
        return name.rstrip(".").lower()


def dns_name_matches(name, pattern):
    pattern = pattern.rstrip(".").lower()
    if not pattern.startswith("*."):
        return name == pattern
    # A wildcard stands for one whole leftmost label, never for a public suffix alone.
    label, _, rest = name.partition(".")
    return bool(label) and rest == pattern[2:] and "." in rest


def name_matches(server_name, dns_names, addresses):
    try:
        address = ipaddress.ip_address(server_name)
    except ValueError:
        wanted = ascii_name(server_name)
        return any(dns_name_matches(wanted, pattern) for pattern in dns_names)
    return address in addresses


def describe_certificate(der, server_name, now):
    certificate = x509.load_der_x509_certificate(der)
    dns_names, addresses = alt_names(certificate)
    not_before, not_after = utc_validity(certificate)
    return {
        "subject": certificate.subject.rfc4514_string(),
        "issuer": certificate.issuer.rfc4514_string(),
        "subject_alt_names": (["DNS:%s" % name for name in dns_names]
                              + ["IP:%s" % address for address in addresses]),
        "key": key_text(certificate.public_key()),
        "not_before": not_before.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "not_after": not_after.strftime("%Y-%m-%dT%H:%M:%SZ"),
        # Whole days, counted toward zero: -1 is a certificate expired a day ago.
        "days_to_expiry": int((not_after - now).total_seconds() / 86400),
        "expired": not_after <= now,
        "not_yet_valid": not_before > now,
        "name_matches": name_matches(server_name, dns_names, addresses),
    }


# Everything the controls look at


class Observed(object):
    """What the endpoint showed, each read once; reasons where something was not learnt."""

    def __init__(self, params):
        self.params = params
        self.endpoint = Endpoint(params)
        self.reasons = {}
        self.versions = {}
        # Read before cryptography starts its backend: on Debian that loads OpenSSL's legacy
        # provider into the library ssl shares, which would add SEED suites to some runs.
        self.suite_details = offerable_tls12_suites()
        self.tls12_suites = []
        self.leaf = None
        self.certificate = None
        self.verified = None
        self.verify_error = None
        self.hsts = None

    def load(self):
        for name in VERSIONS:
            self.versions[name], der = probe_version(self.endpoint, name)
            # The highest version's certificate wins, as a current client would see it.
            self.leaf = der or self.leaf
        self.load_suites()
        self.load_certificate(self.leaf)
        self.load_chain()
        self.load_hsts()

    def load_suites(self):
        if self.versions["TLSv1.2"]["status"] != ACCEPTED:
            return
        self.tls12_suites, reason = accepted_tls12_suites(self.endpoint, self.suite_details)
        if not self.tls12_suites and not reason:
            reason = "no suite was accepted, although TLSv1.2 was a moment before"
        if reason:
            self.reasons["suites"] = "the search for TLS 1.2 suites broke off: %s" % reason

    def load_certificate(self, der):
        if der is None:
            self.reasons["certificate"] = (self.endpoint.unreachable
                                           or "no handshake gave a certificate")
        elif x509 is None:
            self.reasons["certificate"] = ("the Python cryptography library is not installed "
                                           "(Debian: python3-cryptography)")
        else:
            now = datetime.datetime.now(datetime.timezone.utc)
            try:
                self.certificate = describe_certificate(
                    der, self.endpoint.server_name, now)
            except ValueError as error:
                self.reasons["certificate"] = "the certificate could not be decoded: %s" % error

    def load_chain(self):
        if self.params["ca_cert"]:
            self.verified, self.verify_error = verify_chain(
                self.endpoint, self.params["ca_cert"])

    def load_hsts(self):
        if not self.params["check_hsts"]:
            return
        try:
            self.hsts = read_hsts(self.endpoint, self.params["path"])
        except (Refused, Unanswered) as error:
            self.reasons["hsts"] = str(error)

    def accepted(self, name):
        return self.versions[name]["status"] == ACCEPTED

    def certificate_result(self):
        if self.leaf is None:
            return None
        result = dict(self.certificate or {})
        result.update(verified=self.verified, verify_error=self.verify_error)
        return result


# Findings


def version_list(observed, names):
    return ", ".join("%s %s" % (name, observed.versions[name]["status"]) for name in names)


def unknown_versions(observed, names):
    return "; ".join("%s: %s" % (name, observed.versions[name]["reason"]) for name in names
                     if observed.versions[name]["status"] == NOT_KNOWN)


def old_versions_finding(observed):
    expected = "TLSv1 refused, TLSv1.1 refused"
    shown = version_list(observed, OLD_VERSIONS)
    if any(observed.accepted(name) for name in OLD_VERSIONS):
        return finding("GW-TLS-001", FAIL, observed=shown, expected=expected)
    unknown = unknown_versions(observed, OLD_VERSIONS)
    if unknown:
        return finding("GW-TLS-001", UNKNOWN, reason=unknown)
    return finding("GW-TLS-001", PASS, observed=shown, expected=expected)


def current_versions_finding(observed):
    expected = "TLSv1.2 or TLSv1.3 accepted"
    if any(observed.accepted(name) for name in CURRENT_VERSIONS):
        return finding("GW-TLS-002", PASS, observed=version_list(observed, CURRENT_VERSIONS),
                       expected=expected)
    unknown = unknown_versions(observed, CURRENT_VERSIONS)
    if unknown:
        return finding("GW-TLS-002", UNKNOWN, reason=unknown)
    refusals = ", ".join("%s refused (%s)" % (name, observed.versions[name]["reason"])
                         for name in CURRENT_VERSIONS)
    return finding("GW-TLS-002", FAIL, observed=refusals, expected=expected)


def suite_weaknesses(details):
    """What GW-TLS-003 holds against one suite: no forward secrecy, anonymous, no cipher."""
    weaknesses = []
    if details["kea"] not in ("kx-ecdhe", "kx-dhe"):
        weaknesses.append("no forward secrecy")
    if details["auth"] == "auth-null":
        weaknesses.append("anonymous")
    if not details["symmetric"]:
        weaknesses.append("no encryption")
    return weaknesses


def suite_finding(observed, control_id, judge, expected):
    """GW-TLS-003 or GW-TLS-004: judge(details) lists what is wrong with one suite."""
    if not observed.accepted("TLSv1.2"):
        status = observed.versions["TLSv1.2"]["status"]
        reason = "TLSv1.2 %s: %s" % (status, observed.versions["TLSv1.2"]["reason"])
        return finding(control_id, NOT_APPLICABLE if status == REFUSED else UNKNOWN,
                       reason=reason)
    weak = []
    for name in observed.tls12_suites:
        problems = judge(observed.suite_details[name])
        if problems:
            weak.append("%s (%s)" % (name, ", ".join(problems)))
    if weak:
        return finding(control_id, FAIL, observed=weak, expected=expected)
    if "suites" in observed.reasons:
        return finding(control_id, UNKNOWN, reason=observed.reasons["suites"])
    return finding(control_id, PASS, observed=observed.tls12_suites, expected=expected)


def forward_secrecy_finding(observed):
    return suite_finding(observed, "GW-TLS-003", suite_weaknesses,
                         "ECDHE or DHE key exchange, an authenticated server and a cipher")


def aead_finding(observed):
    def not_aead(details):
        return [] if details["aead"] else [details["symmetric"] or "no cipher"]

    return suite_finding(observed, "GW-TLS-004", not_aead,
                         "AEAD suites only (AES-GCM, CHACHA20-POLY1305, AES-CCM)")


def expiry_finding(observed):
    certificate = observed.certificate
    if certificate is None:
        return finding("GW-TLS-005", UNKNOWN, reason=observed.reasons["certificate"])
    days = certificate["days_to_expiry"]
    expected = "valid now and for at least %d more days" % observed.params["expiry_warning_days"]
    if certificate["not_yet_valid"]:
        shown = "not valid before %s" % certificate["not_before"]
    elif certificate["expired"]:
        shown = "expired on %s" % certificate["not_after"]
    else:
        shown = "expires on %s, %d days left" % (certificate["not_after"], days)
    valid = (not certificate["not_yet_valid"] and not certificate["expired"]
             and days >= observed.params["expiry_warning_days"])
    return finding("GW-TLS-005", PASS if valid else FAIL, observed=shown, expected=expected)


def name_finding(observed):
    certificate = observed.certificate
    if certificate is None:
        return finding("GW-TLS-006", UNKNOWN, reason=observed.reasons["certificate"])
    server_name = observed.endpoint.server_name
    shown = "names %s" % (", ".join(certificate["subject_alt_names"])
                          or "nothing (no subject alternative name)")
    return finding("GW-TLS-006", PASS if certificate["name_matches"] else FAIL,
                   observed=shown, expected="a subject alternative name matching %s"
                   % server_name)


def chain_finding(observed):
    ca_cert = observed.params["ca_cert"]
    if not ca_cert:
        return finding("GW-TLS-007", SKIPPED, reason="no ca_cert given, so the chain was "
                       "not verified")
    expected = "a chain that verifies against %s" % ca_cert
    if observed.verified is None:
        return finding("GW-TLS-007", UNKNOWN, reason=observed.verify_error)
    if observed.verified:
        return finding("GW-TLS-007", PASS, observed="verified", expected=expected)
    return finding("GW-TLS-007", FAIL, observed="not verified: %s" % observed.verify_error,
                   expected=expected)


def hsts_finding(observed):
    if not observed.params["check_hsts"]:
        return finding("GW-TLS-008", SKIPPED, reason="HSTS not checked (check_hsts)")
    hsts = observed.hsts
    if hsts is None:
        return finding("GW-TLS-008", UNKNOWN, reason="GET %s: %s" % (
            observed.params["path"], observed.reasons["hsts"]))
    minimum = observed.params["hsts_min_age"]
    expected = "%s with max-age of at least %d" % (HTTP_HEADER, minimum)
    if hsts["header"] is None:
        return finding("GW-TLS-008", FAIL, observed="no %s header (HTTP %d for GET %s)" % (
            HTTP_HEADER, hsts["status_code"], observed.params["path"]), expected=expected)
    long_enough = hsts["max_age"] is not None and hsts["max_age"] >= minimum
    return finding("GW-TLS-008", PASS if long_enough else FAIL,
                   observed="%s: %s" % (HTTP_HEADER, hsts["header"]), expected=expected)


def all_findings(observed):
    return [
        old_versions_finding(observed),
        current_versions_finding(observed),
        forward_secrecy_finding(observed),
        aead_finding(observed),
        expiry_finding(observed),
        name_finding(observed),
        chain_finding(observed),
        hsts_finding(observed),
    ]


def failures_at_or_above(findings, severity):
    if severity == "none":
        return []
    floor = SEVERITY_ORDER.index(severity)
    return [item for item in findings if item["status"] == FAIL
            and SEVERITY_ORDER.index(SEVERITIES[item["id"]]) >= floor]


def failure_message(failures, severity):
    listed = "; ".join("%s (%s): %s" % (item["id"], SEVERITIES[item["id"]], item["observed"])
                       for item in failures)
    return "%d finding%s of severity %s or higher failed: %s" % (
        len(failures), "" if len(failures) == 1 else "s", severity, listed)


# Input


def input_problem(params):
    """What is wrong with the options, named by the option, or None."""
    if not 0 < params["port"] < 65536:
        return "port must be between 1 and 65535, not %d" % params["port"]
    if params["timeout"] <= 0:
        return "timeout must be more than 0 seconds"
    if params["expiry_warning_days"] < 0 or params["hsts_min_age"] < 0:
        return "expiry_warning_days and hsts_min_age must not be negative"
    path = params["path"]
    if not path.startswith("/") or any(char.isspace() for char in path):
        return "path must start with / and hold no spaces or line breaks, not %r" % path
    if params["ca_cert"]:
        try:
            verifying_context(params["ca_cert"])
        except (OSError, ssl.SSLError) as error:
            return "ca_cert %s cannot be loaded: %s" % (params["ca_cert"], error_text(error))
    return None


def argument_spec():
    return dict(
        host=dict(type="str", required=True),
        port=dict(type="int", default=443),
        server_name=dict(type="str"),
        timeout=dict(type="float", default=5),
        ca_cert=dict(type="path"),
        expiry_warning_days=dict(type="int", default=30),
        check_hsts=dict(type="bool", default=True),
        hsts_min_age=dict(type="int", default=31536000),
        path=dict(type="str", default="/"),
        fail_on=dict(type="str", default="none", choices=["none"] + list(SEVERITY_ORDER)),
    )


def main():
    module = AnsibleModule(argument_spec=argument_spec(), supports_check_mode=True)
    problem = input_problem(module.params)
    if problem:
        module.fail_json(msg=problem)
    started = time.monotonic()
    observed = Observed(module.params)
    observed.load()
    findings = all_findings(observed)
    result = dict(
        changed=False,
        findings=findings,
        versions=observed.versions,
        tls12_suites=observed.tls12_suites,
        tls12_suites_offered=len(observed.suite_details),
        tls13_suite=observed.versions["TLSv1.3"].get("suite"),
        certificate=observed.certificate_result(),
        hsts=observed.hsts,
        probe_seconds=round(time.monotonic() - started, 3),
    )
    failures = failures_at_or_above(findings, module.params["fail_on"])
    if failures:
        module.fail_json(msg=failure_message(failures, module.params["fail_on"]), **result)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
