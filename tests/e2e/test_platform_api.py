# test_platform_api.py: the contract of the platform endpoints (docs/api/: apikeys, secrets,
# services, public, regions) over real HTTP: API keys, secrets, services and deployments, the public start,
# regions and properties; field types the reference client relies on, authorization, the
# failure paths, and that no secret value ever comes back or reaches the log.
import json
import re

import pytest

from conftest import ISO_RE, well_formed_token

ORG = "/v1/organizations/acme"
BOB = "bob@example.com"
CAROL = "carol@example.com"
DEFAULT_REGIONS = ["us-west", "us-east", "eu-central", "ap-south"]
SECRET_VALUE = "s3cr3t-Value-that-must-never-come-back-7f1c"
PULL_VALUE = "dXNlcjpoaWRkZW4tcGFzc3dvcmQtOWQy"  # base64("user:hidden-password-9d2")
PK_RE = re.compile(r"^pk_[0-9A-Za-z]{38}$")
SK_RE = re.compile(r"^sk_[0-9A-Za-z]{38}$")
FULL_KEY_RE = re.compile(r"\b[ps]k_[0-9A-Za-z]{38}\b")


# --- helpers --------------------------------------------------------------------------------


def ok(r, status=200):
    assert r.status == status, r
    return r.body


def error_of(r, status):
    assert r.status == status, r
    return r.body["error"]


def add_bob(srv):
    """bob: a member (not admin) of acme, with a PAT."""
    srv.user_add(BOB, org="acme", role="member")
    return srv.token_create(BOB, "bob")


def add_carol(srv):
    """carol: admin of her own organization 'other', not a member of acme; with a PAT."""
    srv.user_add(CAROL, org="other", org_name="Other Inc")
    return srv.token_create(CAROL, "carol")


def deploy_payload(name="my-agent", **fields):
    """What the reference client sends for `deploy NAME repo/agent:1.0` (nulls removed)."""
    body = {"serviceName": name, "image": "repo/agent:1.0",
            "autoScaling": {"minAgents": 0}, "enableKrisp": False, "krispViva": {}}
    body.update(fields)
    return body


def put_secret(srv, set_name, key, value, token="__default__", **extra):
    body = {"name": set_name, "isImagePullSecret": False, "secretKey": key,
            "secretValue": value}
    body.update(extra)
    return srv.request("PUT", f"{ORG}/secrets/{set_name}", token=token, json_body=body)


def put_pull_secret(srv, set_name, value=PULL_VALUE, host="ghcr.io", **extra):
    body = {"isImagePullSecret": True, "secretValue": value, "host": host}
    body.update(extra)
    return srv.request("PUT", f"{ORG}/secrets/{set_name}", json_body=body)


def create_key(srv, name="web", kind="public", token="__default__", org="acme"):
    r = srv.request("POST", f"/v1/organizations/{org}/apiKeys", token=token,
                    json_body={"name": name, "type": kind})
    return ok(r, 201)


def start(srv, service, key, body=None):
    return srv.request("POST", f"/v1/public/{service}/start", token=key,
                       json_body={"createDailyRoom": True} if body is None else body)


def assert_iso(value, what):
    assert isinstance(value, str) and ISO_RE.match(value), f"{what}: {value!r}"


def assert_table_cells(obj, keys, what):
    """The reference client passes these straight into table rows: strings (or null) only."""
    for k in keys:
        assert k in obj, f"{what}: no {k!r} in {obj}"
        assert obj[k] is None or isinstance(obj[k], str), f"{what}.{k} = {obj[k]!r}"


def assert_service_status(body, name, region="us-west"):
    """A ServiceStatus as docs/api/services.md describes it, in the shape the official client reads."""
    assert body["name"] == name
    assert body["region"] == region
    assert body["ready"] is True and body["available"] is True
    assert body["activeDeploymentReady"] is True
    active = body["activeDeploymentId"]
    assert isinstance(active, str) and active
    # The reference client's deploy poll succeeds at once: all three ids agree.
    assert body["desiredDeploymentId"] == body["reconciledDeploymentId"] == active
    scaling = body["autoScaling"]
    assert isinstance(scaling, dict) and scaling, "autoScaling must be a non-empty object"
    assert isinstance(scaling["minReplicas"], int) and isinstance(scaling["maxReplicas"], int)
    assert isinstance(body["activeSessionCount"], int) and body["activeSessionCount"] == 0
    assert isinstance(body["agentProfile"], str)
    assert_iso(body["createdAt"], "createdAt")
    assert_iso(body["updatedAt"], "updatedAt")
    assert isinstance(body["krispViva"], dict) and "audioFilter" in body["krispViva"]
    deployment = body["deployment"]
    assert isinstance(deployment, dict) and deployment["id"] == active
    assert isinstance(deployment["manifest"], dict)
    spec = deployment["manifest"]["spec"]
    assert isinstance(spec, dict)
    assert isinstance(spec["image"], str) and isinstance(spec["dailyNodeType"], str)
    assert isinstance(spec["maxSessionDurationSeconds"], int)
    assert body["errors"] == []
    revision = body["currentRevision"]
    assert revision["deploymentID"] == active
    assert revision["phase"] == "Active"
    assert isinstance(revision["readyReplicas"], int)
    assert_iso(revision["phaseStartedAt"], "phaseStartedAt")
    assert isinstance(revision["hasInfrastructureIssue"], bool)
    health = revision["health"]
    for k in ("restartCount", "replicasStarted"):
        assert isinstance(health[k], int), k
    # Nothing ran, so nothing exited: no exit code (the reference client prints a 0 as
    # "NoRuntime (exit 0)", as if an agent had run and stopped).
    assert health.get("lastExitCode") is None and health.get("lastTerminationReason") is None
    assert isinstance(health["ready"], bool)
    conditions = {c["type"]: c for c in body["conditions"]}
    for c in body["conditions"]:
        assert c["status"] in ("True", "False") and isinstance(c["reason"], str)
        assert isinstance(c["message"], str) and c["message"]
    assert conditions["Available"]["status"] == "True"
    assert conditions["Degraded"]["status"] == "False"
    # docs/runtime.md: the status says plainly that no runtime is attached.
    runtime = conditions["RuntimeAttached"]
    assert runtime["status"] == "False" and "no agent runtime" in runtime["message"]
    return body


