"""`notebook.setup`, every notebook's setup cell, without a kernel or a stack: the charts
extension loaded, the notebook's parameters turned into the stack's settings, a deployed API
read as a remote stack, and the stack recorded for the tests."""

from __future__ import annotations

from typing import Any

import holoviews
import pytest

from services.traffic import notebook
from services.traffic.notebook import NotebookStack
from services.traffic.target import Target

pytestmark = pytest.mark.unit


class Kernel:
    """What `setup` asks of the outside world, recorded instead of done."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.extensions: list[tuple[tuple[Any, ...], dict[str, Any]]] = []
        self.connected: list[tuple[str, dict[str, Any]]] = []
        self.recorded: dict[str, Any] = {}
        monkeypatch.setattr(holoviews, "extension", self.extension)
        monkeypatch.setattr(notebook, "connect", self.connect)
        monkeypatch.setattr(notebook, "record", self.record)

    def extension(self, *args: Any, **kwargs: Any) -> None:
        self.extensions.append((args, kwargs))

    def connect(self, mode: str, **settings: Any) -> NotebookStack:
        self.connected.append((mode, settings))
        return NotebookStack(Target("http://127.0.0.1:8080", "local"), "attached")

    def record(self, name: str, value: Any) -> Any:
        self.recorded[name] = value
        return value


@pytest.fixture
def kernel(monkeypatch: pytest.MonkeyPatch) -> Kernel:
    return Kernel(monkeypatch)


def test_the_scenario_notebooks_setup_passes_their_demo_settings(kernel: Kernel) -> None:
    stack = notebook.setup("auto", 3.0, 1.0, "AAPL,MSFT")

    assert kernel.extensions == [(("bokeh",), {"inline": True})]
    assert kernel.connected == [
        (
            "auto",
            {
                "circuit_open_timeout_s": 3.0,
                "http_timeout_s": 1.0,
                "default_watchlist": "AAPL,MSFT",
            },
        )
    ]
    assert kernel.recorded == {"stack": stack.describe()}
    assert stack.describe()["mode"] == "attached" and stack.is_local


def test_settings_left_out_keep_their_defaults_and_days_become_seconds(kernel: Kernel) -> None:
    notebook.setup("embedded", watchlist=["AAPL", "NVDA"], lookback_days=100, api_url="")

    assert kernel.connected == [
        ("embedded", {"default_watchlist": "AAPL,NVDA", "ingestion_lookback_s": 100 * 86_400})
    ]


def test_other_settings_pass_through_to_a_stack_started_here(kernel: Kernel) -> None:
    notebook.setup("auto", 2.0, rate_limit_per_identity=5)

    assert kernel.connected == [
        ("auto", {"circuit_open_timeout_s": 2.0, "rate_limit_per_identity": 5})
    ]


def test_a_deployed_api_is_read_as_a_remote_stack(kernel: Kernel) -> None:
    stack = notebook.setup("auto", watchlist=["AAPL"], api_url="https://abc.lambda-url.aws/")

    assert kernel.connected == []  # nothing started or attached
    assert kernel.extensions == [(("bokeh",), {"inline": True})]
    assert stack.api_url == "https://abc.lambda-url.aws"
    assert not stack.is_local and stack.target.operator_token is None
    assert kernel.recorded["stack"]["mode"] == "remote"
    assert stack.stack_url("tiingo_url") is None
    stack.stop()  # nothing of ours to stop
