# conftest.py: harness for the end-to-end tests: real pccd and pipecat binaries over real HTTP
# on loopback, a fresh data directory and HOME per test, no mocks. Under scripts/pg-test.sh
# (PCC_TEST_DB_URL set) every server runs on its own database in that PostgreSQL cluster.
import binascii
import http.client
import itertools
import json
import os
import re
import secrets
import shutil
import signal
import socket
import sqlite3
import ssl
import subprocess
import threading
import time
import urllib.parse
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
BIN_DIR = Path(os.environ.get("PCC_BIN_DIR") or REPO / "build").resolve()

SANITIZER_MARKERS = ("AddressSanitizer", "runtime error:", "LeakSanitizer")
# A full PAT (never a display form such as pcc_pat_abcd...wxyz).
FULL_TOKEN_RE = re.compile(r"pcc_pat_[0-9A-Za-z]{38}")
LISTEN_RE = re.compile(r"pccd \S+ listening on (https?://127\.0\.0\.1:(\d+))")
REQUEST_LOG_RE = re.compile(r" (GET|POST|PUT|PATCH|DELETE|HEAD|OPTIONS) (/\S*) (\d{3}) ")
ISO_RE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$")

ALICE = "alice@example.com"
TIMEOUT = 30

# --- backend --------------------------------------------------------------------------------

PG_URL = os.environ.get("PCC_TEST_DB_URL") or None
BACKEND = "postgresql" if PG_URL else "sqlite"
sqlite_only = pytest.mark.skipif(
    BACKEND != "sqlite", reason="about SQLite's database file; this run is on PostgreSQL")
postgres_only = pytest.mark.skipif(
    BACKEND != "postgresql",
    reason="needs PostgreSQL: run under scripts/pg-test.sh (make e2e-pg)")


def pytest_report_header(config):
    if PG_URL:
        parts = urllib.parse.urlsplit(PG_URL)
        return (f"pcc backend: PostgreSQL at {parts.hostname}:{parts.port} "
                f"(one database per server), binaries from {BIN_DIR}")
    return f"pcc backend: SQLite (one file per server), binaries from {BIN_DIR}"


class Postgres:
    """The private cluster started by scripts/pg-test.sh, driven with its own psql as user
    postgres over loopback TCP (trust authentication)."""

    def __init__(self, url):
        self.url = url
        self.port = os.environ.get("PCC_PG_PORT") or str(urllib.parse.urlsplit(url).port)
        self.bin = Path(os.environ.get("PCC_PG_BIN") or "/usr/lib/postgresql/15/bin")
        self.ctl = os.environ.get("PCC_PG_CTL")
        self._names = itertools.count()

    def url_for(self, database):
        parts = urllib.parse.urlsplit(self.url)
        return urllib.parse.urlunsplit(parts._replace(path="/" + database))

    def psql(self, sql, database="postgres", variables=None):
        """Run sql (read from stdin, so :'name' variables are interpolated); stdout."""
        argv = [str(self.bin / "psql"), "-X", "-q", "-At", "-v", "ON_ERROR_STOP=1",
                "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres", "-d", database,
                "-f", "-"]
        for k, v in (variables or {}).items():
            argv += ["-v", f"{k}={v}"]
        p = subprocess.run(argv, input=sql, capture_output=True, text=True, timeout=TIMEOUT)
        assert p.returncode == 0, f"psql failed ({p.returncode}): {p.stderr}\n{sql}"
        return p.stdout

    def create_database(self, template=None):
        """A new database (empty, or a copy of template); returns its name."""
        name = f"pcc_e2e_{os.getpid()}_{next(self._names)}"
        sql = f"CREATE DATABASE {name}"
        if template:
            # FILE_COPY: a plain copy of the template's files, several times faster than the
            # default WAL_LOG strategy for these small databases.
            sql += f" TEMPLATE {template} STRATEGY FILE_COPY"
        self.psql(sql + ";")
        return name

    def drop_database(self, name):
        self.psql(f"DROP DATABASE IF EXISTS {name} WITH (FORCE);")

    def query(self, database, sql, params=()):
        """Rows of sql as dicts (column order kept); ? placeholders take params in order."""
        pieces = sql.strip().rstrip(";").split("?")
        assert len(pieces) == len(params) + 1, "one parameter per ? placeholder"
        variables, text = {}, pieces[0]
        for i, (value, rest) in enumerate(zip(params, pieces[1:])):
            if value is None:
                text += "NULL" + rest
            else:
                variables[f"p{i}"] = str(value)
                text += f":'p{i}'" + rest
        out = self.psql(f"SELECT coalesce(json_agg(q), '[]') FROM ({text}) q;\n", database,
                        variables)
        return json.loads(out)