def assert_not_found_like_missing_org(srv, method, path, token, **kw):
    """A non-member gets exactly the answer a missing organization gets (section 3 docs)."""
    r = srv.request(method, path, token=token, **kw)
    assert r.status == 404, (method, path, r)
    assert r.body == {"error": "organization 'acme' not found", "code": "404"}, r
    missing = srv.request(method, path.replace("/acme", "/no-such-org", 1), token=token, **kw)
    assert missing.status == 404
    assert missing.body == {"error": "organization 'no-such-org' not found", "code": "404"}


# --- regions and properties (3.8) -----------------------------------------------------------


def test_regions_list_shape(shared_server):
    body = ok(shared_server.get(f"{ORG}/regions"))
    assert list(body) == ["regions"]
    assert [r["code"] for r in body["regions"]] == DEFAULT_REGIONS
    for r in body["regions"]:
        assert set(r) == {"code", "display_name"}
        assert isinstance(r["display_name"], str) and r["display_name"]


def test_properties_always_include_default_region(shared_server):
    body = ok(shared_server.get(f"{ORG}/properties"))
    assert body == {"properties": {"defaultRegion": "us-west"}}


def test_properties_schema_shape(shared_server):
    body = ok(shared_server.get(f"{ORG}/properties/schema"))
    prop = body["properties"]["defaultRegion"]
    assert prop["type"] == "string"
    assert isinstance(prop["description"], str) and prop["description"]
    assert prop["readOnly"] is False
    assert prop["default"] == "us-west"
    # Never set: the region in effect is the default. Not null, which the reference client
    # prints as "Default region: None".
    assert prop["currentValue"] == "us-west"
    assert prop["availableValues"] == DEFAULT_REGIONS


def test_patch_default_region_is_stored_audited_and_used(server):
    body = ok(server.request("PATCH", f"{ORG}/properties",
                             json_body={"defaultRegion": "eu-central"}))
    assert body == {"properties": {"defaultRegion": "eu-central"}}
    assert ok(server.get(f"{ORG}/properties"))["properties"]["defaultRegion"] == "eu-central"
    schema = ok(server.get(f"{ORG}/properties/schema"))["properties"]["defaultRegion"]
    assert schema["currentValue"] == "eu-central" and schema["default"] == "us-west"
    # New secret sets and services land in the default region.
    assert ok(put_secret(server, "prod", "K", "v"))["region"] == "eu-central"
    ok(server.request("POST", f"{ORG}/services", json_body=deploy_payload()), 201)
    svc = ok(server.get(f"{ORG}/services/my-agent"))["body"]
    assert svc["region"] == "eu-central"
    rows = server.query("SELECT detail FROM audit_events WHERE event = 'properties.updated'")
    assert [json.loads(r["detail"]) for r in rows] == [{"defaultRegion": "eu-central"}]


@pytest.mark.parametrize("body, field", [
    ({"defaultRegion": "mars-1"}, "defaultRegion"),
    ({"defaultRegion": 3}, "defaultRegion"),
    ({"defaultRegion": ""}, "defaultRegion"),
    ({"color": "blue"}, "color"),
    ({}, "defaultRegion"),
])
def test_patch_properties_rejects_bad_input_naming_it(shared_server, body, field):
    r = shared_server.request("PATCH", f"{ORG}/properties", json_body=body)
    assert field in error_of(r, 400)
    assert ok(shared_server.get(f"{ORG}/properties"))["properties"]["defaultRegion"] == "us-west"


def test_regions_are_configurable(make_server):
    srv = make_server(serve_args=["--regions", "eu-north=EU North (Stockholm),local"])
    body = ok(srv.get(f"{ORG}/regions"))
    assert body["regions"] == [{"code": "eu-north", "display_name": "EU North (Stockholm)"},
                               {"code": "local", "display_name": "local"}]
    assert ok(srv.get(f"{ORG}/properties"))["properties"]["defaultRegion"] == "eu-north"
    r = srv.request("PATCH", f"{ORG}/properties", json_body={"defaultRegion": "us-west"})
    assert "us-west" in error_of(r, 400) and "eu-north" in r.body["error"]
    ok(srv.request("PATCH", f"{ORG}/properties", json_body={"defaultRegion": "local"}))
    r = srv.request("POST", f"{ORG}/services", json_body=deploy_payload(region="us-west"))
    assert "region" in error_of(r, 400)


def test_regions_from_the_environment(make_server):
    srv = make_server(start=False)
    srv.env["PCCD_REGIONS"] = "ap-east"
    srv.start()
    assert [r["code"] for r in ok(srv.get(f"{ORG}/regions"))["regions"]] == ["ap-east"]


def test_bad_region_list_stops_the_server_with_a_clear_error(server):
    p = server.admin("serve", "--listen", "127.0.0.1:0", "--regions", "us-west,US_EAST",
                     check=False)
    assert p.returncode == 2
    assert "US_EAST" in p.stderr


# --- API keys (3.3) -------------------------------------------------------------------------


