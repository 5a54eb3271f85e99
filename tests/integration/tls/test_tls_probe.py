# Copyright: groundwork.erp_baseline contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""tls_probe against real TLS endpoints on loopback, with both interpreters."""

from __future__ import annotations

import ipaddress
import json
import os
import pathlib
import subprocess

from ansible_collections.groundwork.erp_baseline.plugins.action import compliance_report
from ansible_collections.groundwork.erp_baseline.plugins.modules import tls_probe

REPO_ROOT = pathlib.Path(__file__).resolve().parents[3]
# The folder that holds ansible_collections/ (and ansible) for the module's interpreter.
SHIM = pathlib.Path(tls_probe.__file__).parents[5]
CONTROLS = ["GW-TLS-%03d" % number for number in range(1, 9)]
MODERN_SUITES = ["ECDHE-ECDSA-AES128-GCM-SHA256", "ECDHE-ECDSA-AES256-GCM-SHA384",
                 "ECDHE-ECDSA-CHACHA20-POLY1305"]
WEAK_SUITES = ["ADH-AES128-GCM-SHA256", "AES128-SHA", "ECDHE-RSA-AES128-GCM-SHA256",
               "ECDHE-RSA-AES256-SHA"]


def probe(port, **options):
    """Module arguments for an endpoint on 127.0.0.1, reached as localhost."""
    args = dict(host="127.0.0.1", port=port, server_name="localhost")
    args.update(options)
    return args


def statuses(result):
    assert not result.get("failed"), result.get("msg")
    return {item["id"]: item["status"] for item in result["findings"]}


def by_id(result, control_id):
    return [item for item in result["findings"] if item["id"] == control_id][0]


def version_statuses(result):
    return {name: entry["status"] for name, entry in result["versions"].items()}


def all_pass_but(**others):
    expected = dict.fromkeys(CONTROLS, "pass")
    expected.update(("GW-TLS-%s" % number, status) for number, status in others.items())
    return expected


def test_a_modern_endpoint_passes_every_control(modern_server, pki, module):
    result = module("tls_probe", probe(modern_server.port, ca_cert=pki.authority.cert_file))
    assert statuses(result) == all_pass_but(), result["findings"]
    assert version_statuses(result) == {"TLSv1": "refused", "TLSv1.1": "refused",
                                        "TLSv1.2": "accepted", "TLSv1.3": "accepted"}
    assert sorted(result["tls12_suites"]) == MODERN_SUITES
    assert result["tls13_suite"] == result["versions"]["TLSv1.3"]["suite"]
    assert result["tls13_suite"].startswith("TLS_")
    certificate = result["certificate"]
    assert certificate["subject"] == "CN=localhost"
    assert certificate["issuer"] == "CN=gw test CA"
    assert certificate["subject_alt_names"] == ["DNS:localhost"]
    assert certificate["key"] == "EC secp256r1"
    assert certificate["days_to_expiry"] == 59
    assert certificate["name_matches"] is True and certificate["verified"] is True
    assert result["hsts"] == {"header": "max-age=63072000; includeSubDomains",
                              "max_age": 63072000, "include_subdomains": True,
                              "preload": False, "status_code": 200}
    assert modern_server.requests[-1] == ("/", "localhost:%d" % modern_server.port)
    assert result["probe_seconds"] < 1


def test_the_probe_changes_nothing_and_check_mode_reports_the_same(modern_server, module):
    normal = module("tls_probe", probe(modern_server.port))
    checked = module("tls_probe", probe(modern_server.port), check=True)
    assert normal["changed"] is False and checked["changed"] is False
    assert statuses(checked) == statuses(normal) == all_pass_but(**{"007": "skipped"})
    assert by_id(checked, "GW-TLS-007")["reason"].startswith("no ca_cert given")
    assert checked["certificate"]["verified"] is None


def test_a_weak_endpoint_shows_each_weakness(weak_server, pki, module):
    result = module("tls_probe", probe(weak_server.port, ca_cert=pki.authority.cert_file))
    assert statuses(result) == all_pass_but(**{
        "001": "fail", "003": "fail", "004": "fail", "005": "fail", "006": "fail",
        "008": "fail"})
    assert by_id(result, "GW-TLS-001")["observed"] == "TLSv1 accepted, TLSv1.1 accepted"
    assert sorted(result["tls12_suites"]) == WEAK_SUITES
    secrecy = by_id(result, "GW-TLS-003")["observed"]
    assert "AES128-SHA (no forward secrecy)" in secrecy
    assert "ADH-AES128-GCM-SHA256 (anonymous)" in secrecy
    assert "ECDHE-RSA" not in secrecy
    assert set(by_id(result, "GW-TLS-004")["observed"].split(", ")) == {
        "AES128-SHA (aes-128-cbc)", "ECDHE-RSA-AES256-SHA (aes-256-cbc)"}
    assert by_id(result, "GW-TLS-005")["observed"].endswith(", 4 days left")
    assert by_id(result, "GW-TLS-006") == {
        "id": "GW-TLS-006", "status": "fail", "observed": "names DNS:other.example",
        "expected": "a subject alternative name matching localhost"}
    assert by_id(result, "GW-TLS-008")["observed"] == (
        "no Strict-Transport-Security header (HTTP 200 for GET /)")
    assert result["certificate"]["key"] == "RSA 2048 bits"


