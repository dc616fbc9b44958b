# test_admin_passwd.py: `pccd user passwd` sets a dashboard password from stdin (never argv),
# hashed with Argon2id; the user then signs in through the dashboard's form over plain HTTP,
# with the pre-session CSRF cookie and hidden field the form carries.
import re
import urllib.parse

from conftest import ALICE, http_request

PASSWORD = "a long passphrase for alice"


def signin(server, email, password):
    """GET /signin for the pre-session cookie and field, then POST the form; the response."""
    page = http_request(server.url, "GET", "/signin", token=None, check_json=False)
    assert page.status == 200, page
    cookie = next(v.split(";")[0] for k, v in page.headers if k.lower() == "set-cookie"
                  and v.startswith("pcc_presession="))
    csrf = re.search(r'name="csrf" value="([0-9a-f]+)"', page.raw.decode()).group(1)
    form = urllib.parse.urlencode({"csrf": csrf, "email": email, "password": password})
    return http_request(server.url, "POST", "/signin", token=None, body=form, check_json=False,
                        headers={"Content-Type": "application/x-www-form-urlencoded",
                                 "Cookie": cookie, "Origin": server.url})


def session_cookie(resp):
    for k, v in resp.headers:
        if k.lower() == "set-cookie" and v.startswith("pcc_session="):
            return v.split(";")[0]
    return None


def test_passwd_then_sign_in_through_the_form(server):
    # alice exists (pccd user add) but has no password: she cannot sign in yet.
    assert signin(server, ALICE, PASSWORD).status == 401

    p = server.admin("user", "passwd", "--email", ALICE, stdin=PASSWORD + "\n")
    assert PASSWORD not in p.stdout + p.stderr
    assert "password set" in p.stderr

    r = signin(server, ALICE, PASSWORD)
    assert r.status == 303, r
    assert r.header("Location") == "/account/tokens"
    cookie = session_cookie(r)
    assert cookie
    page = http_request(server.url, "GET", "/account/tokens", token=None, check_json=False,
                        headers={"Cookie": cookie})
    assert page.status == 200
    assert ALICE in page.raw.decode()

    # A wrong password still fails; setting a new one replaces the old.
    assert signin(server, ALICE, "not the password").status == 401
    server.admin("user", "passwd", "--email", ALICE, stdin="another passphrase\r\nignored\n")
    assert signin(server, ALICE, PASSWORD).status == 401
    assert signin(server, ALICE, "another passphrase").status == 303

    rows = server.query("SELECT password_hash FROM users WHERE email = ?", (ALICE,))
    assert rows[0]["password_hash"].startswith("$argon2id$")
    events = [e["event"] for e in server.get("/v1/users/me/audit").body["events"]]
    assert "user.password_set" in events


def test_passwd_refuses_argv_short_and_unknown(server):
    r = server.admin("user", "passwd", "--email", ALICE, PASSWORD, stdin="", check=False)
    assert r.returncode == 2
    assert "stdin" in r.stderr
    r = server.admin("user", "passwd", "--email", ALICE, stdin="short\n", check=False)
    assert r.returncode == 2
    r = server.admin("user", "passwd", "--email", ALICE, stdin="", check=False)
    assert r.returncode == 2
    r = server.admin("user", "passwd", "--email", "nobody@example.com",
                     stdin=PASSWORD + "\n", check=False)
    assert r.returncode == 1
    assert "no user" in r.stderr
    assert signin(server, ALICE, PASSWORD).status == 401
