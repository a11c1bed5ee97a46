"""The operators' web dashboard, served by the aggregator at /ui (server-rendered HTML, SVG and a little JS)."""
