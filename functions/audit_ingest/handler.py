"""The audit queue's consumer (SQS, batches): every maestro.* event and every posted record into its tenant's
chain. A message that cannot be a record fails alone (partial batch response) and, after its retries,
lands in the dead-letter queue; the rest of the batch is appended."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

from maestro.audit.ingest import ingest, parse
from maestro.core.observability import lambda_entry, logger
from maestro.core.settings import get_settings

processor = BatchProcessor(event_type=EventType.SQS)


@lambda_entry(correlation_id_path=None, platform_access=True)
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    parsed: list[tuple[str, str, dict[str, Any]]] = []

    def one(record: SQSRecord) -> None:
        parsed.append(parse(record.body))  # a poison message raises: reported as this item's failure

    response = process_partial_response(event=event, record_handler=one, processor=processor, context=context)
    if parsed:
        # One failure here fails the whole batch: every message comes back, and the chain's markers make
        # the ones already appended count once.
        totals = ingest(parsed, get_settings().audit_table)
        logger.info("audit batch appended", extra=totals)
    return response
