"""Run a scenario's playbooks again from its verify step, as a user would.

Verify steps re-run converge in audit mode, with bad input or at -vvv, and read what
Ansible printed. Molecule forces colour, and escape codes would split the recap's
"changed=0", so colour is off here.
"""

import json
import os
import pathlib
import subprocess

PROJECT = pathlib.Path(os.environ.get("MOLECULE_PROJECT_DIRECTORY", ".")).resolve()
INVENTORY = os.environ.get("MOLECULE_INVENTORY_FILE", "")


def run_playbook(playbook, *args, report_dir, extra_vars=None):
    """ansible-playbook against the scenario's inventory; reports go to report_dir."""
    env = dict(os.environ)
    env["ANSIBLE_COLLECTIONS_PATH"] = str(PROJECT / ".collections")
    env.pop("ANSIBLE_FORCE_COLOR", None)
    env["ANSIBLE_NOCOLOR"] = "1"
    command = ["ansible-playbook", "-i", INVENTORY, str(playbook), *args]
    command += ["-e", json.dumps(dict(extra_vars or {}, erp_baseline_report_dir=str(report_dir)))]
    return subprocess.run(command, capture_output=True, text=True, env=env, cwd=str(PROJECT),
                          timeout=900, check=False)
