"""`cmake --install` lays out binaries, systemd units and completions where a distribution expects them."""
import os
import subprocess

from conftest import BIN


def test_install_layout(workdir):
    prefix = os.path.join(workdir, "usr")
    subprocess.run(["cmake", "--install", BIN, "--prefix", prefix], check=True, capture_output=True)
    for path in ["bin/hvterm", "bin/hvtermd", "lib/systemd/system/hvtermd.service",
                 "lib/systemd/system/hvtermd.socket"]:
        assert os.path.exists(os.path.join(prefix, path)), path
    assert os.access(os.path.join(prefix, "bin/hvtermd"), os.X_OK)
    with open(os.path.join(prefix, "lib/systemd/system/hvtermd.service")) as f:
        unit = f.read()
    # The unit names the hvtermd this install put in place, whatever prefix the build was configured with.
    assert "@" not in unit and f"\nExecStart={prefix}/bin/hvtermd\n" in unit, unit
    with open(os.path.join(prefix, "lib/systemd/system/hvtermd.socket")) as f:
        assert "ListenStream=vsock::18518" in f.read()
