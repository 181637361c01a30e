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
    compose.compose_command.cache_clear()
    try:
        assert compose.compose_command() == [str(v2)]
    finally:
        compose.compose_command.cache_clear()


def test_without_a_plugin_binary_compose_is_found_through_the_docker_cli(tmp_path, monkeypatch):
    fake_docker = tmp_path / "bin" / "docker"
    fake_docker.parent.mkdir()
    fake_docker.write_text('#!/bin/sh\n[ "$1 $2 $3" = "compose version --short" ] && echo 2.40.3\n')
    fake_docker.chmod(0o755)
    monkeypatch.setattr(compose, "PLUGIN_DIRS", (str(tmp_path / "none"),))
    monkeypatch.setenv("PATH", str(fake_docker.parent))
    compose.compose_command.cache_clear()
    try:
        assert compose.compose_command() == ["docker", "compose"]
    finally:
        compose.compose_command.cache_clear()