PG = Postgres(PG_URL) if PG_URL else None

# --- tokens ---------------------------------------------------------------------------------

BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"


def base62(n, width):
    digits = []
    for _ in range(width):
        n, r = divmod(n, 62)
        digits.append(BASE62[r])
    assert n == 0, "value does not fit"
    return "".join(reversed(digits))


def checksum(random_part):
    return base62(binascii.crc32(random_part.encode()) & 0xFFFFFFFF, 6)


def random_part():
    return "".join(secrets.choice(BASE62) for _ in range(32))


def well_formed_token(random=None):
    """A token of pcc's shape with a valid checksum that no server has issued."""
    r = random or random_part()
    return "pcc_pat_" + r + checksum(r)


def bad_checksum_token(random=None):
    """A token of pcc's shape whose checksum does not match its random part."""
    r = random or random_part()
    good = checksum(r)
    bad = good[:-1] + ("0" if good[-1] != "0" else "1")
    return "pcc_pat_" + r + bad


def token_checksum_ok(token):
    return (
        len(token) == 46
        and token.startswith("pcc_pat_")
        and all(c in BASE62 for c in token[8:])
        and checksum(token[8:40]) == token[40:]
    )


def display_of(token):
    return token[:12] + "..." + token[-4:]


def assert_no_sanitizer_report(text, what):
    for marker in SANITIZER_MARKERS:
        assert marker not in text, f"{what} reported {marker!r}:\n{text[-4000:]}"


# --- HTTP -----------------------------------------------------------------------------------


class Response:
    """status, headers (case-insensitive lookups through .header()), body (JSON or bytes)."""

    def __init__(self, status, headers, raw):
        self.status = status
        self.headers = headers
        self.raw = raw
        self.body = raw
        ctype = self.header("Content-Type") or ""
        if ctype.split(";")[0].strip() == "application/json":
            try:
                self.body = json.loads(raw)
            except ValueError:
                pass

    def header(self, name):
        for k, v in self.headers:
            if k.lower() == name.lower():
                return v
        return None

    def __iter__(self):  # status, headers, body = response
        return iter((self.status, self.headers, self.body))

    def __repr__(self):
        return f"<Response {self.status} {self.raw[:300]!r}>"


# The CA file that signed each https:// server's certificate (tests/e2e/test_tls.py).
CA_FILES = {}


def tls_context(url):
    """A client context that trusts only the test CA registered for url."""
    return ssl.create_default_context(cafile=CA_FILES[url])


