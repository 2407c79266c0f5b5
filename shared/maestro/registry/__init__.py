"""The model registry and experiment tracking behind MLflow's REST API.
Must never import mlflow: the function implements the protocol, the client stays the client's."""
