# test_dashboard_routes.py: every dashboard route in lib/web/routes.c refuses a browser without
# a session, and every signed-in form refuses a post without its CSRF field, unless the route is
# named below as one that signed-out visitors use. A new route is protected by default here: it
# must be listed to be let through.
import re
import urllib.parse

import pytest

from conftest import REPO, http_request
from test_token_lifecycle import Browser

ROUTE_RE = re.compile(r'\{"(GET|POST)", "([^"]+)", (\w+),')
ROUTES = ROUTE_RE.findall((REPO / "lib" / "web" / "routes.c").read_text())

# What a signed-out browser may reach: the pages that sign in, sign up, confirm an address or
# answer a device code (which sends the visitor on to sign in itself), the static files, sign
# out (harmless without a session), and the OAuth consent page (which sends to sign-in).
SIGNED_OUT = {
    ("GET", "/"), ("GET", "/static/{file}"),
    ("GET", "/signin"), ("POST", "/signin"), ("GET", "/signup"), ("POST", "/signup"),
    ("POST", "/signout"), ("POST", "/signout/everywhere"),
    ("GET", "/verify-email"), ("POST", "/verify-email"),
    ("GET", "/device"), ("POST", "/device"), ("POST", "/device/decide"),
    ("GET", "/oauth/authorize"), ("POST", "/oauth/authorize"),
}
PROTECTED = [(m, p, h) for m, p, h in ROUTES if (m, p) not in SIGNED_OUT]


def concrete(pattern):
    return re.sub(r"\{[^}/]+\}", "x1", pattern)


def test_the_table_is_read_and_every_exception_exists():
    assert len(ROUTES) > 40, ROUTES
    assert len(PROTECTED) > 30
    listed = {(m, p) for m, p, _ in ROUTES}
    assert SIGNED_OUT <= listed, f"no such route: {sorted(SIGNED_OUT - listed)}"


@pytest.mark.parametrize("method, pattern, handler", PROTECTED, ids=lambda v: str(v))
def test_a_protected_route_refuses_without_a_session(shared_server, method, pattern, handler):
    body = urllib.parse.urlencode({"csrf": "0" * 64, "name": "x", "email": "x@example.com"})
    r = http_request(shared_server.url, method, concrete(pattern), token=None, check_json=False,
                     body=body if method == "POST" else None,
                     headers={"Origin": shared_server.url,
                              "Content-Type": "application/x-www-form-urlencoded"})
    assert r.status in (303, 401, 403), f"{handler}: {method} {pattern} answered {r.status}"
    if r.status == 303:
        assert r.header("Location").startswith("/signin"), (handler, r.header("Location"))


@pytest.fixture(scope="module")
def browser(shared_server):
    return Browser(shared_server, "alice@example.com")


@pytest.mark.parametrize("method, pattern, handler",
                         [r for r in PROTECTED if r[0] == "POST"], ids=lambda v: str(v))
def test_a_signed_in_form_refuses_a_post_without_its_csrf_field(browser, method, pattern,
                                                                 handler):
    r = browser.post(concrete(pattern), csrf=False)
    assert r.status == 403, f"{handler}: POST {pattern} without CSRF answered {r.status}"