def test_public_key_is_listed_in_full_and_revoked_softly(server):
    created = create_key(server, "web app")
    assert PK_RE.match(created["key"]), created
    assert created["name"] == "web app" and created["type"] == "public"
    assert isinstance(created["id"], str) and created["id"]

    body = ok(server.get(f"{ORG}/apiKeys"))
    assert set(body) >= {"public", "private"}
    assert body["private"] == []
    [entry] = body["public"]
    assert entry["key"] == created["key"], "keys use stores the listed key: it must be whole"
    assert entry["id"] == created["id"]
    assert entry["metadata"] == {"name": "web app"}
    assert entry["revoked"] is False
    assert_table_cells(entry, ["id", "key", "createdAt"], "public[]")
    assert_iso(entry["createdAt"], "createdAt")

    r = server.request("DELETE", f"{ORG}/apiKeys/{created['id']}")
    assert ok(r)["revoked"] is True
    [entry] = ok(server.get(f"{ORG}/apiKeys"))["public"]
    assert entry["revoked"] is True, "soft revoke: the key stays listed"
    assert entry["key"] == created["key"]
    r = server.request("DELETE", f"{ORG}/apiKeys/{created['id']}")
    assert error_of(r, 404)
    r = server.request("DELETE", f"{ORG}/apiKeys/key_doesnotexist0000")
    assert error_of(r, 404)
    events = [row["event"] for row in server.query(
        "SELECT event FROM audit_events WHERE event LIKE 'apikey.%' ORDER BY id")]
    assert events == ["apikey.created", "apikey.revoked"]


def test_private_key_is_shown_once_and_stored_as_a_digest(server):
    created = create_key(server, "ci", kind="private")
    assert SK_RE.match(created["key"]), created
    assert created["type"] == "private"
    body = ok(server.get(f"{ORG}/apiKeys"))
    assert body["public"] == []
    [entry] = body["private"]
    assert "key" not in entry, "a private key is never shown again"
    assert entry["display"].startswith("sk_") and "..." in entry["display"]
    assert created["key"] not in json.dumps(body)
    [row] = server.query("SELECT kind, public_value, digest FROM api_keys")
    assert row["kind"] == "private" and row["public_value"] == ""
    assert created["key"] not in json.dumps(row)


@pytest.mark.parametrize("body, field", [
    ({"type": "public"}, "name"),
    ({"name": "", "type": "public"}, "name"),
    ({"name": "x" * 101, "type": "public"}, "name"),
    ({"name": "tab\there", "type": "public"}, "name"),
    ({"name": "k", "type": "secret"}, "type"),
    ({"name": "k", "type": 1}, "type"),
    ({"name": "k", "scope": "all"}, "scope"),
])
def test_api_key_creation_rejects_bad_input_naming_it(shared_server, body, field):
    r = shared_server.request("POST", f"{ORG}/apiKeys", json_body=body)
    assert field in error_of(r, 400)


def test_members_read_and_deploy_but_only_admins_manage_keys_and_properties(server):
    bob = add_bob(server)
    key = create_key(server, "alice's key")
    # bob reads...
    assert ok(server.get(f"{ORG}/apiKeys", token=bob))["public"][0]["id"] == key["id"]
    assert ok(server.get(f"{ORG}/properties", token=bob))
    # ...but may not manage keys or properties: 403 naming the role he lacks.
    for method, path, body in [
        ("POST", f"{ORG}/apiKeys", {"name": "bob's", "type": "public"}),
        ("DELETE", f"{ORG}/apiKeys/{key['id']}", None),
        ("PATCH", f"{ORG}/properties", {"defaultRegion": "us-east"}),
    ]:
        r = server.request(method, path, token=bob, json_body=body)
        assert "admin" in error_of(r, 403), (method, path, r)
    assert ok(server.get(f"{ORG}/apiKeys"))["public"][0]["revoked"] is False
    # bob deploys: secrets and services are members' work.
    ok(put_secret(server, "bobs", "K", "v", token=bob))
    ok(server.request("POST", f"{ORG}/services", token=bob,
                      json_body=deploy_payload("bobs-agent", secretSet="bobs")), 201)
    ok(server.request("DELETE", f"{ORG}/services/bobs-agent", token=bob))


# --- secrets (3.4) --------------------------------------------------------------------------


def test_secret_sets_upsert_list_and_delete(server):
    r = put_secret(server, "prod", "API_KEY", SECRET_VALUE)
    assert ok(r) == {"status": "OK", "name": "prod", "type": "secret", "region": "us-west"}
    ok(put_secret(server, "prod", "OTHER", "x"))
    ok(put_secret(server, "prod", "API_KEY", SECRET_VALUE + "-v2"))  # upsert: one key
    ok(put_pull_secret(server, "registry"))

    sets = ok(server.get(f"{ORG}/secrets"))["sets"]
    assert [(s["name"], s["type"], s["region"]) for s in sets] == [
        ("prod", "secret", "us-west"), ("registry", "imagePullSecret", "us-west")]
    for s in sets:
        assert_table_cells(s, ["name", "region", "type"], "sets[]")

    body = ok(server.get(f"{ORG}/secrets/prod"))
    assert [k["fieldName"] for k in body["secrets"]] == ["API_KEY", "OTHER"]
    for k in body["secrets"]:
        assert set(k) >= {"fieldName"} and "secretValue" not in k and "value" not in k

    # An image pull secret cannot be read by name: 400 with code "400", which the reference
    # client's deploy takes as "it exists".
    r = server.get(f"{ORG}/secrets/registry")
    assert r.status == 400 and r.body["code"] == "400"

    assert ok(server.request("DELETE", f"{ORG}/secrets/prod/OTHER"))
    assert error_of(server.request("DELETE", f"{ORG}/secrets/prod/OTHER"), 404)
    assert error_of(server.request("DELETE", f"{ORG}/secrets/nope/OTHER"), 404)
    assert [k["fieldName"] for k in ok(server.get(f"{ORG}/secrets/prod"))["secrets"]] == [
        "API_KEY"]
    assert ok(server.request("DELETE", f"{ORG}/secrets/prod"))
    assert error_of(server.request("DELETE", f"{ORG}/secrets/prod"), 404)
    assert error_of(server.get(f"{ORG}/secrets/prod"), 404)
    assert [s["name"] for s in ok(server.get(f"{ORG}/secrets"))["sets"]] == ["registry"]
    events = [row["event"] for row in server.query(
        "SELECT event FROM audit_events WHERE event LIKE 'secret.%' ORDER BY id")]
    assert events == ["secret.set"] * 4 + ["secret.deleted"] * 2


