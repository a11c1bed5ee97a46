"""The dashboard's SVG charts and the CLI's text tables, on small hand-checked inputs."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from fedloom.commands.tables import render_table
from fedloom.ops.formatting import activity, ago, human_bytes, percent
from fedloom_aggregator.ui.charts import ClientPoint, RoundPoint, Scale, accuracy_chart, timeline_chart

SVG = "{http://www.w3.org/2000/svg}"


def marks(svg: str, tag: str, css: str) -> list[dict[str, str]]:
    return [e.attrib for e in ET.fromstring(svg).iter(f"{SVG}{tag}") if e.get("class") == css]


def test_accuracy_chart_places_every_value() -> None:
    points = [RoundPoint(0, 0.5, 0.1), RoundPoint(1, 1.0, 0.0)]
    svg = accuracy_chart(points, [ClientPoint(1, 7, 0.25)])
    rounds = marks(svg, "circle", "accuracy-point")
    assert [(p["data-round"], p["data-accuracy"], p["data-spread"]) for p in rounds] == [
        ("0", "0.5000", "0.1000"),
        ("1", "1.0000", "0.0000"),
    ]
    scale = Scale(1)
    assert float(rounds[0]["cx"]) == scale.x(0) == 48 and float(rounds[1]["cx"]) == scale.x(1) == 624
    assert float(rounds[1]["cy"]) == scale.y(1.0) == 16 and float(rounds[0]["cy"]) == scale.y(0.5) == 130
    (client,) = marks(svg, "circle", "client-point")
    assert (client["data-client"], client["data-accuracy"], float(client["cy"])) == ("7", "0.2500", 187.0)
    assert "no finished rounds yet" in accuracy_chart([], [])


def test_timeline_stacks_phases_in_order() -> None:
    svg = timeline_chart([(0, {"open": 1.0, "collecting": 2.0, "aggregating": 1.0}), (1, {"collecting": 4.0})])
    bars = marks(svg, "rect", "phase phase-collecting")
    assert [(b["data-round"], b["data-seconds"]) for b in bars] == [("0", "2.000"), ("1", "4.000")]
    assert float(bars[1]["width"]) == 576.0  # the longest round spans the plot
    assert float(bars[0]["x"]) == 48 + 144.0  # after round 0's "open" second


def test_table_and_formatting() -> None:
    table = render_table(["id", "name", "accuracy"], [[1, "edge", "50.0%"], [12, "b", "7.5%"]])
    assert table.splitlines() == [
        "id  name  accuracy",
        "--  ----  --------",
        " 1  edge     50.0%",
        "12  b         7.5%",
    ]
    assert render_table(["a"], [], "(none)").splitlines() == ["a", "(none)"]
    assert (percent(None), percent(0.1234), human_bytes(1023), human_bytes(1536), human_bytes(3 << 30)) == (
        "-",
        "12.3%",
        "1023 B",
        "1.5 KiB",
        "3.0 GiB",
    )
    assert (ago(5), ago(600), ago(7200)) == ("5 s ago", "10 min ago", "2.0 h ago")
    assert (activity(None, 100.0), activity(90.0, 100.0), activity(0.0, 1000.0)) == ("never seen", "active", "quiet")
