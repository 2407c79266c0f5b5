"""The daily retraining: every tenant that trained a success forecast gets it learned again on its finished
projects (its own success window), and registered as a new version. One tenant failing, or having too few
finished projects now, never stops the others; it is logged and counted."""

from __future__ import annotations

import time
from typing import Any

from maestro.core.auth import AuthContext
from maestro.core.errors import Conflict
from maestro.core.observability import logger, metrics
from maestro.core.settings import get_settings
from maestro.insights.forecast import Definition
from maestro.insights.forecasting import Forecasting
from maestro.insights.store import InsightsStore, tenants_with_models

RETRAINER = "maestro:insights-retrain"


def retrain_all(now_ms: int | None = None) -> dict[str, Any]:
    table = get_settings().insights_table
    now_ms = now_ms or int(time.time() * 1000)
    retrained, skipped, failed = 0, 0, 0
    for tenant, settings in tenants_with_models(table):
        auth = AuthContext.of(RETRAINER, tenant, frozenset({"service"}))
        try:
            Forecasting(InsightsStore(table, tenant), auth, None).train(Definition.of(settings), now_ms)
            retrained += 1
        except Conflict as exc:  # too few finished projects now (deleted runs): the last model stays
            skipped += 1
            logger.info("forecast not retrained", extra={"tenant": tenant, "why": exc.message})
        except Exception:  # noqa: BLE001 - see the module docstring
            failed += 1
            logger.exception("forecast retraining failed", extra={"tenant": tenant})
            metrics.add_metric(name="ForecastRetrainingFailures", unit="Count", value=1)
    return {"retrained": retrained, "skipped": skipped, "failed": failed}
