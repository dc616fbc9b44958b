# test_http_framing.py: request framing is strict (RFC 9112 section 6.3), so pccd behind a proxy
# cannot be made to read one request where the proxy saw another (request smuggling). Each bad
# request is sent on one connection followed by a valid pipelined request: it must get one 400
# (501 for a transfer coding pccd does not implement), its header block sent once, and the
# connection closed, so the pipelined request is never answered.
import re
import socket
import time

import pytest

from conftest import assert_no_sanitizer_report

VALID = b"GET /healthz HTTP/1.1\r\nHost: pcc.test\r\n\r\n"


def exchange(srv, data, wait=4.0):
    """Send data on one fresh connection; (everything read, whether the server closed it within
    wait seconds)."""
    host, port = srv.url.split("//")[1].split(":")
    s = socket.create_connection((host, int(port)), timeout=wait)
    chunks, closed = [], False
    deadline = time.monotonic() + wait
    try:
        try:
            s.sendall(data)
        except (BrokenPipeError, ConnectionResetError):
            pass
        while time.monotonic() < deadline:
            s.settimeout(max(0.05, deadline - time.monotonic()))
            try:
                chunk = s.recv(65536)
            except socket.timeout:
                break
            except ConnectionResetError:
                closed = True
                break
            if not chunk:
                closed = True
                break
            chunks.append(chunk)
    finally:
        s.close()
    return b"".join(chunks), closed


def status_lines(out):
    """The status of every header block in out (a block sent twice counts twice)."""
    return [int(m) for m in re.findall(rb"HTTP/1\.[01] (\d{3}) ", out)]


def assert_refused(srv, request, status=400):
    out, closed = exchange(srv, request + VALID)
    assert status_lines(out) == [status], f"not one header block with {status}: {out!r}"
    assert closed, f"the connection stayed open after the {status}: {out!r}"
    # The server is still fine for everyone else.
    out, _ = exchange(srv, VALID.replace(b"\r\n\r\n", b"\r\nConnection: close\r\n\r\n"))
    assert status_lines(out) == [200], out
    assert_no_sanitizer_report(srv.stderr, "pccd serve")


BAD_REQUESTS = {
    "content-length with chunked":
        b"POST /healthz HTTP/1.1\r\nHost: pcc.test\r\nContent-Length: 5\r\n"
        b"Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
    "two different content-lengths":
        b"POST /healthz HTTP/1.1\r\nHost: pcc.test\r\nContent-Length: 0\r\n"
        b"Content-Length: 44\r\n\r\n",
    "a second content-length that is not a number":
        b"POST /healthz HTTP/1.1\r\nHost: pcc.test\r\nContent-Length: 0\r\n"
        b"Content-Length: -1\r\n\r\n",
    "two transfer-encodings":
        b"POST /healthz HTTP/1.1\r\nHost: pcc.test\r\nTransfer-Encoding: chunked\r\n"
        b"Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
    "transfer-encoding in HTTP/1.0":
        b"POST /healthz HTTP/1.0\r\nConnection: keep-alive\r\nTransfer-Encoding: chunked\r\n"
        b"\r\n0\r\n\r\n",
    "transfer-encoding with whitespace before the colon":
        b"POST /healthz HTTP/1.1\r\nHost: pcc.test\r\nTransfer-Encoding : chunked\r\n\r\n"
        b"0\r\n\r\n",
    "transfer-encoding with a control byte before the value":
        b"POST /healthz HTTP/1.1\r\nHost: pcc.test\r\nTransfer-Encoding: \x0bchunked\r\n\r\n"
        b"0\r\n\r\n",
    "transfer-encoding line starting with whitespace":
        b"POST /healthz HTTP/1.1\r\n Transfer-Encoding: chunked\r\nHost: pcc.test\r\n\r\n"
        b"0\r\n\r\n",
    "control byte in a header value":
        b"GET /healthz HTTP/1.1\r\nHost: pcc.test\r\nX-A: a\x01b\r\n\r\n",
    "HTTP/1.1 without Host": b"GET /healthz HTTP/1.1\r\nX-A: b\r\n\r\n",
    "two Host headers": b"GET /healthz HTTP/1.1\r\nHost: pcc.test\r\nHost: evil.test\r\n\r\n",
}

