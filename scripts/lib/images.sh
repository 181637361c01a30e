# shellcheck shell=bash
# Step 4: the Docker images harness needs.
#   - base image debian:bookworm-slim   (pull, else debootstrap + docker import)
#   - ghcr.io/shopify/toxiproxy:2.12.0  (pull, else go install + FROM scratch image)
#   - our targets harness/shop*, built every run from targets/* (layer cache keeps it fast)
#   - the receivers of the export tests, built the same way from images/*
#   - harness/worker:0.1, a Locust worker of harness (images/worker), built every run from wheels
#     prepared here: the dependencies (downloaded once per .venv change) and harness itself
#     (rebuilt when the checkout's code changes; the last layer of the image)
#   - harness/nettools (iptables), the helper container of the iptables faults on a remote engine

HARNESS_DEBIAN_SUITE="bookworm"
HARNESS_TOXIPROXY_VERSION="${HARNESS_TOXIPROXY_VERSION:-2.12.0}"
HARNESS_BASE_IMAGE="${HARNESS_BASE_IMAGE:-debian:bookworm-slim}"
HARNESS_TOXIPROXY_IMAGE="${HARNESS_TOXIPROXY_IMAGE:-ghcr.io/shopify/toxiproxy:$HARNESS_TOXIPROXY_VERSION}"
HARNESS_PULL_TIMEOUT="${HARNESS_PULL_TIMEOUT:-300}"
HARNESS_MIN_GO="1.23"
BASE_IMAGE_ROOTFS=""   # set while a debootstrap rootfs exists

# Target images, and the receivers of the export tests: "TAG CONTEXT-DIR" (relative to the
# repo root). They build FROM debian:bookworm-slim, which setup_images makes sure of first.
HARNESS_TARGET_IMAGES=(
    "harness/shop:0.1 targets/shop"
    "harness/shop-lb:0.1 targets/lb"
    "harness/shop-redis:0.1 targets/redis"
    "harness/nginx:0.1 targets/nginx-httpbin/nginx"
    "harness/httpbin:0.1 targets/nginx-httpbin/httpbin"
    "harness/prometheus:0.1 images/prometheus"
    "harness/export-receivers:0.1 images/export-receivers"
    "harness/nettools:0.1 images/nettools"
    "harness/static-nginx:0.1 images/static-nginx"
)

image_present() { docker image inspect "$1" >/dev/null 2>&1; }

# try_pull TAG -- true when the pull worked. Bounded in time, output to a log.
try_pull() {
    local log
    log="$(log_file "pull-$(slug "$1")")"
    timeout "$HARNESS_PULL_TIMEOUT" docker pull "$1" >"$log" 2>&1
}

# slug TAG -- a file-name-safe form of an image tag.
slug() { printf '%s' "$1" | tr -c 'A-Za-z0-9._-' '_'; }

# ensure_image TAG BUILD_FUNCTION -- present? ok. Pull works? ok. Else build locally.
ensure_image() {
    local tag="$1" build="$2" started=$SECONDS
    if image_present "$tag"; then
        ok "image $tag present"
        return
    fi
    echo "pulling: $tag (bounded to ${HARNESS_PULL_TIMEOUT}s; builds it locally if the pull fails)"
    if try_pull "$tag"; then
        ok "image $tag pulled"
        return
    fi
    "$build" "$tag"
    image_present "$tag" || die "building $tag finished but the image is missing" "read the logs in $HARNESS_BUILD_DIR"
    ok "image $tag built locally in $((SECONDS - started))s"
}

# --- debian:bookworm-slim via debootstrap ------------------------------------

debian_mirror() {
    if [[ -n "${HARNESS_DEBIAN_MIRROR:-}" ]]; then
        printf '%s' "$HARNESS_DEBIAN_MIRROR"
    else
        apt_uri_for_suite "$HARNESS_DEBIAN_SUITE"
    fi
}

# write_image_sources ROOTFS MIRROR -- apt sources inside the image: the suite,
# plus -updates and -security when the host's apt configuration has them.
write_image_sources() {
    local rootfs="$1" mirror="$2" suite="$HARNESS_DEBIAN_SUITE" updates security
    updates="$(apt_uri_for_suite "$suite-updates")"
    security="$(apt_uri_for_suite "$suite-security")"
    {
        echo "deb $mirror $suite main"
        [[ -n "$updates" ]] && echo "deb $updates $suite-updates main"
        [[ -n "$security" ]] && echo "deb $security $suite-security main"
        true
    } >"$rootfs/etc/apt/sources.list"
}