def test_a_closed_port_makes_every_finding_unknown_after_one_attempt(closed_port, pki, module):
    result = module("tls_probe", probe(closed_port, ca_cert=pki.authority.cert_file,
                                       fail_on="high"))
    assert statuses(result) == dict.fromkeys(CONTROLS, "unknown")
    refused = "could not connect to 127.0.0.1 port %d: Connection refused" % closed_port
    for item in result["findings"]:
        assert refused in item["reason"], item
    assert set(version_statuses(result).values()) == {"unknown"}
    assert result["certificate"] is None and result["hsts"] is None
    assert result["probe_seconds"] < 0.5


def test_a_silent_endpoint_costs_one_timeout_per_connection(silent_server, module):
    result = module("tls_probe", probe(silent_server.port, timeout=0.3))
    assert statuses(result) == dict.fromkeys(CONTROLS, "unknown") | {
        "GW-TLS-007": "skipped"}
    for entry in result["versions"].values():
        assert entry == {"status": "unknown", "reason": "no answer within 0.3 s"}
    assert by_id(result, "GW-TLS-008")["reason"] == "GET /: no answer within 0.3 s"
    # Four versions and the HSTS request; nothing else is tried without a handshake.
    assert 1.5 <= result["probe_seconds"] < 2.5


def test_a_name_the_certificate_does_not_hold_fails_the_name_check(modern_server, pki,
                                                                   module):
    result = module("tls_probe", probe(modern_server.port, ca_cert=pki.authority.cert_file,
                                       server_name="erp.tenant-a.example.com"))
    assert statuses(result) == all_pass_but(**{"006": "fail"})
    assert by_id(result, "GW-TLS-006")["expected"] == (
        "a subject alternative name matching erp.tenant-a.example.com")
    assert modern_server.requests[-1] == ("/", "erp.tenant-a.example.com:%d"
                                          % modern_server.port)


def test_a_chain_from_another_ca_fails_verification(modern_server, pki, module):
    other_ca = pki.other_authority.cert_file
    result = module("tls_probe", probe(modern_server.port, ca_cert=other_ca))
    assert statuses(result) == all_pass_but(**{"007": "fail"})
    assert by_id(result, "GW-TLS-007") == {
        "id": "GW-TLS-007", "status": "fail",
        "observed": "not verified: unable to get local issuer certificate",
        "expected": "a chain that verifies against %s" % other_ca}
    assert result["certificate"]["verified"] is False


def test_an_expired_certificate_and_a_short_hsts_fail(stale_server, pki, module):
    result = module("tls_probe", probe(stale_server.port, ca_cert=pki.authority.cert_file))
    assert statuses(result) == all_pass_but(**{"005": "fail", "007": "fail", "008": "fail"})
    assert by_id(result, "GW-TLS-005")["observed"].startswith("expired on ")
    assert by_id(result, "GW-TLS-007")["observed"] == "not verified: certificate has expired"
    assert by_id(result, "GW-TLS-008")["observed"] == "Strict-Transport-Security: max-age=300"
    assert result["certificate"]["days_to_expiry"] == -1


def test_without_the_hsts_check_no_request_is_sent(modern_server, module):
    before = len(modern_server.requests)
    result = module("tls_probe", probe(modern_server.port, check_hsts=False))
    assert by_id(result, "GW-TLS-008") == {"id": "GW-TLS-008", "status": "skipped",
                                           "reason": "HSTS not checked (check_hsts)"}
    assert result["hsts"] is None
    assert len(modern_server.requests) == before


def test_fail_on_fails_the_task_and_lists_the_findings(weak_server, modern_server, module):
    high = module("tls_probe", probe(weak_server.port, fail_on="high"))
    assert high["failed"] is True
    assert high["msg"].startswith("4 findings of severity high or higher failed: "
                                  "GW-TLS-001 (high): TLSv1 accepted, TLSv1.1 accepted; "
                                  "GW-TLS-003 (high): ")
    assert "GW-TLS-005 (high)" in high["msg"] and "GW-TLS-006 (high)" in high["msg"]
    assert "GW-TLS-004" not in high["msg"] and "GW-TLS-008" not in high["msg"]
    assert len(high["findings"]) == len(CONTROLS)
    medium = module("tls_probe", probe(weak_server.port, fail_on="medium"))
    assert medium["msg"].startswith("6 findings of severity medium or higher failed")
    assert not module("tls_probe", probe(modern_server.port, fail_on="low")).get("failed")


