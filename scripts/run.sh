#!/bin/sh
# run.sh BUILD_DIR: the `make run` main job. Initialises ./var once, makes sure a demo user and
# organization exist, prints a fresh personal access token with the lines to use it, then
# serves the API on 127.0.0.1:8787 (PCCD_DATA and PCCD_LISTEN override both).
set -eu
bin=$1
data=${PCCD_DATA:-var}
listen=${PCCD_LISTEN:-127.0.0.1:8787}
url="http://$listen"
# Agents run on the container engine scripts/engine.sh sets up (rootful Podman), unless
# PCCD_RUNTIME says otherwise; without one, pccd starts with the "none" runtime and says why.
if [ -z "${PCCD_RUNTIME:-}" ]; then
    if sock=$(sh scripts/engine.sh); then
        PCCD_RUNTIME=docker:$sock
    else
        echo "run: no container engine could be set up (see above): agents cannot start" >&2
        PCCD_RUNTIME=none
    fi
    export PCCD_RUNTIME
fi

"$bin/pccd" init --data "$data"
"$bin/pccd" user add --data "$data" --email demo@example.com --name "Demo User" \
    --org demo --org-name "Demo Organization" 2>/dev/null
token=$("$bin/pccd" token create --data "$data" --user demo@example.com \
    --name "make run $(date -u +%Y-%m-%dT%H:%M:%SZ)" 2>/dev/null)

cat <<TXT

  pcc is starting: API on $url (data in $data/, SQLite)
  Dashboard: $url/ (sign-up is open: create an account, then a token under
  Personal access tokens)

  A personal access token for demo@example.com, organization "demo" (shown only now):

      $token

  In another shell, from this directory:

      export PIPECAT_API_HOST=$url PIPECAT_TOKEN=$token
      export PATH="\$PWD/$bin:\$PATH"
      pipecat cloud auth whoami

  Stop with Ctrl-C. Tokens: pipecat cloud tokens list | create --name NAME | revoke ID

TXT
exec "$bin/pccd" serve --data "$data" --listen "$listen" --signup "${PCCD_SIGNUP:-open}"