def test_secret_sets_live_in_one_region(server):
    ok(put_secret(server, "eu", "K", "v", region="eu-central"))
    assert ok(put_secret(server, "eu", "K2", "v"))["region"] == "eu-central", \
        "no region: the set keeps its own"
    r = put_secret(server, "eu", "K3", "v", region="us-east")
    assert r.status in (400, 409), r
    assert "eu-central" in r.body["error"] and "region" in r.body["error"]
    assert [s["name"] for s in ok(server.get(f"{ORG}/secrets?region=eu-central"))["sets"]] == [
        "eu"]
    assert ok(server.get(f"{ORG}/secrets?region=us-west"))["sets"] == []
    assert error_of(server.get(f"{ORG}/secrets/eu?region=us-west"), 404)
    assert ok(server.get(f"{ORG}/secrets/eu?region=eu-central"))["secrets"]
    assert "region" in error_of(server.get(f"{ORG}/secrets?region=mars"), 400)
    r = put_secret(server, "new", "K", "v", region="mars")
    assert "region" in error_of(r, 400)


def test_a_secret_set_cannot_change_type(server):
    ok(put_secret(server, "prod", "K", "v"))
    assert "type" in error_of(put_pull_secret(server, "prod"), 400)
    ok(put_pull_secret(server, "pull"))
    assert "type" in error_of(put_secret(server, "pull", "K", "v"), 400)


@pytest.mark.parametrize("set_name, body, field", [
    ("bad.name", {"secretKey": "K", "secretValue": "v"}, "name"),
    ("-lead", {"secretKey": "K", "secretValue": "v"}, "name"),
    ("trail_", {"secretKey": "K", "secretValue": "v"}, "name"),
    ("ok", {"secretKey": "bad key", "secretValue": "v"}, "secretKey"),
    ("ok", {"secretKey": "K" * 65, "secretValue": "v"}, "secretKey"),
    ("ok", {"secretValue": "v"}, "secretKey"),
    ("ok", {"secretKey": "K"}, "secretValue"),
    ("ok", {"secretKey": "K", "secretValue": 5}, "secretValue"),
    ("ok", {"secretKey": "K", "secretValue": "v" * 40000}, "secretValue"),
    ("ok", {"secretKey": "K", "secretValue": "v", "name": "other"}, "name"),
    ("ok", {"secretKey": "K", "secretValue": "v", "host": "ghcr.io"}, "host"),
    ("ok", {"secretKey": "K", "secretValue": "v", "color": "red"}, "color"),
    ("ok", {"isImagePullSecret": True, "secretValue": "dg=="}, "host"),
    ("ok", {"isImagePullSecret": True, "host": "ghcr.io"}, "secretValue"),
    ("ok", {"isImagePullSecret": "yes", "secretKey": "K", "secretValue": "v"},
     "isImagePullSecret"),
])
def test_secret_put_rejects_bad_input_naming_it(shared_server, set_name, body, field):
    r = shared_server.request("PUT", f"{ORG}/secrets/{set_name}", json_body=body)
    assert field in error_of(r, 400)
    assert ok(shared_server.get(f"{ORG}/secrets"))["sets"] == []


def test_secret_values_never_come_back_and_are_encrypted_at_rest(server):
    ok(put_secret(server, "prod", "API_KEY", SECRET_VALUE))
    ok(put_pull_secret(server, "pull"))
    ok(server.request("POST", f"{ORG}/services",
                      json_body=deploy_payload(secretSet="prod", imagePullSecretSet="pull")), 201)
    answers = [server.get(p) for p in (
        f"{ORG}/secrets", f"{ORG}/secrets/prod", f"{ORG}/secrets/pull", f"{ORG}/services",
        f"{ORG}/services/my-agent", f"{ORG}/services/my-agent/deployments")]
    for r in answers:
        assert SECRET_VALUE not in r.raw.decode() and PULL_VALUE not in r.raw.decode(), r
    rows = server.query("SELECT name, nonce, ciphertext FROM secrets ORDER BY name")
    assert [r["name"] for r in rows] == ["API_KEY", "auth"]
    for row in rows:
        assert re.fullmatch(r"[0-9a-f]{48}", row["nonce"]), row
        assert re.fullmatch(r"[0-9a-f]+", row["ciphertext"]), row
        for plain in (SECRET_VALUE, PULL_VALUE):
            assert plain not in row["ciphertext"]
            assert plain.encode().hex() not in row["ciphertext"], "stored unencrypted"
    for row in server.query("SELECT detail FROM audit_events"):
        assert SECRET_VALUE not in row["detail"] and PULL_VALUE not in row["detail"]
    server.sync_log()
    assert SECRET_VALUE not in server.stderr and PULL_VALUE not in server.stderr


# --- services and deploy (3.5, 3.6) ---------------------------------------------------------


