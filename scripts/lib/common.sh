# shellcheck shell=bash
# Shared helpers for scripts/setup.sh: messages, root check, log files.
#
# Every step prints exactly one line that starts with a verb:
#   ok: ...          the step found things in order (or finished its work)
#   building: ...    something is being built/installed right now (may take a while)
#   pulling: ...     docker pull of a missing image (falls back to a local build)
#   warning: ...     something is missing but setup can go on
#   error: ... fix: ...   setup stops; the fix says what to do

ok()       { printf 'ok: %s\n' "$*"; }
building() { printf 'building: %s\n' "$*"; }
warning()  { printf 'warning: %s\n' "$*" >&2; HARNESS_WARNINGS=$((HARNESS_WARNINGS + 1)); }

# die MESSAGE FIX  -- print one error line and stop.
die() {
    printf 'error: %s fix: %s\n' "$1" "$2" >&2
    exit 1
}

# die_with_log MESSAGE FIX LOGFILE -- like die, but first show the end of a log.
die_with_log() {
    if [[ -s "$3" ]]; then
        echo "---- last lines of $3 ----" >&2
        tail -n 25 "$3" >&2
        echo "----" >&2
    fi
    die "$1" "$2"
}

is_root() { [[ "$(id -u)" -eq 0 ]]; }

# log_file NAME -- path of a log file under build/setup/ (created on demand).
log_file() {
    mkdir -p "$HARNESS_BUILD_DIR"
    printf '%s/%s.log' "$HARNESS_BUILD_DIR" "$1"
}

# apt_install PACKAGE... -- install Debian packages (root only), quietly.
apt_install() {
    local log
    log="$(log_file apt)"
    is_root || die "need Debian packages: $*" "run 'sudo apt-get install $*' and rerun make setup"
    command -v apt-get >/dev/null || die "need packages $* but apt-get is missing" "install them with your package manager"
    building "installing Debian packages: $* (log: $log)"
    {
        DEBIAN_FRONTEND=noninteractive apt-get update &&
        DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "$@"
    } >"$log" 2>&1 || die_with_log "apt-get install $* failed" "check the apt sources and network, then rerun make setup" "$log"
}
