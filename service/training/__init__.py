"""Training apart from serving: the synthetic championship, the dataset schema, model training
and the drift reference saved with each model."""
