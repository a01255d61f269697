"""hvtermd's Windows service options on Linux: systemd runs the agent here, so --install-service,
--uninstall-service and --service each fail with one line naming the systemd way, and listen on
nothing. (Under Wine's Service Control Manager they are tested in tests/windows.)"""
import os
import subprocess

import pytest

from conftest import HVTERMD, BASE_ENV, TIMEOUT


@pytest.mark.parametrize("option,code,words", [
    ("--install-service", 1, b"--install-service is for Windows; here systemd runs the agent: "
                             b"systemctl enable --now hvtermd.socket"),
    ("--uninstall-service", 1, b"--uninstall-service is for Windows; here: systemctl disable --now"),
    ("--service", 2, b"--service is for Windows; systemd (hvtermd.service)"),
])
def test_windows_service_options_point_to_systemd(workdir, option, code, words):
    sock = os.path.join(workdir, "agent.sock")
    r = subprocess.run([HVTERMD, option, "--listen", "unix:" + sock], capture_output=True, timeout=TIMEOUT,
                       env=BASE_ENV)
    assert r.returncode == code and r.stderr.startswith(b"hvtermd: " + words), r.stderr
    assert r.stderr.count(b"\n") == 1 and r.stdout == b""
    assert not os.path.exists(sock)


def test_a_bad_option_is_refused_before_a_service_is_installed(workdir):
    r = subprocess.run([HVTERMD, "--install-service", "--listen", "unix:" + os.path.join(workdir, "a.sock"),
                        "--linger", "forever"], capture_output=True, timeout=TIMEOUT, env=BASE_ENV)
    assert r.returncode == 2 and b"--linger" in r.stderr and b"Windows" not in r.stderr, r.stderr


def test_install_and_uninstall_together_are_a_usage_error():
    r = subprocess.run([HVTERMD, "--install-service", "--uninstall-service"], capture_output=True, timeout=TIMEOUT,
                       env=BASE_ENV)
    assert r.returncode == 2 and b"--install-service excludes --uninstall-service" in r.stderr, r.stderr
