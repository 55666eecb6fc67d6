#!/usr/bin/env bash
# Installs the fleetpass agent on a node (NextSeq, SSR router, any Linux host): no compiler, no npm, only
# Node.js and the one bundled file. Safe to run again: it repairs modes, keeps an existing config and enrollment,
# and restarts the agent only when the program or the unit changed. deploy/README.md walks through it.
set -euo pipefail

PROG=install-agent
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source-path=SCRIPTDIR source=install-common.sh
. "$HERE/install-common.sh"

usage() {
  cat <<EOF
Usage: install-agent.sh --controller HOST:PORT --ca-fingerprint sha256:HEX [--token-file FILE] [options]

Installs the agent to PREFIX, its config in /etc/fleetpass, its state in /var/lib/fleetpass-agent and the
systemd unit; enrolls the node with the controller; enables and starts fleetpass-agent.service.

The enrollment token is a one-time secret, so it is never taken on the command line (other users can read
argv): give --token-file FILE (removed by you afterwards), or pipe it on stdin:
  fleetpass enroll-token create ... | sudo ./install-agent.sh --controller fp.example.org:7443 --ca-fingerprint sha256:...

Options:
  --controller HOST:PORT    the controller's agent address (written into a new agent.yaml; used to enroll)
  --ca-fingerprint FP       the controller CA's SHA-256 fingerprint (printed by the controller at start)
  --token-file FILE         read the enrollment token from FILE (default: stdin, when it is not a terminal)
  --agent FILE              the bundled fleetpass-agent.js (default: next to this script, or ../dist/)
  --node PATH               the node binary (default: node on PATH); must be ${MIN_NODE_MAJOR}.${MIN_NODE_MINOR} or newer
  --prefix DIR              program directory (default: /opt/fleetpass)
  --ssr                     also install the SSR drop-in (lets the agent read the conductor's local key)
  --no-enroll               skip enrollment (already enrolled, or enroll later by hand)
  --no-start                install and enable, but do not start
  --root DIR                install into DIR as a file-system root (images, tests): no enrollment, no start
  --dry-run                 print what would be done, change nothing
  -h, --help                this help
EOF
}

CONTROLLER="" FINGERPRINT="" TOKEN_FILE="" AGENT_JS="" NODE="" PREFIX=/opt/fleetpass
SSR=0 ENROLL=1 START=1
while [ "$#" -gt 0 ]; do
  case $1 in
    --controller) need_value "$@"; CONTROLLER=$2; shift 2 ;;
    --ca-fingerprint) need_value "$@"; FINGERPRINT=$2; shift 2 ;;
    --token-file) need_value "$@"; TOKEN_FILE=$2; shift 2 ;;
    --token | --token=*) usage_error "the token is a secret and is not taken on the command line: use --token-file FILE or stdin" ;;
    --agent) need_value "$@"; AGENT_JS=$2; shift 2 ;;
    --node) need_value "$@"; NODE=$2; shift 2 ;;
    --prefix) need_value "$@"; PREFIX=${2%/}; shift 2 ;;
    --root) need_value "$@"; ROOT=${2%/}; shift 2 ;;
    --ssr) SSR=1; shift ;;
    --no-enroll) ENROLL=0; shift ;;
    --no-start) START=0; shift ;;
    --dry-run) DRY_RUN=1; shift ;;
    -h | --help) usage; exit 0 ;;
    *) usage_error "unknown option $1" ;;
  esac
done

# --- checks: everything is validated before anything is changed ---
[ "$(uname -s)" = Linux ] || die "the agent runs on Linux only"
[ "$(id -u)" = 0 ] || [ "$DRY_RUN" = 1 ] || die "run as root (the agent manages local accounts); try --dry-run to see the steps"
case $PREFIX in /*) ;; *) usage_error "--prefix must be an absolute path" ;; esac
if [ -n "$ROOT" ]; then
  [ -d "$ROOT" ] || die "--root $ROOT is not a directory"
  ROOT=$(cd "$ROOT" && pwd)
  ENROLL=0
fi
NODE=$(find_node "$NODE")
say "using Node $("$NODE" -p 'process.versions.node') at $NODE"

if [ -z "$AGENT_JS" ]; then
  for candidate in "$HERE/fleetpass-agent.js" "$(dirname "$HERE")/dist/fleetpass-agent.js"; do
    if [ -f "$candidate" ]; then AGENT_JS=$candidate; break; fi
  done
fi
if [ -z "$AGENT_JS" ] || [ ! -f "$AGENT_JS" ]; then
  die "fleetpass-agent.js not found: build it with \`npm run build\` or pass --agent FILE"
fi
[ "$(head -c 2 "$AGENT_JS")" = '#!' ] || die "$AGENT_JS does not look like the bundled agent (no #! line)"
UNIT_SRC=$HERE/systemd/fleetpass-agent.service
EXAMPLE_CONFIG=$HERE/config/agent.example.yaml
SSR_DROPIN_SRC=$HERE/systemd/fleetpass-agent-ssr.conf
for f in "$UNIT_SRC" "$EXAMPLE_CONFIG"; do [ -f "$f" ] || die "$f is missing: run this script from the fleetpass deploy/ directory"; done

if [ -n "$CONTROLLER" ]; then
  [[ $CONTROLLER =~ ^(\[[0-9a-fA-F:]+\]|[A-Za-z0-9.-]+):[0-9]{1,5}$ ]] || usage_error "--controller must be HOST:PORT, e.g. fleetpass.example.org:7443"
fi
if [ -n "$FINGERPRINT" ]; then
  [[ $FINGERPRINT =~ ^sha256:([0-9a-fA-F]{2}:?){31}[0-9a-fA-F]{2}$ ]] || usage_error "--ca-fingerprint must be sha256: followed by 64 hex digits"
fi

CONFIG=$ROOT/etc/fleetpass/agent.yaml
STATE=$ROOT/var/lib/fleetpass-agent
# The certificate the agent's config names (the example keeps it in the state directory).
cert_file() {
  local c
  c=$(sed -n 's/^  certFile:[[:space:]]*"\{0,1\}\([^"#[:space:]]*\).*/\1/p' "$CONFIG" 2>/dev/null | head -n 1)
  printf '%s\n' "${c:-/var/lib/fleetpass-agent/node.crt}"
}

