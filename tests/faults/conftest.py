from collections.abc import Iterator
from pathlib import Path

import pytest
from cluster import Cluster


@pytest.fixture
def cluster(tmp_path: Path, s3_endpoint: str) -> Iterator[Cluster]:
    """A private persistent Redis and a bucket of its own; the test starts the services it needs."""
    cluster = Cluster(tmp_path, s3_endpoint)
    yield cluster
    cluster.close()
