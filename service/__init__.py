"""The AMF1 prediction service: the FastAPI app, model registry, prediction and monitoring.

Training (synthetic data, the dataset schema, fitting, the drift reference) is `service.training`.
"""
