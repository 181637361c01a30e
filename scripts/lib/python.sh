# shellcheck shell=bash
# Step 1: the Python virtualenv at .venv with harness installed editable.

HARNESS_MIN_PYTHON="3.11"

# python_is_new_enough PYTHON -- true when PYTHON runs and is >= 3.11.
python_is_new_enough() {
    "$1" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else 1)' >/dev/null 2>&1
}

python_version() {
    "$1" -c 'import sys; print("%d.%d.%d" % sys.version_info[:3])'
}

check_host_python() {
    local py="$HARNESS_PYTHON"
    command -v "$py" >/dev/null ||
        die "$py not found" "install Python >= $HARNESS_MIN_PYTHON (Debian: apt-get install python3 python3-venv) or set HARNESS_PYTHON=/path/to/python3"
    python_is_new_enough "$py" ||
        die "$py is $(python_version "$py"), need >= $HARNESS_MIN_PYTHON" "install Python >= $HARNESS_MIN_PYTHON or set HARNESS_PYTHON=/path/to/python3.11"
    ok "python $(python_version "$py") ($(command -v "$py"))"
}

create_venv() {
    local venv="$HARNESS_VENV"
    if [[ -x "$venv/bin/python" ]] && python_is_new_enough "$venv/bin/python"; then
        ok "virtualenv $venv"
        return
    fi
    if [[ -e "$venv" ]]; then
        building "virtualenv $venv (the old one is broken or too old; recreating)"
        rm -rf "$venv"
    else
        building "virtualenv $venv"
    fi
    "$HARNESS_PYTHON" -m venv "$venv" ||
        die "could not create $venv" "on Debian run 'apt-get install python3-venv', then rerun make setup"
}

# install_stamp_value -- what the stamp file must contain for the install to be current:
# a hash of pyproject.toml plus the venv's Python version.
install_stamp_value() {
    local hash
    hash="$(sha256sum "$HARNESS_ROOT/pyproject.toml" | cut -d' ' -f1)"
    printf '%s python-%s\n' "$hash" "$(python_version "$HARNESS_VENV/bin/python")"
}

install_package() {
    local stamp="$HARNESS_VENV/.harness-install-stamp"
    local want log
    [[ -f "$HARNESS_ROOT/pyproject.toml" ]] ||
        die "pyproject.toml not found in $HARNESS_ROOT" "run make setup from a complete checkout"
    want="$(install_stamp_value)"
    if [[ -f "$stamp" && "$(cat "$stamp")" == "$want" && -x "$HARNESS_VENV/bin/harness" ]]; then
        ok "harness installed in $HARNESS_VENV (pyproject.toml unchanged)"
        return
    fi
    log="$(log_file pip-install)"
    building "pip install -e '.[test]' into $HARNESS_VENV (log: $log)"
    (cd "$HARNESS_ROOT" && "$HARNESS_VENV/bin/python" -m pip install \
        --disable-pip-version-check -e '.[test]') >"$log" 2>&1 ||
        die_with_log "pip install -e '.[test]' failed" "read $log (network to PyPI? broken pyproject.toml?), then rerun make setup" "$log"
    printf '%s\n' "$want" >"$stamp"
    ok "harness installed in $HARNESS_VENV"
}

# compile_package -- byte-compile harness/ (only what changed since the last time). An editable
# install is never compiled by pip, and with PYTHONDONTWRITEBYTECODE=1 in the environment (as on
# our CI machines) Python would then compile all ~235 modules from source in every harness
# process: about 0.1 s more before each run starts (docs/benchmarks.md, run_overhead_ratio).
compile_package() {
    "$HARNESS_VENV/bin/python" -m compileall -q -j 0 "$HARNESS_ROOT/harness" >/dev/null ||
        die "could not byte-compile $HARNESS_ROOT/harness" "check that the directory is writable, then rerun make setup"
    ok "harness byte-compiled"
}

setup_python() {
    check_host_python
    create_venv
    install_package
    compile_package
}
