"""Which compose v2 the harness runs: a CLI plugin binary directly when one is installed (the
Docker CLI in front of it costs ~45 ms per call), else ``docker compose``; never compose v1."""

from harness.environment import compose


def fake_compose(directory, version: str):
    """An executable ``docker-compose`` in ``directory`` that answers ``version --short``."""
    directory.mkdir(parents=True, exist_ok=True)
    binary = directory / "docker-compose"
    binary.write_text(f"#!/bin/sh\necho {version}\n")
    binary.chmod(0o755)
    return binary


def test_a_plugin_binary_is_run_directly_not_through_the_docker_cli(tmp_path, monkeypatch):
    v1 = fake_compose(tmp_path / "old", "1.29.2")
    v2 = fake_compose(tmp_path / "new", "v2.40.3")
    monkeypatch.setattr(compose, "PLUGIN_DIRS", (str(v1.parent), str(v2.parent)))
    compose.forget_compose_command()
    try:
        assert compose.compose_command() == [str(v2)]
    finally:
        compose.forget_compose_command()


def test_without_a_plugin_binary_compose_is_found_through_the_docker_cli(tmp_path, monkeypatch):
    fake_docker = tmp_path / "bin" / "docker"
    fake_docker.parent.mkdir()
    fake_docker.write_text('#!/bin/sh\n[ "$1 $2 $3" = "compose version --short" ] && echo 2.40.3\n')
    fake_docker.chmod(0o755)
    monkeypatch.setattr(compose, "PLUGIN_DIRS", (str(tmp_path / "none"),))
    monkeypatch.setenv("PATH", str(fake_docker.parent))
    compose.forget_compose_command()
    try:
        assert compose.compose_command() == ["docker", "compose"]
    finally:
        compose.forget_compose_command()


def test_the_early_search_and_the_first_call_probe_compose_once(tmp_path, monkeypatch):
    """find_compose_early's thread probes while the caller goes on; the caller's own
    compose_command() waits for that probe instead of starting a second one."""
    calls = tmp_path / "calls"
    binary = tmp_path / "plugins" / "docker-compose"
    binary.parent.mkdir()
    binary.write_text(f"#!/bin/sh\necho probe >> {calls}\nsleep 0.3\necho v2.40.3\n")
    binary.chmod(0o755)
    monkeypatch.setattr(compose, "PLUGIN_DIRS", (str(binary.parent),))
    compose.forget_compose_command()
    try:
        compose.find_compose_early()
        assert compose.compose_command() == [str(binary)]
        assert calls.read_text().splitlines() == ["probe"]
    finally:
        compose.forget_compose_command()
