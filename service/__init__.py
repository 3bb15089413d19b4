"""The AMF1 prediction service: the FastAPI app, models, features, monitoring and training."""
