# shellcheck shell=bash
# Shared by install-agent.sh and install-controller.sh (sourced, not run): messages, the dry-run switch,
# the --root prefix, the Node version check and idempotent file installation.

# Node version every fleetpass program needs (package.json "engines").
MIN_NODE_MAJOR=24
MIN_NODE_MINOR=11

DRY_RUN=0
ROOT=""
CHANGED=0

say() { printf '%s: %s\n' "$PROG" "$*"; }
warn() { printf '%s: warning: %s\n' "$PROG" "$*" >&2; }
die() { printf '%s: error: %s\n' "$PROG" "$*" >&2; exit 1; }
usage_error() { printf '%s: %s (see --help)\n' "$PROG" "$*" >&2; exit 2; }

# Runs a command, or in --dry-run prints it (shell-quoted) instead.
act() {
  if [ "$DRY_RUN" = 1 ]; then
    printf '  would run:'
    printf ' %q' "$@"
    printf '\n'
  else
    "$@"
  fi
}

# The value of an option that takes one, or a usage error.
need_value() {
  if [ "$#" -lt 2 ] || [ -z "$2" ]; then usage_error "$1 needs a value"; fi
}

# Absolute node binary that is at least MIN_NODE_MAJOR.MIN_NODE_MINOR; prints its path.
find_node() {
  local node=$1 version major minor
  if [ -z "$node" ]; then
    node=$(command -v node || true)
    [ -n "$node" ] || die "node is not installed: install Node.js ${MIN_NODE_MAJOR}.${MIN_NODE_MINOR} or newer (no compiler is needed)"
  fi
  [ -x "$node" ] || die "$node is not an executable"
  case $node in /*) ;; *) node=$(cd "$(dirname "$node")" && pwd)/$(basename "$node") ;; esac
  version=$("$node" -p 'process.versions.node') || die "$node does not run"
  major=${version%%.*}
  minor=${version#*.}
  minor=${minor%%.*}
  if [ "$major" -lt "$MIN_NODE_MAJOR" ] || { [ "$major" -eq "$MIN_NODE_MAJOR" ] && [ "$minor" -lt "$MIN_NODE_MINOR" ]; }; then
    die "$node is Node $version; fleetpass needs ${MIN_NODE_MAJOR}.${MIN_NODE_MINOR} or newer"
  fi
  printf '%s\n' "$node"
}

# install_file SRC DEST MODE [OWNER GROUP]: copies only when the content differs (reports it), then
# sets mode and owner either way, so a rerun repairs permissions and changes nothing else.
install_file() {
  local src=$1 dest=$2 mode=$3 owner=${4:-0} group=${5:-0}
  if [ -e "$dest" ] && cmp -s "$src" "$dest"; then
    say "unchanged $dest"
  else
    say "installing $dest"
    act install -m "$mode" -o "$owner" -g "$group" "$src" "$dest"
    CHANGED=1
  fi
  act chmod "$mode" "$dest"
  act chown "$owner:$group" "$dest"
}

# install_dir DIR MODE [OWNER GROUP]: creates or repairs a directory.
install_dir() {
  local dir=$1 mode=$2 owner=${3:-0} group=${4:-0}
  [ -d "$dir" ] || say "creating $dir"
  act install -d -m "$mode" -o "$owner" -g "$group" "$dir"
}

# ensure_system_dir DIR: a shared system directory (/usr/local/bin, /etc/systemd/system) is created when
# missing but never re-moded or re-owned: other software owns it.
ensure_system_dir() {
  if [ ! -d "$1" ]; then
    say "creating $1"
    act install -d -m 0755 "$1"
  fi
}

# The unit with ExecStart pointed at this node binary and install prefix, written to stdout.
render_unit() {
  local unit=$1 node=$2 prefix=$3
  sed -e "s#^ExecStart=/usr/bin/node #ExecStart=${node} #" -e "s#/opt/fleetpass/#${prefix}/#g" "$unit"
}

# Numeric uid / gid of a name in the target root's passwd / group file (empty when absent).
uid_of() { awk -F: -v n="$1" '$1 == n { print $3 }' "$ROOT/etc/passwd" 2>/dev/null; }
gid_of() { awk -F: -v n="$1" '$1 == n { print $3 }' "$ROOT/etc/group" 2>/dev/null; }

# systemctl for the live system, or --root=... (enable only) when installing into another root.
enable_and_start() {
  local unit=$1 start=$2
  if [ -n "$ROOT" ]; then
    act systemctl --root="$ROOT" enable "$unit"
    say "not started: --root installs files only"
    return
  fi
  act systemctl daemon-reload
  if [ "$start" = 1 ]; then
    act systemctl enable --now "$unit"
    # A rerun that changed the program or the unit takes effect now; one that changed nothing leaves it running.
    if [ "$CHANGED" = 1 ]; then act systemctl try-restart "$unit"; fi
  else
    act systemctl enable "$unit"
    say "not started (--no-start): systemctl start $unit"
  fi
}
