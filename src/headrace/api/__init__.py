"""The REST API: FastAPI routes over the services, tokens and tenancy, problem+json errors."""
