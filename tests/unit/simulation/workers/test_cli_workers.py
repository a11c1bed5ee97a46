"""The simulate command's worker flags: refused when they cannot hold, and explained in --help."""

import pytest

from fedloom.cli import main


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--workers", "3", "--threads", "2"], "3 workers need at least 3 threads (1 each), but --threads allows 2"),
        (["--workers", "0"], "workers"),
        (["--gpus-per-client", "0.5"], "gpus_per_client is a Ray resource: it needs ray"),
        (["--ray", "local", "--gpus-per-client", "1.5"], "gpus_per_client"),
        (["--ray", "local", "--threads", "2", "--gpus-per-client", "0.5"], "needs 2 GPUs; the Ray cluster has 0"),
    ],
)
def test_worker_settings_that_cannot_hold_are_refused(
    args: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["simulate", "--algorithm", "local", "--dataset", "synthetic", "--clients", "4", "--quiet", *args])
    assert code == 2
    err = capsys.readouterr().err
    assert "fedloom: error:" in err and message in err


def test_help_says_how_threads_are_shared(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["simulate", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert "workers x threads each never exceeds it" in text
    assert "--gpus-per-client" in text and "fractional num_gpus" in text
