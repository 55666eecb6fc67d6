#!/usr/bin/env bash
# Installs the fleetpass controller on its host from a built checkout (`npm ci && npm run build`): the system
# user, the program in PREFIX with its production dependencies (`npm ci --omit=dev`, for the native SQLite
# module), /etc/fleetpass, /var/lib/fleetpass and the systemd unit. Safe to run again (upgrades use it too): it
# keeps the config and all state, repairs modes, and restarts the controller only when something changed.
set -euo pipefail

PROG=install-controller
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source-path=SCRIPTDIR source=install-common.sh
. "$HERE/install-common.sh"

usage() {
  cat <<EOF
Usage: install-controller.sh [options]

Options:
  --source DIR     the built fleetpass checkout (default: the directory above this script)
  --node PATH      the node binary (default: node on PATH); must be ${MIN_NODE_MAJOR}.${MIN_NODE_MINOR} or newer
  --prefix DIR     program directory (default: /opt/fleetpass)
  --skip-deps      do not run npm ci (node_modules is provided another way, e.g. an offline copy)
  --no-start       install and enable, but do not start
  --root DIR       install into DIR as a file-system root (images, tests): no start
  --dry-run        print what would be done, change nothing
  -h, --help       this help

Then: deploy/README.md, "Controller host" (firewall, first admin, backups).
EOF
}

SOURCE=$(cd "$HERE/.." && pwd) NODE="" PREFIX=/opt/fleetpass SKIP_DEPS=0 START=1
while [ "$#" -gt 0 ]; do
  case $1 in
    --source) need_value "$@"; SOURCE=${2%/}; shift 2 ;;
    --node) need_value "$@"; NODE=$2; shift 2 ;;
    --prefix) need_value "$@"; PREFIX=${2%/}; shift 2 ;;
    --root) need_value "$@"; ROOT=${2%/}; shift 2 ;;
    --skip-deps) SKIP_DEPS=1; shift ;;
    --no-start) START=0; shift ;;
    --dry-run) DRY_RUN=1; shift ;;
    -h | --help) usage; exit 0 ;;
    *) usage_error "unknown option $1" ;;
  esac
done

