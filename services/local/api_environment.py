"""What one execution environment of the local API builds at its cold start: the dashboard
function, with the collaborators the stack's process provides reached over its control server."""

from __future__ import annotations

from functools import partial

from services.composition.api import table_api_dependencies
from services.functions import dashboard
from services.local.control import ControlClient
from services.local.function_url_event import Handler
from services.local.live_accuracy import live_accuracy
from services.settings import Settings
from services.store.articles import DynamoArticleRepository
from services.store.table import dynamodb_table


def build_dashboard_handler(settings: Settings, control: ControlClient) -> Handler:
    """The dashboard function of this environment. The accuracy of the emulated news only reads
    the table, so it is built here; the pipeline runs in the stack's process and is asked."""
    table = dynamodb_table(settings)
    accuracy = partial(live_accuracy, DynamoArticleRepository(table))
    pipeline = control.address.pipeline
    deps = table_api_dependencies(
        settings,
        table,
        ingestion_runner=control.run_ingestion if pipeline else None,
        pipeline_stats=control.pipeline_stats if pipeline else None,
        metrics_runner=control.run_metrics if pipeline else None,
        live_accuracy=accuracy,
        execution_environments=control.environments,
    )
    return dashboard.build_dashboard(deps)