def http_request(url, method, path, token=None, body=None, headers=None, json_body=None,
                 check_json=True, timeout=TIMEOUT):
    """One request on a fresh connection (as the reference client does). body is bytes or str;
    json_body is serialised with Content-Type application/json. With check_json, asserts the
    server contract that every answer is a non-empty JSON object. An https:// url is verified
    against its server's test CA."""
    host, port = url.split("//")[1].split(":")
    if url.startswith("https://"):
        conn = http.client.HTTPSConnection(host, int(port), timeout=timeout,
                                           context=tls_context(url))
    else:
        conn = http.client.HTTPConnection(host, int(port), timeout=timeout)
    hdrs = {"User-Agent": "pcc-e2e/1"}
    if token is not None:
        hdrs["Authorization"] = f"Bearer {token}"
    if json_body is not None:
        body = json.dumps(json_body)
        hdrs["Content-Type"] = "application/json"
    if isinstance(body, str):
        body = body.encode()
    hdrs.update(headers or {})
    hdrs = {k: v for k, v in hdrs.items() if v is not None}
    try:
        conn.request(method, path, body=body, headers=hdrs)
        resp = conn.getresponse()
        raw = resp.read()
        r = Response(resp.status, resp.getheaders(), raw)
    finally:
        conn.close()
    if check_json:
        ctype = r.header("Content-Type") or ""
        assert ctype.split(";")[0].strip() == "application/json", \
            f"{method} {path}: Content-Type {ctype!r} ({r!r})"
        assert isinstance(r.body, dict) and r.body, f"{method} {path}: not a JSON object: {r!r}"
        if r.status >= 400:
            assert isinstance(r.body.get("error"), str) and r.body["error"], r
            assert r.body.get("code") == str(r.status), r
    return r


def raw_http(url, data, timeout=TIMEOUT):
    """Send raw bytes on a fresh socket and return (status, everything read). Tolerates the
    server closing the connection before all bytes were sent."""
    host, port = url.split("//")[1].split(":")
    s = socket.create_connection((host, int(port)), timeout=timeout)
    try:
        try:
            s.sendall(data)
        except (BrokenPipeError, ConnectionResetError):
            pass
        chunks = []
        while True:
            try:
                chunk = s.recv(65536)
            except ConnectionResetError:
                break
            if not chunk:
                break
            chunks.append(chunk)
            if b"\r\n\r\n" in b"".join(chunks):
                head, _, rest = b"".join(chunks).partition(b"\r\n\r\n")
                m = re.search(rb"content-length:\s*(\d+)", head, re.I)
                if m and len(rest) >= int(m.group(1)):
                    break
    finally:
        s.close()
    out = b"".join(chunks)
    m = re.match(rb"HTTP/1\.[01] (\d{3})", out)
    return (int(m.group(1)) if m else None), out


