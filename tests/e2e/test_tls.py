# test_tls.py: `pccd serve --tls-cert --tls-key`: HTTPS with a throwaway test CA made here by the
# openssl tool. The CLI over https:// trusting that CA through SSL_CERT_FILE / CURL_CA_BUNDLE
# (and failing clearly without it), the whole OAuth login with https:// endpoints, the limits
# over TLS, a plain-HTTP request to the TLS port, and the refusals of bad certificate/key files.
import re
import shutil
import socket
import ssl
import subprocess
import time
import urllib.parse

import pytest
import toml

from conftest import (ALICE, BIN_DIR, TIMEOUT, Cli, assert_no_sanitizer_report, http_request,
                      raw_http, tls_context)
from test_oauth import FORM, sign_in
from test_oauth_cli import RUNNING, browser_consent, no_login_left_behind  # noqa: F401

HTTPS_URL_RE = re.compile(r"(https://\S+/oauth/authorize\?\S+)")


def openssl(*args, cwd):
    p = subprocess.run(["openssl", *args], cwd=cwd, capture_output=True, text=True,
                       timeout=TIMEOUT)
    assert p.returncode == 0, p.stderr


def make_ca(d, name):
    openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
            "-keyout", f"{name}.key", "-out", f"{name}.pem", "-days", "2",
            "-subj", f"/CN=pcc e2e {name}", "-addext", "basicConstraints=critical,CA:TRUE",
            "-addext", "keyUsage=critical,keyCertSign,cRLSign", cwd=d)
    return d / f"{name}.pem"


def make_leaf(d, ca, name, san="IP:127.0.0.1,DNS:localhost"):
    openssl("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
            "-keyout", f"{name}.key", "-out", f"{name}.csr", "-subj", "/CN=127.0.0.1", cwd=d)
    (d / f"{name}.ext").write_text(f"subjectAltName={san}\nbasicConstraints=CA:FALSE\n"
                                   "extendedKeyUsage=serverAuth\n")
    openssl("x509", "-req", "-in", f"{name}.csr", "-CA", f"{ca}.pem", "-CAkey", f"{ca}.key",
            "-CAcreateserial", "-out", f"{name}.pem", "-days", "2", "-extfile", f"{name}.ext",
            cwd=d)
    (d / f"{name}.key").chmod(0o600)
    return d / f"{name}.pem", d / f"{name}.key"


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    """A test CA with a certificate for 127.0.0.1, and a second CA that signed nothing here."""
    d = tmp_path_factory.mktemp("pki")
    ca = make_ca(d, "ca")
    other_ca = make_ca(d, "other")
    cert, key = make_leaf(d, "ca", "server")
    return {"dir": d, "ca": ca, "other_ca": other_ca, "cert": cert, "key": key}


def tls_args(pki, cert=None, key=None):
    return ["--tls-cert", str(cert or pki["cert"]), "--tls-key", str(key or pki["key"])]


@pytest.fixture
def tls_server(make_server, pki):
    s = make_server(serve_args=tls_args(pki), start=False)
    s.ca_file = pki["ca"]
    return s.start()


@pytest.fixture
def tls_cli(tls_server, pki, tmp_path):
    return Cli(tls_server, tmp_path / "home")


def serve_fails(make_server, args, env=None):
    """Run `pccd serve` that must refuse to start; (exit status, stderr)."""
    s = make_server(start=False)
    p = subprocess.run([str(BIN_DIR / "pccd"), "serve", *s.storage_args(), "--listen",
                        "127.0.0.1:0", *args], capture_output=True, text=True, timeout=TIMEOUT,
                       env={**s.env, **(env or {})})
    assert_no_sanitizer_report(p.stderr, "pccd serve")
    assert "listening" not in p.stderr, p.stderr
    return p.returncode, p.stderr


def assert_no_key_material(text, pki):
    assert "PRIVATE KEY" not in text, text
    for line in pki["key"].read_text().splitlines():
        if not line.startswith("-----"):
            assert line not in text, "the key's PEM text was printed"


# --- the server ---------------------------------------------------------------------------


def test_https_is_served_and_advertised(tls_server):
    assert tls_server.url.startswith("https://127.0.0.1:"), tls_server.url
    conf = tls_server.get("/auth/config", token=None)
    assert conf.status == 200 and conf.body["issuer"] == tls_server.url, conf
    oidc = tls_server.get("/.well-known/openid-configuration", token=None)
    assert oidc.body["issuer"] == tls_server.url
    for k in ("authorization_endpoint", "token_endpoint", "revocation_endpoint"):
        assert oidc.body[k].startswith(tls_server.url + "/oauth/"), oidc.body
    assert conf.header("Strict-Transport-Security") == "max-age=31536000", conf.headers
    # A token works as over HTTP.
    assert tls_server.get("/v1/organizations").status == 200


