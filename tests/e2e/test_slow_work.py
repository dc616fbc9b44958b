# test_slow_work.py: password hashing (dashboard sign-in and sign-up, Argon2id) runs on pccd's
# slow-work threads with its connection suspended (HTTP_ROUTE_SLOW in lib/http), so a connection
# thread never waits behind it: with a single connection thread, an API request sent after a
# batch of sign-ins is answered before most of them, and every sign-in still gets its answer.
import re
import socket
import threading
import time
import urllib.parse

from conftest import ALICE, http_request
from test_admin_passwd import signin

PASSWORD = "a long passphrase for alice"
SIGN_INS = 8


def prepared_sign_in(srv):
    """The raw bytes of a complete sign-in POST (pre-session cookie and CSRF field)."""
    page = http_request(srv.url, "GET", "/signin", token=None, check_json=False)
    cookie = next(v.split(";")[0] for k, v in page.headers if k.lower() == "set-cookie"
                  and v.startswith("pcc_presession="))
    csrf = re.search(r'name="csrf" value="([0-9a-f]+)"', page.raw.decode()).group(1)
    form = urllib.parse.urlencode({"csrf": csrf, "email": ALICE, "password": PASSWORD}).encode()
    host = srv.url.split("//")[1]
    return (f"POST /signin HTTP/1.1\r\nHost: {host}\r\nOrigin: {srv.url}\r\nCookie: {cookie}\r\n"
            "Content-Type: application/x-www-form-urlencoded\r\nConnection: close\r\n"
            f"Content-Length: {len(form)}\r\n\r\n").encode() + form


def test_api_requests_do_not_wait_behind_password_hashing(make_server):
    srv = make_server(serve_args=["--threads", "1"])
    srv.admin("user", "passwd", "--email", ALICE, stdin=PASSWORD + "\n")
    requests = [prepared_sign_in(srv) for _ in range(SIGN_INS)]
    host, port = srv.url.split("//")[1].split(":")
    socks = [socket.create_connection((host, int(port)), timeout=60) for _ in requests]
    answered = []  # (time, status line) per sign-in
    lock = threading.Lock()

    def read_answer(s):
        data = b""
        while chunk := s.recv(65536):
            data += chunk
        with lock:
            answered.append((time.monotonic(), data.split(b"\r\n", 1)[0].decode()))

    for s, req in zip(socks, requests):
        s.sendall(req)
    readers = [threading.Thread(target=read_answer, args=(s,)) for s in socks]
    for t in readers:
        t.start()
    # Every sign-in is on the wire; the API request comes after all of them.
    r = srv.get("/v1/organizations")
    api_at = time.monotonic()
    assert r.status == 200, r
    for t in readers:
        t.join(timeout=60)
    for s in socks:
        s.close()

    assert len(answered) == SIGN_INS
    assert all(" 303 " in line for _, line in answered), answered  # each one signed in
    before_api = sum(1 for at, _ in answered if at < api_at)
    # Inline hashing on the one connection thread would have answered (nearly) all of them
    # first; the slow-work threads run one or two at a time while the API is answered at once.
    assert before_api <= SIGN_INS // 2, f"{before_api} of {SIGN_INS} sign-ins were answered first"
    # And the dashboard still works afterwards.
    assert signin(srv, ALICE, PASSWORD).status == 303