def free_port():
    """A loopback port that nothing listens on (bound, then released)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# --- server ---------------------------------------------------------------------------------


def run_checked(argv, what, stdin=None, env=None, check=True):
    p = subprocess.run(argv, input=stdin, capture_output=True, text=True, timeout=TIMEOUT,
                       env=env)
    assert_no_sanitizer_report(p.stderr, what)
    if check:
        assert p.returncode == 0, f"{what} exited {p.returncode}: {p.stderr}"
    return p


class Server:
    """A pccd data directory (the server secret; on SQLite the database file too) plus (while
    running) a `pccd serve` process on a free port. db_name: its PostgreSQL database, if any."""

    def __init__(self, data, serve_args=(), db_name=None):
        self.ca_file = None  # the CA of an HTTPS server's certificate (test_tls.py sets it)
        self.data = Path(data)
        self.serve_args = list(serve_args)
        self.db_name = db_name
        self.db_url = PG.url_for(db_name) if db_name else None
        self.proc = None
        self.url = None
        self.port = None
        self.token = None  # alice's first PAT
        self.logs = []  # stderr of every serve process, one string each
        self._lines = None
        self._reader = None
        self._listening = None
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("PCCD_")}

    def storage_args(self):
        """--data DIR, plus --db URL on PostgreSQL: what every pccd command of this server takes."""
        return ["--data", str(self.data)] + (["--db", self.db_url] if self.db_url else [])

    # admin subcommands on this data dir (and database)
    def admin(self, *args, stdin=None, check=True):
        """Run `pccd ARGS --data DIR [--db URL]`; with check, it must exit 0."""
        return run_checked([str(BIN_DIR / "pccd"), *args, *self.storage_args()],
                           "pccd " + " ".join(args[:2]), stdin=stdin, env=self.env, check=check)

    def user_add(self, email, org=None, org_name=None, role=None, join=True):
        """`pccd user add`; join passes --join, which joining an organization that exists
        needs (test_invitations.py checks the refusal without it)."""
        args = ["user", "add", "--email", email]
        if org:
            args += ["--org", org] + (["--join"] if join else [])
        if org_name:
            args += ["--org-name", org_name]
        if role:
            args += ["--role", role]
        return self.admin(*args)

    def token_create(self, user=ALICE, name="e2e"):
        out = self.admin("token", "create", "--user", user, "--name", name).stdout
        tok = out.strip()
        assert out == tok + "\n", f"token create printed more than the token: {out!r}"
        assert tok.startswith("pcc_pat_"), out
        return tok

    def token_revoke(self, user, token_id, check=True):
        return self.admin("token", "revoke", "--user", user, "--id", token_id, check=check)

    def token_list(self, user=ALICE):
        return self.admin("token", "list", "--user", user).stdout

    def daily_key(self, org, key=None, clear=False):
        if clear:
            return self.admin("org", "daily-key", "--org", org, "--clear")
        return self.admin("org", "daily-key", "--org", org, stdin=key + "\n")

    def bootstrap(self):
        self.admin("init")
        self.user_add(ALICE, org="acme", org_name="Acme Inc")
        self.token = self.token_create(ALICE, "e2e")

    # serve
    def start(self):
        self.spawn()
        return self.wait_listening()

    def spawn(self):
        """Start `pccd serve` without waiting for it (wait_listening does): lets a test start
        several servers at the same moment."""
        assert self.proc is None
        self._lines = []
        self.proc = subprocess.Popen(
            [str(BIN_DIR / "pccd"), "serve", *self.storage_args(), "--listen",
             "127.0.0.1:0", *self.serve_args],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
            text=True, env=self.env)
        self._listening = threading.Event()

        def read(stream, lines, listening):
            for line in stream:
                lines.append(line)
                if LISTEN_RE.search(line):
                    listening.set()
            listening.set()

        self._reader = threading.Thread(target=read,
                                        args=(self.proc.stderr, self._lines, self._listening),
                                        daemon=True)
        self._reader.start()
        return self

    def wait_listening(self):
        assert self._listening.wait(TIMEOUT), "pccd did not start listening"
        m = next((LISTEN_RE.search(line) for line in self._lines if LISTEN_RE.search(line)),
                 None)
        assert m, f"pccd serve did not print its address:\n{self.stderr}"
        self.url, self.port = m.group(1), int(m.group(2))
        if self.ca_file:
            CA_FILES[self.url] = str(self.ca_file)
        return self

    @property
    def stderr(self):
        """All server log output so far (earlier, stopped processes included)."""
        return "".join(self.logs) + "".join(self._lines or [])

    def _finish(self):
        self._reader.join(TIMEOUT)
        self.logs.append("".join(self._lines))
        self._lines = None
        self.proc = None

    def stop(self):
        """SIGTERM; the server must exit 0."""
        self.proc.send_signal(signal.SIGTERM)
        rc = self.proc.wait(TIMEOUT)
        self._finish()
        assert rc == 0, f"pccd exited {rc} on SIGTERM:\n{self.logs[-1][-4000:]}"

    def kill9(self):
        self.proc.kill()
        self.proc.wait(TIMEOUT)
        self._finish()

    def restart(self):
        self.stop()
        return self.start()

    # HTTP
    def request(self, method, path, token="__default__", **kw):
        if token == "__default__":
            token = self.token
        return http_request(self.url, method, path, token=token, **kw)

    def get(self, path, token="__default__", **kw):
        return self.request("GET", path, token=token, **kw)

    def create_token(self, name, token="__default__"):
        r = self.request("POST", "/v1/users/me/tokens", token=token, json_body={"name": name})
        assert r.status == 201, r
        return r.body

    def request_log(self):
        """(method, path, status) of every request the server logged so far."""
        return [m.groups() for m in REQUEST_LOG_RE.finditer(self.stderr)]

    def sync_log(self):
        """Make a marker request and wait until it is logged, so every earlier request is."""
        before = sum(1 for r in self.request_log() if r[1] == "/healthz")
        self.get("/healthz", token=None)
        deadline = time.time() + 5
        while time.time() < deadline:
            if sum(1 for r in self.request_log() if r[1] == "/healthz") > before:
                return
            time.sleep(0.01)
        raise AssertionError("the server did not log a request")

    def db(self):
        """A read-only sqlite3 connection to the database file (SQLite only; see query)."""
        assert not self.db_name, "this server runs on PostgreSQL: use query()"
        return sqlite3.connect(f"file:{self.data / 'pcc.db'}?mode=ro", uri=True, timeout=10)

    def query(self, sql, params=()):
        """Read the server's database on either backend: rows of sql as dicts keyed by column
        name, in order; ? placeholders take params. SQL common to SQLite and PostgreSQL."""
        if self.db_name:
            return PG.query(self.db_name, sql, params)
        db = self.db()
        try:
            cur = db.execute(sql, tuple(params))
            names = [d[0] for d in cur.description]
            return [dict(zip(names, row)) for row in cur.fetchall()]
        finally:
            db.close()

    def check_logs(self):
        log = self.stderr
        assert_no_sanitizer_report(log, "pccd serve")
        leaked = FULL_TOKEN_RE.findall(log)
        assert not leaked, f"pccd logged full token values: {leaked}"


@pytest.fixture(scope="session")
def bin_dir():
    assert (BIN_DIR / "pccd").is_file(), f"no pccd in {BIN_DIR}: run make"
    return BIN_DIR


_TEMPLATE = {}


def bootstrapped_template(tmp_path_factory):
    """A data directory (and on PostgreSQL a template database) made once per session by the
    real admin commands (init, user add, token create); per-test servers start from a copy of
    it, which is much faster than running the admin commands again for every test (several
    seconds in total under ASan)."""
    if "server" not in _TEMPLATE:
        s = Server(tmp_path_factory.mktemp("template") / "d",
                   db_name=PG.create_database() if PG else None)
        s.bootstrap()
        _TEMPLATE["server"] = s
    return _TEMPLATE["server"]


class ServerFactory:
    def __init__(self, tmp_path_factory):
        self.tmp = tmp_path_factory
        self.servers = []
        self.databases = []

    def __call__(self, serve_args=(), bootstrap=True, start=True, fresh=False, share=None):
        """A new server on its own data directory (and on PostgreSQL its own database).
        bootstrap: with alice, acme and one PAT, copied from the session's template (fresh:
        made by the admin commands for this server, with its own server secret). share:
        another node of that server's installation instead: same database, and a data
        directory holding only a copy of its server secret, as an operator deploys it."""
        data = self.tmp.mktemp("data") / "d"
        if share is not None:
            assert share.db_name, "several nodes on one database need PostgreSQL"
            s = Server(data, serve_args, db_name=share.db_name)
            data.mkdir(mode=0o700)
            shutil.copy2(share.data / "secret", data / "secret")
            s.token = share.token
        else:
            db_name = None
            if PG:
                t = bootstrapped_template(self.tmp) if bootstrap and not fresh else None
                db_name = PG.create_database(template=t.db_name if t else None)
                self.databases.append(db_name)
            s = Server(data, serve_args, db_name=db_name)
            if bootstrap and fresh:
                s.bootstrap()
            elif bootstrap:
                t = bootstrapped_template(self.tmp)
                shutil.copytree(t.data, s.data, copy_function=shutil.copy2)
                s.token = t.token
        self.servers.append(s)
        if start:
            s.start()
        return s

    def close(self):
        errors = []
        for s in self.servers:
            try:
                if s.proc is not None:
                    s.stop()
                s.check_logs()
            except AssertionError as e:  # report every server, not only the first
                errors.append(str(e))
        for name in self.databases:
            try:
                PG.drop_database(name)
            except AssertionError as e:
                errors.append(str(e))
        assert not errors, "\n".join(errors)


@pytest.fixture
def make_server(bin_dir, tmp_path_factory):
    """Start extra servers (e.g. with other `serve` options); stopped and checked at teardown."""
    f = ServerFactory(tmp_path_factory)
    yield f
    f.close()


@pytest.fixture
def server(make_server):
    """A fresh server for one test: alice@example.com, admin of acme ("Acme Inc"), with one PAT
    named e2e (server.token)."""
    return make_server()


@pytest.fixture(scope="module")
def shared_server(bin_dir, tmp_path_factory):
    """One server for a module's tests that do not change server state."""
    f = ServerFactory(tmp_path_factory)
    yield f()
    f.close()