def test_deploy_then_status_list_and_views(server):
    ok(put_secret(server, "prod", "K", "v"))
    created = ok(server.request("POST", f"{ORG}/services",
                                json_body=deploy_payload(secretSet="prod")), 201)
    assert created, "POST services answers a truthy object"
    assert_service_status(created, "my-agent")

    status = ok(server.get(f"{ORG}/services/my-agent"))
    assert list(status) == ["body"], "the single-service GET is wrapped in body"
    body = assert_service_status(status["body"], "my-agent")
    spec = body["deployment"]["manifest"]["spec"]
    assert spec["image"] == "repo/agent:1.0"
    assert spec["maxSessionDurationSeconds"] == 7200
    assert spec["envFromSecretNames"] == ["prod"]
    assert body["autoScaling"] == {"minReplicas": 0, "maxReplicas": 50}
    assert body["agentProfile"] == "agent-1x"
    assert body["krispViva"] == {"audioFilter": None}

    services = ok(server.get(f"{ORG}/services"))["services"]
    [svc] = services
    assert_table_cells(svc, ["name", "region", "id", "activeDeploymentId", "createdAt",
                             "updatedAt"], "services[]")
    assert svc["activeDeploymentId"] == body["activeDeploymentId"]
    assert ok(server.get(f"{ORG}/services?region=us-west"))["services"] == services
    assert ok(server.get(f"{ORG}/services?region=eu-central"))["services"] == []
    assert "region" in error_of(server.get(f"{ORG}/services?region=mars"), 400)

    deployments = ok(server.get(f"{ORG}/services/my-agent/deployments"))["deployments"]
    [d] = deployments
    assert_table_cells(d, ["id", "createdAt", "updatedAt"], "deployments[]")
    assert_table_cells(d["manifest"]["spec"], ["dailyNodeType", "image"], "deployments[].spec")

    logs = ok(server.get(f"{ORG}/services/my-agent/logs?limit=100"))
    assert logs["logs"] == []
    assert "limit" in error_of(server.get(f"{ORG}/services/my-agent/logs?limit=0"), 400)
    sessions = ok(server.get(f"{ORG}/services/my-agent/sessions"))
    assert sessions["sessions"] == [], "an empty list, never {}"
    assert error_of(server.get(f"{ORG}/services/my-agent/sessions/abc"), 404)
    assert error_of(server.request("DELETE", f"{ORG}/services/my-agent/sessions/abc"), 404)
    for view in ("", "/logs", "/deployments", "/sessions", "/sessions/abc"):
        assert error_of(server.get(f"{ORG}/services/nope{view}"), 404)


def test_create_update_force_and_delete(server):
    ok(server.request("POST", f"{ORG}/services", json_body=deploy_payload()), 201)
    r = server.request("POST", f"{ORG}/services", json_body=deploy_payload())
    assert "already exists" in error_of(r, 409)
    r = server.request("PUT", f"{ORG}/services", json_body=deploy_payload("missing"))
    assert error_of(r, 404)

    def deployment_ids():
        return [d["id"] for d in ok(server.get(f"{ORG}/services/my-agent/deployments"))[
            "deployments"]]

    first = deployment_ids()
    # The same configuration again: no new deployment (and a warning saying so).
    same = ok(server.request("PUT", f"{ORG}/services", json_body=deploy_payload()))
    assert "warning" in same and deployment_ids() == first
    # forceRedeploy makes one anyway.
    forced = ok(server.request("PUT", f"{ORG}/services",
                               json_body=deploy_payload(forceRedeploy=True)))
    assert_service_status(forced, "my-agent")
    ids = deployment_ids()
    assert len(ids) == 2 and ids[1] == first[0], "newest first"
    assert forced["activeDeploymentId"] == ids[0] != first[0]
    # A new image is a new deployment; scaling alone is not.
    new_image = ok(server.request("PUT", f"{ORG}/services",
                                  json_body=deploy_payload(image="repo/agent:2.0")))
    assert new_image["deployment"]["manifest"]["spec"]["image"] == "repo/agent:2.0"
    assert len(deployment_ids()) == 3
    scaled = ok(server.request("PUT", f"{ORG}/services", json_body=deploy_payload(
        image="repo/agent:2.0", autoScaling={"minAgents": 1, "maxAgents": 3})))
    assert scaled["autoScaling"] == {"minReplicas": 1, "maxReplicas": 3}
    assert len(deployment_ids()) == 3
    status = ok(server.get(f"{ORG}/services/my-agent"))["body"]
    assert status["autoScaling"] == {"minReplicas": 1, "maxReplicas": 3}
    assert status["activeDeploymentId"] == new_image["activeDeploymentId"]
    # A service cannot move regions.
    r = server.request("PUT", f"{ORG}/services",
                       json_body=deploy_payload(image="repo/agent:2.0", region="us-east"))
    assert r.status in (400, 409) and "region" in r.body["error"], r

    assert ok(server.request("DELETE", f"{ORG}/services/my-agent"))
    assert error_of(server.get(f"{ORG}/services/my-agent"), 404)
    assert error_of(server.request("DELETE", f"{ORG}/services/my-agent"), 404)
    assert ok(server.get(f"{ORG}/services"))["services"] == []
    events = [row["event"] for row in server.query(
        "SELECT event FROM audit_events WHERE event LIKE 'service.%' ORDER BY id")]
    assert events == ["service.deployed"] * 3 + ["service.scaled", "service.deleted"]


def test_deploy_accepts_every_documented_option(server):
    ok(put_secret(server, "prod", "K", "v", region="eu-central"))
    ok(put_pull_secret(server, "pull", region="eu-central"))
    body = ok(server.request("POST", f"{ORG}/services", json_body={
        "serviceName": "a", "image": "registry.example.com:5000/team/agent:v2",
        "region": "eu-central", "secretSet": "prod", "imagePullSecretSet": "pull",
        "autoScaling": {"minAgents": 2, "maxAgents": 50}, "enableKrisp": True,
        "agentProfile": "agent-3x", "krispViva": {"audioFilter": "pro"},
        "websocketAuth": "none", "maxSessionDuration": 14400,
        "enableIntegratedKeysProxy": True, "nodeType": "arm", "buildId": None,
    }), 201)
    assert_service_status(body, "a", region="eu-central")
    spec = body["deployment"]["manifest"]["spec"]
    assert spec["maxSessionDurationSeconds"] == 14400
    assert spec["imagePullSecretName"] == "pull"
    assert body["krispViva"] == {"audioFilter": "pro"}
    assert body["agentProfile"] == "agent-3x"
    assert body["autoScaling"] == {"minReplicas": 2, "maxReplicas": 50}


VALID_MIN_MAX = {"minAgents": 0, "maxAgents": 1}


