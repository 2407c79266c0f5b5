"""What monitoring takes in: a monitor's definition (the model version it watches, its window and its drift
and data-quality thresholds), a reference to profile as a baseline, and batches of serving records. Must
never accept a record the stores cannot keep (a column name that is not a plain identifier, a value that is
neither a number nor short text)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from maestro.core.fields import Key
from maestro.training.interface import TrainingJobRequest

ARTIFACT_PATTERN = r"^mlflow-artifacts:/[^\x00-\x1f]+$"
COLUMN_PATTERN = r"^[A-Za-z_][A-Za-z0-9_.\-]{0,63}$"
MAX_COLUMNS = 60  # features plus the prediction: one window's buckets fit one DynamoDB transaction
MAX_RECORDS = 5_000
MAX_REFERENCE_ROWS = 100_000
Column = Annotated[str, Field(pattern=COLUMN_PATTERN, description="a feature or the prediction column")]
ArtifactUri = Annotated[str, Field(min_length=1, max_length=1024, pattern=ARTIFACT_PATTERN)]
Value = Annotated[float, Field(allow_inf_nan=False)] | Annotated[str, Field(max_length=200)] | bool | None


class ModelRef(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Key
    version: int = Field(ge=1, le=10**9)


class DriftOptions(BaseModel):
    """Evidently's defaults: 95% confidence for p-value tests, 0.1 for distances, half of the columns."""

    model_config = ConfigDict(extra="forbid")

    p_threshold: float = Field(0.05, gt=0, lt=1)
    distance_threshold: float = Field(0.1, gt=0, le=10)
    drift_share: float = Field(0.5, gt=0, le=1)
    correction: Literal["holm", "bh"] | None = Field(
        None, description="correct the p-values for the number of columns tested"
    )


class QualityOptions(BaseModel):
    model_config = ConfigDict(extra="forbid")

    max_missing_increase: float = Field(0.1, ge=0, le=1, description="missing share above the reference's")
    max_out_of_range: float = Field(0.05, ge=0, le=1, description="share outside the reference's min..max")
    max_invalid: float = Field(0.0, ge=0, le=1, description="share of values of the wrong type")
    new_categories: bool = Field(True, description="a category the reference never had fails the check")


class RetrainOptions(BaseModel):
    model_config = ConfigDict(extra="forbid")

    job: TrainingJobRequest = Field(description="the training job to submit (as POST /training/jobs takes)")
    on: Literal["dataset_drift", "any_drift"] = Field(
        "dataset_drift", description="dataset drift (the drifted share of columns), or any drifted column"
    )


class MonitorSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Key
    model: ModelRef
    features: list[Column] | None = Field(
        None, max_length=MAX_COLUMNS - 1, description="by default every column of the baseline"
    )
    prediction: Column | None = Field("prediction", description="the prediction column, checked as a feature")
    window_hours: int = Field(24, ge=1, le=24 * 31)
    min_records: int = Field(100, ge=1, le=10**7, description="a window with fewer records is not tested")
    drift: DriftOptions = DriftOptions()
    quality: QualityOptions = QualityOptions()
    retrain: RetrainOptions | None = Field(
        None, description="start a training job on drift, as the monitor's creator (one at a time)"
    )


class Reference(BaseModel):
    """A reference to profile: rows given inline (columns as keys), or a CSV file among the tenant's
    artifacts (an `mlflow-artifacts:/...` path, as the mlflow client logs it)."""

    model_config = ConfigDict(extra="forbid")

    model: ModelRef
    rows: list[dict[Column, Value]] | None = Field(None, min_length=1, max_length=MAX_RECORDS)
    artifact: ArtifactUri | None = None
    prediction: Column | None = "prediction"

    @model_validator(mode="after")
    def _one_source(self) -> Reference:
        if (self.rows is None) == (self.artifact is None):
            raise ValueError("give the reference as rows or as an artifact path, not both")
        return self


class Record(BaseModel):
    model_config = ConfigDict(extra="forbid")

    features: dict[Column, Value] = Field(max_length=MAX_COLUMNS - 1)
    prediction: Value = None


class RecordBatch(BaseModel):
    model_config = ConfigDict(extra="forbid")

    model: ModelRef
    batch_id: str | None = Field(
        None,
        min_length=1,
        max_length=128,
        pattern=r"^[A-Za-z0-9_.:\-]+$",
        description="makes a retried batch count once; by default a digest of the records",
    )
    records: list[Record] = Field(min_length=1, max_length=MAX_RECORDS)
