"""Thin routers: parse, call one method, return."""
