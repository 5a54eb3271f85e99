# Copyright: groundwork.erp_baseline contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Tests of the compliance report writer.

The rendering tests feed plain findings to the pure functions. The run() tests build the
ActionModule with real Ansible objects (Task, PlayContext, DataLoader, Templar and, in one
test, real HostVars over a real inventory) and call run() directly: Ansible's executor is
not started here. The one test double is the connection, which the action never uses
(it declares that it needs none); the base class only reads its shell's tmpdir.
"""

from __future__ import annotations

import datetime
import json
import os
import xml.etree.ElementTree as ET
from html.parser import HTMLParser
from types import SimpleNamespace

import pytest
import yaml
from ansible.errors import AnsibleActionFail
from ansible.inventory.manager import InventoryManager
from ansible.parsing.dataloader import DataLoader
from ansible.playbook.play_context import PlayContext
from ansible.playbook.task import Task
from ansible.template import Templar
from ansible.vars.hostvars import HostVars
from ansible.vars.manager import VariableManager
from ansible_collections.groundwork.erp_baseline.plugins.action import compliance_report as cr
from ansible_collections.groundwork.erp_baseline.plugins.module_utils.findings import STATUSES

MOMENT = datetime.datetime(2026, 12, 3, 17, 20, 0, tzinfo=datetime.UTC)
STAMP = "20261203T172000Z"

CATALOG = {
    "GW-SSH-001": {
        "title": "SSH uses only modern key exchange, ciphers and MACs",
        "severity": "high",
        "tiers": ["all"],
        "role": "ssh_baseline",
        "references": {"cis_debian12": "5.1.6"},
    },
    "GW-HOST-001": {
        "title": "Kernel and network sysctls hardened",
        "severity": "medium",
        "tiers": ["all"],
        "role": "host_baseline",
    },
    "GW-HOST-002": {
        "title": "Audit daemon records logins",
        "severity": "low",
        "tiers": ["all"],
        "role": "host_baseline",
    },
}

APP1_FINDINGS = [
    {
        "id": "GW-SSH-001",
        "status": "fail",
        "observed": "<script>alert(1)</script>",
        "expected": "curve25519-sha256",
    },
    {"id": "GW-HOST-001", "status": "fixed", "observed": "rp_filter=0", "expected": "1"},
    {"id": "GW-HOST-002", "status": "not_applicable", "reason": "auditd cannot run here"},
    {"id": "GW-XYZ-009", "status": "unknown", "reason": "python3-apt is missing"},
]
DB1_FINDINGS = [
    {"id": "GW-SSH-001", "status": "pass"},
    {"id": "GW-HOST-001", "status": "skipped", "reason": "turned off by host_baseline_sysctl"},
]


def counts(**nonzero):
    """Totals with every status, zero unless given."""
    return dict(dict.fromkeys(STATUSES, 0), **nonzero)


def context(mode="audit"):
    identity = {"name": "groundwork.erp_baseline", "version": "0.1.0"}
    return cr.report_context(identity, mode, "deploy", MOMENT)


def sample_reports():
    """app1 with one finding of almost every status, db1 clean, cache1 without findings."""
    app1, _ = cr.build_host_report("app1", APP1_FINDINGS, CATALOG, context(), True)
    db1, _ = cr.build_host_report("db1", DB1_FINDINGS, CATALOG, context(), True)
    cache1, _ = cr.build_host_report("cache1", None, CATALOG, context(), None)
    return [app1, db1, cache1]


# Catalog and findings


def test_enrichment_adds_the_catalog_fields_and_keeps_the_details():
    report, problems = cr.build_host_report("app1", APP1_FINDINGS, CATALOG, context(), True)

    ssh = next(item for item in report["findings"] if item["id"] == "GW-SSH-001")
    assert problems == []
    assert ssh == {
        "id": "GW-SSH-001",
        "status": "fail",
        "title": "SSH uses only modern key exchange, ciphers and MACs",
        "severity": "high",
        "tiers": ["all"],
        "role": "ssh_baseline",
        "references": {"cis_debian12": "5.1.6"},
        "in_catalog": True,
        "observed": "<script>alert(1)</script>",
        "expected": "curve25519-sha256",
    }


def test_a_control_missing_from_the_catalog_is_kept_and_named():
    reports = sample_reports()

    unknown = next(item for item in reports[0]["findings"] if item["id"] == "GW-XYZ-009")
    assert unknown["title"] == "(not in catalog)"
    assert unknown["in_catalog"] is False
    assert unknown["severity"] is None
    assert unknown["reason"] == "python3-apt is missing"
    assert cr.uncatalogued_controls(reports) == {"GW-XYZ-009": ["app1"]}


def test_malformed_findings_are_reported_not_fatal():
    raw = [
        {"id": "GW-SSH-001", "status": "passed"},
        {"status": "pass"},
        "GW-HOST-001",
        {"id": "GW-HOST-001", "status": "pass", "observed": ["a", "b"]},
    ]
    report, problems = cr.build_host_report("app1", raw, CATALOG, context(), True)

    assert [item["status"] for item in report["findings"]] == ["pass", "unknown"]
    assert report["findings"][0]["observed"] == "a, b"
    assert report["findings"][1]["reason"] == "the role reported the invalid status 'passed'"
    assert problems == ["host app1: ignored a finding without a control ID"] * 2


def test_a_findings_variable_that_is_not_a_list_counts_as_no_findings():
    report, problems = cr.build_host_report("app1", {"id": "x"}, CATALOG, context(), True)

    assert report["findings_collected"] is False
    assert problems == ["host app1: the findings variable is not a list; it was ignored"]


def test_the_shipped_catalog_is_valid():
    path = os.path.join(cr.collection_root(), "controls", "catalog.yml")
    catalog = cr.load_catalog(path)

    assert {"GW-SSH-001", "GW-HOST-001"} <= set(catalog)
    for control_id in catalog:
        area, number = control_id.split("-")[1:]
        assert control_id.startswith("GW-") and area.isupper() and len(number) == 3


def test_a_bad_catalog_entry_is_named():
    text = "GW-SSH-001: {title: t, severity: severe, tiers: [all], role: ssh_baseline}\n"

    with pytest.raises(ValueError, match="catalog.yml: control GW-SSH-001: severity must be"):
        cr.parse_catalog(text, "catalog.yml")


def test_collection_identity_comes_from_galaxy_yml_or_manifest(tmp_path):
    checkout, installed = tmp_path / "checkout", tmp_path / "installed"
    checkout.mkdir()
    installed.mkdir()
    (checkout / "galaxy.yml").write_text(
        "namespace: groundwork\nname: erp_baseline\nversion: 1.2.0\n"
    )
    info = {"namespace": "groundwork", "name": "erp_baseline", "version": "1.3.0"}
    manifest = {"collection_info": info}
    (installed / "MANIFEST.json").write_text(json.dumps(manifest))

    assert cr.read_collection_identity(str(checkout))["version"] == "1.2.0"
    assert cr.read_collection_identity(str(installed)) == {
        "name": "groundwork.erp_baseline",
        "version": "1.3.0",
    }
    assert cr.read_collection_identity(str(tmp_path))["version"] == "unknown"


# Per-host JSON


def test_host_json_has_the_documented_content():
    files = cr.report_files(context(), sample_reports())
    app1 = json.loads(files["app1.json"])

    assert app1["schema_version"] == 1
    assert app1["collection"] == {"name": "groundwork.erp_baseline", "version": "0.1.0"}
    assert app1["generated_at"] == "2026-12-03T17:20:00Z"
    assert (app1["user"], app1["mode"], app1["host"]) == ("deploy", "audit", "app1")
    assert app1["findings_collected"] is True
    assert app1["run_completed"] is True
    assert app1["totals"] == counts(fixed=1, fail=1, not_applicable=1, unknown=1)
    ids = [item["id"] for item in app1["findings"]]
    assert ids == ["GW-HOST-001", "GW-HOST-002", "GW-SSH-001", "GW-XYZ-009"]


def test_host_without_findings_has_an_empty_json_report():
    cache1 = json.loads(cr.report_files(context(), sample_reports())["cache1.json"])

    assert cache1["findings_collected"] is False
    assert cache1["findings"] == []
    assert set(cache1["totals"].values()) == {0}


def test_host_file_names_are_safe_and_distinct():
    assert cr.host_file_name("app1.example.com") == "app1.example.com.json"
    assert cr.host_file_name("../etc/passwd") == "_._etc_passwd.json"
    assert cr.host_file_name("a/b", taken={"a_b.json"}) == "a_b-2.json"


# Markdown


def test_markdown_table_counts_every_status_per_host():
    lines = cr.render_markdown(context(), sample_reports()).splitlines()

    assert "| host      | pass | fixed | fail | skipped | not_applicable | unknown |" in lines
    assert "| app1      |    0 |     1 |    1 |       0 |              1 |       1 |" in lines
    assert "| db1       |    1 |     0 |    0 |       1 |              0 |       0 |" in lines
    assert "| cache1    |    - |     - |    - |       - |              - |       - |" in lines
    assert "| all hosts |    1 |     1 |    1 |       1 |              1 |       1 |" in lines


def test_markdown_header_names_collection_time_user_and_mode():
    text = cr.render_markdown(context(mode="enforce"), sample_reports())

    assert text.startswith("# ERP baseline compliance report\n")
    for line in (
        "- Collection: groundwork.erp_baseline 0.1.0",
        "- Generated: 2026-12-03T17:20:00Z",
        "- User: deploy",
        "- Mode: enforce",
    ):
        assert line in text.splitlines()


def test_markdown_lists_failing_and_unknown_controls_per_host():
    text = cr.render_markdown(context(), sample_reports())
    app1 = text.split("## app1\n")[1].split("## db1\n")[0]

    assert "- GW-SSH-001 [high] SSH uses only modern key exchange, ciphers and MACs\n" in app1
    assert (
        "  status: fail; observed: <script>alert(1)</script>; expected: curve25519-sha256\n"
        in app1
    )
    assert "- GW-XYZ-009 [-] (not in catalog)\n  status: unknown; reason: python3-apt" in app1
    assert "GW-HOST-001" not in app1
    assert "GW-HOST-002" not in app1
    assert "## db1\n\nNo failing or unknown controls.\n" in text
    assert text.endswith("## cache1\n\nno findings (host unreachable or failed)\n")


def test_markdown_says_when_the_run_stopped_on_a_host():
    report, _ = cr.build_host_report("app2", DB1_FINDINGS, CATALOG, context(), False)

    text = cr.render_markdown(context(), [report])

    assert "the run stopped on this host (failed or unreachable)" in text


# HTML


class TagCollector(HTMLParser):
    def __init__(self):
        super().__init__()
        self.tags = []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)


def test_html_escapes_observed_values():
    page = cr.render_html(context(), sample_reports())
    parser = TagCollector()
    parser.feed(page)

    assert "<script>" not in page
    assert "observed: &lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "script" not in parser.tags
    assert "link" not in parser.tags


def test_html_has_the_same_table_and_lists_as_markdown():
    page = cr.render_html(context(), sample_reports())

    app1_row = "<tr><td>app1</td>" + "".join(
        f'<td class="count">{count}</td>' for count in (0, 1, 1, 0, 1, 1)
    )
    assert app1_row in page
    assert '<tr class="fail"><td>GW-SSH-001</td><td>high</td>' in page
    assert '<tr class="unknown"><td>GW-XYZ-009</td><td>-</td><td>(not in catalog)</td>' in page
    assert '<p class="problem">no findings (host unreachable or failed)</p>' in page
    assert "<li>User: deploy</li>" in page


# JUnit


def junit_cases(text, host):
    suite = ET.fromstring(text).find(f"testsuite[@name='{host}']")
    return suite, {case.get("name"): case for case in suite.findall("testcase")}


def test_junit_failure_carries_observed_and_expected():
    suite, cases = junit_cases(cr.render_junit(context(), sample_reports()), "app1")

    ssh = cases["GW-SSH-001 SSH uses only modern key exchange, ciphers and MACs"]
    failure = ssh.find("failure")
    assert failure.get("message") == (
        "observed: <script>alert(1)</script>; expected: curve25519-sha256"
    )
    assert failure.text.startswith("severity: high\n")
    assert ssh.get("classname") == "app1"
    assert list(cases["GW-HOST-001 Kernel and network sysctls hardened"]) == []
    skipped = cases["GW-HOST-002 Audit daemon records logins"].find("skipped")
    assert skipped.get("message") == "auditd cannot run here"
    error = cases["GW-XYZ-009 (not in catalog)"].find("error")
    assert error.get("message") == "reason: python3-apt is missing"
    counts = {key: suite.get(key) for key in ("tests", "failures", "errors", "skipped")}
    assert counts == {"tests": "4", "failures": "1", "errors": "1", "skipped": "1"}


def test_junit_host_without_findings_is_an_error():
    text = cr.render_junit(context(), sample_reports())
    _, cases = junit_cases(text, "cache1")

    error = cases["findings collected"].find("error")
    assert error.get("message") == "no findings (host unreachable or failed)"
    assert ET.fromstring(text).get("errors") == "2"
    assert ET.fromstring(text).get("tests") == "7"


def test_junit_survives_characters_that_xml_cannot_carry():
    raw = [{"id": "GW-SSH-001", "status": "fail", "observed": "banner\x00\x1b[0m"}]
    report, _ = cr.build_host_report("app1", raw, CATALOG, context(), True)

    failure = ET.fromstring(cr.render_junit(context(), [report])).find(".//failure")

    assert failure.get("message") == "observed: banner??[0m"


# The action plugin's run()


@pytest.fixture
def fixed_time(monkeypatch):
    monkeypatch.setattr(cr, "utc_now", lambda: MOMENT)


def make_action(args, task_vars, basedir, check_mode=False, run_once=True):
    task = Task()
    task.action = "groundwork.erp_baseline.compliance_report"
    task.args = args
    task.check_mode = check_mode
    task.run_once = run_once
    loader = DataLoader()
    loader.set_basedir(str(basedir))
    templar = Templar(loader=loader, variables=task_vars)
    connection = SimpleNamespace(_shell=SimpleNamespace(tmpdir=None))
    action = cr.ActionModule(task, connection, PlayContext(), loader, templar)
    # The plugin loader sets this name; error messages use it.
    action._load_name = task.action
    return action


def play_vars(hostvars, hosts=None, **extra):
    """The task variables the executor would pass: hostvars and the play's hosts."""
    hosts = list(hosts or hostvars)
    task_vars = {
        "hostvars": hostvars,
        "ansible_play_hosts_all": hosts,
        "ansible_play_hosts": hosts,
    }
    task_vars.update(extra)
    return task_vars


