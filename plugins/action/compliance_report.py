# Copyright: groundwork.erp_baseline contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Write the compliance report of a run on the controller.

The roles leave their findings in a host variable. A final play calls this action
once; it reads the findings of every host, adds what the control catalog says about
each control, and writes the evidence into a new directory: one JSON file per host,
and a summary of all hosts in Markdown, HTML and JUnit XML.

The functions that build and render the report take plain data and return text, so
they are tested without Ansible; only ActionModule reads task variables and writes.
"""

from __future__ import annotations

import datetime
import getpass
import html
import itertools
import json
import os
import re
import xml.etree.ElementTree as ET
from collections.abc import Mapping

import yaml
from ansible.errors import AnsibleActionFail, AnsibleError
from ansible.plugins.action import ActionBase
from ansible_collections.groundwork.erp_baseline.plugins.module_utils.findings import (
    FAIL,
    NOT_APPLICABLE,
    SKIPPED,
    STATUSES,
    UNKNOWN,
    finding,
)

COLLECTION_NAME = "groundwork.erp_baseline"
CATALOG_PATH = os.path.join("controls", "catalog.yml")
REPORT_TITLE = "ERP baseline compliance report"
SCHEMA_VERSION = 1
STATS_KEY = "erp_baseline_report"
LATEST_LINK = "latest"
STAMP_FORMAT = "%Y%m%dT%H%M%SZ"
TIME_FORMAT = "%Y-%m-%dT%H:%M:%SZ"

MODES = ("audit", "enforce")
SEVERITIES = ("low", "medium", "high", "critical")
TIERS = ("all", "proxy", "app", "db", "cache")

NOT_IN_CATALOG = "(not in catalog)"
NO_FINDINGS = "no findings (host unreachable or failed)"
RUN_STOPPED = "the run stopped on this host (failed or unreachable): findings are partial"
NOTHING_LISTED = "No failing or unknown controls."
ALL_HOSTS = "all hosts"

# The summaries list these control by control; the others are only counted.
LISTED_STATUSES = (FAIL, UNKNOWN)
DETAIL_KEYS = ("observed", "expected", "reason")

ARGUMENT_SPEC = {
    "dest": {"type": "path", "required": True},
    "hosts": {"type": "list", "elements": "str"},
    "findings_var": {"type": "str", "default": "erp_baseline_findings"},
    "mode": {"type": "str", "choices": list(MODES)},
    "catalog": {"type": "path"},
}

# XML 1.0 cannot carry these characters, even escaped.
XML_INVALID = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
NEWLINES = re.compile(r"\s*\n\s*")
UNSAFE_FILE_CHARS = re.compile(r"[^A-Za-z0-9._-]")


# Collection and catalog


def collection_root():
    """The collection root, two levels above plugins/action/.

    The path as loaded comes first and the resolved one second, so a collection reached
    through a symlinked collections tree, or this file symlinked alone, finds its catalog.
    """
    loaded = os.path.abspath(__file__)
    candidates = [_three_levels_up(path) for path in (loaded, os.path.realpath(loaded))]
    for root in candidates:
        if os.path.isfile(os.path.join(root, CATALOG_PATH)):
            return root
    return candidates[0]


def _three_levels_up(path):
    return os.path.dirname(os.path.dirname(os.path.dirname(path)))


def read_collection_identity(root):
    """Name and version from galaxy.yml (a checkout) or MANIFEST.json (an installed copy)."""
    info = {}
    try:
        if os.path.isfile(os.path.join(root, "galaxy.yml")):
            with open(os.path.join(root, "galaxy.yml"), encoding="utf-8") as stream:
                info = yaml.safe_load(stream)
        elif os.path.isfile(os.path.join(root, "MANIFEST.json")):
            with open(os.path.join(root, "MANIFEST.json"), encoding="utf-8") as stream:
                info = json.load(stream).get("collection_info")
    except (OSError, ValueError, AttributeError, yaml.YAMLError):
        info = {}
    return collection_identity(info if isinstance(info, Mapping) else {})


def collection_identity(info):
    """The identity a report is stamped with; "unknown" when no metadata was found."""
    name = COLLECTION_NAME
    if info.get("namespace") and info.get("name"):
        name = f"{info['namespace']}.{info['name']}"
    return {"name": name, "version": str(info.get("version") or "unknown")}


def load_catalog(path):
    with open(path, encoding="utf-8") as stream:
        return parse_catalog(stream.read(), path)


def parse_catalog(text, source):
    """The catalog as a dict of control ID to entry; raise ValueError on a malformed one."""
    data = yaml.safe_load(text) or {}
    if not isinstance(data, Mapping):
        raise TypeError(f"{source}: the catalog must map control IDs to entries")
    for control_id, entry in data.items():
        problem = catalog_entry_problem(entry)
        if problem:
            raise ValueError(f"{source}: control {control_id}: {problem}")
    return {str(control_id): entry for control_id, entry in data.items()}


def catalog_entry_problem(entry):
    """What is wrong with one catalog entry, or None."""
    if not isinstance(entry, Mapping):
        return "the entry must be a mapping"
    if not isinstance(entry.get("title"), str) or not entry["title"].strip():
        return "title must be a non-empty string"
    if entry.get("severity") not in SEVERITIES:
        return f"severity must be one of {', '.join(SEVERITIES)}"
    tiers = entry.get("tiers")
    if not isinstance(tiers, list) or not tiers or not set(tiers) <= set(TIERS):
        return f"tiers must be a non-empty list of {', '.join(TIERS)}"
    if not isinstance(entry.get("role"), str) or not entry["role"].strip():
        return "role must name the role that reports the control"
    if not isinstance(entry.get("references", {}), Mapping):
        return "references must be a mapping"
    return None


# Findings


def normalize_findings(raw, host):
    """The findings a host holds, rebuilt through the shared model, and the problems met."""
    findings, problems = [], []
    for item in raw:
        if isinstance(item, Mapping) and item.get("id"):
            findings.append(rebuild_finding(item))
        else:
            problems.append(f"host {host}: ignored a finding without a control ID")
    return findings, problems


def rebuild_finding(item):
    """A finding with the model's shape and types; an invalid status becomes unknown."""
    control_id, status = str(item["id"]), str(item.get("status"))
    observed, expected = item.get("observed"), item.get("expected")
    reason = str(item["reason"]) if item.get("reason") else None
    try:
        return finding(control_id, status, observed, expected, reason)
    except ValueError:
        reason = f"the role reported the invalid status {status!r}"
        return finding(control_id, UNKNOWN, observed, expected, reason)