# Remove what a container image does not need (apt lists, caches, logs).
trim_rootfs() {
    local rootfs="$1"
    rm -rf "$rootfs"/var/lib/apt/lists/* "$rootfs"/var/cache/apt/*.bin \
        "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/log/*.log \
        "$rootfs"/var/log/apt/* "$rootfs"/tmp/* "$rootfs"/debootstrap
}

build_base_image() {
    local tag="$1" mirror log include=()
    is_root || die "no registry has $tag and building it needs root (debootstrap)" "run 'sudo make setup' once, or docker pull $tag where a registry is reachable"
    command -v debootstrap >/dev/null || apt_install debootstrap
    mirror="$(debian_mirror)"
    [[ -n "$mirror" ]] ||
        die "no Debian mirror for '$HARNESS_DEBIAN_SUITE' found in /etc/apt/sources.list{,.d/}" "rerun as HARNESS_DEBIAN_MIRROR=http://YOUR-DEBIAN-MIRROR/debian make setup"
    [[ "$mirror" == https://* ]] && include=(--include=ca-certificates)
    log="$(log_file "debootstrap-$(slug "$tag")")"
    # Global, so the EXIT trap can clean up after an error or Ctrl-C.
    BASE_IMAGE_ROOTFS="$(mktemp -d /var/tmp/harness-rootfs.XXXXXX)"
    trap 'remove_rootfs "$BASE_IMAGE_ROOTFS"' EXIT
    building "$tag: debootstrap --variant=minbase $HARNESS_DEBIAN_SUITE from $mirror (about a minute; log: $log)"
    debootstrap --variant=minbase "${include[@]}" "$HARNESS_DEBIAN_SUITE" "$BASE_IMAGE_ROOTFS" "$mirror" >"$log" 2>&1 ||
        die_with_log "debootstrap of $HARNESS_DEBIAN_SUITE from $mirror failed" "check the mirror (or set HARNESS_DEBIAN_MIRROR=...) and rerun make setup" "$log"
    write_image_sources "$BASE_IMAGE_ROOTFS" "$mirror"
    trim_rootfs "$BASE_IMAGE_ROOTFS"
    tar -C "$BASE_IMAGE_ROOTFS" -c . | docker import \
        --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
        --change 'CMD ["bash"]' - "$tag" >>"$log" 2>&1 ||
        die_with_log "docker import of the $HARNESS_DEBIAN_SUITE rootfs as $tag failed" "read $log and rerun make setup" "$log"
    remove_rootfs "$BASE_IMAGE_ROOTFS"
    trap - EXIT
}

# remove_rootfs DIR -- unmount anything debootstrap left mounted, then delete,
# never crossing into another file system.
remove_rootfs() {
    local rootfs="$1" mnt
    [[ -n "$rootfs" && -d "$rootfs" ]] || return 0
    while read -r mnt; do
        umount -l "$mnt" 2>/dev/null || true
    done < <(awk -v root="$rootfs/" 'index($2, root) == 1 { print $2 }' /proc/mounts | sort -r)
    rm -rf --one-file-system "$rootfs"
}

# --- toxiproxy via go install ------------------------------------------------

# find_go -- path of a `go` >= 1.23 (PATH, then /usr/local/go/bin), or nothing.
find_go() {
    local go
    for go in "$(command -v go 2>/dev/null)" /usr/local/go/bin/go; do
        [[ -n "$go" && -x "$go" ]] || continue
        if go_is_new_enough "$go"; then
            printf '%s' "$go"
            return
        fi
    done
}

# go_is_new_enough GO -- true when `GO env GOVERSION` (e.g. go1.26.0) >= HARNESS_MIN_GO.
go_is_new_enough() {
    local version major minor
    version="$("$1" env GOVERSION 2>/dev/null)" || return 1
    version="${version#go}"
    major="${version%%.*}"
    minor="${version#*.}"
    minor="${minor%%[!0-9]*}"
    [[ "$major" =~ ^[0-9]+$ && "$minor" =~ ^[0-9]+$ ]] || return 1
    ((major > ${HARNESS_MIN_GO%%.*} || (major == ${HARNESS_MIN_GO%%.*} && minor >= ${HARNESS_MIN_GO#*.})))
}

build_toxiproxy_image() {
    local tag="$1" version="$HARNESS_TOXIPROXY_VERSION" go context log
    go="$(find_go)"
    [[ -n "$go" ]] ||
        die "no registry has $tag and building it needs Go >= $HARNESS_MIN_GO (not on PATH nor in /usr/local/go/bin)" "install Go >= $HARNESS_MIN_GO (https://go.dev/doc/install, or 'apt-get install golang-1.23' from bookworm-backports) and rerun make setup"
    log="$(log_file "toxiproxy-$(slug "$tag")")"
    context="$HARNESS_BUILD_DIR/toxiproxy-context"
    rm -rf "$context"
    mkdir -p "$context/bin"
    building "$tag: go install toxiproxy v$version with $go, then docker build (log: $log)"
    CGO_ENABLED=0 GOBIN="$context/bin" "$go" install \
        -ldflags "-X github.com/Shopify/toxiproxy/v2.Version=$version" \
        "github.com/Shopify/toxiproxy/v2/cmd/server@v$version" >"$log" 2>&1 ||
        die_with_log "go install of toxiproxy v$version failed" "check access to the Go module proxy (go env GOPROXY) and rerun make setup" "$log"
    mv "$context/bin/server" "$context/toxiproxy"
    rmdir "$context/bin"
    cp "$HARNESS_ROOT/images/toxiproxy/Dockerfile" "$context/Dockerfile"
    DOCKER_BUILDKIT=0 docker build -t "$tag" "$context" >>"$log" 2>&1 ||
        die_with_log "docker build of $tag failed" "read $log and rerun make setup" "$log"
    rm -rf "$context"
}

# --- our target images -------------------------------------------------------

# build_target_image TAG DIR -- always (re)build; the layer cache makes it quick.
build_target_image() {
    local tag="$1" dir="$2" log started=$SECONDS
    if [[ ! -f "$HARNESS_ROOT/$dir/Dockerfile" ]]; then
        warning "$dir/Dockerfile not found; skipped image $tag (scenarios that use it will fail)"
        return
    fi
    log="$(log_file "build-$(slug "$tag")")"
    DOCKER_BUILDKIT=0 docker build -t "$tag" "$HARNESS_ROOT/$dir" >"$log" 2>&1 ||
        die_with_log "docker build of $tag from $dir failed" "read $log, fix $dir and rerun make setup" "$log"
    ok "image $tag built from $dir in $((SECONDS - started))s"
}

# --- harness/worker: a Locust worker of harness --------------------------------

HARNESS_WORKER_IMAGE="harness/worker:0.1"
HARNESS_WORKER_DIR="images/worker"
# What a worker needs besides harness (installed with --no-deps, so without pandas, matplotlib,
# docker...): `harness worker` is typer + rich, the worker is Locust, the spec is pydantic + yaml.
# Pinned to the versions in .venv, so that a master and its workers run the same Locust.
HARNESS_WORKER_REQUIREMENTS=(locust typer rich pydantic pyyaml)
# The image's Python and C library, which the wheels are downloaded for (not the host's):
# Debian bookworm's python3 is 3.11, its glibc 2.36.
HARNESS_WORKER_PYTHON="3.11"
HARNESS_WORKER_GLIBC_MINOR=36
# Zip timestamps of the harness wheel: 1980-01-01, the earliest a zip can hold. A fixed date makes
# the wheel byte-identical for identical code, so docker's layer cache hits.
HARNESS_WHEEL_EPOCH=315532800

# worker_pins -- "name==version" of each HARNESS_WORKER_REQUIREMENTS, as installed in .venv.
worker_pins() {
    "$HARNESS_VENV/bin/python" - "${HARNESS_WORKER_REQUIREMENTS[@]}" <<'EOF'
import sys
from importlib.metadata import PackageNotFoundError, version

for name in sys.argv[1:]:
    try:
        print(f"{name}=={version(name)}")
    except PackageNotFoundError:
        sys.exit(f"{name} is not installed in .venv")
EOF
}

# manylinux_platforms -- pip's --platform options for the image's glibc: manylinux_2_N for
# N = HARNESS_WORKER_GLIBC_MINOR down to 5, and the legacy aliases (pip 23 does not expand them).
manylinux_platforms() {
    local arch minor
    arch="$(uname -m)"
    for ((minor = HARNESS_WORKER_GLIBC_MINOR; minor >= 5; minor--)); do
        printf -- '--platform\nmanylinux_2_%s_%s\n' "$minor" "$arch"
    done
    printf -- '--platform\nmanylinux%s_%s\n' 2014 "$arch" 2010 "$arch" 1 "$arch"
}

# harness_source_digest -- a digest of what the harness wheel is built from (names and contents).
harness_source_digest() {
    (
        cd "$HARNESS_ROOT" &&
            find harness pyproject.toml README.md -type f ! -path '*/__pycache__/*' -print0 |
            LC_ALL=C sort -z | xargs -0 sha256sum | sha256sum
    )
}

# prepare_worker_deps WORK CONTEXT LOG -- wheels/deps/ of the context: every wheel the pinned
# requirements need, for the image's Python and glibc. Downloaded again only when .venv changed.
prepare_worker_deps() {
    local work="$1" deps="$2/wheels/deps" log="$3" digest platforms
    "$HARNESS_VENV/bin/pip" freeze --disable-pip-version-check --exclude-editable >"$work/constraints.txt" 2>>"$log" ||
        die_with_log "pip freeze in $HARNESS_VENV failed" "rerun 'scripts/setup.sh python', then make setup" "$log"
    worker_pins >"$work/requirements.txt" 2>>"$log" ||
        die_with_log "the worker image's requirements (${HARNESS_WORKER_REQUIREMENTS[*]}) are not all in $HARNESS_VENV" "rerun 'scripts/setup.sh python', then make setup" "$log"
    mapfile -t platforms < <(manylinux_platforms)
    digest="$(cat "$work/constraints.txt" "$work/requirements.txt" <(echo "${platforms[*]} cp$HARNESS_WORKER_PYTHON") | sha256sum)"
    if [[ -f "$deps/requirements.txt" && "$(cat "$work/deps.digest" 2>/dev/null)" == "$digest" ]]; then
        WORKER_DEPS_STATE="reused"
        return
    fi
    building "$HARNESS_WORKER_IMAGE: pip download of its dependencies ($(paste -sd ' ' "$work/requirements.txt")) for Python $HARNESS_WORKER_PYTHON (log: $log)"
    rm -rf "$deps" "$work/deps.digest"
    mkdir -p "$deps"
    "$HARNESS_VENV/bin/pip" download --disable-pip-version-check --dest "$deps" \
        --only-binary=:all: "${platforms[@]}" --implementation cp \
        --python-version "$HARNESS_WORKER_PYTHON" --abi "cp${HARNESS_WORKER_PYTHON/./}" \
        -c "$work/constraints.txt" -r "$work/requirements.txt" >>"$log" 2>&1 ||
        die_with_log "pip download of the $HARNESS_WORKER_IMAGE dependencies failed" "check access to PyPI from this machine (pip config list) and rerun make setup" "$log"
    cp "$work/requirements.txt" "$deps/requirements.txt"
    printf '%s' "$digest" >"$work/deps.digest"
    WORKER_DEPS_STATE="downloaded"
}

# harness_wheel_env WORK LOG -- WORK/wheel-env, a venv holding harness's build requirements
# (pyproject.toml's [build-system] requires), made once and again when they change. Building the
# wheel in it (--no-build-isolation) takes 1.6 s here; pip's isolated build, which makes a fresh
# environment every time, took 4 s.
harness_wheel_env() {
    local env="$1/wheel-env" log="$2" requires
    requires="$("$HARNESS_VENV/bin/python" -c 'import sys, tomllib; print("\n".join(tomllib.load(open(sys.argv[1], "rb"))["build-system"]["requires"]))' "$HARNESS_ROOT/pyproject.toml" 2>>"$log")" ||
        die_with_log "cannot read [build-system] requires from $HARNESS_ROOT/pyproject.toml" "fix pyproject.toml and rerun make setup" "$log"
    if [[ ! -x "$env/bin/pip" || "$(cat "$env/requires.txt" 2>/dev/null)" != "$requires" ]]; then
        rm -rf "$env"
        {
            "$HARNESS_VENV/bin/python" -m venv "$env" &&
                printf '%s\n' "$requires" >"$env/requires.txt" &&
                "$env/bin/pip" install --disable-pip-version-check -r "$env/requires.txt"
        } >>"$log" 2>&1 ||
            die_with_log "cannot make the venv that builds the harness wheel ($env)" "check access to PyPI from this machine (pip config list) and rerun make setup" "$log"
    fi
}

# prepare_harness_wheel WORK CONTEXT LOG -- wheels/harness/ of the context: the wheel of the
# checkout's working tree, built from a clean copy (no stale build/ of an earlier build), again
# only when the code changed.
prepare_harness_wheel() {
    local work="$1" wheels="$2/wheels/harness" log="$3" digest src="$1/src" env="$1/wheel-env"
    digest="$(harness_source_digest)"
    if compgen -G "$wheels/harness-*.whl" >/dev/null && [[ "$(cat "$work/harness.digest" 2>/dev/null)" == "$digest" ]]; then
        WORKER_WHEEL_STATE="reused"
        return
    fi
    harness_wheel_env "$work" "$log"
    rm -rf "$src" "$wheels" "$work/harness.digest"
    mkdir -p "$src" "$wheels"
    cp -r "$HARNESS_ROOT/pyproject.toml" "$HARNESS_ROOT/README.md" "$HARNESS_ROOT/harness" "$src/"
    find "$src" -name __pycache__ -type d -prune -exec rm -rf {} +
    SOURCE_DATE_EPOCH="$HARNESS_WHEEL_EPOCH" "$env/bin/pip" wheel --disable-pip-version-check \
        --no-deps --no-build-isolation --wheel-dir "$wheels" "$src" >>"$log" 2>&1 ||
        die_with_log "pip wheel of harness (the checkout in $HARNESS_ROOT) failed" "fix the packaging error above and rerun make setup" "$log"
    rm -rf "$src"
    printf '%s' "$digest" >"$work/harness.digest"
    WORKER_WHEEL_STATE="rebuilt"
}

# build_worker_image TAG DIR -- prepare the context build/worker-image/context/ (DIR's files and
# the wheels), then docker build; always, the layer cache keeps it quick.
build_worker_image() {
    local tag="$1" dir="$2" work="$HARNESS_ROOT/build/worker-image" context log started=$SECONDS
    local WORKER_DEPS_STATE WORKER_WHEEL_STATE
    context="$work/context"
    [[ -x "$HARNESS_VENV/bin/pip" ]] ||
        die "no $HARNESS_VENV, which the wheels of $tag come from" "run 'scripts/setup.sh python' (or make setup) first"
    log="$(log_file "build-$(slug "$tag")")"
    : >"$log"
    mkdir -p "$context"
    prepare_worker_deps "$work" "$context" "$log"
    prepare_harness_wheel "$work" "$context" "$log"
    cp "$HARNESS_ROOT/$dir/Dockerfile" "$HARNESS_ROOT/$dir/with-faketime" "$context/"
    chmod 0755 "$context/with-faketime"
    DOCKER_BUILDKIT=0 docker build -t "$tag" "$context" >>"$log" 2>&1 ||
        die_with_log "docker build of $tag from $dir failed" "read $log, fix $dir (or the import named above) and rerun make setup" "$log"
    ok "image $tag built from $dir in $((SECONDS - started))s (dependency wheels $WORKER_DEPS_STATE, harness wheel $WORKER_WHEEL_STATE)"
}

setup_images() {
    local entry
    docker_answers || die "no Docker engine answers, cannot check images" "run 'scripts/setup.sh docker' (or make setup) first"
    ensure_image "$HARNESS_BASE_IMAGE" build_base_image
    ensure_image "$HARNESS_TOXIPROXY_IMAGE" build_toxiproxy_image
    for entry in "${HARNESS_TARGET_IMAGES[@]}"; do
        # shellcheck disable=SC2086  # entry is "TAG DIR"
        build_target_image $entry
    done
    build_worker_image "$HARNESS_WORKER_IMAGE" "$HARNESS_WORKER_DIR"
}
