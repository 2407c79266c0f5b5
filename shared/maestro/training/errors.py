"""Reasons a training job fails that are meant for its user as they are (no type prefix, no trace)."""


class TrainingError(Exception):
    pass