def run_action(args, task_vars, basedir, shipped_catalog=False, **options):
    """Run the action; with the test catalog, given relative to the playbook directory."""
    if not shipped_catalog and "catalog" not in args:
        (basedir / "catalog.yml").write_text(yaml.safe_dump(CATALOG))
        args = dict(args, catalog="catalog.yml")
    return make_action(args, task_vars, basedir, **options).run(task_vars=task_vars)


def sample_hostvars():
    return {
        "app1": {"erp_baseline_findings": APP1_FINDINGS, "db_app_password": "s3cret-app"},
        "db1": {"erp_baseline_findings": DB1_FINDINGS},
        "cache1": {"ansible_host": "192.0.2.7"},
    }


def test_run_writes_every_file_and_returns_the_totals(tmp_path, fixed_time):
    result = run_action({"dest": "reports"}, play_vars(sample_hostvars()), tmp_path)

    report_dir = tmp_path / "reports" / STAMP
    assert result["report_dir"] == str(report_dir)
    assert result["changed"] is False
    assert result["failed_controls"] == 1
    assert result["totals"] == counts(**dict.fromkeys(STATUSES, 1))
    assert result["hosts"]["db1"]["pass"] == 1
    assert result["hosts_without_findings"] == ["cache1"]
    assert result["incomplete_hosts"] == []
    assert result["ansible_stats"]["data"]["erp_baseline_report"]["failed_controls"] == 1
    assert sorted(os.listdir(report_dir)) == sorted(
        ["app1.json", "db1.json", "cache1.json", "summary.md", "summary.html", "junit.xml"]
    )
    assert os.readlink(tmp_path / "reports" / "latest") == STAMP
    assert result["warnings"] == [
        "control GW-XYZ-009 is not in the catalog (reported by app1); it is kept with the"
        + " title (not in catalog)"
    ]


