"""JSON logs carry the controller and the object's kind, namespace and name, whatever the level."""

import json
import logging

import pytest

from gotk.runtime import logging as gotk_logging


def test_object_fields_in_json(capsys: pytest.CaptureFixture[str]) -> None:
    gotk_logging.setup("info", "json")
    try:
        log = gotk_logging.object_logger(
            "source-controller", "source.toolkit.fluxcd.io", "GitRepository", "ns", "app", "id1"
        )
        log.error("Reconciler error: %s", "boom", extra={"duration": 0.5})
        log.info("done")
    finally:
        logging.getLogger().handlers.clear()
    lines = [json.loads(line) for line in capsys.readouterr().err.splitlines()]
    assert lines[0]["level"] == "error"
    assert lines[0]["msg"] == "Reconciler error: boom"
    assert lines[0]["name"] == "app" and lines[0]["namespace"] == "ns"
    assert lines[0]["GitRepository"] == {"name": "app", "namespace": "ns"}
    assert lines[0]["controller"] == "source-controller" and lines[0]["reconcileID"] == "id1"
    assert lines[0]["duration"] == 0.5
    assert lines[1]["level"] == "info" and lines[1]["name"] == "app"
