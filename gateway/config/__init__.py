"""Gateway configuration: the pydantic models, safe YAML loading and `${ENV}` secrets."""
