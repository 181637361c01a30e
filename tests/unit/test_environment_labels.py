"""Every service, network and volume of a resolved compose config gets the run label."""

from harness.environment.stack import RUN_LABEL, label_config


def test_labels_added_everywhere_but_external_objects():
    config = {
        "name": "p",
        "services": {"a": {"labels": {"x": "1"}}, "b": {"labels": ["y=2", "flag"]}, "c": {}},
        "networks": {"default": {"name": "p_default"}, "ext": {"external": True, "name": "shared"}},
        "volumes": {"data": {"name": "p_data"}, "old": {"external": True}},
    }
    out = label_config(config, "run1")
    assert out["services"]["a"]["labels"] == {"x": "1", RUN_LABEL: "run1"}
    assert out["services"]["b"]["labels"] == {"y": "2", "flag": "", RUN_LABEL: "run1"}
    assert out["services"]["c"]["labels"] == {RUN_LABEL: "run1"}
    assert out["networks"]["default"]["labels"] == {RUN_LABEL: "run1"}
    assert "labels" not in out["networks"]["ext"]
    assert out["volumes"]["data"]["labels"] == {RUN_LABEL: "run1"}
    assert "labels" not in out["volumes"]["old"]


def test_default_network_is_declared_so_it_gets_labelled():
    out = label_config({"name": "p", "services": {"a": {}}}, "r")
    assert out["networks"]["default"]["labels"] == {RUN_LABEL: "r"}