@pytest.mark.parametrize("fields, field", [
    ({"serviceName": "Bad_Name"}, "serviceName"),
    ({"serviceName": "-agent"}, "serviceName"),
    ({"serviceName": "agent-"}, "serviceName"),
    ({"serviceName": "a" * 55}, "serviceName"),
    ({"serviceName": None}, "serviceName"),
    ({"image": "repo/agent"}, "image"),
    ({"image": "registry:5000/agent"}, "image"),
    ({"image": None}, "image"),
    ({"buildId": "b-1"}, "buildId"),
    ({"autoScaling": {"minAgents": -1}}, "minAgents"),
    ({"autoScaling": {"minAgents": 0, "maxAgents": 0}}, "maxAgents"),
    ({"autoScaling": {"minAgents": 0, "maxAgents": 51}}, "maxAgents"),
    ({"autoScaling": {"minAgents": 5, "maxAgents": 2}}, "maxAgents"),
    ({"autoScaling": {"minAgents": "1"}}, "minAgents"),
    ({"autoScaling": {"minAgents": 1.5}}, "minAgents"),
    ({"autoScaling": {"minAgents": 0, "replicas": 2}}, "replicas"),
    ({"maxSessionDuration": 59}, "maxSessionDuration"),
    ({"maxSessionDuration": 14401}, "maxSessionDuration"),
    ({"agentProfile": "agent-9x"}, "agentProfile"),
    ({"krispViva": {"audioFilter": "studio"}}, "audioFilter"),
    ({"krispViva": "tel"}, "krispViva"),
    ({"websocketAuth": "basic"}, "websocketAuth"),
    ({"enableKrisp": "yes"}, "enableKrisp"),
    ({"forceRedeploy": 1}, "forceRedeploy"),
    ({"region": "mars-1"}, "region"),
    ({"nodeType": "x86"}, "nodeType"),
    ({"gpu": True}, "gpu"),
])
def test_deploy_rejects_bad_input_naming_the_field(shared_server, fields, field):
    payload = deploy_payload(**fields)
    if "image" in fields and fields["image"] is None:
        del payload["image"]
    if fields.get("serviceName", "") is None:
        del payload["serviceName"]
    r = shared_server.request("POST", f"{ORG}/services", json_body=payload)
    assert field in error_of(r, 400), r
    assert ok(shared_server.get(f"{ORG}/services"))["services"] == []


def test_one_character_names_and_null_fields_are_fine(server):
    payload = deploy_payload("a", secretSet=None, imagePullSecretSet=None, agentProfile=None,
                             maxSessionDuration=None, krispViva={"audioFilter": None})
    ok(server.request("POST", f"{ORG}/services", json_body=payload), 201)
    assert ok(server.get(f"{ORG}/services/a"))["body"]["name"] == "a"


def test_deploy_checks_secret_sets_exist_in_the_services_region(server):
    r = server.request("POST", f"{ORG}/services", json_body=deploy_payload(secretSet="nope"))
    assert "Secret set" in error_of(r, 404)
    r = server.request("POST", f"{ORG}/services",
                       json_body=deploy_payload(imagePullSecretSet="nope"))
    assert "nope" in error_of(r, 404)
    ok(put_secret(server, "eu", "K", "v", region="eu-central"))
    r = server.request("POST", f"{ORG}/services", json_body=deploy_payload(secretSet="eu"))
    assert r.status in (400, 409) and "region" in r.body["error"], r
    ok(put_pull_secret(server, "pull"))
    r = server.request("POST", f"{ORG}/services", json_body=deploy_payload(secretSet="pull"))
    assert "secretSet" in error_of(r, 400)
    ok(put_secret(server, "west", "K", "v"))
    r = server.request("POST", f"{ORG}/services",
                       json_body=deploy_payload(imagePullSecretSet="west"))
    assert "imagePullSecretSet" in error_of(r, 400)
    assert ok(server.get(f"{ORG}/services"))["services"] == [], "nothing was deployed"


# --- public start (3.7) ---------------------------------------------------------------------


def test_public_start_with_no_runtime_is_a_clear_503(server):
    ok(server.request("POST", f"{ORG}/services", json_body=deploy_payload()), 201)
    key = create_key(server)["key"]
    r = start(server, "my-agent", key)
    assert r.status == 503, r
    assert "runtime" in r.body["error"] and r.body["code"] == "503"
    assert "sessionId" not in r.body, "never a fake session"
    # A missing service is 404 (the reference client's N endpoint).
    assert error_of(start(server, "nope", key), 404)
    assert "unknown field" in error_of(start(server, "my-agent", key, body={"color": 1}), 400)
    assert ok(server.get(f"{ORG}/services/my-agent/sessions"))["sessions"] == []


def test_public_start_needs_a_live_public_key_of_the_owning_org(server):
    ok(server.request("POST", f"{ORG}/services", json_body=deploy_payload()), 201)
    carol = add_carol(server)
    theirs = create_key(server, "carol's", token=carol, org="other")["key"]
    # carol's organization has a service of the same name: still not acme's.
    ok(server.request("POST", "/v1/organizations/other/services", token=carol,
                      json_body=deploy_payload("their-agent")), 201)
    foreign = start(server, "my-agent", theirs)
    missing = start(server, "no-such-agent", theirs)
    assert foreign.status == missing.status == 404
    assert foreign.body["error"] == missing.body["error"].replace("no-such-agent", "my-agent")
    assert start(server, "their-agent", theirs).status == 503

    mine = create_key(server, "mine")
    private = create_key(server, "ci", kind="private")["key"]
    unauthorized = {"error": "Unauthorized / token invalid, expired or revoked", "code": "401"}
    mistyped = mine["key"][:-1] + ("A" if mine["key"][-1] != "A" else "B")
    for bad in (private, server.token, well_formed_token(), mistyped, "pk_" + "0" * 38,
                "nonsense"):
        r = start(server, "my-agent", bad)
        assert r.status == 401 and r.body == unauthorized, (bad[:6], r)
    assert start(server, "my-agent", None).status == 401
    assert start(server, "my-agent", mine["key"]).status == 503
    ok(server.request("DELETE", f"{ORG}/apiKeys/{mine['id']}"))
    r = start(server, "my-agent", mine["key"])
    assert r.status == 401 and r.body == unauthorized, "a revoked key fails at once"
    reasons = [json.loads(row["detail"]).get("reason") for row in server.query(
        "SELECT detail FROM audit_events WHERE event = 'auth.failed' ORDER BY id")]
    assert "revoked" in reasons and "kind" in reasons