def test_hsts_is_not_sent_to_localhost(tls_server):
    r = tls_server.get("/healthz", token=None, headers={"Host": f"localhost:{tls_server.port}"})
    assert r.status == 200 and r.header("Strict-Transport-Security") is None, r.headers


def test_public_url_still_wins(make_server, pki):
    s = make_server(serve_args=tls_args(pki) + ["--public-url", "https://pcc.example.com/"],
                    start=False)
    s.ca_file = pki["ca"]
    s.start()
    assert s.get("/auth/config", token=None).body["issuer"] == "https://pcc.example.com"


def test_the_dashboard_cookies_are_secure(tls_server, server):
    def cookie(srv):
        page = http_request(srv.url, "GET", "/signin", check_json=False)
        return next(v for k, v in page.headers if k.lower() == "set-cookie")
    assert "; Secure" in cookie(tls_server)
    assert "; Secure" not in cookie(server)  # plain HTTP keeps them usable on http://


@pytest.mark.filterwarnings("ignore:ssl.TLSVersion:DeprecationWarning")
def test_only_tls_1_2_and_1_3(tls_server, pki):
    host, port = "127.0.0.1", tls_server.port
    for version, name in ((ssl.TLSVersion.TLSv1_2, "TLSv1.2"), (ssl.TLSVersion.TLSv1_3,
                                                                 "TLSv1.3")):
        ctx = ssl.create_default_context(cafile=str(pki["ca"]))
        ctx.minimum_version = ctx.maximum_version = version
        with socket.create_connection((host, port), timeout=TIMEOUT) as raw:
            with ctx.wrap_socket(raw, server_hostname=host) as s:
                assert s.version() == name
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    ctx.set_ciphers("DEFAULT:@SECLEVEL=0")
    ctx.minimum_version = ssl.TLSVersion.TLSv1
    ctx.maximum_version = ssl.TLSVersion.TLSv1_1
    with socket.create_connection((host, port), timeout=TIMEOUT) as raw:
        with pytest.raises(ssl.SSLError):
            ctx.wrap_socket(raw, server_hostname=host)
    assert tls_server.get("/healthz", token=None).status == 200


def tls_raw(server, data):
    """Send raw bytes over TLS; (status, everything read until the server closes)."""
    with socket.create_connection(("127.0.0.1", server.port), timeout=TIMEOUT) as raw:
        with tls_context(server.url).wrap_socket(raw, server_hostname="127.0.0.1") as s:
            s.sendall(data)
            chunks = []
            while True:
                try:
                    chunk = s.recv(65536)
                except (ConnectionResetError, ssl.SSLError):
                    break
                if not chunk:
                    break
                chunks.append(chunk)
    out = b"".join(chunks)
    m = re.match(rb"HTTP/1\.[01] (\d{3})", out)
    return (int(m.group(1)) if m else None), out


def test_limits_hold_over_tls(tls_server):
    big = tls_server.get("/healthz", token=None, headers={"X-Padding": "a" * 9000})
    assert big.status == 431 and big.body["code"] == "431", big
    r = tls_server.request("POST", "/v1/users/me/tokens", body="x" * (65 * 1024),
                           headers={"Content-Type": "application/json"})
    assert r.status == 413, r
    # Refused from the declared length alone, before any of the body is read.
    status, _ = tls_raw(tls_server, b"POST /v1/users/me/tokens HTTP/1.1\r\nHost: x\r\n"
                        b"Content-Length: 70000\r\nConnection: close\r\n\r\n")
    assert status == 413


def test_idle_tls_connections_time_out(make_server, pki):
    s = make_server(serve_args=tls_args(pki) + ["--timeout", "1"], start=False)
    s.ca_file = pki["ca"]
    s.start()
    t0 = time.monotonic()
    with socket.create_connection(("127.0.0.1", s.port), timeout=TIMEOUT) as raw:
        # No handshake at all: the server must not wait for ever.
        assert raw.recv(1) == b""
    assert time.monotonic() - t0 < 10
    # After the handshake, libmicrohttpd's own idle timeout.
    t0 = time.monotonic()
    with socket.create_connection(("127.0.0.1", s.port), timeout=TIMEOUT) as raw:
        with tls_context(s.url).wrap_socket(raw, server_hostname="127.0.0.1") as conn:
            assert conn.recv(1) == b""
    assert time.monotonic() - t0 < 10
    assert s.get("/healthz", token=None).status == 200