def enrich_finding(item, catalog):
    """The finding with the catalog's title, severity, tiers, role and references."""
    enriched = {"id": item["id"], "status": item["status"]}
    enriched.update(catalog_fields(catalog.get(item["id"])))
    enriched.update((key, item[key]) for key in DETAIL_KEYS if key in item)
    return enriched


def catalog_fields(entry):
    """What a finding takes from its catalog entry; placeholders when there is none."""
    if entry is None:
        return {
            "title": NOT_IN_CATALOG,
            "severity": None,
            "tiers": [],
            "role": None,
            "references": {},
            "in_catalog": False,
        }
    references = entry.get("references") or {}
    return {
        "title": entry["title"],
        "severity": entry["severity"],
        "tiers": list(entry["tiers"]),
        "role": entry["role"],
        "references": {str(key): str(value) for key, value in references.items()},
        "in_catalog": True,
    }


def count_statuses(findings):
    totals = dict.fromkeys(STATUSES, 0)
    for item in findings:
        totals[item["status"]] += 1
    return totals


def aggregate_totals(reports):
    totals = dict.fromkeys(STATUSES, 0)
    for report in reports:
        for status, count in report["totals"].items():
            totals[status] += count
    return totals


def report_context(collection, mode, user, moment):
    """What every file of one report is stamped with."""
    return {
        "collection": dict(collection),
        "generated_at": moment.strftime(TIME_FORMAT),
        "user": user,
        "mode": mode,
    }


def build_host_report(host, raw, catalog, context, run_completed=None):
    """The per-host report (the JSON file's content) and the problems met reading it.

    ``raw`` is what the host holds in the findings variable, None when it holds nothing.
    ``run_completed`` is False for a host that failed or was unreachable during the run,
    None when that is not known.
    """
    problems = []
    if raw is not None and not isinstance(raw, (list, tuple)):
        problems.append(f"host {host}: the findings variable is not a list; it was ignored")
        raw = None
    findings, finding_problems = normalize_findings(raw or (), host)
    problems += finding_problems
    enriched = [enrich_finding(item, catalog) for item in findings]
    enriched.sort(key=lambda item: (item["id"], item["status"]))
    report = {
        "schema_version": SCHEMA_VERSION,
        "collection": dict(context["collection"]),
        "generated_at": context["generated_at"],
        "user": context["user"],
        "mode": context["mode"],
        "host": host,
        "findings_collected": raw is not None,
        "run_completed": run_completed,
        "totals": count_statuses(enriched),
        "findings": enriched,
    }
    return report, problems


