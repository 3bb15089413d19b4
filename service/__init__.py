"""The AMF1 prediction service: synthetic data, training, model registry and the FastAPI app."""
