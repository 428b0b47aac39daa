# Shared setup for scripts/test and scripts/demo: a Python >= 3.11, the Debian packages the
# real test peers need, and an idempotent virtualenv in .venv. Sourced, not run.

VENV="${DOORSTEP_VENV:-.venv}"

die() { printf 'doorstep: %s\n' "$*" >&2; exit 1; }

# Pick the first Python >= 3.11 on PATH.
find_python() {
    local candidate
    for candidate in "${PYTHON:-}" python3.13 python3.12 python3.11 python3; do
        [ -n "$candidate" ] || continue
        command -v "$candidate" >/dev/null 2>&1 || continue
        if "$candidate" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
            command -v "$candidate"
            return 0
        fi
    done
    die "Python 3.11 or newer is required (set PYTHON=/path/to/python3.11 to choose one)"
}

missing_debian_packages() {
    local pkg
    for pkg in "$@"; do
        dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' \
            || printf '%s ' "$pkg"
    done
}

# Install Debian packages when we can (root + apt); otherwise stop and name them. Never skip.
ensure_debian_packages() {
    command -v dpkg-query >/dev/null 2>&1 || die "not a Debian-like system: install the equivalents of: $*"
    local missing
    missing=$(missing_debian_packages "$@")
    [ -n "$missing" ] || return 0
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
        echo "doorstep: installing Debian packages: $missing"
        apt-get update -qq
        # shellcheck disable=SC2086  # word splitting of the package list is intended
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $missing
    else
        die "missing Debian packages: $missing
run as root, or install them first:  sudo apt-get install $missing"
    fi
}

# Create .venv once and (re)install the project only when pyproject.toml changed.
# $1: the extra to install ("" for none); a venv that already has an extra serves the bare need too.
ensure_venv() {
    local extras="$1" python stamp hash have spec="."
    [ -z "$extras" ] || spec=".[$extras]"
    python=$(find_python)
    if ! "$python" -c 'import ensurepip, venv' >/dev/null 2>&1; then
        ensure_debian_packages "python3-venv"
    fi
    if [ ! -x "$VENV/bin/python" ]; then
        echo "doorstep: creating virtualenv $VENV with $python"
        "$python" -m venv "$VENV"
    fi
    stamp="$VENV/.doorstep-installed"
    hash=$(sha256sum pyproject.toml | cut -d' ' -f1)
    have=$(cat "$stamp" 2>/dev/null || true)
    if [ "$have" = "$hash $extras" ] || { [ -z "$extras" ] && [ "${have%% *}" = "$hash" ]; }; then
        return 0
    fi
    echo "doorstep: installing doorstep$([ -z "$extras" ] || echo "[$extras]") into $VENV"
    # --no-compile: byte-compiling every installed package takes 20 s; Python compiles the
    # modules it actually imports on first use.
    "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check --no-compile -e "$spec"
    printf '%s %s' "$hash" "$extras" >"$stamp"
}
