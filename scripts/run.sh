#!/bin/sh
# run.sh BUILD_DIR: the `make run` main job. Initialises ./var once, makes sure a demo user and
# organization exist, prints a fresh personal access token with the lines to use it, then
# serves the API on 127.0.0.1:8787 (PCCD_DATA and PCCD_LISTEN override both). When a pccd
# already answers there, it says so and makes nothing.
set -eu
bin=$1
data=${PCCD_DATA:-var}
listen=${PCCD_LISTEN:-127.0.0.1:8787}
url="http://$listen"
# The demo token is kept (0600, beside the server secret) so that the README's commands can
# read it: `export PIPECAT_TOKEN=$(cat var/demo-token)`.
token_file="$data/demo-token"

# Is anything answering on the address? pccd's /healthz says {"status":"ok",...}; anything else
# holding the port would make `pccd serve` fail after a token had been made for nothing.
health=$(curl -s -m 2 "$url/healthz" 2>/dev/null || true)
if [ -n "$health" ] || curl -s -m 2 -o /dev/null "$url/" 2>/dev/null; then
    case $health in
    *'"status"'*)
        echo "pccd is already serving on $url: nothing started, no token made." >&2
        if [ -r "$token_file" ]; then
            echo "The demo token it was started with is in $token_file:" >&2
            echo "    export PIPECAT_API_HOST=$url PIPECAT_TOKEN=\$(cat $token_file)" >&2
        fi
        exit 0 ;;
    *)
        echo "something other than pccd answers on $url: stop it, or choose another address" \
             "with PCCD_LISTEN=127.0.0.1:PORT make run" >&2
        exit 1 ;;
    esac
fi

"$bin/pccd" init --data "$data"
"$bin/pccd" user add --data "$data" --email demo@example.com --name "Demo User" \
    --org demo --org-name "Demo Organization" --join 2>/dev/null ||
"$bin/pccd" user add --data "$data" --email demo@example.com --name "Demo User" \
    --org demo --org-name "Demo Organization" 2>/dev/null
token=$("$bin/pccd" token create --data "$data" --user demo@example.com \
    --name "make run $(date -u +%Y-%m-%dT%H:%M:%SZ)" 2>/dev/null)
(umask 077 && printf '%s\n' "$token" >"$token_file")

cat <<TXT

  pcc is starting: API on $url (data in $data/, SQLite)
  Dashboard: $url/ (sign-up is open: create an account, then a token under
  Personal access tokens)

  A personal access token for demo@example.com, organization "demo" (shown only now, and kept
  in $token_file for the README's commands):

      $token

  In another shell, from this directory:

      export PIPECAT_API_HOST=$url PIPECAT_TOKEN=\$(cat $token_file)
      export PATH="\$PWD/$bin:\$PATH"
      pipecat cloud auth whoami

  Stop with Ctrl-C. Tokens: pipecat cloud tokens list | create --name NAME | revoke ID

TXT
exec "$bin/pccd" serve --data "$data" --listen "$listen" --signup "${PCCD_SIGNUP:-open}"
