"""Every service, network and volume of a resolved compose config gets the run label."""

from harness.environment.labels import RUN_LABEL, SERVICE_KEY_LABEL, as_dict, label_config


def test_labels_added_everywhere_but_external_objects():
    config = {
        "name": "p",
        "services": {"a": {"labels": {"x": "1"}}, "b": {"labels": ["y=2", "flag"]}, "c": {}},
        "networks": {"default": {"name": "p_default"}, "ext": {"external": True, "name": "shared"}},
        "volumes": {"data": {"name": "p_data"}, "old": {"external": True}},
    }
    out = label_config(config, "run1")
    assert out["services"]["a"]["labels"] == {"x": "1", RUN_LABEL: "run1", SERVICE_KEY_LABEL: "a"}
    assert out["services"]["b"]["labels"] == {"y": "2", "flag": "", RUN_LABEL: "run1", SERVICE_KEY_LABEL: "b"}
    assert out["services"]["c"]["labels"] == {RUN_LABEL: "run1", SERVICE_KEY_LABEL: "c"}
    assert out["networks"]["default"]["labels"] == {RUN_LABEL: "run1"}
    assert "labels" not in out["networks"]["ext"]
    assert out["volumes"]["data"]["labels"] == {RUN_LABEL: "run1"}
    assert "labels" not in out["volumes"]["old"]


def test_service_key_of_a_renamed_service_is_kept():
    """A service the edge inserter renamed keeps the name the scenario knows it by."""
    config = {"name": "p", "services": {"db-upstream": {"labels": {SERVICE_KEY_LABEL: "db"}}}}
    out = label_config(config, "r")
    assert out["services"]["db-upstream"]["labels"][SERVICE_KEY_LABEL] == "db"


def test_as_dict_reads_both_label_forms():
    assert as_dict(["k=v=w", "flag"]) == {"k": "v=w", "flag": ""}
    assert as_dict(None) == {}


def test_default_network_is_declared_so_it_gets_labelled():
    out = label_config({"name": "p", "services": {"a": {}}}, "r")
    assert out["networks"]["default"]["labels"] == {RUN_LABEL: "r"}