def test_run_writes_no_other_host_variable(tmp_path, fixed_time):
    result = run_action({"dest": "reports"}, play_vars(sample_hostvars()), tmp_path)

    report_dir = tmp_path / "reports" / STAMP
    written = "".join(path.read_text() for path in report_dir.iterdir())
    assert "s3cret-app" not in written + json.dumps(result)
    assert "192.0.2.7" not in written


def test_run_uses_the_collection_catalog_and_version(tmp_path, fixed_time):
    hostvars = {"app1": {"erp_baseline_findings": [{"id": "GW-SSH-001", "status": "pass"}]}}

    result = run_action({"dest": str(tmp_path)}, play_vars(hostvars), tmp_path, True)

    app1 = json.loads((tmp_path / STAMP / "app1.json").read_text())
    catalog_file = os.path.join(cr.collection_root(), "controls", "catalog.yml")
    with open(catalog_file) as handle:
        shipped = yaml.safe_load(handle)
    assert app1["findings"][0]["title"] == shipped["GW-SSH-001"]["title"]
    assert app1["collection"] == cr.read_collection_identity(cr.collection_root())
    assert "warnings" not in result


def test_run_with_real_hostvars_over_a_real_inventory(tmp_path, fixed_time):
    loader = DataLoader()
    inventory = InventoryManager(loader=loader, sources="app1,db1,")
    variables = VariableManager(loader=loader, inventory=inventory)
    variables.set_nonpersistent_facts("app1", {"erp_baseline_findings": APP1_FINDINGS})
    hostvars = HostVars(inventory=inventory, variable_manager=variables, loader=loader)
    task_vars = play_vars(hostvars, hosts=["app1", "db1"])

    result = run_action({"dest": "reports"}, task_vars, tmp_path)

    assert result["totals"]["fail"] == 1
    assert result["hosts_without_findings"] == ["db1"]
    app1 = json.loads((tmp_path / "reports" / STAMP / "app1.json").read_text())
    assert app1["findings"][2]["observed"] == "<script>alert(1)</script>"