# What libmicrohttpd 0.9.75 does before pccd's code sees the request, or hides from it, so that
# no code in lib/http can refuse it (see docs/pccd.md, "HTTP framing"): bare LF line ends and
# obs-fold are accepted (a folded line is even merged into the header's name), a NUL cuts the
# value short where nothing can see it, and the library's own 400 for an invalid Content-Length
# goes out with its header block twice. Kept as strict expected failures: a library that fixes
# them makes these tests pass, which fails the run until they are moved up.
LIBRARY_LIMITS = {
    "negative content-length":
        b"POST /healthz HTTP/1.1\r\nHost: pcc.test\r\nContent-Length: -1\r\n\r\n",
    "signed content-length":
        b"POST /healthz HTTP/1.1\r\nHost: pcc.test\r\nContent-Length: +0\r\n\r\n",
    "content-length list":
        b"POST /healthz HTTP/1.1\r\nHost: pcc.test\r\nContent-Length: 0, 44\r\n\r\n",
    "bare LF line ends": b"GET /healthz HTTP/1.1\nHost: pcc.test\n\n",
    "bare LF after the request line": b"GET /healthz HTTP/1.1\nHost: pcc.test\r\n\r\n",
    "bare LF in the header block": b"GET /healthz HTTP/1.1\r\nHost: pcc.test\nX-A: b\r\n\r\n",
    "obs-fold": b"GET /healthz HTTP/1.1\r\nHost: pcc.test\r\nX-A: a\r\n b\r\n\r\n",
    "NUL in a header value": b"GET /healthz HTTP/1.1\r\nHost: pcc.test\r\nX-A: a\x00b\r\n\r\n",
}


@pytest.fixture
def strict_server(make_server):
    return make_server(serve_args=["--timeout", "10"])


@pytest.mark.parametrize("case", list(BAD_REQUESTS))
def test_bad_framing_is_refused_and_the_connection_closed(strict_server, case):
    assert_refused(strict_server, BAD_REQUESTS[case])


@pytest.mark.xfail(strict=True, reason="libmicrohttpd 0.9.75 accepts or mangles it first")
@pytest.mark.parametrize("case", list(LIBRARY_LIMITS))
def test_framing_libmicrohttpd_decides(strict_server, case):
    assert_refused(strict_server, LIBRARY_LIMITS[case])


@pytest.mark.parametrize("coding", [b"gzip", b"gzip, chunked", b"chunked, gzip", b"identity"])
def test_an_unknown_transfer_coding_is_501_and_closes(strict_server, coding):
    request = (b"POST /healthz HTTP/1.1\r\nHost: pcc.test\r\nTransfer-Encoding: " + coding +
               b"\r\n\r\n0\r\n\r\n")
    assert_refused(strict_server, request, status=501)


def test_valid_requests_still_pipeline(strict_server):
    """The strictness refuses nothing a conforming client sends: chunked bodies, a Content-Length
    body, HTTP/1.0 without Host, optional whitespace around values."""
    chunked = (b"POST /v1/nothing HTTP/1.1\r\nHost: pcc.test\r\nTransfer-Encoding: chunked\r\n"
               b"\r\n2\r\n{}\r\n0\r\n\r\n")
    sized = b"POST /v1/nothing HTTP/1.1\r\nHost: pcc.test\r\nContent-Length: 2\r\n\r\n{}"
    old = b"GET /healthz HTTP/1.0\r\n\r\n"
    out, closed = exchange(strict_server, chunked + sized + VALID + old)
    assert status_lines(out) == [404, 404, 200, 200], out
    assert closed  # HTTP/1.0 without keep-alive