# --- checks: everything is validated before anything is changed ---
[ "$(uname -s)" = Linux ] || die "the controller unit needs Linux with systemd"
[ "$(id -u)" = 0 ] || [ "$DRY_RUN" = 1 ] || die "run as root; try --dry-run to see the steps"
case $PREFIX in /*) ;; *) usage_error "--prefix must be an absolute path" ;; esac
if [ -n "$ROOT" ]; then
  [ -d "$ROOT" ] || die "--root $ROOT is not a directory"
  ROOT=$(cd "$ROOT" && pwd)
fi
NODE=$(find_node "$NODE")
say "using Node $("$NODE" -p 'process.versions.node') at $NODE"
if [ "$SKIP_DEPS" = 0 ]; then
  command -v npm >/dev/null || die "npm is not installed (it comes with Node.js); or use --skip-deps"
fi
for f in dist/fleetpass-controller.js dist/fleetpass.js package.json package-lock.json; do
  [ -f "$SOURCE/$f" ] || die "$SOURCE/$f is missing: run \`npm ci && npm run build\` in the checkout first (or pass --source DIR)"
done
UNIT_SRC=$HERE/systemd/fleetpass-controller.service
EXAMPLE_CONFIG=$HERE/config/controller.example.yaml
for f in "$UNIT_SRC" "$EXAMPLE_CONFIG"; do [ -f "$f" ] || die "$f is missing"; done
[ "$DRY_RUN" = 1 ] && say "dry run: nothing is changed"

# --- the system user: no login, no home of its own beyond the state directory ---
if [ -n "$(uid_of fleetpass)" ]; then
  say "user fleetpass exists"
else
  nologin=/usr/sbin/nologin
  [ -x "$ROOT$nologin" ] || nologin=/sbin/nologin
  say "creating system user fleetpass"
  act useradd ${ROOT:+--root "$ROOT"} --system --user-group --home-dir /var/lib/fleetpass --no-create-home \
    --shell "$nologin" --comment "fleetpass controller" fleetpass
fi
FP_UID=$(uid_of fleetpass) FP_GID=$(gid_of fleetpass)
if [ -z "$FP_UID" ]; then
  [ "$DRY_RUN" = 1 ] || die "user fleetpass was not created"
  FP_UID=fleetpass FP_GID=fleetpass
fi

# --- program: owned by root, so the service cannot change its own code ---
install_dir "$ROOT$PREFIX" 0755
for f in package.json package-lock.json; do install_file "$SOURCE/$f" "$ROOT$PREFIX/$f" 0644; done
if [ -d "$ROOT$PREFIX/dist" ] && diff -rq "$SOURCE/dist" "$ROOT$PREFIX/dist" >/dev/null 2>&1; then
  say "unchanged $ROOT$PREFIX/dist"
else
  say "installing $ROOT$PREFIX/dist"
  # Swap in the new dist/ whole, so a running controller never sees half an upgrade on restart.
  act rm -rf "$ROOT$PREFIX/dist.new"
  act cp -R "$SOURCE/dist" "$ROOT$PREFIX/dist.new"
  act rm -rf "$ROOT$PREFIX/dist.old"
  if [ -d "$ROOT$PREFIX/dist" ]; then act mv "$ROOT$PREFIX/dist" "$ROOT$PREFIX/dist.old"; fi
  act mv "$ROOT$PREFIX/dist.new" "$ROOT$PREFIX/dist"
  act rm -rf "$ROOT$PREFIX/dist.old"
  CHANGED=1
fi
act chown -R 0:0 "$ROOT$PREFIX/dist"
act chmod -R u=rwX,go=rX "$ROOT$PREFIX/dist"
act chmod 0755 "$ROOT$PREFIX/dist/fleetpass-controller.js" "$ROOT$PREFIX/dist/fleetpass.js"
if [ "$SKIP_DEPS" = 0 ]; then
  # Production dependencies only; better-sqlite3's install script fetches its prebuilt native module.
  say "installing production dependencies (npm ci --omit=dev)"
  act env --chdir="$ROOT$PREFIX" npm ci --omit=dev --no-audit --no-fund
else
  say "skipping npm ci (--skip-deps): $PREFIX/node_modules must hold the production dependencies"
fi
ensure_system_dir "$ROOT/usr/local/bin"
act ln -sfn "$PREFIX/dist/fleetpass.js" "$ROOT/usr/local/bin/fleetpass"
act ln -sfn "$PREFIX/dist/fleetpass-controller.js" "$ROOT/usr/local/bin/fleetpass-controller"

# --- config (readable by the service, writable only by root) and state (the service's alone) ---
install_dir "$ROOT/etc/fleetpass" 0750 0 "$FP_GID"
CONFIG=$ROOT/etc/fleetpass/controller.yaml
if [ -e "$CONFIG" ]; then
  say "keeping $CONFIG (compare with $EXAMPLE_CONFIG after upgrades)"
  act chmod 0640 "$CONFIG"
  act chown "0:$FP_GID" "$CONFIG"
else
  say "writing $CONFIG from the example: set tls.hosts to this host's names before agents enroll"
  install_file "$EXAMPLE_CONFIG" "$CONFIG" 0640 0 "$FP_GID"
fi
install_dir "$ROOT/var/lib/fleetpass" 0700 "$FP_UID" "$FP_GID"

# --- systemd unit ---
ensure_system_dir "$ROOT/etc/systemd/system"
RENDERED=$(mktemp)
trap 'rm -f "$RENDERED"' EXIT
render_unit "$UNIT_SRC" "$NODE" "$PREFIX" >"$RENDERED"
install_file "$RENDERED" "$ROOT/etc/systemd/system/fleetpass-controller.service" 0644

enable_and_start fleetpass-controller.service "$START"
cat <<EOF
$PROG: done. Next (deploy/README.md, "Controller host"):
  journalctl -u fleetpass-controller | grep 'CA fingerprint'     # agents pin this at enrollment
  sudo -u fleetpass fleetpass-controller bootstrap-admin --config /etc/fleetpass/controller.yaml --name <you>
EOF