def test_run_marks_hosts_that_stopped_during_the_run(tmp_path, fixed_time):
    task_vars = play_vars(sample_hostvars())
    task_vars["ansible_play_hosts"] = ["db1"]

    result = run_action({"dest": "reports"}, task_vars, tmp_path)

    assert result["incomplete_hosts"] == ["app1", "cache1"]
    app1 = json.loads((tmp_path / "reports" / STAMP / "app1.json").read_text())
    assert app1["run_completed"] is False


def test_run_reports_only_the_hosts_given_and_cannot_tell_which_stopped(tmp_path, fixed_time):
    task_vars = play_vars(sample_hostvars(), ansible_play_hosts=["localhost"])

    result = run_action({"dest": "reports", "hosts": ["db1", "cache1"]}, task_vars, tmp_path)

    assert set(result["hosts"]) == {"db1", "cache1"}
    assert result["incomplete_hosts"] == []
    db1 = json.loads((tmp_path / "reports" / STAMP / "db1.json").read_text())
    assert db1["run_completed"] is None


def test_a_host_missing_from_the_inventory_is_reported_without_findings(tmp_path, fixed_time):
    args = {"dest": "reports", "hosts": ["db1", "ghost"]}

    result = run_action(args, play_vars(sample_hostvars()), tmp_path)

    assert result["hosts_without_findings"] == ["ghost"]
    assert result["warnings"] == ["host ghost is not in the inventory"]


