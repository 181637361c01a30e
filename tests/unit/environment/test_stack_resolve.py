"""Stack.resolve: the run's preflight config (resolved under this run's project) is brought up
as it is, never resolved a second time; a config of another project is not trusted."""

from __future__ import annotations

from harness.environment import stack as stack_module
from harness.environment.stack import Stack, project_name
from harness.scenario.models import Target


class FakeCompose:
    def __init__(self, *args, **kwargs):
        self.calls = []

    def run(self, args, timeout_s=None, file=None):
        self.calls.append(args)
        return '{"name": "resolved-again", "services": {}}'


def make_stack(tmp_path, monkeypatch, resolved):
    (tmp_path / "compose.yml").write_text("services: {}\n")
    monkeypatch.setattr(stack_module, "resolve_engine", lambda: type("E", (), {"compose_env": lambda self: {}})())
    monkeypatch.setattr(stack_module, "docker_client", lambda engine: object())
    monkeypatch.setattr(stack_module, "RunContainers", lambda *a, **k: object())
    monkeypatch.setattr(stack_module, "Compose", FakeCompose)
    return Stack(Target(compose="compose.yml"), tmp_path, "20261207T000000Z-abcdef", tmp_path, journal=None,
                 resolved=resolved)


def test_the_preflights_config_of_this_project_is_used_as_a_copy_without_compose(tmp_path, monkeypatch):
    config = {"name": project_name("20261207T000000Z-abcdef"), "services": {"api": {"image": "x"}}}
    stack = make_stack(tmp_path, monkeypatch, config)
    got = stack.resolve()
    assert got == config and got is not config and stack.compose.calls == []
    got["services"]["api"]["image"] = "changed"  # the copy is the stack's to edit (make_copy)
    assert config["services"]["api"]["image"] == "x"


def test_a_config_of_another_project_is_resolved_again(tmp_path, monkeypatch):
    stack = make_stack(tmp_path, monkeypatch, {"name": "harness-20261206t000000z-000000", "services": {}})
    assert stack.resolve()["name"] == "resolved-again" and stack.compose.calls == [["config", "--format", "json"]]