def uncatalogued_controls(reports):
    """Control ID -> hosts that reported it, for controls missing from the catalog."""
    missing = {}
    for report in reports:
        for item in report["findings"]:
            if item["in_catalog"]:
                continue
            hosts = missing.setdefault(item["id"], [])
            if report["host"] not in hosts:
                hosts.append(report["host"])
    return missing


def host_problems(report):
    """(test case name, message) for what keeps a host's findings from being complete."""
    if not report["findings_collected"]:
        return [("findings collected", NO_FINDINGS)]
    if report["run_completed"] is False:
        return [("run completed", RUN_STOPPED)]
    return []


def listed_findings(report):
    return [item for item in report["findings"] if item["status"] in LISTED_STATUSES]


def finding_details(item):
    """Observed, expected and reason, as far as the finding has them."""
    return "; ".join(f"{key}: {item[key]}" for key in DETAIL_KEYS if key in item)


def severity_label(item):
    return item["severity"] or "-"


# Markdown


def header_fields(context):
    collection = context["collection"]
    return [
        ("Collection", f"{collection['name']} {collection['version']}"),
        ("Generated", context["generated_at"]),
        ("User", context["user"]),
        ("Mode", context["mode"]),
    ]


def host_rows(reports):
    """One row per host, then the totals over all hosts; "-" for a host without findings."""
    rows = []
    for report in reports:
        if report["findings_collected"]:
            counts = [str(report["totals"][status]) for status in STATUSES]
        else:
            counts = ["-"] * len(STATUSES)
        rows.append([report["host"]] + counts)
    totals = aggregate_totals(reports)
    rows.append([ALL_HOSTS] + [str(totals[status]) for status in STATUSES])
    return rows


def render_markdown(context, reports):
    """summary.md: header, one table of all hosts, then the failing controls per host."""
    lines = ["# " + REPORT_TITLE, ""]
    lines += [f"- {label}: {value}" for label, value in header_fields(context)]
    lines += [""] + markdown_table(("host",) + STATUSES, host_rows(reports))
    for report in reports:
        lines += [""] + markdown_host_section(report)
    return "\n".join(lines) + "\n"


def markdown_table(header, rows):
    """A Markdown table padded to line up in a terminal; counts are right-aligned."""
    rows = [[_table_cell(cell) for cell in row] for row in rows]
    widths = [
        max(len(row[index]) for row in [list(header)] + rows) for index in range(len(header))
    ]
    rule = ["-" * widths[0]] + ["-" * (width - 1) + ":" for width in widths[1:]]
    return [_table_line(row, widths) for row in [list(header), rule] + rows]


def _table_line(row, widths):
    cells = [row[0].ljust(widths[0])]
    cells += [cell.rjust(width) for cell, width in zip(row[1:], widths[1:])]
    return "| " + " | ".join(cells) + " |"


def _table_cell(text):
    return _one_line(text).replace("|", "\\|")


def markdown_host_section(report):
    """The host's heading, what keeps its findings from being complete, its listed controls."""
    paragraphs = [message for _, message in host_problems(report)]
    listed = listed_findings(report)
    if listed:
        paragraphs.append("\n".join(markdown_finding(item) for item in listed))
    elif report["findings_collected"]:
        paragraphs.append(NOTHING_LISTED)
    return ["## " + report["host"], "", "\n\n".join(paragraphs)]


def markdown_finding(item):
    """Two lines: the control, then its status and details."""
    details = "; ".join(filter(None, ["status: " + item["status"], finding_details(item)]))
    title = _one_line(item["title"])
    return f"- {item['id']} [{severity_label(item)}] {title}\n  {_one_line(details)}"


def _one_line(text):
    return NEWLINES.sub(" ", str(text)).strip()


# HTML

