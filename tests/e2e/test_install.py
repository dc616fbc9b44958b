# test_install.py: what an operator installs and runs: `make install` into a DESTDIR and `make
# uninstall` out of it, the systemd unit it installs, and pccd's readiness notification that the
# unit's Type=notify waits for.
import os
import shutil
import signal
import socket
import subprocess

import pytest

from conftest import BIN_DIR, REPO, TIMEOUT, sqlite_only

pytestmark = sqlite_only  # nothing here depends on the database backend


def make(*args):
    # The binaries under test: the sanitizer build in `make check`, the plain one otherwise.
    san = ["SAN=1"] if BIN_DIR == (REPO / "build" / "san").resolve() else []
    p = subprocess.run(["make", "--no-print-directory", "-C", str(REPO), *san, *args],
                       capture_output=True, text=True, timeout=600)
    assert p.returncode == 0, f"make {' '.join(args)} failed:\n{p.stdout}\n{p.stderr}"
    return p


def files_under(root):
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if not p.is_dir())


def test_make_install_puts_everything_under_prefix_and_uninstall_removes_it(tmp_path):
    dest = tmp_path / "dest"
    make("install", f"DESTDIR={dest}", "PREFIX=/usr")
    installed = files_under(dest)
    for path in ["usr/bin/pccd", "usr/bin/pipecat", "usr/bin/pcc",
                 "lib/systemd/system/pccd.service", "etc/default/pccd",
                 "usr/share/man/man1/pccd.1", "usr/share/man/man1/pipecat.1",
                 "usr/share/doc/pcc/LICENSE"]:
        assert path in installed, f"{path} not installed: {installed}"
    assert (dest / "usr/bin/pccd").read_bytes() == (BIN_DIR / "pccd").read_bytes()
    assert os.readlink(dest / "usr/bin/pcc") == "pipecat"
    assert os.stat(dest / "usr/bin/pccd").st_mode & 0o777 == 0o755
    # The installed CLI is the CLI: under the name pcc it acts as `pipecat cloud`.
    p = subprocess.run([str(dest / "usr/bin/pcc"), "--help"], capture_output=True, text=True,
                       timeout=TIMEOUT)
    assert p.returncode == 0 and "auth" in p.stdout, p
    man = (dest / "usr/share/man/man1/pccd.1").read_text()
    assert ".TH PCCD" in man and "serve" in man

    unit = (dest / "lib/systemd/system/pccd.service").read_text()
    assert "ExecStart=/usr/bin/pccd serve" in unit and "@BINDIR@" not in unit
    for hardening in ["Type=notify", "User=pccd", "NoNewPrivileges=yes",
                      "ProtectSystem=strict", "StateDirectory=pccd"]:
        assert hardening in unit, hardening

    make("uninstall", f"DESTDIR={dest}", "PREFIX=/usr")
    assert files_under(dest) == [], "uninstall left files behind"


def test_prefix_is_honoured_in_the_unit(tmp_path):
    dest = tmp_path / "dest"
    make("install", f"DESTDIR={dest}", "PREFIX=/opt/pcc")
    unit = (dest / "opt/pcc/lib/systemd/system/pccd.service").read_text()
    assert "ExecStart=/opt/pcc/bin/pccd serve" in unit
    assert "ExecStartPre=/opt/pcc/bin/pccd init" in unit
    assert (dest / "opt/pcc/etc/default/pccd").is_file()


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="needs systemd-analyze")
def test_the_unit_passes_systemd_analyze_verify(tmp_path):
    dest = tmp_path / "dest"
    make("install", f"DESTDIR={dest}", "PREFIX=/usr")
    unit = dest / "lib/systemd/system/pccd.service"
    # verify resolves ExecStart; point it at the installed binary.
    text = unit.read_text().replace("/usr/bin/pccd", str(dest / "usr/bin/pccd"))
    unit.write_text(text)
    p = subprocess.run(["systemd-analyze", "verify", "--man=no", str(unit)],
                       capture_output=True, text=True, timeout=TIMEOUT)
    assert p.returncode == 0, p.stdout + p.stderr


def test_pccd_tells_systemd_it_is_ready_and_stopping(tmp_path):
    data = tmp_path / "data"
    subprocess.run([str(BIN_DIR / "pccd"), "init", "--data", str(data)], check=True,
                   capture_output=True, timeout=TIMEOUT)
    sock_path = tmp_path / "notify.sock"
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(str(sock_path))
    sock.settimeout(TIMEOUT)
    env = dict(os.environ, NOTIFY_SOCKET=str(sock_path))
    proc = subprocess.Popen([str(BIN_DIR / "pccd"), "serve", "--data", str(data), "--listen",
                             "127.0.0.1:0"], env=env, stderr=subprocess.PIPE, text=True)
    try:
        ready = sock.recv(4096).decode()
        assert "READY=1" in ready, ready
        # Ready means serving: the address is printed and a request is answered.
        line = proc.stderr.readline()
        while "listening on" not in line:
            assert line, "pccd exited before listening"
            line = proc.stderr.readline()
        port = int(line.rsplit(":", 1)[1])
        assert f":{port}" in ready, ready
        with socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT) as c:
            c.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            assert c.recv(100).startswith(b"HTTP/1.1 200")
        proc.send_signal(signal.SIGTERM)
        assert "STOPPING=1" in sock.recv(4096).decode()
        assert proc.wait(timeout=TIMEOUT) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait()
        sock.close()