def test_latest_moves_to_the_newest_report(tmp_path, monkeypatch):
    later = MOMENT + datetime.timedelta(minutes=5)
    for moment in (MOMENT, later, later):
        monkeypatch.setattr(cr, "utc_now", lambda moment=moment: moment)
        run_action({"dest": "reports"}, play_vars(sample_hostvars()), tmp_path)

    reports = tmp_path / "reports"
    assert sorted(os.listdir(reports)) == [
        STAMP,
        "20261203T172500Z",
        "20261203T172500Z-2",
        "latest",
    ]
    assert os.readlink(reports / "latest") == "20261203T172500Z-2"
    assert (reports / "latest" / "summary.md").is_file()


def test_run_in_check_mode_still_writes_the_report(tmp_path, fixed_time):
    result = run_action(
        {"dest": "reports"}, play_vars(sample_hostvars()), tmp_path, check_mode=True
    )

    assert result["changed"] is False
    assert (tmp_path / "reports" / STAMP / "summary.md").is_file()


def test_mode_comes_from_erp_baseline_mode_unless_given(tmp_path, fixed_time):
    task_vars = play_vars(sample_hostvars(), erp_baseline_mode="audit")
    run_action({"dest": "a"}, task_vars, tmp_path)
    run_action({"dest": "e", "mode": "enforce"}, task_vars, tmp_path)
    run_action({"dest": "d"}, play_vars(sample_hostvars()), tmp_path)

    modes = [json.loads((tmp_path / d / STAMP / "db1.json").read_text())["mode"] for d in "aed"]
    assert modes == ["audit", "enforce", "enforce"]


