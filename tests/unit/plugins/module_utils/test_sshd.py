"""The sshd rules the lockout check and the findings depend on."""

import pytest

from ansible_collections.groundwork.erp_baseline.plugins.module_utils import sshd


def test_admission_refuses_a_user_outside_allowgroups():
    problems = sshd.admission_problems("deploy", ["deploy", "sudo"],
                                       {"AllowGroups": ["sshusers"]})
    assert problems == ["user deploy is in none of the AllowGroups groups (sshusers); "
                        "its groups: deploy, sudo"]


def test_admission_accepts_a_member_and_matches_patterns():
    assert sshd.admission_problems("ann", ["ssh-admins"], {"AllowGroups": "ssh-*"}) == []
    assert sshd.admission_problems("ann", ["wheel"], {"AllowUsers": ["a?n@192.0.2.*"]}) == []


@pytest.mark.parametrize("settings, reason", [
    ({"DenyUsers": ["ann"]}, "listed in DenyUsers"),
    ({"AllowUsers": ["bob"]}, "not in AllowUsers"),
    ({"DenyGroups": ["contractors"]}, "in a DenyGroups group"),
])
def test_admission_follows_every_access_keyword(settings, reason):
    problems = sshd.admission_problems("ann", ["contractors"], settings)
    assert len(problems) == 1 and reason in problems[0]


def test_root_is_refused_when_permitrootlogin_is_no():
    assert sshd.admission_problems("root", ["root"], {"PermitRootLogin": "no"}) == [
        "user root would be refused by PermitRootLogin no"]


def test_render_dropin_is_stable_and_typed():
    text = sshd.render_dropin({"PermitRootLogin": "no", "Ciphers": ["a", "b"],
                               "AllowGroups": ["x", "y"], "X11Forwarding": False},
                              ["/etc/ssh/ssh_host_ed25519_key"], "# header")
    assert text == ("# header\n\nHostKey /etc/ssh/ssh_host_ed25519_key\nAllowGroups x y\n"
                    "Ciphers a,b\nPermitRootLogin no\nX11Forwarding no\n")


def test_effective_output_joins_repeated_keywords():
    effective = sshd.parse_effective("allowgroups a\nallowgroups b\nciphers x,y\nbanner /e/i\n")
    assert effective == {"allowgroups": "a b", "ciphers": "x,y", "banner": "/e/i"}


def test_differences_normalise_durations_and_case():
    effective = {"logingracetime": "60", "passwordauthentication": "no", "banner": "/etc/Issue"}
    settings = {"LoginGraceTime": "1m", "PasswordAuthentication": False, "Banner": "/etc/Issue"}
    assert sshd.differences(settings, effective) == {}
    assert sshd.differences({"PermitRootLogin": "no"}, {"permitrootlogin": "yes"}) == {
        "PermitRootLogin": ("no", "yes")}
    assert sshd.differences({"MaxAuthTries": 3}, {}) == {"MaxAuthTries": ("3", "(unset)")}


def test_unknown_algorithms_are_named():
    known = {"kex": {"curve25519-sha256"}, "cipher": {"aes256-ctr"}}
    settings = {"KexAlgorithms": ["curve25519-sha256", "diffie-hellman-group1-sha1"],
                "Ciphers": "aes256-ctr", "MACs": ["hmac-md5"]}
    assert sshd.unknown_algorithms(settings, known) == {
        "KexAlgorithms": ["diffie-hellman-group1-sha1"]}


def test_control_mapping():
    assert sshd.control_for("PasswordAuthentication") == "GW-SSH-004"
    assert sshd.control_for("kexalgorithms") == "GW-SSH-001"
    assert sshd.control_for("PrintMotd") == sshd.OTHER_SETTINGS_CONTROL


def test_weak_moduli_are_removed_and_comments_kept():
    text = ("# Time Type Tests Tries Size Generator Modulus\n"
            "20230101 2 6 100 2047 2 AAAA\n"
            "20230101 2 6 100 3071 2 BBBB\n"
            "20230101 2 6 100 4095 5 CCCC\n")
    kept, removed = sshd.weak_moduli(text, 3072)
    assert removed == 1
    assert "AAAA" not in kept and "BBBB" in kept and kept.startswith("# Time")
