"""TLS for the services: uvicorn serves HTTPS when given a PEM certificate and its private key."""

from __future__ import annotations

from pathlib import Path

from fedloom.errors import ConfigError


def tls_files(certfile: Path | None, keyfile: Path | None) -> tuple[Path | None, Path | None]:
    """(certificate, key) for uvicorn; both or neither, and each must be a readable file."""
    if (certfile is None) != (keyfile is None):
        raise ConfigError("TLS needs both a certificate and a key (FEDLOOM_TLS_CERTFILE and FEDLOOM_TLS_KEYFILE)")
    for path in (certfile, keyfile):
        if path is not None and not path.is_file():
            raise ConfigError(f"TLS file {path} does not exist")
    return certfile, keyfile
