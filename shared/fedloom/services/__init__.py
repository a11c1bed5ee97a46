"""FedLoom's network services (aggregator, generator): FastAPI apps over the shared `fedloom` logic."""