# --- CLI ------------------------------------------------------------------------------------


class Cli:
    """Runs build/pipecat (or build/pcc) with a clean environment and a fresh HOME."""

    def __init__(self, srv, home):
        self.server = srv
        self.home = Path(home)
        self.home.mkdir(parents=True, exist_ok=True)
        self.config_dir = self.home / ".config" / "pipecatcloud"
        self.config_path = self.config_dir / "pipecatcloud.toml"
        self.runs = []

    def env(self, extra=None):
        env = {"HOME": str(self.home), "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
               "PIPECAT_API_HOST": self.server.url, "LANG": "C.UTF-8"}
        for k in ("ASAN_OPTIONS", "UBSAN_OPTIONS", "LSAN_OPTIONS"):
            if k in os.environ:
                env[k] = os.environ[k]
        for k, v in (extra or {}).items():
            if v is None:
                env.pop(k, None)
            else:
                env[k] = v
        return env

    def __call__(self, *args, env=None, stdin=None, prog="pipecat"):
        """Run `pipecat ARGS` (prog="pcc": `pcc ARGS`). stdin: text, or None for /dev/null."""
        binary = BIN_DIR / prog
        assert binary.exists(), f"no {binary}: run make"
        p = subprocess.run([str(binary), *args], input=stdin if stdin is not None else "",
                           capture_output=True, text=True, timeout=TIMEOUT, env=self.env(env),
                           cwd=str(self.home))
        assert_no_sanitizer_report(p.stderr, f"{prog} {' '.join(args)}")
        self.runs.append(p)
        return p

    def cloud(self, *args, **kw):
        return self("cloud", *args, **kw)

    def use_pat(self, token=None, **kw):
        """`pipecat cloud auth use-pat` with the token piped on stdin; must succeed."""
        p = self.cloud("auth", "use-pat", stdin=(token or self.server.token) + "\n", **kw)
        assert p.returncode == 0, p
        return p


@pytest.fixture
def cli(server, tmp_path):
    """The CLI pointed at a fresh per-test server, with a fresh HOME."""
    return Cli(server, tmp_path / "home")


@pytest.fixture
def shared_cli(shared_server, tmp_path):
    """The CLI pointed at the module's shared server, with a fresh HOME."""
    return Cli(shared_server, tmp_path / "home")


# A clock the test moves (expiry, grace periods, housekeeping), not by sleeping.
class Clock:
    """The offset (seconds) pccd adds to the real time, through --test-clock-file."""

    def __init__(self, path):
        self.path = path
        self.offset = 0
        self.path.write_text("0")

    def advance(self, seconds):
        self.offset += seconds
        self.path.write_text(str(self.offset))


@pytest.fixture
def clocked(make_server, tmp_path):
    """A server whose clock the test moves: (server, clock)."""
    clock = Clock(tmp_path / "clock")
    srv = make_server(serve_args=["--test-clock-file", str(clock.path)], start=False)
    srv.env["PCCD_ALLOW_TEST_CLOCK"] = "1"
    srv.start()
    return srv, clock