HTML_HEAD = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<title>{title}</title>
<style>
body {{ font-family: sans-serif; margin: 2em; color: #222; }}
table {{ border-collapse: collapse; margin: 1em 0; }}
th, td {{ border: 1px solid #bbb; padding: 0.3em 0.6em; text-align: left; vertical-align: top; }}
td.count {{ text-align: right; }}
tr.fail td.status {{ color: #a00; font-weight: bold; }}
tr.unknown td.status {{ color: #850; font-weight: bold; }}
tr.all-hosts td {{ font-weight: bold; }}
p.problem {{ color: #a00; }}
</style>
</head>
<body>"""


def render_html(context, reports):
    """summary.html: the content of summary.md as one self-contained, escaped page."""
    esc = html.escape
    parts = [HTML_HEAD.format(title=esc(REPORT_TITLE)), f"<h1>{esc(REPORT_TITLE)}</h1>"]
    parts.append("<ul>")
    parts += [f"<li>{esc(label)}: {esc(value)}</li>" for label, value in header_fields(context)]
    parts.append("</ul>")
    parts += html_hosts_table(host_rows(reports))
    for report in reports:
        parts += html_host_section(report)
    parts.append("</body>\n</html>")
    return "\n".join(parts) + "\n"


def html_hosts_table(rows):
    esc = html.escape
    header = "".join(f"<th>{esc(name)}</th>" for name in ("host",) + STATUSES)
    lines = ["<table>", f"<thead><tr>{header}</tr></thead>", "<tbody>"]
    for row in rows:
        css = ' class="all-hosts"' if row is rows[-1] else ""
        counts = "".join(f'<td class="count">{esc(cell)}</td>' for cell in row[1:])
        lines.append(f"<tr{css}><td>{esc(row[0])}</td>{counts}</tr>")
    return lines + ["</tbody>", "</table>"]


def html_host_section(report):
    esc = html.escape
    lines = [f"<h2>{esc(report['host'])}</h2>"]
    lines += [f'<p class="problem">{esc(message)}</p>' for _, message in host_problems(report)]
    listed = listed_findings(report)
    if report["findings_collected"] and not listed:
        lines.append(f"<p>{esc(NOTHING_LISTED)}</p>")
    if not listed:
        return lines
    header = "".join(f"<th>{name}</th>" for name in ("control", "severity", "title", "status"))
    lines += ["<table>", f"<thead><tr>{header}<th>details</th></tr></thead>", "<tbody>"]
    for item in listed:
        status = esc(item["status"])
        cells = "".join(
            f"<td>{esc(cell)}</td>" for cell in (item["id"], severity_label(item), item["title"])
        )
        details = esc(finding_details(item))
        lines.append(
            f'<tr class="{status}">{cells}<td class="status">{status}</td><td>{details}</td></tr>'
        )
    return lines + ["</tbody>", "</table>"]


# JUnit XML


def render_junit(context, reports):
    """junit.xml: a test suite per host and a test case per control."""
    root = ET.Element("testsuites", {"name": REPORT_TITLE})
    for report in reports:
        root.append(junit_suite(context, report))
    for key in ("tests", "failures", "errors", "skipped"):
        root.set(key, str(sum(int(suite.get(key)) for suite in root)))
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, "unicode") + "\n"


def junit_suite(context, report):
    host = _xml_text(report["host"])
    suite = ET.Element("testsuite", {"name": host, "timestamp": context["generated_at"]})
    properties = ET.SubElement(suite, "properties")
    for name, value in junit_properties(context):
        ET.SubElement(properties, "property", {"name": name, "value": _xml_text(value)})
    cases = [junit_case(host, item) for item in report["findings"]]
    for name, message in host_problems(report):
        case = ET.Element("testcase", {"classname": host, "name": name})
        ET.SubElement(case, "error", {"message": message, "type": "no_findings"})
        cases.append(case)
    suite.extend(cases)
    suite.set("tests", str(len(cases)))
    for key, tag in (("failures", "failure"), ("errors", "error"), ("skipped", "skipped")):
        suite.set(key, str(sum(1 for case in cases if case.find(tag) is not None)))
    return suite


def junit_properties(context):
    return [
        ("collection", context["collection"]["name"]),
        ("version", context["collection"]["version"]),
        ("mode", context["mode"]),
        ("user", context["user"]),
    ]


def junit_case(host, item):
    name = _xml_text(f"{item['id']} {item['title']}")
    case = ET.Element("testcase", {"classname": host, "name": name})
    status, details = item["status"], _xml_text(finding_details(item))
    if status == FAIL:
        failure = ET.SubElement(case, "failure", {"message": details or "failed", "type": FAIL})
        failure.text = "\n".join([f"severity: {severity_label(item)}"] + details.split("; "))
    elif status == UNKNOWN:
        message = details or "could not be evaluated"
        ET.SubElement(case, "error", {"message": message, "type": UNKNOWN})
    elif status in (SKIPPED, NOT_APPLICABLE):
        message = _xml_text(item.get("reason") or status)
        ET.SubElement(case, "skipped", {"message": message})
    return case


def _xml_text(text):
    return XML_INVALID.sub("?", str(text))


# Files


def host_file_name(host, taken=()):
    """<host>.json, with characters that do not belong in a file name replaced."""
    base = UNSAFE_FILE_CHARS.sub("_", host)
    if base.startswith("."):
        base = "_" + base[1:]
    name = base + ".json"
    for number in itertools.count(2):
        if name not in taken:
            return name
        name = f"{base}-{number}.json"


def report_files(context, reports):
    """File name -> text, for every file of one report."""
    files = {}
    for report in reports:
        name = host_file_name(report["host"], files)
        files[name] = json.dumps(report, indent=2, ensure_ascii=False) + "\n"
    files["summary.md"] = render_markdown(context, reports)
    files["summary.html"] = render_html(context, reports)
    files["junit.xml"] = render_junit(context, reports)
    return files


def create_report_dir(dest, stamp):
    """A new directory named after the time; a suffix keeps two runs in one second apart."""
    os.makedirs(dest, exist_ok=True)
    for number in itertools.count(1):
        path = os.path.join(dest, stamp if number == 1 else f"{stamp}-{number}")
        try:
            os.mkdir(path)
            return path
        except FileExistsError:
            continue


def write_files(directory, files):
    for name, text in files.items():
        with open(os.path.join(directory, name), "w", encoding="utf-8", newline="\n") as stream:
            stream.write(text)


def point_latest_at(dest, report_dir):
    """Swap the ``latest`` symlink in one rename, so a reader never finds it missing.

    The link is relative, so a copied or moved dest keeps working.
    """
    link = os.path.join(dest, LATEST_LINK)
    if os.path.lexists(link) and not os.path.islink(link):
        raise OSError(f"{link} exists and is not a symlink")
    staging = os.path.join(dest, f".{LATEST_LINK}.{os.getpid()}")
    if os.path.lexists(staging):
        os.unlink(staging)
    os.symlink(os.path.basename(report_dir), staging)
    os.replace(staging, link)


def write_report(dest, stamp, files):
    """Write every file, then move ``latest``: it only ever points at a whole report."""
    report_dir = create_report_dir(dest, stamp)
    write_files(report_dir, files)
    point_latest_at(dest, report_dir)
    return report_dir


def utc_now():
    return datetime.datetime.now(datetime.UTC)


def controller_user():
    """The controller user; a numeric uid in containers without a passwd entry for it."""
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return f"uid {os.getuid()}"


def stopped_hosts(task_vars):
    """Hosts of the play that failed or were unreachable before this task ran."""
    active = set(task_vars.get("ansible_play_hosts") or ())
    return set(task_vars.get("ansible_play_hosts_all") or ()) - active


def read_host_findings(hostvars, host, findings_var, warnings):
    """What the host holds in the findings variable, or None; no other variable is read."""
    if host not in hostvars:
        warnings.append(f"host {host} is not in the inventory")
        return None
    host_vars = hostvars[host]
    if findings_var not in host_vars:
        return None
    try:
        return host_vars[findings_var]
    except AnsibleError as error:
        warnings.append(f"host {host}: {findings_var} cannot be read: {error}")
        return None


def uncatalogued_warnings(reports):
    return [
        f"control {control_id} is not in the catalog (reported by {', '.join(hosts)});"
        f" it is kept with the title {NOT_IN_CATALOG}"
        for control_id, hosts in uncatalogued_controls(reports).items()
    ]


def run_summary(report_dir, reports):
    """The task result: where the report is, and the totals; never ``changed``."""
    totals = aggregate_totals(reports)
    summary = {
        "report_dir": report_dir,
        "totals": totals,
        "failed_controls": totals[FAIL],
        "hosts_without_findings": [
            report["host"] for report in reports if not report["findings_collected"]
        ],
        "incomplete_hosts": [
            report["host"] for report in reports if report["run_completed"] is False
        ],
    }
    result = dict(summary, changed=False)
    result["hosts"] = {report["host"]: report["totals"] for report in reports}
    result["msg"] = (
        f"report written to {report_dir}: {totals[FAIL]} failed controls on {len(reports)} hosts"
    )
    # AWX keeps custom stats as the job's artifacts.
    result["ansible_stats"] = {"data": {STATS_KEY: summary}, "per_host": False}
    return result


class ActionModule(ActionBase):
    """Write the compliance report; the options are in plugins/modules/compliance_report.py.

    The report is evidence on the controller, not a change to a managed host, so the
    result is never ``changed`` and a playbook's idempotence check stays meaningful.
    For the same reason it is written in check mode too.
    """

    TRANSFERS_FILES = False
    _requires_connection = False
    _supports_check_mode = True

    def run(self, tmp=None, task_vars=None):
        task_vars = task_vars or {}
        result = super().run(tmp, task_vars)
        del tmp

        args = self._arguments(task_vars)
        root = collection_root()
        catalog = self._catalog(args["catalog"] or os.path.join(root, CATALOG_PATH))
        moment = utc_now()
        identity = read_collection_identity(root)
        context = report_context(identity, args["mode"], controller_user(), moment)

        warnings = self._run_once_warnings(task_vars)
        reports = self._host_reports(args, task_vars, catalog, context, warnings)
        warnings += uncatalogued_warnings(reports)
        report_dir = self._write(args["dest"], moment, report_files(context, reports))

        result.update(run_summary(report_dir, reports))
        if warnings:
            result["warnings"] = warnings
        return result

    def _arguments(self, task_vars):
        """The validated arguments; hosts and mode come from the play when not given."""
        _, args = self.validate_argument_spec(argument_spec=ARGUMENT_SPEC)
        if not args["dest"].strip():
            raise AnsibleActionFail("dest must name the directory that receives the report")
        # Relative to the playbook directory, as for the other controller-side paths.
        args["dest"] = self._loader.path_dwim(args["dest"])
        if args["catalog"]:
            args["catalog"] = self._loader.path_dwim(args["catalog"])
        args["hosts_given"] = args["hosts"] is not None
        if not args["hosts_given"]:
            args["hosts"] = [str(host) for host in task_vars.get("ansible_play_hosts_all") or ()]
        if not args["hosts"]:
            raise AnsibleActionFail("hosts is empty and so is the play: no host to report")
        if args["mode"] is None:
            args["mode"] = self._mode_of_run(task_vars)
        return args

    def _mode_of_run(self, task_vars):
        mode = self._templar.template(task_vars.get("erp_baseline_mode", "enforce"))
        if mode not in MODES:
            raise AnsibleActionFail(
                f"mode is not set and erp_baseline_mode is {mode!r}, not one of {', '.join(MODES)}"
            )
        return mode

    @staticmethod
    def _catalog(path):
        try:
            return load_catalog(path)
        except (OSError, TypeError, ValueError, yaml.YAMLError) as error:
            raise AnsibleActionFail(f"catalog {path} cannot be used: {error}") from error

    def _run_once_warnings(self, task_vars):
        if self._task.run_once or len(task_vars.get("ansible_play_batch") or ()) < 2:
            return []
        return ["compliance_report writes one report per host of the play: set run_once: true"]

    @staticmethod
    def _host_reports(args, task_vars, catalog, context, warnings):
        # Which hosts stopped is known only when the hosts are this play's own.
        stopped = None if args["hosts_given"] else stopped_hosts(task_vars)
        hostvars = task_vars.get("hostvars") or {}
        reports = []
        for host in args["hosts"]:
            raw = read_host_findings(hostvars, host, args["findings_var"], warnings)
            completed = None if stopped is None else host not in stopped
            report, problems = build_host_report(host, raw, catalog, context, completed)
            reports.append(report)
            warnings += problems
        return reports

    @staticmethod
    def _write(dest, moment, files):
        try:
            return write_report(dest, moment.strftime(STAMP_FORMAT), files)
        except OSError as error:
            raise AnsibleActionFail(
                f"dest {dest}: the report cannot be written: {error}"
            ) from error
