"""What the API's own OpenAPI document says about choices and rules.

The chart's ranges and sources and the configuration rules come from the running API's
document, so the page cannot drift from what the server accepts.
"""

from __future__ import annotations

from typing import Any

import param

from workbench.client import ApiClient, Problem

OHLC_PATH = "/api/v2/tickers/{ticker}/ohlc"
HISTORY_PATH = "/api/v2/tickers/{ticker}/sentiment/history"
CONFIGURATION_SCHEMA = "ConfigurationIn"


def parameter_choices(document: Any, path: str, name: str) -> tuple[list[str], str | None]:
    """The enum of a GET route's query parameter and its default."""
    try:
        parameters = document["paths"][path]["get"]["parameters"]
    except (KeyError, TypeError):
        return [], None
    for parameter in parameters:
        if isinstance(parameter, dict) and parameter.get("name") == name:
            schema = parameter.get("schema", {})
            default = schema.get("default")
            return [str(v) for v in schema.get("enum", [])], str(default) if default else None
    return [], None


def field_descriptions(document: Any, schema: str) -> dict[str, str]:
    try:
        properties = document["components"]["schemas"][schema]["properties"]
    except (KeyError, TypeError):
        return {}
    return {name: str(p.get("description", "")) for name, p in properties.items()}


class SchemaStore(param.Parameterized):
    ranges = param.List(default=[], doc="ranges the price and history routes accept")
    default_range = param.String(default="")
    sources = param.List(default=[], doc="sources the history route accepts")
    default_source = param.String(default="")
    configuration_fields = param.Dict(default={}, doc="field -> rule, from the request schema")
    problem = param.ClassSelector(class_=Problem, allow_None=True)

    def __init__(self, client: ApiClient, **params: Any) -> None:
        super().__init__(**params)
        self.client = client

    async def load(self) -> None:
        result = await self.client.openapi()
        if not result.ok:
            self.problem = result.problem
            return
        ranges, default_range = parameter_choices(result.body, OHLC_PATH, "range")
        sources, default_source = parameter_choices(result.body, HISTORY_PATH, "source")
        self.param.update(
            ranges=ranges,
            default_range=default_range or (ranges[0] if ranges else ""),
            sources=sources,
            default_source=default_source or (sources[0] if sources else ""),
            configuration_fields=field_descriptions(result.body, CONFIGURATION_SCHEMA),
            problem=None,
        )
