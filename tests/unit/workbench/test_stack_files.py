"""What the stack leaves in its state directory, read by the workbench when needed."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from services.settings import Settings
from workbench.local_stack import StackFiles

pytestmark = pytest.mark.unit


def test_token_and_urls_come_from_the_state_directory(tmp_path: Path) -> None:
    # Given the files the stack writes, When read through settings' LOCAL_STATE_DIR,
    # Then the token is stripped and each URL is found by name.
    (tmp_path / "operator-token").write_text("secret-token\n")
    (tmp_path / "stack.json").write_text(json.dumps({"sendgrid_url": "http://127.0.0.1:1"}))
    files = StackFiles.from_settings(Settings(local_state_dir=str(tmp_path)))
    assert files.operator_token() == "secret-token"
    assert files.url("sendgrid_url") == "http://127.0.0.1:1"
    assert files.url("oidc_url") is None


def test_missing_files_read_as_nothing(tmp_path: Path) -> None:
    files = StackFiles.from_settings(Settings(local_state_dir=str(tmp_path / "absent")))
    assert files.operator_token() is None
    assert files.url("sendgrid_url") is None


def test_a_broken_stack_file_reads_as_nothing(tmp_path: Path) -> None:
    (tmp_path / "stack.json").write_text("{not json")
    files = StackFiles.from_settings(Settings(local_state_dir=str(tmp_path)))
    assert files.url("sendgrid_url") is None
