"""The man pages (man/*.scd, rendered by scdoc at build time) against what the programs say of
themselves: every command and option that --help lists is documented, every option documented
exists, and `cmake --install` puts each page where man finds it, with its program's component."""
import os
import re
import subprocess
import tempfile

import pytest

BIN = os.path.abspath(os.environ.get("HVTERM_BIN_DIR", os.path.join(os.path.dirname(__file__), "..", "..", "build")))
ENV = {"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8", "HVTERM_NO_VSOCK": "1"}


def run(*args):
    return subprocess.run(args, capture_output=True, check=True, env=ENV, timeout=120).stdout.decode()


def rendered(page):
    """The page as man shows it, as plain text (groff -ww: any formatting warning fails the test)."""
    path = os.path.join(BIN, "man", page)
    assert os.path.exists(path), path
    out = subprocess.run(["groff", "-man", "-Tascii", "-ww", "-P-c", "-P-b", "-P-u", "-P-o", "-rLL=250n", path],
                         capture_output=True, check=True, timeout=60)
    assert out.stderr == b"", out.stderr
    return out.stdout.decode()


def section(text, name):
    """The body of one SECTION of a rendered page."""
    match = re.search(r"^" + name + r"\n(.*?)(?=^[A-Z][A-Z ]+\n|\Z)", text, re.M | re.S)
    assert match, name
    return match.group(1)


def help_options(help_text):
    """-x and --long names from a CLI11 --help's Options section."""
    block = help_text.split("Options:\n")[1].split("\n\n")[0]
    names = set()
    for line in block.splitlines():
        match = re.match(r"^  (\S+)", line)
        if match:
            names.update(n for n in re.split(r"[ ,]", match.group(1)) if n.startswith("-"))
    return names


def hvterm_commands():
    text = run(os.path.join(BIN, "hvterm"), "--help")
    return re.findall(r"^  (\S+)\s", text.split("Subcommands:\n")[1].split("\n\n")[0], re.M)


def documented_options(text):
    """Option names that head an entry of the OPTIONS section."""
    names = set()
    for line in section(text, "OPTIONS").splitlines():
        if re.match(r"^       -", line):
            names.update(re.findall(r"(?<![\w-])(--?[a-zA-Z][\w-]*)", line))
    return names


def test_hvterm_1_documents_every_command_and_option():
    page = rendered("hvterm.1")
    assert page.startswith("hvterm(1)")
    commands = hvterm_commands()
    assert "exec" in commands and "shell" in commands
    documented_commands = section(page, "COMMANDS")
    wanted = set()
    for command in commands:
        assert re.search(r"^       " + re.escape(command) + r"\b", documented_commands, re.M), command
        assert re.search(r"hvterm " + re.escape(command) + r"\b", section(page, "SYNOPSIS")), command
        wanted |= help_options(run(os.path.join(BIN, "hvterm"), command, "--help"))
    wanted |= help_options(run(os.path.join(BIN, "hvterm"), "--help"))
    documented = documented_options(page)
    assert wanted - documented == set(), "in --help, not in hvterm(1)"
    assert documented - wanted == set(), "in hvterm(1), not in any --help"


def test_hvtermd_8_documents_every_option():
    page = rendered("hvtermd.8")
    assert page.startswith("hvtermd(8)")
    wanted = help_options(run(os.path.join(BIN, "hvtermd"), "--help"))
    assert "--listen" in wanted
    documented = documented_options(page)
    assert wanted - documented == set(), "in --help, not in hvtermd(8)"
    assert documented - wanted == set(), "in hvtermd(8), not in --help"


def test_hvterm_config_5_documents_every_key_and_its_example_is_valid():
    page = rendered("hvterm-config.5")
    assert page.startswith("hvterm-config(5)")
    # hvterm lists the keys it knows when it meets one it does not.
    with tempfile.TemporaryDirectory() as d:
        probe = os.path.join(d, "probe")
        with open(probe, "w") as f:
            f.write('[x]\nno-such-key = 1\n')
        r = subprocess.run([os.path.join(BIN, "hvterm"), "config", "-F", probe], capture_output=True, env=ENV, timeout=60)
        known = re.search(r"\(known: (.*)\)", r.stderr.decode()).group(1).split(", ")
        assert "target" in known and "keepalive" in known
        entries = section(page, "SETTINGS")
        documented = set()
        for line in entries.splitlines():
            if re.match(r"^       [a-z]", line):
                documented.update(re.findall(r"\b([a-z][a-z-]+)\b(?=[ ,=])", line.split("=")[0] + " "))
        assert set(known) == documented, (known, documented)
        # The EXAMPLE is a file hvterm reads as the page says.
        with open(os.path.join(os.path.dirname(__file__), "..", "..", "man", "hvterm-config.5.scd")) as f:
            example = f.read().split("# EXAMPLE\n\n```\n")[1].split("```")[0]
        path = os.path.join(d, "config")
        with open(path, "w") as f:
            f.write(example)
        out = run(os.path.join(BIN, "hvterm"), "config", "-F", path, "web1")
        assert re.search(r"^target +vsock:3 ", out, re.M) and re.search(r"^escape +\^\] ", out, re.M), out
        out = run(os.path.join(BIN, "hvterm"), "config", "-F", path, "fc1")
        assert re.search(r"^token-file +" + re.escape(os.path.join(d, "fc1.token")) + " ", out, re.M), out
        assert run(os.path.join(BIN, "hvterm"), "config", "-F", path, "--names").split() == ["build-vm", "fc1", "web1"]


@pytest.mark.parametrize("component,pages", [("hvterm", ["man1/hvterm.1.gz", "man5/hvterm-config.5.gz"]),
                                             ("hvtermd", ["man8/hvtermd.8.gz"])])
def test_cmake_install_puts_each_page_with_its_program(component, pages):
    with tempfile.TemporaryDirectory() as prefix:
        run("cmake", "--install", BIN, "--prefix", prefix, "--component", component)
        installed = sorted(os.path.relpath(os.path.join(d, f), os.path.join(prefix, "share", "man"))
                           for d, _, files in os.walk(os.path.join(prefix, "share", "man")) for f in files)
        assert installed == pages
        # man finds it by name under that prefix.
        for page in pages:
            name = os.path.basename(page).split(".")[0]
            shown = subprocess.run(["man", "-M", os.path.join(prefix, "share", "man"), "-P", "cat", name],
                                   capture_output=True, env={**ENV, "MANWIDTH": "100"}, timeout=60)
            assert shown.returncode == 0 and b"NAME" in shown.stdout, (page, shown.stderr)
