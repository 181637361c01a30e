"""The report templates' compiled code is kept between processes (harness.report.template_env):
a second environment renders from the cache without compiling, an edited template is compiled
again, and a cache that cannot be written or trusted never stops a report."""

from __future__ import annotations

import os
import tempfile

import pytest
from jinja2 import DictLoader, Environment

from harness.report import template_env
from harness.report.template_env import bytecode_cache, template_environment


@pytest.fixture()
def temp_dir(tmp_path, monkeypatch):
    """The system's temporary directory, for Jinja2's default cache directory, is ``tmp_path``."""
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    return tmp_path


def _compilations(monkeypatch) -> list[str]:
    """Names of the templates compiled from source from now on (every Environment)."""
    compiled: list[str] = []
    original = Environment.compile

    def counting(self, source, name=None, filename=None, raw=False, defer_init=False):
        compiled.append(name)
        return original(self, source, name, filename, raw, defer_init)

    monkeypatch.setattr(Environment, "compile", counting)
    return compiled


def _markdown_environment() -> Environment:
    """A fresh environment like report.md's (its filters are needed to compile the template)."""
    env = template_environment(keep_trailing_newline=True)
    env.filters.update(md=str, code=str, link=str, errors=str)
    return env


def test_a_second_process_renders_the_report_template_without_compiling_it(temp_dir, monkeypatch):
    compiled = _compilations(monkeypatch)
    first = _markdown_environment().get_template("report.md.j2")
    assert compiled == ["report.md.j2"]
    assert list((temp_dir / f"_jinja2-cache-{os.getuid()}").glob("__jinja2_*.cache"))
    second = _markdown_environment().get_template("report.md.j2")  # a new environment:
    assert compiled == ["report.md.j2"]  # as a new process has, found in the cache
    assert second is not first


def test_an_edited_template_is_compiled_again(temp_dir, monkeypatch):
    compiled = _compilations(monkeypatch)
    sources = {"page.j2": "v1 {{ x }}"}
    render = lambda: Environment(loader=DictLoader(sources), bytecode_cache=bytecode_cache()).get_template(
        "page.j2").render(x=1)
    assert render() == "v1 1"
    sources["page.j2"] = "v2 {{ x }}"
    assert render() == "v2 1"
    assert compiled == ["page.j2", "page.j2"]
    assert render() == "v2 1" and len(compiled) == 2


def test_an_unwritable_cache_directory_still_renders(temp_dir, monkeypatch):
    cache = bytecode_cache()
    assert cache is not None
    os.chmod(cache.directory, 0o500)  # root writes anyway: make the temporary file fail instead
    monkeypatch.setattr(tempfile, "NamedTemporaryFile", lambda **_: (_ for _ in ()).throw(OSError(28, "No space")))
    try:
        env = Environment(loader=DictLoader({"page.j2": "ok {{ x }}"}), bytecode_cache=cache)
        assert env.get_template("page.j2").render(x=2) == "ok 2"
    finally:
        os.chmod(cache.directory, 0o700)


def test_an_untrusted_cache_directory_is_not_used(temp_dir):
    shared = temp_dir / f"_jinja2-cache-{os.getuid()}"
    shared.mkdir(mode=0o700)
    os.symlink(temp_dir, temp_dir / "elsewhere")
    shared.rmdir()
    os.symlink(temp_dir / "elsewhere", shared)  # someone else's link where the private directory goes
    assert bytecode_cache() is None
    env = _markdown_environment()
    assert env.bytecode_cache is None
    assert env.get_template("report.md.j2") is not None


def test_a_cache_that_cannot_be_made_gives_none(monkeypatch):
    monkeypatch.setattr(template_env._BestEffortCache, "_get_default_cache_dir",
                        lambda self: (_ for _ in ()).throw(PermissionError(13, "denied")))
    assert bytecode_cache() is None