def test_public_key_failures_are_throttled_like_token_failures(make_server):
    srv = make_server(serve_args=["--auth-fail-limit", "3"])
    ok(srv.request("POST", f"{ORG}/services", json_body=deploy_payload()), 201)
    key = create_key(srv)["key"]
    for _ in range(3):
        assert start(srv, "my-agent", "pk_" + "1" * 38).status == 401
    r = start(srv, "my-agent", key)
    assert r.status == 429 and r.header("Retry-After"), r


# --- builds (3.9, out of scope) and visibility ----------------------------------------------


@pytest.mark.parametrize("method, path", [
    ("POST", "/builds/upload-url"), ("POST", "/builds"), ("GET", "/builds"),
    ("GET", "/builds/b1"), ("GET", "/builds/b1/logs"),
])
def test_cloud_builds_answer_501(shared_server, method, path):
    r = shared_server.request(method, ORG + path, json_body={} if method == "POST" else None)
    assert r.status == 501 and "build" in r.body["error"] and r.body["code"] == "501", r


def test_non_members_see_nothing_of_an_organization(server):
    ok(put_secret(server, "prod", "K", "v"))
    ok(server.request("POST", f"{ORG}/services", json_body=deploy_payload()), 201)
    key = create_key(server)
    carol = add_carol(server)
    for method, path, body in [
        ("GET", f"{ORG}/regions", None),
        ("GET", f"{ORG}/properties", None),
        ("GET", f"{ORG}/properties/schema", None),
        ("PATCH", f"{ORG}/properties", {"defaultRegion": "us-east"}),
        ("GET", f"{ORG}/apiKeys", None),
        ("POST", f"{ORG}/apiKeys", {"name": "x", "type": "public"}),
        ("DELETE", f"{ORG}/apiKeys/{key['id']}", None),
        ("GET", f"{ORG}/secrets", None),
        ("GET", f"{ORG}/secrets/prod", None),
        ("PUT", f"{ORG}/secrets/prod", {"secretKey": "K", "secretValue": "v"}),
        ("DELETE", f"{ORG}/secrets/prod/K", None),
        ("DELETE", f"{ORG}/secrets/prod", None),
        ("GET", f"{ORG}/services", None),
        ("POST", f"{ORG}/services", deploy_payload("x")),
        ("PUT", f"{ORG}/services", deploy_payload()),
        ("GET", f"{ORG}/services/my-agent", None),
        ("DELETE", f"{ORG}/services/my-agent", None),
        ("GET", f"{ORG}/services/my-agent/logs", None),
        ("GET", f"{ORG}/services/my-agent/deployments", None),
        ("GET", f"{ORG}/services/my-agent/sessions", None),
        ("GET", f"{ORG}/services/my-agent/sessions/s1", None),
        ("DELETE", f"{ORG}/services/my-agent/sessions/s1", None),
        ("GET", f"{ORG}/builds", None),
    ]:
        assert_not_found_like_missing_org(server, method, path, carol, json_body=body)
    # Nothing changed for acme.
    assert ok(server.get(f"{ORG}/apiKeys"))["public"][0]["revoked"] is False
    assert [s["name"] for s in ok(server.get(f"{ORG}/secrets"))["sets"]] == ["prod"]
    assert ok(server.get(f"{ORG}/services/my-agent"))
    # And carol's own organization is hers alone.
    assert ok(server.get("/v1/organizations/other/services", token=carol))["services"] == []


def test_no_full_key_or_secret_in_the_server_log(server):
    pub = create_key(server)["key"]
    priv = create_key(server, "ci", kind="private")["key"]
    ok(put_secret(server, "prod", "API_KEY", SECRET_VALUE))
    ok(server.request("POST", f"{ORG}/services", json_body=deploy_payload(secretSet="prod")), 201)
    start(server, "my-agent", pub)
    start(server, "my-agent", priv)
    # Keys pasted into a URL are redacted too.
    server.get(f"{ORG}/apiKeys/{pub}")
    server.get(f"{ORG}/secrets/{priv}")
    server.sync_log()
    log = server.stderr
    assert not FULL_KEY_RE.findall(log), FULL_KEY_RE.findall(log)
    assert SECRET_VALUE not in log


# --- review fixes: redeploys keep what they leave out, no empty secret sets, key order, ------
# --- expected refusals logged as such -------------------------------------------------------


def full_status(srv, name):
    body = ok(srv.get(f"{ORG}/services/{name}"))["body"]
    spec = body["deployment"]["manifest"]["spec"]
    return {"image": spec["image"], "autoScaling": body["autoScaling"],
            "secretSet": spec["envFromSecretNames"], "pull": spec.get("imagePullSecretName"),
            "profile": body["agentProfile"], "krispViva": body["krispViva"],
            "enableKrisp": spec["enableKrisp"], "websocketAuth": body["websocketAuth"],
            "maxSessionDuration": body["maxSessionDuration"]}