TOKEN_TMP=""
cleanup() { if [ -n "$TOKEN_TMP" ]; then rm -rf "$TOKEN_TMP"; fi; }
trap cleanup EXIT

if [ "$ENROLL" = 1 ] && [ -e "$ROOT$(cert_file)" ]; then
  say "already enrolled ($(cert_file) exists): skipping enrollment"
  ENROLL=0
fi
if [ "$ENROLL" = 1 ]; then
  [ -n "$CONTROLLER" ] || usage_error "--controller is required to enroll (or --no-enroll)"
  [ -n "$FINGERPRINT" ] || usage_error "--ca-fingerprint is required to enroll: it pins the controller's CA (or --no-enroll)"
  if [ -n "$TOKEN_FILE" ]; then
    if [ ! -r "$TOKEN_FILE" ] || [ ! -s "$TOKEN_FILE" ]; then die "--token-file $TOKEN_FILE is not a readable, non-empty file"; fi
  elif [ -t 0 ]; then
    usage_error "no enrollment token: give --token-file FILE or pipe the token on stdin"
  elif [ "$DRY_RUN" = 0 ]; then
    # The token goes to the enroll command as a 0600 file in a private directory, never through argv.
    TOKEN_TMP=$(umask 077 && mktemp -d "${TMPDIR:-/tmp}/fleetpass-enroll.XXXXXX")
    IFS= read -r token || true
    [ -n "$token" ] || die "the enrollment token on stdin is empty"
    (umask 077 && printf '%s\n' "$token" >"$TOKEN_TMP/token")
    unset token
    TOKEN_FILE=$TOKEN_TMP/token
  else
    TOKEN_FILE="<stdin>"
  fi
fi
[ "$DRY_RUN" = 1 ] && say "dry run: nothing is changed"

# --- program ---
install_dir "$ROOT$PREFIX" 0755
install_file "$AGENT_JS" "$ROOT$PREFIX/fleetpass-agent.js" 0755
ensure_system_dir "$ROOT/usr/local/bin"
act ln -sfn "$PREFIX/fleetpass-agent.js" "$ROOT/usr/local/bin/fleetpass-agent"

# --- config and state ---
install_dir "$ROOT/etc/fleetpass" 0750
if [ -e "$CONFIG" ]; then
  say "keeping $CONFIG (compare with $EXAMPLE_CONFIG after upgrades)"
  act chmod 0600 "$CONFIG"
else
  say "writing $CONFIG from the example${CONTROLLER:+ with controller.address $CONTROLLER}"
  [ -n "$CONTROLLER" ] || warn "no --controller: edit controller.address in $CONFIG before starting"
  if [ "$DRY_RUN" = 0 ]; then
    (umask 077 && sed -e "s#^  address: \"fleetpass.example.org:7443\"#  address: \"${CONTROLLER:-fleetpass.example.org:7443}\"#" "$EXAMPLE_CONFIG" >"$CONFIG")
    chmod 0600 "$CONFIG"
  fi
fi
install_dir "$STATE" 0700
# pam_tally2 creates its file on the first failed login; one created later would stay read-only inside the
# sandbox (ReadWritePaths needs it to exist at start), so create it now on nodes that use pam_tally2.
if grep -qs pam_tally2 "$ROOT"/etc/pam.d/*; then
  if [ ! -e "$ROOT/var/log/tallylog" ]; then
    say "creating /var/log/tallylog (this node uses pam_tally2)"
    ensure_system_dir "$ROOT/var/log"
    act install -m 0600 /dev/null "$ROOT/var/log/tallylog"
  fi
fi

# --- systemd unit ---
ensure_system_dir "$ROOT/etc/systemd/system"
RENDERED=$(mktemp)
trap 'cleanup; rm -f "$RENDERED"' EXIT
render_unit "$UNIT_SRC" "$NODE" "$PREFIX" >"$RENDERED"
install_file "$RENDERED" "$ROOT/etc/systemd/system/fleetpass-agent.service" 0644
if [ "$SSR" = 1 ]; then
  install_dir "$ROOT/etc/systemd/system/fleetpass-agent.service.d" 0755
  install_file "$SSR_DROPIN_SRC" "$ROOT/etc/systemd/system/fleetpass-agent.service.d/ssr.conf" 0644
fi

# --- enrollment: the node makes its key here and gets its certificate; the token is used once ---
if [ "$ENROLL" = 1 ]; then
  say "enrolling with $CONTROLLER (CA $FINGERPRINT)"
  act "$NODE" "$PREFIX/fleetpass-agent.js" enroll --config /etc/fleetpass/agent.yaml \
    --controller "$CONTROLLER" --ca-fingerprint "$FINGERPRINT" --token-file "$TOKEN_FILE"
elif [ -z "$ROOT" ] && [ ! -e "$(cert_file)" ]; then
  warn "not enrolled: the agent cannot connect until you run fleetpass-agent enroll (deploy/README.md)"
fi

enable_and_start fleetpass-agent.service "$START"
say "done. Check it with: fleetpass-agent check-config && systemctl status fleetpass-agent"