@pytest.mark.parametrize(
    ("args", "extra_vars", "message"),
    [
        ({}, {}, "missing required arguments: dest"),
        ({"dest": " "}, {}, "dest must name the directory"),
        ({"dest": "r", "bogus": 1}, {}, "Unsupported parameters .* bogus"),
        ({"dest": "r", "mode": "check"}, {}, "value of mode must be one of: audit, enforce"),
        ({"dest": "r"}, {"erp_baseline_mode": "strict"}, "erp_baseline_mode is 'strict'"),
        ({"dest": "r", "catalog": "missing.yml"}, {}, "catalog .*missing.yml cannot be used"),
        ({"dest": "r", "hosts": []}, {}, "hosts is empty"),
    ],
)
def test_a_wrong_argument_fails_and_names_it(tmp_path, args, extra_vars, message):
    with pytest.raises(AnsibleActionFail, match=message):
        run_action(args, play_vars(sample_hostvars(), **extra_vars), tmp_path)
    assert not (tmp_path / "r").exists()


def test_a_dest_that_cannot_be_written_fails_and_names_it(tmp_path, fixed_time):
    (tmp_path / "reports").mkdir()
    (tmp_path / "reports" / "latest").mkdir()

    with pytest.raises(AnsibleActionFail, match="dest .*reports: .*latest exists and is not"):
        run_action({"dest": "reports"}, play_vars(sample_hostvars()), tmp_path)


def test_run_warns_when_it_runs_for_every_host(tmp_path, fixed_time):
    task_vars = play_vars(sample_hostvars(), ansible_play_batch=["app1", "db1", "cache1"])

    result = run_action({"dest": "reports"}, task_vars, tmp_path, run_once=False)

    assert "set run_once: true" in result["warnings"][0]