def test_an_update_keeps_every_field_it_leaves_out(server):
    ok(put_secret(server, "prod", "K", "v"))
    ok(put_pull_secret(server, "pull"))
    ok(server.request("POST", f"{ORG}/services", json_body={
        "serviceName": "a", "image": "repo/agent:1.0", "secretSet": "prod",
        "imagePullSecretSet": "pull", "autoScaling": {"minAgents": 2, "maxAgents": 5},
        "enableKrisp": True, "agentProfile": "agent-2x", "krispViva": {"audioFilter": "pro"},
        "websocketAuth": "none", "maxSessionDuration": 600}), 201)
    before = full_status(server, "a")
    assert before["autoScaling"] == {"minReplicas": 2, "maxReplicas": 5}

    # A new image alone: every other field stays as deployed.
    ok(server.request("PUT", f"{ORG}/services",
                      json_body={"serviceName": "a", "image": "repo/agent:2.0"}))
    assert full_status(server, "a") == dict(before, image="repo/agent:2.0")

    # What the reference client sends for `deploy a repo/agent:3.0` without --max-agents: the
    # maximum is left out and stays 5 (it used to fall back to 50); minAgents, enableKrisp and
    # krispViva are sent (0, false, {}) and so are set.
    ok(server.request("PUT", f"{ORG}/services", json_body=deploy_payload("a",
                                                                          image="repo/agent:3.0")))
    after = full_status(server, "a")
    assert after["autoScaling"] == {"minReplicas": 0, "maxReplicas": 5}
    assert after == dict(before, image="repo/agent:3.0", autoScaling=after["autoScaling"],
                         krispViva={"audioFilter": None}, enableKrisp=False)

    # Nothing but the name: nothing changes, and no new deployment is made.
    deployments = len(ok(server.get(f"{ORG}/services/a/deployments"))["deployments"])
    same = ok(server.request("PUT", f"{ORG}/services", json_body={"serviceName": "a"}))
    assert "unchanged" in same["warning"]
    assert len(ok(server.get(f"{ORG}/services/a/deployments"))["deployments"]) == deployments
    assert full_status(server, "a") == after

    # null asks for the default again: no secret set, no pull secret.
    ok(server.request("PUT", f"{ORG}/services", json_body={
        "serviceName": "a", "secretSet": None, "imagePullSecretSet": None}))
    cleared = full_status(server, "a")
    assert cleared["secretSet"] == [] and cleared["pull"] is None
    assert cleared == dict(after, secretSet=[], pull=None)

    # The bounds are checked against the kept value, and the message says it is the current one.
    r = server.request("PUT", f"{ORG}/services",
                       json_body={"serviceName": "a", "autoScaling": {"minAgents": 9}})
    msg = error_of(r, 400)
    assert "maxAgents" in msg and "(5, the current value)" in msg, msg
    assert full_status(server, "a") == cleared

    # A create still needs an image, and defaults what it leaves out.
    r = server.request("POST", f"{ORG}/services", json_body={"serviceName": "b"})
    assert "image" in error_of(r, 400)
    ok(server.request("POST", f"{ORG}/services",
                      json_body={"serviceName": "b", "image": "repo/agent:1.0"}), 201)
    assert full_status(server, "b")["autoScaling"] == {"minReplicas": 0, "maxReplicas": 50}


def test_a_kept_secret_set_that_is_gone_is_named_as_kept(server):
    ok(put_secret(server, "prod", "K", "v"))
    ok(server.request("POST", f"{ORG}/services", json_body=deploy_payload(secretSet="prod")),
       201)
    ok(server.request("DELETE", f"{ORG}/secrets/prod"))
    r = server.request("PUT", f"{ORG}/services", json_body=deploy_payload(image="repo/agent:2.0"))
    msg = error_of(r, 404)
    assert "secretSet (kept from the active deployment)" in msg and "prod" in msg, msg


def test_unsetting_the_last_key_deletes_the_set_everywhere(server):
    ok(put_secret(server, "solo", "ONE", "1"))
    ok(put_secret(server, "solo", "TWO", "2"))
    first = ok(server.request("DELETE", f"{ORG}/secrets/solo/ONE"))
    assert first["deleted"] is True and first["setDeleted"] is False
    assert [s["name"] for s in ok(server.get(f"{ORG}/secrets"))["sets"]] == ["solo"]

    last = ok(server.request("DELETE", f"{ORG}/secrets/solo/TWO"))
    assert last == {"status": "OK", "name": "solo", "key": "TWO", "deleted": True,
                    "setDeleted": True}
    # List, get and deploy agree: there is no set 'solo' (the reference client treats an empty
    # set as missing, so listing one it then refuses would mislead).
    assert ok(server.get(f"{ORG}/secrets"))["sets"] == []
    assert "solo" in error_of(server.get(f"{ORG}/secrets/solo"), 404)
    r = server.request("POST", f"{ORG}/services", json_body=deploy_payload(secretSet="solo"))
    assert "solo" in error_of(r, 404)
    # The name is free again: a new set starts with the new key alone.
    ok(put_secret(server, "solo", "THREE", "3"))
    assert [k["fieldName"] for k in ok(server.get(f"{ORG}/secrets/solo"))["secrets"]] == [
        "THREE"]
    details = [json.loads(row["detail"]) for row in server.query(
        "SELECT detail FROM audit_events WHERE event = 'secret.deleted' ORDER BY id")]
    assert [d["setDeleted"] for d in details] == [False, True]


def test_api_keys_created_in_the_same_second_list_oldest_first(server):
    created = [create_key(server, f"key {i}")["id"] for i in range(10)]
    listed = ok(server.get(f"{ORG}/apiKeys"))["public"]
    seconds = [k["createdAt"] for k in listed]
    assert max(seconds.count(s) for s in seconds) >= 3, "several keys share a second"
    assert [k["id"] for k in listed] == created
    assert [k["metadata"]["name"] for k in listed] == [f"key {i}" for i in range(10)]


def test_expected_refusals_are_logged_at_info_not_error(server):
    ok(server.request("POST", f"{ORG}/services", json_body=deploy_payload()), 201)
    key = create_key(server)["key"]
    assert start(server, "my-agent", key).status == 503
    assert server.get(f"{ORG}/builds").status == 501
    assert server.request("POST", f"{ORG}/builds/upload-url", json_body={}).status == 501
    server.sync_log()
    lines = [line for line in server.stderr.splitlines()
             if "RC_NO_RUNTIME" in line or "RC_NO_BUILDS" in line]
    assert len(lines) == 3, server.stderr[-3000:]
    for line in lines:
        assert line.split()[1] == "info" and " refused: " in line, line
    assert not [line for line in server.stderr.splitlines() if line.split()[1:2] == ["error"]]