def test_plain_http_to_the_tls_port(tls_server):
    for _ in range(3):
        status, out = raw_http(tls_server.url.replace("https://", "http://"),
                               b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        assert status is None, out  # no HTTP answer in the clear
    assert tls_server.get("/healthz", token=None).status == 200
    assert tls_server.proc.poll() is None
    tls_server.sync_log()
    assert "info http: a TLS handshake failed (plain HTTP sent to this HTTPS port" \
        in tls_server.stderr, tls_server.stderr


# --- the CLI ------------------------------------------------------------------------------


def test_cli_with_the_test_ca(tls_cli, pki):
    env = {"PIPECAT_TOKEN": tls_cli.server.token, "SSL_CERT_FILE": str(pki["ca"])}
    who = tls_cli.cloud("auth", "whoami", env=env)
    assert who.returncode == 0, who
    assert ALICE in who.stdout and "Auth Method: PAT" in who.stdout, who.stdout
    # CURL_CA_BUNDLE works the same (the curl tool's variable; libcurl itself ignores it).
    env = {"PIPECAT_TOKEN": tls_cli.server.token, "CURL_CA_BUNDLE": str(pki["ca"])}
    orgs = tls_cli.cloud("organizations", "list", env=env)
    assert orgs.returncode == 0, orgs
    assert "acme" in orgs.stdout
    # use-pat stores the token; later commands over https read it from the file.
    tls_cli.use_pat(env={"SSL_CERT_FILE": str(pki["ca"])})
    assert tls_cli.cloud("auth", "status", env={"SSL_CERT_FILE": str(pki["ca"])}).returncode == 0


def test_cli_with_the_test_ca_in_a_certificate_directory(tls_cli, pki, tmp_path):
    """SSL_CERT_DIR (OpenSSL's hashed directory) adds its CAs to the system's."""
    certs = tmp_path / "certs"
    certs.mkdir()
    shutil.copy(pki["ca"], certs / "test-ca.pem")
    subprocess.run(["openssl", "rehash", str(certs)], check=True, capture_output=True)
    env = {"PIPECAT_TOKEN": tls_cli.server.token, "SSL_CERT_DIR": str(certs)}
    who = tls_cli.cloud("auth", "whoami", env=env)
    assert who.returncode == 0, who
    assert ALICE in who.stdout, who.stdout
    # A directory without the CA: refused, and the message names the directory.
    empty = tmp_path / "empty"
    empty.mkdir()
    p = tls_cli.cloud("auth", "whoami", env={"PIPECAT_TOKEN": tls_cli.server.token,
                                             "SSL_CERT_DIR": str(empty)})
    assert p.returncode == 1, p
    assert "could not be verified" in p.stderr and str(empty) in p.stderr, p.stderr


def test_cli_without_the_ca_fails_clearly(tls_cli, pki):
    host = tls_cli.server.url
    p = tls_cli.cloud("auth", "whoami", env={"PIPECAT_TOKEN": tls_cli.server.token})
    assert p.returncode == 1, p
    assert f"cannot reach {host}: the TLS certificate of 127.0.0.1 could not be verified" \
        in p.stderr, p.stderr
    assert "set SSL_CERT_FILE to that CA's PEM file" in p.stderr, p.stderr
    assert "Is the server running" not in p.stderr, p.stderr
    # The wrong CA: the message names the file it used.
    p = tls_cli.cloud("auth", "whoami", env={"PIPECAT_TOKEN": tls_cli.server.token,
                                             "SSL_CERT_FILE": str(pki["other_ca"])})
    assert p.returncode == 1, p
    assert f"could not be verified with the CA file {pki['other_ca']}" in p.stderr, p.stderr
    # A CA file that does not exist.
    missing = str(pki["dir"] / "missing.pem")
    p = tls_cli.cloud("auth", "whoami", env={"PIPECAT_TOKEN": tls_cli.server.token,
                                             "CURL_CA_BUNDLE": missing})
    assert p.returncode == 1 and f"cannot use the CA file {missing}" in p.stderr, p.stderr
    # Not one request got through to a handler with the token.
    tls_cli.server.sync_log()
    assert not [r for r in tls_cli.server.request_log() if r[1].startswith("/v1/")]
    assert tls_cli.server.token not in p.stderr


def test_cli_https_to_a_plain_server(cli, pki):
    url = cli.server.url.replace("http://", "https://")
    p = cli.cloud("auth", "whoami", env={"PIPECAT_API_HOST": url,
                                         "PIPECAT_TOKEN": cli.server.token,
                                         "SSL_CERT_FILE": str(pki["ca"])})
    assert p.returncode == 1, p
    assert "TLS handshake with 127.0.0.1 failed" in p.stderr, p.stderr
    assert "use http://" in p.stderr, p.stderr


def test_oauth_login_over_https(tls_cli, pki):
    ca = {"SSL_CERT_FILE": str(pki["ca"])}
    cookie = sign_in(tls_cli.server)
    proc = subprocess.Popen(
        [str(BIN_DIR / "pipecat"), "cloud", "auth", "login", "--no-browser"],
        stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env=tls_cli.env(ca), cwd=str(tls_cli.home))
    RUNNING.append(proc)
    err, url = "", None
    deadline = time.monotonic() + TIMEOUT
    while time.monotonic() < deadline and url is None:
        line = proc.stderr.readline()
        if not line:
            break
        err += line
        m = HTTPS_URL_RE.search(line)
        url = m.group(1) if m else None
    assert url and url.startswith(tls_cli.server.url + "/oauth/authorize?"), err
    q = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(url).query))
    assert q["code_challenge_method"] == "S256"
    status, page = browser_consent(tls_cli.server, cookie, url)
    assert status == 200 and "Signed in" in page, page
    out, rest = proc.communicate(timeout=TIMEOUT)
    err += rest
    assert_no_sanitizer_report(err, "pipecat cloud auth login")
    assert proc.returncode == 0, (out, err)
    assert "Authentication successful!" in out, out
    conf = toml.load(tls_cli.config_path)
    assert conf["token"].startswith("pcc_oat_") and conf["refresh_token"].startswith("pcc_ort_")
    who = tls_cli.cloud("auth", "whoami", env=ca)
    assert who.returncode == 0 and "Auth Method: OAuth" in who.stdout, who
    # The refresh goes over https too.
    text = re.sub(r"(?m)^token_expires_at = .*$", f"token_expires_at = {time.time() - 5.0!r}",
                  tls_cli.config_path.read_text())
    tls_cli.config_path.write_text(text)
    assert tls_cli.cloud("auth", "whoami", env=ca).returncode == 0
    assert toml.load(tls_cli.config_path)["refresh_token"] != conf["refresh_token"]
    out = tls_cli.cloud("auth", "logout", env=ca)
    assert out.returncode == 0 and "Logged out and session revoked." in out.stdout, out