def test_a_version_the_local_openssl_cannot_offer_is_unknown(modern_server, tmp_path, module):
    # A host policy with no TLS 1.3 suites, which Python's ssl module cannot override.
    config = tmp_path / "openssl.cnf"
    config.write_text("openssl_conf = openssl_init\n[openssl_init]\nssl_conf = ssl_sect\n"
                      "[ssl_sect]\nsystem_default = tls_policy\n[tls_policy]\n"
                      "Ciphersuites =\n")
    result = module("tls_probe", probe(modern_server.port), env={"OPENSSL_CONF": str(config)})
    assert result["versions"]["TLSv1.3"] == {
        "status": "unknown",
        "reason": "the local OpenSSL cannot offer it: no ciphers available"}
    assert result["tls13_suite"] is None
    assert statuses(result)["GW-TLS-002"] == "pass"


def test_bad_input_fails_before_any_connection(modern_server, tmp_path, module):
    before = len(modern_server.requests)
    result = module("tls_probe", probe(modern_server.port, path="index.html"))
    assert result["failed"] and result["msg"].startswith("path must start with /")
    missing = str(tmp_path / "missing.crt")
    result = module("tls_probe", probe(modern_server.port, ca_cert=missing))
    assert result["failed"] and result["msg"].startswith("ca_cert %s cannot be loaded"
                                                         % missing)
    assert len(modern_server.requests) == before


def test_without_cryptography_the_certificate_checks_are_unknown(modern_server, pki, python,
                                                                  tmp_path):
    # A module named cryptography that fails to import hides the real library.
    (tmp_path / "cryptography.py").write_text("raise ImportError('hidden by the test')\n")
    arguments = tmp_path / "arguments.json"
    arguments.write_text(json.dumps({"ANSIBLE_MODULE_ARGS": probe(
        modern_server.port, ca_cert=pki.authority.cert_file)}))
    process = subprocess.run(
        [python, str(REPO_ROOT / "plugins" / "modules" / "tls_probe.py"), str(arguments)],
        capture_output=True, text=True, timeout=60, check=False,
        env=dict(os.environ, PYTHONPATH="%s:%s" % (tmp_path, SHIM)))
    result = json.loads(process.stdout)
    assert statuses(result) == all_pass_but(**{"005": "unknown", "006": "unknown"})
    assert by_id(result, "GW-TLS-005")["reason"] == (
        "the Python cryptography library is not installed (Debian: python3-cryptography)")
    assert result["certificate"] == {"verified": True, "verify_error": None}


# The module's own rules, read in this process


def test_the_catalog_holds_every_control_with_the_severity_the_module_uses():
    catalog = compliance_report.load_catalog(str(REPO_ROOT / "controls" / "catalog.yml"))
    in_catalog = sorted(key for key in catalog if key.startswith("GW-TLS-"))
    assert in_catalog == CONTROLS == sorted(tls_probe.SEVERITIES)
    for control_id, severity in tls_probe.SEVERITIES.items():
        entry = catalog[control_id]
        assert (entry["severity"], entry["tiers"], entry["role"]) == (
            severity, ["proxy"], "traefik_baseline")


def test_names_match_as_browsers_match_them():
    loopback = ipaddress.ip_address("127.0.0.1")
    cases = [
        ("erp.tenant-a.example.com", ["*.tenant-a.example.com"], [], True),
        ("ERP.Tenant-A.example.com.", ["erp.tenant-a.example.com"], [], True),
        ("a.erp.tenant-a.example.com", ["*.tenant-a.example.com"], [], False),
        ("tenant-a.example.com", ["*.tenant-a.example.com"], [], False),
        ("example.com", ["*.com"], [], False),
        ("127.0.0.1", ["localhost"], [loopback], True),
        ("127.0.0.1", ["127.0.0.1"], [], False),
        ("localhost", [], [loopback], False),
    ]
    for server_name, dns_names, addresses, matches in cases:
        assert tls_probe.name_matches(server_name, dns_names, addresses) is matches, (
            server_name, dns_names)


def test_hsts_directives_are_read_as_browsers_read_them():
    assert tls_probe.parse_hsts('max-age="31536000"; IncludeSubDomains; preload') == {
        "header": 'max-age="31536000"; IncludeSubDomains; preload', "max_age": 31536000,
        "include_subdomains": True, "preload": True}
    assert tls_probe.parse_hsts("includeSubDomains")["max_age"] is None
    assert tls_probe.parse_hsts("max-age=-1")["max_age"] is None
    assert tls_probe.parse_hsts(None)["header"] is None


def test_the_suites_tried_cover_every_kind_of_weak_suite_openssl_still_has():
    suites = tls_probe.offerable_tls12_suites().values()
    kinds = {(suite["kea"], suite["auth"], suite["aead"], suite["symmetric"])
             for suite in suites}
    assert any(kea == "kx-rsa" for kea, _auth, _aead, _cipher in kinds)
    assert any(auth == "auth-null" for _kea, auth, _aead, _cipher in kinds)
    assert any(cipher is None for _kea, _auth, _aead, cipher in kinds)
    assert any(not aead and cipher and "cbc" in cipher for _kea, _auth, aead, cipher in kinds)
    assert not any("psk" in suite["kea"] or "srp" in suite["kea"] for suite in suites)
