#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# Set up everything harness needs on this machine. Safe to run again: each step
# checks first and only does work when something is missing or out of date.
#
#   scripts/setup.sh                 all steps
#   scripts/setup.sh STEP...         only some: python docker compose images
#
# Environment overrides:
#   HARNESS_PYTHON             python used to create .venv (default: python3)
#   HARNESS_DEBIAN_MIRROR      Debian mirror for debootstrap (default: read from apt config)
#   HARNESS_BASE_IMAGE         tag of the Debian base image (default: debian:bookworm-slim)
#   HARNESS_TOXIPROXY_IMAGE    tag of the toxiproxy image (default: ghcr.io/shopify/toxiproxy:2.12.0)
#   HARNESS_COMPOSE_PLUGIN_DIR where to install docker-compose if it is missing
#   HARNESS_PULL_TIMEOUT       seconds allowed for each docker pull (default: 300)
set -euo pipefail

HARNESS_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
HARNESS_LIB="$HARNESS_ROOT/scripts/lib"
HARNESS_VENV="$HARNESS_ROOT/.venv"
HARNESS_BUILD_DIR="$HARNESS_ROOT/build/setup"
HARNESS_PYTHON="${HARNESS_PYTHON:-python3}"
HARNESS_WARNINGS=0

# shellcheck source=lib/common.sh
source "$HARNESS_LIB/common.sh"
# shellcheck source=lib/python.sh
source "$HARNESS_LIB/python.sh"
# shellcheck source=lib/docker.sh
source "$HARNESS_LIB/docker.sh"
# shellcheck source=lib/apt-sources.sh
source "$HARNESS_LIB/apt-sources.sh"
# shellcheck source=lib/images.sh
source "$HARNESS_LIB/images.sh"

run_step() {
    case "$1" in
        python)  setup_python ;;
        docker)  setup_docker_engine ;;
        compose) setup_compose ;;
        images)  setup_images ;;
        *) die "unknown step '$1'" "use one or more of: python docker compose images" ;;
    esac
}

main() {
    local started=$SECONDS step
    local steps=("$@")
    ((${#steps[@]} > 0)) || steps=(python docker compose images)
    for step in "${steps[@]}"; do
        run_step "$step"
    done
    if ((HARNESS_WARNINGS > 0)); then
        echo "setup done with $HARNESS_WARNINGS warning(s) in $((SECONDS - started))s (steps: ${steps[*]})"
    else
        echo "setup done: all ok in $((SECONDS - started))s (steps: ${steps[*]})"
    fi
}

main "$@"