def test_oauth_login_without_the_ca_fails_clearly(tls_cli):
    p = tls_cli.cloud("auth", "login", "--no-browser")
    assert p.returncode == 1, p
    assert "could not be verified" in p.stderr and "SSL_CERT_FILE" in p.stderr, p.stderr
    assert not tls_cli.config_path.exists()


# --- refusals at startup --------------------------------------------------------------------


def test_key_must_not_be_readable_by_others(make_server, pki, tmp_path):
    key = tmp_path / "open.key"
    key.write_bytes(pki["key"].read_bytes())
    key.chmod(0o644)
    rc, err = serve_fails(make_server, tls_args(pki, key=key))
    assert rc == 2, err
    assert f"the TLS key {key} must not be readable by group or others (chmod 600 it)" in err
    assert_no_key_material(err, pki)
    key.chmod(0o604)
    rc, err = serve_fails(make_server, tls_args(pki, key=key))
    assert rc == 2 and "must not be readable" in err, err


def test_bad_files_are_named(make_server, pki, tmp_path):
    missing = tmp_path / "missing.pem"
    rc, err = serve_fails(make_server, tls_args(pki, cert=missing))
    assert rc == 2 and f"cannot read the TLS certificate {missing}" in err, err

    garbage = tmp_path / "garbage.pem"
    garbage.write_text("-----BEGIN CERTIFICATE-----\nnot base64 at all\n"
                       "-----END CERTIFICATE-----\n")
    rc, err = serve_fails(make_server, tls_args(pki, cert=garbage))
    assert rc == 2 and f"the TLS certificate {garbage} holds no valid PEM certificate" in err, err

    not_a_key = tmp_path / "not.key"
    not_a_key.write_text("hello\n")
    not_a_key.chmod(0o600)
    rc, err = serve_fails(make_server, tls_args(pki, key=not_a_key))
    assert rc == 2 and f"the TLS key {not_a_key} is not an unencrypted PEM private key" in err, \
        err

    # A valid key of another certificate.
    _, other_key = make_leaf(pki["dir"], "other", "stranger")
    rc, err = serve_fails(make_server, tls_args(pki, key=other_key))
    assert rc == 2, err
    assert f"the TLS key {other_key} does not belong to the certificate {pki['cert']}" in err, err
    assert_no_key_material(err, pki)

    rc, err = serve_fails(make_server, ["--tls-cert", str(pki["cert"])])
    assert rc == 2 and "--tls-cert and --tls-key go together" in err, err
    rc, err = serve_fails(make_server, [], env={"PCCD_TLS_KEY": str(pki["key"])})
    assert rc == 2 and "--tls-cert and --tls-key go together" in err, err


def test_tls_from_the_environment(make_server, pki):
    s = make_server(start=False)
    s.env.update({"PCCD_TLS_CERT": str(pki["cert"]), "PCCD_TLS_KEY": str(pki["key"])})
    s.ca_file = pki["ca"]
    s.start()
    assert s.url.startswith("https://")
    assert s.get("/auth/config", token=None).body["issuer"] == s.url
